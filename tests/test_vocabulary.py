"""The feelings-and-needs vocabulary: what the built-in words offer, and which files are refused."""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from facilitator.domain.common import LANGUAGES
from facilitator.domain.vocabulary import (
    DEFAULT_DIRECTORY,
    Vocabulary,
    VocabularyError,
    default_vocabulary,
    load_vocabulary,
)

FEELINGS = "feelings.yaml"
NEEDS = "needs.yaml"
REAL_TEXT = {
    name: (DEFAULT_DIRECTORY / name).read_text(encoding="utf-8") for name in (FEELINGS, NEEDS)
}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
REAL_DOCUMENTS = {name: yaml.load(text, Loader=_Loader) for name, text in REAL_TEXT.items()}
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return default_vocabulary()


# The built-in content


def test_the_built_in_vocabulary_is_read_once_and_speaks_every_language(vocabulary):
    assert default_vocabulary() is vocabulary
    assert vocabulary.languages == LANGUAGES


def test_there_are_enough_feelings_and_needs_to_choose_from_but_not_too_many(vocabulary):
    assert 70 <= len(vocabulary.feelings()) <= 90
    assert 40 <= len(vocabulary.needs()) <= 60
    assert len(vocabulary.feelings()) + len(vocabulary.needs()) == len(vocabulary.concepts)


def test_feelings_come_first_then_needs_each_in_file_order(vocabulary):
    kinds = [concept.kind for concept in vocabulary.concepts.values()]
    assert kinds == sorted(kinds)  # "feeling" < "need": no need appears before a feeling
    assert [c.id for c in vocabulary.feelings() + vocabulary.needs()] == list(vocabulary.concepts)
    assert vocabulary.feelings()[0].id == REAL_DOCUMENTS[FEELINGS]["concepts"][0]["id"]
    assert vocabulary.needs()[-1].id == REAL_DOCUMENTS[NEEDS]["concepts"][-1]["id"]


def test_every_quadrant_of_feelings_has_several_words(vocabulary):
    quadrants = Counter((f.pleasantness, f.energy) for f in vocabulary.feelings())
    for pleasantness in ("pleasant", "unpleasant"):
        for energy in ("high", "low"):
            assert quadrants[(pleasantness, energy)] >= 8, (pleasantness, energy)


def test_needs_have_no_quadrant(vocabulary):
    assert all(n.pleasantness is None and n.energy is None for n in vocabulary.needs())


def test_every_group_holds_a_handful_of_concepts_of_its_own_kind(vocabulary):
    per_group = Counter(concept.group for concept in vocabulary.concepts.values())
    for group in vocabulary.groups.values():
        assert 3 <= per_group[group.id] <= 12, group.id
    for concept in vocabulary.concepts.values():
        assert vocabulary.groups[concept.group].kind == concept.kind, concept.id
    feeling_groups = [g for g in vocabulary.groups.values() if g.kind == "feeling"]
    need_groups = [g for g in vocabulary.groups.values() if g.kind == "need"]
    assert 8 <= len(feeling_groups) <= 12
    assert 6 <= len(need_groups) <= 12


# What a family session needs to be able to say, and the words a teenager actually uses.
SESSION_FEELINGS = ["hurt", "lonely", "scared", "ashamed", "frustrated", "overwhelmed", "relieved"]
SESSION_FEELINGS += ["hopeful", "close", "proud", "jealous", "guilty", "sad", "angry", "worried"]
TEEN_FEELINGS = ["stressed_out", "annoyed", "fed_up", "awkward", "done", "chill", "hyped", "bored"]


@pytest.mark.parametrize("feeling", [*SESSION_FEELINGS, *TEEN_FEELINGS])
def test_the_words_a_family_session_needs_are_feelings(vocabulary, feeling):
    assert vocabulary.is_feeling(feeling)
    assert not vocabulary.is_need(feeling)


@pytest.mark.parametrize(
    "group",
    [
        "connection",
        "being_heard",
        "trust_honesty",
        "autonomy_choice",
        "safety_stability",
        "respect_fairness",
        "support_care",
        "rest_play",
        "meaning_growth",
    ],
)
def test_the_need_groups_exist(vocabulary, group):
    assert vocabulary.groups[group].kind == "need"


