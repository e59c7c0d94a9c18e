"""The work pages through Streamlit's AppTest: enterprises, assessments, interview, results, files.

Each test copies the built world (tests.conftest.build_world) into its own SQLite file, signs in by setting the
session state and names the assessment in the query parameters, as a browser address would.
"""

from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from assessment import PROJECT_ROOT
from reports.template import build_template, read_template
from tests.conftest import enterprise_fields, signed_in
from ui import work
from ui.i18n import _flatten

APP = str(PROJECT_ROOT / "app.py")
LOCALES = PROJECT_ROOT / "ui" / "locales"
CONFLICT = "该评估已被他人修改，请刷新后查看最新内容。"
SHOWN = ("title", "subheader", "markdown", "caption", "error", "warning", "info", "success")


def open_page(actor, page: str, lang: str = "zh", **params) -> AppTest:
    """A new browser tab of ``actor`` on ``page`` with the query parameters ``params``."""
    app = AppTest.from_file(APP, default_timeout=60)
    signed_in(app.session_state, actor)
    app.session_state["lang"] = lang
    app.run()
    app.switch_page(f"ui/pages/{page}.py")
    app.query_params.update({name: str(value) for name, value in params.items()})
    app.run()
    assert not app.exception, app.exception
    return app


def shown(app: AppTest) -> str:
    return "\n".join(str(element.value) for kind in SHOWN for element in getattr(app, kind))


def button(app: AppTest, label: str):
    return next(b for b in app.button if b.label == label)


def answer_key(assessment_id: int, item_id: str, part: str = "a") -> str:
    return work.key(assessment_id, part, item_id)


def all_answers(q, code: str = "mostly", but: set[str] = frozenset()) -> dict:
    return {item.id: {"code": code} for item in q.items_for("discrete") if item.id not in but}


def version(services, actor, assessment_id: int) -> int:
    return services.get_assessment(actor, assessment_id).assessment.version


# --- every page renders --------------------------------------------------------------------------------------


def test_every_work_page_renders_for_the_roles_that_have_it(app_world):
    _, w = app_world
    for actor, page, assessment in ((w.provider_a, "enterprises", None), (w.provider_a, "interview", w.diagnosis_1),
                                    (w.provider_a, "results", w.submitted_1), (w.provider_a, "files", w.diagnosis_1),
                                    (w.enterprise_1, "assessments", None), (w.enterprise_1, "interview", w.self_1),
                                    (w.enterprise_1, "results", w.approved_1), (w.enterprise_1, "files", w.self_1)):
        app = open_page(actor, page, **({"assessment": assessment} if assessment else {}))
        assert not app.error, (page, [e.value for e in app.error])
        assert "work." not in shown(app), page  # a missing locale key shows itself
        if page in ("results", "assessments"):
            assert app.get("plotly_chart"), page  # the radar


def test_the_pages_without_an_assessment_named_offer_a_choice(app_world):
    _, w = app_world
    app = open_page(w.provider_a, "interview")
    assert app.selectbox(key="work_pick_interview").options == [f"#{w.diagnosis_1} 企业1 · 诊断 · 诊断中"]
    app.selectbox(key="work_pick_interview").set_value(w.diagnosis_1).run()
    assert app.query_params["assessment"] == str(w.diagnosis_1)
    assert app.main.radio  # the requirements of the first subdomain
    results = open_page(w.enterprise_1, "results")
    assert not results.main.radio
    assert results.info[0].value == "请选择一项评估查看结果。"


# --- the interview ---------------------------------------------------------------------------------------------


