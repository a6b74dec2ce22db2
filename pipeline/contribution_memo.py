"""What `cenb run` last made of each contribution: its document, paragraphs, predictions and
option quotes.

Why: a run after adding one file to 3,000 contributions read back 3,000 extraction-cache
entries and built their documents again (contributor, language, paragraph ids: about 1.1 s),
then looked up and decoded 69,000 cached predictions (about 0.9 s), and made the option quotes
of 54,000 paragraphs again (about 0.5 s), for files that had not changed. The memo keeps what
those steps made of each file (report.option_quotes.ParagraphQuotes for the quotes), in one
SQLite row per file, under everything they depend on: the file's extraction-cache key (its
sha256, the extractor's code and settings), its path in the input folder, its manifest entry
and the prediction fingerprint (model, rules, embedding runtime and prediction code). The file
name carries a fingerprint of the code that builds documents (pipeline/extract, records.py),
of the code that makes quotes (report/quotes.py, report/option_quotes.py) and of this module,
so a change to any starts afresh. Reviewers' labels are applied after it and are not in it.

Values are never pickles: a JSON head (the document, each paragraph, each prediction's labels
and extras, each paragraph's option quotes when the run made them) and then every score as
little-endian float64, exactly the floats computed.
"""

from __future__ import annotations

import hashlib
import logging
import struct
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import orjson

from pipeline.classify.hash_store import HashStore
from pipeline.extract.contributor import ManifestEntry
from pipeline.fingerprint import PACKAGE, code_fingerprint, package_fingerprint
from pipeline.records import PARAGRAPH_SEPARATOR, Document, Paragraph, Prediction
from pipeline.report.option_quotes import ParagraphQuotes
from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS

log = logging.getLogger(__name__)

# a recalled file as extract_directory builds one: document, paragraphs, where its contributor
# came from (manifest, statement, ...) and the extractor's warnings
Built = tuple[Document, list[Paragraph], str, list[str]]

_LENGTH = struct.Struct("<I")
_N_SCORES = len(CHALLENGE_KEYS) + len(STAKEHOLDER_KEYS)


def _sources() -> tuple[str, ...]:
    extract = sorted(p.relative_to(PACKAGE).as_posix() for p in (PACKAGE / "extract").glob("*.py"))
    return (*extract, "records.py", "report/quotes.py", "report/option_quotes.py",
            "contribution_memo.py")


def _encode(built: Built, predictions: Sequence[Prediction],
            quotes: Sequence[ParagraphQuotes | None]) -> bytes | None:
    """None when a prediction's scores are not keyed by the taxonomy in its order (only the
    model's predictions are memoised). quotes: each paragraph's, where the run made them."""
    document, paragraphs, how, warnings = built
    scores: list[float] = []
    labels = []
    for p in predictions:
        if tuple(p.challenge_scores) != CHALLENGE_KEYS or \
                tuple(p.stakeholder_scores) != STAKEHOLDER_KEYS:
            return None
        scores.extend(p.challenge_scores.values())
        scores.extend(p.stakeholder_scores.values())
        labels.append((p.challenges, p.stakeholders, bool(p.is_policy_option), p.extra))
    d = document
    head = orjson.dumps({
        "d": (d.source_file, d.file_sha256, d.file_type, d.contributor, d.organisation,
              d.stakeholder_group, d.language, d.pages, d.title),
        "h": how, "w": warnings,
        "p": [(p.paragraph_id, p.page, p.paragraph, p.heading, p.kind, p.char_start, p.char_end,
               p.text, p.language, p.content_hash) for p in paragraphs],
        "q": labels,
        "o": [None if q is None else (q.spans, q.drops) for q in quotes],
    })
    return _LENGTH.pack(len(head)) + head + np.asarray(scores, dtype="<f8").tobytes()


def _decode(raw: bytes) -> tuple[Built, list[Prediction], list[ParagraphQuotes | None]]:
    (n,) = _LENGTH.unpack_from(raw)
    head = orjson.loads(raw[_LENGTH.size:_LENGTH.size + n])
    scores = np.frombuffer(raw, dtype="<f8", offset=_LENGTH.size + n).tolist()
    (source_file, sha, file_type, contributor, organisation, group, language, pages,
     title) = head["d"]
    paragraphs = [Paragraph(pid, source_file, sha, contributor, organisation, group, page, number,
                            heading, kind, start, end, text, lang, digest)
                  for pid, page, number, heading, kind, start, end, text, lang, digest
                  in head["p"]]
    labels, quotes = head["q"], head["o"]
    if len(labels) != len(paragraphs) or len(scores) != _N_SCORES * len(labels) or \
            len(quotes) != len(paragraphs):
        raise ValueError("paragraphs, predictions, scores and quotes differ in number")
    # each zip() takes exactly one key's worth of scores from the shared iterator: its keys
    # run out first
    values = iter(scores)
    predictions = [Prediction(challenges, dict(zip(CHALLENGE_KEYS, values)), stakeholders,
                              dict(zip(STAKEHOLDER_KEYS, values)), is_option, extra)
                   for challenges, stakeholders, is_option, extra in labels]
    document = Document(source_file, sha, file_type, contributor, organisation, group, language,
                        pages, PARAGRAPH_SEPARATOR.join(p.text for p in paragraphs), title)
    return ((document, paragraphs, str(head["h"]), list(head["w"])), predictions,
            [None if q is None else ParagraphQuotes(*q) for q in quotes])


