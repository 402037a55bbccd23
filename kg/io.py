"""Reading articles: the only module that opens article files.

`read_articles` turns files and folders into `Article`s, one `Loaded` (the
article and its warnings) or one `InputError` per article, in a stable
order, so a batch never stops at a bad file. Everything after the bytes are
decoded is pure and lives in `kg.metadata`. Decisions (what text is kept,
encodings, dates, language, errors versus warnings):
docs/decisions/0004-input-and-metadata.md.

Formats, by extension (case-insensitive):

- ``.txt``: plain text, with an optional ``date`` header and a dateline.
- ``.md``, ``.markdown``: as text, plus front matter and a ``# heading`` title.
- ``.html``, ``.htm``: the main text and metadata as extracted by trafilatura
  (https://trafilatura.readthedocs.io/en/latest/corefunctions.html),
  without navigation, boxes or comments.
- ``.jsonl``: one article per line, ``{"text": ..., "url"?, "title"?,
  "date"?, "source"?, "language"?}``, named ``file.jsonl:LINE``.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, Final, Literal

from kg.errors import InputError
from kg.metadata import (
    TextMetadata,
    control_char_ratio,
    guess_language,
    normalize_language,
    normalize_text,
    parse_date,
    parse_markdown,
    parse_plain_text,
    resolve_date,
)
from kg.model import Article

Format = Literal["text", "markdown", "html", "jsonl"]

#: The extensions `read_articles` reads, and how.
FORMATS: Final[Mapping[str, Format]] = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".jsonl": "jsonl",
}
_KNOWN: Final = ", ".join(FORMATS)

#: Share of control characters above which decoded bytes are not text.
MAX_CONTROL_RATIO: Final = 0.05
#: A cp1252 reading with more non-ASCII letters than this share of all letters
#: is probably another script (Cyrillic, Greek) and goes to charset-normalizer.
MAX_NON_ASCII_LETTERS: Final = 0.3
#: Fewer words than this extracted from an HTML page is no article.
MIN_HTML_WORDS: Final = 5

_LIMIT_HINT: Final = "set KG_MAX_INPUT_BYTES to raise the limit, or split the file"


@dataclass(frozen=True, slots=True)
class Loaded:
    """An article that was read, with notes on what was odd but not fatal.

    Each warning is one line that names the article (an encoding that was
    guessed, a date that was ignored, a duplicate name).
    """

    article: Article
    warnings: tuple[str, ...] = ()


def read_articles(paths: Sequence[Path], *, max_bytes: int) -> Iterator[Loaded | InputError]:
    """Read every article under `paths`, yielding one result per article.

    Files are read by extension (see `FORMATS`). A folder is searched
    recursively in sorted path order; hidden files and folders (``.name``)
    and files with other extensions are skipped silently, but a folder with
    no article file at all is an `InputError`, as is a file named
    explicitly that has an unknown extension. The same file given twice is
    read once.

    `max_bytes` bounds each file, and each line of a ``.jsonl`` file; files
    are never read past it, and JSON lines are streamed. Problems with one
    file or line become an `InputError` value and the rest still loads.
    """
    seen_files: set[Path] = set()
    seen_names: dict[str, str] = {}
    for path in paths:
        for found in _expand(path):
            if isinstance(found, InputError):
                yield found
                continue
            identity = found.resolve()
            if identity in seen_files:
                continue
            seen_files.add(identity)
            for result in _read_file(found, max_bytes=max_bytes):
                if isinstance(result, Loaded):
                    result = _note_duplicate_name(result, str(found), seen_names)
                yield result


def _note_duplicate_name(loaded: Loaded, origin: str, seen_names: dict[str, str]) -> Loaded:
    name = loaded.article.name
    first = seen_names.setdefault(name, origin)
    if first == origin:
        return loaded
    note = (
        f"{name}: another input ({first}) has the same name; articles are matched to gold files "
        "and reported by name, so rename one of them"
    )
    return replace(loaded, warnings=(*loaded.warnings, note))


# --------------------------------------------------------------------------- finding files


def _expand(path: Path) -> Iterator[Path | InputError]:
    """The article files `path` stands for, or errors saying why there are none."""
    if path.is_dir():
        yield from _walk(path)
    elif path.is_file():
        if path.suffix.lower() in FORMATS:
            yield path
        else:
            yield InputError(
                str(path),
                f"unknown file type {path.suffix or '(no extension)'!r}; expected one of {_KNOWN}. "
                "Rename or convert the file, or leave it out",
            )
    elif path.exists() or path.is_symlink():
        yield InputError(str(path), "not a regular file or folder (a broken link, device or pipe?)")
    else:
        yield InputError(
            str(path),
            f"path does not exist; check the spelling, or give a file ({_KNOWN}) or a folder holding them",
        )


def _walk(folder: Path) -> Iterator[Path | InputError]:
    errors: list[OSError] = []
    found: list[Path] = []
    skipped: list[Path] = []
    for root, dirs, files in os.walk(folder, onerror=errors.append):
        dirs[:] = [name for name in dirs if not name.startswith(".")]
        for name in files:
            if name.startswith("."):
                continue
            file = Path(root, name)
            (found if file.suffix.lower() in FORMATS else skipped).append(file)
    for error in errors:
        yield InputError(
            str(error.filename or folder), f"cannot list folder: {error.strerror}; check its permissions"
        )
    found.sort(key=lambda file: file.relative_to(folder).parts)
    yield from found
    if not found and not errors:
        others = sorted(str(file.relative_to(folder)) for file in skipped)
        listed = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        what = f"skipped {len(others)} other file(s): {listed}" if others else "it is empty"
        yield InputError(
            str(folder),
            f"folder holds no article files ({_KNOWN}); {what}. Point at the folder with the articles",
        )


# --------------------------------------------------------------------------- reading files


def _read_file(path: Path, *, max_bytes: int) -> Iterator[Loaded | InputError]:
    kind = FORMATS[path.suffix.lower()]
    if kind == "jsonl":
        yield from _read_jsonl(path, max_bytes=max_bytes)
        return
    try:
        data = _read_bytes(path, max_bytes=max_bytes)
        text, encoding_note = _decode(data, html=kind == "html", source=str(path))
    except InputError as e:
        yield e
        return
    warnings = [f"{path.name}: {encoding_note}"] if encoding_note else []
    if not text.strip():
        yield InputError(str(path), "file holds only whitespace; expected article text")
        return
    try:
        if kind == "html":
            parsed = _parse_html(text, source=str(path))
        elif kind == "markdown":
            parsed = parse_markdown(text)
        else:
            parsed = parse_plain_text(text)
    except InputError as e:
        yield e
        return
    if not parsed.text.strip():
        yield InputError(
            str(path), "file holds only metadata (a date header or front matter), no article text"
        )
        return
    warnings.extend(f"{path.name}: {note}" for note in parsed.warnings)
    yield Loaded(_article(parsed, name=path.name), tuple(warnings))


def _read_bytes(path: Path, *, max_bytes: int) -> bytes:
    """The whole file, refused before reading when it is empty or over `max_bytes`."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(str(path), _too_big(size, max_bytes, what="file"))
        if size == 0:
            raise InputError(str(path), "file is empty; expected article text")
        with path.open("rb") as file:
            data = file.read(max_bytes + 1)
    except OSError as e:
        raise InputError(str(path), f"cannot read file: {e.strerror}; check that it is readable") from e
    if len(data) > max_bytes:  # it grew after stat
        raise InputError(str(path), _too_big(len(data), max_bytes, what="file"))
    return data


