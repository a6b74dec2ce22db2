"""The contribution memo: a second `cenb run` takes unchanged files' documents, paragraphs and
predictions from it, with the same outputs; a manifest edit, a changed file or an unreadable
entry builds that file again.

Runs run_pipeline on four sample contributions with the committed model. The project's
extraction, rule, embedding and prediction caches are shared (content-addressed); the memo and
the report caches are this test's own.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml

from pipeline import PROJECT_ROOT
from pipeline.contribution_memo import ContributionMemo, _decode, _encode
from pipeline.records import Prediction
from pipeline.report.option_quotes import ParagraphQuotes

pytestmark = pytest.mark.slow

CORPUS = PROJECT_ROOT / "corpus" / "raw"
FILES = ("2017-bpf-brightwater-software.docx", "2017-bpf-crae-estmark.pdf",
         "2017-bpf-lakenog.docx", "2017-bpf-ortsa.pdf")
SHARED_CACHES = ("extract", "rules", "embeddings", "predictions")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from pipeline.config import load_settings

    root = tmp_path_factory.mktemp("memo")
    base = load_settings()
    cache = root / "cache"
    cache.mkdir()
    for name in SHARED_CACHES:
        (base.cache_dir / name).mkdir(parents=True, exist_ok=True)
        (cache / name).symlink_to((base.cache_dir / name).resolve(), target_is_directory=True)
    raw = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))
    raw["paths"].update({"cache_dir": str(cache), "models_dir": str(root / "models"),
                         "labels_dir": str(root / "labels")})
    params = root / "params.yaml"
    params.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    shutil.copytree(PROJECT_ROOT / "models", root / "models")
    (root / "labels").mkdir()
    corpus = root / "corpus"
    corpus.mkdir()
    for name in FILES:
        shutil.copy(CORPUS / name, corpus / name)
    return {"root": root, "settings": load_settings(params), "corpus": corpus}


def _run(setup, name: str) -> tuple[Path, dict]:
    from pipeline.run import run_pipeline

    out = setup["root"] / name
    run_pipeline(setup["corpus"], out, setup["settings"], progress=False)
    return out, json.loads((out / "run.json").read_text(encoding="utf-8"))["counts"]


def _memo_rows(setup) -> int:
    (path,) = (setup["settings"].cache_dir / "contributions").glob("contributions-*.sqlite")
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT COUNT(*) FROM contributions").fetchone()[0]


def test_memo_round_trip_and_invalidation(setup):
    first, counts1 = _run(setup, "run1")
    assert counts1["files_from_memo"] == 0
    assert _memo_rows(setup) == len(FILES)

    # a second run recalls every file, and every output line is the same
    second, counts2 = _run(setup, "run2")
    assert counts2["files_from_memo"] == len(FILES)
    assert counts2["paragraphs"] == counts1["paragraphs"]
    assert (second / "paragraphs.jsonl").read_bytes() == (first / "paragraphs.jsonl").read_bytes()
    # the option quotes came back with the files: the same quotes and groups
    for name in ("option_sentences", "option_groups", "quotes", "quotes_dropped"):
        assert counts2[name] == counts1[name], name
    (path,) = (setup["settings"].cache_dir / "contributions").glob("contributions-*.sqlite")
    with sqlite3.connect(path) as conn:
        rows = [raw for (raw,) in conn.execute("SELECT built FROM contributions")]
    kept = [q for raw in rows for q in _decode(raw)[2] if q is not None]
    assert sum(len(q.spans) for q in kept) >= counts1["option_sentences"] > 0

    # a manifest entry changes the file's contributor: that file is built again
    manifest = setup["corpus"] / "manifest.csv"
    manifest.write_text("file,contributor,organisation,stakeholder_group\n"
                        f"{FILES[2]},Memo Test Contributor,Memo Org,civil_society\n",
                        encoding="utf-8")
    try:
        third, counts3 = _run(setup, "run3")
    finally:
        manifest.unlink()
    assert counts3["files_from_memo"] == len(FILES) - 1
    rows = [json.loads(line) for line in
            (third / "paragraphs.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["contributor"] for r in rows if r["source_file"] == FILES[2]} == \
        {"Memo Test Contributor"}
    # the review sheet keeps each file's rows under the file's state, which the manifest entry
    # changed: the new contributor is in the sheet too, the other files' rows are as they were
    from pipeline.review.sheet import read_review_sheet

    def sheet_rows(out: Path) -> dict[str, tuple]:
        return {r.get("paragraph_id"): (r.get("source_file"), r.get("contributor"),
                                        r.get("text"), r.get("option_group"))
                for r in read_review_sheet(out / "review.xlsx").paragraphs}

    before, after = sheet_rows(second), sheet_rows(third)
    assert before == sheet_rows(first) and before.keys() == after.keys()
    # the second run took each area's groups from the area records the first stored
    def groups(out: Path) -> list[dict]:
        return [r.values for r in read_review_sheet(out / "review.xlsx").groups]

    assert groups(second) == groups(first) and groups(first)
    assert counts2["areas_clustered"] == 0
    # and the page is the same, its groups' fragments keyed by their contributions' states
    def page(out: Path) -> str:
        return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "DATE",
                      (out / "report.html").read_text(encoding="utf-8"))

    assert page(second) == page(first)
    assert {row[1] for row in after.values() if row[0] == FILES[2]} == {"Memo Test Contributor"}
    assert {pid: row for pid, row in after.items() if row[0] != FILES[2]} == \
        {pid: row for pid, row in before.items() if row[0] != FILES[2]}

    # an unreadable entry: the file is built again from the extraction cache, same output
    (path,) = (setup["settings"].cache_dir / "contributions").glob("contributions-*.sqlite")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE contributions SET built = ?", (b"\x05\x00\x00\x00{torn",))
    fourth, counts4 = _run(setup, "run4")
    assert counts4["files_from_memo"] == 0
    assert (fourth / "paragraphs.jsonl").read_bytes() == (first / "paragraphs.jsonl").read_bytes()
    _, counts5 = _run(setup, "run5")    # and stored again
    assert counts5["files_from_memo"] == len(FILES)


def test_recalled_files_are_checked_against_the_file(setup):
    """A row stored under another file's key (path or sha256 differ) is not served."""
    from pipeline.records import Document, Paragraph

    doc = Document("a.docx", "sha-a", "docx", "A", None, None, "en", None, "One.\n\nTwo.")
    paras = [Paragraph(f"p-{i}", "a.docx", "sha-a", "A", None, None, None, i + 1, None, "body",
                       start, start + 4, text, "en", f"h{i}")
             for i, (start, text) in enumerate([(0, "One."), (6, "Two.")])]
    preds = [_prediction(0.25 * i) for i in range(2)]
    memo = ContributionMemo(setup["root"] / "own-memo", "fp")
    key = memo.key("extract-key", "a.docx", None)
    memo.remember(key, (doc, paras, "statement", ["a warning"]))
    kept = ParagraphQuotes([(0, 4, "q-one", ("government",))],
                           [("sentence_mismatch", "finder said 'x'")])
    assert memo.save({p.paragraph_id: q for p, q in zip(paras, preds)},
                     {paras[0].paragraph_id: kept}) == 1
    (raw,) = memo.fetch({7: key, 8: "absent"}).values()
    assert memo.unpack(raw, "a.docx", "sha-other") is None
    assert memo.unpack(raw, "b.docx", "sha-a") is None
    assert memo.unpack(raw[:20], "a.docx", "sha-a") is None
    assert memo.unpack(raw, "a.docx", "sha-a") == (doc, paras, "statement", ["a warning"])
    assert [memo.predictions[p.paragraph_id] for p in paras] == preds
    # the option quotes the run made come back as plain data; a paragraph without any has none
    back = memo.quotes[paras[0].paragraph_id]
    assert [tuple(span[:3]) + (tuple(span[3]),) for span in back.spans] == kept.spans
    assert [tuple(d) for d in back.drops] == kept.drops
    assert paras[1].paragraph_id not in memo.quotes
    assert memo.key("extract-key", "b.docx", None) != key
    memo.close()


