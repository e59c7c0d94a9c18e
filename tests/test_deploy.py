"""Deployment beyond one machine (README, "Deployment"): the schema migrated once, replicas that refuse an
out-of-date schema, backups with the real pg_dump restored by the real pg_restore, and deploy/nginx.conf in
front of two real `streamlit run` replicas sharing one PostgreSQL database."""

from __future__ import annotations

import glob
import http.client
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, inspect, select

from assessment import PROJECT_ROOT
from assessment.db import MIGRATIONS, Store, newest_revision
from assessment.errors import AssessmentError
from assessment.models import AuditEntry, Base
from assessment.services import Services
from reports.template import MAX_UPLOAD_BYTES
from tests.conftest import PASSWORD, enterprise_fields, missing
from tests.streamlit_server import StreamlitServer, free_port

DEPLOY = PROJECT_ROOT / "deploy"
SCHEMA_TABLES = set(Base.metadata.tables) | {"alembic_version"}


def cli(*args: str, ok: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "assessment", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=120, check=False, env={**os.environ, **(env or {})})
    assert "Traceback" not in proc.stderr, proc.stderr
    assert (proc.returncode == 0) == ok, (proc.returncode, proc.stdout, proc.stderr)
    return proc


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def migrate_to(url: str, revision: str) -> None:
    """An older schema, as a database left behind by an earlier release has it."""
    store = Store(url, migrate=False)
    with store.engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    store.dispose()


# --- migrations run once ---------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_migrate_gives_an_empty_postgres_database_the_whole_schema_and_then_has_nothing_to_do(databases):
    url = databases.new("postgres")
    assert tables(url) == set()
    first = cli("migrate", "--db", url).stdout
    assert first == f"{url}: migrated from an empty database to revision {newest_revision()}\n"
    assert tables(url) == SCHEMA_TABLES
    assert cli("migrate", "--db", url).stdout == f"{url}: already at the newest revision {newest_revision()}\n"
    assert Services(Store(url)).needs_setup()


@pytest.mark.parametrize(("db", "message"), [
    ("no-such-scheme", "--db: 'no-such-scheme' is not a database URL this tool can use"),
    ("postgresql+psycopg://someone:s3cret@127.0.0.1:1/assessment",
     "postgresql+psycopg://someone:***@127.0.0.1:1/assessment: the database cannot be reached"),
])
def test_migrate_says_what_is_wrong_with_a_bad_database_url_and_never_shows_the_password(db, message):
    stderr = cli("migrate", "--db", db, ok=False).stderr
    assert stderr.startswith(message), stderr
    assert len(stderr.splitlines()) == 1, stderr
    assert "s3cret" not in stderr


def test_without_auto_migrate_a_store_refuses_an_out_of_date_schema_and_changes_nothing(databases, backend,
                                                                                          monkeypatch):
    monkeypatch.setenv("ASSESSMENT_AUTO_MIGRATE", "0")
    url = databases.new(backend)
    with pytest.raises(AssessmentError) as empty:
        Store(url)
    assert empty.value.code == "schema_out_of_date"
    assert "the database schema is at revision none (empty database)" in str(empty.value)
    assert "python -m assessment migrate --db URL" in str(empty.value)
    if backend == "sqlite":  # not even an empty file is left behind
        assert not Path(url.split("///", 1)[1]).exists()
    else:
        assert tables(url) == set()

    migrate_to(url, "0002")  # a release behind
    with pytest.raises(AssessmentError, match=f"at revision 0002, this version of the tool needs {newest_revision()}"):
        Store(url)
    assert Store(url, migrate=False).revision() == "0002"

    # The replica's own command fails the same way, in one line, and the schema stays where it was.
    stderr = cli("export", "--out", os.devnull + ".csv", "--db", url, ok=False).stderr
    assert "at revision 0002" in stderr
    assert len(stderr.splitlines()) == 1, stderr
    assert Store(url, migrate=False).revision() == "0002"

    assert "migrated from 0002 to revision" in cli("migrate", "--db", url).stdout
    store = Store(url)  # still without auto-migration: the schema is now the newest one
    assert store.revision() == newest_revision()
    assert Services(store).needs_setup()
    store.dispose()


