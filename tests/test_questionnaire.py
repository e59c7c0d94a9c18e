"""The questionnaire loader: the shipped CMMM file, and every kind of bad file with its located message."""

import copy
import re
from collections import Counter

import pytest
import yaml

from assessment import QUESTIONNAIRES_DIR
from assessment.errors import QuestionnaireError
from assessment.questionnaire import by_id, load, parse
from tests.conftest import MINI, RUBRIC, RUBRIC_ITEMS

BASE = yaml.safe_load(MINI.read_text(encoding="utf-8"))


# --- the CMMM questionnaire --------------------------------------------------------------------------------


def test_cmmm_has_the_full_hierarchy(cmmm):
    assert [e.code for e in cmmm.elements] == ["PE", "TE", "RE", "MA"]
    assert len(cmmm.domains) == 12
    assert [s.code for s in cmmm.subdomains] == [
        "OS", "SK", "DA", "IN", "IS", "EQ", "NW", "PD", "PP", "PU", "SC", "PO", "EM", "WD", "SE", "EN", "LO", "SA",
        "CS", "PV"]
    assert sorted(level.number for level in cmmm.levels) == [1, 2, 3, 4, 5]
    assert len(cmmm.items) >= 180
    assert cmmm.weight_profiles["discrete"].elements.weights == {"PE": 0.06, "TE": 0.11, "RE": 0.06, "MA": 0.77}


@pytest.mark.parametrize(("version", "smallest", "largest"), [("1.0.0", 2, 4), ("2.0.0", 2, 6)])
@pytest.mark.parametrize("profile", ["discrete", "process"])
def test_cmmm_cells_hold_the_number_of_items_each_version_allows(profile, version, smallest, largest):
    # 1.0.0 asks two to four requirements per cell; 2.0.0 sizes cells as the content needs, two to six (#12 §2).
    q = by_id("cmmm-2020", version)
    cells = Counter((item.subdomain, item.level) for item in q.items_for(profile))
    assert all(smallest <= count <= largest for count in cells.values()), {
        c: n for c, n in cells.items() if not smallest <= n <= largest}
    # Every level is asked of most subdomains; applicability is data (the items), not code.
    for level in range(1, 6):
        assert sum(1 for (_, n) in cells if n == level) >= 14


def test_cmmm_items_are_bilingual_and_carry_guidance(cmmm):
    for item in cmmm.items:
        assert item.id.startswith(f"{item.subdomain}.{item.level}.")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in item.text.zh + item.guidance.zh), item.id
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in item.text.en + item.guidance.en), item.id
        assert len(item.guidance.zh) >= 15, item.id
        assert len(item.guidance.en.split()) >= 8, item.id
    assert len({item.text.en for item in cmmm.items}) == len(cmmm.items)


def test_every_weight_table_names_its_source(cmmm):
    for profile in cmmm.weight_profiles.values():
        for table in (profile.elements, profile.domains, profile.subdomains):
            assert len(table.source) > 20


def test_the_hash_follows_content_not_layout():
    q = parse(MINI.read_text(encoding="utf-8"), "mini")
    reformatted = yaml.safe_dump(BASE, allow_unicode=True, sort_keys=True, default_flow_style=False)
    assert parse("# a comment\n" + reformatted, "x").sha256 == q.sha256
    changed = copy.deepcopy(BASE)
    changed["items"][0]["text"]["en"] = "another wording"
    assert parse(yaml.safe_dump(changed, allow_unicode=True), "x").sha256 != q.sha256
    assert len(q.sha256) == 64


# --- bad files ---------------------------------------------------------------------------------------------


def mutate(change):
    data = copy.deepcopy(BASE)
    change(data)
    return data


def set_path(path, value):
    def change(data):
        target = data
        for step in path[:-1]:
            target = target[step]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return change


DELETE = object()

