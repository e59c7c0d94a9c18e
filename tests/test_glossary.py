"""The glossary of the questionnaires' acronyms (assessment/reference_data/glossary.yaml): complete for the items,
bilingual, and reachable from the interview page."""

import re

import pytest
import yaml

from assessment import QUESTIONNAIRES_DIR, reference
from assessment.questionnaire import load
from tests.test_app_work import open_page

CMMM = QUESTIONNAIRES_DIR / "cmmm-2020"
# Two or more capital letters in a word (MES, IoT, QoS); a plural s is not part of the term (AGVs).
ACRONYM = re.compile(r"(?<![A-Za-z0-9])((?=(?:[a-z0-9]*[A-Z]){2})[A-Za-z0-9]+?)s?(?![A-Za-z0-9])")
CJK = re.compile(r"[\u4e00-\u9fff]")


def texts(value):
    """Every string inside ``value`` (a text, a {zh, en} mapping, a rubric)."""
    if isinstance(value, dict):
        for inner in value.values():
            yield from texts(inner)
    elif isinstance(value, str):
        yield value


def item_texts() -> dict[str, list[str]]:
    """Item id → its texts, guidance and rubric in both languages, in every published version."""
    found: dict[str, list[str]] = {}
    for path in sorted(CMMM.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in data.get("items") or []:
            found[f"{path.stem} {item['id']}"] = [text for key in ("text", "guidance", "rubric")
                                                  for text in texts(item.get(key))]
    return found


def test_every_acronym_the_items_use_has_a_glossary_entry():
    """Every word of two or more capitals in a requirement, its guidance or its rubric — of 1.0.0 and of the 2.0.0
    draft parts — is a glossary term or a word of one (OPC and UA of OPC UA). The questionnaire's own codes (PE, OS,
    …) are not acronyms: they name its elements, domains and subdomains."""
    released = load(CMMM / "1.0.0.yaml")
    codes = {node.code for node in (*released.elements, *released.domains, *released.subdomains)}
    known = {word for entry in reference.glossary() for word in entry.term.split()}
    missing: dict[str, set[str]] = {}
    for item, strings in item_texts().items():
        for text in strings:
            for acronym in ACRONYM.findall(text):
                if acronym not in known and acronym not in codes:
                    missing.setdefault(acronym, set()).add(item)
    assert not missing, {acronym: sorted(items)[:3] for acronym, items in missing.items()}
    assert len(item_texts()) > 278  # the draft parts were read too


def test_the_acronym_pattern_finds_what_the_test_means():
    found = ACRONYM.findall("MES and WMS, two AGVs, IoT, QoS and OPC UA; not Mostly, 3D or a lone A.")
    assert found == ["MES", "WMS", "AGV", "IoT", "QoS", "OPC", "UA"]


def test_every_entry_is_unique_and_bilingual():
    terms = [entry.term for entry in reference.glossary()]
    assert len(terms) == len(set(terms))
    assert terms == sorted(terms, key=str.casefold)
    for entry in reference.glossary():
        assert CJK.search(entry.zh), entry.term
        assert CJK.search(entry.meaning.zh), entry.term
        assert not CJK.search(entry.en + entry.meaning.en), entry.term
    assert {"MES", "APS", "WMS", "SCADA", "LIMS", "OEE", "KPI", "IoT"} <= set(terms)


@pytest.mark.parametrize(("lang", "title", "line"), [
    ("zh", "术语表", "制造执行系统"), ("en", "Glossary", "Manufacturing execution system")])
def test_the_glossary_is_reachable_from_the_interview(app_world, lang, title, line):
    _, w = app_world
    app = open_page(w.provider_a, "interview", lang, assessment=w.diagnosis_1)
    (glossary,) = [expander for expander in app.expander if expander.label == title]
    shown = glossary.get("dataframe")[0].value
    row = shown[shown.iloc[:, 0] == "MES"].iloc[0]
    assert row.iloc[1] == line
    assert len(shown) == len(reference.glossary())
