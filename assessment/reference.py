"""Reference data of the company profile: districts, industries, size classes, production types, and the check of
the 统一社会信用代码 (unified social credit code, GB 32100-2015); and the glossary of the questionnaires' acronyms.

Districts and industries are data (``reference_data/*.yaml`` next to this module), read once and kept; another city
ships its own districts file with the same layout. Size classes and production types are fixed vocabularies.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import yaml
from pydantic import Field, ValidationError

from assessment.questionnaire import Code, NonBlank, Strict

REFERENCE_DIR = Path(__file__).resolve().parent / "reference_data"
DISTRICTS_FILE = REFERENCE_DIR / "districts.yaml"
INDUSTRIES_FILE = REFERENCE_DIR / "industries.yaml"
GRADIENT_FILE = REFERENCE_DIR / "gradient.yaml"
GLOSSARY_FILE = REFERENCE_DIR / "glossary.yaml"

StrictT = TypeVar("StrictT", bound=Strict)


class Named(Strict):
    """Something with a name in both languages."""

    zh: NonBlank
    en: NonBlank

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class Choice(Named):
    """One option of a vocabulary: a stable code (what is stored) and its names (what is shown)."""

    code: Code


class City(Named):
    pass


class District(Choice):
    pass


class Industry(Choice):
    """A division (大类) of GB/T 4754-2017; ``production_type`` is only the default a form pre-selects."""

    production_type: Literal["discrete", "process"]


class DistrictFile(Strict):
    city: City
    districts: Annotated[list[District], Field(min_length=1)]


class IndustryFile(Strict):
    source: NonBlank | None = None
    industries: Annotated[list[Industry], Field(min_length=1)]


class GradientTier(Choice):
    """A tier of the smart-factory gradient and the CMMM level it presupposes."""

    min_level: Annotated[int, Field(ge=0, le=5)]


class GradientFile(Strict):
    source: NonBlank
    tiers: Annotated[list[GradientTier], Field(min_length=1)]


class GlossaryTerm(Named):
    """An acronym of the questionnaires (``term``), its expansion (``zh``, ``en``) and a line on what it means."""

    term: NonBlank
    meaning: Named

    @property
    def code(self) -> str:
        return self.term


class GlossaryFile(Strict):
    source: NonBlank
    terms: Annotated[list[GlossaryTerm], Field(min_length=1)]


SIZE_CLASSES: tuple[Choice, ...] = (
    Choice(code="large", zh="大型", en="Large"),
    Choice(code="medium", zh="中型", en="Medium"),
    Choice(code="small", zh="小型", en="Small"),
    Choice(code="micro", zh="微型", en="Micro"),
)

PRODUCTION_TYPES: tuple[Choice, ...] = (
    Choice(code="discrete", zh="离散型", en="Discrete manufacturing"),
    Choice(code="process", zh="流程型", en="Process manufacturing"),
)


# ---------------------------------------------------------------------------------------------------------
# Districts and industries


def _read(path: Path, model: type[StrictT], entries: str) -> StrictT:
    """One shipped reference file, checked; a broken file is a packaging error named with its file and place."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        table = model.model_validate(data)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot be read: {exc}") from None
    except ValidationError as exc:
        problems = [f"{path}: {'.'.join(map(str, err['loc'])) or '(top)'}: {err['msg']}" for err in exc.errors()]
        raise ValueError("\n".join(problems)) from None
    seen: set[str] = set()
    for i, entry in enumerate(getattr(table, entries)):
        if entry.code in seen:
            raise ValueError(f"{path}: {entries}[{i}]: duplicate code {entry.code!r}")
        seen.add(entry.code)
    return table


@lru_cache(maxsize=8)
def _district_file(path: Path) -> DistrictFile:
    return _read(path, DistrictFile, "districts")


@lru_cache(maxsize=8)
def _district_index(path: Path) -> dict[str, District]:
    return {d.code: d for d in _district_file(path).districts}


@lru_cache(maxsize=1)
def _industry_file() -> IndustryFile:
    return _read(INDUSTRIES_FILE, IndustryFile, "industries")