def test_an_answer_is_saved_at_once_and_a_refresh_resumes_there(app_world, cmmm):
    services, w = app_world
    d = w.diagnosis_1
    app = open_page(w.provider_a, "interview", assessment=d)
    first = work.items_of(cmmm, "discrete", "OS")[0].id
    radio = app.radio(key=answer_key(d, first))
    assert radio.value is None  # no default selection when unanswered
    assert radio.options == ["全部满足", "大部分满足", "部分满足", "不满足", "不适用"]
    radio.set_value("full").run()
    assert services.get_assessment(w.provider_a, d).answers[first].code == "full"
    assert any(caption.value.startswith("已保存 ") for caption in app.caption)

    app.text_area(key=answer_key(d, first, "n")).input("查看了发展规划文件").run()
    app.text_area(key=answer_key(d, first, "e")).input("规划.pdf").run()
    saved = services.get_assessment(w.provider_a, d).answers[first]
    assert (saved.code, saved.note, saved.evidence) == ("full", "查看了发展规划文件", "规划.pdf")

    app.selectbox(key="work_sd").set_value("SK").run()
    assert app.query_params == {"assessment": str(d), "sd": "SK"}
    skill = work.items_of(cmmm, "discrete", "SK")[0].id
    app.radio(key=answer_key(d, skill)).set_value("partly").run()
    assert "SK" in app.selectbox(key="work_sd").format_func("SK")

    # A refresh (or a restarted server) starts a new session: signed in again, the role's first page opens with
    # the address the tab had, and goes back to the questionnaire exactly where it was.
    again = AppTest.from_file(APP, default_timeout=60)
    signed_in(again.session_state, w.provider_a)
    again.query_params.update(app.query_params)
    again.run()
    assert again.title[0].value == "诊断问卷"
    assert again.selectbox(key="work_sd").value == "SK"
    assert again.radio(key=answer_key(d, skill)).value == "partly"
    again.selectbox(key="work_sd").set_value("OS").run()
    assert again.radio(key=answer_key(d, first)).value == "full"
    assert again.text_area(key=answer_key(d, first, "n")).value == "查看了发展规划文件"
    assert again.get("progress")[0].proto.text == f"已答 2 / {len(cmmm.items_for('discrete'))} 项要求"


def test_a_change_made_meanwhile_by_someone_else_is_a_conflict_until_reloaded(app_world, cmmm):
    services, w = app_world
    d = w.diagnosis_1
    app = open_page(w.provider_a, "interview", assessment=d, sd="OS")
    first, second = (item.id for item in work.items_of(cmmm, "discrete", "OS")[:2])
    services.save_answer(w.provider_a, d, second, "none", expected_version=version(services, w.provider_a, d))
    app.radio(key=answer_key(d, first)).set_value("full").run()
    assert app.error[0].value == CONFLICT
    assert first not in services.get_assessment(w.provider_a, d).answers
    app.radio(key=answer_key(d, first)).set_value("mostly").run()  # still refused until reloaded
    assert app.error[0].value == CONFLICT
    button(app, "重新加载").click().run()
    assert not app.error
    assert app.radio(key=answer_key(d, second)).value == "none"  # their change is shown
    assert app.radio(key=answer_key(d, first)).value is None
    app.radio(key=answer_key(d, first)).set_value("full").run()
    assert not app.error
    assert services.get_assessment(w.provider_a, d).answers[first].code == "full"


def test_a_stale_version_in_the_session_is_refused(app_world, cmmm):
    services, w = app_world
    d = w.diagnosis_1
    app = open_page(w.provider_a, "interview", assessment=d)
    app.session_state["work_versions"] = {d: 1}
    first = work.items_of(cmmm, "discrete", "OS")[0].id
    app.radio(key=answer_key(d, first)).set_value("full").run()
    assert app.error[0].value == CONFLICT
    assert services.get_assessment(w.provider_a, d).answers == {}


def test_next_unanswered_jumps_to_the_first_subdomain_left(app_world, cmmm):
    services, w = app_world
    d = w.diagnosis_1
    order = work.subdomain_order(cmmm)
    left = {item.id for item in work.items_of(cmmm, "discrete", order[5])[-2:]}
    services.save_answers(w.provider_a, d, all_answers(cmmm, but=left),
                          expected_version=version(services, w.provider_a, d))
    app = open_page(w.provider_a, "interview", assessment=d, sd=order[0])
    assert app.selectbox(key="work_sd").value == order[0]
    button(app, "下一个未答子域").click().run()
    assert app.selectbox(key="work_sd").value == order[5]
    assert app.query_params["sd"] == order[5]
    assert [app.radio(key=answer_key(d, item)).value for item in sorted(left)] == [None, None]
    for item in sorted(left):
        app.radio(key=answer_key(d, item)).set_value("full").run()
    assert app.success[0].value == "全部要求均已作答。"
    assert button(app, "下一个未答子域").disabled


