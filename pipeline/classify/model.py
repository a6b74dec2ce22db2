"""The challenge, substantive (abstain) and stakeholder-role models, fitted on embeddings.

Challenge areas (multi-label, 16 keys)
    features  = [text embedding, heading_weight * heading embedding]     (heading optional)
    p_k       = one-vs-rest logistic regression (L2, C) per key, fitted on substantive rows,
                on the text embedding (plus the heading if heading_in_label_heads: measured
                to add noise to the key, so by default the heading only informs the
                substantive model)
    q_k       = zero-shot prior: softmax over keys of the cosine between the text and the
                centroid of the key's description and prototypes (labels/taxonomy.yaml)
    s_k       = (1 - prior_weight) * p_k + prior_weight * q_k
    score_k   = Platt calibration of s_k, fitted on inner cross-validated predictions
    assigned  = keys whose score passes their threshold (chosen by inner CV within
                [min_threshold, max_threshold], shrunk towards the global best), at most
                max_challenges; the top-1 when none passes; nothing when the text is not
                substantive (unless it is a policy option with a clear key, see decide()).
Substantive vs not: logistic regression on the same features, Platt-calibrated; the
    challenge_scores reported are P(key | substantive) * P(substantive), so the argmax stays the
    most likely key even when the paragraph abstains.
Stakeholder roles (multi-label, 7 keys): logistic regression on the embedding, stacked with the
    spaCy rule features (role hits as the subject of a deontic verb, actor mentions) in a
    per-key calibrating logistic regression; thresholds by inner CV.

Every fitted number lives in numpy arrays saved with np.savez (loaded with allow_pickle=False)
and a JSON header; nothing is pickled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from pipeline.classify.rules import N_PER_KEY
from pipeline.config import ClassifySettings
from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS

EPS = 1e-6
THRESHOLD_GRID_STEP = 0.025


# -- small numeric helpers ----------------------------------------------------------------------
def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p / (1 - p))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def fit_binary_lr(X: np.ndarray, y: np.ndarray, C: float, seed: int,
                  balanced: bool = True) -> tuple[np.ndarray, float]:
    """(coef, intercept) of an L2 logistic regression; constant model for a one-class y."""
    y = np.asarray(y, dtype=int)
    pos = int(y.sum())
    if pos == 0 or pos == len(y):
        rate = (pos + 0.5) / (len(y) + 1.0)
        return np.zeros(X.shape[1], dtype=np.float64), float(np.log(rate / (1 - rate)))
    from sklearn.linear_model import LogisticRegression   # training only: 1.2 s to import

    lr = LogisticRegression(C=C, class_weight="balanced" if balanced else None,
                            max_iter=2000, random_state=seed, solver="lbfgs")
    lr.fit(X, y)
    return lr.coef_[0].astype(np.float64), float(lr.intercept_[0])


@dataclass
class Platt:
    """score = sigmoid(a * x + b), fitted on out-of-fold values x."""

    a: np.ndarray
    b: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray, Y: np.ndarray, seed: int) -> "Platt":
        from sklearn.linear_model import LogisticRegression

        k = X.shape[1]
        a = np.ones(k)
        b = np.zeros(k)
        for j in range(k):
            y = Y[:, j].astype(int)
            if y.min() == y.max():
                a[j], b[j] = 0.0, float(logit(np.array([(y.sum() + 0.5) / (len(y) + 1)]))[0])
                continue
            lr = LogisticRegression(C=100.0, max_iter=1000, random_state=seed)
            lr.fit(X[:, j:j + 1], y)
            a[j], b[j] = float(lr.coef_[0, 0]), float(lr.intercept_[0])
        return cls(a, b)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return sigmoid(X * self.a[None, :] + self.b[None, :])


def best_threshold(scores: np.ndarray, y: np.ndarray, lo: float, hi: float) -> tuple[float, float]:
    """The threshold in [lo, hi] that maximises F1 of `scores >= t` (ties: the middle one)."""
    grid = np.round(np.arange(lo, hi + 1e-9, THRESHOLD_GRID_STEP), 4)
    best_f, best = -1.0, []
    for t in grid:
        pred = scores >= t
        tp = float(np.sum(pred & (y == 1)))
        fp = float(np.sum(pred & (y == 0)))
        fn = float(np.sum(~pred & (y == 1)))
        f = 2 * tp / (2 * tp + fp + fn) if tp > 0 else 0.0
        if f > best_f + 1e-12:
            best_f, best = f, [t]
        elif abs(f - best_f) <= 1e-12:
            best.append(t)
    return float(best[len(best) // 2]), best_f


def choose_thresholds(scores: np.ndarray, Y: np.ndarray, lo: float, hi: float,
                      shrink: float) -> tuple[np.ndarray, float]:
    """Per-label thresholds, each pulled `shrink` of the way towards the global best one."""
    flat_t, _ = best_threshold(scores.ravel(), Y.ravel(), lo, hi)
    out = np.full(scores.shape[1], flat_t)
    for j in range(scores.shape[1]):
        if Y[:, j].sum() == 0:
            continue
        t, _ = best_threshold(scores[:, j], Y[:, j], lo, hi)
        out[j] = (1 - shrink) * t + shrink * flat_t
    return np.clip(out, lo, hi), flat_t


def stratified_folds(strata: Sequence, n_splits: int, seed: int) -> list[tuple[np.ndarray,
                                                                              np.ndarray]]:
    """StratifiedKFold on a label per row, with rare strata merged so every fold is valid."""
    strata = np.asarray([str(s) for s in strata])
    values, counts = np.unique(strata, return_counts=True)
    rare = set(values[counts < n_splits])
    merged = np.array(["__rare__" if s in rare else s for s in strata])
    if (merged == "__rare__").sum() and (merged == "__rare__").sum() < n_splits:
        common = values[np.argmax(counts)]
        merged[merged == "__rare__"] = common
    n_splits = max(2, min(n_splits, int(np.unique(merged, return_counts=True)[1].min())))
    from sklearn.model_selection import StratifiedKFold

    skf = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return [(tr, te) for tr, te in skf.split(np.zeros(len(merged)), merged)]


def primary_strata(Y: np.ndarray) -> list[str]:
    return [str(int(np.argmax(r))) if r.any() else "none" for r in Y]


# -- inputs ---------------------------------------------------------------------------------------
@dataclass
class Inputs:
    """What the models see for n paragraphs."""

    text: np.ndarray              # (n, d) normalised text embeddings
    heading: np.ndarray           # (n, d) heading embeddings, zero rows where there is none
    rule_features: np.ndarray     # (n, N_RULE_FEATURES)

    def __len__(self) -> int:
        return self.text.shape[0]

    def subset(self, idx: np.ndarray) -> "Inputs":
        return Inputs(self.text[idx], self.heading[idx], self.rule_features[idx])


def challenge_features(inp: Inputs, cfg: ClassifySettings) -> np.ndarray:
    if cfg.use_heading:
        return np.hstack([inp.text, cfg.heading_weight * inp.heading]).astype(np.float64)
    return inp.text.astype(np.float64)


# -- zero-shot prior --------------------------------------------------------------------------------
@dataclass
class Prior:
    """Label centroids of the taxonomy's description + prototypes embeddings."""

    centroids: np.ndarray         # (k, d), L2-normalised
    temperature: float

    @classmethod
    def from_embeddings(cls, per_label: Sequence[np.ndarray], temperature: float) -> "Prior":
        cents = []
        for emb in per_label:
            c = emb.mean(axis=0)
            cents.append(c / (np.linalg.norm(c) + 1e-12))
        return cls(np.asarray(cents, dtype=np.float32), temperature)

    def similarities(self, text_emb: np.ndarray) -> np.ndarray:
        return text_emb.astype(np.float64) @ self.centroids.T.astype(np.float64)

    def distribution(self, text_emb: np.ndarray) -> np.ndarray:
        return softmax(self.similarities(text_emb) / self.temperature, axis=1)


