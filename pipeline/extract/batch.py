"""The extract stage: every file under a folder -> documents + paragraphs, or quarantine.

    result = extract_directory(Path("corpus/raw"), settings)
    print_summary(result)
    write_interim(result, settings.interim_dir)        # pipeline.extract.store

Files are listed recursively (hidden files and the manifest skipped) and sorted; each is hashed,
looked up in the per-file cache, and the rest are extracted in worker processes with time and
memory bounds (pool.py). Over-long paragraphs are split at sentence boundaries (segment.py)
before caching. Contributor information from the manifest, or inferred from the document, is
applied last, so a manifest edit takes effect without re-extracting anything.
"""

from __future__ import annotations

import stat
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TextIO

from pipeline.config import Settings
from pipeline.errors import CenbError
from pipeline.extract.cache import ExtractCache, cache_key
from pipeline.extract.contributor import (
    MANIFEST_NAME,
    ManifestEntry,
    find_manifest,
    infer_contributor,
    load_manifest,
)
from pipeline.extract.language import document_language
from pipeline.extract.model import Block, RawDocument
from pipeline.extract.pool import run_pool
from pipeline.extract.segment import split_long
from pipeline.records import (
    PARAGRAPH_SEPARATOR,
    QUARANTINE_REASONS,
    Document,
    Paragraph,
    QuarantineEntry,
    content_hash,
    file_sha256,
    paragraph_id,
)

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.contribution_memo import ContributionMemo


class InputDirError(CenbError):
    """The input folder does not exist or is not a folder."""


@dataclass
class ExtractStats:
    files_seen: int = 0
    from_cache: int = 0
    extracted: int = 0
    seconds: float = 0.0
    manifest: str | None = None
    contributor_sources: dict[str, int] = field(default_factory=dict)  # manifest, statement...
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "files_seen": self.files_seen, "from_cache": self.from_cache,
            "extracted": self.extracted, "seconds": round(self.seconds, 3),
            "manifest": self.manifest, "contributor_sources": dict(self.contributor_sources),
            "warnings": list(self.warnings),
        }


@dataclass
class ExtractResult:
    documents: list[Document]
    paragraphs: list[Paragraph]
    quarantine: list[QuarantineEntry]
    stats: ExtractStats = field(default_factory=ExtractStats)
    # source_file -> the contribution memo's key of each document (`cenb run` with a memo)
    memo_keys: dict[str, str] = field(default_factory=dict)

    @property
    def files_with_text(self) -> int:
        return len(self.documents)

    @property
    def files_seen(self) -> int:
        return self.stats.files_seen

    @property
    def timings(self) -> dict[str, float]:
        return {"extract": round(self.stats.seconds, 3)}

    def quarantined_by_reason(self) -> dict[str, int]:
        counts = Counter(q.reason for q in self.quarantine)
        return {reason: counts[reason] for reason in QUARANTINE_REASONS if counts[reason]}

    def summary(self) -> dict[str, Any]:
        return {
            "files": self.stats.files_seen,
            "files_with_text": self.files_with_text,
            "paragraphs": len(self.paragraphs),
            "quarantined": len(self.quarantine),
            "quarantined_by_reason": self.quarantined_by_reason(),
            **{k: v for k, v in self.stats.to_dict().items() if k != "files_seen"},
        }


def list_input_files(input_dir: Path, manifest_path: Path | None = None) -> list[Path]:
    """Every regular file under input_dir, recursively, sorted by relative path; hidden files
    (any path part starting with '.') and the manifest (the same file, by device and inode, so
    also through a link) are not submissions. One stat per path: resolving each path to
    compare it with the manifest's took 0.06 s of every run at 3,000 files."""
    manifests = {input_dir / MANIFEST_NAME}
    if manifest_path is not None:
        manifests.add(manifest_path)
    skip: set[tuple[int, int]] = set()
    for path in manifests:
        try:
            found = path.stat()
        except OSError:
            continue
        skip.add((found.st_dev, found.st_ino))
    files: list[tuple[str, Path]] = []
    for path in input_dir.rglob("*"):
        rel = path.relative_to(input_dir)
        if any(part.startswith(".") for part in rel.parts):
            continue
        try:
            st = path.stat()
        except OSError:   # a broken link, or gone since it was listed
            continue
        if stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) not in skip:
            files.append((rel.as_posix(), path))
    files.sort()
    return [path for _, path in files]


def _split_blocks(raw: RawDocument, max_chars: int) -> RawDocument:
    blocks: list[Block] = []
    for b in raw.blocks:
        if len(b.text) <= max_chars:
            blocks.append(b)
            continue
        for piece in split_long(b.text, max_chars, b.language):
            blocks.append(Block(text=piece, kind=b.kind, page=b.page, heading=b.heading,
                                language=b.language))
    raw.blocks = blocks
    return raw