def test_the_profile_form_shows_what_is_wrong_in_place(app_world):
    services, w = app_world
    d = w.diagnosis_1
    app = open_page(w.provider_a, "interview", assessment=d)
    app.number_input(key=work.key(d, "p", "nc_rate")).set_value(150.0)
    app.number_input(key=work.key(d, "p", "employees")).set_value(320)
    app.multiselect(key=work.key(d, "p", "systems")).set_value(["ERP", "MES"])
    app.multiselect(key=work.key(d, "p", "cloud")).set_value(["ERP"])
    button(app, "保存企业情况").click().run()
    assert [e.value for e in app.error] == ["关键工序数控化率：不能大于 100。"]  # in the user's language
    assert app.number_input(key=work.key(d, "p", "employees")).value == 320  # what was typed stays
    assert services.get_assessment(w.provider_a, d).profile is None
    app.number_input(key=work.key(d, "p", "nc_rate")).set_value(65.0)
    button(app, "保存企业情况").click().run()
    assert not app.error
    profile = services.get_assessment(w.provider_a, d).profile
    assert (profile.employees, profile.nc_rate) == (320, 65.0)
    assert profile.systems == {"ERP": {"in_use": True, "cloud": True}, "MES": {"in_use": True, "cloud": False}}


def test_a_handed_in_diagnosis_is_shown_read_only(app_world):
    _, w = app_world
    app = open_page(w.provider_a, "interview", assessment=w.submitted_1)
    assert app.info[0].value == "此评估当前为“已提交”，只能查看，不能修改。"
    assert all(radio.disabled for radio in app.main.radio)
    assert [radio.value for radio in app.main.radio][:2] == ["mostly", "mostly"]
    assert button(app, "保存企业情况").disabled


# --- who may open what ------------------------------------------------------------------------------------------


def test_another_providers_or_enterprises_assessment_is_refused(app_world, cmmm):
    _, w = app_world
    texts = [item.text.zh for item in cmmm.items]
    for actor, page, assessment in ((w.provider_a, "interview", w.diagnosis_2),
                                    (w.provider_a, "results", w.diagnosis_2), (w.provider_a, "files", w.diagnosis_2),
                                    (w.provider_a, "interview", w.self_1), (w.enterprise_1, "interview", w.diagnosis_2),
                                    (w.enterprise_1, "results", w.diagnosis_2)):
        app = open_page(actor, page, assessment=assessment)
        assert [e.value for e in app.error] == ["您无权查看或操作此内容。"], (actor, page)
        assert not app.main.radio
        assert not app.download_button
        assert not any(text in shown(app) for text in texts)
        assert "企业2" not in shown(app)
    app = open_page(w.provider_a, "interview", assessment="1 or 1=1")
    assert app.error[0].value == "网址中的评估编号“1 or 1\\=1”无效。"  # quoted as typed: = escaped (a setext heading)


# --- results and the workflow -------------------------------------------------------------------------------------