def test_states_follow_the_memo_key_and_the_code(tmp_path):
    memo = ContributionMemo(tmp_path, "prediction-fingerprint")
    try:
        states = memo.states({"a.docx": "k1", "b.pdf": "k2", "c.docx": "k1"})
        assert states == memo.states({"a.docx": "k1", "b.pdf": "k2", "c.docx": "k1"})
        assert states["a.docx"] == states["c.docx"] != states["b.pdf"]
        # another memo file (other code that builds documents and quotes): other states
        memo.path = memo.path.with_name("contributions-another.sqlite")
        assert memo.states({"a.docx": "k1"})["a.docx"] != states["a.docx"]
    finally:
        memo.close()


def test_scores_come_back_exactly_and_foreign_keys_are_not_kept():
    from pipeline.records import Document, Paragraph

    doc = Document("f.pdf", "s", "pdf", "C", "Org", "government", None, 2, "Text here.", "T")
    para = Paragraph("p-1", "f.pdf", "s", "C", "Org", "government", 2, 1, "Q1?", "body", 0, 10,
                     "Text here.", None, "h")
    pred = _prediction(0.1 + 0.2)   # 0.30000000000000004
    (back_doc, back_paras, how, warnings), (back,), (no_quotes,) = _decode(
        _encode((doc, [para], "manifest", []), [pred], [None]))
    assert no_quotes is None
    assert (back_doc, back_paras, how, warnings) == (doc, [para], "manifest", [])
    assert back == pred and back.challenge_scores["awareness_capacity"] == 0.1 + 0.2
    # every score back under its own key, paragraph after paragraph
    from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS

    distinct = [Prediction([], {k: i + j / 100 for j, k in enumerate(CHALLENGE_KEYS)}, [],
                           {k: -i - j / 100 for j, k in enumerate(STAKEHOLDER_KEYS)}, False, {})
                for i in range(3)]
    _, back3, _ = _decode(_encode((doc, [para] * 3, "manifest", []), distinct, [None] * 3))
    assert back3 == distinct
    odd = Prediction([], {"other": 1.0}, [], {}, False, {})
    assert _encode((doc, [para], "manifest", []), [odd], [None]) is None


def _prediction(value: float) -> Prediction:
    from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS

    return Prediction(["awareness_capacity"], {k: value for k in CHALLENGE_KEYS},
                      ["government"], {k: value / 2 for k in STAKEHOLDER_KEYS}, True,
                      {"policy_option_score": value, "option_sentences": [
                          {"start": 0, "end": 4, "sentence": "One.", "addressees": []}]})
