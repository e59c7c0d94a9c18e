"""User text — names, notes, comments, file names, an address's parameter, input quoted by an error — shown as
typed wherever the app puts it into something that reads markup.

Streamlit reads Markdown in markdown, write, captions, titles and headers, alerts, the labels, help texts and
radio options of widgets, expander and tab labels, metric values and progress texts (not in tables, input values
or the options of select boxes, which need no escaping). Escaping Markdown's punctuation is not enough: after
undoing the escapes Streamlit 1.67 still looks in the text for web and e-mail addresses (GFM autolinks),
``:material/…:`` and ``:streamlit:`` (pictures), emoji codes and ``--``, ``->``, ``>=`` (typography). An
invisible word joiner (U+2060) between their characters breaks each of those; the text reads the same.
Plotly reads a subset of HTML in a chart's names (``chart_text``).
"""

from __future__ import annotations

import html
import re

WORD_JOINER = "\u2060"
# Where the word joiner goes: after a colon (http:, :material/…:, emoji codes), before an @ (e-mail addresses),
# inside "www." and between the characters of Streamlit's arrows and dashes.
_TEXT_MARKUP = re.compile(r"(?<=:)|(?=@)|(?<=www)(?=\.)|(?<=[-<>~])(?=[-<>=])", re.IGNORECASE)
# Markdown's inline punctuation: emphasis, links, HTML and entities, maths, code, strikethrough, tables, setext
_MARKUP = re.compile(r"([\\`*_\[\]<>~$:|&=])")
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)  # four spaces make a code block (Markdown drops indentation anyway)
_LINE_MARKUP = re.compile(r"^([#>+-]|\d+(?=[.)]))", re.MULTILINE)  # headings, quotes, list items


def plain(text: str) -> str:
    """``text`` for a place that reads Markdown: shown as typed, never formatting, a link, a picture or HTML."""
    text = _INDENT.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    escaped = _MARKUP.sub(r"\\\1", _TEXT_MARKUP.sub(WORD_JOINER, text))
    return _LINE_MARKUP.sub(lambda m: f"{m.group(1)}\\" if m.group(1)[0].isdigit() else f"\\{m.group(1)}", escaped)


def chart_text(text: str) -> str:
    """``text`` for a Plotly chart's names and labels, which read <a>, <b>, <br> and entities: shown as typed."""
    return html.escape(text, quote=False)
