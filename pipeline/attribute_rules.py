"""en_core_web_sm's attribute ruler with its one-token rules looked up once per kind of token.

The packaged pipeline maps fine-grained tags to parts of speech and morphology with an
AttributeRuler of 179 token patterns. spaCy's Matcher tries every pattern at every token, which
made the ruler the most expensive component of the parse (36 % of it on the benchmark corpus:
more than the parser). Whether a one-token pattern matches depends only on the token's own
attributes that the patterns test, here its lowercase form, tag and dependency label, and a
corpus has few distinct combinations of those; so each combination is matched once, with
spaCy's own Matcher, and remembered. Patterns over several tokens still run through a Matcher,
and all matches are applied in the order the stock ruler applies them (by rule, later rules
taking precedence), so the annotations are identical (tested token by token).
"""

from __future__ import annotations

from typing import Any

COMPONENT = "cenb_attribute_ruler"
# token attributes a one-token rule may test and still be looked up by (lower, tag, dep);
# IS_SPACE is a property of the text, which the lowercase form preserves
_KEYED = {"LOWER", "TAG", "DEP", "IS_SPACE"}
MEMO_LIMIT = 500_000   # distinct (lower, tag, dep) remembered; a few MB, then it starts over


class KeyedAttributeRuler:
    """Same output as `ruler` (a spaCy AttributeRuler), one Matcher run per distinct token."""

    def __init__(self, ruler: Any) -> None:
        from spacy.attrs import DEP, LOWER, TAG
        from spacy.matcher import Matcher

        self.ruler = ruler
        self.vocab = ruler.vocab
        self._array_attrs = [LOWER, TAG, DEP]
        self.single = Matcher(self.vocab)
        self.multi = Matcher(self.vocab)
        for attr_id in range(len(ruler.attrs)):
            key = str(attr_id)
            _, patterns = ruler.matcher.get(key)
            one_token = all(len(p) == 1 for p in patterns) and all(
                set(spec) <= _KEYED for p in patterns for spec in p)
            (self.single if one_token else self.multi).add(key, patterns)
        self._memo: dict[tuple[int, int, int], tuple[int, ...]] = {}

    def __call__(self, doc: Any) -> Any:
        from spacy.tokens._retokenize import set_token_attrs

        ruler = self.ruler
        todo: dict[int, list[int]] = {}
        if len(self.multi):
            for match_id, start, end in self.multi(doc, allow_missing=True, as_spans=False):
                attr_id = int(self.vocab.strings[match_id])
                index = ruler.indices[attr_id]
                i = (start if index >= 0 else end) + index
                if not start <= i < end:
                    raise ValueError(f"attribute rule {attr_id}: index {index} outside the "
                                     f"matched span {start}:{end}")
                todo.setdefault(i, []).append(attr_id)
        memo = self._memo
        for i, key in enumerate(map(tuple, doc.to_array(self._array_attrs).tolist())):
            ids = memo.get(key)
            if ids is None:
                if len(memo) >= MEMO_LIMIT:
                    memo.clear()
                ids = memo[key] = self._single_ids(doc[i:i + 1])
            extra = todo.get(i)
            if extra:
                ids = tuple(sorted({*ids, *extra}))
            token = None
            for attr_id in ids:
                token = token or doc[i]
                set_token_attrs(token, ruler.attrs[attr_id])
        return doc

    def _single_ids(self, span: Any) -> tuple[int, ...]:
        matches = self.single(span, allow_missing=True, as_spans=False)
        return tuple(sorted({int(self.vocab.strings[m]) for m, _, _ in matches}))

    def pipe(self, stream: Any, batch_size: int = 128) -> Any:
        for doc in stream:
            yield self(doc)


def install(nlp: Any) -> None:
    """Run the keyed ruler in place of the pipeline's attribute_ruler (left in, disabled)."""
    from spacy.language import Language

    if "attribute_ruler" not in nlp.pipe_names or COMPONENT in nlp.pipe_names:
        return
    if not Language.has_factory(COMPONENT):
        Language.factory(COMPONENT)(
            lambda nlp, name: KeyedAttributeRuler(nlp.get_pipe("attribute_ruler")))
    nlp.add_pipe(COMPONENT, before="attribute_ruler")
    nlp.disable_pipe("attribute_ruler")
