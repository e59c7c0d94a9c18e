import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import yaml
from argon2 import PasswordHasher

from assessment import accounts, sessions
from assessment.accounts import Actor
from assessment.db import Store
from assessment.questionnaire import Questionnaire, by_id, load, parse
from assessment.reference import credit_code_check_character
from assessment.services import Services, questionnaire_of
from tests import pgcluster

TESTS = Path(__file__).parent
MINI = TESTS / "data" / "mini.yaml"
IN_CI = os.environ.get("CI") == "true"
PASSWORD = "correct horse 42"


@pytest.fixture(scope="session")
def cmmm() -> Questionnaire:
    return by_id("cmmm-2020")


@pytest.fixture(scope="session")
def mini() -> Questionnaire:
    return load(MINI)


RUBRIC = {"full": {"zh": "全部做到", "en": "All of it is done"},
          "mostly": {"zh": "大部分做到", "en": "Most of it is done"},
          "partly": {"zh": "少部分做到", "en": "Some of it is done"}}
RUBRIC_ITEMS = ("PA.1.1", "PB.1.1")  # the items of ``rubric_mini`` that carry RUBRIC (the others have none)


def mini_with_rubrics() -> dict:
    """The mini questionnaire as data, with RUBRIC on RUBRIC_ITEMS: released versions (1.0.0) have no rubrics."""
    data = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    for item in data["items"]:
        if item["id"] in RUBRIC_ITEMS:
            item["rubric"] = RUBRIC
    return data


@pytest.fixture(scope="session")
def rubric_mini() -> Questionnaire:
    return parse(yaml.safe_dump(mini_with_rubrics(), allow_unicode=True), "rubric-mini")


@pytest.fixture(autouse=True, scope="session")
def _quick_password_hashing():
    """Still argon2id, with the smallest cost: tests create many users."""
    saved = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    accounts._hasher = saved


