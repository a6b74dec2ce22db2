"""The labels loader and the taxonomy file: validation errors name the file and line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from pipeline.classify.labels import load_labels
from pipeline.classify.taxonomy import load_taxonomy
from pipeline.errors import LabelDataError
from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS


def _row(**kw):
    row = {"id": "r-1", "text": "Operators should filter spoofed traffic.",
           "challenges": ["reliability_access"], "stakeholders": ["private_sector"],
           "is_policy_option": True, "heading": None, "voice": "test", "source": "seed",
           "author": "tests", "created": "2026-11-23"}
    row.update(kw)
    return row


def _write(path: Path, rows: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows),
                    encoding="utf-8")


def test_real_taxonomy_has_every_key_with_prototypes(taxonomy_path):
    tax = load_taxonomy(taxonomy_path.parent)
    assert tuple(tax.challenges) == CHALLENGE_KEYS
    assert tuple(tax.stakeholders) == STAKEHOLDER_KEYS
    for info in tax.challenges.values():
        assert len(info.prototypes) >= 5 and len(info.description.split()) > 30
    lex = tax.actor_lexicon()
    assert lex["regulators"] == ("government",)
    assert lex["isps"] == ("private_sector",)
    assert lex["csirts"] == ("technical_community",)


def test_taxonomy_missing_or_unknown_key(tmp_path, taxonomy_path):
    raw = yaml.safe_load(taxonomy_path.read_text(encoding="utf-8"))
    del raw["challenges"]["whistleblowers"]
    (tmp_path / "taxonomy.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(LabelDataError, match="missing.*whistleblowers"):
        load_taxonomy(tmp_path)
    raw = yaml.safe_load(taxonomy_path.read_text(encoding="utf-8"))
    raw["stakeholders"]["robots"] = raw["stakeholders"]["users"]
    (tmp_path / "taxonomy.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(LabelDataError, match="unknown stakeholders key.*robots"):
        load_taxonomy(tmp_path)


def test_tiny_seed_loads(tmp_path, data_dir):
    (tmp_path / "seed").mkdir()
    shutil.copy(data_dir / "tiny_seed.jsonl", tmp_path / "seed" / "tiny.jsonl")
    labels = load_labels(tmp_path)
    assert len(labels) == 32
    assert labels.counts()["(none)"] == 8
    assert labels.files == ["seed/tiny.jsonl"]


@pytest.mark.parametrize("bad, message", [
    (_row(challenges=["dos"]), r"seed/a\.jsonl:2: unknown challenges key\(s\) \['dos'\]"),
    (_row(stakeholders=["nobody"]), r"seed/a\.jsonl:2: unknown stakeholders key"),
    (_row(challenges="mobile"), r"seed/a\.jsonl:2: `challenges` must be a list"),
    (_row(text=""), r"seed/a\.jsonl:2: `text` must be a non-empty string"),
    (_row(is_policy_option="yes"), r"seed/a\.jsonl:2: `is_policy_option` must be true or false"),
    (_row(source="web"), r"seed/a\.jsonl:2: `source` must be one of"),
    (_row(challenges=["mobile", "mobile"]), r"repeats a key"),
    (_row(challenges=["mobile", "diversity", "cryptocurrency", "social_media"]), r"at most 3"),
    ({k: v for k, v in _row().items() if k != "stakeholders"}, r"seed rows need `stakeholders`"),
    ('{"id": "x", "text": ', r"seed/a\.jsonl:2: malformed JSON"),
    ("[1, 2]", r"seed/a\.jsonl:2: each line must be a JSON object"),
])
def test_loader_errors_name_file_and_line(tmp_path, bad, message):
    _write(tmp_path / "seed" / "a.jsonl", [_row(id="ok-1"), bad])
    with pytest.raises(LabelDataError, match=message):
        load_labels(tmp_path)


def test_duplicate_id_across_files(tmp_path):
    _write(tmp_path / "seed" / "a.jsonl", [_row(id="same")])
    _write(tmp_path / "seed" / "b.jsonl", [_row(id="same", text="Another text entirely.")])
    with pytest.raises(LabelDataError, match=r"seed/b\.jsonl:1: duplicate id 'same' "
                                             r"\(first at seed/a\.jsonl:1\)"):
        load_labels(tmp_path)


def test_no_rows_is_an_error(tmp_path):
    (tmp_path / "seed").mkdir()
    with pytest.raises(LabelDataError, match="No labelled rows"):
        load_labels(tmp_path)


def test_review_rows_override_seed_by_text_and_paragraph_id(tmp_path):
    _write(tmp_path / "seed" / "a.jsonl", [
        _row(id="s-1", text="Operators  should filter spoofed traffic."),
        _row(id="s-2", text="A paragraph about phones.", challenges=["mobile"],
             paragraph_id="p-abc"),
    ])
    _write(tmp_path / "confirmed" / "review-1.jsonl", [
        # same text (whitespace differs): relabelled; stakeholders not judged -> kept
        {"id": "rv-1", "text": "Operators should filter spoofed traffic.",
         "challenges": ["shared_critical_services"], "stakeholders": None,
         "is_policy_option": None, "source": "review", "reviewer": "ana",
         "reviewed_at": "2026-11-24T10:00:00", "decision": "relabel"},
        # same paragraph id, different text
        {"id": "rv-2", "text": "A paragraph about phones (edited).", "challenges": [],
         "stakeholders": [], "is_policy_option": False, "source": "review", "reviewer": "ana",
         "reviewed_at": "2026-11-24T10:01:00", "paragraph_id": "p-abc", "decision": "reject"},
        # new paragraph
        {"id": "rv-3", "text": "A new confirmed paragraph on smart meters.",
         "challenges": ["data_repurposing"], "stakeholders": [], "is_policy_option": False,
         "source": "review", "reviewer": "ben", "reviewed_at": "2026-11-24T10:02:00"},
    ])
    labels = load_labels(tmp_path)
    assert len(labels) == 3 and labels.overridden == 2
    first, second, third = labels.rows
    assert first.challenges == ("shared_critical_services",)
    assert first.stakeholders == ("private_sector",) and first.is_policy_option is True
    assert second.challenges == () and second.source == "review"
    assert third.id == "rv-3"


def test_review_row_needs_reviewer(tmp_path):
    _write(tmp_path / "seed" / "a.jsonl", [_row()])
    _write(tmp_path / "confirmed" / "r.jsonl", [_row(id="rv", source="review", author=None)])
    with pytest.raises(LabelDataError, match=r"confirmed/r\.jsonl:1: review rows need `reviewer`"):
        load_labels(tmp_path)
