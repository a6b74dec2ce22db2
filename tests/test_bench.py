"""The benchmark script runs end to end on a tiny corpus and writes its JSON (a smoke test:
throughput is measured by `make bench`, never asserted in tests)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from pipeline import PROJECT_ROOT

pytestmark = pytest.mark.slow


def _load(name: str):
    path = PROJECT_ROOT / "benchmarks" / f"{name}.py"
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_scale_corpus_is_reproducible_and_varied(tmp_path: Path) -> None:
    gen = _load("scale_corpus")
    a = gen.generate(tmp_path / "a", 6)
    b = gen.generate(tmp_path / "b", 6)
    assert [p.name for p in a] == [p.name for p in b]
    # one file alone is the file generate() would write at that place
    one = gen.generate_one(tmp_path / "c", 4)
    assert one.name == a[4].name and one.read_bytes() == a[4].read_bytes()
    assert [p.name for p in (tmp_path / "c").iterdir()] == [one.name]
    assert {p.suffix for p in a} == {".pdf", ".docx"}
    docx_a = next(p for p in a if p.suffix == ".docx")
    assert docx_a.read_bytes() == (tmp_path / "b" / docx_a.name).read_bytes()


def test_bench_smoke_writes_throughput_json(tmp_path: Path) -> None:
    bench = _load("bench")
    out = tmp_path / "bench.json"
    reference = shutil.which("pdftotext") is not None
    args = ["--sizes", "3", "--work", str(tmp_path / "work"), "--out", str(out)]
    assert bench.main(args + ([] if reference else ["--no-reference"])) == 0
    result = json.loads(out.read_text())
    size = result["sizes"][0]
    assert size["contributions"] == 3 and size["paragraphs"] > 0
    assert size["end_to_end_cold"]["wall_s"] > 0 and size["end_to_end_cold"]["peak_memory_mib"] > 0
    assert size["incremental_one_new_file"]["wall_s"] > 0
    assert size["incremental_one_new_file_2"]["wall_s"] > 0
    unseen = size["incremental_one_new_file_unseen_text"]
    assert unseen["wall_s"] > 0 and unseen["areas_clustered"] >= 1
    assert set(unseen["timings"]) >= {"extract", "classify", "group", "total"}
    assert size["incremental_one_new_file_unseen_text_2"]["areas_clustered"] >= 1
    assert size["rerun_no_new_file"]["wall_s"] > 0
    assert "extract" in size["stages"]
    if reference:
        assert size["reference_pdf_text"]["pdftotext_pages_per_s"] > 0
        assert size["reference_embeddings"]["bare_sentence_transformers_paragraphs_per_s"] > 0
        assert (tmp_path / "bench_profile.txt").read_text().strip()