def test_submit_is_refused_until_the_questionnaire_is_complete(app_world, cmmm):
    services, w = app_world
    d = w.diagnosis_1
    app = open_page(w.provider_a, "results", assessment=d)
    assert f"问卷尚未答完（0/{len(cmmm.items_for('discrete'))}）" in app.warning[0].value
    app.text_input(key=work.key(d, "new", "title")).input("部署MES系统")
    app.selectbox(key=work.key(d, "new", "subdomain")).set_value("PO")
    app.selectbox(key=work.key(d, "new", "target_level")).set_value(3)
    app.number_input(key=work.key(d, "new", "investment")).set_value(120.5)
    button(app, "添加项目").click().run()
    assert not app.error
    added = services.get_assessment(w.provider_a, d).projects[-1]
    assert (added.title, added.subdomain, added.target_level) == ("部署MES系统", "PO", 3)
    assert float(added.investment) == 120.5

    app.text_input(key=work.key(d, f"p{w.project_1}", "title")).input("ERP升级")
    button(app, "保存项目").click().run()  # the first project's form
    app.button(key=f"work_remove_{d}_{added.id}").click().run()
    assert not app.error
    assert [p.title for p in services.get_assessment(w.provider_a, d).projects] == ["ERP升级"]

    button(app, "提交诊断").click().run()
    button(app, "确认提交诊断").click().run()  # asked once more first
    assert app.error[0].value == f"问卷尚未完成（已答 0 / {len(cmmm.items_for('discrete'))} 项），不能提交。"
    assert services.get_assessment(w.provider_a, d).assessment.status == "in_progress"

    services.save_answers(w.provider_a, d, all_answers(cmmm), expected_version=version(services, w.provider_a, d))
    app.run()
    assert not app.warning
    assert app.metric[0].value == "4级（优化级）"
    button(app, "提交诊断").click().run()
    assert app.warning[0].value.startswith(f"确认提交诊断 #{d}？")
    button(app, "取消").click().run()  # not submitted
    assert services.get_assessment(w.provider_a, d).assessment.status == "in_progress"
    button(app, "提交诊断").click().run()
    button(app, "确认提交诊断").click().run()
    assert not app.error
    assert app.success[0].value == "诊断已提交，等待企业确认。"
    assert services.get_assessment(w.provider_a, d).assessment.status == "submitted"
    assert not [b for b in app.button if b.label == "提交诊断"]


def test_the_enterprise_completes_its_self_assessment_once_every_requirement_is_answered(app_world, cmmm):
    services, w = app_world
    d = w.self_1
    app = open_page(w.enterprise_1, "results", assessment=d)
    assert not [b for b in app.button if b.label == "添加项目"]  # projects are recommended in a diagnosis
    button(app, "完成自评估").click().run()
    assert app.error[0].value == f"问卷尚未完成（已答 0 / {len(cmmm.items_for('discrete'))} 项），不能完成。"
    services.save_answers(w.enterprise_1, d, all_answers(cmmm, "partly"), expected_version=version(
        services, w.enterprise_1, d))
    app.run()
    assert app.metric[0].value == "未达到一级"
    button(app, "完成自评估").click().run()
    assert app.success[0].value == "自评估已完成。"
    assert services.get_assessment(w.enterprise_1, d).assessment.status == "completed"


def test_the_enterprise_confirms_with_a_rating(app_world):
    services, w = app_world
    d = w.submitted_1
    app = open_page(w.enterprise_1, "results", assessment=d)
    button(app, "确认诊断").click().run()
    assert app.error[0].value == "对服务商的评分须为1至5的整数。"
    app.radio(key=work.key(d, "confirm", "rating")).set_value(5)
    app.text_area(key=work.key(d, "confirm", "comment")).input("诊断细致")
    button(app, "确认诊断").click().run()
    assert app.success[0].value == "已确认诊断并完成评分，谢谢！"
    view = services.get_assessment(w.enterprise_1, d)
    assert (view.assessment.status, view.confirmation.rating, view.confirmation.comment) == ("confirmed", 5, "诊断细致")


def test_after_approval_the_enterprise_records_project_progress(app_world):
    services, w = app_world
    d, project = w.approved_1, w.approved_project
    app = open_page(w.enterprise_1, "results", assessment=d)
    app.selectbox(key=work.key(d, f"s{project}", "status")).set_value("started")
    app.date_input(key=work.key(d, f"s{project}", "start_date")).set_value("2025-03-01")
    button(app, "保存进展").click().run()
    assert not app.error
    saved = next(p for p in services.get_assessment(w.enterprise_1, d).projects if p.id == project)
    assert (saved.status, saved.start_date.isoformat()) == ("started", "2025-03-01")


# --- the lists -----------------------------------------------------------------------------------------------------


