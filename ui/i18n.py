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


def language_changed() -> None:
    """The language switch's callback: runs before the page runs again in the new language.

    Streamlit's choice widgets (selectbox, radio, multiselect, …) hand back to the server the *word* the browser
    shows for their value, not the value; after a switch that word (全部满足) names no option of the new language
    (Full), and the widget would take the word itself as its value. Setting each such widget's value again from
    the server's side — where it is still the code — makes Streamlit show it in the new words. Tabs, whose value
    is their label, are given the same label in the new language. Text inputs are left alone: a form's text
    that is typed but not yet submitted lives only in the browser and must not be overwritten."""
    state = st.session_state
    for key, kind in _choice_widgets().items():
        value = state[key]
        if kind == "tabs":
            value = _same_words(value)
        state[key] = value


def _choice_widgets() -> dict[str, str]:
    """Keyed widgets of the last run whose value the browser holds as a shown word: "choice" (their options are
    formatted by a format function) or "tabs". Streamlit has no public way to tell; this reads its widget
    metadata, and the browser test of the language switch (tests/test_browser_language.py) fails if it stops
    finding them."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    state = ctx.session_state._state if ctx is not None else None
    if state is None:
        return {}
    found = {}
    for widget_id, key in state._key_id_mapper.id_key_mapping.items():
        metadata = state._new_widget_state.widget_metadata.get(widget_id)
        serde = getattr(getattr(metadata, "deserializer", None), "__self__", None)
        if hasattr(serde, "format_func"):
            found[key] = "choice"
        elif type(serde).__name__ == "_TabsSerde":
            found[key] = "tabs"
    return found


def _same_words(shown: str) -> str:
    """``shown`` (a label in some language) in the current language, when it is a text of the locale files."""
    for language in LANGUAGES:
        key = next((key for key, text in words(language).items() if text == shown), None)
        if key is not None:
            return t(key)
    return shown