def test_the_app_on_a_replica_that_does_not_migrate_says_why_it_cannot_start_and_starts_after_migrate(
        databases, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from ui.i18n import words
    from ui.user_text import plain

    url = databases.new("sqlite")
    monkeypatch.setenv("ASSESSMENT_AUTO_MIGRATE", "0")
    monkeypatch.setenv("ASSESSMENT_DB_URL", url)
    app = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60).run()
    assert not app.exception
    # The page escapes what it quotes into Markdown ("-" reads as \-): it shows as written.
    expected = words("zh")["errors.schema_out_of_date"].format(current=plain("-"), newest=plain(newest_revision()))
    assert [error.value for error in app.error] == [expected]

    cli("migrate", "--db", url)
    app.run()  # the same server process, not restarted
    assert not app.exception
    assert not app.error
    assert app.title[0].value == "初始设置"


def test_a_bad_auto_migrate_setting_is_named(databases, monkeypatch):
    url = databases.new("sqlite")
    monkeypatch.setenv("ASSESSMENT_AUTO_MIGRATE", "sometimes")
    with pytest.raises(AssessmentError, match="ASSESSMENT_AUTO_MIGRATE: 'sometimes' is neither 1"):
        Store(url)
    assert not Path(url.split("///", 1)[1]).exists()


