"""Adapting the embedding model to one corpus with its labelled questions (``qa adapt``).

all-MiniLM-L6-v2 is fine-tuned on the answerable questions of one split of a question set
(calibration, by default) against the passages holding their evidence: the multiple-negatives
ranking objective of sentence-transformers (Henderson et al., 2017), each question against its
passage, the other questions' passages and some random ones, with its other answering passages
masked out. Off-topic questions of the split are held under a margin from every passage, so
that they stay far enough to abstain on. A follow-up trains as the query the engine searches
(the earlier turn resolved) and as the visitor's own words.

The adapted model is a folder the embedder loads like the bundled one (``qa --model DIR``),
with ``qa-adapted.json`` naming what it was trained from; its name in an index's manifest
differs from the bundled model's, so an index built with the one is never served with the
other. It is opt-in: measured in the ninth session (README, "Adapting the model"), it ranks
better on questions it never saw, but lets through more off-topic questions at the
threshold and subject lift calibrated for the bundled model.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qa import embedders
from qa.embedders import MINILM_NAME, SentenceTransformerEmbedder, bundled_model_path
from qa.errors import InputError
from qa.questions import Question, is_relevant
from qa.search import Query, Searcher

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

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 2 or self.random_negatives < 0:
            raise InputError("adapting needs at least 1 epoch, batches of 2 and no negative draws")
        if not 0 < self.learning_rate < 1:
            raise InputError("the learning rate must lie between 0 and 1")


@dataclass(frozen=True)
class Example:
    """One training query and the rows of the passages that answer it."""

    query: str
    positives: frozenset[int]


def training_examples(
    searcher: Searcher, questions: Sequence[Question], split: str
) -> tuple[list[Example], list[str]]:
    """The answerable questions of ``split`` with their answering passages (by evidence), and
    its off-topic questions, each as the engine searches it."""
    chosen = [q for q in questions if q.split == split]
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
        raise InputError(
            f'no answerable question of the "{split}" split has its evidence in a passage of '
            "this corpus: nothing to adapt the model to"
        )
    return examples, off_topic


def adapt_model(
    searcher: Searcher,
    questions: Sequence[Question],
    out_dir: Path,
    *,
    split: str = "calibration",
    settings: AdaptSettings = AdaptSettings(),
    source: str = "",
    progress: bool = False,
) -> dict[str, Any]:
    """Fine-tune the bundled model on ``split`` of ``questions`` over ``searcher``'s passages
    and save it to ``out_dir``, with its description (:data:`ABOUT`), which it returns."""
    import torch
    from sentence_transformers import SentenceTransformer
    from tqdm import tqdm

    started = time.perf_counter()
    examples, off_topic = training_examples(searcher, questions, split)
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
    with tqdm(total=steps, desc="Adapting", unit="batch", disable=not progress) as bar:
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
                    far = embed(rng.sample(off_topic, min(8, len(off_topic))))
                    nearest = (far @ passages.T - settings.off_topic_margin).relu().max(dim=1)
                    loss = loss + settings.off_topic_weight * nearest.values.mean()
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                bar.update()
    model.eval()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(str(out_dir))
    about: dict[str, Any] = {
        "base": MINILM_NAME,
        "questions": source,
        "split": split,
        "examples": len(examples),
        "off_topic": len(off_topic),
        "corpus_index": searcher.index.version,
        "settings": asdict(settings),
        "seconds": round(time.perf_counter() - started, 1),
    }
    about["digest"] = hashlib.sha256(
        json.dumps({**about, "seconds": None}, sort_keys=True).encode()
    ).hexdigest()[:16]
    (out_dir / ABOUT).write_text(json.dumps(about, indent=2) + "\n", encoding="utf-8")
    return about


def model_embedder(model_dir: Path | str | None) -> SentenceTransformerEmbedder:
    """The embedder for an adapted model folder, or the default one for ``None``. An adapted
    model is named by what it was trained from, so indexes built with it are told apart."""
    if model_dir is None:
        return embedders.default_embedder()
    folder = Path(model_dir)
    about = folder / ABOUT
    if not about.is_file():
        raise InputError(f"{folder} is not a model made by `qa adapt` (no {ABOUT} in it)")
    try:
        digest = str(json.loads(about.read_text(encoding="utf-8"))["digest"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{about} is unreadable: {exc}") from exc
    return SentenceTransformerEmbedder(folder, name=f"{MINILM_NAME}+adapted:{digest}")