@pytest.mark.parametrize(
    "need", ["listened_to", "understanding", "space", "fairness", "being_trusted", "fun", "respect"]
)
def test_plain_needs_a_teenager_names_exist(vocabulary, need):
    assert vocabulary.is_need(need)
    assert not vocabulary.is_feeling(need)


def test_feelings_are_feelings_not_judgements_of_what_someone_else_did(vocabulary):
    judgements = {"ignored", "judged", "rejected", "abandoned", "misunderstood", "betrayed"}
    judgements |= {"criticized", "manipulated", "disrespected", "unappreciated", "attacked"}
    for feeling in vocabulary.feelings():
        words = set(re.findall(r"[a-z]+", feeling.labels["en"].lower())) | {feeling.id}
        assert not words & judgements, feeling.id


def test_spanish_labels_are_spanish_not_copies_of_the_english(vocabulary):
    concepts = list(vocabulary.concepts.values())
    same = [c.id for c in concepts if c.labels["es"].casefold() == c.labels["en"].casefold()]
    # A few words really are the same in both languages ("vulnerable").
    assert len(same) <= len(concepts) // 20, same
    groups = list(vocabulary.groups.values())
    assert all(g.labels["es"] != g.labels["en"] for g in groups)


def test_no_two_chips_of_one_kind_read_the_same_in_any_language(vocabulary):
    for concepts in (vocabulary.feelings(), vocabulary.needs()):
        for language in LANGUAGES:
            labels = Counter(c.labels[language].casefold() for c in concepts)
            assert [label for label, n in labels.items() if n > 1] == [], language


def test_spanish_gendered_words_use_the_compact_o_slash_a_form(vocabulary):
    labels = [c.labels["es"] for c in vocabulary.concepts.values()]
    labels += [g.labels["es"] for g in vocabulary.groups.values()]
    for label in labels:
        assert "(a)" not in label and "@" not in label, label
        # "dolido/a", never "dolida/o" or "dolido/da".
        for match in re.finditer(r"(\w*)/(\w+)", label):
            if match.group(2) == "a" or match.group(1).endswith("a"):
                assert match.group(1).endswith("o") and match.group(2) == "a", label


def test_a_chosen_feeling_reads_in_each_persons_language(vocabulary):
    assert vocabulary.concept_view("lonely", "es") == {
        "id": "lonely",
        "label": "solo/a",
        "pleasantness": "unpleasant",
        "energy": "low",
    }
    assert vocabulary.concept_view("lonely", "en")["label"] == "lonely"
    need = vocabulary.concept_view("space", "es")
    assert need == {"id": "space", "label": vocabulary.concepts["space"].labels["es"]}


# The catalogue the phone's chip picker shows


def test_the_spanish_catalogue_shows_every_concept_once_in_order_in_spanish(vocabulary):
    catalogue = vocabulary.catalogue("es")
    assert catalogue["language"] == "es"
    for section, concepts in (
        ("feelings", vocabulary.feelings()),
        ("needs", vocabulary.needs()),
    ):
        shown = [chip for group in catalogue[section] for chip in group["concepts"]]
        assert [chip["id"] for chip in shown] == [c.id for c in concepts]
        for group in catalogue[section]:
            assert group["label"] == vocabulary.groups[group["group"]].labels["es"]
            for chip in group["concepts"]:
                concept = vocabulary.concepts[chip["id"]]
                assert concept.group == group["group"]
                assert chip["label"] == concept.labels["es"]
    kinds = {"feelings": "feeling", "needs": "need"}
    for section, kind in kinds.items():
        group_ids = [group["group"] for group in catalogue[section]]
        assert group_ids == [g.id for g in vocabulary.groups.values() if g.kind == kind]
    assert catalogue["feelings"][0]["label"] != vocabulary.catalogue("en")["feelings"][0]["label"]


def test_catalogue_chips_carry_the_quadrant_for_feelings_only(vocabulary):
    catalogue = vocabulary.catalogue("en")
    for group in catalogue["feelings"]:
        for chip in group["concepts"]:
            assert set(chip) == {"id", "label", "pleasantness", "energy"}
    for group in catalogue["needs"]:
        for chip in group["concepts"]:
            assert set(chip) == {"id", "label"}