def test_the_provider_starts_an_assigned_diagnosis_from_its_list(app_world, cmmm):
    services, w = app_world
    app = open_page(w.provider_a, "enterprises")
    app.selectbox(key="work_status").set_value("assigned").run()
    assert [m.value for m in app.markdown if m.value.startswith("诊断 #")] == \
        [f"诊断 #{w.assigned_1} · 首轮 · 已派单 · 已答 0/{len(cmmm.items_for('discrete'))} · 等级 — · 截止 —"]
    app.button(key=f"work_open_{w.assigned_1}").click().run()
    assert services.get_assessment(w.provider_a, w.assigned_1).assessment.status == "in_progress"
    assert app.title[0].value == "诊断问卷"
    assert app.query_params["assessment"] == str(w.assigned_1)
    app = open_page(w.provider_a, "enterprises")
    app.button(key=f"work_open_{w.returned_1}").click().run()
    assert services.get_assessment(w.provider_a, w.returned_1).assessment.status == "in_progress"
    assert app.query_params["assessment"] == str(w.returned_1)
    app = open_page(w.provider_a, "enterprises")
    app.text_input(key="work_search").input("企业2").run()
    assert app.info[0].value == "没有符合条件的企业。"


def test_the_enterprise_starts_a_self_assessment_and_a_follow_up_round(app_world):
    services, w = app_world
    app = open_page(w.enterprise_1, "assessments")
    app.button(key=f"work_follow_{w.approved_1}").click().run()  # its request waits for the bureau: refused
    assert app.error[0].value.startswith(f"该企业已有一份待派单的诊断申请（#{w.requested_1}）")
    services.move(w.admin, w.requested_1, "assign", provider_id=w.provider_a_id, expected_version=1)
    app.button(key=f"work_follow_{w.approved_1}").click().run()
    assert app.success[0].value.startswith("已提交诊断申请")
    follow_up = max(a.id for a, _ in services.list_assessments(w.enterprise_1))
    assert services.get_assessment(w.enterprise_1, follow_up).assessment.previous_id == w.approved_1
    button(app, "开始自评估").click().run()
    assert app.title[0].value == "诊断问卷"
    new = int(app.query_params["assessment"])
    view = services.get_assessment(w.enterprise_1, new)
    assert (view.assessment.kind, view.assessment.status) == ("self", "draft")
    assert app.main.radio  # ready to answer


# --- work that comes back, and finding the next thing to do --------------------------------------------------------


def walk(node):
    """The elements under ``node`` in page order."""
    children = getattr(node, "children", None)
    if children is None:
        yield node
        return
    for index in sorted(children):
        yield from walk(children[index])


def returned_with(services, w, cmmm, comment: str) -> int:
    """Enterprise 1's open request, diagnosed by provider A and returned by the bureau with ``comment``."""
    enterprise, provider, d = w.enterprise_1, w.provider_a, w.requested_1
    v = services.move(w.admin, d, "assign", expected_version=1, provider_id=w.provider_a_id)
    v = services.move(provider, d, "start", expected_version=v)
    v = services.save_answers(provider, d, all_answers(cmmm), expected_version=v)
    _, v = services.add_project(provider, d, expected_version=v, title="MES", subdomain="PO")
    v = services.move(provider, d, "submit", expected_version=v)
    v = services.move(enterprise, d, "confirm", expected_version=v, rating=4)
    services.move(w.admin, d, "return", expected_version=v, comment=comment)
    return d


def test_a_returned_diagnosis_shows_the_comment_and_opens_where_it_points(app_world, cmmm):
    services, w = app_world
    d = returned_with(services, w, cmmm, "请补充PO.3.2的证据，并复核 da.2.1。")
    app = open_page(w.provider_a, "enterprises")
    notices = [warning.value for warning in app.warning]
    assert any(n.endswith("退回修改：请补充PO.3.2的证据，并复核 da.2.1。") for n in notices), notices
    assert "意见提到的要求：DA.2.1（DA 数据）、PO.3.2（PO 生产作业）" in [c.value for c in app.caption]
    assert button(app, "继续修改").key == f"work_open_{d}"  # the returned diagnosis is the first to do

    app.button(key=f"work_open_{d}").click().run()
    assert services.get_assessment(w.provider_a, d).assessment.status == "in_progress"
    assert (app.title[0].value, app.query_params["sd"]) == ("诊断问卷", "DA")  # the first subdomain named
    assert app.warning[0].value.endswith("退回修改：请补充PO.3.2的证据，并复核 da.2.1。")
    assert "主管部门意见提到此要求" in next(m.value for m in app.markdown if m.value.startswith("**DA.2.1**"))
    app.button(key="work_named_PO").click().run()
    assert app.query_params["sd"] == "PO"
    assert app.selectbox(key="work_sd").value == "PO"
    assert app.radio(key=answer_key(d, "PO.3.2")).value == "mostly"

    # Opened again later (no subdomain in the address), the comment still leads while the work is back.
    again = open_page(w.provider_a, "interview", assessment=d)
    assert again.query_params["sd"] == "DA"
    # A comment naming no requirement still shows, and the questionnaire opens on the first unanswered subdomain.
    plain_return = w.returned_1
    app = open_page(w.provider_a, "enterprises")
    app.button(key=f"work_open_{plain_return}").click().run()
    assert app.warning[0].value.endswith("退回修改：请补充")
    assert app.query_params["sd"] == "OS"


