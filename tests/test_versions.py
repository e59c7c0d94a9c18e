"""Every published version of a questionnaire stays loadable (issue #12 §3): one folder per questionnaire, one
file per version; the newest by default; an assessment keeps the version it was made with."""

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from assessment import PROJECT_ROOT, QUESTIONNAIRES_DIR
from assessment.accounts import Actor
from assessment.errors import QuestionnaireError
from assessment.inputs import InputError
from assessment.questionnaire import by_id, pinned, published, version_key
from assessment.scoring import score
from assessment.services import Services, questionnaire_of
from reports.template import build_template
from tests.conftest import MINI

CMMM_1 = QUESTIONNAIRES_DIR / "cmmm-2020" / "1.0.0.yaml"
# Items 2.0.0 drops, and the one it words anew: a result on 1.0.0 depends on them, one on 2.0.0 cannot.
DROPPED = ("OS.1.1", "SK.2.1", "EQ.3.1")
REWORDED = "OS.1.2"


def second_version(directory, version="2.0.0"):
    """A questionnaires folder holding the shipped cmmm-2020 1.0.0 unchanged and a ``version`` made from it with
    three items dropped and one worded anew: a stand-in whose differences from 1.0.0 are few and known (the shipped
    2.0.0 rewrites the content, #12 §2)."""
    folder = directory / "cmmm-2020"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(CMMM_1, folder / "1.0.0.yaml")
    data = yaml.safe_load(CMMM_1.read_text(encoding="utf-8"))
    data["version"] = version
    data["items"] = [item for item in data["items"] if item["id"] not in DROPPED]
    for item in data["items"]:
        if item["id"] == REWORDED:
            item["text"] = {"zh": "企业制定了智能制造发展规划（新版）。",
                            "en": "The plant has a smart-manufacturing plan (new)."}
    (folder / f"{version}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                                            encoding="utf-8")
    return directory


@pytest.fixture
def two_versions(tmp_path, monkeypatch):
    """The app's questionnaires folder is one with cmmm-2020 1.0.0 and 2.0.0 for the whole test."""
    directory = second_version(tmp_path / "questionnaires")
    monkeypatch.setenv("ASSESSMENT_QUESTIONNAIRES", str(directory))
    return directory


def mini_versions(directory, *versions):
    folder = directory / "mini"
    folder.mkdir(parents=True, exist_ok=True)
    for version in versions:
        text = MINI.read_text(encoding="utf-8").replace('version: "0.1"', f'version: "{version}"')
        (folder / f"{version}.yaml").write_text(text, encoding="utf-8")
    return folder


# --- the layout and the loader ---------------------------------------------------------------------------------


# What the assessments made before versions were kept side by side pinned (tests/data/release-7239b6c.db).
CMMM_1_SHA256 = "4c6ebee14e30fb14d692d4a8e93d0e12967fa924d0445cbcf6037bf7b57f7103"


def test_the_shipped_1_0_0_is_in_its_own_folder_with_its_content_unchanged():
    assert ("cmmm-2020", "1.0.0", CMMM_1) in [(p.id, p.version, p.path) for p in published()]
    assert by_id("cmmm-2020", "1.0.0").sha256 == CMMM_1_SHA256
    assert all(p.path.parent.parent == QUESTIONNAIRES_DIR for p in published())


def test_draft_parts_below_a_version_folder_are_not_versions(tmp_path):
    parts = mini_versions(tmp_path, "1.0.0") / "parts-2.0.0"
    parts.mkdir()
    (parts / "PA.yaml").write_text("items: [not, a, questionnaire]\n", encoding="utf-8")
    (tmp_path / "loose.yaml").write_text("id: loose\n", encoding="utf-8")  # beside the folders: no version
    assert [(p.id, p.version) for p in published(tmp_path)] == [("mini", "1.0.0")]
    assert by_id("mini", directory=tmp_path).version == "1.0.0"


def test_versions_compare_as_numbers_not_text(tmp_path):
    assert version_key("10.0.0") > version_key("9.0.0") > version_key("1.10.0") > version_key("1.9.0")
    mini_versions(tmp_path, "9.0.0", "10.0.0")
    assert [p.version for p in published(tmp_path)] == ["9.0.0", "10.0.0"]
    assert by_id("mini", directory=tmp_path).version == "10.0.0"
    assert by_id("mini", "9.0.0", directory=tmp_path).version == "9.0.0"


def test_both_versions_load_and_score(two_versions):
    first, second = by_id("cmmm-2020", "1.0.0"), by_id("cmmm-2020", "2.0.0")
    assert by_id("cmmm-2020") == second  # the newest by default
    assert first.sha256 == by_id("cmmm-2020", "1.0.0", directory=QUESTIONNAIRES_DIR).sha256
    assert len(first.items) - len(second.items) == len(DROPPED)
    for q in (first, second):
        result = score(q, {item.id: "mostly" for item in q.items_for("discrete")}, "discrete")
        assert (result.version, result.level, round(result.score, 9)) == (q.version, 4, 4.0)


def test_an_unknown_version_is_refused_naming_those_available(two_versions):
    with pytest.raises(QuestionnaireError) as refused:
        by_id("cmmm-2020", "3.0.0")
    assert refused.value.messages == ["cmmm-2020 has no version '3.0.0'; available: 1.0.0, 2.0.0"]
    assert (refused.value.code, refused.value.params["versions"]) == ("questionnaire_version_unknown",
                                                                      "1.0.0, 2.0.0")


def test_a_file_whose_id_or_version_differs_from_its_place_is_refused(tmp_path):
    folder = mini_versions(tmp_path, "1.0.0")
    (folder / "1.0.0.yaml").rename(folder / "1.1.0.yaml")
    with pytest.raises(QuestionnaireError) as refused:
        by_id("mini", directory=tmp_path)
    line = next(n for n, text in enumerate(MINI.read_text(encoding="utf-8").splitlines(), 1)
                if text.startswith("version:"))
    assert refused.value.messages == [f"{folder / '1.1.0.yaml'}:{line}: version: '1.0.0' differs from the file "
                                      "name 1.1.0 (a version's file is named after it)"]
    (folder / "1.1.0.yaml").rename(tmp_path / "mini" / "1.0.0.yaml")
    shutil.move(folder, tmp_path / "other")
    with pytest.raises(QuestionnaireError, match=r"1\.0\.0\.yaml:\d+: id: 'mini' differs from the folder name other"):
        by_id("other", directory=tmp_path)


def test_a_pinned_version_that_is_missing_or_changed_is_refused(two_versions):
    second = by_id("cmmm-2020", "2.0.0")
    assert pinned("cmmm-2020", "2.0.0", second.sha256) == second
    with pytest.raises(QuestionnaireError) as gone:
        pinned("cmmm-2020", "1.5.0", second.sha256)
    assert gone.value.code == "questionnaire_gone"
    with pytest.raises(QuestionnaireError) as changed:
        pinned("cmmm-2020", "2.0.0", "0" * 64)
    assert changed.value.code == "questionnaire_altered"
    assert "its content differs from what was used" in changed.value.messages[0]


# --- the command line -----------------------------------------------------------------------------------------


def run(*args, directory=None, ok=True):
    env = {k: v for k, v in __import__("os").environ.items() if k != "ASSESSMENT_QUESTIONNAIRES"}
    if directory is not None:
        env["ASSESSMENT_QUESTIONNAIRES"] = str(directory)
    proc = subprocess.run([sys.executable, "-m", "assessment", *map(str, args)], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert (proc.returncode == 0) == ok, (proc.returncode, proc.stdout, proc.stderr)
    return proc


def test_the_command_line_lists_shows_and_scores_every_version(tmp_path):
    directory = second_version(tmp_path / "questionnaires")
    first, second = by_id("cmmm-2020", "1.0.0", directory=directory), by_id("cmmm-2020", directory=directory)
    title = f"{first.title.zh} / {first.title.en}"
    assert run("questionnaires", directory=directory).stdout.splitlines() == [
        f"cmmm-2020\t1.0.0\t{title}", f"cmmm-2020\t2.0.0\t{title}"]

    newest = json.loads(run("questionnaire", "show", "cmmm-2020", "--json", directory=directory).stdout)
    old = json.loads(run("questionnaire", "show", "cmmm-2020", "--version", "1.0.0", "--json",
                         directory=directory).stdout)
    assert (newest["version"], newest["sha256"], old["version"], old["sha256"]) == (
        "2.0.0", second.sha256, "1.0.0", first.sha256)
    unknown = run("questionnaire", "show", "cmmm-2020", "--version", "3.0.0", directory=directory, ok=False)
    assert unknown.stderr.strip() == "cmmm-2020 has no version '3.0.0'; available: 1.0.0, 2.0.0"

    answers = {item.id: "mostly" for item in first.items_for("discrete")}
    pinned_set = tmp_path / "old.json"
    pinned_set.write_text(json.dumps({"questionnaire": "cmmm-2020", "version": "1.0.0", "profile": "discrete",
                                      "answers": answers}), encoding="utf-8")
    scored = json.loads(run("score", pinned_set, "--json", directory=directory).stdout)
    assert (scored["version"], scored["sha256"], scored["level"]) == ("1.0.0", first.sha256, 4)
    # Without "version" the newest scores it: the items 2.0.0 dropped are not its requirements.
    unpinned = tmp_path / "new.json"
    unpinned.write_text(json.dumps({"questionnaire": "cmmm-2020", "profile": "discrete", "answers": answers}),
                        encoding="utf-8")
    refused = run("score", unpinned, directory=directory, ok=False).stderr
    assert "OS.1.1" in refused
    assert "cmmm-2020 2.0.0" in refused
    both = tmp_path / "both.jsonl"
    both.write_text(pinned_set.read_text(encoding="utf-8") + "\n" + json.dumps(
        {"questionnaire": "cmmm-2020", "version": "2.0.0", "profile": "discrete",
         "answers": {item.id: "full" for item in second.items_for("discrete")}}) + "\n", encoding="utf-8")
    lines = [json.loads(line) for line in run("score", both, "--json", directory=directory).stdout.splitlines()]
    assert [(r["version"], r["level"]) for r in lines] == [("1.0.0", 4), ("2.0.0", 5)]
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"questionnaire": "cmmm-2020", "version": "3.0.0", "profile": "discrete",
                                 "answers": answers}), encoding="utf-8")
    assert run("score", wrong, directory=directory, ok=False).stderr.strip() == (
        f"{wrong}: version: cmmm-2020 has no version '3.0.0'; available: 1.0.0, 2.0.0")


