"""Sentence boundaries for news text (component ``kg_sentences``).

News text from files breaks lines at paragraphs, headlines, bylines and
datelines, none of which end in a full stop; so a line break always ends a
sentence. Inside a line a sentence ends at ``.``, ``!`` or ``?`` (and any
closing quotes) followed by white space and a capital letter, a digit or an
opening quote -- except after an abbreviation (``z.B.``, ``Dr.``) or an
ordinal number (``4. Dezember``). Offsets are code points into the text.
"""

from __future__ import annotations

import itertools
import re

import numpy
from spacy.language import Language
from spacy.tokens import Doc

_ABBREVIATIONS = frozenset(
    [
        "z.B",
        "bzw",
        "ca",
        "Dr",
        "Prof",
        "Nr",
        "St",
        "Mio",
        "Mrd",
        "Abs",
        "Art",
        "vgl",
        "ggf",
        "inkl",
        "usw",
        "etc",
        "u.a",
        "o.ä",
        "Jh",
        "Mr",
        "Mrs",
        "Ms",
        "Gen",
        "Oberst",
        "Hr",
        "Fr",
        "Jan",
        "Feb",
        "Mär",
        "Apr",
        "Jun",
        "Jul",
        "Aug",
        "Sep",
        "Sept",
        "Okt",
        "Nov",
        "Dez",
        "No",
        "U.S",
    ]
)
_END = re.compile(r"[.!?…]+[»«\"'”“’)\]]*(?=\s+[\"'„“«»‚(]*[A-ZÄÖÜ0-9])")
_WORD_BEFORE = re.compile(r"(\S+)$")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, white space trimmed, empty ones dropped."""
    spans: list[tuple[int, int]] = []
    line_start = 0
    for line in text.split("\n"):
        cuts = [0]
        for match in _END.finditer(line):
            before = _WORD_BEFORE.search(line[: match.start()])
            word = before.group(1).lstrip("(\"'„“«»") if before else ""
            if word.rstrip(".") in _ABBREVIATIONS or (word.isdigit() and line[match.start()] == "."):
                continue
            if re.fullmatch(r"[A-ZÄÖÜ]", word):  # an initial: "Donald J. Trump"
                continue
            cuts.append(match.end())
        cuts.append(len(line))
        for a, b in itertools.pairwise(cuts):
            chunk = line[a:b]
            stripped = chunk.strip()
            if stripped:
                start = line_start + a + (len(chunk) - len(chunk.lstrip()))
                spans.append((start, start + len(stripped)))
        line_start += len(line) + 1
    return spans


@Language.factory("kg_sentences")
def make_sentences(nlp: Language, name: str) -> SentenceSplitter:
    return SentenceSplitter()


class SentenceSplitter:
    """Set ``token.is_sent_start`` from `split_sentences`."""

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        starts = numpy.fromiter((start for start, _ in split_sentences(doc.text)), dtype="uint64")
        flags = numpy.where(numpy.isin(doc.to_array("IDX"), starts), 1, -1).astype("int64")
        flags[0] = 1
        for i in numpy.flatnonzero(doc.to_array("IS_SPACE")):  # a token after a line break starts one
            if i + 1 < len(doc) and "\n" in doc[int(i)].text:
                flags[i + 1] = 1
        # set through an array: one call instead of a Python loop over every token
        # (spaCy stores -1, "not a start", as uint64 and reads it back as -1)
        doc.from_array(["SENT_START"], flags.astype("uint64").reshape(-1, 1))  # type: ignore[arg-type]
        return doc
