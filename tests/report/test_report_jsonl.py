"""paragraphs.jsonl: its lines are made before the options are grouped and completed with the
groups afterwards; the result is exactly one orjson line of paragraph_record per paragraph."""

from __future__ import annotations

import orjson

from pipeline.report.build import (
    build_report,
    paragraph_record,
    prepare_paragraph_lines,
    write_paragraphs,
)
from pipeline.report.model import ClassifiedParagraph

# a paragraph whose text holds the very bytes the lines are cut at, quotes and backslashes
TRICKY = {
    "source_file": "zz-tricky.docx", "contributor": "Quoting Institute",
    "organisation": None, "stakeholder_group": "Academia",
    "paragraphs": [{
        "text": 'Governments should publish the rules: ,"option_group":null,"paragraph_id":"p-x" '
                'and \\"escaped\\" text must not confuse the writer.',
        "heading": 'Q1 ,"option_group":"g-fake"',
        "challenges": ["secure_development"], "stakeholders": ["government"],
        "is_policy_option": True}],
}


def _expected(paragraphs: list[ClassifiedParagraph], groups: dict[str, str]) -> bytes:
    ordered = sorted(paragraphs, key=ClassifiedParagraph.sort_key)
    return b"".join(orjson.dumps(paragraph_record(cp, groups.get(cp.para.paragraph_id)),
                                 option=orjson.OPT_APPEND_NEWLINE) for cp in ordered)


def test_prepared_lines_completed_with_groups_equal_whole_records(make_input, tmp_path):
    inp = make_input(add=(TRICKY,))
    lines = prepare_paragraph_lines(inp.paragraphs)
    ids = [pid for pid, _, _ in lines]
    groups = {pid: f"g-{i:010d}" for i, pid in enumerate(ids) if i % 2 == 0}
    groups[ids[-1]] = "g-tricky"
    out = tmp_path / "paragraphs.jsonl"
    assert write_paragraphs(out, lines, groups) == len(inp.paragraphs)
    assert out.read_bytes() == _expected(inp.paragraphs, groups)
    assert write_paragraphs(out, lines, {}) == len(inp.paragraphs)
    assert out.read_bytes() == _expected(inp.paragraphs, {})
    rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    tricky = [r for r in rows if r["source_file"] == "zz-tricky.docx"][0]
    assert tricky["text"] == TRICKY["paragraphs"][0]["text"]
    assert tricky["option_group"] is None


def test_build_report_writes_each_paragraphs_group(make_input, encode_tfidf, settings_for,
                                                   finder, tmp_path):
    inp = make_input(add=(TRICKY,))
    result = build_report(inp, encode_tfidf, settings_for(), tmp_path, find_sentences=finder)
    groups = result.grouping.paragraph_group
    assert groups   # the sample has grouped options
    written = (tmp_path / "paragraphs.jsonl").read_bytes()
    assert written == _expected(inp.paragraphs, groups)
    assert {"prepare_jsonl", "write_jsonl"} <= set(result.timings)
