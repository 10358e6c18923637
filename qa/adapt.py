"""Adapting the embedding model to one corpus with its labelled questions (``qa adapt``).

all-MiniLM-L6-v2 is fine-tuned on the answerable questions of one or more splits of question
sets (calibration, by default), and on the corpus's example questions (:mod:`qa.examples`),
against the passages holding their evidence: the multiple-negatives
ranking objective of sentence-transformers (Henderson et al., 2017), each question against its
passage, the other questions' passages and some random ones, with its other answering passages
masked out. Off-topic questions of the split are held under a margin from every passage, so
that they stay far enough to abstain on. A follow-up trains as the query the engine searches
(the earlier turn resolved) and as the visitor's own words.

The adapted model is a folder the embedder loads like the bundled one (``qa --model DIR``),
with ``qa-adapted.json`` naming what it was trained from; its name in an index's manifest
differs from the bundled model's, so an index built with the one is never served with the
other. The threshold and subject reading calibrated for the bundled model let off-topic
questions through an adapted one, so abstention is calibrated again for it, out of fold
(:func:`calibrate_out_of_fold`), and the result is served with it (:func:`model_search_settings`).
Measured in the fourteenth session (README, "The adapted model"), taught the question sets'
read questions and the corpus's examples, it ranks better on questions it never saw, at hit@1
and hit@3; training costs minutes per corpus.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa import embedders
from qa.api import corpus_search_settings
from qa.embedders import MINILM_NAME, SentenceTransformerEmbedder, bundled_model_path
from qa.errors import InputError
from qa.index import CorpusIndex, embed_passages
from qa.questions import Candidate, Question, is_relevant
from qa.search import Query, Searcher
from qa.settings import SearchSettings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

ABOUT = "qa-adapted.json"


@dataclass(frozen=True)
class AdaptSettings:
    """How the model is trained. The defaults were measured on the default corpus."""

    epochs: int = 4
    learning_rate: float = 2e-5
    batch_size: int = 16
    random_negatives: int = 48  # passages drawn per batch beside the batch's own
    scale: float = 20.0  # the cosine's temperature in the softmax
    off_topic_margin: float = 0.15  # off-topic questions are held under this cosine
    off_topic_weight: float = 5.0
    seed: int = 0
    #: The corpus's example questions (:mod:`qa.examples`) are taught beside the labelled ones:
    #: in the fourteenth session's comparison (one training run each; README, "The adapted
    #: model"), they lifted the test split from 0.805 / 0.896 (hit@1 / hit@3) to 0.831 / 0.961.
    corpus_examples: bool = True
    #: Models trained each without one part of the split, whose answers on the part they never
    #: saw calibrate abstention for the adapted model (:func:`calibrate_out_of_fold`); 0: none.
    folds: int = 4

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 2 or self.random_negatives < 0:
            raise InputError("adapting needs at least 1 epoch, batches of 2 and no negative draws")
        if self.folds == 1 or self.folds < 0:
            raise InputError("calibrating out of fold needs at least 2 folds (0: no calibration)")
        if not 0 < self.learning_rate < 1:
            raise InputError("the learning rate must lie between 0 and 1")


@dataclass(frozen=True)
class Example:
    """One training query and the rows of the passages that answer it."""

    query: str
    positives: frozenset[int]


def training_examples(
    searcher: Searcher,
    questions: Sequence[Question],
    splits: str | Collection[str],
    *,
    corpus_examples: bool = False,
) -> tuple[list[Example], list[str]]:
    """The answerable questions of ``splits`` with their answering passages (by evidence), and
    their off-topic questions, each as the engine searches it; with ``corpus_examples``, the
    corpus's example questions too, each with the passages it was placed on."""
    splits = _splits(splits)
    chosen = [q for q in questions if q.split in splits]
    answers = searcher.search_many([Query(q.question, q.history) for q in chosen], k=1)
    passages = searcher.index.passages
    examples: list[Example] = []
    off_topic: list[str] = []
    for question, answer in zip(chosen, answers, strict=True):
        if not question.answerable:
            if question.kind == "off_topic":
                off_topic.append(answer.effective_query)
            continue
        evidence = question.evidence
        rows = frozenset(r for r, p in enumerate(passages) if is_relevant(p.text, evidence))
        if not rows:
            continue
        queries = {answer.effective_query}
        if question.history:
            queries.add(question.question)
        examples.extend(Example(query, rows) for query in sorted(queries))
    if not examples:
        named = " or ".join(f'"{split}"' for split in sorted(splits))
        raise InputError(
            f"no answerable question of the {named} split has its evidence in a passage of "
            "this corpus: nothing to adapt the model to"
        )
    placed = searcher.index.examples if corpus_examples else None
    if placed is not None:
        examples.extend(
            Example(example.question, frozenset(rows))
            for example, rows in zip(placed.examples, placed.rows, strict=True)
            if rows
        )
    return examples, off_topic


