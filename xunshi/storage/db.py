"""Engines and transactions from a URL: SQLite (embedded default) or PostgreSQL."""

from __future__ import annotations

import hashlib
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from xunshi import idempotency
from xunshi.errors import BadInput, Conflict, StorageError
from xunshi.storage.migrations import HEAD, LEGACY_REVISIONS, REVISIONS
from xunshi.storage.prepared import Prepared

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Connections a process may open beyond its pool under a burst (the pool keeps pool_size).
POOL_OVERFLOW = 10
DEFAULT_POOL_SIZE = 5
# SQLite: poll for the write lock from 2 ms, doubling to 50 ms, until the lock timeout.
SQLITE_FIRST_DELAY = 0.002
SQLITE_MAX_DELAY = 0.05
# PostgreSQL: a transaction that failed on a serialization failure, a deadlock or a lost
# connection runs again up to this many times in all, after a random pause below 10 ms,
# 20 ms, 40 ms … (at most 0.5 s): about 1.3 s of waiting at worst.
RETRY_ATTEMPTS = 8
RETRY_FIRST_DELAY = 0.01
RETRY_MAX_DELAY = 0.5
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """How a process holds its database connections (XUNSHI_POOL_SIZE,
    XUNSHI_STATEMENT_TIMEOUT, XUNSHI_LOCK_TIMEOUT).

    `pool_size` connections are kept open (up to POOL_OVERFLOW more under a burst). On
    PostgreSQL a statement running longer than `statement_timeout` seconds is cancelled and a
    wait for a lock longer than `lock_timeout` seconds gives up, each failing its command with
    one line and writing nothing; None leaves the server's setting. On SQLite the lock
    timeout is how long a writer waits for another's write lock (default 10 s), and a
    statement timeout does not apply.
    """

    pool_size: int = DEFAULT_POOL_SIZE
    statement_timeout: float | None = None
    lock_timeout: float | None = None

    @property
    def busy_timeout_ms(self) -> int:
        """SQLite's busy timeout: the lock timeout, else 10 s."""
        if self.lock_timeout is None:
            return SQLITE_BUSY_TIMEOUT_MS
        return max(1, round(self.lock_timeout * 1000))

    def postgres_args(self, given: str | tuple[str, ...] | None = None) -> dict[str, Any]:
        """psycopg's connect arguments setting the timeouts for every session, after the
        `options` the URL gives (a search_path, say), which they would otherwise replace."""
        kept = [given] if isinstance(given, str) else list(given or ())
        options = kept + [
            f"-c {name}={max(1, round(seconds * 1000))}"
            for name, seconds in (
                ("statement_timeout", self.statement_timeout),
                ("lock_timeout", self.lock_timeout),
            )
            if seconds is not None
        ]
        return {"options": " ".join(options)} if len(options) > len(kept) else {}