def test_the_template_of_a_version(two_versions, tmp_path):
    from reports.template import read_template

    directory = two_versions
    for args, version in (((), "2.0.0"), (("--version", "1.0.0"), "1.0.0")):
        out = tmp_path / f"{version}.xlsx"
        run("template", "cmmm-2020", "--out", out, *args, directory=directory)
        assert read_template(out.read_bytes()).version == version
    refused = run("template", "cmmm-2020", "--version", "0.9", "--out", tmp_path / "x.xlsx", directory=directory,
                  ok=False)
    assert refused.stderr.strip() == "cmmm-2020 has no version '0.9'; available: 1.0.0, 2.0.0"


# --- assessments keep their version -------------------------------------------------------------------------------


def only_first_version(tmp_path, monkeypatch):
    """The app's questionnaires folder holds 1.0.0 alone; ``publish()`` adds 2.0.0 to it later."""
    directory = tmp_path / "questionnaires"
    (directory / "cmmm-2020").mkdir(parents=True)
    shutil.copy(CMMM_1, directory / "cmmm-2020" / "1.0.0.yaml")
    monkeypatch.setenv("ASSESSMENT_QUESTIONNAIRES", str(directory))
    return directory, lambda: second_version(tmp_path / "staging") and shutil.copy(
        tmp_path / "staging" / "cmmm-2020" / "2.0.0.yaml", directory / "cmmm-2020" / "2.0.0.yaml")


