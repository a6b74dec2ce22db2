"""spaCy loads without pulling in torch, torch still imports afterwards, and a background
preload shares its pipeline with every caller."""

from __future__ import annotations

import subprocess
import sys


def _run_fresh(code: str) -> None:
    """Run `code` in a new interpreter (nothing loaded yet); its assertions must hold."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_spacy_loads_without_torch_and_torch_still_imports():
    code = (
        "import sys\n"
        "from pipeline.nlp import load_nlp, load_sentencizer\n"
        "doc = load_nlp()('Governments should require vendors to patch. Users should update.')\n"
        "assert [s.text for s in doc.sents][1] == 'Users should update.'\n"
        "assert doc[2].lemma_ == 'require' and doc[2].dep_ == 'ROOT'\n"
        "assert len(list(load_sentencizer()('Uno. Dos.').sents)) == 2\n"
        "assert 'torch' not in sys.modules, 'spaCy imported torch'\n"
        "import torch\n"
        "assert torch.zeros(2).sum().item() == 0\n"
    )
    _run_fresh(code)


def test_concurrent_callers_share_one_pipeline():
    code = (
        "import threading\n"
        "from pipeline.nlp import load_nlp\n"
        "got = []\n"
        "callers = [threading.Thread(target=lambda: got.append(load_nlp())) for _ in range(3)]\n"
        "[c.start() for c in callers]; [c.join() for c in callers]\n"
        "assert got[0] is got[1] is got[2] is load_nlp()\n"
        "assert 'parser' in got[0].pipe_names and 'ner' not in got[0].pipe_names\n"
    )
    _run_fresh(code)
