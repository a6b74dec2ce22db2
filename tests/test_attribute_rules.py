"""The keyed attribute ruler annotates exactly as spaCy's stock AttributeRuler does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.attribute_rules import COMPONENT, KeyedAttributeRuler
from pipeline.nlp import import_spacy, load_nlp

ROOT = Path(__file__).resolve().parents[1]
# the multi-token rules of en_core_web_sm ("let's", "gonna", "there is") and ordinary prose
CRAFTED = [
    "Let's be clear: there is a need to act, and we're gonna fix it.",
    "There are gaps; y'all know vendors ain't patching. C'mon, regulators gotta act!",
    "  Governments should   require vendors to patch.\n\nUsers should update, e.g. weekly.",
    "Los gobiernos deberían publicar informes. Les États devraient coopérer.",
]


def _annotations(docs) -> list[list[tuple]]:
    return [[(t.text, t.tag_, t.pos_, str(t.morph), t.dep_, t.head.i, t.lemma_) for t in doc]
            for doc in docs]


def _label_texts(limit: int) -> list[str]:
    texts = []
    for path in sorted((ROOT / "labels" / "seed").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines()[:limit]:
            if line.strip():
                texts.append(json.loads(line)["text"])
    return texts


def test_keyed_ruler_replaces_the_stock_one_in_the_shared_pipeline():
    nlp = load_nlp()
    assert COMPONENT in nlp.pipe_names
    assert "attribute_ruler" not in nlp.pipe_names and "attribute_ruler" in nlp.disabled
    assert nlp.pipe_names.index(COMPONENT) == nlp.pipe_names.index("parser") + 1


def test_same_annotations_as_the_stock_ruler_token_by_token():
    nlp = load_nlp()
    texts = CRAFTED + _label_texts(limit=25)
    keyed = _annotations(nlp.pipe(texts))
    with nlp.select_pipes(disable=[COMPONENT]):
        nlp.enable_pipe("attribute_ruler")
        try:
            stock = _annotations(nlp.pipe(texts))
        finally:
            nlp.disable_pipe("attribute_ruler")
    assert sum(len(d) for d in keyed) > 5000
    for text, k, s in zip(texts, keyed, stock):
        assert k == s, text
    # the multi-token rules fired: "'s" of "Let's" is a pronoun, "is" after "there" a verb
    assert keyed[0][1][2] == "PRON" and keyed[0][6][2] == "VERB"


def test_rules_on_other_attributes_and_precedence_match_the_stock_ruler():
    spacy = import_spacy()
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("attribute_ruler")
    ruler.add([[{"LOWER": "patch"}]], {"POS": "NOUN", "LEMMA": "patch"})
    ruler.add([[{"ORTH": "Patch"}]], {"POS": "VERB"})             # not keyed: matched per doc
    ruler.add([[{"LOWER": "patch"}, {"LOWER": "now"}]], {"TAG": "VB"}, index=0)
    ruler.add([[{"LOWER": {"REGEX": "^up"}}]], {"POS": "ADP"})
    ruler.add([[{"LOWER": "date"}]], {"POS": "NOUN"}, index=-1)
    keyed = KeyedAttributeRuler(ruler)
    assert len(keyed.single) == 3 and len(keyed.multi) == 2   # ORTH and two-token rules
    texts = ["Patch now, patch later; update to date.", "patch Patch PATCH now upgrade"]
    got = _annotations(keyed(nlp.make_doc(t)) for t in texts)
    want = _annotations(ruler(nlp.make_doc(t)) for t in texts)
    assert got == want
    # later rules win: "Patch" is a VERB (ORTH rule after the LOWER one), "PATCH now" gets VB
    assert got[0][0][1:3] == ("VB", "VERB")
    assert [t[1:3] for t in got[1][:3]] == [("", "NOUN"), ("", "VERB"), ("VB", "NOUN")]


@pytest.mark.parametrize("size", [1, 3])
def test_memo_limit_starts_over_without_changing_results(monkeypatch, size):
    from pipeline import attribute_rules

    monkeypatch.setattr(attribute_rules, "MEMO_LIMIT", size)
    nlp = load_nlp()
    ruler = KeyedAttributeRuler(nlp.get_pipe("attribute_ruler"))
    text = CRAFTED[0]
    with nlp.select_pipes(enable=["tok2vec", "tagger", "parser"]):
        bare = list(nlp.pipe([text, text]))
    got = _annotations([ruler(bare[0])])
    stock = _annotations([nlp.get_pipe("attribute_ruler")(bare[1])])
    assert got == stock and len(ruler._memo) <= size
