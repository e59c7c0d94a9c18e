"""The database: one code path for SQLite (the default, a file under data/) and PostgreSQL (shared deployments).

``Store(url)`` connects, migrates to the newest schema on first use (Alembic) and hands out sessions:
``read()`` for reading, ``write()`` for a transaction that commits when the block ends. On SQLite every write
transaction starts with ``BEGIN IMMEDIATE`` so that it waits its turn (busy timeout) instead of failing half-way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session

from assessment import PROJECT_ROOT

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000


def default_url() -> str:
    """``ASSESSMENT_DB_URL``, or a SQLite file under data/."""
    return os.environ.get("ASSESSMENT_DB_URL") or f"sqlite:///{PROJECT_ROOT / 'data' / 'assessment.db'}"


class Store:
    def __init__(self, url: str | None = None, *, migrate: bool = True):
        self.url = url or default_url()
        self.engine = _engine(self.url)
        self._writer = self.engine.execution_options(begin="IMMEDIATE")
        if migrate:
            self.migrate()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits at the end of the block, or rolls back if the block raises."""
        with Session(self._writer, expire_on_commit=False) as session, session.begin():
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest revision; safe when several processes start at once."""
        with self._writer.begin() as connection:
            if self.dialect == "postgresql":  # one migrator at a time; the others then find nothing to do
                connection.execute(text("SELECT pg_advisory_xact_lock(3911620)"))
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

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
    return create_engine(url, pool_pre_ping=True)
