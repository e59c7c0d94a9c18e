"""The one safe way to put user data into a spreadsheet cell or a CSV field, and the shared look.

User text never becomes a formula: in a workbook it is stored as a string with Excel's quote prefix, so it stays
text even when someone edits the cell; in CSV a value starting with = + - @, a tab or a carriage return gets a
leading apostrophe (OWASP's advice against CSV injection). The full-width forms ＝ ＋ － ＠ count too: some spreadsheet
programs (and Chinese input methods, which type them by default) turn them into the ASCII signs and so a formula.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

FONT_NAME = "Microsoft YaHei"  # 微软雅黑: on every Chinese Windows; LibreOffice falls back to Noto Sans CJK
FONT = Font(name=FONT_NAME, size=10)
BOLD = Font(name=FONT_NAME, size=10, bold=True)
TITLE = Font(name=FONT_NAME, size=16, bold=True)
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
HEADER_FONT = Font(name=FONT_NAME, size=10, bold=True, color="FFFFFF")
THIN = Side(style="thin", color="BFBFBF")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # ASCII, then ＝ ＋ － ＠


def wrapped_height(text: str, width: int) -> float:
    """Row height (points) for wrapped text in a column ``width`` characters wide; CJK characters count twice.
    Spreadsheet programs do not all fit row heights to wrapped text on opening: the writer gives the height."""
    lines = sum(max(1, math.ceil(sum(2 if ord(ch) > 0x2E7F else 0.85 for ch in line) / (width - 2)))
                for line in text.split("\n"))
    return 14.0 * lines


def plain(value: Any) -> Any:
    """A value a cell can hold: numbers, dates and booleans as they are, everything else as text."""
    if value is None or isinstance(value, bool | int | float | date | datetime):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _as_text(cell) -> None:
    if isinstance(cell.value, str):
        cell.data_type = "s"  # openpyxl would otherwise read a leading "=" as a formula
        cell.quotePrefix = True if cell.value.startswith(FORMULA_STARTS) else cell.quotePrefix


def put(ws: Worksheet, row: int, column: int, value: Any, *, font: Font = FONT, **style: Any):
    """Write one cell of a normal worksheet; text stays text."""
    cell = ws.cell(row=row, column=column, value=plain(value))
    _as_text(cell)
    cell.font = font
    for key, val in style.items():
        setattr(cell, key, val)
    return cell


def put_row(ws: Worksheet, row: int, values: list[Any], *, first_column: int = 1, **style: Any) -> None:
    for offset, value in enumerate(values):
        put(ws, row, first_column + offset, value, **style)


def header(ws: Worksheet, row: int, titles: list[str], *, first_column: int = 1) -> None:
    put_row(ws, row, titles, first_column=first_column, font=HEADER_FONT, fill=HEADER_FILL, border=BORDER,
            alignment=Alignment(wrap_text=True, vertical="center", horizontal="center"))


def streamed(ws, value: Any, *, font: Font = FONT, **style: Any) -> WriteOnlyCell:
    """A cell for a write-only worksheet (large sheets); text stays text."""
    cell = WriteOnlyCell(ws, value=plain(value))
    _as_text(cell)
    cell.font = font
    for key, val in style.items():
        setattr(cell, key, val)
    return cell


def csv_field(value: Any) -> Any:
    """A value for a CSV export that a spreadsheet program will not run as a formula."""
    value = plain(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