@lru_cache(maxsize=1)
def _industry_index() -> dict[str, Industry]:
    return {i.code: i for i in _industry_file().industries}


@lru_cache(maxsize=1)
def _gradient_file() -> GradientFile:
    return _read(GRADIENT_FILE, GradientFile, "tiers")


def gradient() -> GradientFile:
    """The smart-factory gradient tiers with their maturity prerequisites (data, see gradient.yaml)."""
    return _gradient_file()


def gradient_verdict(level: int) -> list[tuple[GradientTier, bool]]:
    """For each tier, whether a factory at CMMM ``level`` meets its maturity prerequisite."""
    return [(tier, level >= tier.min_level) for tier in _gradient_file().tiers]


@lru_cache(maxsize=1)
def _glossary_file() -> GlossaryFile:
    return _read(GLOSSARY_FILE, GlossaryFile, "terms")


def glossary() -> list[GlossaryTerm]:
    """The acronyms used in the questionnaires' items, in the order of the file (alphabetical)."""
    return list(_glossary_file().terms)


def city(path: Path = DISTRICTS_FILE) -> City:
    """The city whose districts ``path`` lists."""
    return _district_file(path.resolve()).city


def districts(path: Path = DISTRICTS_FILE) -> list[District]:
    """The districts in the order of the file (the order a form shows them)."""
    return list(_district_file(path.resolve()).districts)


def district(code: str, path: Path = DISTRICTS_FILE) -> District:
    try:
        return _district_index(path.resolve())[code]
    except KeyError:
        raise KeyError(f"unknown district code {code!r}") from None


def industries() -> list[Industry]:
    """The manufacturing divisions C13–C43 of GB/T 4754-2017, in code order."""
    return list(_industry_file().industries)


def industry(code: str) -> Industry:
    try:
        return _industry_index()[code]
    except KeyError:
        raise KeyError(f"unknown industry code {code!r}") from None


# ---------------------------------------------------------------------------------------------------------
# 统一社会信用代码 (GB 32100-2015)

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # a character's value is its index; no I, O, S, V, Z
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
CREDIT_CODE_LENGTH = 18
_VALUE = {ch: value for value, ch in enumerate(CREDIT_CODE_ALPHABET)}
_MODULUS = len(CREDIT_CODE_ALPHABET)  # 31


def _normalise(text: str) -> str:
    """Codes are often typed in groups or in lower case: drop all whitespace, upper-case the rest."""
    return "".join(text.split()).upper()


def _check_characters(code: str) -> None:
    for position, ch in enumerate(code, start=1):
        if ch not in _VALUE:
            raise ValueError(
                f"unified social credit code {code!r}: character {position} ({ch!r}) is not allowed; "
                "only digits and capital letters other than I, O, S, V and Z are")


def credit_code_check_character(first17: str) -> str:
    """The 18th character that completes the first 17 characters of a unified social credit code."""
    body = _normalise(first17)
    if len(body) != CREDIT_CODE_LENGTH - 1:
        raise ValueError(f"the check character is computed from 17 characters; {body!r} has {len(body)}")
    _check_characters(body)
    total = sum(_VALUE[ch] * weight for ch, weight in zip(body, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(_MODULUS - total % _MODULUS) % _MODULUS]


def validate_credit_code(text: str) -> str:
    """The normalised code (no whitespace, upper case) if ``text`` is a well-formed unified social credit code.

    Checks the length, the character set and the check character of GB 32100-2015; raises ValueError saying
    what is wrong. It does not check that the code was ever issued.
    """
    code = _normalise(text)
    if len(code) != CREDIT_CODE_LENGTH:
        raise ValueError(
            f"a unified social credit code has {CREDIT_CODE_LENGTH} characters; {code!r} has {len(code)}")
    _check_characters(code)
    expected = credit_code_check_character(code[:-1])
    if code[-1] != expected:
        raise ValueError(
            f"unified social credit code {code!r}: wrong check character {code[-1]!r} (position 18); "
            f"expected {expected!r}")
    return code
