"""Classification metrics with bootstrap confidence intervals (numpy only, deterministic)."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def _prf(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> tuple[np.ndarray, ...]:
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        r = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    return p, r, f


def per_label_report(gold: np.ndarray, pred: np.ndarray, keys: Sequence[str],
                     n_boot: int = 1000, seed: int = 0) -> dict:
    """Per-label precision/recall/F1 (+95% bootstrap CI of F1), macro-F1 and micro-F1 with CIs.

    gold, pred: (n, k) 0/1. Macro-F1 is over labels that have gold support.
    """
    gold = gold.astype(bool)
    pred = pred.astype(bool)
    tp_m = (gold & pred).astype(np.float64)
    fp_m = (~gold & pred).astype(np.float64)
    fn_m = (gold & ~pred).astype(np.float64)
    tp, fp, fn = tp_m.sum(0), fp_m.sum(0), fn_m.sum(0)
    p, r, f = _prf(tp, fp, fn)
    support = gold.sum(0)
    has = support > 0
    macro = float(f[has].mean()) if has.any() else 0.0
    _, _, micro = _prf(tp.sum(), fp.sum(), fn.sum())
    out = {"labels": {}, "macro_f1": round(macro, 4), "micro_f1": round(float(micro), 4),
           "n": int(gold.shape[0])}
    if n_boot and gold.shape[0] > 1:
        rng = np.random.default_rng(seed)
        n = gold.shape[0]
        W = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)  # (B, n)
        btp, bfp, bfn = W @ tp_m, W @ fp_m, W @ fn_m                                  # (B, k)
        _, _, bf = _prf(btp, bfp, bfn)
        bsup = W @ gold.astype(np.float64)
        bmacro = np.array([bf[b][bsup[b] > 0].mean() if (bsup[b] > 0).any() else 0.0
                           for b in range(n_boot)])
        _, _, bmicro = _prf(btp.sum(1), bfp.sum(1), bfn.sum(1))
        lo, hi = np.percentile(bf, [2.5, 97.5], axis=0)
        out["macro_f1_ci"] = [round(float(x), 4) for x in np.percentile(bmacro, [2.5, 97.5])]
        out["micro_f1_ci"] = [round(float(x), 4) for x in np.percentile(bmicro, [2.5, 97.5])]
    else:
        lo = hi = f
    for j, key in enumerate(keys):
        out["labels"][key] = {
            "precision": round(float(p[j]), 4), "recall": round(float(r[j]), 4),
            "f1": round(float(f[j]), 4), "f1_ci": [round(float(lo[j]), 4), round(float(hi[j]), 4)],
            "support": int(support[j]), "predicted": int(pred[:, j].sum()),
        }
    return out


def top1_accuracy(gold: np.ndarray, scores: np.ndarray, n_boot: int = 1000,
                  seed: int = 0) -> dict:
    """Share of rows whose highest-scoring key is one of their gold keys (rows with gold only)."""
    rows = gold.any(axis=1)
    if not rows.any():
        return {"top1": None, "n": 0}
    g = gold[rows].astype(bool)
    hit = g[np.arange(g.shape[0]), np.argmax(scores[rows], axis=1)].astype(np.float64)
    out = {"top1": round(float(hit.mean()), 4), "n": int(hit.size)}
    if n_boot and hit.size > 1:
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, hit.size, size=(n_boot, hit.size))
        out["top1_ci"] = [round(float(x), 4) for x in np.percentile(hit[idx].mean(1), [2.5, 97.5])]
    return out


def binary_report(gold: Sequence[bool], pred: Sequence[bool]) -> dict:
    g = np.asarray(gold, dtype=bool)
    p = np.asarray(pred, dtype=bool)
    tp = int((g & p).sum())
    fp = int((~g & p).sum())
    fn = int((g & ~p).sum())
    tn = int((~g & ~p).sum())
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4),
            "tp": tp, "fp": fp, "fn": fn, "tn": tn, "n": int(g.size)}


def confusion_top1(gold_primary: Sequence[str], pred_top1: Sequence[str],
                   keys: Sequence[str]) -> np.ndarray:
    idx = {k: i for i, k in enumerate(keys)}
    m = np.zeros((len(keys), len(keys)), dtype=int)
    for g, p in zip(gold_primary, pred_top1):
        if g in idx and p in idx:
            m[idx[g], idx[p]] += 1
    return m
