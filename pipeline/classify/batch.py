"""`cenb classify`: label every extracted paragraph (corpus/interim/paragraphs.parquet).

Writes <out_dir>/classified.parquet, one row per paragraph, same order, columns:
    paragraph_id, challenges (list), challenge_scores (struct: every challenge key),
    top_challenge, stakeholders (list), stakeholder_scores (struct: every stakeholder key),
    is_policy_option (bool), p_substantive (float),
    option_sentences (list of {sentence, start, end, cue, addressees}; offsets into the
    paragraph text)
The paragraph's heading is given to the model as context.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.classify.predictor import Predictor
from pipeline.config import Settings
from pipeline.errors import InputFormatError

OUT_FILE = "classified.parquet"
CHUNK = 256


def classify_interim(interim_dir: Path | str, out_dir: Path | str, settings: Settings,
                     progress: bool = True) -> Path:
    import pandas as pd

    src = Path(interim_dir) / "paragraphs.parquet"
    if not src.exists():
        raise InputFormatError(f"{src} does not exist: run `cenb extract` first.")
    df = pd.read_parquet(src)
    for col in ("paragraph_id", "text"):
        if col not in df.columns:
            raise InputFormatError(f"{src} has no `{col}` column.")
    predictor = Predictor.load(settings)
    texts = [str(t) for t in df["text"].tolist()]
    heads = ([h if isinstance(h, str) and h.strip() else None for h in df["heading"].tolist()]
             if "heading" in df.columns else None)
    records = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(texts), desc="classify", unit="para")
    ids = df["paragraph_id"].tolist()
    for preds in predictor.predict_batches(texts, heads, progress, CHUNK):
        for pid, p in zip(ids[len(records):len(records) + len(preds)], preds):
            scores = p.challenge_scores
            records.append({
                "paragraph_id": str(pid),
                "challenges": list(p.challenges),
                "challenge_scores": {k: float(v) for k, v in scores.items()},
                "top_challenge": max(scores, key=lambda k: scores[k]),
                "stakeholders": list(p.stakeholders),
                "stakeholder_scores": {k: float(v) for k, v in p.stakeholder_scores.items()},
                "is_policy_option": bool(p.is_policy_option),
                "p_substantive": float(p.extra["p_substantive"]),
                "option_sentences": [
                    {"sentence": o["sentence"], "start": int(o["start"]), "end": int(o["end"]),
                     "cue": o["cue"], "addressees": list(o["addressees"])}
                    for o in p.extra["option_sentences"]],
            })
        if bar:
            bar.update(len(preds))
    if bar:
        bar.close()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / OUT_FILE
    tmp = out_dir / (OUT_FILE + ".tmp")
    _write(records, tmp)
    tmp.replace(path)
    return path


def _write(records: list[dict], path: Path) -> None:
    """Write with an explicit arrow schema (stable types even for an empty corpus)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS

    option_type = pa.list_(pa.struct([("sentence", pa.string()), ("start", pa.int64()),
                                      ("end", pa.int64()), ("cue", pa.string()),
                                      ("addressees", pa.list_(pa.string()))]))
    schema = pa.schema([
        ("paragraph_id", pa.string()),
        ("challenges", pa.list_(pa.string())),
        ("challenge_scores", pa.struct([(k, pa.float64()) for k in CHALLENGE_KEYS])),
        ("top_challenge", pa.string()),
        ("stakeholders", pa.list_(pa.string())),
        ("stakeholder_scores", pa.struct([(k, pa.float64()) for k in STAKEHOLDER_KEYS])),
        ("is_policy_option", pa.bool_()),
        ("p_substantive", pa.float64()),
        ("option_sentences", option_type),
    ])
    pq.write_table(pa.Table.from_pylist(records, schema=schema), path)