def diagnosis_in_progress(services):
    """A bureau, a provider and an enterprise with a diagnosis the provider is answering: (the bureau's admin, the
    provider's user, the diagnosis, its version)."""
    from tests.conftest import PASSWORD, enterprise_fields

    admin = services.set_up("苏州市工业和信息化局", "admin", "管理员", PASSWORD)
    provider_org = services.create_organisation(admin, kind="provider", name="服务商甲")
    enterprise = services.create_organisation(admin, **enterprise_fields(1, "gusu"))
    user = services.create_user(admin, "provider", "张工", PASSWORD, "provider_user", provider_org)
    provider = Actor(user, "provider", "provider_user", provider_org, None, display_name="张工")
    diagnosis = services.request_diagnosis(admin, enterprise)
    version = services.move(admin, diagnosis, "assign", expected_version=1, provider_id=provider_org)
    version = services.move(provider, diagnosis, "start", expected_version=version)
    return admin, provider, diagnosis, version


def test_an_assessment_made_on_1_0_0_stays_on_it_after_2_0_0_is_published(store, tmp_path, monkeypatch):
    from reports import report
    from reports.export import answer_rows
    from reports.template import read_template
    from ui import work

    _, publish = only_first_version(tmp_path, monkeypatch)
    services = Services(store)
    admin, provider, old, version = diagnosis_in_progress(services)
    first = by_id("cmmm-2020")
    for item in first.items_for("discrete"):
        version = services.save_answer(provider, old, item.id, "mostly", expected_version=version)
    before = services.get_assessment(provider, old).assessment

    publish()
    second = by_id("cmmm-2020")
    assert second.version == "2.0.0"
    # Answered, rescored, reported, templated and exported with 1.0.0: items 2.0.0 dropped are still its own.
    version = services.save_answer(provider, old, DROPPED[0], "full", expected_version=version)
    view = services.get_assessment(provider, old)
    a = view.assessment
    assert (a.questionnaire_version, a.questionnaire_sha256, a.result["version"]) == ("1.0.0", first.sha256, "1.0.0")
    assert a.score > before.score
    assert report.from_view(view, questionnaire_of(a)).questionnaire == first
    template = read_template(work.template_bytes(view, questionnaire_of(a), "zh", with_answers=True))
    assert (template.version, template.answers[DROPPED[0]]["code"]) == ("1.0.0", "full")
    services.import_filled(provider, **template.import_arguments())
    exported = {row[7]: row[8:10] for row in answer_rows(store, admin) if row[0] == old}
    assert exported[DROPPED[0]] == ("OS", 1)
    # A template of the other version is not read into it.
    other = read_template(build_template(second, profile="discrete", assessment_id=old,
                                         answers={item.id: "full" for item in second.items_for("discrete")}))
    with pytest.raises(InputError) as refused:
        services.import_filled(provider, **other.import_arguments(), overwrite=True)
    assert refused.value.code == "template.version_mismatch"
    assert "the template is of cmmm-2020 2.0.0, assessment" in refused.value.messages[0]

    # A new assessment starts on the newest version: the follow-up round of the old one is one.
    new = services.create_follow_up(admin, old)
    assert services.get_assessment(admin, new).assessment.questionnaire_version == "2.0.0"
    assert services.get_assessment(admin, old).assessment.questionnaire_version == "1.0.0"


