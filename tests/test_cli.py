"""The command-line contract of README "Command line", run as a user runs it: a real subprocess."""

import json
import subprocess
import sys

import pytest

from assessment import PROJECT_ROOT
from assessment.questionnaire import published
from tests.conftest import MINI


def run(*args, ok=True):
    proc = subprocess.run([sys.executable, "-m", "assessment", *map(str, args)], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert (proc.returncode == 0) == ok, (proc.returncode, proc.stdout, proc.stderr)
    return proc


def write_set(path, cmmm, profile="discrete", code="mostly", **changes):
    answers = {item.id: code for item in cmmm.items_for(profile)}
    answers.update(changes.pop("answers", {}))
    path.write_text(json.dumps({"questionnaire": "cmmm-2020", "profile": profile, "answers": answers, **changes},
                               ensure_ascii=False), encoding="utf-8")
    return path


def test_questionnaires_lists_id_version_and_title(cmmm):
    expected = f"{cmmm.id}\t{cmmm.version}\t{cmmm.title.zh} / {cmmm.title.en}"
    listed = run("questionnaires").stdout.splitlines()
    assert listed[-1] == expected  # every published version, the newest last
    assert [line.split("\t")[:2] for line in listed] == [[p.id, p.version] for p in published()]


def test_questionnaire_show_json(cmmm):
    shown = json.loads(run("questionnaire", "show", "cmmm-2020", "--json").stdout)
    assert {"id", "version", "sha256", "scale", "levels", "elements", "domains", "subdomains", "items", "rule"} <= set(
        shown)
    assert (shown["id"], shown["version"], shown["sha256"]) == (cmmm.id, cmmm.version, cmmm.sha256)
    assert shown["scale"] == {"full": 1.0, "mostly": 0.8, "partly": 0.5, "none": 0.0, "na": None}
    assert shown["rule"]["threshold"] == 0.8
    assert {b["level"]: b["min_score"] for b in shown["rule"]["bands"]} == {5: 4.8, 4: 3.8, 3: 2.8, 2: 1.8, 1: 0.8}
    assert shown["elements"][0] == {"code": "PE", "name": {"zh": "人员", "en": "Personnel"}, "parent": None,
                                    "weights": {p: cmmm.weight_profiles[p].elements.weights["PE"]
                                                for p in ("discrete", "process")}}
    assert shown["weights_official"] == {"discrete": False, "process": False}
    assert {d["code"]: d["parent"] for d in shown["subdomains"]}["PP"] == "DES"
    item = shown["items"][0]
    assert set(item) == {"id", "subdomain", "level", "text", "guidance", "applies_to"}
    assert set(item["text"]) == set(item["guidance"]) == {"zh", "en"}
    assert len(shown["items"]) == len(cmmm.items)
    # --version shows an older version as it was published: 1.0.0 weighs the four elements equally when process.
    old = json.loads(run("questionnaire", "show", "cmmm-2020", "--version", "1.0.0", "--json").stdout)
    assert old["version"] == "1.0.0"
    assert old["elements"][0]["weights"] == {"discrete": 0.06, "process": 0.25}
    assert len(old["items"]) == 278


def test_questionnaire_show_unknown_id():
    assert "unknown questionnaire 'nope'" in run("questionnaire", "show", "nope", ok=False).stderr


def test_validate(tmp_path):
    assert "valid" in run("validate", MINI).stdout
    bad = tmp_path / "bad.yaml"
    text = MINI.read_text(encoding="utf-8")
    text = text.replace("id: PA.1.2,", "id: PA.1.1,").replace("subdomain: PC, level: 5", "subdomain: QQ, level: 5")
    bad.write_text(text, encoding="utf-8")
    proc = run("validate", bad, ok=False)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{bad}:")
    assert "duplicate id 'PA.1.1'" in lines[0]
    assert "items[29] (PC.5.1).subdomain: unknown subdomain 'QQ'" in lines[1]


def test_score_json_for_a_set_and_for_lines(tmp_path, cmmm):
    one = write_set(tmp_path / "one.json", cmmm)
    result = json.loads(run("score", one, "--json").stdout)
    assert set(result) >= {"questionnaire", "version", "sha256", "profile", "score", "level", "level_name",
                           "level_scores", "met", "completeness", "subdomains", "plan"}
    assert (result["score"], result["level"], result["level_name"]) == (
        pytest.approx(4.0), 4, {"zh": "优化级", "en": "Optimised"})
    assert result["met"] == [True] * 5
    assert result["completeness"]["answered"] == result["completeness"]["applicable"] == len(
        cmmm.items_for("discrete"))
    assert result["subdomains"]["PV"] == {"maturity": pytest.approx(4.0),
                                          "levels": {"3": pytest.approx(0.8), "4": pytest.approx(0.8),
                                                     "5": pytest.approx(0.8)}}
    # The plan to level 5: every level up to 5 is met at 0.8 but S = 4.0 < 4.8, so raises are needed.
    assert result["plan"]
    assert all(item in cmmm.item_by_id for item in result["plan"])

    lines = tmp_path / "many.jsonl"
    sets = [json.loads(write_set(tmp_path / f"{code}.json", cmmm, "process", code).read_text()) for code in
            ("full", "partly", "none")]
    lines.write_text("\n".join(json.dumps(s) for s in sets) + "\n\n", encoding="utf-8")
    results = [json.loads(row) for row in run("score", lines, "--json").stdout.splitlines()]
    assert [(r["level"], r["profile"]) for r in results] == [(5, "process"), (0, "process"), (0, "process")]
    assert results[0]["plan"] == []


def test_score_readable_summary(tmp_path, cmmm):
    out = run("score", write_set(tmp_path / "a.json", cmmm)).stdout
    assert "level 4 优化级 / Optimised, S = 4.000" in out
    applicable = len(cmmm.items_for("discrete"))
    assert f"answered {applicable} of {applicable}" in out


def test_score_incomplete_needs_the_flag_and_is_provisional(tmp_path, cmmm):
    path = write_set(tmp_path / "a.json", cmmm)
    data = json.loads(path.read_text())
    del data["answers"]["OS.1.1"]
    path.write_text(json.dumps(data))
    proc = run("score", path, ok=False)
    applicable = len(cmmm.items_for("discrete"))
    assert proc.stderr.strip() == (f"{path}: answers: 1 of {applicable} items unanswered (OS.1.1); "
                                   "score an incomplete set only as provisional")
    result = json.loads(run("score", path, "--json", "--allow-incomplete").stdout)
    assert result["provisional"] is True
    assert result["completeness"] == {"answered": applicable - 1, "applicable": applicable,
                                      "ratio": pytest.approx((applicable - 1) / applicable)}


@pytest.mark.parametrize(("changes", "expected"), [
    ({"answers": {"XX.9.9": "full"}}, "{path}: answers.XX.9.9: unknown item for questionnaire cmmm-2020 {newest}"),
    ({"answers": {"OS.1.1": "大部分"}},
     "{path}: answers.OS.1.1: '大部分' is not one of full, mostly, partly, none, na"),
    ({"questionnaire": "cmmm-1999"}, "{path}: questionnaire: unknown questionnaire 'cmmm-1999'; available: cmmm-2020"),
    ({"version": "0.9"}, "{path}: version: cmmm-2020 has no version '0.9'; available: {versions}"),
    ({"profile": "mixed"}, "{path}: answers: unknown profile 'mixed'; expected one of discrete, process"),
    ({"colour": "red"}, "{path}: colour: unknown field"),
])
def test_score_bad_input_exits_1_with_one_located_line(tmp_path, cmmm, changes, expected):
    path = write_set(tmp_path / "bad.json", cmmm, **changes)
    proc = run("score", path, "--json", ok=False)
    assert proc.returncode == 1
    assert proc.stdout == ""
    versions = [p.version for p in published() if p.id == "cmmm-2020"]  # the newest last
    assert proc.stderr.splitlines() == [expected.format(path=path, newest=cmmm.version, versions=", ".join(versions))]


def test_score_names_the_line_of_a_bad_set_and_prints_nothing(tmp_path, cmmm):
    good = write_set(tmp_path / "good.json", cmmm).read_text()
    lines = tmp_path / "sets.jsonl"
    lines.write_text(good + "\n" + "{not json\n" + good + "\n", encoding="utf-8")
    proc = run("score", lines, "--json", ok=False)
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"{lines}:2: not valid JSON")


def test_score_refuses_other_file_kinds(tmp_path):
    path = tmp_path / "answers.csv"
    path.write_text("a,b\n")
    assert run("score", path, ok=False).stderr.strip() == f"{path}: answer files are .json or .jsonl"
