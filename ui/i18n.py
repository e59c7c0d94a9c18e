"""Every word of the interface comes from the locale files: ui/locales/<lang>/*.yaml (zh first, en too).

Keys are dotted (``signin.title``); a file per page group keeps them apart. A missing English text falls back
to the Chinese one, a missing key shows the key itself (and a test fails on it).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import streamlit as st
import yaml

LOCALES = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("zh", "en")


@lru_cache(maxsize=len(LANGUAGES))
def words(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((LOCALES / lang).glob("*.yaml")):
        merged.update(_flatten(yaml.safe_load(path.read_text(encoding="utf-8")) or {}))
    return merged


def _flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    flat = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def lang() -> str:
    return st.session_state.get("lang", "zh")


def t(key: str, **params) -> str:
    text = words(lang()).get(key) or words("zh").get(key) or key
    return text.format(**params) if params else text
