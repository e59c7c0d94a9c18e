"""The bureau's pages through Streamlit's AppTest: dashboard, review, requests, organisations, users, downloads.

One database is built per test session (the small world of conftest plus 60 demo enterprises) and copied for
each test, so every test starts from the same state.
"""

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from assessment import PROJECT_ROOT, analytics
from assessment.accounts import authenticate
from assessment.analytics import Filters
from assessment.db import Store
from assessment.demo import generate
from assessment.inputs import PRIORITIES, PROJECT_STATUSES
from assessment.permissions import NotAllowedError
from assessment.questionnaire import by_id
from assessment.services import Services
from assessment.workflow import DIAGNOSIS, STATUSES
from bench.app import measure_dashboard
from tests.conftest import PASSWORD, build_world, credit_code
from tests.conftest import signed_in as signed_in_tab
from ui import bureau, work
from ui.i18n import _flatten
from ui.navigation import ROLE_PAGES

APP = str(PROJECT_ROOT / "app.py")
LOCALES = PROJECT_ROOT / "ui" / "locales"
BUREAU_FILES = [PROJECT_ROOT / "ui" / "bureau.py",
                *(PROJECT_ROOT / "ui" / "pages" / f"{name}.py"
                  for name in ("dashboard", "review", "requests", "archive", "organisations", "users", "downloads"))]
BUREAU_ROLES = ("bureau_admin", "bureau_analyst")
DEMO_ENTERPRISES = 60


# -- fixtures ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def bureau_template(databases):
    """The world of conftest (enterprise 1 in Gusu with a diagnosis in every state, enterprise 2 in Kunshan, an
    analyst scoped to Gusu) plus demo enterprises in every district; built once, copied per test."""
    url = databases.new("sqlite")
    store = Store(url)
    world = build_world(Services(store))
    generate(store, DEMO_ENTERPRISES, force=True, progress=lambda _: None)
    store.dispose()
    return databases.template_name(url), world


@pytest.fixture
def bureau_db(databases, bureau_template, monkeypatch):
    template, world = bureau_template
    url = databases.new("sqlite", template)
    monkeypatch.setenv("ASSESSMENT_DB_URL", url)
    store = Store(url)
    yield Services(store), world
    store.dispose()


