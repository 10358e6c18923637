"""Frozen settings objects, passed explicitly; only entry points read the environment."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Mode = Literal["dense", "bm25", "hybrid"]
MODES: tuple[Mode, ...] = ("dense", "bm25", "hybrid")

#: What the second stage (:mod:`qa.rerank`) can weigh, per candidate: the first stage's fused
#: score, the question's dense cosine and BM25 score (0 when BM25 did not propose it), and its
#: MaxSim. A follow-up is searched as its resolved question; the ``_own`` features score the
#: visitor's own words alone ("can it be taken as a pill"), which the earlier topic otherwise
#: outweighs. For a question without history they equal their plain counterparts.
FEATURES = ("fused", "dense", "bm25", "maxsim", "dense_own", "maxsim_own", "example", "example_own")


@dataclass(frozen=True)
class CorpusSettings:
    """How corpus files are read and which page furniture is dropped.

    ``extra_furniture`` adds regular expressions (matched against a whole stripped line,
    case-insensitive) to the built-in list in :mod:`qa.documents`. ``titles`` gives
    (source, title) pairs that replace the recovered title, for documents that have no title
    line (see :data:`CORPUS_TITLES_FILE`).
    """

    extensions: tuple[str, ...] = (".txt", ".md")
    extra_furniture: tuple[str, ...] = ()
    titles: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PassageSettings:
    """How documents are cut into passages: whole sentences, about ``min_words``..``max_words``."""

    min_words: int = 30
    max_words: int = 120

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class IndexSettings:
    """Which FAISS index holds the vectors: exact inner product, or HNSW for large corpora; and
    whether each passage's token vectors are kept for the re-ranker (:mod:`qa.rerank`), about
    0.1 MB per passage: turn them off for millions of passages."""

    kind: Literal["flat", "hnsw"] = "flat"
    hnsw_m: int = 32
    hnsw_ef_construction: int = 200
    hnsw_ef_search: int = 128
    token_vectors: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SearchSettings:
    """How a question is answered.

    ``candidate_depth`` is how many hits each retriever contributes before fusion; it is kept
    apart from ``k``, the number of passages shown. The first ``rerank_depth`` fused candidates
    are re-ranked by ``z(fused) + rerank_weight * z(MaxSim)`` (:mod:`qa.rerank`); the weight 1
    gives both signals equal say, chosen before any tuning, and was then checked on NFCorpus and
    the question set (README, Quality). ``rerank_features``, when given, replaces that sum by
    weights learned from labelled questions for each feature of :data:`FEATURES`
    (``qa eval fit``; :mod:`qa.learn`). ``abstain_threshold`` is a cosine similarity
    between the question and a passage (calibrated on the labelled question set, see
    ``qa eval --sweep``): passages under it do not count as answering the question, unless
    the question is almost one of the passage's example questions (``example_match``).
    """

    k: int = 5
    mode: Mode = "hybrid"
    candidate_depth: int = 50
    fusion: Literal["rrf", "convex"] = "rrf"
    rrf_k: int = 60
    alpha: float = 0.5  # weight of the dense scores in convex fusion
    hubness_weight: float = 0.0  # CSLS-style correction of dense scores in hybrid modes
    rerank_weight: float = 1.0  # late-interaction (MaxSim) second stage in hybrid mode; 0 = off
    rerank_depth: int = 20  # how many fused candidates the second stage reorders
    #: The passages whose example questions (:mod:`qa.examples`) come closest to the question
    #: join the re-ranked candidates, this many of them, when fusion left them out.
    example_candidates: int = 3
    #: MaxSim weighs each query token by its rarity among the passages (idf), so "staff" counts
    #: for more than "the" or "can i" (:class:`qa.rerank.TokenRarity`); False: all alike.
    maxsim_idf: bool = True
    #: Learned weights of the second stage, (feature, weight) pairs, used in place of the fixed
    #: sum above (``rerank_weight`` 0 still turns the stage off). In a settings file, an object:
    #: {"fused": 0.39, "maxsim": 0.56, ...}.
    rerank_features: tuple[tuple[str, float], ...] = ()
    correct_typos: bool = True  # BM25 also searches an unknown word's one-edit correction
    #: Misspelt words are corrected to corpus words before anything is searched ("side
    #: efects" -> "side effects"); real English words are left alone (:mod:`qa.spelling`).
    correct_spelling: bool = True
    abstain_threshold: float = 0.27
    #: A question this close (cosine) to one of a passage's example questions clears that
    #: passage whatever its own cosine: the example says the passage answers it (README,
    #: Staff). 1: only the very question. Of the default corpus's labelled questions that
    #: the articles do not cover, off-topic ones come within 0.48 of an example on their own
    #: and 0.79 as follow-ups (searched with the earlier question; the new-topic check
    #: abstains on those), near-domain ones within 0.98.
    example_match: float = 0.8
    #: A word of the question the corpus never uses is named in a caution above the passages
    #: when no passage token shown comes this close to it (cosine; :mod:`qa.coverage`).
    caution_threshold: float = 0.30
    duplicate_threshold: float = 0.95
    max_query_chars: int = 2000
    resolve_followups: bool = True
    #: A resolved follow-up is searched with the visitor's own words counted twice, so "how is
    #: it given?" after an addiction question finds how ketamine is given (README, Follow-ups).
    emphasise_followups: bool = True
    #: A question that names no subject ("will the staff keep an eye on me during the
    #: session?") scores under the threshold on its own words; when it would abstain it is read
    #: as a question about the corpus's ``subject`` and answered so, if reading it that way
    #: brings it at least ``subject_lift`` (cosine) closer to some passage than the subject
    #: alone comes (README, Abstention). Off-topic questions gain nothing from the subject.
    read_as_subject: bool = True
    #: The corpus's subject ("ketamine"); empty: the word most document titles share
    #: (:func:`qa.followup.shared_title_words`), none when no word is in half of them.
    subject: str = ""
    subject_lift: float = 0.075

    def __post_init__(self) -> None:
        """Values outside their range are input errors, not a bot that silently never answers
        (a threshold of 2) or ranks nothing (a depth of 0)."""
        from qa.errors import InputError

        bounds: dict[str, tuple[float, float]] = {
            "k": (1, 1000),
            "candidate_depth": (1, 100_000),
            "rrf_k": (0, 1e6),
            "alpha": (0, 1),
            "hubness_weight": (0, 1e6),
            "rerank_weight": (0, 1e6),  # very large: the second stage alone orders the head
            "rerank_depth": (1, 1000),
            "example_candidates": (0, 1000),
            "abstain_threshold": (-1, 1),  # a cosine
            "caution_threshold": (-1, 1),  # a cosine too
            "example_match": (0, 1),  # a cosine of two questions
            "subject_lift": (-2, 2),  # a difference of cosines
            "duplicate_threshold": (0, 1),
            "max_query_chars": (10, 1_000_000),
        }
        for name, (low, high) in bounds.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise InputError(f"{name} must be between {low:g} and {high:g}, not {value!r}")
        for feature, weight in self.rerank_features:
            if feature not in FEATURES:
                raise InputError(
                    f"rerank_features: unknown feature {feature!r}; known: {', '.join(FEATURES)}"
                )
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not (
                -1e6 <= weight <= 1e6
            ):
                raise InputError(f"rerank_features: {feature} needs a number, not {weight!r}")
        if len({f for f, _ in self.rerank_features}) != len(self.rerank_features):
            raise InputError("rerank_features: a feature is given twice")

    def reranker_weights(self) -> dict[str, float]:
        """The second stage's weight per feature: the learned ones, else fused and MaxSim
        with ``rerank_weight``."""
        if self.rerank_features:
            return {feature: float(weight) for feature, weight in self.rerank_features}
        return {"fused": 1.0, "maxsim": self.rerank_weight}


#: The file, inside a corpus folder, that holds the search settings calibrated for that corpus.
#: It is hidden, so it is neither read as a document nor part of the corpus fingerprint:
#: recalibrating never forces a rebuild.
CORPUS_SETTINGS_FILE = ".qa-search.json"
#: The file, inside a corpus folder, that names documents whose text has no title line:
#: {"relative/path.txt": "Title"}. Part of the corpus settings, so a change rebuilds the index.
CORPUS_TITLES_FILE = ".qa-titles.json"


def search_settings_from(data: dict[str, Any], source: str = "settings") -> SearchSettings:
    """SearchSettings from a JSON object; unknown keys and wrong types are input errors.

    Keys starting with ``_`` are notes (where the values were calibrated) and are ignored.
    """
    from dataclasses import fields

    from qa.errors import InputError

    known = {f.name: f for f in fields(SearchSettings)}
    values = {k: v for k, v in data.items() if not k.startswith("_")}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise InputError(f"{source}: unknown search setting(s) {', '.join(unknown)}")
    defaults = SearchSettings()
    features = values.get("rerank_features")
    if features is not None:
        if not isinstance(features, dict):
            raise InputError(f'{source}: rerank_features must be an object {{"feature": weight}}')
        values["rerank_features"] = tuple(features.items())
    for key, value in values.items():
        expected = type(getattr(defaults, key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            values[key] = float(value)
        elif not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
            raise InputError(f"{source}: {key} must be {expected.__name__}, not {value!r}")
    try:
        settings = SearchSettings(**values)
    except InputError as error:
        raise InputError(f"{source}: {error}") from error
    if settings.mode not in MODES or settings.fusion not in ("rrf", "convex"):
        raise InputError(f"{source}: mode or fusion has an unknown value")
    return settings
