"""kg.metadata: normalisation, headers, datelines, dates, front matter, language."""

from __future__ import annotations

import pytest

from kg.metadata import (
    find_dateline,
    guess_language,
    markdown_title,
    normalize_language,
    normalize_text,
    parse_date,
    parse_markdown,
    parse_plain_text,
    split_front_matter,
    split_header,
)

# First lines of data/samples/000_*.txt and 001_*.txt: the header is glued to the sentence.
SEED_000 = (
    " date 2025-03 NATO-Generalsekretär Rutte erklärte nach dem NATO-Außenministertreffen in Brüssel, "
    '"wir sollten nicht naiv sein".\n\nNATO-Generalsekretär Mark Rutte hat an diesem Mittwoch gewarnt.\n'
)
SEED_001 = (
    " date 2024-06 Bericht: NATO befürchtet Moskaus Unterstützung für Nordkoreas Atomprogramm\n\n"
    "Der Westen ist alarmiert.\n"
)
# The top of data/samples/003_*.txt: a dateline after the headline.
SEED_003 = (
    "International\nNATO\n\nNato wirft Russland vor, Nordkoreas Atomprogramm zu unterstützen\n\n"
    "04.12.2024, 18:49\nMehr «International»\n\nDie Nato wirft Russland vor, Nordkorea zu unterstützen.\n"
)
# The top of data/samples/004_*.txt: a byline date, later a stamp with a time.
SEED_004 = (
    "Bedroht Putin-Kim-Bündnis auch die USA?«Russland liefert Nordkorea die neuste Technologie»\n"
    "Stefan Michel\n10.11.2024\nDie enge militärische Zusammenarbeit bedroht Europa.\n"
    "Stefan Michel\n10.11.2024, 20:45\n"
)

GERMAN = (
    "Die Nato hat Russland Unterstützung für das nordkoreanische Atomprogramm vorgeworfen. Im Gegenzug "
    "für Truppen und Waffen unterstütze Russland Nordkorea bei seinen Raketenprogrammen, sagte der "
    "Generalsekretär nach einem Treffen der Außenminister in Brüssel. Moskau verstoße damit gegen "
    "die Sanktionen."
)
ENGLISH = (
    "NATO has accused Russia of supporting North Korea's nuclear programme. In exchange for troops and "
    "weapons, Russia is helping the regime with its missile programmes, the secretary general said after "
    "a meeting of the foreign ministers in Brussels. This would be a breach of the sanctions."
)


# --------------------------------------------------------------------------- normalize_text


def test_normalize_text_line_breaks_bom_controls_and_nfc() -> None:
    raw = "\ufeffZeile eins\r\nZeile zwei\rZeile\x07 drei\x00\x85\tTab\n"
    assert normalize_text(raw) == "Zeile eins\nZeile zwei\nZeile drei\tTab\n"


def test_normalize_text_composes_combining_characters() -> None:
    assert normalize_text("Bru\u0308ssel") == "Brüssel"


def test_normalize_text_keeps_a_bom_that_is_not_leading() -> None:
    assert normalize_text("a\ufeffb") == "a\ufeffb"


# --------------------------------------------------------------------------- parse_date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024", "2024"),
        ("2024-06", "2024-06"),
        ("2024-12-04", "2024-12-04"),
        ("2024-12-04T18:49", "2024-12-04T18:49"),
        ("2024-12-04 18:49:07", "2024-12-04T18:49"),
        ("2024-12-04T18:49:00+01:00", "2024-12-04T18:49"),
        ("2024-12-04T18:49:00Z", "2024-12-04T18:49"),
        ("2024-12-04 18:49:00 +01:00", "2024-12-04T18:49"),
        ("04.12.2024, 18:49", "2024-12-04T18:49"),
        ("10.11.2024", "2024-11-10"),
        ("4.3.2024 um 9.05 Uhr", "2024-03-04T09:05"),
        ("4. Dezember 2024", "2024-12-04"),
        ("4. März 2024, 18:49 Uhr", "2024-03-04T18:49"),
        ("4. Dez. 2024", "2024-12-04"),
        ("Juni 2024", "2024-06"),
        ("December 4, 2024", "2024-12-04"),
        ("4 December 2024", "2024-12-04"),
        ("  2024-06  ", "2024-06"),
    ],
)
def test_parse_date_normalises_to_the_precision_of_the_source(value: str, expected: str) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2024-02-30", "does not exist"),
        ("2023-02-29", "does not exist"),
        ("31.04.2024", "does not exist"),
        ("2024-13", "month 13"),
        ("2024-00-10", "month 0"),
        ("04.12.2024, 25:00", "time 25:00"),
        ("2024-12-04T18:60", "expected 00:00 to 23:59"),
        ("0000", "year 0"),
        ("3024-01-01", "year 3024"),
        ("gestern", "cannot read"),
        ("", "cannot read"),
    ],
)
def test_parse_date_refuses_impossible_dates(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_date(value)


def test_parse_date_accepts_a_leap_day() -> None:
    assert parse_date("29.02.2024") == "2024-02-29"


# --------------------------------------------------------------------------- header


def test_header_glued_to_first_sentence_removes_only_the_header() -> None:
    value, text = split_header(SEED_000)
    assert value == "2025-03"
    assert text.startswith("NATO-Generalsekretär Rutte erklärte nach dem NATO-Außenministertreffen")
    assert SEED_000.endswith(text)


def test_header_on_its_own_line_goes_with_the_blank_lines_after_it() -> None:
    assert split_header("date: 2024-12-04\n\n\nDer Text.\n") == ("2024-12-04", "Der Text.\n")


@pytest.mark.parametrize(
    "text",
    [
        "Die Nato warnt.\n",
        "Date palms grow in 2024 soil.\n",
        "Datenschutz ist wichtig.\n",
        "date 20245 Text\n",
    ],
)
def test_no_header_leaves_text_unchanged(text: str) -> None:
    assert split_header(text) == (None, text)


def test_parse_plain_text_seed_headers() -> None:
    parsed = parse_plain_text(SEED_000)
    assert parsed.date == "2025-03"
    assert parsed.text.startswith("NATO-Generalsekretär Rutte")
    assert parsed.language == "de"
    assert parsed.warnings == ()
    parsed = parse_plain_text(SEED_001)
    assert parsed.date == "2024-06"
    assert parsed.text.startswith("Bericht: NATO befürchtet")


def test_impossible_header_date_is_a_warning_and_the_header_still_goes() -> None:
    parsed = parse_plain_text("date 2024-13 Die Nato warnt.\n10.11.2024\n")
    assert parsed.text == "Die Nato warnt.\n10.11.2024\n"
    assert parsed.date == "2024-11-10"  # falls back on the dateline
    assert len(parsed.warnings) == 1
    assert "month 13" in parsed.warnings[0]


def test_text_is_verbatim_apart_from_normalisation_and_header() -> None:
    raw = "date 2024-12-04\r\n\r\n  Erste Zeile  \r\n\r\n\r\nZweite  Zeile\t\r\n"
    assert parse_plain_text(raw).text == "  Erste Zeile  \n\n\nZweite  Zeile\t\n"


# --------------------------------------------------------------------------- datelines


def test_dateline_with_time() -> None:
    assert find_dateline(SEED_003) == "2024-12-04T18:49"


def test_byline_date_first_one_wins() -> None:
    assert find_dateline(SEED_004) == "2024-11-10"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("4. Dezember 2024", "2024-12-04"),
        ("Mittwoch, 4. Dezember 2024, 18:49 Uhr", "2024-12-04T18:49"),
        ("Stand: 04.12.2024 18:49 Uhr", "2024-12-04T18:49"),
        ("Published on December 4, 2024", "2024-12-04"),
    ],
)
def test_dateline_forms(line: str, expected: str) -> None:
    assert find_dateline(f"Titel\n{line}\nText.") == expected


