"""Token features for the project's own German model: hash embeddings plus Brown clusters.

``kg.ClusterHashEmbed.v1`` is spaCy's ``MultiHashEmbed`` (NORM, PREFIX,
SUFFIX, SHAPE, ...) with three more columns taken from a word's Brown cluster:
the cluster id and two coarser views of its bit path. Clusters group words
that occur in similar contexts in a large unlabelled corpus, so a name the
labelled data never showed (``Selenskyj``, ``Kallas``) still shares features
with the names it did. The table is the German one in spacy-lookups-data
(``lexeme_cluster``), read when a model is trained (kg/train/) and saved with
it, so a trained model carries it and needs no extra package.

Lookup order: the word as written, then lower-cased; 0 when the table does
not know it (its own column value, which the model learns). The table is
held as two sorted arrays in the feature layer's attrs, so it is saved and
loaded with the component's weights (sourcing a component into another
pipeline does not copy vocab lookups tables).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy
from spacy.ml.featureextractor import FeatureExtractor
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import HashEmbed, Maxout, Model, chain, concatenate, list2ragged, ragged2list, with_array
from thinc.types import Floats2d, Ints2d, Ragged

NDArray = numpy.ndarray[Any, numpy.dtype[numpy.uint64]]

#: Feature columns derived from one cluster id (full id, top bits, low bits).
N_CLUSTER_COLUMNS = 3
#: Frequency columns (optional): the word as written, lower-cased.
N_PROB_COLUMNS = 2
_ORTH_LOWER: list[int | str] = ["ORTH", "LOWER"]


def _lookups_table(name: str, what: str) -> Any:
    """The German table `name` of spacy-lookups-data (only training needs the package)."""
    from spacy.lookups import load_lookups

    try:
        return load_lookups("de", [name]).get_table(name)
    except (ValueError, ImportError) as e:
        raise RuntimeError(
            f"{what} come from spacy-lookups-data, which is not installed; "
            "install the training extra: pip install -e '.[train]'"
        ) from e


def _find(keys: NDArray, wanted: NDArray) -> tuple[Any, Any]:
    """(positions in the sorted `keys`, which of `wanted` are there) for a sorted-array lookup."""
    at = numpy.minimum(numpy.searchsorted(keys, wanted), keys.size - 1)
    return at, keys[at] == wanted


def load_cluster_table(n_words: int) -> tuple[NDArray, NDArray]:
    """The `n_words` most frequent words' Brown clusters from spacy-lookups-data, as sorted arrays.

    Returns (keys, values): keys are spaCy string hashes (a token's ORTH or
    LOWER id), sorted; values the cluster ids. Only training needs the
    package (the ``train`` extra); a trained model stores the arrays.
    """
    table = _lookups_table("lexeme_cluster", "the Brown clusters")
    keys = numpy.fromiter(table.keys(), dtype="uint64", count=len(table))
    values = numpy.fromiter(table.values(), dtype="uint64", count=len(table))
    # load_lookups keeps the file's order, most frequent words first
    keys, values = keys[:n_words], values[:n_words]
    order = numpy.argsort(keys)
    return keys[order], values[order]


def load_prob_table(n_words: int) -> tuple[NDArray, NDArray]:
    """The `n_words` most frequent words' frequency buckets from spacy-lookups-data (``lexeme_prob``).

    Returns (keys, values) like `load_cluster_table`: keys are string hashes,
    sorted; a value is the word's negative log-probability rounded (1 = very
    frequent, 25 = rare).
    """
    table = _lookups_table("lexeme_prob", "word frequencies")
    pairs = sorted(table.items(), key=lambda kv: -float(kv[1]))[:n_words]
    keys = numpy.array([k for k, _ in pairs], dtype="uint64")
    values = numpy.array([max(1, min(30, round(-float(v)))) for _, v in pairs], dtype="uint64")
    order = numpy.argsort(keys)
    return keys[order], values[order]


def prob_features(ids: NDArray, keys: NDArray, values: NDArray) -> NDArray:
    """Frequency bucket of each token as written and lower-cased (0: unknown), an (n, 2) array.

    A capitalised word whose lower-case form is frequent is likely a common noun (German capitalises
    every noun); one known only capitalised is likely a name."""
    out = numpy.zeros((ids.shape[0], N_PROB_COLUMNS), dtype="uint64")
    if keys.size == 0 or ids.shape[0] == 0:
        return out
    for column in (0, 1):
        at, hit = _find(keys, ids[:, column])
        out[hit, column] = values[at[hit]] + 3_000_000 + 100 * column
    return out


def cluster_features(ids: NDArray, keys: NDArray, values: NDArray) -> NDArray:
    """Cluster feature columns for tokens given as an (n, 2) array of (ORTH, LOWER) ids."""
    out = numpy.zeros((ids.shape[0], N_CLUSTER_COLUMNS), dtype="uint64")
    if keys.size == 0 or ids.shape[0] == 0:
        return out
    found = numpy.zeros(ids.shape[0], dtype="uint64")
    for column in (1, 0):  # ORTH wins over LOWER: assign LOWER first, then overwrite
        at, hit = _find(keys, ids[:, column])
        found[hit] = values[at[hit]] + 1  # 0 stays "unknown"
    bits = numpy.floor(numpy.log2(numpy.maximum(found, 1))).astype("int64") + 1
    shift = numpy.maximum(bits - 6, 0).astype("uint64")
    out[:, 0] = found
    out[:, 1] = numpy.where(found > 0, (found >> shift) + 1_000_000, 0)
    out[:, 2] = numpy.where(found > 0, (found & numpy.uint64(63)) + 2_000_000, 0)
    return out


def _cluster_feature_model(
    attrs: Sequence[str | int], n_words: int, prob_words: int = 0
) -> Model[list[Doc], list[Ints2d]]:
    lexical = FeatureExtractor(list(attrs))

    def forward(
        model: Model[list[Doc], list[Ints2d]], docs: list[Doc], is_train: bool
    ) -> tuple[list[Ints2d], Callable[[list[Ints2d]], list[Doc]]]:
        keys, values = model.attrs["cluster_keys"], model.attrs["cluster_values"]
        base, _ = lexical(docs, is_train=False)
        features = []
        for b, doc in zip(base, docs, strict=True):
            ids = numpy.asarray(doc.to_array(_ORTH_LOWER), dtype="uint64").reshape(-1, 2)
            parts = [numpy.asarray(b), cluster_features(ids, keys, values)]
            if prob_words > 0:
                parts.append(prob_features(ids, model.attrs["prob_keys"], model.attrs["prob_values"]))
            columns: Any = numpy.hstack(parts)
            features.append(model.ops.asarray2i(columns, dtype="uint64"))
        return features, lambda d_features: []

    def init(model: Model[list[Doc], list[Ints2d]], X: Any = None, Y: Any = None) -> None:
        if model.attrs["cluster_keys"].size == 0 and n_words > 0:
            keys, values = load_cluster_table(n_words)
            model.attrs["cluster_keys"] = keys
            model.attrs["cluster_values"] = values
        if model.attrs["prob_keys"].size == 0 and prob_words > 0:
            keys, values = load_prob_table(prob_words)
            model.attrs["prob_keys"] = keys
            model.attrs["prob_values"] = values

    empty = numpy.zeros(0, dtype="uint64")
    return Model(
        "extract_cluster_features",
        forward,
        init=init,
        layers=[lexical],
        attrs={
            "cluster_keys": empty,
            "cluster_values": empty.copy(),
            "prob_keys": empty.copy(),
            "prob_values": empty.copy(),
        },
    )


@registry.architectures("kg.ClusterHashEmbed.v1")  # type: ignore[untyped-decorator]
def ClusterHashEmbed(
    width: int,
    attrs: list[str],
    rows: list[int],
    cluster_rows: int,
    cluster_words: int,
    mix_pieces: int = 3,
    prob_words: int = 0,
    prob_rows: int = 500,
) -> Model[list[Doc], list[Floats2d]]:
    """Hash embeddings of `attrs` (like spacy.MultiHashEmbed.v2) plus Brown-cluster columns.

    `cluster_words`: how many of the most frequent words' clusters the model
    keeps (read from spacy-lookups-data when the model is initialised for
    training, then saved with the model's weights). `mix_pieces`: the maxout
    pieces of the layer that mixes the columns into one vector (3, as in
    MultiHashEmbed; 2 is a third cheaper). `prob_words` > 0 adds two columns:
    the frequency bucket (spacy-lookups-data ``lexeme_prob``) of the word as
    written and lower-cased, for that many of the most frequent words.
    """
    if len(rows) != len(attrs):
        raise ValueError(
            f"kg.ClusterHashEmbed.v1: {len(attrs)} attrs but {len(rows)} rows; give one row count per attr"
        )
    all_rows = (
        [*rows] + [cluster_rows] * N_CLUSTER_COLUMNS + ([prob_rows] * N_PROB_COLUMNS if prob_words else [])
    )
    embeddings: list[Model[Ints2d, Floats2d]] = [
        HashEmbed(width, n, column=i, seed=8 + i, dropout=0.0) for i, n in enumerate(all_rows)
    ]
    max_out: Model[Ragged, Ragged] = with_array(
        Maxout(width, width * len(embeddings), nP=mix_pieces, dropout=0.0, normalize=True)
    )
    return cast(
        Model[list[Doc], list[Floats2d]],
        chain(
            _cluster_feature_model(attrs, cluster_words, prob_words),
            cast(Model[list[Ints2d], Ragged], list2ragged()),
            with_array(concatenate(*embeddings)),
            max_out,
            ragged2list(),
        ),
    )