def _splits(splits: str | Collection[str]) -> frozenset[str]:
    """One split or several, as a set; none is refused."""
    chosen = frozenset([splits] if isinstance(splits, str) else splits)
    if not chosen:
        raise InputError("adapting needs at least one split of questions to learn from")
    return chosen


def adapt_model(
    searcher: Searcher,
    questions: Sequence[Question],
    out_dir: Path,
    *,
    split: str | Collection[str] = "calibration",
    settings: AdaptSettings = AdaptSettings(),
    source: str = "",
    progress: bool = False,
) -> dict[str, Any]:
    """Fine-tune the bundled model on ``split`` (one or several) of ``questions`` over
    ``searcher``'s passages, with the corpus's example questions when ``settings`` says so, and
    save it to ``out_dir`` with its description (:data:`ABOUT`), which it returns. With
    ``settings.folds``, abstention is first calibrated out of fold (:func:`calibrate_out_of_fold`)
    and the description carries the result, which :func:`model_search_settings` applies."""
    started = time.perf_counter()
    splits = _splits(split)
    examples, off_topic = training_examples(  # refuse before training
        searcher, questions, splits, corpus_examples=settings.corpus_examples
    )
    repeated = sorted(qid for qid, count in Counter(q.id for q in questions).items() if count > 1)
    if repeated and settings.folds:  # folds are dealt by id
        raise InputError(f"question ids repeat across the question files: {', '.join(repeated)}")
    calibration = (
        calibrate_out_of_fold(searcher, questions, splits, settings, progress=progress)
        if settings.folds
        else None
    )
    model = _train(searcher, examples, off_topic, settings, progress=progress, label="Adapting")
    about: dict[str, Any] = {
        "base": MINILM_NAME,
        "questions": source,
        "split": sorted(splits),
        "examples": len(examples),
        "off_topic": len(off_topic),
        "corpus_index": searcher.index.version,
        "settings": asdict(settings),
        "calibration": calibration,
        "seconds": round(time.perf_counter() - started, 1),
    }
    about["digest"] = hashlib.sha256(
        json.dumps({**about, "seconds": None}, sort_keys=True).encode()
    ).hexdigest()[:16]
    _save(model, about, Path(out_dir))
    return about