def test_reopening_a_diagnosis_lands_on_the_first_unanswered_subdomain(app_world, cmmm):
    services, w = app_world
    d = w.diagnosis_1
    order = work.subdomain_order(cmmm)
    done = {item.id: {"code": "full"} for code in order[:3] for item in work.items_of(cmmm, "discrete", code)}
    services.save_answers(w.provider_a, d, done, expected_version=version(services, w.provider_a, d))
    app = open_page(w.provider_a, "enterprises")
    app.button(key=f"work_open_{d}").click().run()
    assert app.title[0].value == "诊断问卷"
    assert (app.query_params["sd"], app.selectbox(key="work_sd").value) == (order[3], order[3])
    assert open_page(w.provider_a, "interview", assessment=d).query_params["sd"] == order[3]


def test_a_subdomain_page_ends_with_the_previous_and_next_subdomains(app_world, cmmm):
    _, w = app_world
    d = w.diagnosis_1
    order = work.subdomain_order(cmmm)
    app = open_page(w.provider_a, "interview", assessment=d, sd=order[1])
    page = list(walk(app.main))
    last_radio = max(n for n, element in enumerate(page) if type(element).__name__ == "Radio")
    keys = {getattr(element, "key", None): n for n, element in enumerate(page)}
    assert last_radio < keys["work_previous_sd"] < keys["work_next_sd"]  # below the last requirement
    assert app.button(key="work_next_sd").label == "下一子域：DA 数据 →"
    app.button(key="work_next_sd").click().run()
    assert (app.query_params["sd"], app.selectbox(key="work_sd").value) == (order[2], order[2])
    app.button(key="work_previous_sd").click().run()
    app.button(key="work_previous_sd").click().run()
    assert app.query_params["sd"] == order[0]
    assert app.button(key="work_previous_sd").disabled
    last = open_page(w.provider_a, "interview", assessment=d, sd=order[-1])
    assert last.button(key="work_next_sd").disabled
    assert not last.button(key="work_previous_sd").disabled


def test_the_unanswered_only_view_spans_the_whole_questionnaire(app_world, cmmm):
    services, w = app_world
    d = w.diagnosis_1
    left = ["OS.1.2", "DA.3.1", "PV.4.1"]
    services.save_answers(w.provider_a, d, all_answers(cmmm, but=set(left)),
                          expected_version=version(services, w.provider_a, d))
    app = open_page(w.provider_a, "interview", assessment=d, sd="SK")
    app.toggle(key="work_unanswered").set_value(True).run()
    assert [r.key for r in app.main.radio] == [answer_key(d, item) for item in left]
    assert [h.value for h in app.subheader][-3:] == ["OS 组织战略", "DA 数据", "PV 产品服务"]
    assert "尚有 3 项要求未答，此处列出其中 3 项" in shown(app)
    app.radio(key=answer_key(d, "DA.3.1")).set_value("partly").run()
    assert services.get_assessment(w.provider_a, d).answers["DA.3.1"].code == "partly"
    assert [r.key for r in app.main.radio] == [answer_key(d, item) for item in left]  # stays, for its note
    assert not app.text_area(key=answer_key(d, "DA.3.1", "n")).disabled
    app.button(key="work_more_unanswered").click().run()
    assert [r.key for r in app.main.radio] == [answer_key(d, item) for item in ("OS.1.2", "PV.4.1")]
    app.selectbox(key="work_sd").set_value("PD").run()  # choosing a subdomain leaves the view
    assert not app.toggle(key="work_unanswered").value
    assert [r.key for r in app.main.radio] == [answer_key(d, i.id) for i in work.items_of(cmmm, "discrete", "PD")]
    # A fresh diagnosis: a batch of the first unanswered requirements, in questionnaire order.
    services.move(w.provider_a, w.assigned_1, "start", expected_version=version(services, w.provider_a, w.assigned_1))
    fresh = open_page(w.provider_a, "interview", assessment=w.assigned_1)
    fresh.toggle(key="work_unanswered").set_value(True).run()
    first = [i.id for code in work.subdomain_order(cmmm) for i in work.items_of(cmmm, "discrete", code)]
    assert [r.key for r in fresh.main.radio] == [answer_key(w.assigned_1, i) for i in first[:work.UNANSWERED_BATCH]]


