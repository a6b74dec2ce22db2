"""In-memory records of the report stage: a classified paragraph and what is built from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from pipeline.records import Document, Paragraph, Prediction, QuarantineEntry
from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.report.option_quotes import ParagraphQuotes
    from pipeline.review.confirmed import ConfirmedLabel


@dataclass
class ClassifiedParagraph:
    """An extracted paragraph, the model's prediction for it and, if any, a reviewer's label.

    The effective labels (challenges, stakeholders, is_policy_option) are the reviewer's where a
    review confirmed or corrected them, else the model's (a reviewer's label may leave
    stakeholders / is_policy_option unjudged: None, then the model's stand).
    """

    para: Paragraph
    prediction: Prediction
    confirmed: "ConfirmedLabel | None" = None

    @property
    def paragraph_id(self) -> str:
        return self.para.paragraph_id

    @property
    def text(self) -> str:
        return self.para.text

    @property
    def challenges(self) -> list[str]:
        return list(self.challenge_labels)

    @property
    def challenge_labels(self) -> Sequence[str]:
        """The effective challenge areas, not copied: for passes that only read them."""
        if self.confirmed is not None:
            return self.confirmed.challenges
        return self.prediction.challenges

    @property
    def stakeholders(self) -> list[str]:
        return list(self.stakeholder_labels)

    @property
    def stakeholder_labels(self) -> Sequence[str]:
        """The effective stakeholders, not copied: for passes that only read them."""
        if self.confirmed is not None and self.confirmed.stakeholders is not None:
            return self.confirmed.stakeholders
        return self.prediction.stakeholders

    @property
    def is_policy_option(self) -> bool:
        if self.confirmed is not None and self.confirmed.is_policy_option is not None:
            return bool(self.confirmed.is_policy_option)
        return bool(self.prediction.is_policy_option)

    def challenge_score(self, key: str) -> float:
        if self.confirmed is not None:
            return 1.0 if key in self.confirmed.challenges else 0.0
        return float(self.prediction.challenge_scores.get(key, 0.0))

    @property
    def option_score(self) -> float:
        """The classifier's policy-option score where it gives one (Prediction.extra)."""
        if self.confirmed is not None and self.confirmed.is_policy_option is not None:
            return 1.0 if self.confirmed.is_policy_option else 0.0
        for name in ("policy_option_score", "is_policy_option_score", "option_score"):
            value = self.prediction.extra.get(name)
            if isinstance(value, (int, float)):
                return float(value)
        return 1.0 if self.prediction.is_policy_option else 0.0

    def top_challenge(self) -> str | None:
        labels = self.challenges
        if not labels:
            return None
        return max(labels, key=lambda k: (self.challenge_score(k), -CHALLENGE_KEYS.index(k)))

    # (file, paragraph number, id): every writer sorts 70,000 paragraphs by it, and attrgetter
    # builds the tuple in C (a method call per paragraph cost 0.35 s per sort at 3,000)
    sort_key = staticmethod(attrgetter("para.source_file", "para.paragraph", "para.paragraph_id"))


def prediction_from_row(row: Mapping[str, Any]) -> Prediction:
    """A Prediction from a dict/parquet row holding the `cenb predict` fields."""

    def _scores(value: Any, keys: tuple[str, ...]) -> dict[str, float]:
        value = dict(value) if value is not None else {}
        return {k: float(value.get(k) or 0.0) for k in keys}

    def _list(value: Any) -> list[str]:
        if value is None:
            return []
        return [str(v) for v in list(value)]

    extra: dict[str, Any] = {}
    for k in ("policy_option_score", "p_substantive", "option_sentences"):
        value = row.get(k)
        if value is None:
            continue
        if k == "option_sentences":
            if isinstance(value, str):
                import json

                value = json.loads(value)
            value = [dict(v) for v in list(value)]
        extra[k] = value
    return Prediction(
        challenges=_list(row.get("challenges")),
        challenge_scores=_scores(row.get("challenge_scores"), CHALLENGE_KEYS),
        stakeholders=_list(row.get("stakeholders")),
        stakeholder_scores=_scores(row.get("stakeholder_scores"), STAKEHOLDER_KEYS),
        is_policy_option=bool(row.get("is_policy_option")),
        extra=extra,
    )


