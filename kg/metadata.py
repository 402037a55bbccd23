"""Pure text handling for incoming articles: normalisation, metadata, language.

Nothing here reads files; `kg.io` decodes bytes and calls these functions.
The one rule that matters downstream: every evidence offset in the system is
an index into `Article.text`, so the text these functions return is exactly
what is analysed and stored. Normalisation (`normalize_text`) and the removal
of a leading metadata block (a ``date 2025-03`` header or Markdown front
matter) are the only changes; datelines, headings and everything else stay
verbatim. See docs/decisions/0004-input-and-metadata.md.

Dates are ISO 8601 prefixes as precise as the source is (``2024``,
``2024-06``, ``2024-12-04``, ``2024-12-04T18:49``); `parse_date` refuses
impossible ones (``2024-02-30``, ``2024-13``, ``25:00``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date as _date
from typing import Final, Literal

Language = Literal["de", "en"]

#: The earliest and latest year a news article's date may have; anything
#: outside is a typo or a misparsed number, not a date.
MIN_YEAR: Final = 1900
MAX_YEAR: Final = 2100

#: How many lines from the top `find_dateline` looks at.
DATELINE_LINES: Final = 15


@dataclass(frozen=True, slots=True)
class TextMetadata:
    """The text an article keeps and the metadata found in (or removed from) it.

    `warnings` are human-readable notes on metadata that was present but
    unusable (an impossible date, say); they never stop the article.
    """

    text: str
    title: str | None = None
    date: str | None = None
    url: str | None = None
    source: str | None = None
    language: str | None = None
    warnings: tuple[str, ...] = ()


# --------------------------------------------------------------------------- text


#: Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F; \n and \t stay.
_CONTROL_RE: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def normalize_text(text: str) -> str:
    """Return `text` as the builder stores it.

    Strips a leading byte-order mark, turns ``\\r\\n`` and lone ``\\r`` into
    ``\\n``, drops control characters (Unicode category Cc: C0 and C1) other
    than ``\\n`` and ``\\t``, and composes to Unicode NFC, so ``u`` + combining
    diaeresis and ``ü`` are the same string. Linear in the length of the text.
    """
    text = text.removeprefix("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL_RE.sub("", text)
    return unicodedata.normalize("NFC", text)


def control_char_ratio(text: str) -> float:
    """Share of characters in `text` that are control characters other than whitespace.

    `kg.io` uses it to tell a binary file that happens to decode from text.
    """
    if not text:
        return 0.0
    controls = sum(1 for char in text if char not in "\n\r\t\f" and unicodedata.category(char) == "Cc")
    return controls / len(text)


# --------------------------------------------------------------------------- dates

_MONTHS: Final[Mapping[str, int]] = {
    # German
    "januar": 1,
    "jänner": 1,
    "februar": 2,
    "feber": 2,
    "märz": 3,
    "maerz": 3,
    "april": 4,
    "mai": 5,
    "juni": 6,
    "juli": 7,
    "august": 8,
    "september": 9,
    "oktober": 10,
    "november": 11,
    "dezember": 12,
    "jan": 1,
    "feb": 2,
    "mär": 3,
    "mrz": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "okt": 10,
    "nov": 11,
    "dez": 12,
    # English (the abbreviations above serve both where they agree)
    "january": 1,
    "february": 2,
    "march": 3,
    "may": 5,
    "june": 6,
    "july": 7,
    "october": 10,
    "december": 12,
    "mar": 3,
    "oct": 10,
    "dec": 12,
}
_MONTH_ALT: Final = "|".join(sorted(_MONTHS, key=len, reverse=True))

_TIME: Final = r"(?:,?\s*(?:um|at|-|–|\|)?\s*(?P<H>\d{1,2})[:.](?P<M>\d{2})(?:\s*Uhr)?)?"
_ISO: Final = (
    r"(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:[T ](?P<H>\d{2}):(?P<M>\d{2})(?::\d{2}(?:\.\d+)?)?[ ]?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?"
)
_DOTTED: Final = r"(?P<d>\d{1,2})\.\s?(?P<m>\d{1,2})\.\s?(?P<y>\d{4})" + _TIME
_DAY_MONTH: Final = rf"(?:(?P<d>\d{{1,2}})\.?\s+)?(?P<mon>{_MONTH_ALT})\.?\s+(?P<y>\d{{4}})" + _TIME
_MONTH_DAY: Final = rf"(?P<mon>{_MONTH_ALT})\.?\s+(?P<d>\d{{1,2}}),?\s+(?P<y>\d{{4}})" + _TIME

_DATE_PATTERNS: Final = tuple(
    re.compile(pattern, re.IGNORECASE) for pattern in (_ISO, _DOTTED, _DAY_MONTH, _MONTH_DAY)
)


def _from_match(match: re.Match[str], original: str) -> str:
    groups = match.groupdict()
    year = int(groups["y"])
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"date {original!r} has year {year}; expected a year from {MIN_YEAR} to {MAX_YEAR}")
    mon = groups.get("mon")
    month_text = groups.get("m")
    if mon is not None:
        month: int | None = _MONTHS[mon.lower()]
    else:
        month = int(month_text) if month_text is not None else None
    day = int(groups["d"]) if groups.get("d") is not None else None
    if month is None:
        return f"{year:04d}"
    if not 1 <= month <= 12:
        raise ValueError(f"date {original!r} has month {month}; expected 1 to 12")
    if day is None:
        return f"{year:04d}-{month:02d}"
    try:
        _date(year, month, day)
    except ValueError as e:
        raise ValueError(f"date {original!r} does not exist ({e})") from e
    iso = f"{year:04d}-{month:02d}-{day:02d}"
    if groups.get("H") is None:
        return iso
    hour, minute = int(groups["H"]), int(groups["M"])
    if hour > 23 or minute > 59:
        raise ValueError(f"date {original!r} has time {hour}:{minute:02d}; expected 00:00 to 23:59")
    return f"{iso}T{hour:02d}:{minute:02d}"


def parse_date(value: str) -> str:
    """Normalise a date to the ISO 8601 prefix its source supports.

    Accepts ISO prefixes (``2024``, ``2024-06``, ``2024-12-04``,
    ``2024-12-04T18:49:00+01:00``), German numeric dates
    (``04.12.2024, 18:49 Uhr``) and German or English month names
    (``4. Dezember 2024``, ``December 4, 2024``, ``Juni 2024``). Seconds and
    time zones are dropped: the result keeps the wall-clock minute as
    written, the finest precision `Article.date` records.

    Raises ValueError saying what was received and expected when the value
    is not a date or is an impossible one.
    """
    stripped = value.strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(stripped)
        if match is not None:
            return _from_match(match, stripped)
    raise ValueError(
        f"cannot read {value!r} as a date; expected e.g. 2024-12-04, 2024-12-04T18:49, "
        "04.12.2024, 18:49 or 4. Dezember 2024"
    )


_WEEKDAYS: Final = (
    "montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonnabend|sonntag|"
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    "mo|di|mi|do|fr|sa|so|mon|tue|wed|thu|fri|sat|sun"
)
_DATELINE_PREFIX: Final = (
    r"(?:(?:stand|aktualisiert|veröffentlicht|erstellt|zuletzt aktualisiert|published|updated|posted)"
    r"(?:\s+(?:am|on))?\s*:?\s*)?"
    rf"(?:(?:{_WEEKDAYS})\.?,?\s+)?"
)
_DATELINES: Final = tuple(
    re.compile(_DATELINE_PREFIX + rf"(?P<date>{pattern})\s*(?:Uhr)?\s*[.,;|·]?", re.IGNORECASE)
    for pattern in (_DOTTED, _DAY_MONTH, _MONTH_DAY)
)


def find_dateline(text: str, *, max_lines: int = DATELINE_LINES) -> str | None:
    """The date of the first dateline among the first `max_lines` lines, or None.

    A dateline is a line that holds a date and nothing else but filler
    (``Stand:``, a weekday, ``Uhr``): ``04.12.2024, 18:49``, ``10.11.2024``,
    ``Mittwoch, 4. Dezember 2024``. A date inside a sentence is not a
    dateline. Impossible dates are skipped. The first one wins: bylines put
    the publication date first and later stamps are usually updates.
    """
    for line in text.split("\n", max_lines)[:max_lines]:
        stripped = line.strip()
        if not stripped or len(stripped) > 80:
            continue
        for pattern in _DATELINES:
            match = pattern.fullmatch(stripped)
            if match is None:
                continue
            try:
                return _from_match(match, match.group("date"))
            except ValueError:
                break
    return None


# --------------------------------------------------------------------------- headers

_HEADER_RE: Final = re.compile(
    r"\A[ \t]*(?:date|datum)[ \t]*[:=]?[ \t]*"
    r"(?P<value>\d{4}(?:-\d{2}(?:-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?)?)?"
    r"|\d{1,2}\.\d{1,2}\.\d{4}(?:,?[ \t]*\d{1,2}:\d{2})?)"
    r"(?:[ \t]+|(?=\n)|\Z)",
    re.IGNORECASE,
)


def split_header(text: str) -> tuple[str | None, str]:
    """Split a leading ``date 2025-03`` / ``date: 2024-12-04`` header off `text`.

    Returns the raw header value (not yet validated; see `parse_date`) and
    the text without it. The header may share its line with the first
    sentence (`` date 2025-03 NATO-Generalsekretär ...``): only the header
    token and the blanks after it go. A header on a line of its own goes
    with its line break and any blank lines after it. Without a header,
    returns ``(None, text)`` unchanged.
    """
    match = _HEADER_RE.match(text)
    if match is None:
        return None, text
    return match.group("value"), _drop_leading_blank_lines(text[match.end() :])


def _drop_leading_blank_lines(text: str) -> str:
    """Drop the blank lines that separated a removed metadata block from the body."""
    index = 0
    while True:
        newline = text.find("\n", index)
        if newline == -1 or text[index:newline].strip(" \t"):
            return text[index:]
        index = newline + 1


_FRONT_MATTER_RE: Final = re.compile(
    r"\A---[ \t]*\n(?P<body>.*?\n)??(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL
)
#: A line front matter may hold: ``key: value``, a list item, a comment, an indented continuation.
_FRONT_MATTER_LINE_RE: Final = re.compile(r"[A-Za-z_][\w-]*[ \t]*:.*|[ \t]+.*|-[ \t].*|#.*|[ \t]*")
_FRONT_MATTER_KEYS: Final[Mapping[str, str]] = {
    "title": "title",
    "date": "date",
    "published": "date",
    "pubdate": "date",
    "url": "url",
    "link": "url",
    "source": "source",
    "sitename": "source",
    "site": "source",
    "publisher": "source",
    "language": "language",
    "lang": "language",
}


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split YAML-like front matter (``---\\nkey: value\\n---``) off a Markdown text.

    Reads only flat ``key: value`` lines (quotes around a value are
    removed); nested YAML, lists and comments are ignored, so no YAML
    library is needed. Keys are mapped to `Article` fields (``lang`` ->
    ``language``, ``sitename`` -> ``source`` ...); unknown keys are dropped.
    Without front matter, returns ``({}, text)`` unchanged.
    """
    match = _FRONT_MATTER_RE.match(text)
    if match is None:
        return {}, text
    lines = (match.group("body") or "").split("\n")
    if not all(_FRONT_MATTER_LINE_RE.fullmatch(line) for line in lines):
        return {}, text  # a thematic break (---) opening the text, not front matter
    fields: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition(":")
        field = _FRONT_MATTER_KEYS.get(key.strip().lower())
        if not sep or field is None or line[:1] in " \t#":
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        if value and field not in fields:
            fields[field] = value
    return fields, _drop_leading_blank_lines(text[match.end() :])


