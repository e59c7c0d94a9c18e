"""The one table every benchmark prints: figure, size, measured value, bar, ratio, result.

A row is a dict. Keys every benchmark fills: ``figure`` (what is measured, without the size, so that a figure keeps
its name in a quick run), ``value`` (the measurement as people read it), ``bar`` (the bar of DESIGN.md §6, or ""),
``ok`` (True / False, or None when the bar is not judged in this run). Optional: ``id`` (a stable key, e.g.
``scoring.batch``), ``size`` (what the figure was measured over, e.g. "100,000 sets") and ``ratio`` (the measured
ratio, filled where the bar is a ratio).
"""

from __future__ import annotations

COLUMNS = (("figure", "figure"), ("size", "size"), ("value", "measured"), ("bar", "bar"), ("ratio", "ratio"),
           ("result", "result"))
OPTIONAL = {"size", "ratio"}  # shown only when some row fills them


def row(key: str, figure: str, value: str, bar: str = "", ok: bool | None = None, *, size: str = "",
        ratio: str = "") -> dict:
    return {"id": key, "figure": figure, "size": size, "value": value, "bar": bar, "ratio": ratio, "ok": ok}


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("pass" if ok else "FAIL")


def _columns(rows: list[dict]) -> list[tuple[str, str]]:
    return [(key, title) for key, title in COLUMNS if key not in OPTIONAL or any(r.get(key) for r in rows)]


def _cells(rows: list[dict], columns: list[tuple[str, str]]) -> list[list[str]]:
    return [[verdict(r["ok"]) if key == "result" else str(r.get(key) or "") for key, _ in columns] for r in rows]


def print_table(rows: list[dict]) -> None:
    """The rows as aligned plain-text columns, with a header line."""
    columns = _columns(rows)
    lines = [[title for _, title in columns], *_cells(rows, columns)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
    for line in lines:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


def markdown_table(rows: list[dict]) -> str:
    """The rows as a Markdown table (for the README)."""
    columns = _columns(rows)
    lines = ["| " + " | ".join(title for _, title in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell.strip().replace("|", "\\|") for cell in cells) + " |"
              for cells in _cells(rows, columns)]
    return "\n".join(lines)
