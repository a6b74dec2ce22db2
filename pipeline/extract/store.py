"""The extract stage's output on disk (corpus/interim/ by default):

  paragraphs.parquet   one row per paragraph (records.Paragraph fields), by source_file, paragraph
  documents.parquet    one row per file with text (records.Document fields), by source_file
  quarantine.jsonl     one object per file without text (records.QuarantineEntry), by source_file
  extract_summary.json counts, timings and warnings of the run

Parquet schemas are explicit, so an empty table still has its columns and types. Files are
written to a temporary name and renamed, so a reader never sees half a table.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.extract.batch import ExtractResult, ExtractStats
from pipeline.records import Document, Paragraph, QuarantineEntry

PARAGRAPHS_FILE = "paragraphs.parquet"
DOCUMENTS_FILE = "documents.parquet"
QUARANTINE_FILE = "quarantine.jsonl"
SUMMARY_FILE = "extract_summary.json"

PARAGRAPH_SCHEMA = pa.schema([
    ("paragraph_id", pa.string()), ("source_file", pa.string()), ("file_sha256", pa.string()),
    ("contributor", pa.string()), ("organisation", pa.string()),
    ("stakeholder_group", pa.string()), ("page", pa.int32()), ("paragraph", pa.int32()),
    ("heading", pa.string()), ("kind", pa.string()), ("char_start", pa.int64()),
    ("char_end", pa.int64()), ("text", pa.string()), ("language", pa.string()),
    ("content_hash", pa.string()),
])
DOCUMENT_SCHEMA = pa.schema([
    ("source_file", pa.string()), ("file_sha256", pa.string()), ("file_type", pa.string()),
    ("contributor", pa.string()), ("organisation", pa.string()),
    ("stakeholder_group", pa.string()), ("language", pa.string()), ("pages", pa.int32()),
    ("text", pa.string()), ("title", pa.string()),
])

for _cls, _schema in ((Paragraph, PARAGRAPH_SCHEMA), (Document, DOCUMENT_SCHEMA)):
    assert [f.name for f in dataclasses.fields(_cls)] == _schema.names, _cls


def _replace_text(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def _write_table(rows: list[Any], schema: pa.Schema, path: Path) -> Path:
    columns = {name: [getattr(r, name) for r in rows] for name in schema.names}
    table = pa.Table.from_pydict(columns, schema=schema)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path


def write_interim(result: ExtractResult, out_dir: Path | str) -> list[Path]:
    """Write the three tables and the summary; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paragraphs = sorted(result.paragraphs, key=lambda p: (p.source_file, p.paragraph))
    documents = sorted(result.documents, key=lambda d: d.source_file)
    quarantine = sorted(result.quarantine, key=lambda q: q.source_file)
    paths = [
        _write_table(paragraphs, PARAGRAPH_SCHEMA, out / PARAGRAPHS_FILE),
        _write_table(documents, DOCUMENT_SCHEMA, out / DOCUMENTS_FILE),
        _replace_text(out / QUARANTINE_FILE, "".join(
            json.dumps(q.to_dict(), ensure_ascii=False) + "\n" for q in quarantine)),
        _replace_text(out / SUMMARY_FILE,
                      json.dumps(result.summary(), indent=2, ensure_ascii=False) + "\n"),
    ]
    return paths


def _read_rows(path: Path, cls: type) -> list[Any]:
    table = pq.read_table(path)
    return [cls(**row) for row in table.to_pylist()]


def _read_quarantine(path: Path) -> list[QuarantineEntry]:
    entries = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(QuarantineEntry(**json.loads(line)))
        except (ValueError, TypeError) as exc:
            from pipeline.errors import InputFormatError

            raise InputFormatError(f"{path}, line {line_no}: not a quarantine entry ({exc}).") \
                from None
    return entries


def read_interim(in_dir: Path | str) -> ExtractResult:
    """Read what write_interim wrote back into an ExtractResult (documents, paragraphs,
    quarantine as records, and the run's stats)."""
    folder = Path(in_dir)
    missing = [n for n in (PARAGRAPHS_FILE, DOCUMENTS_FILE, QUARANTINE_FILE)
               if not (folder / n).is_file()]
    if missing:
        from pipeline.errors import InputFormatError

        raise InputFormatError(f"{folder} holds no extract output ({', '.join(missing)} missing); "
                               "run `cenb extract` first.")
    stats = ExtractStats()
    summary = folder / SUMMARY_FILE
    if summary.is_file():
        data = json.loads(summary.read_text(encoding="utf-8"))
        stats = ExtractStats(
            files_seen=data.get("files", 0), from_cache=data.get("from_cache", 0),
            extracted=data.get("extracted", 0), seconds=data.get("seconds", 0.0),
            manifest=data.get("manifest"),
            contributor_sources=data.get("contributor_sources", {}),
            warnings=data.get("warnings", []),
        )
    return ExtractResult(
        documents=_read_rows(folder / DOCUMENTS_FILE, Document),
        paragraphs=_read_rows(folder / PARAGRAPHS_FILE, Paragraph),
        quarantine=_read_quarantine(folder / QUARANTINE_FILE),
        stats=stats,
    )
