"""`cenb review apply`: validation first (nothing half-applied), then confirmed labels that
`cenb train` reads, idempotently; re-runs keep decisions and never overwrite a reviewed sheet."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline.errors import ReviewError
from pipeline.report.build import attach_confirmed, build_report
from pipeline.review.apply import apply_review
from pipeline.review.confirmed import load_confirmed

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=timezone.utc)


def fill(path: Path, sheet: str, row_id: str, reviewer: str | None = None, **values) -> None:
    """Type reviewer input into the row whose id (first column) is row_id."""
    wb = load_workbook(path)
    ws = wb[sheet]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == row_id:
            for name, value in values.items():
                cell = row[header.index(name)]
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"  # as Excel stores text typed after an apostrophe
            break
    else:
        raise AssertionError(f"{row_id} not in {sheet}")
    if reviewer is not None:
        wb["README"]["B4"].value = reviewer
    wb.save(path)


def row_number(path: Path, sheet: str, row_id: str) -> int:
    ws = load_workbook(path)[sheet]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == row_id:
            return row[0].row
    raise AssertionError(row_id)


@pytest.fixture
def run(tmp_path, make_input, finder, encode_tfidf, settings_for):
    """run(out_dir) builds the report as `cenb run` does, with labels/ under tmp_path."""
    settings = settings_for()

    def do(out: Path):
        inp = make_input()
        attach_confirmed(inp.paragraphs, load_confirmed(settings.labels_dir))
        return inp, build_report(inp, encode_tfidf, settings, out, find_sentences=finder,
                                 now=datetime.now().astimezone())

    return settings, do


def _pid(inp, needle: str) -> str:
    return next(cp.para.paragraph_id for cp in inp.paragraphs if needle in cp.para.text)


def test_validation_lists_every_bad_row_and_writes_nothing(tmp_path, run):
    settings, do = run
    inp, result = do(tmp_path / "out")
    sheet = result.paths["review"]
    group = result.grouping.groups[0].group_id
    p1, p2, p3 = (_pid(inp, "SIM card"), _pid(inp, "Platforms should"),
                  _pid(inp, "lawful interception"))
    p4, p5 = _pid(inp, "Universities should"), _pid(inp, "open recursion")
    fill(sheet, "Paragraphs", p1, decision="acept")                          # unknown decision
    fill(sheet, "Paragraphs", p2, decision="relabel")                        # no key
    fill(sheet, "Paragraphs", p3, decision="relabel", relabel_to="privacy")  # unknown key
    fill(sheet, "Paragraphs", p4, decision="merge", merge_into="g-doesnotexist")
    fill(sheet, "Paragraphs", p5, relabel_to="mobile")                       # key, no decision
    fill(sheet, "Groups", group, decision="accept", group_id="g-0000000000")  # edited id
    ok = _pid(inp, "Mobile operators should")  # a valid row must not be half-applied
    before = load_workbook(sheet)["Paragraphs"]
    with pytest.raises(ReviewError) as err:
        apply_review(sheet, settings, reviewer="Ana", now=NOW)
    msg = str(err.value)
    assert "6 problem(s); nothing was applied" in msg
    for pid, what in ((p1, "unknown decision 'acept'"), (p2, "needs a challenge key"),
                      (p3, "unknown challenge key 'privacy'"),
                      (p4, "'g-doesnotexist' is not a group id"),
                      (p5, "relabel_to is 'mobile' but decision is empty")):
        assert f"Paragraphs row {row_number(sheet, 'Paragraphs', pid)}: " in msg
        assert what in msg
    assert "Groups row 2: unknown group id 'g-0000000000'" in msg
    assert not (settings.labels_dir / "confirmed").exists()
    assert ok and before.max_row > 1


def test_edited_paragraph_id_is_refused(tmp_path, run):
    settings, do = run
    inp, result = do(tmp_path / "out")
    sheet = result.paths["review"]
    pid = _pid(inp, "SIM card")
    fill(sheet, "Paragraphs", pid, decision="accept", paragraph_id="p-0123456789abcdef")
    with pytest.raises(ReviewError, match="unknown paragraph id 'p-0123456789abcdef'"):
        apply_review(sheet, settings, reviewer="Ana", now=NOW)
    fill(sheet, "Paragraphs", "p-0123456789abcdef", paragraph_id=None)
    with pytest.raises(ReviewError, match="paragraph_id is missing"):
        apply_review(sheet, settings, reviewer="Ana", now=NOW)


def test_round_trip_apply_train_rerun(tmp_path, run, monkeypatch):
    settings, do = run
    out = tmp_path / "out"
    inp, result = do(out)
    sheet = result.paths["review"]
    by_challenge = result.grouping.by_challenge()
    rel = by_challenge["reliability_access"]
    target = max(rel, key=lambda g: g.support)
    p_accept = _pid(inp, "SIM card")
    p_reject = _pid(inp, "Platforms should")
    p_relabel = _pid(inp, "Universities should")
    p_merge = next(pid for g in rel if g is not target for pid in g.paragraph_ids
                   if pid not in target.paragraph_ids)
    fill(sheet, "Paragraphs", p_accept, decision="accept", comment="=cmd|' /C calc'!A0",
         reviewer="Ana Reviewer")
    fill(sheet, "Paragraphs", p_reject, decision="reject")
    fill(sheet, "Paragraphs", p_relabel, decision="relabel", relabel_to="secure_development")
    fill(sheet, "Paragraphs", p_merge, decision="merge", merge_into=target.group_id)
    campaign = next(g for g in by_challenge["awareness_capacity"] if g.support > 1)
    fill(sheet, "Groups", campaign.group_id, decision="Accept")

    summary = apply_review(sheet, settings, now=NOW)
    assert "Reviewed by Ana Reviewer" in summary
    files = sorted((settings.labels_dir / "confirmed").glob("*.jsonl"))
    assert len(files) == 1 and files[0].name.startswith("2026-11-23-")
    rows = {r["paragraph_id"]: r for r in map(json.loads, files[0].read_text().splitlines())}
    assert rows[p_accept]["decision"] == "accept"
    assert rows[p_accept]["challenges"] == ["mobile"]
    assert rows[p_accept]["comment"] == "=cmd|' /C calc'!A0"
    assert rows[p_reject]["challenges"] == []
    assert rows[p_relabel]["challenges"] == ["secure_development"]
    assert rows[p_merge]["merge_into"] == target.group_id
    for pid in campaign.paragraph_ids:
        assert rows[pid]["decision"] == "accept" and rows[pid]["group_id"] == campaign.group_id
        assert "awareness_capacity" in rows[pid]["challenges"]
    for r in rows.values():
        assert r["source"] == "review" and r["reviewer"] == "Ana Reviewer"
        assert r["reviewed_at"] == "2026-11-23T10:30:00+00:00"
        assert r["text"] == next(cp.para.text for cp in inp.paragraphs
                                 if cp.para.paragraph_id == r["paragraph_id"])

    # idempotent: the same sheet again adds nothing
    again = apply_review(sheet, settings, now=NOW)
    assert "already applied" in again
    assert sorted((settings.labels_dir / "confirmed").glob("*.jsonl")) == files

    # `cenb train`'s loader accepts the file and the confirmed rows override by paragraph id
    from pipeline.classify.labels import load_labels

    labels = load_labels(settings.labels_dir, require=True)
    assert {r.paragraph_id for r in labels.rows if r.source == "review"} == set(rows)

    # re-run: confirmed paragraphs marked, decisions pre-filled, reviewed sheet kept
    inp2, result2 = do(out)
    assert result2.notes and "was kept" in result2.notes
    new_sheet = result2.paths["review"]
    assert new_sheet != sheet and new_sheet.name.startswith("review-")
    kept = load_workbook(sheet)["README"]["B4"].value
    assert kept == "Ana Reviewer"                           # the reviewed sheet is untouched
    confirmed = {cp.para.paragraph_id: cp.confirmed for cp in inp2.paragraphs if cp.confirmed}
    assert set(confirmed) == set(rows)
    ws = load_workbook(new_sheet)["Paragraphs"]
    header = [c.value for c in ws[1]]
    prefilled = {r[0].value: r[header.index("decision")].value for r in ws.iter_rows(min_row=2)}
    assert prefilled[p_reject] == "reject" and prefilled[p_relabel] == "relabel"
    assert prefilled[p_accept] == "accept" and prefilled[p_merge] == "merge"
    # the merge is honoured in the new grouping, the rejected paragraph left its group
    assert result2.grouping.paragraph_group[p_merge] == target.group_id
    assert p_reject not in result2.grouping.paragraph_group
    para_lines = [json.loads(x) for x in (out / "paragraphs.jsonl").read_text().splitlines()]
    relabelled = next(r for r in para_lines if r["paragraph_id"] == p_relabel)
    assert relabelled["challenges"] == ["secure_development"]
    assert relabelled["label_source"] == "review"
    page = (out / "report.html").read_text()
    assert "confirmed" in page and "Ana Reviewer" in page

    # the pre-filled new sheet has no reviewer input: applying it adds nothing
    from pipeline.review.sheet import sheet_has_reviewer_input

    assert not sheet_has_reviewer_input(new_sheet)
    summary3 = apply_review(new_sheet, settings, reviewer="Ana Reviewer", now=NOW)
    assert "already recorded" in summary3 and "Nothing new" in summary3
    # a third run still keeps the reviewed review.xlsx and writes its sheet beside it
    _, result3 = do(out)
    assert result3.paths["review"] != sheet and result3.paths["review"].exists()
    assert load_workbook(sheet)["README"]["B4"].value == "Ana Reviewer"


def test_untouched_sheet_is_replaced(tmp_path, run):
    _, do = run
    out = tmp_path / "out"
    _, first = do(out)
    assert first.paths["review"] == out / "review.xlsx"
    _, second = do(out)
    assert second.paths["review"] == out / "review.xlsx" and second.notes is None


def test_group_decisions_reject_relabel_merge(tmp_path, run):
    settings, do = run
    inp, result = do(tmp_path / "out")
    sheet = result.paths["review"]
    groups = result.grouping.groups
    mobile = next(g for g in groups if g.challenge == "mobile")
    social = next(g for g in groups if g.challenge == "social_media")
    rel = [g for g in groups if g.challenge == "reliability_access"]
    fill(sheet, "Groups", mobile.group_id, decision="relabel", relabel_to="unauthorized_device_access")
    fill(sheet, "Groups", social.group_id, decision="reject", comment="not a real proposal")
    fill(sheet, "Groups", rel[1].group_id, decision="merge", merge_into=rel[0].group_id)
    apply_review(sheet, settings, reviewer="Bo", now=NOW)
    latest = load_confirmed(settings.labels_dir)
    for pid in mobile.paragraph_ids:
        assert latest[pid].challenges == ("unauthorized_device_access",)
    for pid in social.paragraph_ids:
        assert latest[pid].challenges == () and latest[pid].comment == "not a real proposal"
    for pid in rel[1].paragraph_ids:
        assert latest[pid].merge_into == rel[0].group_id
        assert "reliability_access" in latest[pid].challenges


def test_merge_into_a_rejected_group_is_an_error(tmp_path, run):
    settings, do = run
    _, result = do(tmp_path / "out")
    sheet = result.paths["review"]
    a, b = result.grouping.groups[:2]
    fill(sheet, "Groups", a.group_id, decision="reject")
    fill(sheet, "Groups", b.group_id, decision="merge", merge_into=a.group_id)
    with pytest.raises(ReviewError, match="that group is itself rejected"):
        apply_review(sheet, settings, reviewer="Bo", now=NOW)
    fill(sheet, "Groups", a.group_id, decision=None)
    fill(sheet, "Groups", b.group_id, decision="merge", merge_into=b.group_id)
    with pytest.raises(ReviewError, match="cannot be merged into itself"):
        apply_review(sheet, settings, reviewer="Bo", now=NOW)


def test_not_a_review_sheet(tmp_path, settings_for):
    bad = tmp_path / "x.xlsx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ReviewError, match="not a readable .xlsx"):
        apply_review(bad, settings_for(), reviewer="A")
    with pytest.raises(ReviewError, match="does not exist"):
        apply_review(tmp_path / "missing.xlsx", settings_for(), reviewer="A")


def test_group_too_large_for_a_cell_lists_members_in_hidden_sheet(tmp_path, run, monkeypatch):
    # Excel cells hold 32,767 characters; a limit of 20 makes every multi-paragraph group
    # overflow, as groups of 1,500+ paragraphs do at 3,000 contributions
    monkeypatch.setattr("pipeline.review.sheet.CELL_LIMIT", 20)   # not in cells: texts stay whole
    settings, do = run
    _, result = do(tmp_path / "out")
    sheet = result.paths["review"]
    big = [g for g in result.grouping.groups if len(g.paragraph_ids) > 1]
    assert big
    wb = load_workbook(sheet)
    assert wb["Members"].sheet_state == "hidden"
    header = [c.value for c in wb["Groups"][1]]
    cells = {r[0].value: r[header.index("paragraph_ids")].value
             for r in wb["Groups"].iter_rows(min_row=2)}
    assert cells[big[0].group_id] == (f"{len(big[0].paragraph_ids)} paragraphs, listed in "
                                      "the hidden sheet Members")

    from pipeline.review.sheet import read_review_sheet

    read = {r.get("group_id"): r.get("paragraph_ids") for r in read_review_sheet(sheet).groups}
    for g in result.grouping.groups:
        assert read[g.group_id] == ", ".join(g.paragraph_ids)

    fill(sheet, "Groups", big[0].group_id, decision="reject", comment="too broad")
    apply_review(sheet, settings, reviewer="Bo", now=NOW)
    latest = load_confirmed(settings.labels_dir)
    assert all(latest[pid].comment == "too broad" for pid in big[0].paragraph_ids)

    # an edited member list is caught by the row's check, like an edited cell
    _, again = do(tmp_path / "out2")
    sheet2 = again.paths["review"]
    wb = load_workbook(sheet2)
    wb["Members"]["B2"].value = "p-0000000000000000"
    wb.save(sheet2)
    fill(sheet2, "Groups", wb["Members"]["A2"].value, decision="accept")
    with pytest.raises(ReviewError, match="paragraph_ids of this row were edited"):
        apply_review(sheet2, settings, reviewer="Bo", now=NOW)