# -- challenges ----------------------------------------------------------------------------------
@dataclass
class ChallengeModel:
    coef: np.ndarray              # (k, f)
    intercept: np.ndarray         # (k,)
    platt: Platt                  # on s_k
    thresholds: np.ndarray        # (k,) on calibrated P(key | substantive)
    sub_coef: np.ndarray          # (f,) substantive model
    sub_intercept: float
    sub_platt: Platt              # (1,)
    prior: Prior
    prior_weight: float
    global_threshold: float = 0.5
    info: dict = field(default_factory=dict)

    # ---- prediction ----
    def raw(self, F: np.ndarray, text_emb: np.ndarray) -> np.ndarray:
        # the label heads use the leading columns (the text; the heading too when configured)
        p = sigmoid(F[:, :self.coef.shape[1]] @ self.coef.T + self.intercept[None, :])
        q = self.prior.distribution(text_emb)
        return (1 - self.prior_weight) * p + self.prior_weight * q

    def label_scores(self, F: np.ndarray, text_emb: np.ndarray) -> np.ndarray:
        """Calibrated P(key | substantive), (n, k)."""
        return self.platt(self.raw(F, text_emb))

    def p_substantive(self, F: np.ndarray) -> np.ndarray:
        z = F @ self.sub_coef + self.sub_intercept
        return self.sub_platt(z[:, None])[:, 0]

    def decide(self, label_scores: np.ndarray, p_sub: np.ndarray, cfg: ClassifySettings,
               abstain_threshold: float, options: np.ndarray | None = None) -> list[list[str]]:
        """Assigned keys per row. A row abstains (no key) when P(substantive) is below
        abstain_threshold, unless it proposes a policy option whose best key scores at least
        cfg.option_keeps_label: short real recommendations ("Diversity in the workforce
        should be promoted.") look like boilerplate to the substantive model alone."""
        out: list[list[str]] = []
        if options is None:
            options = np.zeros(len(p_sub), dtype=bool)
        for s, ps, opt in zip(label_scores, p_sub, options):
            if ps < abstain_threshold and not (opt and s.max() >= cfg.option_keeps_label):
                out.append([])
                continue
            order = np.argsort(-s, kind="stable")
            chosen = [int(j) for j in order if s[j] >= self.thresholds[j]][:cfg.max_challenges]
            if not chosen:
                chosen = [int(order[0])]
            out.append([CHALLENGE_KEYS[j] for j in chosen])
        return out

    def effective_substantive(self, label_scores: np.ndarray, p_sub: np.ndarray,
                              cfg: ClassifySettings, abstain_threshold: float,
                              options: np.ndarray) -> np.ndarray:
        """P(substantive) used to scale the reported scores: 1 for the policy options that
        decide() keeps although the substantive model doubted them."""
        keep = (p_sub < abstain_threshold) & options & (label_scores.max(axis=1) >=
                                                        cfg.option_keeps_label)
        return np.where(keep, 1.0, p_sub)

    # ---- fitting ----
    @staticmethod
    def _fit_heads(F: np.ndarray, Y: np.ndarray, cfg: ClassifySettings) -> tuple[np.ndarray,
                                                                                 np.ndarray]:
        k = Y.shape[1]
        coef = np.zeros((k, F.shape[1]))
        icpt = np.zeros(k)
        for j in range(k):
            coef[j], icpt[j] = fit_binary_lr(F, Y[:, j], cfg.C, cfg.seed)
        return coef, icpt

    @classmethod
    def fit(cls, F: np.ndarray, text_emb: np.ndarray, Y: np.ndarray, prior: Prior,
            cfg: ClassifySettings) -> "ChallengeModel":
        """Fit on all rows; Y (n, k) binary, rows with no key are the non-substantive ones."""
        sub = Y.any(axis=1)
        FL = F if cfg.heading_in_label_heads else F[:, :text_emb.shape[1]]
        q_all = prior.distribution(text_emb)
        w = cfg.prior_weight
        # inner cross-validation: out-of-fold raw scores for calibration and thresholds
        oof_s = np.zeros_like(Y, dtype=np.float64)
        oof_z = np.zeros(len(Y))
        folds = stratified_folds(primary_strata(Y), cfg.cv_folds, cfg.seed)
        for tr, te in folds:
            tr_sub = tr[sub[tr]]
            coef, icpt = cls._fit_heads(FL[tr_sub], Y[tr_sub], cfg)
            p = sigmoid(FL[te] @ coef.T + icpt[None, :])
            oof_s[te] = (1 - w) * p + w * q_all[te]
            sc, si = fit_binary_lr(F[tr], sub[tr].astype(int), cfg.substantive_C, cfg.seed)
            oof_z[te] = F[te] @ sc + si
        platt = Platt.fit(oof_s[sub], Y[sub], cfg.seed)
        cal = platt(oof_s[sub])
        thresholds, flat_t = choose_thresholds(cal, Y[sub], cfg.min_threshold,
                                               cfg.max_threshold, cfg.threshold_shrink)
        sub_platt = Platt.fit(oof_z[:, None], sub[:, None].astype(int), cfg.seed)
        coef, icpt = cls._fit_heads(FL[sub], Y[sub], cfg)
        sc, si = fit_binary_lr(F, sub.astype(int), cfg.substantive_C, cfg.seed)
        return cls(coef=coef, intercept=icpt, platt=platt, thresholds=thresholds,
                   sub_coef=sc, sub_intercept=si, sub_platt=sub_platt, prior=prior,
                   prior_weight=w, global_threshold=flat_t)

    # ---- persistence ----
    def arrays(self, prefix: str = "challenge.") -> dict[str, np.ndarray]:
        return {
            prefix + "coef": self.coef.astype(np.float32),
            prefix + "intercept": self.intercept.astype(np.float64),
            prefix + "platt_a": self.platt.a, prefix + "platt_b": self.platt.b,
            prefix + "thresholds": self.thresholds.astype(np.float64),
            prefix + "sub_coef": self.sub_coef.astype(np.float32),
            prefix + "sub_intercept": np.array([self.sub_intercept]),
            prefix + "sub_platt_a": self.sub_platt.a, prefix + "sub_platt_b": self.sub_platt.b,
            prefix + "prior_centroids": self.prior.centroids.astype(np.float32),
        }

    def header(self) -> dict:
        return {"prior_weight": self.prior_weight, "prior_temperature": self.prior.temperature,
                "global_threshold": self.global_threshold,
                "thresholds": {k: round(float(t), 4) for k, t in zip(CHALLENGE_KEYS,
                                                                     self.thresholds)}}

    @classmethod
    def from_arrays(cls, arr: dict[str, np.ndarray], header: dict,
                    prefix: str = "challenge.") -> "ChallengeModel":
        g = lambda name: arr[prefix + name]  # noqa: E731
        return cls(coef=g("coef").astype(np.float64), intercept=g("intercept"),
                   platt=Platt(g("platt_a"), g("platt_b")), thresholds=g("thresholds"),
                   sub_coef=g("sub_coef").astype(np.float64),
                   sub_intercept=float(g("sub_intercept")[0]),
                   sub_platt=Platt(g("sub_platt_a"), g("sub_platt_b")),
                   prior=Prior(g("prior_centroids"), float(header["prior_temperature"])),
                   prior_weight=float(header["prior_weight"]),
                   global_threshold=float(header.get("global_threshold", 0.5)))