def test_a_language_the_vocabulary_does_not_speak_falls_back_and_says_so(vocabulary):
    catalogue = vocabulary.catalogue("fr")
    assert catalogue["language"] == "en"
    assert catalogue == vocabulary.catalogue("en")


# Broken vocabulary files are refused with the file and entry at fault


def test_the_error_names_the_file_and_the_entry():
    error = VocabularyError("feelings.yaml", "lonely", "no label in 'es'")
    assert str(error) == "feelings.yaml, entry 'lonely': no label in 'es'"
    assert (error.file, error.entry, error.message) == (
        "feelings.yaml",
        "lonely",
        "no label in 'es'",
    )
    assert isinstance(error, ValueError)
    assert str(VocabularyError("needs.yaml", None, "missing 'groups'")) == (
        "needs.yaml: missing 'groups'"
    )


def _write(directory: Path, documents: dict[str, dict | str]) -> None:
    for name, document in documents.items():
        text = (
            document
            if isinstance(document, str)
            else yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False)
        )
        (directory / name).write_text(text, encoding="utf-8")


def _entry(documents: dict, file: str, section: str, entry_id: str) -> dict:
    return next(e for e in documents[file][section] if e["id"] == entry_id)


def _concept(documents: dict, file: str, concept_id: str) -> dict:
    return _entry(documents, file, "concepts", concept_id)


def _index(documents: dict, file: str, concept_id: str) -> int:
    return [e["id"] for e in documents[file]["concepts"]].index(concept_id)


def test_an_undamaged_copy_of_the_files_loads(tmp_path):
    _write(tmp_path, copy.deepcopy(REAL_DOCUMENTS))
    copied = load_vocabulary(tmp_path)
    assert copied.concepts == default_vocabulary().concepts
    assert copied.groups == default_vocabulary().groups


Damage = Callable[[dict], None]


def _duplicate_feeling(docs: dict) -> None:
    docs[FEELINGS]["concepts"].append(copy.deepcopy(_concept(docs, FEELINGS, "hurt")))


def _need_reuses_a_feeling_id(docs: dict) -> None:
    _concept(docs, NEEDS, "space")["id"] = "lonely"


def _need_group_reuses_a_feeling_group_id(docs: dict) -> None:
    _entry(docs, NEEDS, "groups", "rest_play")["id"] = "sad_down"


def _no_spanish_label(docs: dict) -> None:
    del _concept(docs, FEELINGS, "lonely")["labels"]["es"]


def _empty_label(docs: dict) -> None:
    _concept(docs, NEEDS, "space")["labels"]["en"] = "   "


def _group_without_spanish_label(docs: dict) -> None:
    del _entry(docs, FEELINGS, "groups", "hurt_lonely")["labels"]["es"]


def _label_in_unknown_language(docs: dict) -> None:
    _concept(docs, FEELINGS, "sad")["labels"]["fr"] = "triste"


def _unknown_group(docs: dict) -> None:
    _concept(docs, FEELINGS, "proud")["group"] = "pride"


def _need_in_a_feeling_group(docs: dict) -> None:
    _concept(docs, NEEDS, "fun")["group"] = "happy_excited"


def _feeling_in_a_need_group(docs: dict) -> None:
    _concept(docs, FEELINGS, "calm")["group"] = "rest_play"


def _need_with_energy(docs: dict) -> None:
    _concept(docs, NEEDS, "rest")["energy"] = "low"


def _feeling_without_pleasantness(docs: dict) -> None:
    del _concept(docs, FEELINGS, "relieved")["pleasantness"]


def _feeling_with_unknown_energy(docs: dict) -> None:
    _concept(docs, FEELINGS, "calm")["energy"] = "medium"


def _bad_id(docs: dict) -> None:
    _concept(docs, FEELINGS, "fed_up")["id"] = "Fed-up"


def _id_yaml_reads_as_true(docs: dict) -> None:
    _concept(docs, FEELINGS, "okay")["id"] = True


def _unknown_concept_key(docs: dict) -> None:
    _concept(docs, FEELINGS, "guilty")["colour"] = "grey"


def _unknown_top_level_key(docs: dict) -> None:
    docs[NEEDS]["version"] = 2


def _not_yaml(docs: dict) -> None:
    docs[FEELINGS] = "kind: feelings\ngroups: [unclosed\n"