class Database:
    """One database: its engine, transactions, schema checks and error translation."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        durable: bool = True,
        connection: ConnectionSettings | None = None,
    ) -> None:
        self.url = _parse_url(url)
        self.connection = connection or ConnectionSettings()
        # SQLite: a commit waits for the disk (synchronous=FULL), unless the database is a
        # throwaway one (the demo's): then NORMAL, which under WAL may lose the last commits
        # in a power failure but never corrupts the file.
        self.durable = durable
        self.display_url = self.url.render_as_string(hide_password=True)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.engine = self._create_engine(echo)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._held: list[tuple[threading.Thread, Connection]] = []  # each thread's own

    def _create_engine(self, echo: bool) -> Engine:
        if self.is_sqlite:
            busy_ms = self.connection.busy_timeout_ms
            engine = create_engine(
                self.url,
                echo=echo,
                connect_args={"timeout": busy_ms / 1000, "isolation_level": None},
                # Every transaction ends in an explicit COMMIT or ROLLBACK; the pool's extra
                # rollback on check-in would only cost time.
                pool_reset_on_return=None,
                pool_size=self.connection.pool_size,
                max_overflow=POOL_OVERFLOW,
            )
            synchronous = "FULL" if self.durable else "NORMAL"

            def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
                _sqlite_pragmas(dbapi_connection, synchronous, busy_ms)

            event.listen(engine, "connect", on_connect)
            return engine
        if self.url.get_backend_name() != "postgresql":
            raise BadInput(f"unsupported database {self.display_url}: use sqlite:/// or postgresql")
        try:
            return create_engine(
                self.url,
                echo=echo,
                pool_pre_ping=False,
                pool_size=self.connection.pool_size,
                max_overflow=POOL_OVERFLOW,
                connect_args=self.connection.postgres_args(self.url.query.get("options")),
            )
        except NoSuchModuleError as exc:
            raise BadInput(f"database error: {exc}") from exc

    @contextmanager
    def transaction(self, *, immediate: bool = False) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises.

        `immediate` takes SQLite's write lock at BEGIN (claims and other read-then-write
        work that must not fail half way); PostgreSQL ignores it. A database error that
        leaves the block becomes a StorageError: above storage, nobody sees SQLAlchemy.
        """
        try:
            with self._transaction(immediate=immediate) as conn:
                yield conn
        except DBAPIError as exc:
            raise StorageError(f"database error: {_reason(exc)}") from exc
        except UnicodeEncodeError as exc:
            raise BadInput(_unstorable(exc)) from exc

    @contextmanager
    def _transaction(self, *, immediate: bool = False) -> Iterator[Connection]:
        conn = self._thread_connection()
        if conn is None:  # a transaction inside another one: give it its own connection
            with self.connect() as other, self._begin(other, immediate):
                yield other
            return
        with self._begin(conn, immediate):
            yield conn

    @contextmanager
    def _begin(self, conn: Connection, immediate: bool) -> Iterator[None]:
        with conn.begin():
            if self.is_sqlite:
                # The driver runs in autocommit mode (isolation_level=None) so that xunshi,
                # not pysqlite, decides when a transaction starts and whether it takes the
                # write lock; SQLAlchemy's commit/rollback then end it. Issued on the driver
                # connection: a "begin" event listener would slow every statement down.
                statement = "BEGIN IMMEDIATE" if immediate else "BEGIN"
                conn.connection.driver_connection.execute(statement)  # type: ignore[union-attr]
            yield

    def _thread_connection(self) -> Connection | None:
        """This thread's long-lived connection (None if it is inside a transaction now).

        Transactions reuse one connection per thread instead of checking one out of the
        pool each time: a command's transaction is short and frequent on the hot path. The
        connections of threads that have ended (a server's idle worker threads do) go back
        to the pool first, else the pool would run dry as threads come and go.
        """
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            self._release_ended()
            try:
                conn = self.engine.connect()
            except DBAPIError as exc:
                raise StorageError(
                    f"cannot open database {self.display_url}: {_reason(exc)}"
                ) from exc
            self._local.conn = conn
            with self._lock:
                self._held.append((threading.current_thread(), conn))
        return None if conn.in_transaction() else conn

    def _release_ended(self) -> None:
        """Return to the pool the connections of the threads that have ended."""
        with self._lock:
            ended = [conn for thread, conn in self._held if not thread.is_alive()]
            self._held = [(thread, conn) for thread, conn in self._held if thread.is_alive()]
        for conn in ended:
            conn.close()

    def run(self, work: Callable[[Connection], T], *, immediate: bool = False) -> T:
        """Run `work` in one transaction, retried whole when it could not commit and nothing
        of it was written: while SQLite is busy (up to the lock timeout), and on PostgreSQL
        after a serialization failure, a deadlock or a connection lost before commit (up to
        RETRY_ATTEMPTS times, with jittered exponential backoff).

        A SQLite reader cannot take the write lock while another connection holds it or has
        committed since the read; the attempt is rolled back and run again, and `work`
        itself decides (see `ReadSet`) whether what changed meanwhile is a conflict.

        Under a request (`xunshi.idempotency`) the transaction first stores its own
        (request id, step) row, which commits or rolls back with its writes; if the row is
        there already, the command was carried out before (AlreadyDone). A concurrent run of
        the same request waits for the first at that insert, then finds its row. So a
        connection lost *at* commit — when nobody knows whether the commit happened — is
        settled by looking for the row: there, the work's result is returned; absent, the
        work runs again.
        """
        request = idempotency.current()
        step = 0 if request is None else request.next_step()
        retry = _Retry(self)
        while True:
            committing = False
            try:
                with self._transaction(immediate=immediate) as conn:
                    if request is not None:
                        _claim_request(conn, request, step)
                    result = work(conn)
                    committing = True
                return result
            except OperationalError as exc:
                if committing and is_disconnect(exc):
                    if request is not None and self._carried_out(request, step):
                        return result
                    if request is None:
                        raise StorageError(
                            "the connection to the database was lost while committing; check "
                            "whether the change was recorded before doing it again"
                        ) from exc
                retry.after(exc)
            except DBAPIError as exc:
                raise StorageError(f"database error: {_reason(exc)}") from exc
            except UnicodeEncodeError as exc:
                raise BadInput(_unstorable(exc)) from exc
            retry.wait()

    def _carried_out(self, request: idempotency.Request, step: int) -> bool:
        """Whether the request's step committed (looked up in a new transaction, on a new
        connection if the old one was lost); StorageError if even that cannot be known."""
        retry = _Retry(self)
        while True:
            try:
                with self._transaction() as conn:
                    return _request_row(conn, request.id, step) is not None
            except OperationalError as exc:
                try:
                    retry.after(exc)
                except StorageError as failed:
                    raise StorageError(
                        f"the connection to the database was lost while committing and whether "
                        f"the change was recorded cannot be checked ({failed.message}); run the "
                        f"command again with --request-id {request.id}: it will not be done twice"
                    ) from exc
            retry.wait()

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection, with driver errors on connect translated to StorageError."""
        try:
            conn = self.engine.connect()
        except DBAPIError as exc:
            raise StorageError(f"cannot open database {self.display_url}: {_reason(exc)}") from exc
        with conn:
            yield conn

    def exists(self) -> bool:
        """Whether the database is there at all (a SQLite file exists; a server answers)."""
        if self.is_sqlite:
            return Path(self.url.database or "").exists()
        return True

    def schema_version(self) -> str | None:
        """The schema's revision (see `revision_in`), or None if the database is empty."""
        try:
            with self.connect() as conn:
                return revision_in(conn)
        except DBAPIError as exc:  # e.g. a file that is not a SQLite database
            raise StorageError(f"cannot open database {self.display_url}: {_reason(exc)}") from exc

    def require_schema(self) -> None:
        """Refuse to work on a database whose schema is missing, older or newer than this code's."""
        if not self.exists():
            raise StorageError(f"no database at {self.display_url}; run `xunshi init` first")
        revision = self.schema_version()
        if revision is None:
            raise StorageError(f"database {self.display_url} is not initialised; run `xunshi init`")
        if revision != HEAD:
            raise schema_mismatch(revision)

    def dispose(self) -> None:
        """Close every connection, the threads' long-lived ones included."""
        with self._lock:
            held, self._held = self._held, []
        for _thread, conn in held:
            conn.close()
        self._local = threading.local()
        self.engine.dispose()