def open_page(actor, page: str, lang: str = "zh") -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    signed_in_tab(app.session_state, actor)
    app.session_state["lang"] = lang
    app.run()
    app.switch_page(f"ui/pages/{page}.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def assert_clean(app: AppTest) -> None:
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def click(app: AppTest, label: str) -> AppTest:
    """Click the (form submit) button with this label and run."""
    return next(button for button in app.button if button.label == label).click().run()


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def expected_metrics(services: Services, actor, filters: Filters) -> dict[str, str]:
    """The dashboard's KPIs computed straight from analytics, with the page's Chinese labels."""
    distribution = analytics.level_distribution(services.store, actor, filters)
    started = sum(1 for row in analytics.enterprise_rows(services.store, actor, filters)
                  if row.level is not None and row.projects_started > 0)
    total = distribution.total
    figures = {"已诊断企业": f"{total:,}",
               "平均总分S": "—" if distribution.mean_score is None else f"{distribution.mean_score:.2f}",
               "启动改造项目的企业占比": f"{started / total:.1%}" if total else "—"}
    for level, share in enumerate(distribution.shares):
        figures[f"{level}级占比"] = f"{share:.1%}" if total else "—"
    return figures


def words(path: Path) -> dict[str, str]:
    return _flatten(yaml.safe_load(path.read_text(encoding="utf-8")))


# -- locale files --------------------------------------------------------------------------------------------------


def test_zh_and_en_bureau_locales_have_the_same_keys():
    zh, en = words(LOCALES / "zh" / "bureau.yaml"), words(LOCALES / "en" / "bureau.yaml")
    assert sorted(zh) == sorted(en)
    assert all(value.strip() for value in (*zh.values(), *en.values()))


def test_every_word_the_bureau_pages_ask_for_exists():
    zh, en = words(LOCALES / "zh" / "bureau.yaml"), words(LOCALES / "en" / "bureau.yaml")
    common = {**words(LOCALES / "zh" / "common.yaml"), **words(LOCALES / "zh" / "errors.yaml")}
    literal = {key for path in BUREAU_FILES
               for key in re.findall(r'\bt\("([a-z_.]+)"', path.read_text(encoding="utf-8"))}
    dynamic = {*(f"status.{s}" for s in STATUSES[DIAGNOSIS]),
               *(f"bureau.tier.{tier}" for tier in (*analytics.TIERS, "none")),
               *(f"bureau.priority.{p}" for p in PRIORITIES),
               *(f"bureau.project_status.{s}" for s in PROJECT_STATUSES),
               *(f"bureau.review.decision_{d}" for d in ("approved", "returned")),
               "bureau.users.activated",
               *(f"bureau.col.{c}" for c in ("confirmed_at", "submitted_at")),
               *(f"bureau.org.{f}" for f in ("contact_name", "contact_phone", "contact_email")),
               *(f"bureau.prov.{r}" for r in ("composite", "on_time", "approval", "return", "project_rate"))}
    assert len(literal) > 100
    missing = sorted(key for key in literal | dynamic if key not in zh and key not in common)
    assert missing == []
    assert sorted(key for key in literal | dynamic if key.startswith("bureau.") and key not in en) == []


# -- every page, both roles, both languages -----------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(("role", "page"), [(role, name) for role in BUREAU_ROLES for name in ROLE_PAGES[role]])
def test_every_bureau_page_renders(bureau_db, role, page, lang):
    _, world = bureau_db
    app = open_page(world.admin if role == "bureau_admin" else world.analyst, page, lang)
    assert app.title[0].value == words(LOCALES / lang / "common.yaml")[f"nav.{page}"]
    assert not app.error, [e.value for e in app.error]
    text = " ".join(str(node.value) for node in (*app.markdown, *app.caption, *app.subheader, *app.info, *app.title))
    assert "bureau." not in text  # no key shows itself


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_dashboard_tab_renders_only_when_open(bureau_db, lang):
    _, world = bureau_db
    app = open_page(world.admin, "dashboard", lang)
    labels = [tab.label for tab in app.tabs]
    assert len(labels) == 4
    charts = app.get("plotly_chart")
    assert len(charts) == 1  # only the open tab (the first) ran
    assert '"type":"bar"' in charts[0].proto.spec
    assert not app.dataframe
    for label, chart in zip(labels[1:], ('"type":"heatmap"', '"type":"scatter"', None), strict=True):
        app.session_state["bureau_dashboard_tab"] = label
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        charts = app.get("plotly_chart")
        if chart:
            assert len(charts) == 1
            assert chart in charts[0].proto.spec
            assert not app.dataframe
        else:  # provider performance: a table
            assert not charts
            assert len(app.dataframe) == 1
            assert list(app.dataframe[0].value.columns)[:2] == (["服务商", "档次"] if lang == "zh"
                                                                 else ["Provider", "Tier"])


# -- the dashboard's figures ----------------------------------------------------------------------------------------


def test_the_dashboard_kpis_equal_analytics_for_the_same_filters(bureau_db):
    services, world = bureau_db
    app = open_page(world.admin, "dashboard")
    assert metrics(app) == expected_metrics(services, world.admin, analytics.NO_FILTERS)
    app.selectbox(key="bureau_filter_size_class").set_value("small")
    app.date_input(key="bureau_filter_since").set_value(date(2025, 6, 1))
    app.run()
    assert not app.exception
    chosen = Filters(size_class="small", since=date(2025, 6, 1))
    assert metrics(app) == expected_metrics(services, world.admin, chosen)
    assert metrics(app) != expected_metrics(services, world.admin, analytics.NO_FILTERS)
    app.selectbox(key="bureau_filter_district").set_value("gusu").run()
    assert metrics(app) == expected_metrics(services, world.admin, Filters(district="gusu", size_class="small",
                                                                           since=date(2025, 6, 1)))


def test_a_period_that_ends_before_it_starts_is_refused_with_the_message(bureau_db):
    _, world = bureau_db
    app = open_page(world.admin, "dashboard")
    app.date_input(key="bureau_filter_since").set_value(date(2026, 1, 1))
    app.date_input(key="bureau_filter_until").set_value(date(2025, 1, 1)).run()
    assert not app.exception
    assert app.error[0].value == "起始日期 2026-01-01 晚于截止日期 2025-01-01，请调整筛选条件。"
    assert not app.metric


def test_the_new_aggregates_agree_with_analytics_on_both_databases(world_store):
    services, world = world_store
    generate(services.store, 30, force=True, progress=lambda _: None)
    store = services.store
    for actor in (world.admin, world.analyst):
        for filters in (analytics.NO_FILTERS, Filters(size_class="small"), Filters(status="approved")):
            heatmap = analytics.domain_heatmap(store, actor, filters)
            expected = analytics.domain_means_by_district(store, actor, filters)
            assert list(heatmap.districts) == [row.key for row in expected.rows]
            for means, row in zip(heatmap.means, expected.rows, strict=True):
                assert means == pytest.approx(tuple(row.means[d] for d in expected.domains))
            months = analytics.monthly_trend(store, actor, filters)
            assert sum(m.diagnoses for m in months) == sum(analytics.status_counts(store, actor, filters).values())
            assert [m.label for m in months] == sorted(m.label for m in months)
            rows = list(analytics.enterprise_rows(store, actor, filters))
            assert analytics.started_projects(store, actor, filters) == sum(
                1 for row in rows if row.level is not None and row.projects_started > 0)
        performance = {p.provider_id: p.name for p in analytics.provider_performance(store, actor)}
        assert analytics.provider_choices(store, actor) == dict(sorted(performance.items(), key=lambda p: (p[1], p[0])))


def test_an_analyst_sees_only_gusu_and_no_write_buttons(bureau_db):
    services, world = bureau_db
    app = open_page(world.admin, "dashboard")  # fills the cache with the admin's figures first
    everything = metrics(app)
    app = open_page(world.analyst, "dashboard")
    gusu = expected_metrics(services, world.admin, Filters(district="gusu"))
    assert metrics(app) == gusu == expected_metrics(services, world.analyst, analytics.NO_FILTERS)
    assert gusu != everything
    assert metrics(open_page(world.admin, "dashboard")) == everything  # and the analyst's entry is not the admin's
    assert app.selectbox(key="bureau_filter_district").options == ["全部", "姑苏区"]
    assert not app.button
    app.session_state["bureau_dashboard_tab"] = "区县×能力域"
    app.run()
    # The spec is JSON, with Chinese escaped or not depending on plotly's engine (orjson where installed): decode it.
    heatmap = json.dumps(json.loads(app.get("plotly_chart")[0].proto.spec), ensure_ascii=False)
    assert "姑苏区" in heatmap
    assert "昆山市" not in heatmap
    downloads = open_page(world.analyst, "downloads")
    assert not downloads.button
    assert len(downloads.get("download_button")) == 3
    for page in ("review", "requests", "organisations", "users"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            downloads.switch_page(f"ui/pages/{page}.py")
    # Forced writes through the services are refused.
    version = services.get_assessment(world.admin, world.confirmed_1).assessment.version
    forced = [lambda: services.move(world.analyst, world.confirmed_1, "approve", expected_version=version),
              lambda: services.move(world.analyst, world.requested_1, "assign", expected_version=1,
                                    provider_id=world.provider_a_id),
              lambda: services.create_organisation(world.analyst, kind="provider", name="偷偷"),
              lambda: services.update_organisation(world.analyst, world.enterprise_1_id, name="改名"),
              lambda: services.create_user(world.analyst, "sneaky", "sneaky", PASSWORD, "bureau_admin",
                                           world.admin.organisation_id),
              lambda: services.set_user_active(world.analyst, world.admin.user_id, False),
              lambda: services.request_diagnosis(world.analyst, world.enterprise_1_id)]
    for write in forced:
        with pytest.raises(NotAllowedError):
            write()
    assert services.get_assessment(world.admin, world.confirmed_1).assessment.status == "confirmed"


# -- review ---------------------------------------------------------------------------------------------------------


def test_review_returns_only_with_a_comment_and_approves(bureau_db):
    services, world = bureau_db
    app = open_page(world.admin, "review")
    queue = app.selectbox(key="review_open")
    assert any(option.startswith(f"#{world.confirmed_1} · 企业1 · 服务商甲") for option in queue.options)
    assert app.expander[0].label.startswith("已提交、等待企业确认")
    queue.set_value(world.confirmed_1).run()
    assert not app.exception
    assert app.header[0].value.startswith(f"诊断 #{world.confirmed_1}")
    assert "4 / 5" in metrics(app).values()  # the enterprise's rating
    app.text_area(key="review_comment").input("")
    click(app, "退回修改")
    assert app.error[0].value == "退回诊断须填写意见。"  # the workflow's refusal, in the user's language
    assert services.get_assessment(world.admin, world.confirmed_1).assessment.status == "confirmed"
    app.text_area(key="review_comment").input("请补充设备清单")
    click(app, "退回修改")
    assert_clean(app)
    assert app.success[0].value == f"诊断 #{world.confirmed_1} 已退回服务商修改。"
    view = services.get_assessment(world.admin, world.confirmed_1)
    assert (view.assessment.status, view.reviews[-1].comment) == ("returned", "请补充设备清单")

    other = next(a for a, _ in services.list_assessments(world.admin, status="confirmed", kind=DIAGNOSIS))
    app.selectbox(key="review_open").set_value(other.id).run()
    app.button(key=f"review_approve_{other.id}").click().run()  # asked once more first
    assert app.warning[0].value.startswith(f"确认审核通过诊断 #{other.id}")
    assert services.get_assessment(world.admin, other.id).assessment.status == "confirmed"
    click(app, "取消")
    assert not app.warning
    app.button(key=f"review_approve_{other.id}").click().run()
    click(app, "确认通过")
    assert_clean(app)
    assert app.success[0].value == f"诊断 #{other.id} 已通过。"
    assert services.get_assessment(world.admin, other.id).assessment.status == "approved"


# -- requests -------------------------------------------------------------------------------------------------------


def test_requests_assign_a_provider_and_create_a_request(bureau_db):
    services, world = bureau_db
    app = open_page(world.admin, "requests")
    app.selectbox(key="requests_assign_request").set_value(world.requested_1)
    app.selectbox(key="requests_assign_provider").set_value(world.provider_b_id)
    app.date_input(key="requests_assign_due").set_value(date(2030, 1, 31))
    click(app, "分派")
    assert_clean(app)
    assert app.success[0].value.startswith(f"诊断 #{world.requested_1} 已分派给 服务商乙")
    a = services.get_assessment(world.admin, world.requested_1).assessment
    assert (a.status, a.provider_id, a.due_date) == ("assigned", world.provider_b_id, date(2030, 1, 31))

    before = len(services.list_assessments(world.admin, enterprise_id=world.enterprise_2_id))
    app.text_input(key="requests_search").input(credit_code(2)).run()
    app.button(key="requests_create").click().run()
    assert_clean(app)
    assert len(services.list_assessments(world.admin, enterprise_id=world.enterprise_2_id)) == before + 1
    in_work = [a for status in ("assigned", "in_progress")
               for a, _ in services.list_assessments(world.admin, status=status, kind=DIAGNOSIS)]
    late = sum(1 for a in in_work if a.due_date is not None and a.due_date < date.today())
    assert late > 0  # the demo's diagnoses were due long ago
    assert app.warning[0].value == f"{late} 份诊断已超过截止日期（以 ● 标出，列在最前）。"
    table = app.dataframe[-1].value
    assert list(table["逾期"]) == ["●"] * late + [""] * (len(in_work) - late)


# -- organisations --------------------------------------------------------------------------------------------------


def fill_enterprise(app: AppTest, code: str, name: str = "苏州新企业有限公司") -> AppTest:
    app.text_input(key="org_new_name").input(name)
    app.text_input(key="org_new_credit_code").input(code)
    app.selectbox(key="org_new_district").set_value("wuzhong")
    app.selectbox(key="org_new_industry").set_value("C26")
    app.run()  # the industry pre-selects its production type
    assert app.selectbox(key="org_new_production_type").value == "process"
    assert not app.warning, [w.value for w in app.warning]
    app.selectbox(key="org_new_size_class").set_value("small")
    app.text_input(key="org_new_contact_phone").input("0512-66668888")
    return app


def test_organisations_refuse_a_bad_credit_code_with_its_place_and_store_a_good_one(bureau_db):
    services, world = bureau_db
    before = len(services.list_enterprises(world.admin))
    good = credit_code(987_654)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    app = fill_enterprise(open_page(world.admin, "organisations"), bad)
    app.button(key="org_create_enterprise").click().run()
    assert not app.exception
    assert app.error[0].value.startswith("统一社会信用代码：")  # the field, said in the user's language
    assert f"校验码（第 18 位）应为“{good[-1]}”，填写的是“{bad[-1]}”" in app.error[0].value
    assert len(services.list_enterprises(world.admin)) == before
    app.text_input(key="org_new_credit_code").input(good)
    app.button(key="org_create_enterprise").click().run()
    assert_clean(app)
    stored = services.list_enterprises(world.admin, search=good)
    assert [(e.name, e.district, e.industry, e.production_type, e.size_class) for e in stored] == [
        ("苏州新企业有限公司", "wuzhong", "C26", "process", "small")]
    assert len(services.list_enterprises(world.admin)) == before + 1
    # The same code again (another name): refused in the user's language, nothing stored.
    app = fill_enterprise(open_page(world.admin, "organisations"), good, name="苏州另一家企业有限公司")
    app.button(key="org_create_enterprise").click().run()
    assert not app.exception
    assert app.error[0].value == f"统一社会信用代码：{good} 已经登记过（机构 #{stored[0].id}），请勿重复登记。"
    assert len(services.list_enterprises(world.admin)) == before + 1


def test_organisations_edit_an_enterprise_and_add_a_provider(bureau_db):
    services, world = bureau_db
    app = open_page(world.admin, "organisations")
    app.text_input(key="org_search").input("企业1").run()
    app.selectbox(key="org_edit_choice").set_value(world.enterprise_1_id).run()
    prefix = f"org_edit_{world.enterprise_1_id}_"
    assert app.text_input(key=f"{prefix}credit_code").value == credit_code(1)
    app.text_input(key=f"{prefix}contact_name").input("王经理")
    app.button(key="org_edit_save").click().run()
    assert_clean(app)
    assert services.get_organisation(world.admin, world.enterprise_1_id).contact_name == "王经理"
    app.text_input(key="org_provider_f_name").input("新服务商")
    app.button(key="org_create_provider").click().run()
    assert_clean(app)
    assert "新服务商" in [p.name for p in services.list_providers(world.admin)]


# -- users ----------------------------------------------------------------------------------------------------------


def test_users_weak_password_shows_the_policy_then_a_good_one_creates_and_deactivates(bureau_db):
    services, world = bureau_db
    before = len(services.list_users(world.admin))
    app = open_page(world.admin, "users")
    app.text_input(key="users_new_username").input("gusu_reader")
    app.text_input(key="users_new_display_name").input("姑苏分析员")
    app.selectbox(key="users_new_role").set_value("bureau_analyst").run()
    app.multiselect(key="users_new_districts").set_value(["gusu"])
    app.text_input(key="users_new_password").input("short1")
    app.text_input(key="users_new_again").input("short1")
    app.button(key="users_create").click().run()
    assert not app.exception
    assert app.error[0].value == "密码：至少 10 个字符。"  # said in the user's language
    assert len(services.list_users(world.admin)) == before
    app.text_input(key="users_new_password").input(PASSWORD)
    app.text_input(key="users_new_again").input(PASSWORD)
    app.button(key="users_create").click().run()
    assert_clean(app)
    created = next(u for u in services.list_users(world.admin) if u.username == "gusu_reader")
    assert (created.role, created.districts, created.organisation_id) == ("bureau_analyst", ["gusu"],
                                                                          world.admin.organisation_id)
    app.selectbox(key="users_switch_choice").set_value(created.id).run()
    app.button(key="users_switch").click().run()
    # The names are Markdown-escaped in the question (gusu\_reader shows as gusu_reader).
    assert app.warning[0].value == "确认停用 姑苏分析员（gusu\\_reader）的账户？停用后该用户立即退出，不能再登录。"
    assert next(u for u in services.list_users(world.admin) if u.id == created.id).active  # not yet
    click(app, "确认停用此账户")
    assert_clean(app)
    assert app.success[0].value == "已停用账户 姑苏分析员。"
    assert not next(u for u in services.list_users(world.admin) if u.id == created.id).active


# -- downloads ------------------------------------------------------------------------------------------------------


def test_the_download_builders_produce_files_that_open(bureau_db, tmp_path):
    services, world = bureau_db
    app = open_page(world.admin, "downloads", "en")
    assert [b.label for b in app.get("download_button")] == [
        "Download the summary workbook (Excel)", "Download CSV", "Download Parquet"]
    filters = Filters(district="gusu")
    workbook = tmp_path / "bureau.xlsx"
    workbook.write_bytes(bureau.bureau_workbook_bytes(services.store, world.admin, filters, "en"))
    sheets = load_workbook(workbook, read_only=True).sheetnames
    assert sheets[0] == "Overview"
    assert "Providers" in sheets
    rows = list(csv.reader(io.StringIO(bureau.answers_csv_bytes(services.store, world.analyst,
                                                                 analytics.NO_FILTERS).decode("utf-8-sig"))))
    assert rows[0][:4] == ["assessment_id", "credit_code", "enterprise", "district"]
    assert len(rows) > 1
    assert {row[3] for row in rows[1:]} == {"gusu"}  # the analyst's scope only
    parquet = tmp_path / "answers.parquet"
    parquet.write_bytes(bureau.answers_parquet_bytes(services.store, world.admin, filters))
    assert pq.read_table(parquet).num_rows == len(rows) - 1


# -- the benchmark keeps running ------------------------------------------------------------------------------------


def test_the_app_benchmark_runs_and_reports_every_figure(bureau_db):
    services, _ = bureau_db
    rows = measure_dashboard(services.store.url, repeats=1)
    figures = [row["figure"] for row in rows]
    assert figures[0].startswith("dashboard rerun, uncached, as it opens")
    assert [f for f in figures if "tab open" in f] == [
        f"dashboard rerun, uncached, {tab} tab open" for tab in ("heatmap", "trend", "providers")]
    assert all(row["ok"] is None for row in rows)  # bars are judged only at 100,000 assessments


# -- the bureau's view of one enterprise, duplicate requests, confirmations, passwords (issue 10, §4) -----------


def test_the_bureau_opens_any_enterprise_with_all_its_assessments_results_and_report(bureau_db, tmp_path):
    services, world = bureau_db
    app = open_page(world.admin, "archive")
    assert app.info[0].value.startswith("输入企业名称或统一社会信用代码")
    app.text_input(key="archive_search").input(credit_code(1)).run()
    assert_clean(app)
    assert app.header[0].value == "企业1"  # one match: opened at once
    rows = services.list_assessments(world.admin, enterprise_id=world.enterprise_1_id)
    table = app.dataframe[0].value
    assert sorted(table["编号"]) == sorted(a.id for a, _ in rows)  # every diagnosis and self-assessment
    assert set(table["类型"]) == {"诊断", "自评估"}
    assert "已申请" in set(table["状态"])
    app.selectbox(key=f"archive_open_{world.enterprise_1_id}").set_value(world.approved_1).run()
    assert_clean(app)
    approved = services.get_assessment(world.admin, world.approved_1)
    assert metrics(app)["成熟度等级"].startswith(f"{approved.assessment.level}级")
    assert metrics(app)["服务商"] == "服务商甲"
    charts = app.get("plotly_chart")
    assert len(charts) == 1
    assert '"type":"scatterpolar"' in charts[0].proto.spec
    [download] = app.get("download_button")
    assert download.proto.label == "下载诊断报告（Excel）"
    report_file = tmp_path / "report.xlsx"  # the bytes the button builds (AppTest clicks, it does not download)
    q = by_id(approved.assessment.questionnaire_id)
    report_file.write_bytes(work.report_bytes(services, world.admin, approved, q, "zh"))
    assert load_workbook(report_file, read_only=True).sheetnames
    # A search by name lists the matches to choose from; a district narrows it down.
    app.text_input(key="archive_search").input("企业").run()
    app.selectbox(key="archive_district").set_value("kunshan").run()
    assert_clean(app)
    chooser = next(s for s in app.selectbox if s.label == "企业")
    assert "企业2 · " + credit_code(2) + " · 昆山市" in chooser.options


def test_an_analyst_opens_only_the_enterprises_of_its_districts(bureau_db):
    _, world = bureau_db
    app = open_page(world.analyst, "archive", "en")
    assert app.selectbox(key="archive_district").options == ["All", "Gusu"]
    app.text_input(key="archive_search").input(credit_code(2)).run()  # Kunshan's enterprise 2
    assert_clean(app)
    assert app.info[0].value == "No enterprise matches."
    app.text_input(key="archive_search").input(credit_code(1)).run()
    assert_clean(app)
    assert app.header[0].value == "企业1"
    assert not app.button  # read-only: no move of the workflow here


def test_review_offers_the_report_and_shows_the_radar(bureau_db):
    _, world = bureau_db
    app = open_page(world.admin, "review")
    app.selectbox(key="review_open").set_value(world.confirmed_1).run()
    assert_clean(app)
    assert [b.proto.label for b in app.get("download_button")] == ["下载诊断报告（Excel）"]
    radar = [chart for chart in app.get("plotly_chart") if '"type":"scatterpolar"' in chart.proto.spec]
    assert len(radar) == 1
    assert "PO 生产作业" in json.dumps(json.loads(radar[0].proto.spec), ensure_ascii=False)


def test_a_second_request_is_refused_and_the_bureau_cancels_one_with_a_reason(bureau_db):
    services, world = bureau_db
    app = open_page(world.admin, "requests")
    before = len(services.list_assessments(world.admin, enterprise_id=world.enterprise_1_id))
    app.text_input(key="requests_search").input(credit_code(1)).run()
    app.button(key="requests_create").click().run()  # enterprise 1 has a request waiting already
    assert app.error[0].value == (f"该企业已有一份待派单的诊断申请（#{world.requested_1}），不能重复申请；"
                                  "请等待工信局派单或撤销该申请。")
    assert len(services.list_assessments(world.admin, enterprise_id=world.enterprise_1_id)) == before

    app = open_page(world.admin, "requests")
    app.selectbox(key="requests_cancel_request").set_value(world.requested_1)
    click(app, "撤销申请")  # without a reason: refused, in the user's language
    assert app.error[0].value == "撤销申请须填写原因。"
    assert services.get_assessment(world.admin, world.requested_1).assessment.status == "requested"
    app.selectbox(key="requests_cancel_request").set_value(world.requested_1)
    app.text_area(key="requests_cancel_reason").input("企业重复提交")
    click(app, "撤销申请")
    assert_clean(app)
    assert app.success[0].value == f"诊断申请 #{world.requested_1} 已撤销。"
    assert services.get_assessment(world.admin, world.requested_1).assessment.status == "cancelled"
    [entry] = services.audit_log(world.admin, entity="assessment", entity_id=world.requested_1, limit=1)
    assert (entry.action, entry.after["comment"]) == ("cancel", "企业重复提交")
    # Nothing waits now: the enterprise's own button requests again, once.
    enterprise = open_page(world.enterprise_1, "assessments")
    click(enterprise, "申请诊断服务")
    assert not enterprise.error
    assert enterprise.success[0].value.startswith("已提交诊断申请")
    click(enterprise, "申请诊断服务")
    assert enterprise.error[0].value.startswith("该企业已有一份待派单的诊断申请")


def test_deactivating_preselects_nobody_and_names_people_by_their_names(bureau_db):
    services, world = bureau_db
    services.create_user(world.admin, "chief2", "王局长", PASSWORD, "bureau_admin", world.admin.organisation_id)
    app = open_page(world.admin, "users")
    choice = app.selectbox(key="users_switch_choice")
    assert choice.value is None  # not another administrator, nor anybody else
    assert not [b for b in app.button if b.key in ("users_switch", "users_reset")]
    assert any(option.startswith("王局长 · chief2（主管部门管理员）") for option in choice.options)
    assert app.sidebar.caption[0].value == "管理员（主管部门管理员）"  # the display name, not "admin"


def test_an_administrator_resets_a_password_and_the_user_must_change_it(bureau_db):
    services, world = bureau_db
    app = open_page(world.admin, "users")
    app.selectbox(key="users_switch_choice").set_value(world.provider_a.user_id).run()
    app.button(key="users_reset").click().run()
    assert app.warning[0].value.startswith("确认重置 provider\\_a（provider\\_a）的密码？")  # Markdown-escaped
    click(app, "确认重置密码")
    assert_clean(app)
    assert app.success[0].value.startswith("provider\\_a（provider\\_a）的一次性密码如下，只显示这一次")
    one_time = app.code[0].value
    app.run()
    assert not app.code  # shown once
    signed_in = authenticate(services.store, "provider_a", one_time)
    assert signed_in.must_change_password

    # Signed in with it, the user reaches the account page only, and is told why.
    user = AppTest.from_file(APP, default_timeout=60)
    signed_in_tab(user.session_state, signed_in)
    user.session_state["lang"] = "zh"
    user.run()
    assert_clean(user)
    assert user.title[0].value == "我的账户"
    assert user.warning[0].value.startswith("您的密码已由管理员重置")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        user.switch_page("ui/pages/enterprises.py")
    change_password(user, one_time, "short1", "short1")
    assert user.error[0].value == "密码：至少 10 个字符。"
    change_password(user, one_time, "my own password 8", "my own password 9")
    assert user.error[0].value == "两次输入的新密码不一致。"
    change_password(user, one_time, "my own password 8", "my own password 8")
    assert_clean(user)
    assert user.success[0].value == "密码已修改。"
    assert not user.warning
    user.switch_page("ui/pages/enterprises.py").run()  # every page of the role opens again
    assert_clean(user)
    assert authenticate(services.store, "provider_a", "my own password 8").user_id == world.provider_a.user_id


def change_password(app: AppTest, current: str, new: str, again: str, label: str = "修改密码") -> None:
    app.text_input(key="account_current").input(current)
    app.text_input(key="account_new").input(new)
    app.text_input(key="account_again").input(again)
    click(app, label)


def test_a_user_changes_its_own_password_on_the_account_page(bureau_db):
    services, world = bureau_db
    app = open_page(world.enterprise_1, "account", "en")
    assert app.markdown[0].value == r"Signed in as enterprise\_1"  # the name as typed: its "_" escaped in Markdown
    change_password(app, "not my password 1", "my own password 8", "my own password 8", "Change the password")
    assert app.error[0].value == "The current password is wrong."
    change_password(app, PASSWORD, "my own password 8", "my own password 8", "Change the password")
    assert_clean(app)
    assert app.success[0].value == "Your password is changed."
    assert authenticate(services.store, "enterprise_1", "my own password 8").user_id == world.enterprise_1.user_id
