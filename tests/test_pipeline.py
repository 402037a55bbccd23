"""The NLP stages on small hand-made texts (not the sample articles)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
from spacy.language import Language

from kg.kb import KnowledgeBase, load_kb
from kg.model import Article, Statement
from kg.pipeline import extract, load_pipeline
from kg.pipeline.linker import Linker
from kg.pipeline.sentences import split_sentences
from kg.settings import REPO_ROOT

CONFIG = REPO_ROOT / "kg" / "pipeline" / "rules.cfg"  # unit tests: no statistical model


@lru_cache(maxsize=1)
def kb() -> KnowledgeBase:
    return load_kb(REPO_ROOT / "data" / "kb")


@lru_cache(maxsize=1)
def nlp() -> Language:
    return load_pipeline(CONFIG)


def statements(text: str) -> set[tuple[str, str, str, str | None, str]]:
    extraction = extract(nlp(), Article(text=text, name="t.txt"))
    return {(s.subject, s.relation, s.object, s.speaker, s.modality) for s in extraction.statements}


def links(text: str) -> dict[str, str]:
    return {m.text: m.entity for m in Linker(kb())(text, split_sentences(text))}


# -- sentences -------------------------------------------------------------------------------


def test_sentences_respect_abbreviations_ordinals_initials_and_lines() -> None:
    text = (
        "Am 4. Dezember sagte Donald J. Trump z.B. etwas. «Wir sind da.» Er ging.\n"
        "Überschrift ohne Punkt\nDr. Meier kam."
    )
    got = [text[a:b] for a, b in split_sentences(text)]
    assert got == [
        "Am 4. Dezember sagte Donald J. Trump z.B. etwas.",
        "«Wir sind da.»",
        "Er ging.",
        "Überschrift ohne Punkt",
        "Dr. Meier kam.",
    ]


def test_sentence_offsets_index_the_text() -> None:
    text = "  Erster Satz.  Zweiter Satz!\n\n Dritter?"
    for a, b in split_sentences(text):
        assert text[a:b] == text[a:b].strip() and text[a:b]


# -- knowledge base and linking --------------------------------------------------------------


def test_kb_forms_include_inflections_adjectives_and_metonyms() -> None:
    forms = kb().surface_forms
    assert {f.entity for f in forms["Russlands"]} == {"Q159"}
    assert any(f.entity == "Q159" and f.kind == "adjective" for f in forms["russischen"])
    assert any(f.entity == "Q159" for f in forms["Kreml"])


def test_linker_resolves_metonyms_compounds_and_inflection() -> None:
    got = links("Moskau und Pjöngjangs Führung trafen den Nato-Generalsekretär. Washington schwieg.")
    assert got["Moskau"] == "Q159"
    assert got["Pjöngjangs"] == "Q423"
    assert got["Nato"] == "Q7184"
    assert got["Washington"] == "Q30"


def test_surname_needs_full_name_title_or_rarity() -> None:
    assert "Trump" not in links("Das ist ein Trump im Kartenspiel.")  # common English word
    assert links("Präsident Trump reiste ab.")["Trump"] == "Q22686"  # after a title
    assert links("Donald Trump kam. Später sprach Trump.")["Trump"] == "Q22686"
    assert links("Am Ende sprach Stoltenberg.")["Stoltenberg"] == "Q57665"  # no common word


def test_generic_programme_word_needs_its_owner_in_the_sentence() -> None:
    assert (
        links("Nordkorea baut sein Atomprogramm aus.")["Atomprogramm"]
        == "other/north-korean-nuclear-programme"
    )
    assert "Atomprogramm" not in links("Das Atomprogramm wurde diskutiert.")


def test_unknown_person_gets_a_minted_key_and_surname_coreference() -> None:
    text = "Die Sprecherin Maria Schulz sagte etwas. Danach wiederholte Schulz es."
    mentions = Linker(kb())(text, split_sentences(text))
    keys = {m.text: m.entity for m in mentions}
    assert keys["Maria Schulz"] == "person/maria-schulz"
    assert keys["Schulz"] == "person/maria-schulz"


def test_mentions_are_exact_substrings() -> None:
    text = "Die Nato-Außenminister trafen US-Außenminister Antony Blinken in Brüssel."
    for m in Linker(kb())(text, split_sentences(text)):
        assert text[m.start : m.end] == m.text


# -- relations, attribution, modality --------------------------------------------------------


def test_verbal_relation_in_the_article_voice() -> None:
    assert ("Q142", "supports", "Q212", None, "asserted") in statements("Frankreich unterstützt die Ukraine.")


def test_negation_is_kept_as_modality() -> None:
    got = statements("Polen liefert keine Panzer an die Ukraine.")
    assert ("Q36", "supplies", "Q212", None, "negated") in got


def test_not_only_is_no_negation() -> None:
    got = statements("Russland bedroht nicht nur Polen, sondern auch Litauen.")
    assert ("Q159", "threatens", "Q36", None, "asserted") in got


def test_hedge_marks_the_statement() -> None:
    got = statements("Belarus könnte Russland unterstützen.")
    assert ("Q184", "supports", "Q159", None, "hedged") in got


def test_quote_is_claimed_by_the_speaker() -> None:
    got = statements("«Russland bedroht Europa», sagte Johann Wadephul.")
    assert ("Q159", "threatens", "Q46", "Q1696501", "asserted") in got


def test_coordinated_subjects_distribute() -> None:
    got = statements("Japan, Südkorea und Australien verurteilten Nordkorea.")
    assert {s for s, r, o, *_ in got if r == "condemns" and o == "Q423"} == {"Q17", "Q884", "Q408"}


def test_accusation_passes_its_content_to_the_accused() -> None:
    got = statements("Die EU wirft Iran vor, Russland zu beliefern und zu unterstützen.")
    assert ("Q458", "accuses", "Q794", None, "asserted") in got
    assert ("Q794", "supports", "Q159", "Q458", "asserted") in got


def test_nominal_support_takes_adjective_agent_and_fuer_patient() -> None:
    got = statements("Die chinesische Unterstützung für Russland wächst.")
    assert ("Q148", "supports", "Q159", None, "asserted") in got


def test_partnership_between_two_actors() -> None:
    got = statements("Die Zusammenarbeit zwischen Iran und Russland wird enger.")
    assert ("Q794", "partnerOf", "Q159", None, "asserted") in got


def test_title_before_name_gives_office() -> None:
    got = statements("Bundesaußenminister Johann Wadephul reiste nach Kiew.")
    assert ("Q1696501", "holdsRole", "Q183", None, "asserted") in got
    got = statements("Das sagte US-Außenminister Antony Blinken am Montag.")
    assert ("Q7821917", "holdsRole", "Q30", None, "asserted") in got


def test_apposition_gives_office() -> None:
    got = statements("Das sagte Karoline Leavitt, die Sprecherin des Weißen Hauses, am Montag.")
    assert any(s == "person/karoline-leavitt" and r == "holdsRole" for s, r, *_ in got)


def test_evidence_is_the_sentence_at_its_offsets() -> None:
    text = "Erster Satz ohne Fakten.\nFrankreich unterstützt die Ukraine. Noch ein Satz."
    extraction = extract(nlp(), Article(text=text, name="t.txt"))
    assert extraction.statements
    for s in extraction.statements:
        assert isinstance(s, Statement)
        assert text[s.evidence_start : s.evidence_end] == s.evidence == "Frankreich unterstützt die Ukraine."


def test_missing_model_names_the_install_command() -> None:
    from kg.errors import ConfigError

    with pytest.raises(ConfigError, match="pip install de_core_news_lg"):
        load_pipeline(REPO_ROOT / "kg" / "pipeline" / "pipeline.cfg", model="de_core_news_not_installed")


def test_noun_agent_is_the_bare_object_before_it_not_the_accuser() -> None:
    got = statements("Die EU hat China Unterstützung für Russland vorgeworfen.")
    assert ("Q458", "accuses", "Q148", None, "asserted") in got
    assert ("Q148", "supports", "Q159", "Q458", "asserted") in got
    assert not any(s == "Q458" and r == "supports" for s, r, *_ in got)


# -- statistical NER merged into the linker (docs/decisions/0009-ner-sources.md) ---------------------


def linked(text: str, recognised: list[tuple[int, int, str]]) -> dict[str, tuple[str, str]]:
    return {m.text: (m.entity, m.kind) for m in Linker(kb())(text, split_sentences(text), recognised)}


def span(text: str, name: str, label: str) -> tuple[int, int, str]:
    start = text.index(name)
    return (start, start + len(name), label)


def test_recognised_names_the_kb_lacks_become_minted_entities_and_their_surnames_link() -> None:
    text = (
        "Die Ministerin Yvonne Kaltenbrunner-Hessel traf Vertreter der Firma Sonnwerk. "
        "Kaltenbrunner-Hessel lobte Tirschenreuth."
    )
    got = linked(
        text,
        [
            span(text, "Yvonne Kaltenbrunner-Hessel", "PER"),
            span(text, "Sonnwerk", "ORG"),
            span(text, "Tirschenreuth", "LOC"),
        ],
    )
    assert got["Yvonne Kaltenbrunner-Hessel"] == ("person/yvonne-kaltenbrunner-hessel", "unknown")
    assert got["Kaltenbrunner-Hessel"] == ("person/yvonne-kaltenbrunner-hessel", "unknown")
    assert got["Sonnwerk"] == ("organization/sonnwerk", "unknown")
    assert got["Tirschenreuth"] == ("location/tirschenreuth", "unknown")


def test_the_kb_wins_where_a_recogniser_overlaps_it() -> None:
    text = "Bundeskanzler Olaf Scholz reiste nach Kiew."
    without = linked(text, [])
    got = linked(text, [span(text, "Bundeskanzler Olaf", "PER"), span(text, "Kiew", "ORG")])
    assert got == without


def test_a_recognised_bare_kb_surname_links_to_the_kb_entity_of_that_type_only() -> None:
    text = "Trump sagte, er werde nicht nachgeben."
    assert "Trump" not in linked(text, [])  # the KB rule alone declines a bare common-English surname
    assert linked(text, [span(text, "Trump", "PER")])["Trump"] == ("Q22686", "surname")
    assert "Trump" not in linked(text, [span(text, "Trump", "ORG")])


def test_misc_lowercase_digits_and_function_words_are_not_entities() -> None:
    text = "Die Q77 berieten über nordische Interessen und Die Welt berichtete von der Weltmeisterschaft."
    got = linked(
        text,
        [
            span(text, "Q77", "ORG"),
            span(text, "nordische", "LOC"),
            span(text, "Die Welt", "ORG"),
            span(text, "Weltmeisterschaft", "MISC"),
        ],
    )
    assert not set(got) & {"Q77", "nordische", "Die Welt", "Weltmeisterschaft"}


def test_the_first_listed_source_wins_between_recognisers() -> None:
    import spacy
    from spacy.tokens import Span

    from kg.pipeline.linker import LinkerComponent

    nlp = spacy.blank("de")
    component = LinkerComponent(kb(), ("ents", "flair_ner"))
    doc = nlp("Gestern sprach Erika Brennwald in Wolfsbrunn.")
    for token in doc:
        token.is_sent_start = token.i == 0
    doc.ents = [Span(doc, 2, 4, label="PER"), Span(doc, 5, 6, label="LOC")]
    doc.spans["flair_ner"] = [Span(doc, 3, 4, label="ORG"), Span(doc, 5, 6, label="ORG")]
    doc = component(doc)
    got = {m.text: m.entity for m in doc._.kg_mentions}
    assert got == {"Erika Brennwald": "person/erika-brennwald", "Wolfsbrunn": "location/wolfsbrunn"}
    assert [e.text for e in doc.spans["ner"]] == ["Erika Brennwald", "Wolfsbrunn"]


def test_relations_respect_the_ontology_domains_and_ranges() -> None:
    # Arktis is a kg:Location in the KB: it may be supported, but it cannot be anyone's partner
    got = statements(
        "Russland vertieft die Zusammenarbeit mit der Arktis. Russland traf die Arktis. "
        "Russland unterstützt die Arktis."
    )
    assert {(s, r, o) for s, r, o, *_ in got} == {("Q159", "supports", "location/arctic")}


def test_relation_signatures_match_the_ontology() -> None:
    from rdflib import Graph, URIRef

    from kg.model import RELATION_DOMAINS, RELATION_RANGES
    from kg.vocab import KG

    ontology = Graph().parse(REPO_ROOT / "ontology" / "kg.ttl")
    classes = {
        KG.Actor: {"Person", "Organization", "Country"},
        KG.Entity: {"Person", "Organization", "Country", "Location", "Other"},
        KG.Organization: {"Organization"},
        KG.Person: {"Person"},
    }
    rdfs = "http://www.w3.org/2000/01/rdf-schema#"
    for relation, allowed in RELATION_RANGES.items():
        (range_,) = ontology.objects(URIRef(KG + relation), URIRef(rdfs + "range"))
        assert classes[range_] == set(allowed), relation
    for relation, allowed in RELATION_DOMAINS.items():
        (domain,) = ontology.objects(URIRef(KG + relation), URIRef(rdfs + "domain"))
        assert classes[domain] == set(allowed), relation


def test_the_extractor_version_names_a_model_the_config_names_itself(tmp_path: Path) -> None:
    from kg.pipeline import extractor_version

    config = tmp_path / "p.cfg"
    config.write_text('[paths]\nmodel = "some_model_pkg"\n\n' + CONFIG.read_text(encoding="utf-8"))
    assert extractor_version(load_pipeline(config)).endswith("+some_model_pkg")
    assert "+" not in extractor_version(load_pipeline(CONFIG))


def test_use_blis_switches_every_layer_and_keeps_the_predictions() -> None:
    import spacy
    from spacy.training import Example
    from thinc.api import NumpyOps

    from kg.pipeline import use_blis

    tagger_nlp = spacy.blank("de")
    tagger_nlp.add_pipe("tagger")
    words = ["Die", "Kanzlerin", "besucht", "Kiel", ".", "Der", "Minister", "warnt", "Paris", "."]
    tags = ["ART", "NN", "VVFIN", "NE", "$.", "ART", "NN", "VVFIN", "NE", "$."]
    examples = [Example.from_dict(tagger_nlp.make_doc(" ".join(words)), {"words": words, "tags": tags})]
    tagger_nlp.initialize(lambda: examples)
    for _ in range(5):
        tagger_nlp.update(examples)
    text = "Der Minister besucht Kiel ."

    model = tagger_nlp.get_pipe("tagger").model  # type: ignore[attr-defined]
    docs = [tagger_nlp.make_doc(text)]

    use_blis(tagger_nlp, True)
    assert all(isinstance(node.ops, NumpyOps) and node.ops.use_blis for node in model.walk())
    with_blis = model.predict(docs)
    use_blis(tagger_nlp, False)
    assert not any(node.ops.use_blis for node in model.walk())
    with_numpy = model.predict(docs)
    assert len(with_blis) == len(with_numpy) == 1
    assert abs(with_blis[0] - with_numpy[0]).max() < 1e-5
