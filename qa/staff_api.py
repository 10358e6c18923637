"""The staff view's scripted API: five named endpoints (behind the staff login) for
``gradio_client``: ``/lab``, ``/label``, ``/add_example``, ``/export_labels`` and
``/unanswered``. Each calls :class:`qa.staff_actions.StaffActions`, as the page does; an input
error comes back as a Gradio error with its message."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import gradio as gr

from qa.errors import InputError, QAError
from qa.staff_actions import StaffActions

ERROR_SECONDS = 10  # an error toast fades, so errors do not pile up across tabs


def history_lines(text: str | list[str] | None) -> list[str]:
    """Earlier questions from a list (the API) or one per line (the page), blanks left out."""
    if isinstance(text, list):
        return [h.strip() for h in text if isinstance(h, str) and h.strip()]
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def register_api(actions: StaffActions, group_threshold: float) -> None:
    """Add the endpoints to the Gradio Blocks being built (call inside its ``with``)."""

    def lab(
        question: str, history: list[str] | None = None, strategy: str = "hybrid", k: int = 5
    ) -> dict[str, Any]:
        """Every candidate of one search: scores and ranks per retriever, the fused and final
        ranks, whether it cleared the abstention threshold, and the effective query."""
        try:
            summary, rows = actions.search(question, history_lines(history), strategy, int(k))
        except InputError as error:
            raise gr.Error(str(error), duration=ERROR_SECONDS) from error
        return {"summary": summary, "candidates": [asdict(r) for r in rows]}

    def label(
        question: str, passage_id: str, relevant: bool, history: list[str] | None = None
    ) -> dict[str, Any]:
        """Label a passage of the current index relevant or not for a question."""
        try:
            return actions.label(question, history_lines(history), passage_id, bool(relevant))
        except InputError as error:
            raise gr.Error(str(error), duration=ERROR_SECONDS) from error

    def add_example(
        question: str, passage_id: str, evidence: str | None = None
    ) -> dict[str, Any]:
        """Add an example question (how visitors ask) for a passage of the current index,
        placed by ``evidence``, a phrase of the passage (default: one no other passage holds),
        and rebuild the index with it."""
        try:
            return actions.add_example(question, passage_id, evidence)
        except (QAError, OSError) as error:
            raise gr.Error(str(error), duration=ERROR_SECONDS) from error

    def export_labels(format: str = "questions", all_versions: bool = False) -> str:
        """The labels as a ``qa eval --questions`` file or as BEIR qrels (text)."""
        try:
            return actions.export_text(format, all_versions)[1]
        except InputError as error:
            raise gr.Error(str(error), duration=ERROR_SECONDS) from error

    def unanswered(threshold: float = group_threshold, limit: int = 1000) -> list[Any]:
        """What visitors asked that the corpus does not cover, grouped, newest first."""
        return [asdict(g) for g in actions.groups(threshold, limit)]

    for endpoint in (lab, label, add_example, export_labels, unanswered):
        gr.api(endpoint, api_name=endpoint.__name__)
