"""`cenb evaluate --gold FILE`: score the trained model on any labelled file.

FILE: JSONL or CSV with `text` and `challenge` (one key; empty/"none" for a non-substantive
row) or `challenges` (a list); optional `heading`, `stakeholders` (a list) and
`is_policy_option` (bool). Writes metrics.json and confusion_matrix.png (gold primary key x
predicted top-1) into the out folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.classify.metrics import (binary_report, confusion_top1, per_label_report,
                                       top1_accuracy)
from pipeline.classify.predictor import Predictor
from pipeline.classify.train import read_gold
from pipeline.config import Settings
from pipeline.errors import InputFormatError
from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS


@dataclass
class EvaluationResult:
    metrics: dict
    out_dir: Path
    files: list[Path]

    def summary(self) -> str:
        m = self.metrics
        lines = [f"{m['n']} rows from {m['gold']}"]
        if m["top1"]["top1"] is not None:
            lines.append(f"Challenge top-1 accuracy {m['top1']['top1']:.3f} "
                         f"(95% CI {m['top1'].get('top1_ci')}) on {m['top1']['n']} "
                         "substantive rows")
        ch = m["challenges"]
        lines.append(f"Assigned challenges: macro-F1 {ch['macro_f1']:.3f}, micro-F1 "
                     f"{ch['micro_f1']:.3f}")
        lines.append(f"{'label':28s} {'P':>6s} {'R':>6s} {'F1':>6s} {'n':>4s}")
        for k, v in ch["labels"].items():
            if v["support"] or v["predicted"]:
                lines.append(f"{k:28s} {v['precision']:6.2f} {v['recall']:6.2f} "
                             f"{v['f1']:6.2f} {v['support']:4d}")
        if m.get("non_substantive"):
            lines.append(f"Non-substantive rows left without a challenge: "
                         f"{m['non_substantive']['left_without_challenge']:.1%} of "
                         f"{m['non_substantive']['n']}")
        if m.get("stakeholders"):
            lines.append(f"Stakeholder roles micro-F1 {m['stakeholders']['micro_f1']:.3f}")
        if m.get("policy_option"):
            po = m["policy_option"]
            lines.append(f"Policy option precision {po['precision']:.3f} recall {po['recall']:.3f}")
        lines.append("Wrote " + ", ".join(str(f) for f in self.files))
        return "\n".join(lines)


def _plot_confusion(matrix: np.ndarray, keys: list[str], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 8), dpi=110)
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(keys)), keys, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(keys)), keys, fontsize=8)
    ax.set_xlabel("predicted (top-1)")
    ax.set_ylabel("gold")
    ax.set_title(title, fontsize=10)
    vmax = matrix.max() if matrix.size else 0
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            if matrix[i, j]:
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if matrix[i, j] > vmax / 2 else "black")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def evaluate_gold(gold: Path, out_dir: Path, settings: Settings,
                  progress: bool = True) -> EvaluationResult:
    gold = Path(gold)
    if not gold.exists():
        raise InputFormatError(f"Gold file {gold} does not exist.")
    rows = read_gold(gold)
    if not rows:
        raise InputFormatError(f"Gold file {gold} has no rows.")
    predictor = Predictor.load(settings)
    preds = predictor.predict([r["text"] for r in rows],
                              [r.get("heading") if isinstance(r.get("heading"), str) else None
                               for r in rows], progress=progress)
    n = len(rows)
    Y = np.zeros((n, 16), np.int8)
    P = np.zeros((n, 16), np.int8)
    scores = np.array([[p.challenge_scores[k] for k in CHALLENGE_KEYS] for p in preds])
    for i, (r, p) in enumerate(zip(rows, preds)):
        for c in r["challenges"]:
            Y[i, CHALLENGE_KEYS.index(c)] = 1
        for c in p.challenges:
            P[i, CHALLENGE_KEYS.index(c)] = 1
    cfg = settings.classify
    metrics: dict = {"gold": str(gold), "n": n,
                     "top1": top1_accuracy(Y, scores, cfg.bootstrap, cfg.seed),
                     "challenges": per_label_report(Y, P, CHALLENGE_KEYS, cfg.bootstrap, cfg.seed)}
    nonsub = ~Y.any(axis=1)
    if nonsub.any():
        metrics["non_substantive"] = {"n": int(nonsub.sum()), "left_without_challenge": round(
            float((P[nonsub].sum(1) == 0).mean()), 4)}
    # stakeholders, when the gold has them
    st_rows = [i for i, r in enumerate(rows) if isinstance(r.get("stakeholders"), (list, str))]
    if st_rows:
        S = np.zeros((len(st_rows), 7), np.int8)
        SP = np.zeros((len(st_rows), 7), np.int8)
        for a, i in enumerate(st_rows):
            val = rows[i]["stakeholders"]
            if isinstance(val, str):
                val = json.loads(val) if val.strip().startswith("[") else [
                    v.strip() for v in val.replace(";", ",").split(",") if v.strip()]
            bad = [v for v in val if v not in STAKEHOLDER_KEYS]
            if bad:
                raise InputFormatError(f"{gold}:{rows[i]['_line']}: unknown stakeholder key(s) "
                                       f"{bad}.")
            for v in val:
                S[a, STAKEHOLDER_KEYS.index(v)] = 1
            for v in preds[i].stakeholders:
                SP[a, STAKEHOLDER_KEYS.index(v)] = 1
        metrics["stakeholders"] = per_label_report(S, SP, STAKEHOLDER_KEYS, cfg.bootstrap,
                                                   cfg.seed)
    po_rows = [i for i, r in enumerate(rows) if r.get("is_policy_option") not in (None, "")]
    if po_rows:
        def as_bool(v):
            return v if isinstance(v, bool) else str(v).strip().lower() in ("true", "1", "yes")
        g = [as_bool(rows[i]["is_policy_option"]) for i in po_rows]
        p = [preds[i].is_policy_option for i in po_rows]
        metrics["policy_option"] = binary_report(g, p)
        ns = [k for k, i in enumerate(po_rows) if nonsub[i]]
        if ns:
            metrics["policy_option"]["false_option_rate_non_substantive"] = round(
                float(np.mean([p[k] and not g[k] for k in ns])), 4)
    primary = [CHALLENGE_KEYS[int(np.argmax(y))] if y.any() else None for y in Y]
    top1 = [CHALLENGE_KEYS[int(np.argmax(s))] for s in scores]
    cm = confusion_top1([p for p in primary if p], [t for p, t in zip(primary, top1) if p],
                        CHALLENGE_KEYS)
    metrics["confusion_matrix"] = {"labels": list(CHALLENGE_KEYS), "matrix": cm.tolist()}
    metrics["rows"] = [{"id": r.get("id", r["_line"]), "gold": r["challenges"], "top1": t,
                        "assigned": p.challenges, "is_policy_option": p.is_policy_option}
                       for r, t, p in zip(rows, top1, preds)]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    mpath = out_dir / "metrics.json"
    mpath.write_text(json.dumps(metrics, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    ppath = out_dir / "confusion_matrix.png"
    _plot_confusion(cm, list(CHALLENGE_KEYS), ppath,
                    f"{gold.name}: top-1 accuracy {metrics['top1']['top1']}")
    return EvaluationResult(metrics, out_dir, [mpath, ppath])