@dataclass
class ReportInput:
    """Everything the report stage reads: documents, classified paragraphs, quarantine."""

    documents: dict[str, Document]
    paragraphs: list[ClassifiedParagraph]
    quarantine: list[QuarantineEntry] = field(default_factory=list)
    input_dir: Any = None  # Path of the submissions folder when known (for links to files)
    files_seen: int | None = None
    # paragraph id -> the option quotes an earlier run made of it (ParagraphQuotes, from the
    # contribution memo); the others' are made by the report
    known_quotes: Mapping[str, ParagraphQuotes] | None = None
    # source_file -> its provenance state (ContributionMemo.states), where a memo gives one:
    # the writers keep what they make of a contribution under it
    file_states: Mapping[str, str] | None = None


def build_input(contributions: list[Mapping[str, Any]], quarantine: list[Mapping[str, Any]] = (),
                input_dir: Any = None) -> ReportInput:
    """A ReportInput from plain specs (tests, notebooks, hand-made examples).

    Each contribution: source_file, contributor, optional organisation / stakeholder_group /
    file_type / language, and `paragraphs`: a list of {text, heading?, page?, challenges?,
    stakeholders?, is_policy_option?, challenge_scores?, stakeholder_scores?}. The document text
    is the paragraph texts joined by PARAGRAPH_SEPARATOR; offsets and ids are computed as the
    extract stage computes them.
    """
    from collections import Counter

    from pipeline.records import PARAGRAPH_SEPARATOR, content_hash, paragraph_id

    documents: dict[str, Document] = {}
    paragraphs: list[ClassifiedParagraph] = []
    for spec in contributions:
        source = str(spec["source_file"])
        sha = content_hash(source)
        pos = 0
        seen: Counter[str] = Counter()
        texts = []
        for i, ps in enumerate(spec["paragraphs"], start=1):
            text = str(ps["text"])
            occurrence = seen[text]
            seen[text] += 1
            para = Paragraph(
                paragraph_id=paragraph_id(source, text, occurrence), source_file=source,
                file_sha256=sha, contributor=str(spec["contributor"]),
                organisation=spec.get("organisation"),
                stakeholder_group=spec.get("stakeholder_group"), page=ps.get("page"),
                paragraph=i, heading=ps.get("heading"), kind=ps.get("kind", "body"),
                char_start=pos, char_end=pos + len(text), text=text,
                language=spec.get("language", "en"), content_hash=content_hash(text))
            challenges = list(ps.get("challenges", []))
            cscores = dict(ps.get("challenge_scores") or {})
            for k in CHALLENGE_KEYS:
                cscores.setdefault(k, 0.9 if k in challenges else 0.02)
            stakeholders = list(ps.get("stakeholders", []))
            sscores = dict(ps.get("stakeholder_scores") or {})
            for k in STAKEHOLDER_KEYS:
                sscores.setdefault(k, 0.85 if k in stakeholders else 0.05)
            pred = Prediction(challenges=challenges, challenge_scores=cscores,
                              stakeholders=stakeholders, stakeholder_scores=sscores,
                              is_policy_option=bool(ps.get("is_policy_option", False)))
            paragraphs.append(ClassifiedParagraph(para, pred))
            texts.append(text)
            pos += len(text) + len(PARAGRAPH_SEPARATOR)
        pages = max([p.get("page") or 0 for p in spec["paragraphs"]] + [0]) or None
        documents[source] = Document(
            source_file=source, file_sha256=sha, file_type=spec.get("file_type", "docx"),
            contributor=str(spec["contributor"]), organisation=spec.get("organisation"),
            stakeholder_group=spec.get("stakeholder_group"), language=spec.get("language", "en"),
            pages=pages, text=PARAGRAPH_SEPARATOR.join(texts), title=spec.get("title"))
    entries = [QuarantineEntry(source_file=q["source_file"], reason=q["reason"],
                               detail=q["detail"]) for q in quarantine]
    return ReportInput(documents=documents, paragraphs=paragraphs, quarantine=entries,
                       input_dir=input_dir, files_seen=len(documents) + len(entries))
