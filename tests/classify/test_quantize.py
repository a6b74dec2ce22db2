"""What the int8 recipe keeps in float32, and that its graph and cache names move with it."""

from __future__ import annotations

import onnx

from pipeline.classify import quantize
from pipeline.classify.embeddings import KNOWN_MODELS, Embedder
from pipeline.classify.onnx_encoder import onnx_file
from pipeline.config import load_settings


def test_float_matmuls_are_the_attention_products_and_down_projections(tmp_path,
                                                                        project_factory):
    settings = load_settings(project_factory(tmp_path, tmp_path / "cache"))
    embedder = Embedder(settings, use_cache=False)
    embedder.load()                                     # exports and quantises if needed
    assert embedder.graph_variant == f"int8-{quantize.recipe_tag()}"
    loader, _, package = KNOWN_MODELS[settings.embed.model]
    weights = loader()
    float_path = onnx_file(package, weights, settings.cache_dir)
    int8_path = onnx_file(package, weights, settings.cache_dir, embedder.graph_variant)
    graph = onnx.load(str(float_path)).graph
    kept = quantize.float_matmuls(graph)
    matmuls = [n.name for n in graph.node if n.op_type == "MatMul"]
    assert len(matmuls) == 6 * 8                      # 6 layers: q, k, v, 2 products, 3 dense
    assert len(kept) == 6 * 3
    assert sum(name.endswith("/self/MatMul") for name in kept) == 6
    assert sum(name.endswith("/self/MatMul_1") for name in kept) == 6
    assert sum("/output/dense/" in name and "/attention/" not in name for name in kept) == 6
    quantized = onnx.load(str(int8_path)).graph
    assert sum(n.op_type == "QLinearMatMul" for n in quantized.node) == len(matmuls) - len(kept)
    assert sum(n.op_type == "MatMul" for n in quantized.node) == len(kept)


def test_recipe_tag_follows_the_calibration_set(tmp_path, monkeypatch):
    tag = quantize.recipe_tag()
    assert tag == quantize.recipe_tag() and len(tag) == 10
    other = tmp_path / "calibration.txt"
    other.write_text("Operators should filter spoofed traffic.\n", encoding="utf-8")
    monkeypatch.setattr(quantize, "CALIBRATION_FILE", other)
    assert quantize.recipe_tag() != tag
    assert quantize.calibration_texts() == ["Operators should filter spoofed traffic."]