# -- stakeholders --------------------------------------------------------------------------------
N_LEVEL2 = 1 + N_PER_KEY + 2


def _stake_level2(p1: np.ndarray, rules: np.ndarray, j: int) -> np.ndarray:
    """Level-2 features for stakeholder key j: logit of the embedding model, its rule values
    (role hit, mention, mention in an option sentence), any option, any addressee."""
    n_keys = len(STAKEHOLDER_KEYS)
    base = N_PER_KEY * j
    return np.column_stack([logit(p1[:, j])] + [rules[:, base + i] for i in range(N_PER_KEY)] +
                           [rules[:, N_PER_KEY * n_keys], rules[:, N_PER_KEY * n_keys + 1]])


@dataclass
class StakeholderModel:
    coef: np.ndarray              # (7, d) level-1 heads on the text embedding
    intercept: np.ndarray
    l2_coef: np.ndarray           # (7, 5) level-2 stacking/calibration
    l2_intercept: np.ndarray
    thresholds: np.ndarray

    def scores(self, text_emb: np.ndarray, rules: np.ndarray) -> np.ndarray:
        p1 = sigmoid(text_emb.astype(np.float64) @ self.coef.T + self.intercept[None, :])
        out = np.zeros_like(p1)
        for j in range(len(STAKEHOLDER_KEYS)):
            z = _stake_level2(p1, rules, j) @ self.l2_coef[j] + self.l2_intercept[j]
            out[:, j] = sigmoid(z)
        return out

    def decide(self, scores: np.ndarray) -> list[list[str]]:
        return [[STAKEHOLDER_KEYS[j] for j in range(len(STAKEHOLDER_KEYS))
                 if s[j] >= self.thresholds[j]] for s in scores]

    @classmethod
    def fit(cls, text_emb: np.ndarray, rules: np.ndarray, Y: np.ndarray,
            cfg: ClassifySettings) -> "StakeholderModel":
        X = text_emb.astype(np.float64)
        k = len(STAKEHOLDER_KEYS)
        strata = ["".join(str(int(v)) for v in r[:3]) + str(int(r.any())) for r in Y]
        folds = stratified_folds(strata, cfg.cv_folds, cfg.seed)
        oof = np.zeros(Y.shape)
        for tr, te in folds:
            for j in range(k):
                c, i = fit_binary_lr(X[tr], Y[tr, j], cfg.stakeholder_C, cfg.seed)
                oof[te, j] = sigmoid(X[te] @ c + i)
        l2c = np.zeros((k, N_LEVEL2))
        l2i = np.zeros(k)
        for j in range(k):
            l2c[j], l2i[j] = fit_binary_lr(_stake_level2(oof, rules, j), Y[:, j], 1.0, cfg.seed,
                                           balanced=False)
        # thresholds on the stacked out-of-fold scores (the level-2 model is 5 numbers per
        # key, so its in-sample fit is close to out-of-sample)
        stacked = np.column_stack([sigmoid(_stake_level2(oof, rules, j) @ l2c[j] + l2i[j])
                                   for j in range(k)])
        thresholds, _ = choose_thresholds(stacked, Y, cfg.min_threshold, cfg.max_threshold,
                                          cfg.threshold_shrink)
        coef = np.zeros((k, X.shape[1]))
        icpt = np.zeros(k)
        for j in range(k):
            coef[j], icpt[j] = fit_binary_lr(X, Y[:, j], cfg.stakeholder_C, cfg.seed)
        return cls(coef, icpt, l2c, l2i, thresholds)

    def arrays(self, prefix: str = "stakeholder.") -> dict[str, np.ndarray]:
        return {prefix + "coef": self.coef.astype(np.float32), prefix + "intercept": self.intercept,
                prefix + "l2_coef": self.l2_coef, prefix + "l2_intercept": self.l2_intercept,
                prefix + "thresholds": self.thresholds}

    def header(self) -> dict:
        return {"thresholds": {k: round(float(t), 4) for k, t in zip(STAKEHOLDER_KEYS,
                                                                     self.thresholds)},
                "level2_features": ["logit_embedding_model", "role_hit", "mention",
                                    "option_mention", "any_option", "any_addressee"],
                "level2_coef": {k: [round(float(v), 4) for v in row]
                                for k, row in zip(STAKEHOLDER_KEYS, self.l2_coef)}}

    @classmethod
    def from_arrays(cls, arr: dict[str, np.ndarray], prefix: str = "stakeholder.") -> \
            "StakeholderModel":
        g = lambda name: arr[prefix + name]  # noqa: E731
        return cls(g("coef").astype(np.float64), g("intercept"), g("l2_coef"),
                   g("l2_intercept"), g("thresholds"))
