"""Fuzz: questionnaire files. Mutations of the CMMM file and of the small test questionnaire, in their data
(wrong types, missing keys, duplicate ids, bad weights and levels, odd text) and in their text (broken YAML),
go through the real loader: the outcome is a Questionnaire, or a QuestionnaireError whose every message names
file:line and the path in the document."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from assessment import QUESTIONNAIRES_DIR
from assessment.errors import QuestionnaireError
from assessment.questionnaire import Questionnaire, parse
from tests.conftest import MINI
from tests.test_fuzz import assert_readable, fuzz

SOURCES = {"mini": MINI.read_text(encoding="utf-8"),
           "cmmm": (QUESTIONNAIRES_DIR / "cmmm-2020" / "1.0.0.yaml").read_text(encoding="utf-8")}
DATA = {name: yaml.safe_load(text) for name, text in SOURCES.items()}
# file:line: path: what — the path may itself hold ": " only inside brackets, so take the shortest.
LOCATED = re.compile(r"^(?P<file>.+?\.yaml):(?P<line>\d+): (?P<path>\S.*?): (?P<what>\S.*)$", re.DOTALL)


def dump(data) -> str:
    """YAML text of the data: JSON, one value a line, is YAML too and fifty times quicker to write."""
    return json.dumps(data, ensure_ascii=False, indent=1, default=str)


def loaded_or_located(text: str, source: str) -> Questionnaire | QuestionnaireError:
    """The one property of the loader: a questionnaire, or located messages; anything else fails the test."""
    try:
        q = parse(text, source)
    except QuestionnaireError as exc:
        assert_readable(exc.messages)
        last = max(1, len(text.splitlines()))
        for message in exc.messages:
            found = LOCATED.match(message)
            assert found, f"not located as file:line: path: what — {message!r}"
            assert found["file"] == source, message
            assert 1 <= int(found["line"]) <= last, f"line out of the file ({last} lines): {message!r}"
        return exc
    assert isinstance(q, Questionnaire)
    assert parse(dump(q.model_dump(mode="json")), source).sha256 == q.sha256
    return q


# --- strategies ---------------------------------------------------------------------------------------------

ODD_TEXT = st.sampled_from([
    "", " ", "\t", "全部满足", "0.8", "-1", "1e309", "nan", "~", "null", "yes", "=1+1", "\u202eevil", "x" * 5000,
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "مرحبا", "Ωμέγα", "🙂" * 50, "a\x00b", "\x1b[31m", "line\nbreak", "'\"", "{}", "[]", "&a", "*a",
])
ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40), ODD_TEXT,
    st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
    st.dictionaries(st.text(max_size=6), st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
)


def all_paths(node, path=()) -> list[tuple]:
    paths = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            paths += all_paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            paths += all_paths(value, (*path, i))
    return paths


PATHS = {name: all_paths(data)[1:] for name, data in DATA.items()}


def parent_and_key(data, path):
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    if not isinstance(parent, dict | list):
        raise TypeError(path)
    return parent, path[-1]


@st.composite
def data_mutation(draw, name: str):
    """The questionnaire's data with one to three random edits: a value replaced, a key or entry removed, an
    entry duplicated, a key renamed, an unknown key added."""
    data = _copy(DATA[name])
    for path in draw(st.lists(st.sampled_from(PATHS[name]), min_size=1, max_size=3)):
        try:  # an earlier edit may have removed or replaced this path
            parent, key = parent_and_key(data, path)
            parent[key]  # the lookup is the check
        except (KeyError, IndexError, TypeError):
            continue
        operation = draw(st.sampled_from(["set", "set", "delete", "duplicate", "rename", "add"]))
        if operation == "set":
            parent[key] = draw(ODD_VALUES)
        elif operation == "delete":
            del parent[key]
        elif operation == "duplicate" and isinstance(parent, list):
            parent.insert(key, _copy(parent[key]))
        elif operation == "rename" and isinstance(parent, dict):
            parent[draw(st.one_of(st.text(max_size=12), ODD_TEXT, st.integers()))] = parent.pop(key)
        elif isinstance(parent[key], dict):
            parent[key][draw(st.text(min_size=1, max_size=12))] = draw(ODD_VALUES)
        else:
            parent[key] = draw(ODD_VALUES)
    return data


def _copy(node):
    if isinstance(node, dict):
        return {key: _copy(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_copy(value) for value in node]
    return node


@st.composite
def text_mutation(draw, name: str) -> str:
    """The file's text with one to three edits at random places: inserted text (YAML punctuation, anchors,
    control characters, any script), a deleted span, a duplicated, swapped or re-indented line, a truncation."""
    text = SOURCES[name]
    for _ in range(draw(st.integers(1, 3))):
        lines = text.splitlines(keepends=True) or [""]
        at = draw(st.integers(0, len(text)))
        operation = draw(st.sampled_from(["insert", "delete", "duplicate", "swap", "indent", "truncate"]))
        if operation == "insert":
            piece = draw(st.one_of(st.text(max_size=20), ODD_TEXT, st.sampled_from(
                [":", "- ", "[", "]", "{", "}", "&x ", "*x", "!!binary ", "!!python/object:os.system ", "\n",
                 "\n  ", "? ", "|", ">", "#", "%YAML 1.1\n", "---\n", "...\n", "\ufeff", "\t"])))
            text = text[:at] + piece + text[at:]
        elif operation == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 200)):]
        elif operation == "truncate":
            text = text[:at]
        else:
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if operation == "duplicate":
                lines.insert(j, lines[i])
            elif operation == "swap":
                lines[i], lines[j] = lines[j], lines[i]
            else:
                lines[i] = " " * draw(st.integers(0, 12)) + lines[i].lstrip(" ")
            text = "".join(lines)
    return text


# --- the properties -----------------------------------------------------------------------------------------


# Each explicit example is a crash the fuzzing found once.
@fuzz(1200)
@example(data={**DATA["mini"], "subdomains": 47154})
@example(data={**DATA["mini"], "subdomains": [{"code": {"a": 1}, "domain": "PX", "name": {"zh": "x", "en": "x"}}]})
@given(data=data_mutation("mini"))
def test_mutated_data_of_the_small_questionnaire(data):
    loaded_or_located(dump(data), "mini.yaml")


@fuzz(900)
@example(text="id: &a [*a]\n")
@example(text="[" * 50_000 + "]" * 50_000)
@example(text="a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join([f'*{chr(97 + n)}'] * 9)}]\n" for n in range(6)))
@given(text=text_mutation("mini"))
def test_mutated_text_of_the_small_questionnaire(text):
    loaded_or_located(text, "mini.yaml")


@fuzz(60)
@given(data=data_mutation("cmmm"))
def test_mutated_data_of_the_cmmm_questionnaire(data):
    loaded_or_located(dump(data), "cmmm-2020.yaml")


@fuzz(100)
@given(text=text_mutation("cmmm"))
def test_mutated_text_of_the_cmmm_questionnaire(text):
    loaded_or_located(text, "cmmm-2020.yaml")


PRINTABLE = st.characters(exclude_categories=("Cc", "Cs"))  # YAML refuses raw control characters anyway


def messages_of(data) -> list[str]:
    outcome = loaded_or_located(dump(data), "mini.yaml")
    assert isinstance(outcome, QuestionnaireError), "a broken questionnaire was accepted"
    return outcome.messages


@fuzz(250)
@given(index=st.integers(0, len(DATA["mini"]["items"]) - 1), text=st.text(PRINTABLE, max_size=30).filter(str.strip))
def test_a_duplicated_item_id_is_named_at_the_copy(index, text):
    data = _copy(DATA["mini"])
    copy = {**data["items"][index], "text": {"zh": text, "en": "copy"}}  # a valid entry but for its id
    data["items"].insert(index + 1, copy)
    wanted = f"items[{index + 1}] ({copy['id']}).id: duplicate id {copy['id']!r}"
    assert any(wanted in message for message in messages_of(data)), wanted


@fuzz(250)
@given(profile=st.sampled_from(["discrete", "process"]), table=st.sampled_from(["elements", "domains", "subdomains"]),
       pick=st.integers(0, 10), weight=st.floats(allow_nan=False, allow_infinity=False, min_value=-5, max_value=5))
def test_a_bad_weight_is_named_in_its_table(profile, table, pick, weight):
    data = _copy(DATA["mini"])
    weights = data["weight_profiles"][profile][table]["weights"]
    code = sorted(weights)[pick % len(weights)]
    if abs(weights[code] - weight) < 1e-5:
        weight += 0.25  # a change, not the same weight again
    weights[code] = weight
    where = f"weight_profiles.{profile}.{table}.weights"
    messages = messages_of(data)
    assert any(f": {where}" in message and ("sum to" in message or code in message) for message in messages), \
        messages


@fuzz(250)
@given(index=st.integers(0, len(DATA["mini"]["items"]) - 1),
       level=st.one_of(st.integers().filter(lambda n: not 1 <= n <= 5), st.floats(), st.text(PRINTABLE, max_size=5)))
def test_a_bad_level_is_named_at_its_item(index, level):
    data = _copy(DATA["mini"])
    item = data["items"][index]
    item["level"] = level
    if isinstance(level, str) and level.strip() in {"1", "2", "3", "4", "5"}:
        return  # pydantic reads "3" as the level 3: not a bad level
    if isinstance(level, float) and level in {1.0, 2.0, 3.0, 4.0, 5.0}:
        return
    wanted = f"items[{index}] ({item['id']}).level: "
    assert any(wanted in message for message in messages_of(data)), wanted


@fuzz(200)
@given(key=st.sampled_from(["id", "version", "title", "scale", "levels", "rule", "elements", "domains",
                            "subdomains", "weight_profiles", "items"]),
       extra=st.sets(st.sampled_from(["scale", "levels", "items", "rule"]), max_size=2),
       unknown=st.text(PRINTABLE, min_size=1, max_size=12))
def test_missing_sections_are_each_named(key, extra, unknown):
    data = _copy(DATA["mini"])
    for name in {key, *extra}:
        del data[name]
    data[f"x-{unknown}"] = 1  # an unknown key too: named, and it hides none of the missing sections
    messages = messages_of(data)
    for name in {key, *extra}:
        assert any(re.search(rf":\d+: {name}: (missing|must map)", message) for message in messages), (name, messages)


@fuzz(150)
@given(raw=st.binary(min_size=1, max_size=200))
def test_a_file_that_is_not_utf8_text_is_named(tmp_path_factory, raw):
    from assessment.questionnaire import load

    path = Path(tmp_path_factory.mktemp("q")) / "bytes.yaml"
    path.write_bytes(SOURCES["mini"].encode()[:300] + raw)
    with pytest.raises(QuestionnaireError) as refused:
        load(path)
    assert_readable(refused.value.messages)
    assert all(re.match(rf"{re.escape(str(path))}:\d+: ", message) for message in refused.value.messages), \
        refused.value.messages