def missing(component: str, why: str):
    """A component a test needs is not there: a skip locally, a failure in CI."""
    if IN_CI:
        pytest.fail(f"{component} is required under CI=true: {why}")
    pytest.skip(f"{component} not available: {why}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and any(item.get_closest_marker(m) for m in ("postgres", "browser")):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which counts as a failure: {report.longrepr}"


# --- databases ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server():
    """The base URL of a PostgreSQL server: ASSESSMENT_TEST_PG_URL, or a throwaway cluster started here."""
    url = os.environ.get("ASSESSMENT_TEST_PG_URL")
    if url:
        yield url
        return
    if not pgcluster.available():
        missing("PostgreSQL", "initdb / pg_ctl not found (Debian package postgresql)")
    url, directory = pgcluster.start()
    yield url
    pgcluster.stop(directory)


class Databases:
    """Fresh databases for tests: SQLite files, or PostgreSQL databases cloned from a migrated template."""

    def __init__(self, tmp_path_factory, request):
        self.tmp_path_factory, self.request = tmp_path_factory, request
        self.count = 0
        self.templates: dict[str, str] = {}

    def new(self, backend: str, template: str | None = None) -> str:
        self.count += 1
        if backend == "sqlite":
            path = self.tmp_path_factory.mktemp("db") / "assessment.db"
            if template:
                shutil.copy(template, path)
            return f"sqlite:///{path}"
        server = self.request.getfixturevalue("postgres_server")
        name = f"test_{os.getpid()}_{self.count}"
        with psycopg.connect(server.replace("+psycopg", "") + "/postgres", autocommit=True) as conn:
            source = f" TEMPLATE {template}" if template else ""
            conn.execute(f"CREATE DATABASE {name}{source}")
        return f"{server}/{name}"

    def template_name(self, url: str) -> str:
        """A database to clone from: a file for SQLite, a database name for PostgreSQL."""
        return url.split("///", 1)[1] if url.startswith("sqlite") else url.rsplit("/", 1)[1]


@pytest.fixture(scope="session")
def databases(tmp_path_factory, request) -> Databases:
    return Databases(tmp_path_factory, request)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def store(databases, backend):
    store = Store(databases.new(backend))
    yield store
    store.dispose()


# --- a small world of users and organisations --------------------------------------------------------------


def credit_code(n: int) -> str:
    body = f"91320500{n:09d}"
    return body + credit_code_check_character(body)


@dataclass
class World:
    admin: Actor
    analyst: Actor  # scoped to Gusu
    provider_a: Actor
    provider_b: Actor
    enterprise_1: Actor  # in Gusu, diagnosed by provider A
    enterprise_2: Actor  # in Kunshan, diagnosed by provider B
    provider_a_id: int
    provider_b_id: int
    enterprise_1_id: int
    enterprise_2_id: int
    diagnosis_1: int  # of enterprise 1, assigned to provider A, in progress
    project_1: int  # a recommended project of diagnosis 1
    diagnosis_2: int  # of enterprise 2, assigned to provider B, in progress
    self_1: int  # enterprise 1's self-assessment, draft
    # Diagnoses of enterprise 1 by provider A in each later state (complete, with one project):
    requested_1: int
    assigned_1: int
    submitted_1: int
    confirmed_1: int
    returned_1: int
    approved_1: int
    approved_project: int

    def actors(self) -> dict[str, Actor]:
        return {name: getattr(self, name) for name in
                ("admin", "analyst", "provider_a", "provider_b", "enterprise_1", "enterprise_2")}


def enterprise_fields(n: int, district: str) -> dict:
    return {"kind": "enterprise", "name": f"企业{n}", "credit_code": credit_code(n), "district": district,
            "industry": "C34", "size_class": "medium", "production_type": "discrete"}


def build_world(services: Services) -> World:
    admin = services.set_up("苏州市工业和信息化局", "admin", "管理员", PASSWORD)
    bureau = admin.organisation_id
    pa = services.create_organisation(admin, kind="provider", name="服务商甲")
    pb = services.create_organisation(admin, kind="provider", name="服务商乙")
    e1 = services.create_organisation(admin, **enterprise_fields(1, "gusu"))
    e2 = services.create_organisation(admin, **enterprise_fields(2, "kunshan"))
    users = {}
    for name, role, org, districts in (("analyst", "bureau_analyst", bureau, ["gusu"]),
                                       ("provider_a", "provider_user", pa, None),
                                       ("provider_b", "provider_user", pb, None),
                                       ("enterprise_1", "enterprise_user", e1, None),
                                       ("enterprise_2", "enterprise_user", e2, None)):
        user_id = services.create_user(admin, name, name, PASSWORD, role, org, districts)
        users[name] = Actor(user_id, name, role, org, tuple(districts) if districts else None, display_name=name)
    d1 = services.request_diagnosis(users["enterprise_1"], e1)
    d2 = services.request_diagnosis(admin, e2)
    for diagnosis, provider, user in ((d1, pa, "provider_a"), (d2, pb, "provider_b")):
        version = services.move(admin, diagnosis, "assign", expected_version=1, provider_id=provider)
        version = services.move(users[user], diagnosis, "start", expected_version=version)
        if diagnosis == d1:
            project_1, _ = services.add_project(users[user], d1, expected_version=version, title="ERP", subdomain="SA")
    s1 = services.start_self_assessment(users["enterprise_1"], e1)

    provider, enterprise = users["provider_a"], users["enterprise_1"]
    states: dict[str, int] = {}
    project = 0
    # The request still waiting comes last: an enterprise has one open request at a time.
    for state in ("assigned", "submitted", "confirmed", "returned", "approved", "requested"):
        d = services.request_diagnosis(enterprise, e1)
        states[state] = d
        if state == "requested":
            continue
        version = services.move(admin, d, "assign", expected_version=1, provider_id=pa)
        if state == "assigned":
            continue
        version = services.move(provider, d, "start", expected_version=version)
        version = fill(services, provider, d, version)
        project, version = services.add_project(provider, d, expected_version=version, title="MES", subdomain="PO")
        version = services.move(provider, d, "submit", expected_version=version)
        if state == "submitted":
            continue
        version = services.move(enterprise, d, "confirm", expected_version=version, rating=4)
        if state != "confirmed":
            services.move(admin, d, "return" if state == "returned" else "approve", expected_version=version,
                          comment="请补充")
    return World(admin=admin, provider_a_id=pa, provider_b_id=pb, enterprise_1_id=e1, enterprise_2_id=e2,
                 diagnosis_1=d1, diagnosis_2=d2, self_1=s1, approved_project=project, project_1=project_1,
                 **{f"{state}_1": d for state, d in states.items()}, **users)


def fill(services: Services, actor: Actor, assessment_id: int, version: int, code: str = "mostly") -> int:
    """Answer every requirement of the assessment; returns the new version."""
    a = services.get_assessment(actor, assessment_id).assessment
    for item in questionnaire_of(a).items_for(a.profile):
        version = services.save_answer(actor, assessment_id, item.id, code, expected_version=version)
    return version


@pytest.fixture(scope="session")
def world_templates(databases):
    """One built world per backend, cloned for each test (building it takes longer than copying it)."""
    built: dict[str, tuple[str, World]] = {}

    def get(backend: str) -> tuple[str, World]:
        if backend not in built:
            url = databases.new(backend)
            store = Store(url)
            world = build_world(Services(store))
            store.dispose()
            built[backend] = (databases.template_name(url), world)
        return built[backend]

    return get


@pytest.fixture
def world_store(databases, backend, world_templates):
    template, world = world_templates(backend)
    store = Store(databases.new(backend, template))
    yield Services(store), world
    store.dispose()


def signed_in(state, actor: Actor):
    """A tab's session state (an AppTest's or ``st.session_state``) signed in as ``actor`` the way the sign-in page
    does it: a session row in the app's database (ASSESSMENT_DB_URL) and its token, which every run checks."""
    from ui import session

    state["actor"] = actor
    state["token"] = sessions.open_session(session.services().store, actor)
    return state


# --- the browser ---------------------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"  # Debian's Chromium; no test downloads a browser
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = TESTS.parent / "screenshots"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        missing("Chromium", f"{CHROMIUM} not found (Debian package chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture
def streamlit_app(tmp_path):
    """A real `streamlit run app.py` on a fresh SQLite database; yields (server, store)."""
    from tests.streamlit_server import StreamlitServer

    url = f"sqlite:///{tmp_path / 'app.db'}"
    store = Store(url)
    server = StreamlitServer(url, tmp_path / "streamlit.log")
    yield server, store
    server.stop()
    store.dispose()


@pytest.fixture
def app_world(databases, world_templates, monkeypatch):
    """The shared test world in a new SQLite file that the app (AppTest) reads through ASSESSMENT_DB_URL."""
    template, world = world_templates("sqlite")
    url = databases.new("sqlite", template)
    monkeypatch.setenv("ASSESSMENT_DB_URL", url)
    store = Store(url)
    yield Services(store), world
    store.dispose()
