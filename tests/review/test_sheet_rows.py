"""sheet_rows writes the very XML xlsxwriter writes for the same cells, and no formula."""

from __future__ import annotations

import zipfile
from pathlib import Path

import xlsxwriter
from openpyxl import load_workbook

from pipeline.review.cells import write_cell
from pipeline.review.sheet_rows import _sheet_part, splice_rows

COLUMNS = ("id", "page", "text", "flag", "score", "note")
ROWS: list[list[object]] = [
    ["p-1", 3, "Plain text.", True, 0.25, None],
    ["p-2", None, "Fish & chips <b>bold</b> \"quoted\" > 1", False, 1e-7, ""],
    ["p-3", 12, "  leading and trailing spaces  ", None, 3, "line one\nline two\r\nthree"],
    ["p-4", 0, "=HYPERLINK(\"http://evil.example\",\"x\")", None, None, "+1 -1 @SUM(A1) \tx"],
    ["p-5", 7, "<r><t>a</t></r></is></c><c r=\"Z9\"><f>1+1</f></c><c><is><r><t>b</t></r>",
     None, None, "'already quoted"],
    ["p-6", 1, "an _x0041_ escape, a bell \x07, a form feed \x0c, \ufffe and \uffff",
     None, None, "\u00e9\u00e8 \u4e2d\u6587 \U0001f600"],
    ["p-7", 2, "ends with newline\n", None, 12345678901234567, "\u3000ideographic space"],
]


