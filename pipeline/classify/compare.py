"""Model comparisons behind docs/classifier.md: `python -m pipeline.classify.compare`.

Runs, on the same labelled rows and the same outer folds as `cenb train`:
- the production model and variants of it (no heading context, other prior weights, heading
  removed at test time),
- a TF-IDF + logistic-regression baseline, a zero-shot-only baseline (prototype prior argmax),
- optionally (--setfit) a SetFit-style contrastive fine-tune of MiniLM with a logistic
  regression head, on one held-out fold only (a fine-tune per fold is too slow on CPU), compared
  with the frozen-embedding model on the same fold.
Each variant is also fitted on every row and scored on ../shared/eval-dev (top-1), which is used
for measurement only. Writes models/comparison.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from pipeline.classify.embeddings import Embedder
from pipeline.classify.labels import load_labels
from pipeline.classify.metrics import per_label_report, top1_accuracy
from pipeline.classify.model import (ChallengeModel, Inputs, challenge_features,
                                     primary_strata, stratified_folds)
from pipeline.classify.rules import RuleEngine
from pipeline.classify.taxonomy import load_taxonomy
from pipeline.classify.train import (Dataset, build_prior, cross_validate, cv_metrics,
                                     prepare_dataset, read_gold)
from pipeline.config import Settings, load_settings
from pipeline.taxonomy_keys import CHALLENGE_KEYS


def _dev(settings: Settings, embedder: Embedder) -> tuple[np.ndarray, np.ndarray, list[str]]:
    gold = read_gold(settings.eval_dev)
    Y = np.zeros((len(gold), 16), np.int8)
    for i, g in enumerate(gold):
        for c in g["challenges"]:
            Y[i, CHALLENGE_KEYS.index(c)] = 1
    texts = [g["text"] for g in gold]
    return embedder.encode(texts), Y, texts


def _summary(ds: Dataset, scores: np.ndarray, chosen: np.ndarray | None, nonsub_files: np.ndarray,
             boot: int, seed: int) -> dict:
    out = {"top1": top1_accuracy(ds.Y, scores, boot, seed)}
    if chosen is not None:
        rep = per_label_report(ds.Y, chosen, CHALLENGE_KEYS, boot, seed)
        out["macro_f1"] = rep["macro_f1"]
        out["macro_f1_ci"] = rep.get("macro_f1_ci")
        ns = nonsub_files
        out["abstain_non_substantive_file"] = round(float((chosen[ns].sum(1) == 0).mean()), 4)
        out["abstain_all_empty_rows"] = round(float((chosen[~ds.Y.any(1)].sum(1) == 0).mean()), 4)
    return out


def variant_production(ds, prior, settings, lexicon, dev, nonsub, label: str) -> dict:
    t0 = time.perf_counter()
    oof = cross_validate(ds, prior, settings, lexicon)
    res = _summary(ds, oof.joint, oof.chosen, nonsub, settings.classify.bootstrap,
                   settings.classify.seed)
    res["cv_metrics"] = {k: v for k, v in cv_metrics(ds, oof, settings.classify).items()
                         if k in ("abstain", "stakeholders", "policy_option")}
    res["cv_metrics"]["stakeholders"] = {
        k: res["cv_metrics"].get("stakeholders", {}).get(k)
        for k in ("micro_f1", "micro_f1_ci", "macro_f1", "rules_only_micro_f1")}
    # fit on every row, score the dev set
    cfg = settings.classify
    F = challenge_features(ds.inp, cfg)
    model = ChallengeModel.fit(F, ds.inp.text, ds.Y, prior, cfg)
    dev_emb, dev_Y, _ = dev
    dev_inp = Inputs(dev_emb, np.zeros_like(dev_emb), np.zeros((len(dev_emb), 1)))
    Fd = challenge_features(dev_inp, cfg)
    sd = model.label_scores(Fd, dev_emb) * model.p_substantive(Fd)[:, None]
    res["dev_top1"] = top1_accuracy(dev_Y, sd, 0)["top1"]
    # robustness: the same CV with headings removed at test time only
    if cfg.use_heading:
        res["cv_top1_heading_removed_at_test"] = _cv_no_heading_at_test(ds, prior, settings)
    res["seconds"] = round(time.perf_counter() - t0, 1)
    res["variant"] = label
    return res


def _cv_no_heading_at_test(ds: Dataset, prior, settings: Settings) -> float:
    cfg = settings.classify
    scores = np.zeros(ds.Y.shape)
    for tr, te in stratified_folds(primary_strata(ds.Y), cfg.cv_folds, cfg.seed + 1):
        sub = ds.inp.subset(tr)
        m = ChallengeModel.fit(challenge_features(sub, cfg), sub.text, ds.Y[tr], prior, cfg)
        te_inp = Inputs(ds.inp.text[te], np.zeros_like(ds.inp.heading[te]),
                        ds.inp.rule_features[te])
        F = challenge_features(te_inp, cfg)
        scores[te] = m.label_scores(F, te_inp.text)
    return top1_accuracy(ds.Y, scores, 0)["top1"]


def variant_zero_shot(ds, prior, dev) -> dict:
    q = prior.distribution(ds.inp.text)
    dev_emb, dev_Y, _ = dev
    return {"variant": "zero-shot prior only (no training)",
            "top1": top1_accuracy(ds.Y, q, 0),
            "dev_top1": top1_accuracy(dev_Y, prior.distribution(dev_emb), 0)["top1"]}


def variant_tfidf(ds, settings, dev) -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    cfg = settings.classify
    texts = np.array([r.text for r in ds.rows], dtype=object)
    sub = ds.Y.any(1)
    scores = np.zeros(ds.Y.shape)

    def fit_predict(tr_texts, Y_tr, te_texts):
        vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        Xtr = vec.fit_transform(tr_texts)
        Xte = vec.transform(te_texts)
        out = np.zeros((len(te_texts), 16))
        for j in range(16):
            if Y_tr[:, j].sum() == 0:
                continue
            lr = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000,
                                    random_state=cfg.seed)
            lr.fit(Xtr, Y_tr[:, j])
            out[:, j] = lr.predict_proba(Xte)[:, 1]
        return out

    for tr, te in stratified_folds(primary_strata(ds.Y), cfg.cv_folds, cfg.seed + 1):
        tr = tr[sub[tr]]
        scores[te] = fit_predict(texts[tr], ds.Y[tr], texts[te])
    _, dev_Y, dev_texts = dev
    dev_scores = fit_predict(texts[sub], ds.Y[sub], np.array(dev_texts, dtype=object))
    return {"variant": "TF-IDF (1-2 grams) + one-vs-rest logistic regression",
            "top1": top1_accuracy(ds.Y, scores, 0),
            "dev_top1": top1_accuracy(dev_Y, dev_scores, 0)["top1"]}


def variant_setfit(ds, prior, settings: Settings, dev, n_pairs: int, max_seconds: float) -> dict:
    """Contrastive fine-tune (cosine-similarity loss on same/different-label pairs) of MiniLM on
    the training part of one fold, then the production challenge model on the tuned
    embeddings; compared with the frozen embeddings on the same fold."""
    import torch
    from sentence_transformers import SentenceTransformer

    from pipeline.classify.embeddings import KNOWN_MODELS

    cfg = settings.classify
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    tr, te = stratified_folds(primary_strata(ds.Y), cfg.cv_folds, cfg.seed + 1)[0]
    texts = [r.text for r in ds.rows]
    tr_sub = tr[ds.Y[tr].any(1)]
    primary = {i: set(np.flatnonzero(ds.Y[i])) for i in tr_sub}
    pairs = []
    for _ in range(n_pairs):
        a = int(rng.choice(tr_sub))
        if rng.random() < 0.5:   # positive: shares a label
            lab = int(rng.choice(sorted(primary[a])))
            cands = [i for i in tr_sub if lab in primary[i] and i != a]
            b, y = int(rng.choice(cands)), 1.0
        else:
            cands = [i for i in tr_sub if not (primary[i] & primary[a])]
            b, y = int(rng.choice(cands)), 0.0
        pairs.append((a, b, y))
    path = KNOWN_MODELS[settings.embed.model][0]()
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    model.max_seq_length = 128
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-5)
    t0 = time.perf_counter()
    bs = 16
    done = 0
    for start in range(0, len(pairs), bs):
        batch = pairs[start:start + bs]
        fa = model.tokenize([texts[a] for a, _, _ in batch])
        fb = model.tokenize([texts[b] for _, b, _ in batch])
        ea = model(fa)["sentence_embedding"]
        eb = model(fb)["sentence_embedding"]
        cos = torch.nn.functional.cosine_similarity(ea, eb)
        loss = torch.nn.functional.mse_loss(cos, torch.tensor([y for _, _, y in batch]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        done += len(batch)
        if time.perf_counter() - t0 > max_seconds:
            break
    model.eval()
    tune_s = time.perf_counter() - t0
    with torch.no_grad():
        emb = model.encode(texts, batch_size=64, normalize_embeddings=True,
                           convert_to_numpy=True).astype(np.float32)
        heads = model.encode([r.heading or "" for r in ds.rows], batch_size=64,
                             normalize_embeddings=True, convert_to_numpy=True)
        heads[[not r.heading for r in ds.rows]] = 0
        dev_emb = model.encode(dev[2], normalize_embeddings=True, convert_to_numpy=True)

    def fold_top1(text_emb, head_emb, dev_e):
        inp = Inputs(text_emb, head_emb.astype(np.float32), ds.inp.rule_features)
        sub = inp.subset(tr)
        m = ChallengeModel.fit(challenge_features(sub, cfg), sub.text, ds.Y[tr], prior, cfg)
        t = inp.subset(te)
        F = challenge_features(t, cfg)
        s = m.label_scores(F, t.text) * m.p_substantive(F)[:, None]
        d_inp = Inputs(dev_e, np.zeros_like(dev_e), np.zeros((len(dev_e), 1)))
        Fd = challenge_features(d_inp, cfg)
        sd = m.label_scores(Fd, dev_e) * m.p_substantive(Fd)[:, None]
        return (top1_accuracy(ds.Y[te], s, 0)["top1"],
                top1_accuracy(dev[1], sd, 0)["top1"])

    # the prior uses frozen-model prototype centroids; for the tuned model, re-embed them
    frozen_fold, frozen_dev = fold_top1(ds.inp.text, ds.inp.heading, dev[0])
    taxonomy = load_taxonomy(settings.labels_dir)
    with torch.no_grad():
        per_label = [model.encode(taxonomy.challenges[k].prior_texts(), normalize_embeddings=True,
                                  convert_to_numpy=True) for k in CHALLENGE_KEYS]
    from pipeline.classify.model import Prior

    prior_tuned = Prior.from_embeddings(per_label, cfg.prior_temperature)
    prior_saved = prior
    prior = prior_tuned
    tuned_fold, tuned_dev = fold_top1(emb, heads, dev_emb)
    prior = prior_saved
    return {"variant": "SetFit-style contrastive fine-tune + production head (one fold)",
            "pairs_trained": done, "fine_tune_seconds": round(tune_s, 1),
            "fold_top1_frozen": frozen_fold, "fold_top1_finetuned": tuned_fold,
            "dev_top1_frozen": frozen_dev, "dev_top1_finetuned": tuned_dev}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--setfit", action="store_true", help="also run the fine-tune comparison")
    ap.add_argument("--pairs", type=int, default=4000)
    ap.add_argument("--setfit-seconds", type=float, default=540)
    ap.add_argument("--only", default=None, help="comma-separated variant names")
    args = ap.parse_args(argv)
    settings = load_settings(args.params)
    taxonomy = load_taxonomy(settings.labels_dir)
    lexicon = taxonomy.actor_lexicon()
    embedder = Embedder(settings)
    ds = prepare_dataset(load_labels(settings.labels_dir), embedder, RuleEngine(lexicon))
    prior = build_prior(taxonomy, embedder, settings.classify)
    dev = _dev(settings, embedder)
    nonsub = np.array(["non_substantive" in r.file for r in ds.rows])
    cfg = settings.classify
    variants = {
        "production": cfg,
        "heading_in_label_heads": cfg.model_copy(update={"heading_in_label_heads": True}),
        "no_heading": cfg.model_copy(update={"use_heading": False}),
        "prior_0": cfg.model_copy(update={"prior_weight": 0.0}),
        "prior_0.3": cfg.model_copy(update={"prior_weight": 0.3}),
        "prior_0.7": cfg.model_copy(update={"prior_weight": 0.7}),
        "no_threshold_shrink": cfg.model_copy(update={"threshold_shrink": 0.0}),
    }
    only = set(args.only.split(",")) if args.only else None
    results = []
    for name, c in variants.items():
        if only and name not in only:
            continue
        s = settings.model_copy(update={"classify": c})
        r = variant_production(ds, build_prior(taxonomy, embedder, c), s, lexicon, dev, nonsub,
                               name)
        print(json.dumps({k: v for k, v in r.items() if k != "cv_metrics"}), flush=True)
        results.append(r)
    if not only or "zero_shot" in only:
        results.append(variant_zero_shot(ds, prior, dev))
        print(json.dumps(results[-1]), flush=True)
    if not only or "tfidf" in only:
        results.append(variant_tfidf(ds, settings, dev))
        print(json.dumps(results[-1]), flush=True)
    if args.setfit:
        results.append(variant_setfit(ds, prior, settings, dev, args.pairs, args.setfit_seconds))
        print(json.dumps(results[-1]), flush=True)
    out = args.out or settings.models_dir / "comparison.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"Wrote {out}")


if __name__ == "__main__":
    main()
