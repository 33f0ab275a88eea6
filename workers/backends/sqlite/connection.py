"""The embedded store's connection: opening (schema, migration), its transactions and reads."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

from workers.backends.sqlite.schema import SCHEMA, migration


class Connection:
    """One SQLite file opened with the store's schema; the part of the store every table's methods share."""

    def __init__(self, path: Path | str):
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        # closed (WAL checkpointed) when the store goes or at exit, also on the CLI's exit without teardown
        weakref.finalize(self, self._db.close)
        self._lock = threading.RLock()
        self._db.executescript(SCHEMA)
        statements = migration(self._db)
        if statements:
            self._tx(statements)

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def _tx(self, statements: list[tuple[str, tuple]]) -> None:
        with self._lock:
            if self._db.in_transaction:  # inside story_lock: its transaction commits them
                for sql, params in statements:
                    self._db.execute(sql, params)
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    self._db.execute(sql, params)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextlib.contextmanager
    def story_lock(self) -> Iterator[None]:
        """One write transaction (BEGIN IMMEDIATE) around finding and creating a story: two processes
        on this file cannot both find no story for one event and each create their own."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()
