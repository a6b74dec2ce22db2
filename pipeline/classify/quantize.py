"""int8 weights and activations for the exported MiniLM graph (static quantisation).

Why static, not dynamic: dynamic quantisation picks each activation's scale from the batch being
encoded, so a paragraph's vector depended on the paragraphs it happened to share a batch with
(cosine down to 0.978 between two batchings), and a cached corpus would no longer match a cold
run over it. Static scales are calibrated once on a fixed set of texts shipped with the package
(`data/calibration.txt`: every sixth paragraph of our own seed labels, frozen so that relabelling
never changes the graph), so a text's vector is the same whatever it is batched with.

Left in float32, measured on 600 paragraphs: the MatMuls that multiply two activations
(attention scores and their product with the values), which were slower quantised, and each
layer's feed-forward down-projection, whose input (the GELU output) has a long tail that min-max
scales resolve badly (cosine to float32 fell to 0.93 on average, 0.83 at worst). The rest, the
query/key/value, attention output and feed-forward up-projection weights, one scale per output
channel: 1.4-1.6x the float32 throughput on 2 cores, cosine 0.995 on average and 0.987 at worst.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from pipeline.errors import ConfigError

RECIPE_VERSION = 1   # bump when what is quantised, or how, changes
CALIBRATION_FILE = Path(__file__).with_name("data") / "calibration.txt"
CALIBRATION_MAX_TOKENS = 256   # fixed, so the graph does not depend on embed.max_seq_length


def calibration_texts() -> list[str]:
    return [line for line in CALIBRATION_FILE.read_text(encoding="utf-8").splitlines() if line]


def recipe_tag() -> str:
    """Short id of the recipe and calibration set: part of the graph's file name, so that
    changing either gives a new file (and, through the model id, a new embedding cache)."""
    h = hashlib.sha256(f"v{RECIPE_VERSION}\n".encode())
    h.update(CALIBRATION_FILE.read_bytes())
    return h.hexdigest()[:10]


def float_matmuls(graph) -> list[str]:
    """Names of the MatMul nodes kept in float32: activation x activation products, and the
    feed-forward down-projections (their input is the GELU output)."""
    weights = {init.name for init in graph.initializer}
    keep = []
    for node in graph.node:
        if node.op_type != "MatMul":
            continue
        if not any(i in weights for i in node.input):
            keep.append(node.name)
        elif "/output/dense/" in node.name and "/attention/" not in node.name:
            keep.append(node.name)
    return keep


class _Calibration:
    """Feeds the calibration texts one at a time (no padding, so no pad-token activations)."""

    def __init__(self, tokenizer_file: Path) -> None:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(tokenizer_file))
        tok.no_padding()
        tok.enable_truncation(CALIBRATION_MAX_TOKENS)
        self._items = iter(calibration_texts())
        self._tok = tok

    def get_next(self) -> dict[str, np.ndarray] | None:
        text = next(self._items, None)
        if text is None:
            return None
        ids = np.array([self._tok.encode(text).ids], dtype=np.int64)
        return {"input_ids": ids, "attention_mask": np.ones_like(ids)}


def quantize_int8(source: Path, out: Path, tokenizer_file: Path) -> Path:
    """Write the statically quantised graph of `source` to `out` (atomically)."""
    import onnx
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    excluded = float_matmuls(onnx.load(str(source)).graph)
    if not excluded:
        raise ConfigError(f"{source} has none of the MatMuls int8 quantisation keeps in float32 "
                          "(is it MiniLM's export?): set embed.precision: float32.")
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)   # onnxruntime's quantiser logs advice at WARNING
    try:
        with tempfile.TemporaryDirectory(prefix="cenb-quantize-") as work:
            pre = Path(work) / "pre.onnx"
            # shape inference and constant folding; the symbolic pass cannot type the
            # exported attention mask and is not needed for MatMul
            quant_pre_process(str(source), str(pre), skip_symbolic_shape=True)
            quantize_static(
                str(pre), str(tmp), _Calibration(tokenizer_file),
                quant_format=QuantFormat.QOperator, op_types_to_quantize=["MatMul"],
                per_channel=True, activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
                nodes_to_exclude=excluded)
    finally:
        root.setLevel(level)
    tmp.replace(out)   # a concurrent process sees the whole file or none
    return out