def _save(model: SentenceTransformer, about: Mapping[str, Any], out_dir: Path) -> None:
    """Write the model and its description into a folder beside ``out_dir``, then swap it into
    place: a save killed halfway leaves the previous model whole (its description names its
    own weights, and indexes built with it stay valid), never new weights under an old name."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-new-", dir=out_dir.parent))
    try:
        model.save(str(staging))
        (staging / ABOUT).write_text(json.dumps(about, indent=2) + "\n", encoding="utf-8")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = staging.with_name(staging.name.replace("-new-", "-old-"))
    if out_dir.exists():
        out_dir.rename(old)
    staging.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)


def calibrate_out_of_fold(
    searcher: Searcher,
    questions: Sequence[Question],
    split: str | Collection[str],
    settings: AdaptSettings,
    *,
    progress: bool = False,
) -> dict[str, Any] | None:
    """The abstention threshold, and whether to read questions as about the corpus's subject,
    for a model adapted on ``split``, judged on questions the model judging them never saw.

    The split's questions are dealt into ``settings.folds`` parts; per part a model is trained
    on the others and answers that part. The threshold and the reading are then chosen on the
    pooled answers as ``qa eval`` chooses a threshold (:func:`qa.questions.recommend`: the most
    off-topic questions abstained on with at most 5% of answerable ones wrongly abstained on,
    then the fewest of those), then by hit@1. Measured in the tenth session, the reading that
    suits the bundled model let a third of the off-topic questions through an adapted one.

    Tried with the reading, the answers are replayed at other thresholds as ``qa eval --sweep``
    replays them: the reading itself was decided at the corpus's threshold. None when the
    split holds no off-topic question or no answerable one to weigh."""
    from qa.questions import replay_candidates

    splits = _splits(split)
    chosen = [q for q in questions if q.split in splits]
    order = sorted(q.id for q in chosen)
    random.Random(settings.seed).shuffle(order)
    fold_of = {qid: n % settings.folds for n, qid in enumerate(order)}
    readings = {searcher.settings.read_as_subject: searcher.settings}  # first: wins a tie
    readings.setdefault(False, replace(searcher.settings, read_as_subject=False))
    pooled: dict[bool, tuple[list[Question], list[list[Candidate]]]] = {
        reading: ([], []) for reading in readings
    }
    for fold in range(settings.folds):
        kept = [q for q in questions if fold_of.get(q.id) != fold]
        examples, off_topic = training_examples(
            searcher, kept, splits, corpus_examples=settings.corpus_examples
        )
        label = f"Calibrating, fold {fold + 1} of {settings.folds}"
        model = _train(searcher, examples, off_topic, settings, progress=progress, label=label)
        held = [q for q in chosen if fold_of[q.id] == fold]
        with tempfile.TemporaryDirectory() as folder:
            model.save(folder)
            embedder = SentenceTransformerEmbedder(Path(folder), name=f"{MINILM_NAME}+fold")
            index = _reindexed(searcher.index, embedder)
            for reading, search_settings in readings.items():
                fold_searcher = Searcher(index, embedder, search_settings).warm_up()
                _, candidates = replay_candidates(fold_searcher, held)
                pooled[reading][0].extend(held)
                pooled[reading][1].extend(candidates)
    return choose_calibration(pooled, folds=settings.folds)


def choose_calibration(
    pooled: Mapping[bool, tuple[Sequence[Question], Sequence[Sequence[Candidate]]]],
    *,
    folds: int,
    k: int = 5,
    max_false_abstention: float = 0.05,
) -> dict[str, Any] | None:
    """Of the readings (with or without the subject) and their pooled out-of-fold answers, the
    one whose recommended threshold abstains on the most off-topic questions, then wrongly on
    the fewest answerable ones, then ranks best (hit@1), then comes first; None when none can
    be recommended."""
    from qa.questions import abstention_key, recommend, sweep

    best: dict[str, Any] | None = None
    for reading, (questions, candidates) in pooled.items():
        point = recommend(sweep(questions, candidates, k=k), max_false_abstention)
        if point is None:
            continue
        key = (*abstention_key(point), point["hit@1"])
        if best is None or key > best["_key"]:
            best = {"_key": key, "reading": reading, "point": point}
    if best is None:
        return None
    point = best["point"]
    return {
        "abstain_threshold": point["threshold"],
        "read_as_subject": best["reading"],
        "equally_good": point["equally_good"],
        "folds": folds,
        "out_of_fold": {
            key: point[key]
            for key in ("answerable", "off_topic", "hit@1", "hit@3", "off_topic_abstained",
                        "false_abstention")
        },
    }


def _train(
    searcher: Searcher,
    examples: Sequence[Example],
    off_topic: Sequence[str],
    settings: AdaptSettings,
    *,
    progress: bool,
    label: str,
) -> SentenceTransformer:
    """The bundled model fine-tuned on ``examples`` over ``searcher``'s passages."""
    import torch
    from sentence_transformers import SentenceTransformer
    from tqdm import tqdm

    texts = [p.embedding_text() for p in searcher.index.passages]
    rng = random.Random(settings.seed)
    torch.manual_seed(settings.seed)
    model = SentenceTransformer(str(bundled_model_path()), device="cpu")
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate)

    def embed(batch: Sequence[str]) -> torch.Tensor:
        features = model.preprocess(list(batch))
        return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)

    order = list(range(len(examples)))
    steps = settings.epochs * -(-len(order) // settings.batch_size)
    with tqdm(total=steps, desc=label, unit="batch", disable=not progress) as bar:
        for _ in range(settings.epochs):
            rng.shuffle(order)
            for at in range(0, len(order), settings.batch_size):
                batch = [examples[i] for i in order[at : at + settings.batch_size]]
                targets = [rng.choice(sorted(e.positives)) for e in batch]
                drawn = rng.sample(range(len(texts)), min(settings.random_negatives, len(texts)))
                rows = sorted(set(targets) | set(drawn))
                column = {row: n for n, row in enumerate(rows)}
                passages = embed([texts[r] for r in rows])
                logits = embed([e.query for e in batch]) @ passages.T * settings.scale
                # a question's other answering passages are not its negatives
                mask = torch.tensor([
                    [r in e.positives and r != t for r in rows]
                    for e, t in zip(batch, targets, strict=True)
                ])
                logits = logits.masked_fill(mask, float("-inf"))
                loss = torch.nn.functional.cross_entropy(
                    logits, torch.tensor([column[t] for t in targets])
                )
                if off_topic:
                    far = embed(rng.sample(list(off_topic), min(8, len(off_topic))))
                    nearest = (far @ passages.T - settings.off_topic_margin).relu().max(dim=1)
                    loss = loss + settings.off_topic_weight * nearest.values.mean()
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                bar.update()
    model.eval()
    return model


def _reindexed(index: CorpusIndex, embedder: SentenceTransformerEmbedder) -> CorpusIndex:
    """``index`` with its passages' vectors (and token vectors, and example questions'
    vectors) from ``embedder``, in memory."""
    dense, tokens = embed_passages(
        index.passages, embedder, index.dense.settings, with_tokens=index.tokens is not None
    )
    examples = index.examples
    if examples is not None:
        examples = examples.encoded_by(lambda texts: embedder.encode(texts, "query"))
    return replace(index, dense=dense, tokens=tokens, examples=examples)


def model_embedder(model_dir: Path | str | None) -> SentenceTransformerEmbedder:
    """The embedder for an adapted model folder, or the default one for ``None``. An adapted
    model is named by what it was trained from, so indexes built with it are told apart."""
    if model_dir is None:
        return embedders.default_embedder()
    folder = Path(model_dir)
    digest = read_about(folder)["digest"]
    return SentenceTransformerEmbedder(folder, name=f"{MINILM_NAME}+adapted:{digest}")


def model_search_settings(settings: SearchSettings, model_dir: Path | str | None) -> SearchSettings:
    """``settings`` with the abstention calibrated out of fold for an adapted model, when its
    description carries one (``qa adapt --folds``); unchanged for the bundled model."""
    if model_dir is None:
        return settings
    calibration = read_about(Path(model_dir)).get("calibration")
    if not calibration:
        return settings
    return replace(
        settings,
        abstain_threshold=float(calibration["abstain_threshold"]),
        read_as_subject=bool(calibration["read_as_subject"]),
    )


def served_search_settings(corpus_dir: Path | str, model_dir: Path | str | None) -> SearchSettings:
    """The settings a corpus is searched with under a model: the corpus's own
    (:func:`qa.api.corpus_search_settings`) with the model's calibration. The CLI, the
    visitors' app and the staff view all take them from here, so staff see what visitors get."""
    return model_search_settings(corpus_search_settings(corpus_dir), model_dir)


def read_about(folder: Path) -> dict[str, Any]:
    """An adapted model's description (:data:`ABOUT`), checked for what serving it needs."""
    about = folder / ABOUT
    if not about.is_file():
        raise InputError(f"{folder} is not a model made by `qa adapt` (no {ABOUT} in it)")
    try:
        data = json.loads(about.read_text(encoding="utf-8"))
        data["digest"] = str(data["digest"])
        calibration = data.get("calibration")
        if calibration is not None:
            float(calibration["abstain_threshold"])
            bool(calibration["read_as_subject"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{about} is unreadable: {exc}") from exc
    return dict(data)
