"""Feelings and needs as concepts with ids, groups and labels in every supported language."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from facilitator.domain.common import Localized, localize

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