def test_a_pinned_version_gone_or_changed_is_refused_in_both_languages(store, tmp_path, monkeypatch):
    from ui.session import said

    directory, publish = only_first_version(tmp_path, monkeypatch)
    services = Services(store)
    _, provider, diagnosis, version = diagnosis_in_progress(services)
    publish()
    pinned_file = directory / "cmmm-2020" / "1.0.0.yaml"
    edited = yaml.safe_load(pinned_file.read_text(encoding="utf-8"))
    edited["items"][0]["guidance"]["en"] += " (edited after publication)"
    pinned_file.write_text(yaml.safe_dump(edited, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(QuestionnaireError) as changed:
        services.save_answer(provider, diagnosis, "OS.1.2", "full", expected_version=version)
    assert changed.value.code == "questionnaire_altered"
    assert changed.value.messages[0].startswith(f"assessment {diagnosis}: cmmm-2020 1.0.0: its content differs")
    assert "内容此后被改动" in said(changed.value, "zh")
    pinned_file.unlink()
    with pytest.raises(QuestionnaireError) as gone:
        services.save_answer(provider, diagnosis, "OS.1.2", "full", expected_version=version)
    assert gone.value.messages == [f"assessment {diagnosis}: cmmm-2020 1.0.0 is no longer installed (installed: "
                                   "2.0.0); restore its file to use what was made with it"]
    assert said(gone.value, "zh") == (f"评估 #{diagnosis} 使用问卷 cmmm-2020 1.0.0，该版本已不在系统中"
                                      "（已安装：2.0.0）；恢复该版本的文件之前无法使用。")
    assert said(gone.value, "en").startswith(f"Assessment #{diagnosis} is on cmmm-2020 1.0.0, which is no longer")


# --- a database made by the previous release ----------------------------------------------------------------------

RELEASE_DB = Path(__file__).parent / "data" / "release-7239b6c.db"  # how it was made: tests/data/README.md


def test_a_database_of_the_previous_release_opens_migrates_and_keeps_its_results(tmp_path, two_versions):
    import openpyxl

    from assessment.db import Store, newest_revision
    from assessment.models import Maturity
    from reports import report
    from ui.work import stored_result

    copy = tmp_path / "release.db"
    shutil.copy(RELEASE_DB, copy)
    store = Store(f"sqlite:///{copy}", migrate=False)
    try:
        assert (store.migrate(), store.revision()) == ("0007", newest_revision())
        services, operator = Services(store), Actor.operator()
        rows = services.list_assessments(operator)
        assert len(rows) == 5
        assert any(a.previous_id for a, _ in rows)  # a follow-up round, linked to its baseline
        with store.read() as db:
            maturities = {(m.assessment_id, m.subdomain): m.value for m in db.scalars(select(Maturity))}
        for a, _ in rows:
            view = services.get_assessment(operator, a.id)
            q = questionnaire_of(a)
            assert (q.version, q.sha256) == ("1.0.0", by_id("cmmm-2020", "1.0.0").sha256)
            rescored = score(q, {item: row.code for item, row in view.answers.items()}, a.profile)
            assert (rescored.level, rescored.score) == (a.level, pytest.approx(a.score, abs=1e-9))
            assert stored_result(a).level == a.level  # the stored result of the old release still reads
            assert {code: sub.maturity for code, sub in rescored.subdomains.items()} == pytest.approx(
                {code: value for (owner, code), value in maturities.items() if owner == a.id}, abs=1e-9)
            assert report.build(report.from_view(view, q)).sheetnames  # its report is made on 1.0.0
        # The report of its follow-up round compares it with the baseline, both on 1.0.0: no note on versions.
        [(follow_up, baseline)] = [(a.id, a.previous_id) for a, _ in rows if a.previous_id]
        out = tmp_path / "follow-up.xlsx"
        run("report", "--assessment", follow_up, "--db", f"sqlite:///{copy}", "--out", out, "--lang", "en",
            directory=two_versions)
        texts = [str(cell.value) for row in openpyxl.load_workbook(out).worksheets[1].iter_rows() for cell in row
                 if cell.value is not None]
        assert f"Compared with the previous round (#{baseline})" in texts
        assert not any("different questionnaire versions" in text for text in texts)
        # The store takes new work: a follow-up round starts on the newest version.
        follow_up = services.create_follow_up(operator, rows[0][0].id)
        assert services.get_assessment(operator, follow_up).assessment.questionnaire_version == "2.0.0"
    finally:
        store.dispose()


# --- a follow-up round compared with its predecessor across versions ----------------------------------------------


def test_rounds_on_different_versions_compare_by_level_score_and_subdomain_maturity(two_versions):
    from assessment.rounds import compare_rounds

    first, second = by_id("cmmm-2020", "1.0.0"), by_id("cmmm-2020", "2.0.0")
    before = score(first, {item.id: "mostly" for item in first.items_for("discrete")}, "discrete")
    after = score(second, {item.id: "full" for item in second.items_for("discrete")}, "discrete")
    # A subdomain the later version no longer has is compared as far as it can be: before only.
    after = after.model_copy(update={"subdomains": {k: v for k, v in after.subdomains.items() if k != "PV"}})
    compared = compare_rounds(7, before, after)
    assert (compared.previous_id, compared.previous_version, compared.version, compared.same_version) == (
        7, "1.0.0", "2.0.0", False)
    assert (compared.level_before, compared.level_after) == (4, 5)
    assert (compared.score_before, compared.score_after) == (pytest.approx(4.0), pytest.approx(5.0))
    changes = {change.subdomain: change for change in compared.maturities}
    assert set(changes) == set(before.subdomains)
    assert (changes["OS"].before, changes["OS"].after, changes["OS"].change) == (
        pytest.approx(4.0), pytest.approx(5.0), pytest.approx(1.0))
    assert (changes["PV"].after, changes["PV"].change) == (None, None)
    assert compare_rounds(7, before, before).same_version


def test_a_follow_up_on_a_newer_version_is_compared_and_the_report_says_the_versions_differ(store, tmp_path,
                                                                                            monkeypatch):
    import openpyxl

    from reports import report

    _, publish = only_first_version(tmp_path, monkeypatch)
    services = Services(store)
    admin, provider, baseline, version = diagnosis_in_progress(services)
    first = by_id("cmmm-2020")
    services.save_answers(provider, baseline, {item.id: {"code": "partly"} for item in first.items_for("discrete")},
                          expected_version=version)
    assert services.previous_round(admin, baseline) is None  # a baseline has nothing to compare with
    publish()
    follow_up = services.create_follow_up(admin, baseline)
    version = services.move(admin, follow_up, "assign", expected_version=1, provider_id=provider.organisation_id)
    version = services.move(provider, follow_up, "start", expected_version=version)
    assert services.previous_round(provider, follow_up) is None  # not scored yet
    second = by_id("cmmm-2020")
    services.save_answers(provider, follow_up, {item.id: {"code": "mostly"} for item in second.items_for("discrete")},
                          expected_version=version)

    compared = services.previous_round(provider, follow_up)
    assert (compared.previous_id, compared.previous_version, compared.version) == (baseline, "1.0.0", "2.0.0")
    assert (compared.level_before, compared.level_after) == (0, 4)
    view = services.get_assessment(provider, follow_up)
    for lang, says in (("zh", "两轮使用的问卷版本不同"),
                       ("en", "The two rounds used different questionnaire versions")):
        data = report.from_view(view, questionnaire_of(view.assessment), follow_up=compared)
        summary = openpyxl.load_workbook(io.BytesIO(report.write(data, lang=lang))).worksheets[1]
        texts = [str(cell.value) for row in summary.iter_rows() for cell in row if cell.value is not None]
        note = next(text for text in texts if says in text)
        assert "1.0.0" in note
        assert "2.0.0" in note
        assert f"#{baseline}" in next(text for text in texts if text.startswith(report.LABELS["rounds"][lang]))


def test_the_results_page_compares_a_follow_up_with_the_round_before_across_versions(databases, tmp_path,
                                                                                     monkeypatch):
    from assessment.db import Store
    from tests.test_app_work import open_page, shown

    # A baseline answered on 1.0.0 while it was the only version, a follow-up on the shipped 2.0.0 published since.
    directory, _ = only_first_version(tmp_path, monkeypatch)
    url = databases.new("sqlite")
    monkeypatch.setenv("ASSESSMENT_DB_URL", url)
    store = Store(url)
    try:
        services = Services(store)
        admin, provider, baseline, version = diagnosis_in_progress(services)
        first = by_id("cmmm-2020")
        services.save_answers(provider, baseline, {item.id: {"code": "mostly"} for item in
                                                   first.items_for("discrete")}, expected_version=version)
        shutil.copy(QUESTIONNAIRES_DIR / "cmmm-2020" / "2.0.0.yaml", directory / "cmmm-2020" / "2.0.0.yaml")
        follow_up = services.create_follow_up(admin, baseline)
        version = services.move(admin, follow_up, "assign", expected_version=1,
                                provider_id=provider.organisation_id)
        version = services.move(provider, follow_up, "start", expected_version=version)
        second = by_id("cmmm-2020")
        assert (first.version, second.version) == ("1.0.0", "2.0.0")
        services.save_answers(provider, follow_up, {item.id: {"code": "full"} for item in
                                                    second.items_for("discrete")}, expected_version=version)

        for lang, words in (("zh", ("与上一轮比较",
                                    "两轮使用的问卷版本不同（上一轮 cmmm-2020 1.0.0，本轮 cmmm-2020 2.0.0）")),
                            ("en", ("Compared with the previous round", "The two rounds used different "
                                    "questionnaire versions (previous cmmm-2020 1.0.0, this cmmm-2020 2.0.0)"))):
            app = open_page(provider, "results", lang, assessment=follow_up)
            assert all(word in shown(app) for word in words), shown(app)
            compared = next(frame for frame in app.dataframe if len(frame.value) == 2 + 20).value
            assert list(compared.iloc[0, 1:]) == ["4", "5", "+1"]  # level: all mostly before, all full now
        # A first round shows no comparison.
        assert "与上一轮比较" not in shown(open_page(provider, "results", assessment=baseline))
    finally:
        store.dispose()


def test_the_listing_names_a_misplaced_version_file_with_its_line(tmp_path):
    folder = mini_versions(tmp_path, "1.0.0", "2.0.0")
    (folder / "2.0.0.yaml").rename(folder / "3.0.0.yaml")  # says 2.0.0 inside
    listed = run("questionnaires", directory=tmp_path)
    assert listed.stdout.splitlines() == ["mini\t1.0.0\t小问卷 / Mini questionnaire"]
    assert listed.stderr.splitlines() == [f"{folder / '3.0.0.yaml'}:5: version: '2.0.0' differs from the file name "
                                          "3.0.0 (a version's file is named after it)"]


def test_a_blank_template_of_the_older_version_starts_a_self_assessment_on_that_version(store, tmp_path, monkeypatch):
    from reports.template import read_template
    from tests.test_import import ENTERPRISE

    _, publish = only_first_version(tmp_path, monkeypatch)
    first = by_id("cmmm-2020")
    blank = build_template(first, enterprise=ENTERPRISE,
                           answers={item.id: "partly" for item in first.items_for("discrete")})
    publish()  # the interviewer filled it in while 2.0.0 was published: the answers are still 1.0.0's
    services = Services(store)
    services.set_up("苏州市工业和信息化局", "admin", "管理员", "correct horse 42")
    assessment_id, new = services.import_filled(Actor.operator(), **read_template(blank).import_arguments())
    a = services.get_assessment(Actor.operator(), assessment_id).assessment
    assert (new, a.questionnaire_version, a.result["version"], a.answered) == (
        True, "1.0.0", "1.0.0", len(first.items_for("discrete")))