def _build_document(rel: str, sha: str, raw: RawDocument, entry: ManifestEntry | None,
                    ) -> tuple[Document, list[Paragraph], str]:
    if entry is not None:
        contributor, how = entry.contributor, "manifest"
        organisation, group = entry.organisation, entry.stakeholder_group
    else:
        contributor, how = infer_contributor(raw, rel)
        organisation, group = None, None
    texts = [b.text for b in raw.blocks]
    language = (entry.language if entry is not None and entry.language else None) or \
        document_language((b.text, b.language) for b in raw.blocks)
    paragraphs: list[Paragraph] = []
    seen: Counter[str] = Counter()
    offset = 0
    for index, block in enumerate(raw.blocks, start=1):
        start, end = offset, offset + len(block.text)
        offset = end + len(PARAGRAPH_SEPARATOR)
        occurrence = seen[block.text]
        seen[block.text] += 1
        paragraphs.append(Paragraph(
            paragraph_id=paragraph_id(rel, block.text, occurrence),
            source_file=rel, file_sha256=sha, contributor=contributor,
            organisation=organisation, stakeholder_group=group, page=block.page,
            paragraph=index, heading=block.heading, kind=block.kind, char_start=start,
            char_end=end, text=block.text, language=block.language,
            content_hash=content_hash(block.text),
        ))
    document = Document(
        source_file=rel, file_sha256=sha, file_type=raw.file_type, contributor=contributor,
        organisation=organisation, stakeholder_group=group, language=language,
        pages=raw.pages, text=PARAGRAPH_SEPARATOR.join(texts), title=raw.title,
    )
    return document, paragraphs, how