BAD_FILES = [
    # (what is wrong, change to the good file, expected words of the message)
    ("duplicate item id", set_path(("items", 1, "id"), "PA.1.1"), "items[1] (PA.1.1).id: duplicate id 'PA.1.1'"),
    ("unknown subdomain", set_path(("items", 2, "subdomain"), "ZZ"), "items[2] (PA.1.3).subdomain: unknown subdomain"),
    ("level above 5", set_path(("items", 3, "level"), 6), "items[3] (PA.2.1).level: Input should be less than"),
    ("level below 1", set_path(("items", 3, "level"), 0), "items[3] (PA.2.1).level: Input should be greater than"),
    ("missing English text", set_path(("items", 4, "text", "en"), DELETE), "items[4] (PA.2.2).text.en: missing"),
    ("blank Chinese guidance", set_path(("items", 4, "guidance", "zh"), "  "), "(PA.2.2).guidance.zh: empty text"),
    ("missing subdomain name", set_path(("subdomains", 0, "name", "zh"), DELETE), "subdomains[0] (PA).name.zh"),
    ("element weights off", set_path(("weight_profiles", "discrete", "elements", "weights", "P"), 0.3),
     "weight_profiles.discrete.elements.weights: the weights sum to 0.9, not 1"),
    ("subdomain weights off", set_path(("weight_profiles", "process", "subdomains", "weights", "PB"), 0.5),
     "weight_profiles.process.subdomains.weights: the weights under MP sum to 1.25, not 1"),
    ("weight missing", set_path(("weight_profiles", "process", "domains", "weights", "MD"), DELETE),
     "no weight for MD"),
    ("weight of unknown node", set_path(("weight_profiles", "process", "domains", "weights", "QQ"), 0.0),
     "weights.QQ: unknown code 'QQ'"),
    ("scale value above 1", set_path(("scale", 1, "value"), 1.5), "scale[1] (mostly).value: Input should be less"),
    ("scale value too fine", set_path(("scale", 1, "value"), 0.8125),
     "scale[1] (mostly).value: 0.8125 is not a multiple of 0.001"),
    ("scale value below 0", set_path(("scale", 2, "value"), -0.5), "scale[2] (partly).value: Input should be greater"),
    ("unknown profile", set_path(("weight_profiles", "hybrid"), BASE["weight_profiles"]["process"]),
     "weight_profiles.hybrid: unknown profile 'hybrid'"),
    ("profile missing", set_path(("weight_profiles", "process"), DELETE), "profile 'process' is missing"),
    ("item for an unknown profile", set_path(("items", 0, "applies_to"), "hybrid"),
     "items[0] (PA.1.1).applies_to: Input should be 'both', 'discrete' or 'process'"),
    ("subdomain with no items", lambda d: d.update(items=[i for i in d["items"] if i["subdomain"] != "PC"]),
     "subdomains[3] (PC): subdomain PC has no items at all"),
    ("unknown domain of a subdomain", set_path(("subdomains", 1, "domain"), "XX"), "(DA1).domain: unknown domain"),
    ("duplicate code across levels", set_path(("domains", 0, "code"), "PA"), "duplicate code 'PA'"),
    ("unknown key", set_path(("items", 0, "weight"), 2), "items[0] (PA.1.1).weight: unknown key"),
    ("level missing", lambda d: d["levels"].pop(), "levels must be 1–5, each once; missing [5]"),
    ("bands out of order", set_path(("rule", "bands", 0, "min_score"), 3.0), "band of level 5 must start above"),
    ("threshold above 1", set_path(("rule", "threshold"), 1.2), "rule.threshold: Input should be less than"),
    ("items missing", set_path(("items",), DELETE), "items: missing"),
    ("version missing", set_path(("version",), DELETE), "version: missing"),
]