def _too_big(size: int, max_bytes: int, *, what: str) -> str:
    return f"{what} is {size:,} bytes, over the limit of {max_bytes:,} bytes; {_LIMIT_HINT}"


_UTF32_BOMS: Final = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"))
_UTF16_BOMS: Final = ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_WINDOWS_1252_ALIASES: Final = frozenset({"latin-1", "iso8859-1", "ascii", "cp1252"})
_META_CHARSET_RE: Final = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)


def _decode(data: bytes, *, html: bool = False, source: str = "file") -> tuple[str, str | None]:
    """Decode bytes to text; the second value is a note when it was not UTF-8.

    Order: a UTF-32/16 byte-order mark; NUL bytes mean binary; strict UTF-8
    (a UTF-8 BOM is fine); the charset an HTML page declares; strict
    Windows-1252 when the result looks like Western text; charset-normalizer's
    best guess; Latin-1, which decodes anything. Raises InputError for
    binary data. `source` is the name used in that error.
    """
    for bom, codec in (*_UTF32_BOMS, *_UTF16_BOMS):
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                break
            return _checked(text, source), f"not UTF-8; decoded as {codec.upper()} (byte-order mark)"
    if b"\x00" in data:
        raise InputError(
            source, "binary data (NUL bytes), not text; expected a UTF-8 or Windows-1252 text file"
        )
    try:
        return _checked(data.decode("utf-8-sig"), source), None
    except UnicodeDecodeError:
        pass
    if html:
        declared = _META_CHARSET_RE.search(data[:4096])
        if declared is not None:
            label = declared.group(1).decode("ascii")
            try:
                codec = codecs.lookup(label).name
                # WHATWG Encoding: the labels latin1, iso-8859-1 and ascii mean windows-1252
                # (https://encoding.spec.whatwg.org/#names-and-labels).
                text = data.decode("cp1252" if codec in _WINDOWS_1252_ALIASES else codec)
            except (LookupError, UnicodeDecodeError):
                pass
            else:
                return _checked(text, source), f"not UTF-8; decoded as {label}, the charset the page declares"
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        pass
    else:
        if _looks_western(text):
            return _checked(text, source), _fallback_note("Windows-1252 (cp1252)")
    import charset_normalizer  # only needed for the rare non-Western file

    best = charset_normalizer.from_bytes(data).best()
    if best is not None:
        return _checked(str(best), source), _fallback_note(f"{best.encoding} (guessed by charset-normalizer)")
    return _checked(data.decode("latin-1"), source), _fallback_note("Latin-1 (ISO-8859-1)")