class ContributionMemo:
    """One row per contribution in contributions-<code fingerprint>.sqlite under `directory`,
    for the model whose predictions have `prediction_fingerprint`."""

    def __init__(self, directory: Path, prediction_fingerprint: str) -> None:
        self.path = Path(directory) / f"contributions-{code_fingerprint(_sources())}.sqlite"
        self._store = HashStore(self.path, "contributions", "built", "BLOB")
        self._fingerprint = prediction_fingerprint
        self.predictions: dict[str, Prediction] = {}   # paragraph id -> of the recalled files
        self.quotes: dict[str, ParagraphQuotes] = {}     # paragraph id -> of the recalled files
        self._staged: dict[str, Built] = {}
        self.recalled = 0

    def key(self, extract_key: str, source_file: str, entry: ManifestEntry | None) -> str:
        manifest = None if entry is None else (entry.file, entry.contributor, entry.organisation,
                                               entry.stakeholder_group, entry.language)
        payload = orjson.dumps((extract_key, source_file, manifest, self._fingerprint))
        return hashlib.sha256(payload).hexdigest()

    def states(self, keys: Mapping[str, str]) -> dict[str, str]:
        """source_file -> its provenance state: a digest of its memo key (the file's bytes,
        path, manifest entry, extraction settings and the model's predictions) and of every
        line of code and output library between those and the outputs. Two runs that give a
        file the same state made the same document, paragraphs, predictions and quotes of it,
        so what the writers make of them (reviewers' labels and option groups aside) can be
        kept under it instead of being made again."""
        salt = f"{package_fingerprint()}\x1f{self.path.name}\x1f".encode("utf-8")
        return {source_file: hashlib.sha256(salt + key.encode("ascii")).hexdigest()[:32]
                for source_file, key in keys.items()}

    def fetch(self, keys: Mapping[int, str]) -> dict[int, bytes]:
        """The stored entries among `keys` (index -> key), undecoded: which files the memo
        holds is known at once, and unpack() decodes them while new files are extracted."""
        found = self._store.get_many(list(keys.values()))
        return {i: found[key] for i, key in keys.items() if key in found}

    def unpack(self, raw: bytes, source_file: str, sha256: str) -> Built | None:
        """A fetched entry as extract_directory builds a file, its predictions and option quotes
        put into self.predictions and self.quotes; None when it cannot be read or is not that
        file's (built again)."""
        try:
            built, predictions, quotes = _decode(raw)
        except (ValueError, TypeError, KeyError, IndexError, struct.error) as exc:
            log.info("contribution memo entry of %s unreadable (%s): built again",
                     source_file, exc)
            return None
        document, paragraphs = built[0], built[1]
        if (document.source_file, document.file_sha256) != (source_file, sha256):
            return None
        ids = [p.paragraph_id for p in paragraphs]
        self.predictions.update(zip(ids, predictions))
        self.quotes.update((pid, q) for pid, q in zip(ids, quotes) if q is not None)
        self.recalled += 1
        return built

    def remember(self, key: str, built: Built) -> None:
        """A file built in this run: stored by save() once the report has been made of it."""
        self._staged[key] = built

    def save(self, predictions: Mapping[str, Prediction],
             quotes: Mapping[str, ParagraphQuotes]) -> int:
        """Store every remembered file whose paragraphs all have a prediction, with the option
        quotes the run made of them; returns how many."""
        rows = []
        for key, built in self._staged.items():
            try:
                preds = [predictions[p.paragraph_id] for p in built[1]]
            except KeyError:
                continue
            value = _encode(built, preds, [quotes.get(p.paragraph_id) for p in built[1]])
            if value is not None:
                rows.append((key, value))
        self._store.put_many(rows)
        self._staged = {}
        return len(rows)

    def close(self) -> None:
        self._store.close()
