"""One SQLite file shared by threads and processes: the plumbing under :class:`qa.store.Store`.

Many visitors write at once (Gradio runs handlers in threads, and several app processes may share
one file), so the database runs in WAL mode, each thread gets its own connection, every write is
one short ``BEGIN IMMEDIATE`` transaction, and a write that still finds the file locked after the
busy timeout is retried with backoff.

The schema version is ``PRAGMA user_version``; opening a file applies the missing migrations of
:data:`~qa.store_schema.MIGRATIONS` in order, and refuses a database written by a newer version
of this code.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Self, TypeVar

from qa.errors import QAError
from qa.store_schema import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 10_000  # how long SQLite itself waits for a lock before reporting it busy
LOCK_RETRIES = 5  # then our own retries, with jittered backoff, before giving up
_T = TypeVar("_T")


class StoreError(QAError):
    """The feedback store cannot be opened, read or written (locked for too long, not a store)."""


class StoreVersionError(StoreError, ValueError):
    """The database was written by a newer version of this code; opening it could damage it."""


def _is_lock_error(error: sqlite3.OperationalError) -> bool:
    message = str(error).lower()
    return "locked" in message or "busy" in message


class SQLiteFile:
    """An SQLite file at the current schema, opened once per process and shared by threads:
    each thread lazily gets its own connection. WAL needs a local filesystem: do not put the
    file on a network share."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[tuple[int, sqlite3.Connection]] = []  # (pid, connection)
        self._lock = threading.Lock()
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create the folder of {self.path}: {error}") from error
        try:
            self._retry(self._check_version)  # read only: a file we refuse is left untouched
            self._retry(self._enable_wal)
            self._retry(self._migrate)
        except BaseException:
            self.close()
            raise

    # -- connections and transactions -------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection (a fresh one after a fork: SQLite handles must not cross)."""
        if self._closed:
            raise StoreError(f"the store {self.path} is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        try:
            # Autocommit mode (isolation_level=None): we issue BEGIN IMMEDIATE ourselves, so a
            # write takes the lock up front instead of failing half-way on a read-to-write upgrade.
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,  # only so close() can close every thread's connection
            )
        except sqlite3.Error as error:
            raise StoreError(f"cannot open the store {self.path}: {error}") from error
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._local.conn, self._local.pid = conn, os.getpid()
        with self._lock:
            self._connections.append((os.getpid(), conn))
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction: committed on success, rolled back on any error."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # also after a failed COMMIT, so a retry starts clean
                conn.execute("ROLLBACK")
            raise

    def _retry(self, action: Callable[[], _T]) -> _T:
        """Run ``action``; if the file stays locked past the busy timeout, back off and retry."""
        for attempt in range(LOCK_RETRIES + 1):
            try:
                return action()
            except sqlite3.OperationalError as error:
                if not _is_lock_error(error):
                    raise StoreError(f"store {self.path}: {error}") from error
                if attempt == LOCK_RETRIES:
                    raise StoreError(
                        f"the store {self.path} stayed locked after {LOCK_RETRIES} retries"
                    ) from error
                time.sleep(random.uniform(0.05, 0.2) * 2**attempt)
            except sqlite3.Error as error:
                raise StoreError(f"store {self.path}: {error}") from error
        raise AssertionError("unreachable")  # pragma: no cover

    def _write(self, sql: str, params: Sequence[object]) -> int:
        def run() -> int:
            with self._transaction() as conn:
                rows = conn.execute(sql, params).fetchall()  # step to the end before COMMIT
            return int(rows[0][0])

        return self._retry(run)

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        def run() -> list[sqlite3.Row]:
            cursor = self._connection().execute(sql, params)
            cursor.row_factory = sqlite3.Row
            return cursor.fetchall()

        return self._retry(run)

    def _check_version(self) -> None:
        conn = self._connection()
        # One statement, so one snapshot: read apart, another process's first migration could
        # commit between the two reads (version 0, then tables) and look like a foreign file.
        version, tables = conn.execute(
            "SELECT (SELECT user_version FROM pragma_user_version),"
            " (SELECT count(*) FROM sqlite_master)"
        ).fetchone()
        if version > SCHEMA_VERSION:
            raise StoreVersionError(
                f"the store {self.path} has schema version {version}, newer than the "
                f"{SCHEMA_VERSION} this code knows: upgrade the qa package to open it"
            )
        # Our migrations set user_version in the transaction that creates the tables, so
        # tables at version 0 belong to some other program.
        if version == 0 and tables:
            raise StoreError(f"{self.path} is an SQLite database but not a qa store")

    def _enable_wal(self) -> None:
        """Switch the file to WAL (it stays so): readers never block writers, writers queue."""
        mode = self._connection().execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"the store {self.path} cannot use WAL mode (journal mode {mode!r})")

    def _migrate(self) -> None:
        """Bring the file to :data:`SCHEMA_VERSION`, or refuse it; racing openers are serialised."""
        with self._transaction() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:  # written by a newer process since _check_version
                raise StoreVersionError(f"the store {self.path} has a newer schema ({version})")
            for migration in MIGRATIONS:
                if migration.version > version:
                    for statement in migration.statements:
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {migration.version}")

    def schema_version(self) -> int:
        """The schema version of the open file (``PRAGMA user_version``)."""
        return int(self._read("PRAGMA user_version")[0][0])

    def close(self) -> None:
        """Close every thread's connection; later calls raise :class:`StoreError`."""
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for pid, conn in connections:
            if pid == os.getpid():  # a forked child leaves its parent's handles alone
                conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
