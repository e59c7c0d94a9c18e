"""The database: one code path for SQLite (the default, a file under data/) and PostgreSQL (shared deployments).

``Store(url)`` connects, migrates to the newest schema on first use (Alembic) and hands out sessions:
``read()`` for reading, ``write()`` for a transaction that commits when the block ends. On SQLite every write
transaction starts with ``BEGIN IMMEDIATE`` so that it waits its turn (busy timeout) instead of failing half-way.

A database that cannot be reached (PostgreSQL stopped or restarting, the network gone, SQLite still locked after
the busy timeout or its file unreadable) is a condition a user must be told about, not a bug: ``read()``,
``write()`` and ``migrate()`` raise it as ``StoreUnavailableError`` (an ``AssessmentError`` with the code
``store_unavailable``), which every page already shows in the user's language. The transaction was rolled back,
so nothing of it was kept; the connection pool checks connections before use, so the next call after the database
is back simply works. Other database errors (a bad query, a broken constraint) are bugs and are left as they are.

A SQLite file deleted or replaced while the store runs is refused the same way (``StoreFileChangedError``, code
``store_file_changed``): SQLite would go on writing into the file no name points to, and lose it all at exit.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from assessment import PROJECT_ROOT
from assessment.errors import AssessmentError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
# Replicas of a shared deployment start with ASSESSMENT_AUTO_MIGRATE=0: the schema is then changed only by
# `python -m assessment migrate`, run once per release, and a replica refuses an out-of-date schema.
AUTO_MIGRATE = "ASSESSMENT_AUTO_MIGRATE"
# Keys of PostgreSQL advisory locks, one per thing that must happen once however many processes try at once.
MIGRATION_LOCK = 3911620
SET_UP_LOCK = 3911621
_INSUFFICIENT_PRIVILEGE = "42501"
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")  # written into SQL unquoted: only plain names


class StoreUnavailableError(AssessmentError):
    """The database cannot be reached just now; what was being done was not kept. Trying again later works."""


class StoreFileChangedError(StoreUnavailableError):
    """The SQLite file this store opened was deleted or replaced while it ran: no write is acknowledged any more
    (SQLite would go on writing into the file no name points to, and all of it would be gone)."""


# PostgreSQL SQLSTATEs of a connection that failed or was ended by the server (class 08: connection exception;
# 57P01-57P03: the server shuts down, crashed, or is still starting). psycopg gives no SQLSTATE when it could not
# connect at all.
_PG_UNAVAILABLE = ("08", "57P01", "57P02", "57P03")
# SQLite primary result codes: BUSY, LOCKED (the busy timeout ran out), IOERR, FULL, CANTOPEN.
_SQLITE_UNAVAILABLE = {5, 6, 10, 13, 14}


def unavailable(error: DBAPIError) -> bool:
    """Whether a database error means "cannot be reached now" (rather than a bug in a query)."""
    if error.connection_invalidated:
        return True
    if not isinstance(error, OperationalError | InterfaceError):
        return False
    cause = error.orig
    sqlite_code = getattr(cause, "sqlite_errorcode", None)
    if sqlite_code is not None:
        return sqlite_code & 0xFF in _SQLITE_UNAVAILABLE
    sqlstate = getattr(cause, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(_PG_UNAVAILABLE)


@contextmanager
def _reachable(engine: Engine) -> Iterator[None]:
    """Turn "the database cannot be reached" into StoreUnavailableError, naming the database without its password."""
    try:
        yield
    except DBAPIError as error:
        if not unavailable(error):
            raise
        where = engine.url.render_as_string(hide_password=True)
        raise StoreUnavailableError(f"{where}: the database cannot be reached ({type(error.orig).__name__})",
                                    code="store_unavailable") from error


def default_url() -> str:
    """``ASSESSMENT_DB_URL``, or a SQLite file under data/."""
    return os.environ.get("ASSESSMENT_DB_URL") or f"sqlite:///{PROJECT_ROOT / 'data' / 'assessment.db'}"


class Store:
    def __init__(self, url: str | None = None, *, migrate: bool = True):
        self.url = url or default_url()
        self.engine = _engine(self.url)
        self._writer = self.engine.execution_options(begin="IMMEDIATE")
        self._file = _sqlite_file(self.engine)
        self._file_identity: tuple[int, int] | None = None  # the file's device and inode, once it exists
        if migrate and auto_migrate():
            self.migrate()
        elif migrate:
            try:
                self.require_newest_schema()
            except AssessmentError:
                self.engine.dispose()
                raise
        self._check_file()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        with _reachable(self.engine), Session(self.engine, expire_on_commit=False) as session, session.begin():
            if self._file is not None:  # a deleted or replaced file is said at once, before more is typed in
                session.connection()
                self._check_file()
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits at the end of the block, or rolls back if the block raises.

        On SQLite the file is checked to be the one this store opened, after BEGIN and again just before the
        commit: a deleted or replaced file raises StoreFileChangedError and the write is not acknowledged."""
        with _reachable(self.engine), Session(self._writer, expire_on_commit=False) as session, session.begin():
            if self._file is not None:
                session.connection()  # BEGIN IMMEDIATE first: a new connection opens (or creates) the file
                self._check_file()
            yield session
            if self._file is not None:
                session.flush()
                self._check_file()

    def migrate(self) -> str | None:
        """Bring the schema to the newest revision; safe when several processes start at once.

        Returns the revision the database was at before (None when it had no schema)."""
        with _reachable(self.engine), self._writer.begin() as connection:
            if self.dialect == "postgresql":  # one migrator at a time; the others then find nothing to do
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            before = MigrationContext.configure(connection).get_current_revision()
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        return before

    def revision(self) -> str | None:
        """The schema revision the database is at, None when it has none (a missing SQLite file is not created)."""
        path = self.engine.url.database
        if self.dialect == "sqlite" and path and path != ":memory:" and not Path(path).exists():
            return None
        with _reachable(self.engine), self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def require_newest_schema(self) -> None:
        """Refuse a database whose schema is not the newest; it is left exactly as it is."""
        current, newest = self.revision(), newest_revision()
        if current != newest:
            where = self.engine.url.render_as_string(hide_password=True)
            raise AssessmentError(
                f"{where}: the database schema is at revision {current or 'none (empty database)'}, this version "
                f"of the tool needs {newest}; with {AUTO_MIGRATE}=0 it is not migrated on start: run "
                f"`python -m assessment migrate --db URL` once, then start again",
                code="schema_out_of_date", current=current or "-", newest=newest)

    def grant_app_role(self, role: str) -> None:
        """Give ``role`` (created when missing, able to sign in) what the app needs and no more: on the app's
        tables SELECT, INSERT, UPDATE and DELETE; on the audit log SELECT and INSERT only; on alembic_version
        SELECT; the sequences its inserts draw from. It owns nothing, so it can neither alter, drop nor
        truncate a table nor disable the trigger that keeps the audit log append-only. Run by the role that
        owns the tables (the migrator), after every `migrate`; running it again gives the same grants."""
        from assessment.models import AuditEntry, Base  # the app's tables

        where = self.engine.url.render_as_string(hide_password=True)
        if self.dialect != "postgresql":
            raise AssessmentError(f"{where}: an application role is for PostgreSQL; a SQLite file has no roles",
                                  code="app_role_postgres_only")
        if not _ROLE_NAME.fullmatch(role):
            raise AssessmentError(f"--role: {role!r} is not a plain role name (lower-case letters, digits and _)",
                                  code="app_role_bad_name", role=role)
        self.require_newest_schema()
        audit_log = AuditEntry.__tablename__
        tables = sorted(name for name in Base.metadata.tables if name != audit_log)
        with _reachable(self.engine), self.engine.begin() as connection:
            found = connection.execute(text("SELECT rolsuper OR rolbypassrls, rolname = current_user, "
                                            "pg_has_role(rolname, current_user, 'MEMBER') "
                                            "FROM pg_roles WHERE rolname = :role"), {"role": role}).first()
            if found is not None and any(found):  # a superuser, the owner itself, or a role the owner's rights reach
                raise AssessmentError(f"{where}: the role {role} is a superuser or holds the rights of the tables' "
                                      f"owner; the application needs a role of its own", code="app_role_too_mighty",
                                      role=role)
            database = connection.exec_driver_sql("SELECT current_database()").scalar_one()
            schema = connection.exec_driver_sql("SELECT current_schema()").scalar_one()
            statements = [
                *([] if found else [f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT"]),
                f'GRANT CONNECT ON DATABASE "{database}" TO {role}',
                f'GRANT USAGE ON SCHEMA "{schema}" TO {role}',
                f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM {role}',
                f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA "{schema}" FROM {role}',
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(tables)} TO {role}",
                f"GRANT SELECT, INSERT ON {audit_log} TO {role}",
                f"GRANT SELECT ON alembic_version TO {role}",
                f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO {role}',
            ]
            try:
                for statement in statements:
                    connection.exec_driver_sql(statement)
            except DBAPIError as error:
                if getattr(error.orig, "sqlstate", None) != _INSUFFICIENT_PRIVILEGE:
                    raise
                raise AssessmentError(f"{where}: {str(error.orig).strip().splitlines()[0]}: run this as the role "
                                      f"that owns the tables (the one `migrate` runs as)",
                                      code="app_role_not_permitted") from None

    def dispose(self) -> None:
        self.engine.dispose()

    def _check_file(self) -> None:
        """Refuse to go on when the SQLite file's path no longer names the file this store first saw (one stat)."""
        if self._file is None:
            return
        try:
            found = os.stat(self._file)
        except FileNotFoundError:
            identity = None
        else:
            identity = (found.st_dev, found.st_ino)
        if self._file_identity is None:
            self._file_identity = identity
        elif identity != self._file_identity:
            what = "deleted" if identity is None else "replaced by another file"
            raise StoreFileChangedError(
                f"{self._file}: the database file was {what} while the app was running; nothing more is saved "
                f"(the last change was not kept): put the file back and restart the app",
                code="store_file_changed", file=str(self._file))


def one_at_a_time(session: Session, key: int) -> None:
    """Wait until no other transaction holds ``key``, and hold it until this one ends; a check made after this
    call sees what the transaction before it committed. On PostgreSQL an advisory lock; on SQLite nothing is
    needed: a write transaction (BEGIN IMMEDIATE) already holds the database's one write lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def newest_revision() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def auto_migrate() -> bool:
    """Whether a Store migrates when it starts: ASSESSMENT_AUTO_MIGRATE, on unless 0 / false / no / off."""
    value = os.environ.get(AUTO_MIGRATE, "1").strip().lower()
    if value in ("1", "true", "yes", "on", ""):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise AssessmentError(f"{AUTO_MIGRATE}: {value!r} is neither 1 (migrate on start) nor 0 (refuse an "
                          f"out-of-date schema)", code="bad_setting", name=AUTO_MIGRATE, value=value)


def _sqlite_file(engine: Engine) -> Path | None:
    """The file of a SQLite database; None for PostgreSQL and an in-memory database."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        return None
    return Path(path).absolute()


def _engine(url: str) -> Engine:
    # hide_parameters: SQL logging (echo) and database errors never show bound values — password hashes, the
    # hashes of sign-in tokens, users' text.
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _configure(dbapi_connection, _record) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=FULL")  # a committed answer survives a crash of the machine too
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection) -> None:
            mode = connection.get_execution_options().get("begin", "DEFERRED")
            connection.exec_driver_sql(f"BEGIN {mode}")

        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)