class _Retry:
    """When a failed transaction may run again, and how long to wait first."""

    def __init__(self, db: Database) -> None:
        self.is_sqlite = db.is_sqlite
        self.deadline = time.monotonic() + db.connection.busy_timeout_ms / 1000
        self.attempts = 0
        self.delay = SQLITE_FIRST_DELAY

    def after(self, exc: OperationalError) -> None:
        """Allow one more attempt after `exc`, or raise the error the command ends with."""
        self.attempts += 1
        if self.is_sqlite:
            if is_busy(exc) and time.monotonic() < self.deadline:
                return
            raise StorageError(f"database error: {_reason(exc)}") from exc
        retryable = is_deadlock(exc) or is_disconnect(exc)
        if retryable and self.attempts < RETRY_ATTEMPTS:
            log.info("retrying a transaction (attempt %d): %s", self.attempts + 1, _reason(exc))
            return
        if is_deadlock(exc):
            raise Conflict(
                "another writer changed the same records at the same time; nothing was "
                "written, try again"
            ) from exc
        raise StorageError(f"database error: {_reason(exc)}") from exc

    def wait(self) -> None:
        """Sleep before the next attempt: SQLite polls its lock briefly; PostgreSQL backs
        off exponentially with full jitter, so that retrying writers spread out."""
        if self.is_sqlite:
            time.sleep(self.delay * (1 + random.random()))
            self.delay = min(self.delay * 2, SQLITE_MAX_DELAY)
            return
        ceiling = min(RETRY_MAX_DELAY, RETRY_FIRST_DELAY * 2 ** (self.attempts - 1))
        time.sleep(random.uniform(0, ceiling))


_REQUEST_ROW = text(
    "SELECT command FROM command_request WHERE request_id = :request_id AND step = :step"
)
# One statement on the hot path: the row is stored first; only if it was there already is
# it read (to tell a repeat from another command's id).
_CLAIM_REQUEST = Prepared(
    text(
        "INSERT INTO command_request (request_id, step, command) "
        "VALUES (:request_id, :step, :command) ON CONFLICT DO NOTHING RETURNING step"
    )
)


def _request_row(conn: Connection, request_id: str, step: int) -> str | None:
    """The command stored for (request id, step), or None."""
    command: str | None = conn.execute(
        _REQUEST_ROW, {"request_id": request_id, "step": step}
    ).scalar()
    return command


def _claim_request(conn: Connection, request: idempotency.Request, step: int) -> None:
    """Store the step's row, or refuse a step the request already carried out
    (AlreadyDone) or a request id an earlier, different command used (BadInput)."""
    values = {"request_id": request.id, "step": step, "command": request.command}
    if _CLAIM_REQUEST.returns_row(conn, values):
        return
    done = _request_row(conn, request.id, step)
    if done != request.command:
        raise BadInput(
            f"request id {request.id} was already used by another command ({done}); use a new one"
        )
    raise idempotency.AlreadyDone(request.id, request.command)