@pytest.mark.parametrize(("problem", "change", "expected"), BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_a_bad_file_is_refused_with_a_located_message(tmp_path, problem, change, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(mutate(change), allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(QuestionnaireError) as caught:
        load(path)
    assert any(expected in message for message in caught.value.messages), caught.value.messages
    assert all(message.startswith(f"{path}:") for message in caught.value.messages)


def test_every_problem_of_a_file_is_listed_at_once(tmp_path):
    def many(data):
        data["items"][1]["id"] = "PA.1.1"                      # duplicate id
        data["items"][2]["subdomain"] = "ZZ"                   # unknown subdomain
        del data["items"][5]["text"]["zh"]                     # missing Chinese text
        data["scale"][0]["value"] = 2                          # value outside [0, 1]
        data["weight_profiles"]["discrete"]["elements"]["weights"]["M"] = 0.5  # sum 0.9

    path = tmp_path / "many.yaml"
    path.write_text(yaml.safe_dump(mutate(many), allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(QuestionnaireError) as caught:
        load(path)
    assert len(caught.value.messages) == 5, caught.value.messages


def test_messages_carry_the_line_of_the_problem(tmp_path):
    text = MINI.read_text(encoding="utf-8").replace("{id: PB.2.1, subdomain: PB, level: 2,",
                                                     "{id: PB.2.1, subdomain: PB, level: 7,")
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if "id: PB.2.1" in row)
    with pytest.raises(QuestionnaireError) as caught:
        parse(text, "q.yaml")
    assert caught.value.messages[0].startswith(f"q.yaml:{line}: items[21] (PB.2.1).level:")


@pytest.mark.parametrize(("text", "expected"), [
    ("id: [unclosed", "q.yaml:1: not valid YAML"),
    ("- a list\n- not a mapping\n", "q.yaml:1: (top): the file must hold a mapping"),
    (MINI.read_text(encoding="utf-8") + "version: '0.2'\n", "version: key given twice"),
])
def test_unreadable_yaml_is_named(text, expected):
    with pytest.raises(QuestionnaireError) as caught:
        parse(text, "q.yaml")
    assert expected in caught.value.messages[0]


def test_a_file_that_is_missing_or_not_text_is_named(tmp_path):
    with pytest.raises(QuestionnaireError, match="no such file"):
        load(tmp_path / "absent.yaml")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(QuestionnaireError, match="not UTF-8"):
        load(binary)


# --- official weights and rubrics --------------------------------------------------------------------------

CMMM_1_0_0 = QUESTIONNAIRES_DIR / "cmmm-2020" / "1.0.0.yaml"
CMMM_1_0_0_SHA256 = "4c6ebee14e30fb14d692d4a8e93d0e12967fa924d0445cbcf6037bf7b57f7103"  # pinned by stored assessments


def test_the_published_1_0_0_keeps_its_hash_and_its_weights_are_provisional():
    q = load(CMMM_1_0_0)
    assert q.sha256 == CMMM_1_0_0_SHA256
    assert q.weights_official == {"discrete": False, "process": False}
    assert all(item.rubric is None for item in q.items)


def test_a_profile_is_official_only_when_every_table_is():
    data = copy.deepcopy(BASE)
    for table in ("elements", "domains", "subdomains"):
        data["weight_profiles"]["discrete"][table]["official"] = True
    data["weight_profiles"]["process"]["elements"]["official"] = True
    q = parse(yaml.safe_dump(data, allow_unicode=True), "official")
    assert q.weights_official == {"discrete": True, "process": False}
    assert q.sha256 != parse(MINI.read_text(encoding="utf-8"), "mini").sha256  # official is content
    explicit = copy.deepcopy(BASE)
    explicit["weight_profiles"]["process"]["domains"]["official"] = False
    assert parse(yaml.safe_dump(explicit, allow_unicode=True), "x").sha256 == parse(
        MINI.read_text(encoding="utf-8"), "mini").sha256  # the default said aloud is the same content


def test_an_item_carries_its_rubric(rubric_mini):
    rubric = rubric_mini.item_by_id[RUBRIC_ITEMS[0]].rubric
    assert (rubric.full("zh"), rubric.mostly("en"), rubric.partly("en")) == (
        RUBRIC["full"]["zh"], RUBRIC["mostly"]["en"], RUBRIC["partly"]["en"])
    assert rubric_mini.item_by_id["PA.1.2"].rubric is None
    assert rubric_mini.sha256 != parse(MINI.read_text(encoding="utf-8"), "mini").sha256


RUBRIC_PROBLEMS = [
    ("rubric without mostly", {k: v for k, v in RUBRIC.items() if k != "mostly"}, "(PA.1.1).rubric.mostly: missing"),
    ("rubric with a fourth key", {**RUBRIC, "none": RUBRIC["partly"]}, "(PA.1.1).rubric.none: unknown key"),
    ("rubric with a blank text", {**RUBRIC, "full": {"zh": "有", "en": " "}}, "(PA.1.1).rubric.full.en: empty text"),
    ("rubric as a sentence", "do it well", "(PA.1.1).rubric: Input should be a valid dictionary"),
]


@pytest.mark.parametrize(("problem", "rubric", "expected"), RUBRIC_PROBLEMS, ids=[c[0] for c in RUBRIC_PROBLEMS])
def test_a_bad_rubric_is_refused_with_a_located_message(problem, rubric, expected):
    with pytest.raises(QuestionnaireError) as caught:
        parse(yaml.safe_dump(mutate(set_path(("items", 0, "rubric"), rubric)), allow_unicode=True), "q.yaml")
    assert any(expected in message for message in caught.value.messages), caught.value.messages


def test_official_must_be_true_or_false():
    data = mutate(set_path(("weight_profiles", "discrete", "elements", "official"), "yes"))
    with pytest.raises(QuestionnaireError) as caught:
        parse(yaml.safe_dump(data, allow_unicode=True), "q.yaml")
    assert any("weight_profiles.discrete.elements.official: Input should be a valid boolean" in message
               for message in caught.value.messages), caught.value.messages


def test_a_rubric_reads_as_one_line_per_rating_led_by_its_label(rubric_mini):
    item = rubric_mini.item_by_id[RUBRIC_ITEMS[0]]
    assert rubric_mini.rubric_lines(item, "zh") == [f"全部满足：{RUBRIC['full']['zh']}",
                                                    f"大部分满足：{RUBRIC['mostly']['zh']}",
                                                    f"部分满足：{RUBRIC['partly']['zh']}"]
    assert rubric_mini.rubric_lines(item, "en")[1] == f"Mostly met: {RUBRIC['mostly']['en']}"
    assert rubric_mini.rubric_lines(rubric_mini.item_by_id["PA.1.2"], "zh") == []


def test_a_rubric_needs_the_answers_it_describes_in_the_scale():
    def rename_mostly(data):
        data["scale"][1]["code"] = "largely"
        data["items"][0]["rubric"] = RUBRIC

    with pytest.raises(QuestionnaireError) as caught:
        parse(yaml.safe_dump(mutate(rename_mostly), allow_unicode=True), "q.yaml")
    (message,) = caught.value.messages
    assert re.fullmatch(r"q\.yaml:\d+: items\[0\] \(PA\.1\.1\)\.rubric: a rubric describes full, mostly, partly, "
                        r"but the scale has no 'mostly'", message), message


# What 2.0.0 promised an assessor (issue #12 §2), kept for every later version too.
IMPERATIVE = re.compile(r"^(Ask|Check|Confirm|Verify|Review|Read|Sample|Inspect|Ensure|Establish|Use|Implement|"
                        r"Build|Set|Make|Define|Keep|Record|Collect|Monitor)\b")


@pytest.mark.parametrize("version", ["2.0.0"])
def test_from_2_0_0_every_item_is_one_rated_statement(version):
    q = by_id("cmmm-2020", version)
    assert len(q.items) >= 240
    assert [item.id for item in q.items if item.rubric is None] == []
    assert [item.id for item in q.items if IMPERATIVE.match(item.text.en)] == []  # statements, not orders
    # 并 joined two requirements in 106 of 1.0.0's items; one requirement per item, so "partly" means one thing.
    assert [item.id for item in q.items if "并" in item.text.zh] == []
    assert [item.id for item in q.items if not all(getattr(item.rubric, code).zh and getattr(item.rubric, code).en
                                                   for code in ("full", "mostly", "partly"))] == []


def test_1_0_0_fails_what_2_0_0_promised():
    """The checks above can fail: the old version has no rubric and joins requirements with 并."""
    q = by_id("cmmm-2020", "1.0.0")
    assert all(item.rubric is None for item in q.items)
    assert sum("并" in item.text.zh for item in q.items) > 50