def _fallback_note(encoding: str) -> str:
    return f"not UTF-8; decoded as {encoding}. Check umlauts and quotes, or re-save the file as UTF-8"


def _looks_western(text: str) -> bool:
    letters = [char for char in text if char.isalpha()]
    if not letters:
        return True
    non_ascii = sum(1 for char in letters if not char.isascii())
    return non_ascii <= MAX_NON_ASCII_LETTERS * len(letters)


def _checked(text: str, source: str) -> str:
    ratio = control_char_ratio(text)
    if ratio > MAX_CONTROL_RATIO:
        raise InputError(
            source, f"binary data ({ratio:.0%} control characters), not text; expected a text file"
        )
    return text


# --------------------------------------------------------------------------- HTML

_HTML_LANG_RE: Final = re.compile(
    r"""<html\b[^>]*?\blang\s*=\s*["']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)*)""", re.I
)
#: htmldate's extensive search guesses from copyright lines and free text
#: (a footer's "© 2024" becomes 2024-01-01); only dates the page states as
#: its own are wanted.
_DATE_PARAMS: Final[Mapping[str, Any]] = {"original_date": True, "extensive_search": False}


def _parse_html(html: str, *, source: str) -> TextMetadata:
    """Main text and metadata of a web page, via trafilatura; InputError when there is no article."""
    try:
        import trafilatura  # heavy (lxml), only needed for HTML input
    except ImportError as e:
        raise InputError(
            source,
            f"cannot read HTML: trafilatura does not import ({e}); "
            "install it with `pip install trafilatura lxml_html_clean`",
        ) from e
    try:
        document = trafilatura.bare_extraction(
            html,
            with_metadata=True,
            include_comments=False,
            date_extraction_params=dict(_DATE_PARAMS),
        )
    # A parser failure on one page must not end the batch; it is reported for this file.
    except Exception as e:
        raise InputError(source, f"HTML could not be parsed ({type(e).__name__}: {e})") from e
    body = getattr(document, "text", None) if document is not None else None
    text = normalize_text(body) if isinstance(body, str) else ""
    if len(text.split()) < MIN_HTML_WORDS:
        found = f"only {text.strip()[:60]!r}" if text.strip() else "nothing"
        raise InputError(
            source,
            f"no main article text found in the HTML (extracted {found}); "
            "expected an article page, not an index, login or consent page",
        )

    warnings: list[str] = []
    raw_date = getattr(document, "date", None)
    page_date = raw_date if isinstance(raw_date, str) and raw_date else None
    date = resolve_date((("page", page_date),), text, warnings)

    guessed = guess_language(text)
    declared: str | None = None
    lang_match = _HTML_LANG_RE.search(html[:4096])
    raw_language = getattr(document, "language", None) or (lang_match.group(1) if lang_match else None)
    if isinstance(raw_language, str):
        try:
            declared = normalize_language(raw_language)
        except ValueError:
            declared = None
    if declared is not None and guessed is not None and declared != guessed:
        warnings.append(
            f"page declares language {declared!r} but its text reads as {guessed!r}; using {guessed!r}"
        )

    return TextMetadata(
        text=text,
        title=_str_or_none(getattr(document, "title", None)),
        date=date,
        url=_str_or_none(getattr(document, "url", None)),
        source=_str_or_none(getattr(document, "sitename", None))
        or _str_or_none(getattr(document, "hostname", None)),
        language=guessed or declared,
        warnings=tuple(warnings),
    )


