"""labels/taxonomy.yaml: names, descriptions, prototypes and actor lexicons of every key.

The keys and their order come from pipeline/taxonomy_keys.py (the contract); the YAML file must
hold exactly those keys, each with a name, a description and at least two prototypes. A missing
or unknown key is a LabelDataError naming the file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import LabelDataError
from pipeline.taxonomy_keys import CHALLENGE_KEYS, STAKEHOLDER_KEYS

TAXONOMY_FILE = "taxonomy.yaml"


@dataclass(frozen=True)
class LabelInfo:
    key: str
    name: str
    description: str
    prototypes: tuple[str, ...]
    actors: tuple[str, ...] = ()     # stakeholders only: lexicon of the subject rules
    letter: str | None = None        # challenges a-j of the 2017 call

    def prior_texts(self) -> list[str]:
        """The texts whose embeddings make the zero-shot prior of this label."""
        return [f"{self.name}. {self.description}", *self.prototypes]


@dataclass(frozen=True)
class Taxonomy:
    challenges: dict[str, LabelInfo]
    stakeholders: dict[str, LabelInfo]
    digest: str                      # sha256 of the file: models record what they were built on

    def actor_lexicon(self) -> dict[str, tuple[str, ...]]:
        """Actor phrase -> stakeholder keys (a phrase may name two groups)."""
        lex: dict[str, list[str]] = {}
        for key, info in self.stakeholders.items():
            for phrase in info.actors:
                keys = lex.setdefault(phrase, [])
                if key not in keys:
                    keys.append(key)
        return {p: tuple(k) for p, k in lex.items()}


def _entries(raw: dict[str, Any], section: str, expected: tuple[str, ...], path: Path,
             need_actors: bool) -> dict[str, LabelInfo]:
    block = raw.get(section)
    if not isinstance(block, dict):
        raise LabelDataError(f"{path}: section `{section}` is missing or not a mapping.")
    unknown = sorted(set(block) - set(expected))
    missing = [k for k in expected if k not in block]
    if unknown:
        raise LabelDataError(f"{path}: unknown {section} key(s) {unknown}; allowed: {list(expected)}")
    if missing:
        raise LabelDataError(f"{path}: {section} key(s) missing: {missing}")
    out: dict[str, LabelInfo] = {}
    for key in expected:  # contract order
        entry = block[key]
        if not isinstance(entry, dict):
            raise LabelDataError(f"{path}: {section}.{key} must be a mapping.")
        name = entry.get("name")
        desc = entry.get("description")
        protos = entry.get("prototypes")
        if not isinstance(name, str) or not name.strip():
            raise LabelDataError(f"{path}: {section}.{key} has no `name`.")
        if not isinstance(desc, str) or len(desc.split()) < 5:
            raise LabelDataError(f"{path}: {section}.{key} needs a `description` of a few words.")
        if (not isinstance(protos, list) or len(protos) < 2
                or not all(isinstance(p, str) and p.strip() for p in protos)):
            raise LabelDataError(f"{path}: {section}.{key} needs a list of at least two "
                                 "`prototypes` (non-empty strings).")
        actors = entry.get("actors", [])
        if need_actors and (not isinstance(actors, list) or not actors):
            raise LabelDataError(f"{path}: {section}.{key} needs a non-empty `actors` list.")
        if not all(isinstance(a, str) and a.strip() for a in actors):
            raise LabelDataError(f"{path}: {section}.{key}.actors must be non-empty strings.")
        extra = set(entry) - {"name", "description", "prototypes", "actors", "letter"}
        if extra:
            raise LabelDataError(f"{path}: {section}.{key} has unknown field(s) {sorted(extra)}.")
        out[key] = LabelInfo(
            key=key,
            name=name.strip(),
            description=" ".join(desc.split()),
            prototypes=tuple(" ".join(p.split()) for p in protos),
            actors=tuple(" ".join(a.lower().split()) for a in actors),
            letter=entry.get("letter"),
        )
    return out


def load_taxonomy(labels_dir: Path | str) -> Taxonomy:
    """Read and validate labels_dir/taxonomy.yaml."""
    path = Path(labels_dir) / TAXONOMY_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise LabelDataError(f"{path} does not exist: the taxonomy is needed to train and "
                             "predict.") from exc
    try:
        raw = yaml.safe_load(data.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise LabelDataError(f"{path} is not valid UTF-8 YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise LabelDataError(f"{path} must hold a mapping with `challenges` and `stakeholders`.")
    extra = set(raw) - {"version", "challenges", "stakeholders"}
    if extra:
        raise LabelDataError(f"{path}: unknown top-level section(s) {sorted(extra)}.")
    return Taxonomy(
        challenges=_entries(raw, "challenges", CHALLENGE_KEYS, path, need_actors=False),
        stakeholders=_entries(raw, "stakeholders", STAKEHOLDER_KEYS, path, need_actors=True),
        digest=hashlib.sha256(data).hexdigest(),
    )
