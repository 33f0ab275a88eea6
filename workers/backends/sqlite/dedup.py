"""The embedded store's dedup index: exact hashes, fingerprints, LSH bands and copy groups."""

from __future__ import annotations

from collections.abc import Collection

from workers.backends.sqlite.connection import Connection
from workers.ports import Claim, Fingerprint


class DedupRows(Connection):
    """The fingerprint part of DedupIndex on SQLite, with the same rules as the Redis claim scripts."""

    def find_exact(self, body_hash: str) -> str | None:
        """Canonical id registered for an identical body."""
        rows = self._rows("SELECT canonical_id FROM dedup_hash WHERE body_hash = ?", (body_hash,))
        return rows[0][0] if rows else None

    def candidates(self, bands: list[str]) -> set[str]:
        """Canonical ids sharing at least one LSH band."""
        if not bands:
            return set()
        marks = ",".join("?" * len(bands))
        return {
            row[0]
            for row in self._rows(
                f"SELECT DISTINCT canonical_id FROM dedup_band WHERE band IN ({marks})", tuple(bands)
            )
        }

    def fingerprint(self, article_id: str) -> Fingerprint | None:
        """The stored fingerprint of an article."""
        rows = self._rows("SELECT data FROM dedup_fp WHERE article_id = ?", (article_id,))
        return Fingerprint.model_validate_json(rows[0][0]) if rows else None

    def register(self, fp: Fingerprint, bands: list[str], seen: Collection[str] | None = None) -> Claim:
        """Register in one transaction, with the same rules as the Redis claim script."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                claim = self._register(fp, bands, seen)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return claim

    def _register(self, fp: Fingerprint, bands: list[str], seen: Collection[str] | None) -> Claim:
        db, is_copy = self._db, fp.canonical_id != fp.article_id
        if is_copy:
            current = self._canonical_of(fp.canonical_id)
            if current is not None and current != fp.canonical_id:
                return Claim(moved_to=current)
        elif seen is not None and bands:
            marks = ",".join("?" * len(bands))
            found = {
                row[0]
                for row in db.execute(
                    f"SELECT DISTINCT canonical_id FROM dedup_band WHERE band IN ({marks})", tuple(bands)
                )
            }
            fresh = sorted(found - set(seen) - {fp.article_id})
            if fresh:
                return Claim(candidates=fresh)
        db.execute("INSERT OR IGNORE INTO dedup_hash VALUES (?, ?)", (fp.body_hash, fp.canonical_id))
        winner = db.execute(
            "SELECT canonical_id FROM dedup_hash WHERE body_hash = ?", (fp.body_hash,)
        ).fetchone()[0]
        if winner == fp.canonical_id:
            db.execute("INSERT OR REPLACE INTO dedup_fp VALUES (?, ?)", (fp.article_id, fp.model_dump_json()))
            if is_copy:
                db.execute(
                    "INSERT OR IGNORE INTO dedup_member VALUES (?, ?)", (fp.canonical_id, fp.article_id)
                )
            else:
                db.executemany(
                    "INSERT OR IGNORE INTO dedup_band VALUES (?, ?)", [(b, fp.article_id) for b in bands]
                )
        return Claim(winner=winner)

    def _canonical_of(self, article_id: str) -> str | None:
        row = self._db.execute("SELECT data FROM dedup_fp WHERE article_id = ?", (article_id,)).fetchone()
        return Fingerprint.model_validate_json(row[0]).canonical_id if row else None

    def repoint(self, fp: Fingerprint, old_id: str, bands: list[str], old_bands: list[str]) -> Claim:
        """Make fp the canonical of old_id's group in one transaction (idempotent, like the Redis script)."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                current = self._canonical_of(old_id)
                if current is None or current != old_id:
                    db.execute("ROLLBACK")
                    return Claim(gone=True) if current is None else Claim(moved_to=current)
                members = [
                    row[0]
                    for row in db.execute(
                        "SELECT article_id FROM dedup_member WHERE canonical_id = ?", (old_id,)
                    )
                ]
                for member in [*members, old_id]:
                    if member == fp.article_id:
                        continue
                    row = db.execute("SELECT data FROM dedup_fp WHERE article_id = ?", (member,)).fetchone()
                    if row:
                        moved = Fingerprint.model_validate_json(row[0]).model_copy(
                            update={"canonical_id": fp.article_id}
                        )
                        db.execute(
                            "UPDATE dedup_fp SET data = ? WHERE article_id = ?",
                            (moved.model_dump_json(), member),
                        )
                        db.execute(
                            "UPDATE dedup_hash SET canonical_id = ? WHERE body_hash = ? AND canonical_id = ?",
                            (fp.article_id, moved.body_hash, old_id),
                        )
                    db.execute("INSERT OR IGNORE INTO dedup_member VALUES (?, ?)", (fp.article_id, member))
                db.execute("DELETE FROM dedup_member WHERE canonical_id = ?", (old_id,))
                # by its bands: the primary key (band, canonical_id) finds them; by canonical_id alone
                # it would read all 64 rows of every canonical in the store
                db.executemany(
                    "DELETE FROM dedup_band WHERE band = ? AND canonical_id = ?",
                    [(b, old_id) for b in old_bands],
                )
                db.execute(
                    "INSERT OR REPLACE INTO dedup_fp VALUES (?, ?)", (fp.article_id, fp.model_dump_json())
                )
                db.execute("INSERT OR REPLACE INTO dedup_hash VALUES (?, ?)", (fp.body_hash, fp.article_id))
                db.executemany(
                    "INSERT OR IGNORE INTO dedup_band VALUES (?, ?)", [(b, fp.article_id) for b in bands]
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return Claim(winner=fp.article_id)

    def members(self, canonical_id: str) -> list[Fingerprint]:
        """Fingerprints of a canonical's copies."""
        rows = self._rows(
            "SELECT f.data FROM dedup_member m JOIN dedup_fp f ON f.article_id = m.article_id"
            " WHERE m.canonical_id = ? ORDER BY m.article_id",
            (canonical_id,),
        )
        return [Fingerprint.model_validate_json(row[0]) for row in rows]