def _unstorable(exc: UnicodeEncodeError) -> str:
    """The message for a value the driver could not encode for the database: a lone
    surrogate (half of a character, from bytes that were not UTF-8) in a value that no
    check looked at, such as a code to look up."""
    found = exc.object[exc.start : exc.end]
    return f"{found!r} is not text the database can store (half of a character)"


def revision_in(conn: Connection) -> str | None:
    """The schema's Alembic revision, read with plain SQL inside an open transaction.

    A database made before migrations has no `alembic_version` but a `schema_info` row; it
    stands at the revision its version maps to (version 1 is revision 0001).
    """
    if conn.dialect.has_table(conn, "alembic_version"):
        version: str | None = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return version
    if not conn.dialect.has_table(conn, "schema_info"):
        return None
    legacy = conn.execute(
        text("SELECT value FROM schema_info WHERE key = 'schema_version'")
    ).scalar()
    return None if legacy is None else LEGACY_REVISIONS.get(legacy, legacy)


def serialize(conn: Connection, name: str) -> None:
    """Wait until no other transaction holds `name`, then hold it until this one ends.

    PostgreSQL: a transaction-level advisory lock on a key derived from `name`. SQLite
    needs none: a writing transaction (`BEGIN IMMEDIATE`) already excludes every other.
    """
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(
            hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
        )
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def schema_mismatch(revision: str) -> StorageError:
    """The refusal for a database at `revision` when this xunshi needs HEAD."""
    remedy = "run xunshi db upgrade" if revision in REVISIONS else "upgrade xunshi"
    return StorageError(f"database schema is at {revision}, this xunshi needs {HEAD}: {remedy}")


def _parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise BadInput(
            f"bad database URL {url!r}: use sqlite:///FILE or postgresql+psycopg://…"
        ) from exc
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise BadInput(
            f"{url} is an in-memory database that vanishes after each command; use sqlite:///FILE"
        )
    return parsed


def _sqlite_pragmas(dbapi_connection: Any, synchronous: str, busy_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    try:
        _write_ahead_log(cursor, busy_ms)
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _write_ahead_log(cursor: sqlite3.Cursor, busy_ms: int) -> None:
    """Put the database in WAL mode, waiting while another connection holds it.

    On a database not yet in WAL mode (a new file), the switch needs the database to
    itself, and SQLite answers "database is locked" at once instead of calling its busy
    handler: several processes opening a new database together (`init`, `db upgrade`)
    would fail. So wait here as the busy timeout would; once in WAL mode it is a no-op.
    """
    deadline = time.monotonic() + busy_ms / 1000
    delay = 0.002
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = str(getattr(exc, "sqlite_errorname", "")).startswith("SQLITE_BUSY")
            if not busy or time.monotonic() > deadline:
                raise
        time.sleep(delay * (1 + random.random()))
        delay = min(delay * 2, 0.05)


def _reason(exc: DBAPIError) -> str:
    text = str(exc.orig).strip().splitlines()
    return text[0] if text else type(exc.orig).__name__


def is_write_conflict(exc: DBAPIError) -> bool:
    """Whether a driver error means another writer got there first."""
    orig = exc.orig
    if isinstance(orig, sqlite3.Error):
        return getattr(orig, "sqlite_errorname", "") == "SQLITE_CONSTRAINT_PRIMARYKEY"
    sqlstate = getattr(orig, "sqlstate", None)
    # unique_violation on the (instance, seq) key, serialization failure, deadlock.
    return sqlstate in ("23505", "40001", "40P01")


def is_deadlock(exc: DBAPIError) -> bool:
    """Whether PostgreSQL broke a deadlock or a serialization failure (retry the whole)."""
    return getattr(exc.orig, "sqlstate", None) in ("40P01", "40001")


def is_disconnect(exc: DBAPIError) -> bool:
    """Whether the error means the connection to the server was lost (SQLAlchemy's dialect
    says so and invalidates it: the next transaction opens a new one)."""
    return bool(exc.connection_invalidated)


def is_busy(exc: DBAPIError) -> bool:
    """Whether a SQLite error means the write lock was not available (try again)."""
    name = getattr(exc.orig, "sqlite_errorname", "")
    return isinstance(name, str) and name.startswith("SQLITE_BUSY")


def describe_error(exc: DBAPIError) -> str:
    """The first line of a driver error, for `Error: …` messages."""
    return _reason(exc)