def test_the_provider_list_puts_work_and_overdue_deadlines_first_with_the_contact(app_world):
    services, w = app_world
    e3 = services.create_organisation(w.admin, **enterprise_fields(3, "wuzhong"), contact_name="王芳",
                                      contact_phone="0512-6888 0000")
    late = services.request_diagnosis(w.admin, e3)
    services.move(w.admin, late, "assign", expected_version=1, provider_id=w.provider_a_id,
                  due_date=date.today() - timedelta(days=3))
    app = open_page(w.provider_a, "enterprises")
    assert [m.value for m in app.markdown if m.value.startswith("**企业")] == ["**企业3**", "**企业1**"]
    captions = [c.value for c in app.caption]
    assert "联系人：王芳 · 电话：0512-6888 0000" in captions
    assert "未登记联系人" in captions  # 企业1 has none
    assert ":red-badge[已逾期 3 天]" in [m.value for m in app.markdown]
    assert "待办 4 项，其中逾期 1 项（已排在最前）" in captions
    lines = [m.value.split(" · ")[0] for m in app.markdown if m.value.startswith("诊断 #")]
    # Overdue first, then the returned diagnosis, the other work (newest first), then what waits on others.
    assert lines == [f"诊断 #{d}" for d in (late, w.returned_1, w.assigned_1, w.diagnosis_1, w.approved_1,
                                            w.confirmed_1, w.submitted_1)]


def test_the_plan_says_what_its_gains_are_of_and_where_a_subdomain_has_no_requirement(app_world, cmmm):
    services, w = app_world
    d = w.self_1
    services.save_answers(w.enterprise_1, d, all_answers(cmmm, "partly"),
                          expected_version=version(services, w.enterprise_1, d))
    app = open_page(w.enterprise_1, "results", assessment=d)
    steps, gaps = (frame.value for frame in app.dataframe[1:3])
    gains = steps["提升（占所在等级得分）"]
    assert all(value.startswith("1级得分 +") and value.endswith(" %") for value in gains)
    assert float(gains.iloc[0].removeprefix("1级得分 +").removesuffix(" %")) > 0
    assert "以该级满分的百分比表示；某一级的得分达到满分的 80 % 即达到该级" in shown(app)
    by_subdomain = dict(zip(gaps.iloc[:, 0], gaps.iloc[:, -1], strict=True))
    assert by_subdomain["OS 组织战略"] == "1"
    assert by_subdomain["DA 数据"] == "本子域在1级没有要求"
    assert "—" not in by_subdomain.values()
    english = open_page(w.enterprise_1, "results", "en", assessment=d)
    assert english.dataframe[1].value["Gain (share of its level's score)"].iloc[0].endswith(" % of the level-1 score")
    gaps = dict(zip(english.dataframe[2].value.iloc[:, 0], english.dataframe[2].value.iloc[:, -1], strict=True))
    assert gaps["DA Data"] == "This subdomain has no requirements at level 1"


# --- language ------------------------------------------------------------------------------------------------------