def extract_directory(
    input_dir: Path | str,
    settings: Settings,
    manifest: Path | str | None = None,
    progress: bool = True,
    on_new_files: Callable[[int], None] | None = None,
    memo: "ContributionMemo | None" = None,
) -> ExtractResult:
    """Extract every file under `input_dir` (see the module docstring). `on_new_files(n)` is
    called before the worker processes start when n > 0 files are not in the cache."""
    started = time.monotonic()
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        raise InputDirError(f"Input folder {input_dir} does not exist or is not a folder.")
    manifest_path = find_manifest(input_dir, Path(manifest) if manifest is not None else None)
    entries = load_manifest(manifest_path) if manifest_path is not None else {}
    files = list_input_files(input_dir, manifest_path)
    rels = [p.relative_to(input_dir).as_posix() for p in files]
    stats = ExtractStats(files_seen=len(files),
                         manifest=str(manifest_path) if manifest_path else None)
    unknown = sorted(set(entries) - set(rels))
    if unknown:
        stats.warnings.append(f"the manifest lists {len(unknown)} file(s) not found under "
                              f"{input_dir}: {', '.join(unknown[:5])}"
                              + (" ..." if len(unknown) > 5 else ""))

    xs = settings.extract
    cache = ExtractCache(settings.cache_dir / "extract")
    shas: list[str | None] = []
    keys: list[str | None] = []
    sizes: list[int] = []
    outcomes: list[dict[str, Any] | None] = []
    for path in files:
        try:
            sha: str | None = file_sha256(path)
            sizes.append(path.stat().st_size)
            outcome: dict[str, Any] | None = None
        except OSError as exc:  # unreadable (permissions), or gone since it was listed
            sha = None
            sizes.append(0)
            outcome = {"status": "quarantine", "reason": "corrupt", "cacheable": False,
                       "detail": f"The file cannot be read ({exc.strerror or exc}). Check its "
                                 "permissions, or copy it into the input folder again."}
        shas.append(sha)
        keys.append(cache_key(sha, xs) if sha else None)
        outcomes.append(outcome)
    # The files without a memo or cache entry go to the workers at once; the files a run built
    # before come back from the memo as they were (`cenb run`), and the other cached ones are
    # read back and built into documents, while the workers start and extract (for one new
    # file among 3,000, about as long as each other).
    built: dict[int, tuple[Document, list[Paragraph], str, list[str]]] = {}
    memo_keys: dict[int, str] = {}
    held: dict[int, bytes] = {}
    if memo is not None:
        memo_keys = {i: memo.key(k, rels[i], entries.get(rels[i]))
                     for i, k in enumerate(keys) if k is not None}
        held = memo.fetch(memo_keys)
    from_memo: set[int] = set()
    stored = [k is not None and i not in held and cache.has(k) for i, k in enumerate(keys)]
    cached = [i for i, found in enumerate(stored) if found]
    todo = [i for i, k in enumerate(keys) if k and not stored[i] and i not in held]
    n_held = len(held)

    def read_cached() -> list[int]:
        """Take the memo's files and read and build the cached ones; returns those whose entry
        could not be used (an unreadable memo entry falls back to the extraction cache)."""
        unusable = []
        for i in list(held):
            raw = held.pop(i)     # each entry freed once decoded
            item = memo.unpack(raw, rels[i], shas[i]) if memo is not None else None
            if item is not None:
                built[i], outcomes[i] = item, {"status": "ok"}
                from_memo.add(i)
                bar.update(1)
            elif not read_one(i):
                unusable.append(i)
        unusable.extend(i for i in cached if not read_one(i))
        return unusable

    def read_one(i: int) -> bool:
        outcome = cache.get(keys[i])   # type: ignore[arg-type]
        if outcome is None:
            return False
        outcomes[i] = outcome
        if outcome["status"] == "ok":
            raw = RawDocument.from_dict(outcome["doc"])
            built[i] = (*_build_document(rels[i], shas[i], raw, entries.get(rels[i])),
                        raw.warnings)
        bar.update(1)
        return True

    def on_done_in(batch: list[int]) -> Callable[[int, dict[str, Any]], None]:
        def on_done(j: int, outcome: dict[str, Any]) -> None:
            i = batch[j]
            if outcome["status"] == "ok":
                raw = _split_blocks(RawDocument.from_dict(outcome["doc"]),
                                    xs.max_paragraph_chars)
                outcome = {"status": "ok", "doc": raw.to_dict()}
            key = keys[i]
            if key and (outcome["status"] == "ok" or outcome.get("cacheable")):
                cache.put(key, outcome)
            outcomes[i] = outcome
            bar.update(1)
        return on_done

    def largest_first(indices: list[int]) -> list[int]:
        # so that a long PDF does not start last and hold up the batch
        return sorted(indices, key=lambda i: (-sizes[i], rels[i]))

    if todo and on_new_files is not None:
        on_new_files(len(todo))
    bar = _progress(len(files), progress)
    bar.update(len(files) - len(todo) - len(cached) - n_held)
    unusable: list[int] = []
    try:
        todo = largest_first(todo)
        run_pool([files[i] for i in todo], xs.model_dump(), xs.workers, xs.timeout_s,
                 xs.memory_mb, on_done_in(todo),
                 meanwhile=lambda: unusable.extend(read_cached()))
        if unusable:   # torn or foreign cache entries: extracted again
            retry = largest_first(unusable)
            run_pool([files[i] for i in retry], xs.model_dump(), xs.workers, xs.timeout_s,
                     xs.memory_mb, on_done_in(retry))
    finally:
        bar.close()
    stats.extracted = len(todo) + len(unusable)
    stats.from_cache = len(cached) + n_held - len(unusable)

    documents: list[Document] = []
    paragraphs: list[Paragraph] = []
    quarantine: list[QuarantineEntry] = []
    sources: Counter[str] = Counter()
    document_keys: dict[str, str] = {}
    for i, (rel, sha, outcome) in enumerate(zip(rels, shas, outcomes)):
        assert outcome is not None
        if outcome["status"] == "ok" and sha is not None:
            if i not in built:
                raw = RawDocument.from_dict(outcome["doc"])
                built[i] = (*_build_document(rel, sha, raw, entries.get(rel)), raw.warnings)
            document, paras, how, warnings = built.pop(i)
            if memo is not None and i in memo_keys:
                document_keys[rel] = memo_keys[i]
                if i not in from_memo:
                    memo.remember(memo_keys[i], (document, paras, how, warnings))
            documents.append(document)
            paragraphs.extend(paras)
            sources[how] += 1
            for warning in warnings:
                stats.warnings.append(f"{rel}: {warning}")
        else:
            reason = outcome["reason"] if outcome["reason"] in QUARANTINE_REASONS else "corrupt"
            quarantine.append(QuarantineEntry(source_file=rel, reason=reason,
                                              detail=outcome["detail"], file_sha256=sha))
    stats.contributor_sources = dict(sorted(sources.items()))
    stats.seconds = time.monotonic() - started
    return ExtractResult(documents=documents, paragraphs=paragraphs, quarantine=quarantine,
                         stats=stats, memo_keys=document_keys)


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="extract", unit="file", disable=not enabled, leave=False,
                file=sys.stderr)


def print_summary(result: ExtractResult, out: TextIO | None = None) -> None:
    """Files, paragraphs, quarantined files by reason (each with its reason), warnings."""
    out = out or sys.stdout
    s = result.stats
    print(f"Files: {s.files_seen} ({s.extracted} extracted, {s.from_cache} from cache) in "
          f"{s.seconds:.1f} s", file=out)
    print(f"Paragraphs: {len(result.paragraphs)} from {result.files_with_text} file(s)", file=out)
    by_reason = result.quarantined_by_reason()
    if by_reason:
        listed = ", ".join(f"{reason} {n}" for reason, n in by_reason.items())
        print(f"Quarantined: {len(result.quarantine)} ({listed})", file=out)
        for q in result.quarantine:
            print(f"  {q.source_file}: {q.reason}: {q.detail}", file=out)
    else:
        print("Quarantined: 0", file=out)
    if s.contributor_sources:
        how = ", ".join(f"{k} {v}" for k, v in s.contributor_sources.items())
        print(f"Contributors from: {how}", file=out)
    for warning in s.warnings:
        print(f"Warning: {warning}", file=out)