def _key_written_twice(docs: dict) -> None:
    line = 'labels: {en: "lonely", es: "solo/a"}'
    assert line in REAL_TEXT[FEELINGS]
    docs[FEELINGS] = REAL_TEXT[FEELINGS].replace(line, line[:-1] + ', en: "alone"}')


def _wrong_kind(docs: dict) -> None:
    docs[NEEDS]["kind"] = "feelings"


def _missing_language(docs: dict) -> None:
    docs[FEELINGS]["languages"] = ["en"]


def _group_with_no_concepts(docs: dict) -> None:
    docs[NEEDS]["groups"].append({"id": "quiet_time", "labels": {"en": "Quiet", "es": "Calma"}})


def _missing_file(docs: dict) -> None:
    del docs[NEEDS]


def _not_a_mapping(docs: dict) -> None:
    docs[NEEDS] = "- just\n- a list\n"


BROKEN = [
    # damage, file at fault, entry at fault, words the message must contain
    (_duplicate_feeling, FEELINGS, "hurt", "already used in feelings.yaml"),
    (_need_reuses_a_feeling_id, NEEDS, "lonely", "already used in feelings.yaml"),
    (_need_group_reuses_a_feeling_group_id, NEEDS, "sad_down", "already used in feelings.yaml"),
    (_no_spanish_label, FEELINGS, "lonely", "no label in 'es'"),
    (_empty_label, NEEDS, "space", "empty label in 'en'"),
    (_group_without_spanish_label, FEELINGS, "hurt_lonely", "no label in 'es'"),
    (_label_in_unknown_language, FEELINGS, "sad", "unknown language 'fr'"),
    (_unknown_group, FEELINGS, "proud", "unknown group 'pride'"),
    (_need_in_a_feeling_group, NEEDS, "fun", "belongs to feelings.yaml"),
    (_feeling_in_a_need_group, FEELINGS, "calm", "belongs to needs.yaml"),
    (_need_with_energy, NEEDS, "rest", "needs have no energy"),
    (_feeling_without_pleasantness, FEELINGS, "relieved", "no pleasantness"),
    (_feeling_with_unknown_energy, FEELINGS, "calm", "not 'medium'"),
    (_bad_id, FEELINGS, "Fed-up", "bad id"),
    (_unknown_concept_key, FEELINGS, "guilty", "unknown key 'colour'"),
    (_unknown_top_level_key, NEEDS, None, "unknown key 'version'"),
    (_not_yaml, FEELINGS, None, "not valid YAML at line 3"),
    (_key_written_twice, FEELINGS, None, "'en' is written twice"),
    (_wrong_kind, NEEDS, None, "kind must be 'needs'"),
    (_missing_language, FEELINGS, None, "languages must be exactly"),
    (_group_with_no_concepts, NEEDS, "quiet_time", "no concepts"),
    (_missing_file, NEEDS, None, "cannot be read"),
    (_not_a_mapping, NEEDS, None, "must be a mapping"),
]


@pytest.mark.parametrize(
    ("damage", "file", "entry", "words"), BROKEN, ids=[case[0].__name__[1:] for case in BROKEN]
)
def test_a_damaged_vocabulary_is_refused_naming_the_file_and_entry(
    tmp_path, damage: Damage, file, entry, words
):
    documents = copy.deepcopy(REAL_DOCUMENTS)
    damage(documents)
    _write(tmp_path, documents)

    with pytest.raises(VocabularyError) as caught:
        load_vocabulary(tmp_path)

    error = caught.value
    assert (error.file, error.entry) == (file, entry)
    assert words in error.message
    where = file if entry is None else f"{file}, entry {entry!r}"
    assert str(error) == f"{where}: {error.message}"


def test_an_id_yaml_reads_as_another_type_is_named_by_its_position(tmp_path):
    documents = copy.deepcopy(REAL_DOCUMENTS)
    _id_yaml_reads_as_true(documents)
    _write(tmp_path, documents)

    with pytest.raises(VocabularyError) as caught:
        load_vocabulary(tmp_path)

    position = _index(REAL_DOCUMENTS, FEELINGS, "okay")
    assert (caught.value.file, caught.value.entry) == (FEELINGS, f"concepts[{position}]")
    assert "must be text" in caught.value.message
