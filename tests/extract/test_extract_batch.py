"""The batch: every file accounted for, offsets and ids, manifest applied after the cache, the
cache itself, worker time and memory bounds, long paragraphs split, and the files on disk."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import docx
import pyarrow.parquet as pq
import pytest

from pipeline.extract.batch import InputDirError, extract_directory, list_input_files, print_summary
from pipeline.extract.pool import died_outcome
from pipeline.extract.store import read_interim, write_interim
from pipeline.records import PARAGRAPH_SEPARATOR, QUARANTINE_REASONS

LONG = " ".join(
    f"Sentence number {i} explains why operators should filter spoofed traffic at the edge."
    for i in range(60))


def make_folder(root: Path) -> Path:
    folder = root / "raw"
    (folder / "sub").mkdir(parents=True)
    d = docx.Document()
    d.add_heading("Policy options", level=1)
    d.add_paragraph("Governments should fund the national CERT.")
    d.add_paragraph("Governments should fund the national CERT.")   # a repeated paragraph
    d.add_paragraph("Vendors should publish support periods.", style="List Bullet")
    d.save(folder / "a-ministry.docx")
    (folder / "b-note.txt").write_text(
        "Submitted by: Kenya ICT Action Network\n\nWe ask regulators to publish outage data.\n",
        encoding="utf-8")
    (folder / "sub" / "c.md").write_text("# Mobile\n\n" + LONG + "\n", encoding="utf-8")
    (folder / "empty.pdf").write_bytes(b"")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 this is not really a zip")
    (folder / ".hidden.txt").write_text("not a submission", encoding="utf-8")
    (folder / ".git").mkdir()
    (folder / ".git" / "x.txt").write_text("not a submission", encoding="utf-8")
    (folder / "manifest.csv").write_text(
        "file,contributor,organisation,stakeholder_group,language\n"
        "a-ministry.docx,Helena Marsk,Ministry of Digital Economy,government,en\n",
        encoding="utf-8")
    return folder


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_folder(tmp_path)


def test_every_file_ends_up_in_exactly_one_place(folder: Path, settings):
    result = extract_directory(folder, settings, progress=False)
    listed = {p.relative_to(folder).as_posix() for p in list_input_files(folder)}
    assert listed == {"a-ministry.docx", "b-note.txt", "sub/c.md", "empty.pdf", "broken.docx"}
    with_text = {d.source_file for d in result.documents}
    quarantined = {q.source_file for q in result.quarantine}
    assert with_text | quarantined == listed and not with_text & quarantined
    assert {q.source_file: q.reason for q in result.quarantine} == {
        "empty.pdf": "empty", "broken.docx": "corrupt"}
    assert all(q.reason in QUARANTINE_REASONS and q.detail.endswith(".") for q in result.quarantine)
    assert result.files_seen == 5 and result.stats.files_seen == 5
    assert result.quarantined_by_reason() == {"corrupt": 1, "empty": 1}


def test_offsets_ids_order_and_provenance(folder: Path, settings):
    result = extract_directory(folder, settings, progress=False)
    docs = {d.source_file: d for d in result.documents}
    assert [p.source_file for p in result.paragraphs] == sorted(p.source_file for p in result.paragraphs)
    for source, doc in docs.items():
        paras = [p for p in result.paragraphs if p.source_file == source]
        assert [p.paragraph for p in paras] == list(range(1, len(paras) + 1))
        assert PARAGRAPH_SEPARATOR.join(p.text for p in paras) == doc.text
        for p in paras:
            assert doc.text[p.char_start:p.char_end] == p.text
            assert p.file_sha256 == doc.file_sha256 and p.contributor == doc.contributor
    ministry = [p for p in result.paragraphs if p.source_file == "a-ministry.docx"]
    assert [p.heading for p in ministry] == ["Policy options"] * 3
    assert [p.kind for p in ministry] == ["body", "body", "list_item"]
    assert len({p.paragraph_id for p in result.paragraphs}) == len(result.paragraphs)
    assert ministry[0].contributor == "Helena Marsk"
    assert ministry[0].organisation == "Ministry of Digital Economy"
    assert ministry[0].stakeholder_group == "government" and docs["a-ministry.docx"].language == "en"
    assert docs["b-note.txt"].contributor == "Kenya ICT Action Network"
    assert docs["b-note.txt"].organisation is None
    assert docs["sub/c.md"].contributor == "C"          # from the file name


def test_long_paragraphs_are_split_at_sentences(folder: Path, tmp_path: Path, settings_with):
    settings = settings_with(tmp_path, max_paragraph_chars=400)
    result = extract_directory(folder, settings, progress=False)
    pieces = [p for p in result.paragraphs if p.source_file == "sub/c.md"]
    assert len(pieces) > 5 and all(len(p.text) <= 400 for p in pieces)
    assert all(p.text.endswith(".") for p in pieces)
    assert " ".join(p.text for p in pieces) == LONG
    assert {p.heading for p in pieces} == {"Mobile"} and {p.language for p in pieces} == {"en"}


def test_ids_are_stable_across_runs_and_edits_elsewhere(folder: Path, settings, tmp_path: Path,
                                                       settings_with):
    first = {p.text: p.paragraph_id for p in extract_directory(folder, settings, progress=False)
             .paragraphs if p.source_file == "b-note.txt"}
    (folder / "b-note.txt").write_text(
        "An added first paragraph.\n\nSubmitted by: Kenya ICT Action Network\n\n"
        "We ask regulators to publish outage data.\n", encoding="utf-8")
    second = {p.text: p.paragraph_id for p in extract_directory(
        folder, settings_with(tmp_path / "other"), progress=False).paragraphs
        if p.source_file == "b-note.txt"}
    for text, pid in first.items():
        assert second[text] == pid


def test_a_torn_cache_entry_is_extracted_again_and_a_new_file_beside_cached_ones(
        folder: Path, settings):
    first = extract_directory(folder, settings, progress=False)
    entries = sorted((settings.cache_dir / "extract").rglob("*.json"))
    entries[0].write_bytes(b'{"status": "ok", "doc": {"blo')        # a run killed mid-write
    (folder / "d-new.txt").write_text("A late contribution about DNS security.", encoding="utf-8")
    again = extract_directory(folder, settings, progress=False)
    assert again.stats.extracted == 2 and again.stats.from_cache == len(entries) - 1
    assert [p.to_dict() for p in again.paragraphs if p.source_file != "d-new.txt"] == \
        [p.to_dict() for p in first.paragraphs]
    assert [d.source_file for d in again.documents] == sorted(
        [d.source_file for d in first.documents] + ["d-new.txt"])
    third = extract_directory(folder, settings, progress=False)
    assert third.stats.extracted == 0 and third.stats.from_cache == len(entries) + 1


def test_cache_extracts_only_new_files_and_manifest_edits_need_no_extraction(folder: Path, settings):
    told: list[int] = []   # on_new_files: how many files the workers are about to extract
    first = extract_directory(folder, settings, progress=False, on_new_files=told.append)
    assert first.stats.extracted == 5 and first.stats.from_cache == 0 and told == [5]
    again = extract_directory(folder, settings, progress=False, on_new_files=told.append)
    assert again.stats.extracted == 0 and again.stats.from_cache == 5 and told == [5]
    assert [p.to_dict() for p in again.paragraphs] == [p.to_dict() for p in first.paragraphs]

    (folder / "d-new.txt").write_text("A late contribution about DNS security.", encoding="utf-8")
    (folder / "manifest.csv").write_text(
        "file,contributor,organisation,stakeholder_group,language\n"
        "a-ministry.docx,Edited Name,Ministry of Digital Economy,government,en\n",
        encoding="utf-8")
    third = extract_directory(folder, settings, progress=False, on_new_files=told.append)
    assert third.stats.extracted == 1 and third.stats.from_cache == 5 and told == [5, 1]
    assert {d.contributor for d in third.documents if d.source_file == "a-ministry.docx"} == \
        {"Edited Name"}
    cache_files = list((settings.cache_dir / "extract").rglob("*.json"))
    assert len(cache_files) == 6
    assert all(json.loads(f.read_text(encoding="utf-8"))["status"] in ("ok", "quarantine")
               for f in cache_files)


def test_a_bad_manifest_stops_the_batch_with_its_row(folder: Path, settings):
    (folder / "manifest.csv").write_text("file,contributor\na-ministry.docx,\n", encoding="utf-8")
    with pytest.raises(Exception) as err:
        extract_directory(folder, settings, progress=False)
    assert "row 2" in str(err.value) and "contributor" in str(err.value)


def test_missing_input_folder(tmp_path: Path, settings):
    with pytest.raises(InputDirError, match="does not exist"):
        extract_directory(tmp_path / "nope", settings, progress=False)


def test_files_that_overrun_time_or_memory_are_quarantined_and_the_batch_goes_on(
        realdoc, tmp_path: Path, settings_with):
    folder = tmp_path / "heavy"
    folder.mkdir()
    shutil.copy(realdoc("unstructured-irs-manual-400p.pdf"), folder / "long.pdf")
    shutil.copy(realdoc("constructed-plain.txt"), folder / "short.txt")
    result = extract_directory(folder, settings_with(tmp_path, timeout_s=1.5), progress=False)
    assert {q.source_file: q.reason for q in result.quarantine} == {"long.pdf": "timeout"}
    assert [d.source_file for d in result.documents] == ["short.txt"]
    # a timeout is not cached: the next run tries again
    assert not list((tmp_path / "cache" / "extract").rglob("*.json")) or \
        len(list((tmp_path / "cache" / "extract").rglob("*.json"))) == 1

    shutil.copy(realdoc("unstructured-handbook-872p.docx"), folder / "handbook.docx")
    (folder / "long.pdf").unlink()
    result = extract_directory(folder, settings_with(tmp_path / "m", memory_mb=120),
                               progress=False)
    assert {q.source_file: q.reason for q in result.quarantine} == {"handbook.docx": "too_large"}
    assert "memory" in result.quarantine[0].detail


def test_a_crashed_worker_is_reported_by_how_it_died():
    assert died_outcome(-9, 1536)["reason"] == "too_large"      # killed: out of memory
    assert died_outcome(-11, 1536)["reason"] == "too_large"     # segfault under the cap
    crashed = died_outcome(1, 1536)
    assert crashed["reason"] == "corrupt" and not crashed["cacheable"]


def test_write_and_read_interim(folder: Path, settings, tmp_path: Path):
    result = extract_directory(folder, settings, progress=False)
    out = tmp_path / "interim"
    paths = write_interim(result, out)
    assert {p.name for p in paths} == {"paragraphs.parquet", "documents.parquet",
                                       "quarantine.jsonl", "extract_summary.json"}
    table = pq.read_table(out / "paragraphs.parquet")
    assert table.column_names[:3] == ["paragraph_id", "source_file", "file_sha256"]
    back = read_interim(out)
    assert back.paragraphs == sorted(result.paragraphs, key=lambda p: (p.source_file, p.paragraph))
    assert back.documents == sorted(result.documents, key=lambda d: d.source_file)
    assert back.quarantine == sorted(result.quarantine, key=lambda q: q.source_file)
    assert back.stats.files_seen == 5
    summary = json.loads((out / "extract_summary.json").read_text(encoding="utf-8"))
    assert summary["quarantined_by_reason"] == {"corrupt": 1, "empty": 1}


def test_empty_results_still_have_schemas(tmp_path: Path, settings):
    empty = tmp_path / "nothing"
    empty.mkdir()
    result = extract_directory(empty, settings, progress=False)
    out = tmp_path / "interim"
    write_interim(result, out)
    assert pq.read_table(out / "paragraphs.parquet").num_rows == 0
    assert "text" in pq.read_table(out / "documents.parquet").column_names
    assert read_interim(out).paragraphs == []


def test_summary_lists_counts_and_reasons(folder: Path, settings):
    result = extract_directory(folder, settings, progress=False)
    buf = io.StringIO()
    print_summary(result, buf)
    text = buf.getvalue()
    assert "Files: 5" in text and f"Paragraphs: {len(result.paragraphs)}" in text
    assert "Quarantined: 2 (corrupt 1, empty 1)" in text
    assert "broken.docx: corrupt:" in text


def test_the_manifest_is_left_out_through_a_link_and_broken_links_are_not_listed(folder: Path):
    import os

    os.symlink(folder / "manifest.csv", folder / "people.csv")          # the manifest again
    os.symlink(folder / "b-note.txt", folder / "sub" / "note-link.txt")  # a submission again
    os.symlink(folder / "gone.docx", folder / "broken-link.docx")        # points nowhere
    listed = [p.relative_to(folder).as_posix() for p in list_input_files(folder)]
    assert listed == sorted(listed)
    assert "people.csv" not in listed and "broken-link.docx" not in listed
    assert "sub/note-link.txt" in listed and "manifest.csv" not in listed
    elsewhere = folder.parent / "contributors.csv"
    elsewhere.write_text("file,contributor\n", encoding="utf-8")
    os.symlink(elsewhere, folder / "contributors-link.csv")
    assert "contributors-link.csv" not in {
        p.name for p in list_input_files(folder, manifest_path=elsewhere)}
    assert "contributors-link.csv" in {p.name for p in list_input_files(folder)}
