"""Does a paragraph propose a policy option (a course of action for someone)?

spaCy-based rules (pipeline/classify/rules.py): a deontic/modal construction with an addressee
("States should ...", "operators must ...", "civil society could monitor ..."), an explicit
recommendation ("we recommend / propose / urge / call on ..."), a good-practice or need
statement ("it is good practice to ...", "there is a need for X to ..."), "X are encouraged /
expected to ...", an imperative sentence or bullet ("Establish a national CERT ..."), and
Spanish/French deontic forms ("deberían", "se recomienda", "devraient", "il convient de").
Not options: descriptions with epistemic modals ("attacks could disrupt services", "this may be
the case"), questions, thanks and letter formulas ("please find attached").

`cenb predict` applies one more guard: a paragraph the substantive model judges to be
boilerplate is not an option (settings.classify.option_min_substantive).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pipeline.classify.rules import OptionSentence, RuleEngine


@lru_cache(maxsize=4)
def _engine(labels_dir: str | None) -> RuleEngine:
    from pipeline.classify.taxonomy import load_taxonomy
    from pipeline.config import default_settings

    directory = Path(labels_dir) if labels_dir else default_settings().labels_dir
    return RuleEngine(load_taxonomy(directory).actor_lexicon())


def find_option_sentences(text: str, engine: RuleEngine | None = None) -> list[OptionSentence]:
    """The sentences of `text` that propose a course of action, with character offsets into
    `text`, the rule that fired and the stakeholder keys they address."""
    engine = engine or _engine(None)
    return engine.analyse(text).options


def is_policy_option(text: str, engine: RuleEngine | None = None) -> bool:
    """True when some sentence of `text` proposes a course of action."""
    return bool(find_option_sentences(text, engine))


__all__ = ["OptionSentence", "find_option_sentences", "is_policy_option"]
