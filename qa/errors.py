"""The named errors: input errors are ValueErrors, a missing index a FileNotFoundError.

Entry points (CLI, chat app) translate these into a one-line message; library code raises them
with the cause chained (``raise ... from``).
"""

from __future__ import annotations


class QAError(Exception):
    """Base class of every error this package raises on purpose."""


class InputError(QAError, ValueError):
    """The caller gave something unusable (an empty question, a malformed line)."""


class EmptyQuestionError(InputError):
    """The question is empty or whitespace only."""


class CorpusError(QAError, ValueError):
    """The corpus folder cannot be read as a corpus."""


class EmptyCorpusError(CorpusError):
    """The corpus folder holds no readable document."""


class UndecodableFileError(CorpusError):
    """A corpus file is not valid UTF-8."""


class IndexNotFoundError(QAError, FileNotFoundError):
    """No built index exists at the given folder."""


class IndexCorruptError(QAError, ValueError):
    """The index on disk fails its manifest checks (checksums, format) and must not be served."""


class IndexMismatchError(QAError, ValueError):
    """The index was built with another embedder or other settings than the ones asked for."""


class StaleIndexError(QAError, ValueError):
    """The corpus changed since the index was built."""
