"""Safe spreadsheet cells: contributor text never becomes a formula.

A value that a spreadsheet program could read as a formula or a DDE command (first character
= + - @, or a leading tab / carriage return) is stored as text with a leading apostrophe, the
mark spreadsheets use for "this is text". So that reading back is unambiguous, a value that
already starts with an apostrophe gets one too; `restore_text` removes exactly one.
Characters that cannot be stored in XLSX (C0 control characters) are replaced by U+FFFD.
Text shaped like "<r>...</r>" gets the apostrophe too: xlsxwriter (constant_memory) writes such a
string into the sheet as raw XML, so without it a submission could inject a cell, formula
included.
"""

from __future__ import annotations

import math
import re
from typing import Any

# openpyxl's ILLEGAL_CHARACTERS_RE (a test checks they stay equal): importing it from
# openpyxl.cell.cell imports most of openpyxl, 0.15 s of every run's start
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")

# Excel's (and xlsxwriter's) limit on the characters of one cell
CELL_LIMIT = 32767
DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
SAFE_MARK = "'"
_MARKED_FIRST = frozenset(DANGEROUS_FIRST + (SAFE_MARK,))


def neutralise(value: Any) -> Any:
    """The value to store in a cell: numbers and booleans as they are, text made inert."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value if type(value) is str else str(value)
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)
    if text[:1] in _MARKED_FIRST or (text.startswith("<r>") and text.endswith("</r>")):
        text = SAFE_MARK + text
    if len(text) > CELL_LIMIT:   # a display cell (a long contributor list): cut visibly
        text = text[:CELL_LIMIT - 1] + "\u2026"
    return text


def restore_text(value: Any) -> str | None:
    """What was neutralised: the cell's text without the one leading apostrophe we added."""
    if value is None:
        return None
    text = str(value)
    if text.startswith(SAFE_MARK):
        text = text[1:]
    return text


def write_cell(ws: Any, row: int, column: int, value: Any, fmt: Any = None) -> None:
    """Write a value into an xlsxwriter sheet (0-based row and column) so it is never a
    formula: text goes through write_string, which stores it as a string whatever it looks
    like. A blank value writes nothing unless it carries a format of its own."""
    safe = neutralise(value)
    if safe is None or safe == "":
        if fmt is not None:
            ws.write_blank(row, column, None, fmt)
    elif isinstance(safe, bool):
        ws.write_boolean(row, column, safe, fmt)
    elif isinstance(safe, (int, float)) and math.isfinite(safe):
        ws.write_number(row, column, safe, fmt)
    else:
        ws.write_string(row, column, str(safe), fmt)