def _workbook(path: Path, rows: list[list[object]] | None, n_rows: int) -> None:
    """A sheet shaped like the review sheet: header, styled columns, autofilter; body rows
    written cell by cell through xlsxwriter when `rows` is given."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False,
                                         "strings_to_formulas": False,
                                         "strings_to_urls": False, "constant_memory": True})
    wb.add_worksheet("Before")
    ws = wb.add_worksheet("Body")
    header = wb.add_format({"bold": True})
    wrap = wb.add_format({"text_wrap": True})
    for col, name in enumerate(COLUMNS):
        write_cell(ws, 0, col, name, header)
        ws.set_column(col, col, 12, wrap if name == "text" else None,
                      {"hidden": True} if name == "note" else None)
    for r, values in enumerate(rows or [], start=1):
        for col, value in enumerate(values):
            write_cell(ws, r, col, value)
    ws.autofilter(0, 0, n_rows, len(COLUMNS) - 1)
    wb.add_worksheet("After")
    wb.close()


def _sheet_xml(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(_sheet_part(zf, name))


def test_spliced_rows_are_the_xml_xlsxwriter_writes(tmp_path: Path) -> None:
    by_cell, spliced = tmp_path / "by_cell.xlsx", tmp_path / "spliced.xlsx"
    _workbook(by_cell, ROWS, len(ROWS))
    _workbook(spliced, None, len(ROWS))
    splice_rows(spliced, {"Body": (ROWS, len(COLUMNS))})
    assert _sheet_xml(spliced, "Body") == _sheet_xml(by_cell, "Body")
    for name in ("Before", "After"):
        assert _sheet_xml(spliced, name) == _sheet_xml(by_cell, name)
    with zipfile.ZipFile(by_cell) as a, zipfile.ZipFile(spliced) as b:
        assert a.namelist() == b.namelist()

    wb = load_workbook(spliced)
    got = [list(r) for r in wb["Body"].iter_rows(min_row=2, values_only=True)]
    assert len(got) == len(ROWS)
    assert got[0][:5] == ["p-1", 3, "Plain text.", True, 0.25]
    assert got[1][2] == "Fish & chips <b>bold</b> \"quoted\" > 1"
    assert got[2][2] == "  leading and trailing spaces  "
    assert got[6][4] == 1.234567890123457e16   # 16 significant digits, as xlsxwriter writes


def test_no_value_becomes_a_formula_or_markup(tmp_path: Path) -> None:
    path = tmp_path / "spliced.xlsx"
    _workbook(path, None, len(ROWS))
    splice_rows(path, {"Body": (ROWS, len(COLUMNS))})
    ws = load_workbook(path)["Body"]
    assert all(cell.data_type != "f" for row in ws.iter_rows() for cell in row)
    assert ws["C5"].value == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    # the "<r>...</r>" text is one text cell: nothing was injected beside it
    assert ws["C6"].value.startswith("'<r><t>a</t></r></is></c>")
    assert ws["D6"].value is None and ws["Z9"].value is None
    # Excel reads _x005F_x0041_ back as the literal _x0041_ (openpyxl leaves it escaped)
    assert ws["C7"].value.startswith("an _x005F_x0041_ escape, a bell \ufffd, a form feed")


def test_xlsxwriter_itself_no_longer_takes_markup_from_text(tmp_path: Path) -> None:
    """cells.write_cell marks "<r>...</r>" text, which xlsxwriter would write as raw XML."""
    path = tmp_path / "by_cell.xlsx"
    _workbook(path, ROWS, len(ROWS))
    ws = load_workbook(path)["Body"]
    assert ws["D6"].value is None and ws["Z9"].value is None
    assert all(cell.data_type != "f" for row in ws.iter_rows() for cell in row)


def test_cached_rows_give_the_same_workbook_and_follow_their_values(tmp_path: Path) -> None:
    from pipeline.review.sheet_rows import RowCache

    cache = RowCache(tmp_path / "cache")
    plain, first, second = (tmp_path / f"{n}.xlsx" for n in ("plain", "first", "second"))
    for path in (plain, first, second):
        _workbook(path, None, len(ROWS))
    splice_rows(plain, {"Body": (ROWS, len(COLUMNS))})
    splice_rows(first, {"Body": (ROWS, len(COLUMNS))}, cache)
    assert (cache.hits, cache.misses) == (0, len(ROWS))
    # the same rows one place further down, one of them changed: only that one is new
    moved = [["p-0", 1, "A new first row.", None, None, None]] + [list(r) for r in ROWS]
    moved[3][2] = "changed text"
    _workbook(second, None, len(moved))
    splice_rows(second, {"Body": (moved, len(COLUMNS))}, cache)
    assert (cache.hits, cache.misses) == (len(ROWS) - 1, len(ROWS) + 2)
    assert _sheet_xml(first, "Body") == _sheet_xml(plain, "Body")
    by_cell = tmp_path / "by_cell.xlsx"
    _workbook(by_cell, moved, len(moved))
    assert _sheet_xml(second, "Body") == _sheet_xml(by_cell, "Body")
    cache.close()


def test_illegal_characters_are_openpyxls():
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE as openpyxl_re

    from pipeline.review.cells import ILLEGAL_CHARACTERS_RE

    assert ILLEGAL_CHARACTERS_RE.pattern == openpyxl_re.pattern
    assert ILLEGAL_CHARACTERS_RE.flags == openpyxl_re.flags


def test_a_run_does_not_import_openpyxl():
    """openpyxl only reads a reviewed sheet back; importing it cost every run 0.15 s."""
    import subprocess
    import sys

    code = ("import sys, pipeline.run, pipeline.report.build, pipeline.review.sheet\n"
            "assert 'openpyxl' not in sys.modules, 'openpyxl imported'\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_row_blocks_are_kept_whole_and_made_only_when_not_stored(tmp_path: Path) -> None:
    from pipeline.review.sheet_rows import RowBlock, RowCache

    made: list[str] = []

    def block(key: str | None, rows: list[list[object]]) -> RowBlock:
        def make() -> list[list[object]]:
            made.append(str(key))
            return rows
        return RowBlock(key, len(rows), make)

    def blocks(first: list[list[object]], key_a: str) -> list[RowBlock]:
        return [block(key_a, first), block(None, ROWS[3:5]), block("b", ROWS[5:])]

    cache = RowCache(tmp_path / "cache")
    plain, first, second, third = (tmp_path / f"{n}.xlsx" for n in ("p", "1", "2", "3"))
    for path in (plain, first, second):
        _workbook(path, None, len(ROWS))
    splice_rows(plain, {"Body": (ROWS, len(COLUMNS))})
    splice_rows(first, {"Body": (blocks(ROWS[:3], "a"), len(COLUMNS))}, cache)
    assert made == ["a", "None", "b"] and (cache.block_hits, cache.block_misses) == (0, 2)
    # every row made is stored row by row too
    assert (cache.hits, cache.misses) == (0, len(ROWS))
    assert _sheet_xml(first, "Body") == _sheet_xml(plain, "Body")

    # stored blocks come back without their rows being made; a block without a key is made
    made.clear()
    splice_rows(second, {"Body": (blocks(ROWS[:3], "a"), len(COLUMNS))}, cache)
    assert made == ["None"] and (cache.block_hits, cache.block_misses) == (2, 2)
    assert _sheet_xml(second, "Body") == _sheet_xml(plain, "Body")

    # a block under a new key is made again (its unchanged rows from the row cache), and the
    # blocks after a longer one are numbered on
    made.clear()
    longer = [["p-0", 1, "A new first row.", None, None, None]] + [list(r) for r in ROWS[:3]]
    _workbook(third, None, len(ROWS) + 1)
    splice_rows(third, {"Body": (blocks(longer, "a2"), len(COLUMNS))}, cache)
    assert made == ["a2", "None"] and cache.block_misses == 3
    assert cache.misses == len(ROWS) + 1   # only the new first row was made
    by_cell = tmp_path / "by_cell.xlsx"
    _workbook(by_cell, longer + [list(r) for r in ROWS[3:]], len(ROWS) + 1)
    assert _sheet_xml(third, "Body") == _sheet_xml(by_cell, "Body")
    cache.close()


def test_a_stored_block_of_another_length_is_made_again(tmp_path: Path) -> None:
    from pipeline.review.sheet_rows import RowBlock, RowCache

    cache = RowCache(tmp_path / "cache")
    first, second = tmp_path / "1.xlsx", tmp_path / "2.xlsx"
    _workbook(first, None, 3)
    splice_rows(first, {"Body": ([RowBlock("k", 3, lambda: ROWS[:3])], len(COLUMNS))}, cache)
    # the same key claiming other rows (a torn or foreign entry): the rows are made
    _workbook(second, None, 2)
    splice_rows(second, {"Body": ([RowBlock("k", 2, lambda: ROWS[3:5])], len(COLUMNS))}, cache)
    got = [list(r) for r in load_workbook(second)["Body"].iter_rows(min_row=2, values_only=True)]
    assert [r[0] for r in got] == ["p-4", "p-5"]
    cache.close()
