"""The embedded store's state: the latest outcome of every input and the quarantine of failed ones."""

from __future__ import annotations

from schemas import FailedInput, InputResult
from workers.backends.sqlite.connection import Connection
from workers.load import input_key


class StateRows(Connection):
    """StateStore on SQLite."""

    def record(self, result: InputResult) -> None:
        """Remember the latest outcome of an input."""
        self._tx(
            [
                (
                    "INSERT OR REPLACE INTO outcomes VALUES (?, ?, ?)",
                    (input_key(result.input), result.outcome.value, result.model_dump_json()),
                )
            ]
        )

    def quarantine(self, failed: FailedInput) -> None:
        """Keep a failed input for replay (attempts add up across replays)."""
        rows = self._rows("SELECT data FROM failed WHERE id = ?", (failed.id,))
        if rows:
            failed = failed.model_copy(
                update={"attempts": FailedInput.model_validate_json(rows[0][0]).attempts + 1}
            )
        self._tx([("INSERT OR REPLACE INTO failed VALUES (?, ?)", (failed.id, failed.model_dump_json()))])

    def release(self, failed_id: str) -> None:
        """Drop an input from the quarantine."""
        self._tx([("DELETE FROM failed WHERE id = ?", (failed_id,))])

    def failed(self) -> list[FailedInput]:
        """Quarantined inputs, oldest first."""
        items = [FailedInput.model_validate_json(row[0]) for row in self._rows("SELECT data FROM failed")]
        return sorted(items, key=lambda item: item.failed_at)

    def outcome_counts(self) -> dict[str, int]:
        """Counts of the latest outcome of every input ever recorded."""
        return dict(self._rows("SELECT outcome, count(*) FROM outcomes GROUP BY outcome"))
