"""`cenb predict`: files in, the CONTRACTS.md objects out; `--text` for a readable answer.

Input: JSONL (one object a line with `id` and `text`, optional `heading`), or CSV / parquet with
a `text` column (id from an `id` column, else the 1-based row number; optional `heading`).
Output: JSONL, one object per input row, same order, with id, challenges, challenge_scores
(every key), stakeholders, stakeholder_scores (every key), is_policy_option.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from pipeline.classify.predictor import Predictor
from pipeline.config import Settings
from pipeline.errors import InputFormatError
from pipeline.jsonl import read_jsonl_objects
from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS

CHUNK = 512


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def read_input(path: Path) -> tuple[list[Any], list[str], list[str | None]]:
    """(ids, texts, headings) from a JSONL, CSV or parquet file; clear errors otherwise."""
    if not path.exists():
        raise InputFormatError(f"Input file {path} does not exist.")
    suffix = path.suffix.lower()
    ids: list[Any] = []
    texts: list[str] = []
    heads: list[str | None] = []
    if suffix in (".csv", ".parquet", ".pq", ".tsv"):
        import pandas as pd

        try:
            if suffix in (".parquet", ".pq"):
                df = pd.read_parquet(path)
            else:
                df = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", dtype=object,
                                 keep_default_na=False)
        except Exception as exc:  # noqa: BLE001 - pandas/pyarrow raise many types
            raise InputFormatError(f"{path} could not be read as {suffix[1:]}: {exc}") from exc
        if "text" not in df.columns:
            raise InputFormatError(f"{path} has no `text` column (columns: "
                                   f"{', '.join(map(str, df.columns))}).")
        has_id = "id" in df.columns
        has_head = "heading" in df.columns
        for i, rec in enumerate(df.to_dict("records"), start=1):
            text = rec["text"]
            if _is_missing(text) or not isinstance(text, str):
                raise InputFormatError(f"{path}: row {i} has no text.")
            rid = rec["id"] if has_id else i
            if has_id and (_is_missing(rid) or rid == ""):
                raise InputFormatError(f"{path}: row {i} has an empty `id`.")
            if hasattr(rid, "item"):
                rid = rid.item()     # numpy scalar -> python
            ids.append(rid)
            texts.append(text)
            h = rec.get("heading") if has_head else None
            heads.append(h if isinstance(h, str) and h.strip() else None)
        return ids, texts, heads
    # JSONL (any other suffix)
    for n, obj in read_jsonl_objects(path, InputFormatError):
        if "id" not in obj or obj["id"] is None:
            raise InputFormatError(f"{path}:{n}: missing `id`.")
        if "text" not in obj:
            raise InputFormatError(f"{path}:{n}: missing `text`.")
        if not isinstance(obj["text"], str):
            raise InputFormatError(f"{path}:{n}: `text` must be a string.")
        ids.append(obj["id"])
        texts.append(obj["text"])
        h = obj.get("heading")
        heads.append(h if isinstance(h, str) and h.strip() else None)
    return ids, texts, heads


def predict_file(input: Path, output: Path, settings: Settings, progress: bool = True) -> int:
    """Classify every row of `input` into `output` (JSONL); returns the number of rows."""
    input, output = Path(input), Path(output)
    ids, texts, heads = read_input(input)
    predictor = Predictor.load(settings)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    bar = None
    if progress and len(texts) > CHUNK:
        from tqdm import tqdm

        bar = tqdm(total=len(texts), desc="predict", unit="para")
    with tmp.open("w", encoding="utf-8") as fh:
        done = 0
        for preds in predictor.predict_batches(texts, heads, progress and bar is not None,
                                               CHUNK):
            for rid, p in zip(ids[done:done + len(preds)], preds):
                fh.write(json.dumps(p.to_contract(rid), ensure_ascii=False) + "\n")
            done += len(preds)
            if bar:
                bar.update(len(preds))
    if bar:
        bar.close()
    tmp.replace(output)
    return len(texts)


def predict_text_readable(text: str, settings: Settings, heading: str | None = None) -> str:
    """A person-readable answer for one text (`cenb predict --text`)."""
    if not text.strip():
        raise InputFormatError("--text is empty.")
    predictor = Predictor.load(settings)
    p = predictor.predict([text], [heading] if heading else None)[0]
    names = predictor.header.get("names", {})
    ranked = sorted(CHALLENGE_KEYS, key=lambda k: -p.challenge_scores[k])
    lines = []
    if p.challenges:
        lines.append("Challenge areas: " + ", ".join(
            f"{k} ({p.challenge_scores[k]:.2f})" for k in p.challenges))
    else:
        lines.append("Challenge areas: none (not substantive: P(substantive) = "
                     f"{p.extra['p_substantive']:.2f})")
    lines.append("  closest: " + ", ".join(f"{k} {p.challenge_scores[k]:.2f}"
                                           for k in ranked[:3]))
    for k in p.challenges:
        if k in names:
            lines.append(f"  {k}: {names[k]}")
    st_ranked = sorted(STAKEHOLDER_KEYS, key=lambda k: -p.stakeholder_scores[k])
    lines.append("Stakeholder roles: " + (", ".join(
        f"{k} ({p.stakeholder_scores[k]:.2f})" for k in p.stakeholders) or "none"))
    lines.append("  scores: " + ", ".join(f"{k} {p.stakeholder_scores[k]:.2f}"
                                          for k in st_ranked))
    lines.append(f"Policy option: {'yes' if p.is_policy_option else 'no'}")
    for o in p.extra.get("option_sentences", []):
        who = f" -> {', '.join(o['addressees'])}" if o["addressees"] else ""
        lines.append(f"  - \"{o['sentence']}\" [{o['cue']}{who}]")
    return "\n".join(lines)