@pytest.mark.postgres
def test_two_stores_starting_at_once_on_one_postgres_database_migrate_it_once(databases):
    url = databases.new("postgres")
    stores = [Store(url, migrate=False) for _ in range(2)]
    start = threading.Barrier(len(stores))
    found: list[str | None] = []
    errors: list[BaseException] = []

    def start_up(store: Store) -> None:
        start.wait()
        try:
            found.append(store.migrate())
        except BaseException as exc:  # noqa: BLE001 – handed to the test thread, which fails on it
            errors.append(exc)

    threads = [threading.Thread(target=start_up, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    # One of them found the database empty and migrated it; the other waited its turn and found nothing to do.
    assert sorted(found, key=lambda revision: revision or "") == [None, newest_revision()]
    assert tables(url) == SCHEMA_TABLES
    for store in stores:
        assert store.revision() == newest_revision()
        store.dispose()


# --- the application's own database role ----------------------------------------------------------------------

# Statements by which a role that owned the audit log could rewrite or hide it; the application's role may do none.
AUDIT_LOG_REWRITES = ("UPDATE audit_log SET action = 'nothing happened'", "DELETE FROM audit_log",
                      "TRUNCATE audit_log", "ALTER TABLE audit_log DISABLE TRIGGER ALL",
                      "DROP TRIGGER audit_log_append_only ON audit_log", "DROP TABLE audit_log")


@pytest.mark.postgres
def test_the_app_role_runs_the_app_and_cannot_rewrite_the_audit_log(databases, monkeypatch):
    owner_url = databases.new("postgres")  # the migrator: it owns the tables
    cli("migrate", "--db", owner_url)
    role = f"app_{owner_url.rsplit('/', 1)[1]}"  # roles belong to the whole cluster: one per test database
    cli("grant-app-role", "--db", owner_url, "--role", role)
    cli("grant-app-role", "--db", owner_url, "--role", role)  # again, as after every release: the same grants
    refused = cli("grant-app-role", "--db", owner_url, "--role", "postgres", ok=False)
    assert "postgres" in refused.stderr
    app_url = owner_url.replace("//postgres@", f"//{role}@", 1)
    refused = cli("grant-app-role", "--db", app_url, "--role", f"{role}_b", ok=False)  # not as the app's role
    assert "run this as the role that owns the tables" in refused.stderr
    monkeypatch.setenv("ASSESSMENT_AUTO_MIGRATE", "0")
    store = Store(app_url)
    services = Services(store)
    admin = services.set_up("苏州市工业和信息化局", "admin", "管理员", PASSWORD)
    provider = services.create_organisation(admin, kind="provider", name="服务商甲")
    services.update_organisation(admin, provider, name="服务商乙")
    assert services.get_organisation(admin, provider).name == "服务商乙"
    written = [entry.action for entry in services.audit_log(admin)]
    store.dispose()
    assert sorted(written) == ["create", "set_up", "update"]
    with psycopg.connect(libpq(app_url), autocommit=True) as connection:
        for statement in AUDIT_LOG_REWRITES:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                connection.execute(statement)
        assert connection.execute("SELECT count(*) FROM audit_log").fetchone() == (3,)
    with psycopg.connect(libpq(owner_url), autocommit=True) as connection:  # leave the cluster as it was
        connection.execute(f"DROP OWNED BY {role}")
        connection.execute(f"DROP ROLE {role}")


# --- backup and restore --------------------------------------------------------------------------------------


def postgres_programs() -> Path:
    """The folder of the real pg_dump / pg_restore (Debian keeps them per version), as tests/pgcluster finds initdb."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_restore"))
    program = found[-1] if found else shutil.which("pg_restore")
    if not program:
        missing("pg_dump / pg_restore", "not found (Debian package postgresql-client)")
    return Path(program).parent


def script(name: str, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["bash", str(DEPLOY / name), *args], capture_output=True, text=True, timeout=300,
                          check=False, env={**os.environ, "PG_BIN": str(postgres_programs())})
    assert (proc.returncode == 0) == ok, (proc.returncode, proc.stdout, proc.stderr)
    return proc


def every_row(url: str) -> dict[str, list[tuple]]:
    """Every row of every table of the database, in primary-key order."""
    engine = create_engine(url)
    metadata = MetaData()
    try:
        with engine.connect() as connection:
            metadata.reflect(connection)
            return {name: [tuple(row) for row in connection.execute(
                        select(table).order_by(*(table.primary_key.columns or table.columns)))]
                    for name, table in metadata.tables.items()}
    finally:
        engine.dispose()


def libpq(url: str) -> str:
    return url.replace("+psycopg", "")


@pytest.mark.postgres
def test_a_backup_restores_into_a_fresh_database_equal_row_for_row_and_working(databases, world_templates,
                                                                                 tmp_path):
    template, world = world_templates("postgres")
    source = databases.new("postgres", template)
    restored = f"{source}_restored"
    dump = tmp_path / "backups" / "assessment.dump"

    assert script("backup.sh", source, str(dump)).stdout.startswith(f"{dump}: backup of {source}")
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert f"restored into {restored} (schema revision {newest_revision()})" in script(
        "restore.sh", str(dump), restored).stdout

    rows = every_row(source)
    assert set(rows) == SCHEMA_TABLES
    assert min(len(rows["answers"]), len(rows["audit_log"])) > 500, {name: len(r) for name, r in rows.items()}
    assert every_row(restored) == rows

    # The database still refuses to change or remove an audit entry.
    with psycopg.connect(libpq(restored)) as connection:
        for statement in ("UPDATE audit_log SET action = 'edited'", "DELETE FROM audit_log"):
            with pytest.raises(psycopg.errors.RaiseException, match="the audit log is append-only"):
                connection.execute(statement)
            connection.rollback()
    assert every_row(restored)["audit_log"] == rows["audit_log"]

    # The restored store takes new work exactly as the original does: same ids, same scores.
    item = sorted(_answered_items(rows, world.returned_1))[0]
    original = Store(source)
    score_before = Services(original).get_assessment(world.provider_a, world.returned_1).assessment.score
    original.dispose()
    outcomes = []
    for url in (source, restored):
        store = Store(url)
        services = Services(store)
        version = services.get_assessment(world.provider_a, world.returned_1).assessment.version
        version = services.move(world.provider_a, world.returned_1, "resume", expected_version=version)
        services.save_answer(world.provider_a, world.returned_1, item, "none", expected_version=version)
        a = services.get_assessment(world.provider_a, world.returned_1).assessment
        new_enterprise = services.create_organisation(world.admin, **enterprise_fields(77, "gusu"))
        outcomes.append((a.score, a.level, a.result, a.version, new_enterprise))
        store.dispose()
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] < score_before  # the new answer counted


def _answered_items(rows: dict[str, list[tuple]], assessment_id: int) -> list[str]:
    columns = list(Base.metadata.tables["answers"].columns.keys())
    at, item = columns.index("assessment_id"), columns.index("item_id")
    return [row[item] for row in rows["answers"] if row[at] == assessment_id]


@pytest.mark.postgres
def test_a_restore_never_writes_into_an_existing_database_and_a_failed_backup_leaves_no_file(databases, tmp_path):
    source = databases.new("postgres")
    cli("migrate", "--db", source)
    dump = tmp_path / "assessment.dump"
    script("backup.sh", source, str(dump))
    occupied = databases.new("postgres")
    Services(Store(occupied)).set_up("苏州市工业和信息化局", "admin", "管理员", PASSWORD)
    rows = every_row(occupied)

    refused = script("restore.sh", str(dump), occupied, ok=False).stderr
    assert "it must not exist yet); nothing changed" in refused
    assert every_row(occupied) == rows

    not_a_dump = tmp_path / "notes.txt"
    not_a_dump.write_text("not a backup", encoding="utf-8")
    assert "not a backup pg_restore can read" in script("restore.sh", str(not_a_dump), f"{source}_x", ok=False).stderr
    assert "usage:" in script("restore.sh", str(dump), ok=False).stderr

    server = source.rsplit("/", 1)[0]
    failed = script("backup.sh", f"{server}/no_such_database", str(tmp_path / "failed.dump"), ok=False).stderr
    assert "no backup written" in failed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["assessment.dump", "notes.txt"]


# --- the systemd units and their environment -----------------------------------------------------------------


def unit(name: str) -> dict[str, str]:
    """The settings of a unit file (section.key → value; this file sets each key once)."""
    settings, section = {}, ""
    for line in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif line and not line.startswith("#"):
            key, value = line.split("=", 1)
            assert f"{section}.{key}" not in settings, f"{name}: {section}.{key} set twice"
            settings[f"{section}.{key}"] = value
    return settings


def shared_environment() -> dict[str, str]:
    """The settings of deploy/assessment.env."""
    return dict(line.split("=", 1) for line in (DEPLOY / "assessment.env").read_text(encoding="utf-8").splitlines()
                if line and not line.startswith("#"))


def test_the_units_start_replicas_with_real_options_after_the_one_migration():
    from streamlit import config

    from assessment.cli import _parser

    replica, migration = unit("assessment@.service"), unit("assessment-migrate.service")
    start = replica["Service.ExecStart"].split()
    assert start[1:5] == ["-m", "streamlit", "run", "app.py"]
    options = dict(zip(start[5::2], start[6::2], strict=True))
    assert options["--server.port"] == "%i"
    assert {option.removeprefix("--") for option in options} <= set(config._config_options_template)
    assert (PROJECT_ROOT / "app.py").exists()

    owner_url = migration["Service.Environment"].removeprefix("OWNER_DB_URL=")
    assert migration["Service.ExecStart"].split()[1:] == ["-m", "assessment", "migrate", "--db", "${OWNER_DB_URL}"]
    grant = migration["Service.ExecStartPost"].split()
    assert grant[1:6] == ["-m", "assessment", "grant-app-role", "--db", "${OWNER_DB_URL}"]
    commands = _parser()._subparsers._group_actions[0].choices
    assert {"migrate", "grant-app-role"} <= set(commands)
    # The replicas connect as the role that gets the grants; the migrator as another role, from another user.
    settings = shared_environment()
    app_role = settings["ASSESSMENT_DB_URL"].split("//", 1)[1].split("@", 1)[0]
    assert grant[6:] == ["--role", app_role]
    assert owner_url.split("//", 1)[1].split("@", 1)[0] != app_role
    assert migration["Service.User"] != replica["Service.User"]
    assert migration["Service.Type"] == "oneshot"
    assert "assessment-migrate.service" in replica["Unit.Requires"].split()
    assert "assessment-migrate.service" in replica["Unit.After"].split()
    shared = "/etc/assessment/assessment.env"
    assert replica["Service.EnvironmentFile"] == migration["Service.EnvironmentFile"] == shared


def test_the_shared_environment_names_settings_that_exist():
    from streamlit import config

    settings = shared_environment()
    streamlit_names = {option.env_var: key for key, option in config._config_options_template.items()}
    assert streamlit_names["STREAMLIT_SERVER_COOKIE_SECRET"] == "server.cookieSecret"
    source = "\n".join(path.read_text(encoding="utf-8") for folder in ("assessment", "ui", "reports")
                       for path in (PROJECT_ROOT / folder).rglob("*.py"))
    for name in settings:
        if name.startswith("STREAMLIT_"):
            assert name in streamlit_names, f"{name}: Streamlit has no such option"
        else:
            assert re.search(rf"""["']{name}["']""", source), f"{name}: nothing in the code reads it"
    assert settings["ASSESSMENT_AUTO_MIGRATE"] == "0"
    assert settings["ASSESSMENT_DB_URL"].startswith("postgresql+psycopg://")
    assert "STREAMLIT_SERVER_COOKIE_SECRET" in settings


# --- several replicas behind nginx ---------------------------------------------------------------------------

NGINX_CONF = DEPLOY / "nginx.conf"


def nginx() -> str:
    program = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if not program:
        missing("nginx", "not found (Debian package nginx)")
    return program


def replace_once(text: str, pattern: str, replacement: str) -> str:
    changed, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    assert count == 1, f"deploy/nginx.conf: expected one match of {pattern!r}, found {count}"
    return changed


def nginx_config(work: Path, port: int, replicas: list[int]) -> Path:
    """deploy/nginx.conf as it is, but for the test's ports and folders, inside a minimal main configuration."""
    site = NGINX_CONF.read_text(encoding="utf-8")
    site = replace_once(site, r"^    listen 80;$", f"    listen 127.0.0.1:{port};")
    site = replace_once(site, r"access_log /var/log/nginx/assessment\.access\.log", f"access_log {work}/access.log")
    site = replace_once(site, r"(    server 127\.0\.0\.1:\d+;\n)+",
                        "".join(f"    server 127.0.0.1:{replica};\n" for replica in replicas))
    (work / "assessment.conf").write_text(site, encoding="utf-8")
    temp = "\n".join(f"    {kind}_temp_path {work}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                           "scgi"))
    main = work / "nginx.conf"
    main.write_text(f"""{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {work}/nginx.pid;
events {{ worker_connections 256; }}
http {{
{temp}
    include {work}/assessment.conf;
}}
""", encoding="utf-8")
    return main


def test_nginx_accepts_the_example_configuration(tmp_path):
    main = nginx_config(tmp_path, free_port(), [free_port(), free_port()])
    check = subprocess.run([nginx(), "-t", "-e", str(tmp_path / "error.log"), "-c", str(main)],
                           capture_output=True, text=True, timeout=60, check=False)
    assert check.returncode == 0, check.stderr
    assert "syntax is ok" in check.stderr


def test_the_proxy_upload_cap_fits_the_app_cap():
    app_mb = MAX_UPLOAD_BYTES // (1024 * 1024)
    streamlit_mb = int(re.search(r"^maxUploadSize = (\d+)$", (PROJECT_ROOT / ".streamlit" / "config.toml")
                                 .read_text(encoding="utf-8"), re.MULTILINE).group(1))
    proxy_mb = int(re.search(r"^\s*client_max_body_size (\d+)m;$", NGINX_CONF.read_text(encoding="utf-8"),
                             re.MULTILINE).group(1))
    assert streamlit_mb == app_mb
    assert app_mb < proxy_mb <= app_mb + 1  # the file plus its multipart envelope passes, nothing much more


def access_log(work: Path) -> list[dict[str, str]]:
    """The proxy's access log: request, status, replica and route of each line."""
    pattern = re.compile(r'"(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d+) \d+ upstream=(?P<upstream>\S+) '
                         r'route=(?P<route>\S+)')
    return [m.groupdict() for m in map(pattern.search, (work / "access.log").read_text().splitlines()) if m]


def get(url: str, route: str | None = None) -> http.client.HTTPResponse:
    cookie = {"Cookie": f"assessment_route={route}"} if route else {}
    request = urllib.request.Request(url, headers=cookie)  # noqa: S310 – http to the loopback test proxy
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        response.read()
        return response


@pytest.fixture(scope="module")
def proxied_replicas(databases, tmp_path_factory):
    """Two `streamlit run app.py` replicas on one migrated PostgreSQL database, started without migrating and
    with one cookie secret, behind nginx with deploy/nginx.conf; yields (proxy URL, replica ports, work folder,
    database URL)."""
    url = databases.new("postgres")
    cli("migrate", "--db", url)
    tmp_path = tmp_path_factory.mktemp("proxy")
    replicas: list[StreamlitServer] = []
    try:
        with pytest.MonkeyPatch.context() as monkeypatch:  # the replicas' environment
            monkeypatch.setenv("ASSESSMENT_AUTO_MIGRATE", "0")
            monkeypatch.setenv("STREAMLIT_SERVER_COOKIE_SECRET", "one-secret-for-every-replica")
            monkeypatch.setenv("ASSESSMENT_TRUSTED_PROXIES", shared_environment()["ASSESSMENT_TRUSTED_PROXIES"])
            for n in range(2):
                replicas.append(StreamlitServer(url, tmp_path / f"replica-{n}.log"))
        port = free_port()
        main = nginx_config(tmp_path, port, [replica.port for replica in replicas])
        proxy = subprocess.Popen([nginx(), "-e", str(tmp_path / "error.log"), "-c", str(main), "-g", "daemon off;"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    get(f"{base}/_stcore/health")
                    break
                except OSError:
                    assert proxy.poll() is None, (tmp_path / "error.log").read_text()
                    assert time.monotonic() < deadline, "nginx did not answer within 30 s"
                    time.sleep(0.2)
            yield base, [replica.port for replica in replicas], tmp_path, url
        finally:
            proxy.terminate()
            proxy.wait(timeout=30)
    finally:
        for replica in replicas:
            replica.stop()


def routes_by_replica(work: Path) -> dict[str, set[str]]:
    served: dict[str, set[str]] = {}
    for line in access_log(work):
        served.setdefault(line["route"], set()).add(line["upstream"])
    return served


@pytest.mark.postgres
@pytest.mark.browser
def test_replicas_behind_nginx_stick_to_a_browser_share_the_database_and_keep_the_sign_in(proxied_replicas, page):
    from playwright.sync_api import expect

    from tests.test_browser import ready, set_up_and_sign_in

    base, ports, work, url = proxied_replicas
    upstreams = {f"127.0.0.1:{port}" for port in ports}

    # A browser's first response sets its route; later requests carry it and are not given another one.
    def route_cookies(response) -> list[str]:
        return [c for c in response.headers.get_all("Set-Cookie") or [] if c.startswith("assessment_route=")]

    (first,) = route_cookies(get(f"{base}/_stcore/health"))
    route = re.fullmatch(r"assessment_route=(\w+); Path=/; HttpOnly; SameSite=Lax", first)
    assert route, first
    assert route_cookies(get(f"{base}/_stcore/health", route.group(1))) == []

    # Every route sticks to one replica; the routes spread over both.
    names = [f"tab-{n}" for n in range(16)]
    for _ in range(3):
        for name in names:
            get(f"{base}/_stcore/health", name)
    served = routes_by_replica(work)
    assert all(len(served[name]) == 1 for name in names), served
    by_replica = {upstream: [name for name in names if served[name] == {upstream}] for upstream in upstreams}
    assert all(by_replica.values()), by_replica
    (first_port, first_routes), (second_port, second_routes) = sorted(by_replica.items())

    # A real browser through the proxy: the websocket is upgraded, the first start set-up runs on one replica.
    page.context.add_cookies([{"name": "assessment_route", "value": first_routes[0], "url": base}])
    page.goto(base)
    ready(page)
    set_up_and_sign_in(page)
    # The replicas trust the proxy's X-Real-IP: the sign-in is counted by the browser's address as nginx saw it
    # (a browser straight on loopback would have none).
    store = Store(url, migrate=False)
    try:
        with store.read() as db:
            sign_ins = list(db.scalars(select(AuditEntry.after).where(AuditEntry.action == "sign_in")))
    finally:
        store.dispose()
    assert sign_ins == [{"source": "127.0.0.1"}]

    # The browser moves to the other replica (as when its replica is replaced): still signed in, from the database.
    page.context.add_cookies([{"name": "assessment_route", "value": second_routes[0], "url": base}])
    page.reload()
    ready(page)
    expect(page.get_by_role("heading", name="统计总览")).to_be_visible(timeout=30_000)

    # nginx logs a websocket when it closes: leave the page, then read both from the log.
    page.goto("about:blank")
    deadline = time.monotonic() + 30
    ours = (first_routes[0], second_routes[0])
    while len(streams := [line for line in access_log(work) if line["path"].startswith("/_stcore/stream")
                          and line["route"] in ours]) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert {(line["route"], line["upstream"], line["status"]) for line in streams} == {
        (first_routes[0], first_port, "101"), (second_routes[0], second_port, "101")}


@pytest.mark.postgres
def test_the_proxy_passes_a_full_size_upload_and_refuses_a_far_larger_one(proxied_replicas):
    base, _, _, _ = proxied_replicas
    host, port = base.removeprefix("http://").split(":")

    def put(size: int, send_body: bool) -> tuple[int, str]:
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        connection.putrequest("PUT", "/_stcore/upload_file/no-session/no-file")
        connection.putheader("Content-Length", str(size))
        connection.putheader("Content-Type", "multipart/form-data; boundary=x")
        connection.endheaders()
        if send_body:
            connection.send(b"\0" * size)
        response = connection.getresponse()
        answer = response.status, response.read().decode("utf-8", "replace")
        connection.close()
        return answer

    # A file at the app's cap with room for its envelope reaches Streamlit (which refuses the unknown session).
    status, _ = put(MAX_UPLOAD_BYTES + 4096, send_body=True)
    assert status != 413
    # A far larger one is refused by nginx itself, from its Content-Length, before a byte of it is sent on.
    status, page = put(MAX_UPLOAD_BYTES * 2, send_body=False)
    assert status == 413
    assert "Request Entity Too Large" in page
    assert "nginx" in page
