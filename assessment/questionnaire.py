"""The questionnaire: its model, the loader that checks a YAML file, and the content hash.

Vocabulary used everywhere: a *questionnaire* has a *scale* of answer codes, a hierarchy of *elements* →
*domains* → *subdomains*, requirement *items* (each in one subdomain at one *level*), *weight profiles*
(discrete / process manufacturing) and the *rule* that turns level scores into a maturity level.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, TypeAdapter, ValidationError

from assessment import QUESTIONNAIRES_DIR
from assessment.errors import QuestionnaireError, read_user_text

PROFILES = ("discrete", "process")
LEVELS = (1, 2, 3, 4, 5)
WEIGHT_TOLERANCE = 1e-6
QUESTIONNAIRES_ENV = "ASSESSMENT_QUESTIONNAIRES"

NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A user-facing text in both languages."""

    zh: NonBlank
    en: NonBlank

    def __call__(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class ScaleOption(Strict):
    code: Code
    value: Annotated[float, Field(ge=0.0, le=1.0)] | None  # None: not applicable, excluded from scoring
    label: Text


class Level(Strict):
    number: Annotated[int, Field(ge=1, le=5)]
    name: Text
    intent: Text


class Band(Strict):
    level: Annotated[int, Field(ge=1, le=5)]
    min_score: Annotated[float, Field(ge=0.0, le=5.0)]


class Rule(Strict):
    threshold: Annotated[float, Field(gt=0.0, le=1.0)]
    bands: list[Band]
    below_level_1: Text


class Element(Strict):
    code: Code
    name: Text


class Domain(Strict):
    code: Code
    element: Code
    name: Text


class Subdomain(Strict):
    code: Code
    domain: Code
    name: Text


class WeightTable(Strict):
    source: NonBlank
    weights: dict[Code, Annotated[float, Field(ge=0.0, le=1.0)]]
    # Whether the figures are the published official ones (a bureau that drops in the annex of GB/T 39117 says
    # so). Left out of the content at its default, so that files published without the key keep their hash.
    official: StrictBool = Field(False, exclude_if=lambda official: not official)


class WeightProfile(Strict):
    name: Text
    elements: WeightTable
    domains: WeightTable
    subdomains: WeightTable

    @property
    def official(self) -> bool:
        """A profile's weights are official only when every one of its tables is."""
        return self.elements.official and self.domains.official and self.subdomains.official


RUBRIC_RATINGS = ("full", "mostly", "partly")  # the answer codes a rubric describes, in this order


class Rubric(Strict):
    """What the interviewer sees for each rating of an item (none needs no description: nothing of it is seen)."""

    full: Text
    mostly: Text
    partly: Text


class Item(Strict):
    id: Code
    subdomain: Code
    level: Annotated[int, Field(ge=1, le=5)]
    applies_to: Literal["both", "discrete", "process"] = "both"
    text: Text
    guidance: Text
    # Left out of the content when absent, so that files published without rubrics keep their hash.
    rubric: Rubric | None = Field(None, exclude_if=lambda rubric: rubric is None)

    def applies(self, profile: str) -> bool:
        return self.applies_to in ("both", profile)


class Questionnaire(Strict):
    id: Code
    version: NonBlank
    title: Text
    description: Text | None = None
    scale: list[ScaleOption]
    levels: list[Level]
    rule: Rule
    elements: list[Element]
    domains: list[Domain]
    subdomains: list[Subdomain]
    weight_profiles: dict[str, WeightProfile]
    items: list[Item]

    @cached_property
    def sha256(self) -> str:
        """Hash of the content, not of the file: comments and layout do not change it."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @cached_property
    def weights_official(self) -> dict[str, bool]:
        """Profile → whether its weights are official (results scored with provisional weights say so)."""
        return {name: profile.official for name, profile in self.weight_profiles.items()}

    @cached_property
    def item_by_id(self) -> dict[str, Item]:
        return {item.id: item for item in self.items}

    @cached_property
    def scale_by_code(self) -> dict[str, ScaleOption]:
        return {option.code: option for option in self.scale}

    @cached_property
    def level_by_number(self) -> dict[int, Level]:
        return {level.number: level for level in self.levels}

    @cached_property
    def domain_of(self) -> dict[str, str]:
        """Subdomain code → domain code."""
        return {sd.code: sd.domain for sd in self.subdomains}

    @cached_property
    def element_of(self) -> dict[str, str]:
        """Domain code → element code."""
        return {d.code: d.element for d in self.domains}

    @cached_property
    def node_names(self) -> dict[str, Text]:
        """Name of any element, domain or subdomain by code."""
        return {node.code: node.name for node in (*self.elements, *self.domains, *self.subdomains)}

    def items_for(self, profile: str) -> list[Item]:
        return [item for item in self.items if item.applies(profile)]

    def rubric_lines(self, item: Item, lang: str) -> list[str]:
        """The item's rubric as one line per rating, each led by the rating's label (全部满足：…); none without one."""
        if item.rubric is None:
            return []
        colon = ": " if lang == "en" else "："
        return [f"{self.scale_by_code[code].label(lang) if code in self.scale_by_code else code}{colon}"
                f"{getattr(item.rubric, code)(lang)}" for code in RUBRIC_RATINGS]

    def level_name(self, level: int) -> Text:
        return self.level_by_number[level].name if level in self.level_by_number else self.rule.below_level_1

    def is_met(self, score: float) -> bool:
        # The tolerance keeps a level whose score is 0.8 up to rounding (e.g. all `mostly`) met on every path.
        return score >= self.rule.threshold - 1e-9

    def level_for(self, total: float) -> int:
        for band in sorted(self.rule.bands, key=lambda b: -b.level):
            if total >= band.min_score - 1e-9:
                return band.level
        return 0


# ---------------------------------------------------------------------------------------------------------
# Loading and checking a file


def load(path: str | Path) -> Questionnaire:
    """Read and check one questionnaire file; raise QuestionnaireError listing every located problem."""
    path = Path(path)
    text = read_user_text(path, QuestionnaireError)
    return parse(text, str(path))


def parse(text: str, source: str = "<questionnaire>") -> Questionnaire:
    try:
        _prescan(text, source)
        root = yaml.compose(text, Loader=_Loader)
        loader = _Loader("")
        data = None if root is None else loader.construct_document(root)
        if not isinstance(data, dict):
            raise QuestionnaireError(f"{source}:1: (top): the file must hold a mapping (id, version, scale, items, "
                                     "…)")
        lines: dict[tuple, int] = {}
        problems: list[tuple[tuple, str]] = []
        _index_lines(root, (), lines, problems, loader.construct_object)
        loader.dispose()
    except yaml.YAMLError as exc:
        raise QuestionnaireError(_yaml_problem(exc, text, source)) from None
    checker = _Checker(data, problems)
    checker.run()
    if checker.problems:
        raise QuestionnaireError(_format(checker.problems, data, lines, source))
    return Questionnaire.model_validate(data)


# libyaml when PyYAML was built with it: ten times faster than the pure-Python loader on the CMMM file.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_DEPTH = 32  # nested collections; a questionnaire needs 5
MAX_NODES = 500_000  # nodes once every alias is expanded; the CMMM file has about 9,000


def _prescan(text: str, source: str) -> None:
    """Refuse, from the event stream alone, what would hurt before any tree is built: libyaml's composer
    recurses in C (a deeply nested file would crash the process), an alias inside its own anchor makes a cycle,
    and aliases of aliases make a small file expand beyond any memory."""
    open_anchors: list[str | None] = []
    sizes: list[int] = []  # expanded node count of each open collection
    anchored: dict[str, int] = {}  # anchor → expanded node count of its node
    expanded = 0
    for event in yaml.parse(text, Loader=_Loader):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.CollectionEndEvent):
            size, anchor = sizes.pop(), open_anchors.pop()
            if anchor is not None:
                anchored[anchor] = size
            if sizes:
                sizes[-1] += size
            continue
        count = _expanded_size(event, open_anchors, anchored, f"{source}:{line}")
        expanded += count
        if expanded > MAX_NODES:
            raise QuestionnaireError(f"{source}:{line}: (aliases): the document expands to more than {MAX_NODES:,} "
                                     "values; refused")
        if isinstance(event, yaml.CollectionStartEvent):
            if len(sizes) >= MAX_DEPTH:
                raise QuestionnaireError(f"{source}:{line}: (nesting): more than {MAX_DEPTH} levels of nesting")
            open_anchors.append(event.anchor)
            sizes.append(1)
        elif sizes:
            sizes[-1] += count


def _expanded_size(event: yaml.Event, open_anchors: list[str | None], anchored: dict[str, int], where: str) -> int:
    """How many values one event adds once aliases are expanded (0 for stream and document events)."""
    if isinstance(event, yaml.AliasEvent):
        if event.anchor in open_anchors:
            raise QuestionnaireError(f"{where}: alias *{event.anchor}: refers to a node that contains it (a cycle)")
        return anchored.get(event.anchor, 1)
    if isinstance(event, yaml.ScalarEvent):
        if event.anchor is not None:
            anchored[event.anchor] = 1
        return 1
    return 1 if isinstance(event, yaml.CollectionStartEvent) else 0


def _yaml_problem(exc: yaml.YAMLError, text: str, source: str) -> str:
    """One located line for a YAML syntax error; a reader error knows only the character's position."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        line, column = mark.line + 1, mark.column + 1
    elif isinstance(getattr(exc, "position", None), int):
        before = text[: exc.position]
        line, column = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
    else:
        line, column = 1, 1
    line = min(line, max(1, len(text.splitlines())))  # libyaml places an unexpected end past the last line
    what = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    context = f" ({context})" if context else ""
    return f"{source}:{line}: not valid YAML (column {column}): {what}{context}"


def _index_lines(node: yaml.Node, path: tuple, lines: dict[tuple, int], problems: list, key_of) -> None:
    """Map every path in the document to its line, and flag keys given twice (YAML keeps only the last).
    Paths use the keys as constructed (``1`` and ``yes`` are an int and a bool), as the checker sees them."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key_node, value in node.value:
            key = key_of(key_node)
            if key in seen:
                problems.append(((*path, key), "key given twice"))
                lines.setdefault((*path, key), key_node.start_mark.line + 1)
            seen.add(key)
            _index_lines(value, (*path, key), lines, problems, key_of)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            _index_lines(value, (*path, i), lines, problems, key_of)


def _format(problems: list[tuple[tuple, str]], data: dict, lines: dict[tuple, int], source: str) -> list[str]:
    def line_of(path: tuple) -> int:
        while path not in lines and path:
            path = path[:-1]
        return lines.get(path, 1)

    def describe(path: tuple) -> str:
        parts = []
        parent: Any = data
        for part in path:
            if isinstance(parent, list) and isinstance(part, int):
                parts.append(f"[{part}]")
                entry = parent[part] if 0 <= part < len(parent) else None
                if isinstance(entry, dict) and isinstance(entry.get("id") or entry.get("code"), str):
                    parts.append(f" ({entry.get('id') or entry.get('code')})")
            else:
                key = str(part)
                if not key.strip() or not key.isprintable() or ": " in key:  # quoted, so the message stays one line
                    key = repr(part)
                parts.append(("." if parts else "") + key)
            try:
                parent = parent[part] if isinstance(parent, dict | list) else None
            except (KeyError, IndexError, TypeError):
                parent = None
        return "".join(parts) or "(top)"

    ordered = sorted(problems, key=lambda p: line_of(p[0]))
    return [f"{source}:{line_of(path)}: {describe(path)}: {message}" for path, message in ordered]


class _Checker:
    """Checks the raw document section by section, so that one broken part does not hide the others."""

    def __init__(self, data: dict, problems: list):
        self.data = data
        self.problems = problems

    def add(self, path: tuple, message: str) -> None:
        self.problems.append((path, message))

    def typed(self, path: tuple, value: Any, model: Any) -> Any:
        """Validate one piece; record its errors with their paths; return None if it is broken."""
        try:
            return TypeAdapter(model).validate_python(value)
        except ValidationError as exc:
            for err in exc.errors():
                self.add((*path, *err["loc"]), _say(err))
            return None

    def section(self, key: str, model: Any) -> list:
        """A list section validated entry by entry; returns (index, entry) pairs of the valid entries."""
        raw = self.data.get(key)
        if raw is None:
            self.add((key,), "missing")
            return []
        if not isinstance(raw, list) or not raw:
            self.add((key,), "must be a non-empty list")
            return []
        return [(i, ok) for i, entry in enumerate(raw) if (ok := self.typed((key, i), entry, model)) is not None]

    def run(self) -> None:
        known = {"id", "version", "title", "description", "scale", "levels", "rule", "elements", "domains",
                 "subdomains", "weight_profiles", "items"}
        for key in self.data:
            if key not in known:
                self.add((key,), f"unknown key; expected one of {', '.join(sorted(known))}")
        for key, model in (("id", Code), ("version", NonBlank), ("title", Text)):
            if key not in self.data:
                self.add((key,), "missing")
            else:
                self.typed((key,), self.data[key], model)
        if self.data.get("description") is not None:
            self.typed(("description",), self.data["description"], Text)

        scale = self.section("scale", ScaleOption)
        levels = self.section("levels", Level)
        rule = self.typed(("rule",), self.data.get("rule"), Rule) if "rule" in self.data else None
        if "rule" not in self.data:
            self.add(("rule",), "missing")
        elements = self.section("elements", Element)
        domains = self.section("domains", Domain)
        subdomains = self.section("subdomains", Subdomain)
        items = self.section("items", Item)

        self.unique("scale", scale, "code")
        for i, option in scale:
            if option.value is not None and abs(option.value * 1000 - round(option.value * 1000)) > 1e-6:
                self.add(("scale", i, "value"), f"{option.value} is not a multiple of 0.001")
        if scale and not any(option.value is not None for _, option in scale):
            self.add(("scale",), "no option carries a value")
        self.check_levels(levels, rule)
        codes = self.check_hierarchy(elements, domains, subdomains)
        self.check_items(items, codes["subdomains"])
        self.check_rubrics(items, {option.code for _, option in scale})
        self.check_weights(codes)

    def unique(self, key: str, entries: list, attr: str) -> None:
        first: dict[Any, int] = {}
        for i, entry in entries:
            value = getattr(entry, attr)
            if value in first:
                self.add((key, i, attr), f"duplicate {attr} {value!r} (first at {key}[{first[value]}])")
            first.setdefault(value, i)

    def check_levels(self, levels: list, rule: Rule | None) -> None:
        self.unique("levels", levels, "number")
        numbers = {level.number for _, level in levels}
        if levels and numbers != set(LEVELS):
            self.add(("levels",), f"levels must be 1–5, each once; missing {sorted(set(LEVELS) - numbers)}")
        if rule is None:
            return
        band_levels = [band.level for band in rule.bands]
        if sorted(band_levels) != list(LEVELS):
            self.add(("rule", "bands"), f"one band per level 1–5 is needed, got levels {band_levels}")
        by_level = sorted(rule.bands, key=lambda b: b.level)
        for lower, higher in itertools.pairwise(by_level):
            if higher.min_score <= lower.min_score:
                self.add(("rule", "bands"), f"band of level {higher.level} must start above level {lower.level}'s")

    def check_hierarchy(self, elements: list, domains: list, subdomains: list) -> dict[str, dict[str, str]]:
        seen: dict[str, str] = {}
        for key, entries in (("elements", elements), ("domains", domains), ("subdomains", subdomains)):
            for i, node in entries:
                if node.code in seen:
                    self.add((key, i, "code"), f"duplicate code {node.code!r} (also in {seen[node.code]})")
                seen.setdefault(node.code, key)
        element_codes = {e.code for _, e in elements}
        domain_parent = {}
        for i, domain in domains:
            if domain.element not in element_codes:
                self.add(("domains", i, "element"), f"unknown element {domain.element!r}")
            domain_parent[domain.code] = domain.element
        subdomain_parent = {}
        for i, sd in subdomains:
            if sd.domain not in domain_parent:
                self.add(("subdomains", i, "domain"), f"unknown domain {sd.domain!r}")
            subdomain_parent[sd.code] = sd.domain
        for i, element in elements:
            if element.code not in domain_parent.values():
                self.add(("elements", i), f"element {element.code} has no domain")
        for i, domain in domains:
            if domain.code not in subdomain_parent.values():
                self.add(("domains", i), f"domain {domain.code} has no subdomain")
        return {
            "elements": dict.fromkeys(element_codes, ""),
            "domains": domain_parent,
            "subdomains": subdomain_parent,
        }

    def check_rubrics(self, items: list, codes: set[str]) -> None:
        """A rubric describes the answers full, mostly and partly: the scale must have them to be shown with it."""
        lacking = [code for code in RUBRIC_RATINGS if code not in codes]
        if not codes or not lacking:
            return
        for i, item in items:
            if item.rubric is not None:
                self.add(("items", i, "rubric"), f"a rubric describes {', '.join(RUBRIC_RATINGS)}, but the scale has "
                                                  f"no {', '.join(map(repr, lacking))}")

    def check_items(self, items: list, subdomain_parent: dict[str, str]) -> None:
        self.unique("items", items, "id")
        used = set()
        for i, item in items:
            if item.subdomain not in subdomain_parent:
                self.add(("items", i, "subdomain"), f"unknown subdomain {item.subdomain!r}")
            used.add(item.subdomain)
        if items:
            raw = self.data.get("subdomains")
            for i, sd in enumerate(raw if isinstance(raw, list) else []):
                code = sd.get("code") if isinstance(sd, dict) else None
                if isinstance(code, str) and code in subdomain_parent and code not in used:
                    self.add(("subdomains", i), f"subdomain {code} has no items at all")

    def check_weights(self, codes: dict[str, dict[str, str]]) -> None:
        raw = self.data.get("weight_profiles")
        if not isinstance(raw, dict) or not raw:
            self.add(("weight_profiles",), "must map each profile (discrete, process) to its weights")
            return
        for name in PROFILES:
            if name not in raw:
                self.add(("weight_profiles",), f"profile {name!r} is missing")
        for name, profile_raw in raw.items():
            if name not in PROFILES:
                self.add(("weight_profiles", name), f"unknown profile {name!r}; expected {' or '.join(PROFILES)}")
                continue
            profile = self.typed(("weight_profiles", name), profile_raw, WeightProfile)
            if profile is None:
                continue
            for level, table in (("elements", profile.elements), ("domains", profile.domains),
                                 ("subdomains", profile.subdomains)):
                self.check_table(("weight_profiles", name, level, "weights"), table.weights, codes[level])

    def check_table(self, path: tuple, weights: dict[str, float], parent_of: dict[str, str]) -> None:
        """Every node has a weight; the weights of the children of one parent sum to 1."""
        for code in parent_of:
            if code not in weights:
                self.add(path, f"no weight for {code}")
        groups: dict[str, float] = defaultdict(float)
        for code, weight in weights.items():
            if code not in parent_of:
                self.add((*path, code), f"unknown code {code!r}")
            else:
                groups[parent_of[code]] += weight
        for parent, total in sorted(groups.items()):
            if not math.isclose(total, 1.0, abs_tol=WEIGHT_TOLERANCE):
                group = f"the weights under {parent}" if parent else "the weights"
                self.add(path, f"{group} sum to {total:.6g}, not 1")


def _say(err: dict) -> str:
    if err["type"] == "missing":
        return "missing"
    if err["type"] == "extra_forbidden":
        return "unknown key"
    if err["type"] == "string_too_short":
        return "empty text"
    return err["msg"]


# ---------------------------------------------------------------------------------------------------------
# The questionnaires that ship with the tool: every published version of each


@dataclass(frozen=True)
class Published:
    """One published version: the file ``<questionnaires>/<id>/<version>.yaml``."""

    id: str
    version: str
    path: Path


def questionnaires_dir() -> Path:
    """The folder of the questionnaires: ``questionnaires/``, or the one ``ASSESSMENT_QUESTIONNAIRES`` names (a
    bureau's own annex, a test's versions). Read on every call, so a test can point it elsewhere for a while."""
    return Path(os.environ.get(QUESTIONNAIRES_ENV) or QUESTIONNAIRES_DIR)


def version_key(version: str) -> tuple:
    """Versions compare as numbers part by part (10.0.0 after 9.0.0); a part that is no number sorts after the
    numbers, as text."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"[.+-]", version))


def published(directory: Path | None = None) -> list[Published]:
    """Every published version, by id and then version, oldest first. Only ``<id>/<version>.yaml`` counts: folders
    below a version's (a draft's parts) and files beside the id folders do not."""
    directory = directory or questionnaires_dir()
    if not directory.is_dir():
        return []
    found = [Published(folder.name, path.stem, path) for folder in directory.iterdir() if folder.is_dir()
             for path in folder.glob("*.yaml") if path.is_file()]
    return sorted(found, key=lambda p: (p.id, version_key(p.version)))


def versions(questionnaire_id: str, directory: Path | None = None) -> list[str]:
    """The published versions of one questionnaire, oldest first."""
    return [p.version for p in published(directory) if p.id == questionnaire_id]


@lru_cache(maxsize=32)
def _load_cached(path: Path, mtime_ns: int) -> Questionnaire:
    return load(path)


def load_cached(path: Path) -> Questionnaire:
    """Load a file once per modification: the app and batch jobs ask for the same questionnaire often."""
    return _load_cached(path.resolve(), path.stat().st_mtime_ns)


def load_published(entry: Published) -> Questionnaire:
    """A published version's questionnaire, refused when the file says another id or version than its place: an
    assessment names the version it was scored with, and must find exactly that."""
    q = load_cached(entry.path)
    for key, inside, outside, named in (("id", q.id, entry.id, "folder name"),
                                        ("version", q.version, entry.version, "file name")):
        if inside != outside:
            raise QuestionnaireError(
                f"{entry.path}:{_line_of(entry.path, key)}: {key}: {inside!r} differs from the {named} {outside} "
                f"(a version's file is named after it)", code="questionnaire_misplaced", file=str(entry.path),
                key=key, value=inside, expected=outside)
    return q


def _line_of(path: Path, key: str) -> int:
    """The line of a top-level key in a questionnaire file (1 when it cannot be found)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next((n for n, line in enumerate(lines, start=1) if re.match(rf"{key}\s*:", line)), 1)


def by_id(questionnaire_id: str, version: str | None = None, directory: Path | None = None) -> Questionnaire:
    """A published questionnaire: ``version`` of it, or else its newest version."""
    entries = [p for p in published(directory) if p.id == questionnaire_id]
    if not entries:
        known = ", ".join(dict.fromkeys(p.id for p in published(directory))) or "none"
        raise QuestionnaireError(f"unknown questionnaire {questionnaire_id!r}; available: {known}",
                                 code="questionnaire_unknown", questionnaire=str(questionnaire_id), available=known)
    if version is None:
        return load_published(entries[-1])
    for entry in entries:
        if entry.version == version:
            return load_published(entry)
    available = ", ".join(entry.version for entry in entries)
    raise QuestionnaireError(f"{questionnaire_id} has no version {version!r}; available: {available}",
                             code="questionnaire_version_unknown", questionnaire=questionnaire_id,
                             version=str(version), versions=available)


def pinned(questionnaire_id: str, version: str, sha256: str, directory: Path | None = None) -> Questionnaire:
    """Exactly the questionnaire something was scored with: its version, with the content it had then. Never
    another version in its place: a missing version or changed content is refused."""
    try:
        q = by_id(questionnaire_id, version, directory)
    except QuestionnaireError as exc:
        if exc.code != "questionnaire_version_unknown":
            raise
        raise QuestionnaireError(f"{questionnaire_id} {version} is no longer installed (installed: "
                                 f"{exc.params['versions']}); restore its file to use what was made with it",
                                 code="questionnaire_gone", questionnaire=questionnaire_id, version=version,
                                 versions=exc.params["versions"]) from None
    if q.sha256 != sha256:
        raise QuestionnaireError(f"{questionnaire_id} {version}: its content differs from what was used "
                                 f"(sha256 {sha256[:12]}…, the file now {q.sha256[:12]}…); a published version must "
                                 "not change: restore its file, and publish changes as a new version",
                                 code="questionnaire_altered", questionnaire=questionnaire_id, version=version)
    return q