def test_a_date_inside_a_sentence_is_no_dateline() -> None:
    assert find_dateline("Das Treffen am 4. Dezember 2024 in Brüssel endete spät.\n") is None


def test_dateline_beyond_the_first_lines_is_ignored() -> None:
    text = "Zeile\n" * 15 + "04.12.2024, 18:49\n"
    assert find_dateline(text) is None
    assert find_dateline(text, max_lines=16) == "2024-12-04T18:49"


def test_impossible_dateline_is_skipped() -> None:
    assert find_dateline("31.02.2024\n04.12.2024\n") == "2024-12-04"


def test_plain_text_without_header_takes_the_dateline_and_keeps_it_in_the_text() -> None:
    parsed = parse_plain_text(SEED_003)
    assert parsed.date == "2024-12-04T18:49"
    assert parsed.text == SEED_003


# --------------------------------------------------------------------------- Markdown


def test_front_matter_is_read_and_removed() -> None:
    text = (
        '---\ntitle: "Nato warnt Russland"\ndate: 2024-12-04\nurl: https://example.org/a\n'
        "sitename: Beispielzeitung\nlang: de-DE\ntags:\n  - nato\n---\n\n# Überschrift\n\nDer Text.\n"
    )
    parsed = parse_markdown(text)
    assert parsed.text == "# Überschrift\n\nDer Text.\n"
    assert parsed.title == "Nato warnt Russland"
    assert parsed.date == "2024-12-04"
    assert parsed.url == "https://example.org/a"
    assert parsed.source == "Beispielzeitung"
    assert parsed.language == "de"


def test_markdown_title_from_first_level_one_heading() -> None:
    parsed = parse_markdown("## Rubrik\n\n# Nato warnt Russland #\n\nText.\n")
    assert parsed.title == "Nato warnt Russland"
    assert parsed.text == "## Rubrik\n\n# Nato warnt Russland #\n\nText.\n"
    assert markdown_title("Kein Titel\n#hashtag\n") is None


def test_thematic_break_is_not_front_matter() -> None:
    text = "---\n\nEin Absatz, kein Schlüssel.\n\n---\nMehr.\n"
    assert split_front_matter(text) == ({}, text)


def test_markdown_bad_front_matter_date_is_a_warning() -> None:
    parsed = parse_markdown("---\ndate: 2024-02-30\n---\ndate 2024-03 Text.\n")
    assert parsed.date == "2024-03"
    assert parsed.text == "Text.\n"
    assert any("does not exist" in warning for warning in parsed.warnings)


# --------------------------------------------------------------------------- language


def test_guess_language_german_and_english() -> None:
    assert guess_language(GERMAN) == "de"
    assert guess_language(ENGLISH) == "en"


def test_guess_language_mixed_or_short_is_none() -> None:
    assert guess_language(GERMAN + " " + ENGLISH) is None
    assert guess_language("Rutte, Nato, Brüssel") is None
    assert guess_language("") is None


def test_guess_language_german_with_english_quote_is_german() -> None:
    text = GERMAN + ' Rutte sagte auf Englisch: "We should not be naive about this."'
    assert guess_language(text) == "de"


@pytest.mark.parametrize(
    ("value", "expected"), [("de", "de"), ("de-DE", "de"), ("EN_us", "en"), (" en ", "en")]
)
def test_normalize_language(value: str, expected: str) -> None:
    assert normalize_language(value) == expected


def test_normalize_language_refuses_non_tags() -> None:
    with pytest.raises(ValueError, match="expected a code like de"):
        normalize_language("Deutsch!")