def test_the_pages_speak_english(app_world, cmmm):
    _, w = app_world
    first = work.items_of(cmmm, "discrete", "OS")[0]
    app = open_page(w.provider_a, "interview", "en", assessment=w.diagnosis_1)
    assert app.title[0].value == "Questionnaire"
    assert first.text.en in shown(app)
    assert app.radio(key=answer_key(w.diagnosis_1, first.id)).options[0] == "Fully met"
    assert button(app, "Next unanswered")
    for actor, page, title, assessment in (
            (w.provider_a, "enterprises", "My enterprises", None), (w.provider_a, "results", "Results", w.submitted_1),
            (w.provider_a, "files", "Reports and templates", w.diagnosis_1),
            (w.enterprise_1, "assessments", "My assessments", None)):
        app = open_page(actor, page, "en", **({"assessment": assessment} if assessment else {}))
        assert app.title[0].value == title
        text = shown(app)
        data = ("企业1", "服务商甲", "请补充")  # names and the bureau's return comment, as typed
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in text.replace(data[0], "").replace(data[1], "")
                       .replace(data[2], "")), page


@pytest.mark.parametrize(("typed", "markdown"), [
    ("企业1", "企业1"),
    # A word joiner after the scheme: Streamlit would make a link of a bare address even once escaped.
    ("[官网](http://example.com)", "\\[官网\\](http\\:\u2060//example.com)"),
    ("**重点**项目_一期", "\\*\\*重点\\*\\*项目\\_一期"),
    ("# 标题\n- 列表\n1. 第一", "\\# 标题\n\\- 列表\n1\\. 第一"),
    ("<b>粗体</b> $x$", "\\<b\\>粗体\\</b\\> \\$x\\$"),
])
def test_user_text_in_markdown_is_shown_as_typed(typed, markdown):
    assert work.plain(typed) == markdown


def test_the_locale_files_have_the_same_keys():
    zh, en = ({*_flatten(yaml.safe_load((LOCALES / lang / "work.yaml").read_text(encoding="utf-8")))}
              for lang in ("zh", "en"))
    assert zh == en
    used = set()
    for path in [PROJECT_ROOT / "ui" / "work.py", *(PROJECT_ROOT / "ui" / "pages").glob("*.py")]:
        text = Path(path).read_text(encoding="utf-8")
        used |= {part.split('"')[0] for part in text.split('t("work.')[1:]}
    assert {f"work.{key}" for key in used} <= zh


# --- files -----------------------------------------------------------------------------------------------------------


def test_filled_templates_are_uploaded_and_imported(app_world, cmmm):
    services, w = app_world
    d = w.diagnosis_1
    view = services.get_assessment(w.provider_a, d)
    template = read_template(work.template_bytes(view, cmmm, "zh"))
    assert (template.assessment_id, template.enterprise["name"], template.answers) == (d, "企业1", {})
    assert work.report_bytes(services, w.provider_a, view, cmmm, "en")[:2] == b"PK"

    filled = build_template(cmmm, answers=all_answers(cmmm, "full"), assessment_id=d)
    app = open_page(w.provider_a, "files", assessment=d)
    assert [b.label for b in app.download_button] == ["下载诊断报告", "下载离线模板"]
    app.file_uploader[0].set_value([("survey.xlsx", filled, work.XLSX), ("broken.xlsx", b"not a workbook", work.XLSX)])
    app.run()
    button(app, "导入").click().run()
    assert not app.exception
    assert app.success[0].value == f"survey.xlsx：已导入 {len(cmmm.items_for('discrete'))} 项答案到评估 #{d}"
    assert app.markdown[-1].value == "**broken.xlsx**：未导入"
    assert app.error[0].value.startswith("broken.xlsx：不是 .xlsx 工作簿")  # in the user's language
    assert services.get_assessment(w.provider_a, d).assessment.answered == len(cmmm.items_for("discrete"))


def test_an_upload_the_actor_may_not_import_is_refused(app_world, cmmm):
    services, w = app_world
    foreign = build_template(cmmm, answers=all_answers(cmmm), assessment_id=w.diagnosis_2)
    outcomes = work.import_uploads(services, w.provider_a, [("other.xlsx", foreign)])
    assert [(o.name, o.error.code, o.error.messages) for o in outcomes] == \
        [("other.xlsx", "not_allowed", [f"not allowed: assessment {w.diagnosis_2}"])]
    assert services.get_assessment(w.provider_b, w.diagnosis_2).answers == {}