_HEADING_RE: Final = re.compile(r"^[ ]{0,3}#[ \t]+(?P<title>.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)


def markdown_title(text: str) -> str | None:
    """The text of the first level-1 ATX heading (``# Title``), or None."""
    match = _HEADING_RE.search(text)
    return match.group("title").strip() if match else None


# --------------------------------------------------------------------------- language


#: Frequent function words that are (nearly) exclusive to one language.
#: Left out on purpose: words common to both (``in``, ``was``, ``will``,
#: ``an``, ``so``, ``also``).
def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_FUNCTION_WORDS: Final[Mapping[Language, frozenset[str]]] = {
    "de": _word_set(
        "der die das den dem des und ist nicht mit von ein eine einer einen eines zu auf für sich auch "
        "es sie wir ich hat wird sind werden wurde nach bei aus über dass noch wie oder aber um nur "
        "sagte seine ihre vor dieser diese im vom zum zur gegen"
    ),
    "en": _word_set(
        "the and of to is that with for on are it be by this from have has not which were they their "
        "said would been at or but its he she who after against about than these there"
    ),
}
_WORD_RE: Final = re.compile(r"[^\W\d_]+")

#: How much text `guess_language` reads; the first few thousand words decide.
LANGUAGE_SAMPLE_CHARS: Final = 20_000
#: Fewer function-word hits than this and the guess is None.
LANGUAGE_MIN_HITS: Final = 3
#: The winning language needs this many times the hits of the other.
LANGUAGE_MIN_RATIO: Final = 2.0


def guess_language(text: str) -> Language | None:
    """Guess ``de`` or ``en`` from function-word frequencies, or None.

    Counts the words of the first `LANGUAGE_SAMPLE_CHARS` characters that
    are in the German or the English list above. The language with at
    least `LANGUAGE_MIN_RATIO` times the other's hits (and at least
    `LANGUAGE_MIN_HITS` hits) wins; text that is too short, in another
    language or evenly mixed gets None. Pure and linear: no model, no
    download, microseconds per article.
    """
    counts: dict[Language, int] = {"de": 0, "en": 0}
    for word in _WORD_RE.findall(text[:LANGUAGE_SAMPLE_CHARS].lower()):
        for language, words in _FUNCTION_WORDS.items():
            if word in words:
                counts[language] += 1
    de, en = counts["de"], counts["en"]
    if max(de, en) < LANGUAGE_MIN_HITS:
        return None
    if de >= LANGUAGE_MIN_RATIO * en:
        return "de"
    if en >= LANGUAGE_MIN_RATIO * de:
        return "en"
    return None


_LANGUAGE_TAG_RE: Final = re.compile(r"(?P<primary>[A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*")


def normalize_language(value: str) -> str:
    """The primary subtag of a BCP 47 language tag, lower-cased: ``de-DE`` -> ``de``.

    Raises ValueError when `value` is not a language tag.
    """
    match = _LANGUAGE_TAG_RE.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"cannot read {value!r} as a language; expected a code like de, en or de-DE")
    return match.group("primary").lower()


