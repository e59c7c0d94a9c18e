"""Streamlit's own words, said in the user's language.

Streamlit writes some words of its widgets in English whatever the page's language. Where its API takes them
(a select box's placeholder, a table's missing values, a chart's tool tips) the pages pass them through the helpers
here; what the API does not expose (the file uploader's button and limits, the date fields' placeholders, the
skip link, the chart's full-screen button) is replaced by one style sheet, put on the page once per run by
``style()``: it makes Streamlit's text invisible and shows the locale's words in its place. The selectors are the
``data-testid`` attributes of Streamlit 1.67's DOM (tests/test_browser_words.py checks every page in a browser).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from ui.i18n import lang, t

# Plotly's tool tips of the charts' tool bar (its own English), by the text Plotly looks up.
PLOTLY_WORDS = {
    "Download plot as a PNG": "chart.download", "Download plot": "chart.download", "Zoom": "chart.zoom",
    "Pan": "chart.pan", "Zoom in": "chart.zoom_in", "Zoom out": "chart.zoom_out", "Autoscale": "chart.autoscale",
    "Reset axes": "chart.reset", "Reset view": "chart.reset", "Reset views": "chart.reset",
    "Box Select": "chart.box_select", "Lasso Select": "chart.lasso_select",
    "Show closest data on hover": "chart.closest", "Compare data on hover": "chart.compare",
    "Toggle show closest data on hover": "chart.closest", "Toggle Spike Lines": "chart.spikes",
    "Preparing image - this may take a few seconds": "chart.preparing",
    "Taking snapshot - this may take a few seconds": "chart.preparing",
    "Snapshot succeeded": "chart.snapshot_done", "Sorry, there was a problem downloading your snapshot!":
        "chart.snapshot_failed",
    "Double-click to zoom back out": "chart.double_click",
}


def _css_text(text: str) -> str:
    """A CSS string literal holding ``text``."""
    return json.dumps(text, ensure_ascii=False)


def _replaced(selector: str, words: str) -> str:
    """Streamlit's text in ``selector`` made invisible (no width, no height) and ``words`` shown instead."""
    return (f"{selector} {{ font-size: 0 !important; }}\n"
            f"{selector}::after {{ content: {_css_text(words)}; font-size: 1rem; }}\n")


def style_sheet(language: str) -> str:
    """The rules for ``language``: nothing for English, which is Streamlit's own language."""
    if language == "en":
        return ""
    say = lambda key: t(f"builtin.{key}")  # noqa: E731 - read in the current language
    rules = [
        _replaced("[data-testid='stSkipToContent']", say("skip")),
        # The uploader: its button, and the limit line (the page's caption says the limit and the types).
        _replaced("[data-testid='stFileUploaderDropzone'] button [data-testid='stMarkdownContainer'] p",
                  say("upload")),
        "[data-testid='stFileUploaderDropzoneInstructions'] span { font-size: 0 !important; }\n",
        # While a file is dragged over it, the drop zone's text (its only element that is not a field or button).
        _replaced("[data-testid='stFileUploaderDropzone'] > div:not([data-testid]) span", say("drop_here")),
        # A multiselect's first options: "Select all", "Select N matches" (while searching).
        _replaced("[role='option'][data-key='__select_all__'] > div", say("select_all")),
        _replaced("[role='option'][data-key='__select_matches__'] > div", say("select_matches")),
        # A date field's empty parts: yyyy / mm / dd.
        *(_replaced(f"[data-testid='stDateInputField'] [data-placeholder='true'][data-type='{part}']", say(part))
          for part in ("year", "month", "day")),
        # The full-screen button that Streamlit adds to a chart's tool bar (its tool tip is the data-title).
        *(f".modebar-btn[data-title='{title}']::after {{ content: {_css_text(say(key))} !important; }}\n"
          for title, key in (("Fullscreen", "fullscreen"), ("Close fullscreen", "close_fullscreen"),
                             ("Exit fullscreen", "close_fullscreen"))),
    ]
    return "".join(rules)


def style() -> None:
    """Put the style sheet of the current language on the page; called once per run, before any page. One element
    in every language (an empty sheet in English), so that the page's elements keep their places on a switch."""
    st.html(f"<style>\n{style_sheet(lang())}</style>")


def choose() -> str:
    """The placeholder of a select box with nothing chosen."""
    return t("builtin.choose")


def choose_many() -> str:
    """The placeholder of a multiselect with nothing chosen."""
    return t("builtin.choose_many")


def table(data: pd.DataFrame, **options: Any) -> None:
    """A table; a missing value shows as a dash, and a table without rows as a sentence saying so."""
    if data.empty:
        st.caption(t("builtin.nothing_yet"))
        return
    st.dataframe(data, placeholder=t("builtin.missing"), **options)


def chart(figure, **options: Any) -> None:
    """A Plotly chart whose tool bar speaks the user's language."""
    language = lang()
    config = dict(options.pop("config", None) or {})
    if language != "en":
        config |= {"locale": language, "locales": {language: {"dictionary": {
            english: t(f"builtin.{key}") for english, key in PLOTLY_WORDS.items()}}}}
    st.plotly_chart(figure, config=config, **options)