def _str_or_none(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


# --------------------------------------------------------------------------- JSON lines

_OPTIONAL_FIELDS: Final = ("url", "title", "date", "source", "language")


def _read_jsonl(path: Path, *, max_bytes: int) -> Iterator[Loaded | InputError]:
    """One result per non-blank line; the file is streamed, the limit holds per line."""
    source = str(path)
    try:
        file = path.open("rb")
    except OSError as e:
        yield InputError(source, f"cannot read file: {e.strerror}; check that it is readable")
        return
    with file:
        if b"\x00" in file.read(8192):
            yield InputError(
                source, "binary data (NUL bytes), not JSON lines; expected one JSON object per line"
            )
            return
        file.seek(0)
        records = 0
        for number, line in _lines(file, max_bytes=max_bytes):
            if isinstance(line, int):
                records += 1
                yield InputError(source, _too_big(line, max_bytes, what="line"), line=number)
            elif line.strip():
                records += 1
                yield _json_article(line, path=path, number=number)
    if records == 0:
        yield InputError(
            source, 'file holds no JSON lines; expected one object per line like {"text": "..."}'
        )


def _lines(file: BinaryIO, *, max_bytes: int) -> Iterator[tuple[int, bytes | int]]:
    """(line number, content without the line break) or (line number, size) for a line over the limit."""
    number = 0
    while True:
        chunk = file.readline(max_bytes + 2)  # the content plus "\r\n"
        if not chunk:
            return
        number += 1
        if not chunk.endswith(b"\n") and len(chunk) == max_bytes + 2:
            size = len(chunk)
            while rest := file.readline(1 << 20):  # skip the rest of the line without keeping it
                if rest.endswith(b"\n"):
                    size += len(rest) - 1
                    break
                size += len(rest)
            yield number, size
            continue
        content = chunk.removesuffix(b"\n").removesuffix(b"\r")
        yield number, (content if len(content) <= max_bytes else len(content))


def _json_article(line: bytes, *, path: Path, number: int) -> Loaded | InputError:
    source = str(path)
    name = f"{path.name}:{number}"
    try:
        decoded, encoding_note = _decode(line, source=source)
    except InputError as e:
        return InputError(source, e.reason, line=number)
    try:
        record = json.loads(decoded)
    except json.JSONDecodeError as e:
        return InputError(
            source,
            f"not valid JSON ({e.msg} at column {e.colno}); expected one object per line like "
            '{"text": "...", "url": "..."}',
            line=number,
        )
    if not isinstance(record, dict):
        return InputError(source, f"expected a JSON object, got {_json_type(record)}", line=number)
    if "text" not in record:
        present = ", ".join(sorted(map(str, record))) or "none"
        return InputError(
            source, f'missing the required field "text" (fields present: {present})', line=number
        )
    text = record["text"]
    if not isinstance(text, str):
        return InputError(source, f'field "text" must be a string, got {_json_type(text)}', line=number)
    if not text.strip():
        return InputError(source, 'field "text" is empty; expected the article text', line=number)

    warnings = [f"{name}: {encoding_note}"] if encoding_note else []
    fields: dict[str, str] = {}
    for field in _OPTIONAL_FIELDS:
        value = record.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            warnings.append(f'{name}: field "{field}" ignored: expected a string, got {_json_type(value)}')
        elif value.strip():
            fields[field] = value.strip()

    loaded = article_from_fields(text, fields, name=name, source=source, line=number)
    if isinstance(loaded, InputError):
        return loaded
    return Loaded(loaded.article, (*warnings, *loaded.warnings))


def article_from_fields(
    text: str, fields: Mapping[str, str], *, name: str, source: str, line: int | None = None
) -> Loaded | InputError:
    """An article from its text and optional string fields (date, language, url, title, source).

    What a JSON line and the service's ingestion both give: the text is read
    like a plain-text file (a date header, a dateline), then the fields
    override it; a date or language that does not parse is ignored with a
    warning, never guessed.
    """
    warnings: list[str] = []
    parsed = parse_plain_text(text)
    if not parsed.text.strip():
        return InputError(source, 'field "text" holds only a date header, no article text', line=line)
    warnings.extend(f"{name}: {note}" for note in parsed.warnings)
    if fields.get("date"):
        try:
            parsed = replace(parsed, date=parse_date(fields["date"]))
        except ValueError as e:
            warnings.append(f'{name}: field "date" ignored: {e}')
    if fields.get("language"):
        try:
            parsed = replace(parsed, language=normalize_language(fields["language"]))
        except ValueError as e:
            warnings.append(f'{name}: field "language" ignored: {e}')
    parsed = replace(
        parsed,
        url=fields.get("url") or parsed.url,
        title=fields.get("title") or parsed.title,
        source=fields.get("source") or parsed.source,
    )
    return Loaded(_article(parsed, name=name), tuple(warnings))


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if value is None:
        return "null"
    return "a string"


def _article(parsed: TextMetadata, *, name: str) -> Article:
    return Article(
        text=parsed.text,
        name=name,
        url=parsed.url,
        title=parsed.title,
        date=parsed.date,
        source=parsed.source,
        language=parsed.language,
    )