# --------------------------------------------------------------------------- whole texts


def parse_plain_text(text: str) -> TextMetadata:
    """Normalise a plain-text article and read its metadata.

    Removes a leading ``date`` header (its value becomes the date); without
    a usable header the first dateline gives the date. The language is
    guessed from the text. Everything but the header stays verbatim.
    """
    return _parse(normalize_text(text), fields={})


def parse_markdown(text: str) -> TextMetadata:
    """Like `parse_plain_text`, plus front matter and a ``# heading`` title.

    Front matter is removed from the text and its fields win over what the
    text says; the first level-1 heading gives the title when the front
    matter has none (the heading stays in the text).
    """
    fields, body = split_front_matter(normalize_text(text))
    parsed = _parse(body, fields=fields)
    if parsed.title is None:
        title = markdown_title(parsed.text)
        if title is not None:
            return replace(parsed, title=title)
    return parsed


def resolve_date(candidates: Iterable[tuple[str, str | None]], text: str, warnings: list[str]) -> str | None:
    """The first candidate date that parses, else the text's dateline.

    `candidates` are (origin, raw value) in order of trust; a value that does
    not parse adds "<origin> date ignored: ..." to `warnings`.
    """
    for origin, raw in candidates:
        if raw is None:
            continue
        try:
            return parse_date(raw)
        except ValueError as e:
            warnings.append(f"{origin} date ignored: {e}")
    return find_dateline(text)


def _parse(text: str, *, fields: Mapping[str, str]) -> TextMetadata:
    warnings: list[str] = []
    header, text = split_header(text)

    date = resolve_date((("front matter", fields.get("date")), ("header", header)), text, warnings)

    language: str | None = None
    if "language" in fields:
        try:
            language = normalize_language(fields["language"])
        except ValueError as e:
            warnings.append(f"front matter language ignored: {e}")
    if language is None:
        language = guess_language(text)

    return TextMetadata(
        text=text,
        title=fields.get("title"),
        date=date,
        url=fields.get("url"),
        source=fields.get("source"),
        language=language,
        warnings=tuple(warnings),
    )
