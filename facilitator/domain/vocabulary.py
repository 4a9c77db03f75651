"""Feelings and needs as concepts with ids, groups and labels in every supported language."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from facilitator.domain.common import DEFAULT_LANGUAGE, LANGUAGES, Localized, localize

ConceptKind = Literal["feeling", "need"]


@dataclass(frozen=True)
class Group:
    id: str
    kind: ConceptKind
    labels: Localized


@dataclass(frozen=True)
class Concept:
    id: str
    kind: ConceptKind
    group: str
    labels: Localized
    # Only feelings have these: the four quadrants a family can read at a glance.
    pleasantness: Literal["pleasant", "unpleasant"] | None = None
    energy: Literal["high", "low"] | None = None


@dataclass(frozen=True)
class Vocabulary:
    languages: tuple[str, ...]
    groups: dict[str, Group] = field(default_factory=dict)
    concepts: dict[str, Concept] = field(default_factory=dict)

    def is_feeling(self, concept_id: str) -> bool:
        concept = self.concepts.get(concept_id)
        return concept is not None and concept.kind == "feeling"

    def is_need(self, concept_id: str) -> bool:
        concept = self.concepts.get(concept_id)
        return concept is not None and concept.kind == "need"

    def label(self, concept_id: str, language: str) -> str:
        return localize(self.concepts[concept_id].labels, language)

    def feelings(self) -> list[Concept]:
        """Every feeling, in the order people are shown them."""
        return [concept for concept in self.concepts.values() if concept.kind == "feeling"]

    def needs(self) -> list[Concept]:
        """Every need, in the order people are shown them."""
        return [concept for concept in self.concepts.values() if concept.kind == "need"]

    def concept_view(self, concept_id: str, language: str) -> dict:
        """One chosen concept as a participant reading `language` sees it."""
        return _concept_view(self.concepts[concept_id], language)

    def catalogue(self, language: str) -> dict:
        """The whole vocabulary for the phone's chip picker, grouped, in display order.

        A language the vocabulary does not speak falls back to the default one, and the
        answer says which language the labels are really in.
        """
        if language not in self.languages:
            language = DEFAULT_LANGUAGE
        sections: dict[ConceptKind, list[dict]] = {"feeling": [], "need": []}
        for group in self.groups.values():
            sections[group.kind].append(
                {
                    "group": group.id,
                    "label": localize(group.labels, language),
                    "concepts": [
                        _concept_view(concept, language)
                        for concept in self.concepts.values()
                        if concept.group == group.id
                    ],
                }
            )
        return {"language": language, "feelings": sections["feeling"], "needs": sections["need"]}


def _concept_view(concept: Concept, language: str) -> dict:
    view: dict = {"id": concept.id, "label": localize(concept.labels, language)}
    if concept.kind == "feeling":
        view["pleasantness"] = concept.pleasantness
        view["energy"] = concept.energy
    return view


# Loading and validating the vocabulary files.

DEFAULT_DIRECTORY = Path(__file__).resolve().parent.parent / "content" / "vocabulary"

# File name, the `kind:` the file must declare, and the kind of concept it holds.
_FILES: tuple[tuple[str, str, ConceptKind], ...] = (
    ("feelings.yaml", "feelings", "feeling"),
    ("needs.yaml", "needs", "need"),
)
_TOP_LEVEL_KEYS = ("kind", "languages", "groups", "concepts")
_GROUP_KEYS = ("id", "labels")
_QUADRANT_KEYS = ("pleasantness", "energy")
_CONCEPT_KEYS = ("id", "group", "labels", *_QUADRANT_KEYS)
_QUADRANT_VALUES: dict[str, tuple[str, ...]] = {
    "pleasantness": ("pleasant", "unpleasant"),
    "energy": ("high", "low"),
}
# Ids are stored with every answer and in exercise files, so they must stay short and plain.
_ID_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
_ID_MAX_LENGTH = 40


class _SafeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """YAML's safe loader (the C one when present: ten times faster), refusing repeated keys.

    Plain YAML keeps the last of two equal keys, so a label written twice would silently
    hide the first one from whoever edits the file.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                repeated = key in seen
            except TypeError:  # an unhashable key: the base loader explains that one
                continue
            if repeated:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is written twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class VocabularyError(ValueError):
    """A vocabulary file that cannot be used, naming the file and the entry at fault."""

    def __init__(self, file: str, entry: str | None, message: str):
        self.file = file
        self.entry = entry
        self.message = message
        where = file if entry is None else f"{file}, entry {entry!r}"
        super().__init__(f"{where}: {message}")


@dataclass
class _File:
    """One vocabulary file as read, before its entries are checked."""

    name: str
    kind: ConceptKind
    groups: list
    concepts: list

    def error(self, entry: str | None, message: str) -> VocabularyError:
        return VocabularyError(self.name, entry, message)


def load_vocabulary(directory: Path | None = None) -> Vocabulary:
    """Read and check feelings.yaml and needs.yaml; raise VocabularyError at the first fault."""
    directory = DEFAULT_DIRECTORY if directory is None else Path(directory)
    files = [_read_file(directory, name, kind, concept_kind) for name, kind, concept_kind in _FILES]

    groups: dict[str, Group] = {}
    group_files: dict[str, str] = {}
    for file in files:
        for index, raw in enumerate(file.groups):
            group = _check_group(file, index, raw, group_files)
            groups[group.id] = group
            group_files[group.id] = file.name

    concepts: dict[str, Concept] = {}
    concept_files: dict[str, str] = {}
    for file in files:
        for index, raw in enumerate(file.concepts):
            concept = _check_concept(file, index, raw, groups, group_files, concept_files)
            concepts[concept.id] = concept
            concept_files[concept.id] = file.name

    used_groups = {concept.group for concept in concepts.values()}
    for group in groups.values():
        if group.id not in used_groups:
            raise VocabularyError(group_files[group.id], group.id, "the group has no concepts")

    return Vocabulary(languages=LANGUAGES, groups=groups, concepts=concepts)


