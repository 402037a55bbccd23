"""kg.io.read_articles: formats, folders, encodings, limits and bad input, on files made in tmp_path."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from kg.errors import InputError
from kg.io import Loaded, read_articles
from kg.metadata import normalize_text

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
LIMIT = 1_000_000

GERMAN = "Die Nato wirft Russland vor, Nordkoreas Atomprogramm zu unterstützen, sagte Rutte in Brüssel."

ARTICLE_HTML = """<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<title>Nato wirft Russland Unterstützung vor | Beispielzeitung</title>
<meta property="og:site_name" content="Beispielzeitung">
<meta property="og:title" content="Nato wirft Russland Unterstützung für Nordkorea vor">
<link rel="canonical" href="https://example.org/politik/nato-russland-nordkorea">
<meta property="article:published_time" content="2024-12-04T18:49:00+01:00">
</head>
<body>
<header><nav><ul><li><a href="/">Startseite</a></li><li><a href="/politik">Politik</a></li>
<li><a href="/sport">Sportnachrichten</a></li></ul></nav></header>
<main>
<article>
<h1>Nato wirft Russland Unterstützung für Nordkorea vor</h1>
<p>Die Nato hat Russland Unterstützung für das nordkoreanische Atomprogramm vorgeworfen. Das sagte
Generalsekretär Mark Rutte am Mittwoch nach einem Treffen der Außenminister in Brüssel.</p>
<p>Im Gegenzug für Truppen und Waffen unterstütze Russland Nordkorea bei seinen Raketen- und
Nuklearprogrammen, sagte Rutte. Die Entwicklung könne die koreanische Halbinsel destabilisieren.</p>
<p>Die Außenminister der 32 Mitgliedstaaten verurteilten die militärische Zusammenarbeit zwischen
Moskau und Pjöngjang scharf.</p>
</article>
<aside class="donation-box"><h3>Unterstützen Sie unabhängigen Journalismus</h3>
<p>Jetzt spenden: Mit nur 5 Euro im Monat sichern Sie unsere Arbeit.</p></aside>
<section id="comments" class="comments"><h3>Kommentare</h3>
<div class="comment"><p>Leserkommentar: Das ist doch alles Propaganda, glaube ich nicht.</p></div></section>
</main>
<footer><p>Impressum | Datenschutz | © 2024 Beispielzeitung</p></footer>
</body></html>
"""


def read(*paths: Path, max_bytes: int = LIMIT) -> list[Loaded | InputError]:
    return list(read_articles(paths, max_bytes=max_bytes))


def loaded(results: list[Loaded | InputError]) -> list[Loaded]:
    return [result for result in results if isinstance(result, Loaded)]


def errors(results: list[Loaded | InputError]) -> list[InputError]:
    return [result for result in results if isinstance(result, InputError)]


def only_error(results: Sequence[Loaded | InputError]) -> InputError:
    assert len(results) == 1, results
    assert isinstance(results[0], InputError), results[0]
    return results[0]


def only_loaded(results: list[Loaded | InputError]) -> Loaded:
    assert len(results) == 1, results
    assert isinstance(results[0], Loaded), results[0]
    return results[0]


# --------------------------------------------------------------------------- text and Markdown


def test_text_file_named_by_file_name_with_header_and_language(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "001_x.txt"
    path.parent.mkdir()
    path.write_text(f" date 2024-06 {GERMAN}\r\n\r\nZweiter Absatz.\r\n", encoding="utf-8")
    result = only_loaded(read(path))
    assert result.article.name == "001_x.txt"
    assert result.article.date == "2024-06"
    assert result.article.language == "de"
    assert result.article.text == f"{GERMAN}\n\nZweiter Absatz.\n"
    assert result.warnings == ()


def test_markdown_front_matter_and_heading(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text(
        "---\ndate: 04.12.2024, 18:49\nurl: https://example.org/a\nsource: Beispielzeitung\n---\n"
        f"# Nato warnt\n\n{GERMAN}\n",
        encoding="utf-8",
    )
    article = only_loaded(read(path)).article
    assert (article.title, article.date, article.url, article.source) == (
        "Nato warnt",
        "2024-12-04T18:49",
        "https://example.org/a",
        "Beispielzeitung",
    )
    assert article.text == f"# Nato warnt\n\n{GERMAN}\n"


def test_seed_samples_keep_their_text_verbatim_apart_from_the_header() -> None:
    results = read(SAMPLES)
    articles = {result.article.name: result.article for result in loaded(results)}
    assert errors(results) == []
    assert sorted(articles) == sorted(path.name for path in SAMPLES.glob("*.txt"))
    dates = {name[:3]: article.date for name, article in articles.items()}
    assert dates == {
        "000": "2025-03",
        "001": "2024-06",
        "002": None,
        "003": "2024-12-04T18:49",
        "004": "2024-11-10",
    }
    for name, article in articles.items():
        raw = normalize_text((SAMPLES / name).read_text(encoding="utf-8"))
        assert raw.endswith(article.text)  # only a leading header was removed
        assert not article.text.startswith(" date")
        assert article.language == "de"


# --------------------------------------------------------------------------- bad files


def test_missing_path_is_an_error_and_the_others_still_load(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text(GERMAN, encoding="utf-8")
    results = read(tmp_path / "missing.txt", good)
    assert "path does not exist" in str(errors(results)[0])
    assert "missing.txt" in str(errors(results)[0])
    assert [result.article.name for result in loaded(results)] == ["good.txt"]


def test_empty_and_whitespace_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.txt"
    blank.write_bytes(b" \n\t\r\n")
    header_only = tmp_path / "header.txt"
    header_only.write_text("date: 2024-12-04\n\n", encoding="utf-8")
    assert "file is empty" in str(only_error(read(empty)))
    assert "only whitespace" in str(only_error(read(blank)))
    assert "only metadata" in str(only_error(read(header_only)))


def test_binary_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "photo.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    error = only_error(read(path))
    assert error.source == str(path)
    assert "binary" in error.reason


def test_control_character_soup_is_binary(tmp_path: Path) -> None:
    path = tmp_path / "soup.txt"
    path.write_bytes(bytes([1, 2, 3, 4, 5, 6, 65, 66]) * 50)
    assert "control characters" in only_error(read(path)).reason


def test_cp1252_german_is_decoded_with_a_warning(tmp_path: Path) -> None:
    text = "„Größere Übel“ für Bürger – sagte Rutte in Brüssel.\n"
    path = tmp_path / "alt.txt"
    path.write_bytes(text.encode("cp1252"))
    result = only_loaded(read(path))
    assert result.article.text == text
    assert len(result.warnings) == 1
    assert "alt.txt" in result.warnings[0]
    assert "Windows-1252" in result.warnings[0]


def test_non_western_legacy_encoding_goes_to_charset_normalizer(tmp_path: Path) -> None:
    text = (
        "Генеральный секретарь НАТО Марк Рютте заявил в Брюсселе, что Россия поддерживает Северную Корею.\n"
    )
    path = tmp_path / "ru.txt"
    path.write_bytes(text.encode("cp1251"))
    result = only_loaded(read(path))
    assert result.article.text == text
    assert "charset-normalizer" in result.warnings[0]


def test_utf8_bom_and_utf16_bom(tmp_path: Path) -> None:
    bom8 = tmp_path / "bom8.txt"
    bom8.write_bytes("\ufeffÜber Brüssel.".encode())
    bom16 = tmp_path / "bom16.txt"
    bom16.write_bytes("Über Brüssel.".encode("utf-16"))
    result8 = only_loaded(read(bom8))
    assert (result8.article.text, result8.warnings) == ("Über Brüssel.", ())
    result16 = only_loaded(read(bom16))
    assert result16.article.text == "Über Brüssel."
    assert "UTF-16" in result16.warnings[0]


def test_file_over_the_limit_names_size_limit_and_setting(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("x" * 2_000, encoding="utf-8")
    small = tmp_path / "small.txt"
    small.write_text(GERMAN, encoding="utf-8")
    results = read(big, small, max_bytes=1_000)
    error = errors(results)[0]
    assert "2,000 bytes" in error.reason
    assert "1,000 bytes" in error.reason
    assert "KG_MAX_INPUT_BYTES" in error.reason
    assert [result.article.name for result in loaded(results)] == ["small.txt"]


def test_unknown_extension_named_explicitly_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "article.pdf"
    path.write_bytes(b"%PDF-1.7")
    error = only_error(read(path))
    assert "unknown file type '.pdf'" in error.reason


# --------------------------------------------------------------------------- folders


def test_folder_recursion_sorted_skipping_hidden_and_unknown(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "b" / "2.txt").write_text("zwei " + GERMAN, encoding="utf-8")
    (tmp_path / "b" / "1.MD").write_text("eins " + GERMAN, encoding="utf-8")
    (tmp_path / "a.txt").write_text("a " + GERMAN, encoding="utf-8")
    (tmp_path / "c.txt").write_text("c " + GERMAN, encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text(GERMAN, encoding="utf-8")
    (tmp_path / ".git" / "x.txt").write_text(GERMAN, encoding="utf-8")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    results = read(tmp_path)
    assert errors(results) == []
    assert [result.article.name for result in loaded(results)] == ["a.txt", "1.MD", "2.txt", "c.txt"]


def test_folder_without_articles_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    error = only_error(read(tmp_path))
    assert "no article files" in error.reason
    assert "notes.pdf" in error.reason


def test_same_file_twice_is_read_once_and_duplicate_names_warn(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    first = tmp_path / "x" / "same.txt"
    first.write_text(GERMAN, encoding="utf-8")
    (tmp_path / "y" / "same.txt").write_text("Anderer Text. " + GERMAN, encoding="utf-8")
    results = read(first, tmp_path)
    assert len(results) == 2
    second = loaded(results)[1]
    assert any("same name" in warning for warning in second.warnings)


# --------------------------------------------------------------------------- JSON lines


def test_jsonl_good_lines_load_around_bad_ones(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    lines = [
        json.dumps({"text": GERMAN, "url": "https://example.org/1", "title": "T", "date": "2024-12-04"}),
        '{"text": "kaputt"',
        "",
        json.dumps({"title": "no text"}),
        json.dumps({"text": 42}),
        json.dumps(["text"]),
        json.dumps({"text": "   "}),
        json.dumps(
            {"text": "Rutte warned NATO allies.", "date": "2024-02-30", "language": "en-GB", "source": 7}
        ),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = read(path)
    by_line = {result.line: result.reason for result in errors(results)}
    assert set(by_line) == {2, 4, 5, 6, 7}
    assert "not valid JSON" in by_line[2]
    assert 'missing the required field "text"' in by_line[4]
    assert "title" in by_line[4]
    assert "must be a string, got a number" in by_line[5]
    assert "expected a JSON object, got an array" in by_line[6]
    assert "is empty" in by_line[7]
    assert "feed.jsonl:2: not valid JSON" in str(errors(results)[0])

    first, last = loaded(results)
    assert first.article.name == "feed.jsonl:1"
    assert (first.article.url, first.article.title, first.article.date) == (
        "https://example.org/1",
        "T",
        "2024-12-04",
    )
    assert first.article.language == "de"
    assert first.warnings == ()
    assert last.article.name == "feed.jsonl:8"
    assert last.article.language == "en"
    assert last.article.date is None
    assert any('"date" ignored' in warning and "does not exist" in warning for warning in last.warnings)
    assert any('"source" ignored' in warning for warning in last.warnings)


def test_jsonl_limit_applies_per_line(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    short = json.dumps({"text": "Kurz. " + "a" * 50})
    long = json.dumps({"text": "x" * 500})
    path.write_text("\n".join([short, long, short, short]) + "\n", encoding="utf-8")
    assert path.stat().st_size > 200
    results = read(path, max_bytes=200)
    error = only_error(errors(results))
    assert error.line == 2
    assert f"{len(long):,} bytes" in error.reason
    assert "KG_MAX_INPUT_BYTES" in error.reason
    assert [result.article.name for result in loaded(results)] == [
        "feed.jsonl:1",
        "feed.jsonl:3",
        "feed.jsonl:4",
    ]


def test_jsonl_header_in_text_is_removed_and_explicit_date_wins(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(
        json.dumps({"text": f" date 2025-03 {GERMAN}", "date": "2025-03-05"}) + "\n", encoding="utf-8"
    )
    article = only_loaded(read(path)).article
    assert article.text == GERMAN
    assert article.date == "2025-03-05"


def test_jsonl_without_lines_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    assert "no JSON lines" in only_error(read(path)).reason


# --------------------------------------------------------------------------- HTML


def test_html_main_text_without_boilerplate(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(ARTICLE_HTML, encoding="utf-8")
    result = only_loaded(read(path))
    article = result.article
    assert (
        "Die Nato hat Russland Unterstützung für das nordkoreanische Atomprogramm vorgeworfen."
        in article.text
    )
    assert "Moskau und Pjöngjang scharf." in article.text
    for boilerplate in ("Startseite", "Sportnachrichten", "spenden", "Kommentare", "Propaganda", "Impressum"):
        assert boilerplate not in article.text
    assert article.name == "page.html"
    assert article.title == "Nato wirft Russland Unterstützung für Nordkorea vor"
    assert article.date == "2024-12-04"
    assert article.url == "https://example.org/politik/nato-russland-nordkorea"
    assert article.source == "Beispielzeitung"
    assert article.language == "de"
    assert result.warnings == ()


def test_html_date_is_not_guessed_from_the_copyright_line(tmp_path: Path) -> None:
    path = tmp_path / "page.htm"
    html = re.sub(r'<meta property="article:published_time"[^>]*>', "", ARTICLE_HTML)
    path.write_text(html, encoding="utf-8")
    assert only_loaded(read(path)).article.date is None


@pytest.mark.parametrize("label", ["windows-1252", "iso-8859-1"])
def test_html_declared_western_charset_reads_as_windows_1252(tmp_path: Path, label: str) -> None:
    path = tmp_path / "alt.html"
    html = ARTICLE_HTML.replace(
        '<meta charset="utf-8">', f'<meta http-equiv="content-type" content="text/html; charset={label}">'
    ).replace("scharf.", "scharf – so Rutte.")
    path.write_bytes(html.encode("cp1252"))
    result = only_loaded(read(path))
    assert "Außenminister der 32 Mitgliedstaaten" in result.article.text
    assert "scharf – so Rutte." in result.article.text
    assert label in result.warnings[0]


def test_html_without_main_text_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "index.html"
    path.write_text(
        "<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        "<footer>© 2024</footer></body></html>",
        encoding="utf-8",
    )
    error = only_error(read(path))
    assert "no main article text" in error.reason