@functools.cache
def default_vocabulary() -> Vocabulary:
    """The built-in vocabulary, read once per process."""
    return load_vocabulary()


def _read_file(directory: Path, name: str, kind: str, concept_kind: ConceptKind) -> _File:
    try:
        text = (directory / name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise VocabularyError(name, None, f"cannot be read ({error})") from error
    try:
        document = yaml.load(text, Loader=_SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "syntax error"
        raise VocabularyError(name, None, f"is not valid YAML{where}: {problem}") from error

    if not isinstance(document, dict):
        raise VocabularyError(
            name, None, f"must be a mapping with the keys {', '.join(_TOP_LEVEL_KEYS)}"
        )
    _reject_unknown_keys(name, None, document, _TOP_LEVEL_KEYS)
    for key in _TOP_LEVEL_KEYS:
        if key not in document:
            raise VocabularyError(name, None, f"missing {key!r}")
    if document["kind"] != kind:
        raise VocabularyError(name, None, f"kind must be {kind!r}, not {document['kind']!r}")
    languages = document["languages"]
    if (
        not isinstance(languages, list)
        or len(languages) != len(set(map(str, languages)))
        or set(map(str, languages)) != set(LANGUAGES)
    ):
        raise VocabularyError(
            name, None, f"languages must be exactly {list(LANGUAGES)}, not {languages!r}"
        )
    for key in ("groups", "concepts"):
        if not isinstance(document[key], list) or not document[key]:
            raise VocabularyError(name, None, f"{key!r} must be a non-empty list")
    return _File(name, concept_kind, document["groups"], document["concepts"])


def _check_group(file: _File, index: int, raw: object, group_files: dict[str, str]) -> Group:
    entry = _entry_id(file, "groups", index, raw)
    _reject_unknown_keys(file.name, entry, raw, _GROUP_KEYS)
    if entry in group_files:
        raise file.error(entry, f"the group id is already used in {group_files[entry]}")
    return Group(id=entry, kind=file.kind, labels=_check_labels(file, entry, raw))


def _check_concept(
    file: _File,
    index: int,
    raw: object,
    groups: dict[str, Group],
    group_files: dict[str, str],
    concept_files: dict[str, str],
) -> Concept:
    entry = _entry_id(file, "concepts", index, raw)
    _reject_unknown_keys(file.name, entry, raw, _CONCEPT_KEYS)
    if entry in concept_files:
        raise file.error(entry, f"the id is already used in {concept_files[entry]}")

    group_id = raw.get("group")
    if group_id is None:
        raise file.error(entry, "no group")
    if not isinstance(group_id, str) or group_id not in groups:
        raise file.error(entry, f"unknown group {group_id!r}")
    if groups[group_id].kind != file.kind:
        raise file.error(
            entry, f"group {group_id!r} belongs to {group_files[group_id]}, not {file.name}"
        )
    labels = _check_labels(file, entry, raw)

    quadrant: dict[str, str | None] = {}
    for key in _QUADRANT_KEYS:
        value = raw.get(key)
        allowed = _QUADRANT_VALUES[key]
        if file.kind == "need":
            if key in raw:
                raise file.error(entry, f"needs have no {key}; only feelings do")
            quadrant[key] = None
        elif value is None:
            raise file.error(entry, f"no {key} (one of {', '.join(allowed)})")
        elif value not in allowed:
            raise file.error(entry, f"{key} must be one of {', '.join(allowed)}, not {value!r}")
        else:
            quadrant[key] = value

    return Concept(
        id=entry,
        kind=file.kind,
        group=group_id,
        labels=labels,
        pleasantness=quadrant["pleasantness"],
        energy=quadrant["energy"],
    )


def _entry_id(file: _File, section: str, index: int, raw: object) -> str:
    """The entry's id, checked; errors before an id is known name the entry by position."""
    position = f"{section}[{index}]"
    if not isinstance(raw, dict):
        raise file.error(position, "must be a mapping")
    if "id" not in raw:
        raise file.error(position, "no id")
    entry = raw["id"]
    # YAML reads some bare words (yes, no, on, off) and numbers as other types.
    if not isinstance(entry, str):
        raise file.error(position, f"the id must be text, not {entry!r}; quote it")
    if not _ID_PATTERN.fullmatch(entry) or len(entry) > _ID_MAX_LENGTH:
        raise file.error(
            entry,
            f"bad id: use lowercase letters, digits and underscores, starting with a letter, "
            f"at most {_ID_MAX_LENGTH} characters",
        )
    return entry


def _check_labels(file: _File, entry: str, raw: dict) -> Localized:
    labels = raw.get("labels")
    if not isinstance(labels, dict):
        raise file.error(entry, "labels must be a mapping from language to text")
    for language in labels:
        if language not in LANGUAGES:
            raise file.error(entry, f"label in unknown language {language!r}")
    for language in LANGUAGES:
        if language not in labels:
            raise file.error(entry, f"no label in {language!r}")
        text = labels[language]
        if not isinstance(text, str):
            raise file.error(entry, f"the label in {language!r} must be text, not {text!r}")
        if not text.strip():
            raise file.error(entry, f"empty label in {language!r}")
    return {language: labels[language] for language in LANGUAGES}


def _reject_unknown_keys(name: str, entry: str | None, raw: dict, allowed: tuple[str, ...]) -> None:
    for key in raw:
        if key not in allowed:
            raise VocabularyError(
                name, entry, f"unknown key {key!r} (allowed: {', '.join(allowed)})"
            )
