"""The staff view in Gradio: the retrieval lab, the document browser, labels and the not-covered
report, wired to :mod:`qa.lab` and :mod:`qa.staff_reports`. ``staff.py`` launches it behind a
login; it is a separate app on its own port, never a tab of the visitors' page.

Besides the page, five named API endpoints (behind the same login, :mod:`qa.staff_api`) let
staff script it with ``gradio_client``. What each does is in :mod:`qa.staff_actions`, without
the page.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from qa.chat import ChatSettings
from qa.errors import InputError, QAError
from qa.lab import (
    CANDIDATE_HEADERS,
    DOCUMENT_HEADERS,
    SEGMENT_HEADERS,
    SIDE_BY_SIDE_HEADERS,
    STRATEGIES,
    document_segments,
    document_summaries,
    side_by_side,
)
from qa.lab_html import CSS, document_html, passage_html, summary_html, table_options
from qa.live import LiveSearcher
from qa.staff_actions import EXPORTS, StaffActions
from qa.staff_api import ERROR_SECONDS, history_lines, register_api
from qa.staff_reports import (
    GROUP_HEADERS,
    LABEL_HEADERS,
    groups_csv,
    missing_word_counts,
    unanswered_csv,
)
from qa.store import MAX_LIMIT, Store
from qa.ui import STATIC, SecurityHeadersMiddleware, locked_down_launch

NONE = "(none)"
CHAT_K = ChatSettings().k  # passages a visitor is shown


@dataclass
class StaffApp:
    """The staff Blocks and what they read and write; :meth:`launch` serves them with a login."""

    demo: gr.Blocks
    live: LiveSearcher
    store: Store

    def launch(
        self,
        auth: tuple[str, str],
        host: str = "127.0.0.1",
        port: int | None = 7861,
        *,
        prevent_thread_lock: bool = False,
        quiet: bool = False,
    ) -> str:
        """Serve on ``host:port`` behind Gradio's login (never a share link); returns the URL."""
        user, password = auth
        if not user or not password:
            raise InputError("the staff view needs a user name and a password")
        _, url, _ = self.demo.launch(
            server_name=host,
            server_port=port,
            auth=(user, password),
            auth_message="Staff only: sign in with the staff credentials.",
            prevent_thread_lock=prevent_thread_lock,
            quiet=quiet,
            show_error=True,  # staff see the cause of a failure; visitors never reach this app
            **locked_down_launch(),
            app_kwargs={"middleware": [Middleware(SecurityHeadersMiddleware)]},
            css=CSS,
        )
        return str(url)


def added_message(done: dict[str, Any]) -> str:
    """What the page says after :meth:`StaffActions.add_example` added an example, and why
    the passage is still not shown for the question searched, when it is not."""
    note = ""
    if not done["shown"] and done["cosine"] is not None:
        near = done["example_cosine"]
        example = ("it is not among the candidates the examples are matched on" if near is None
                   else f"with the closest example, {near:.2f}, under {done['example_match']:.2f}")
        note = (f" **Still not shown for this question:** its cosine with the passage, "
                f"{done['cosine']:.2f}, is under the threshold {done['threshold']:.2f}, and "
                f"{example}: an example clears its passage only for questions asked almost as "
                "it is written.")
    return (f"Added line {done['line']} of `{done['file']}` and labelled the passage relevant. "
            f"Now serving index `{done['index_version']}`: search again to see the example at "
            f"work.{note}")


def _write_export(name: str, text: str) -> str:
    folder = Path(tempfile.mkdtemp(prefix="qa-staff-"))
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def build_staff_app(live: LiveSearcher, store: Store, *, group_threshold: float = 0.75) -> StaffApp:
    """The staff view over a live searcher (the visitors' index) and the feedback store."""
    actions = StaffActions(live, store)
    search, groups = actions.search, actions.groups

    def labels_table(scope: str) -> list[list[Any]]:
        return actions.labels_table(scope == "this index")

    with gr.Blocks(title="Staff: retrieval lab", analytics_enabled=False) as demo:
        gr.Markdown("## Staff view\nRetrieval lab, documents, labels and what visitors asked.")
        with gr.Tabs():
            # --- retrieval lab ---------------------------------------------------------------
            with gr.Tab("Retrieval lab"):
                last = gr.State({})
                with gr.Row():
                    question = gr.Textbox(label="Question", scale=3, max_lines=3)
                    history = gr.Textbox(
                        label="Earlier questions (one per line, oldest first)", lines=2, scale=2
                    )
                with gr.Row():
                    name_a = gr.Dropdown(list(STRATEGIES), value="hybrid", label="Strategy A")
                    name_b = gr.Dropdown([NONE, *STRATEGIES], value="dense", label="Strategy B")
                    # What a visitor is shown, so "shown" in the lab means shown in the chat.
                    k = gr.Slider(1, 20, value=CHAT_K, step=1, label=f"k (the chat shows {CHAT_K})")
                    run = gr.Button("Search", variant="primary")
                with gr.Row():
                    summary_a = gr.Markdown(**STATIC)
                    summary_b = gr.Markdown(**STATIC)
                with gr.Tabs():
                    with gr.Tab("A: every candidate"):
                        table_a = gr.Dataframe(**table_options(CANDIDATE_HEADERS))
                    with gr.Tab("B: every candidate"):
                        table_b = gr.Dataframe(**table_options(CANDIDATE_HEADERS))
                    with gr.Tab("A vs B"):
                        table_ab = gr.Dataframe(**table_options(SIDE_BY_SIDE_HEADERS))
                gr.Markdown("Select a row to read the passage, then label it for this question.")
                with gr.Row():
                    chosen = gr.Textbox(label="Passage id", scale=2)
                    relevant = gr.Button("Relevant", variant="primary")
                    not_relevant = gr.Button("Not relevant")
                with gr.Row():
                    example_question = gr.Textbox(
                        label="Example question: how visitors ask for this passage", scale=3
                    )
                    evidence = gr.Textbox(
                        label="Evidence: a phrase of the passage that places the example",
                        scale=3,
                    )
                    add = gr.Button("Add as an example of this passage")
                label_status = gr.Markdown()
                chosen_html = gr.Markdown(**STATIC)

            # --- documents -------------------------------------------------------------------
            with gr.Tab("Documents"):
                index_info = gr.Markdown()
                reload = gr.Button("Reload the index (picks up a rebuild or a changed corpus)")
                documents = gr.Dataframe(headers=list(DOCUMENT_HEADERS), interactive=False)
                document = gr.Dropdown([], label="Document")
                segments = gr.Dataframe(headers=list(SEGMENT_HEADERS), interactive=False, wrap=True)
                document_view = gr.Markdown(**STATIC)

            # --- labels ----------------------------------------------------------------------
            with gr.Tab("Labels"):
                scope = gr.Radio(["this index", "all versions"], value="this index", label="Show")
                labels = gr.Dataframe(headers=list(LABEL_HEADERS), interactive=False, wrap=True)
                with gr.Row():
                    export_format = gr.Radio(list(EXPORTS), value="questions", label="Export as")
                    export_all = gr.Checkbox(label="Labels of every index version")
                    export = gr.Button("Export")
                export_file = gr.File(label="Download", interactive=False)

            # --- not covered -----------------------------------------------------------------
            with gr.Tab("Not covered"):
                gr.Markdown(
                    "Questions visitors asked that the bot abstained on, answered with a caution "
                    "(words the articles never mention), or whose answer got a thumbs down, "
                    "grouped by meaning, newest group first: the articles to write."
                )
                with gr.Row():
                    threshold = gr.Slider(
                        0.5, 0.95, value=group_threshold, step=0.01, label="Group when cosine ≥"
                    )
                    limit = gr.Number(
                        1000, precision=0, minimum=1, maximum=MAX_LIMIT, label="Latest questions"
                    )
                    refresh = gr.Button("Refresh")
                counts = gr.Markdown()
                grouped = gr.Dataframe(headers=list(GROUP_HEADERS), interactive=False, wrap=True)
                words = gr.Dataframe(
                    headers=["never mentioned", "questions"], interactive=False,
                    label="Words the articles never mention, by how many questions used them",
                )
                with gr.Row():
                    csv_grouped = gr.Button("Export groups (CSV)")
                    csv_raw = gr.Button("Export every question (CSV)")
                csv_file = gr.File(label="Download", interactive=False)

        # --- handlers -------------------------------------------------------------------------

        def on_search(q: str, hist: str, a: str, b: str, kk: float) -> tuple[Any, ...]:
            base = live.current  # both strategies on the same index, even across a swap
            h, n = history_lines(hist), int(kk)
            try:
                sum_a, rows_a = search(q, h, a, n, base)
                sum_b, rows_b = search(q, h, b, n, base) if b != NONE else ({}, [])
            except InputError as error:
                raise gr.Error(str(error), duration=ERROR_SECONDS) from error
            passages = {r.passage_id: [r.document, r.section, r.text] for r in [*rows_a, *rows_b]}
            state = {
                "question": sum_a["question"],
                "history": h,
                "version": base.index.version,
                "passages": passages,
            }
            pairs = side_by_side(rows_a, rows_b) if rows_b else []
            return (
                summary_html(sum_a),
                summary_html(sum_b) if sum_b else "",
                [r.cells() for r in rows_a],
                [r.cells() for r in rows_b],
                [r.cells() for r in pairs],
                state,
                "",
                "",
                q.strip(),  # the visitor's own words: how an example is written
                "",
            )

        def on_select(state: dict[str, Any], event: gr.SelectData) -> tuple[str, str, str]:
            values = event.row_value or []
            pid = next((v for v in values if v in state.get("passages", {})), "")
            if not pid:
                return "", "", ""
            title, section, text = state["passages"][pid]
            try:
                phrase = actions.suggested_evidence(pid)
            except InputError:  # the index was replaced since the search
                phrase = ""
            return pid, passage_html(title, section, pid, text), phrase

        def on_label(
            state: dict[str, Any], pid: str, is_relevant: bool, sc: str
        ) -> tuple[Any, ...]:
            # A refused label is said in the status line; the labels table stays as it was
            # (a raised gr.Error would mark the table as failed too).
            pid = (pid or "").strip()
            if not state.get("passages"):
                return "**Not labelled:** search first, then select a candidate.", gr.skip()
            if pid not in state["passages"]:
                return (
                    f"**Not labelled:** {pid!r} is not a candidate of the last search.",
                    gr.skip(),
                )
            try:
                actions.label(state["question"], state["history"], pid, is_relevant)
            except InputError as error:
                return f"**Not labelled:** {error}", gr.skip()
            verdict = "relevant" if is_relevant else "not relevant"
            return f"Labelled `{pid}` {verdict} for this question.", labels_table(sc)

        def on_add(
            state: dict[str, Any], pid: str, text: str, phrase: str, sc: str
        ) -> tuple[Any, ...]:
            pid = (pid or "").strip()
            if pid not in state.get("passages", {}):
                return "**Not added:** search first, then select a candidate.", gr.skip()
            try:
                done = actions.add_example(
                    text, pid, phrase, labelled=(state["question"], state["history"])
                )
            except (QAError, OSError) as error:
                return f"**Not added:** {error}", gr.skip()
            if not done["added"]:
                return (f"Already an example (line {done['line']} of `{done['file']}`); "
                        "labelled relevant.", labels_table(sc))
            return added_message(done), labels_table(sc)

        def on_documents() -> tuple[Any, ...]:
            index = live.index
            m = index.manifest
            info = (
                f"Index `{index.version}` built {m.get('created', '?')} from "
                f"{m['corpus']['documents']} documents, {m['passages']['count']} passages "
                f"(embedder {m['embedder']['name']})."
            )
            summaries = document_summaries(index)
            choices = [(f"{d.title} ({d.source})", d.doc_id) for d in summaries]
            first = choices[0][1] if choices else None
            return (
                info,
                [d.cells() for d in summaries],
                gr.update(choices=choices, value=first),
                *on_document(first),
            )

        def on_document(doc_id: str | None) -> tuple[Any, Any]:
            index = live.index
            if not doc_id or doc_id not in index.documents:
                return [], ""
            parts = document_segments(index, doc_id)
            return [s.cells() for s in parts], document_html(index.documents[doc_id].text, parts)

        def on_reload() -> tuple[Any, ...]:
            try:
                live.refresh()
            except (QAError, OSError) as error:
                raise gr.Error(
                    f"Could not reload the index: {error}", duration=ERROR_SECONDS
                ) from error
            return on_documents()

        def on_export(fmt: str, all_versions: bool) -> str:
            name, text = actions.export_text(fmt, all_versions)
            return _write_export(name, text)

        def on_groups(th: float, lim: float) -> tuple[str, list[list[Any]], list[list[Any]]]:
            c = store.counts()
            note = (
                f"{c['unanswered']} questions logged: {c['unanswered_abstained']} abstained, "
                f"{c['unanswered_partly_covered']} partly covered, "
                f"{c['unanswered_thumbs_down']} thumbs down. Votes: {c['feedback_up']} up, "
                f"{c['feedback_down']} down."
            )
            rows = store.unanswered(limit=int(lim or 1000))
            counted = [[word, n] for word, n in missing_word_counts(rows)]
            grouped_rows = [g.cells() for g in actions.group(rows, float(th))]
            return note, grouped_rows, counted

        def on_csv(grouped_csv: bool, th: float, lim: float) -> str:
            if grouped_csv:
                groups_text = groups_csv(groups(th, int(lim or 1000)))
                return _write_export("not-covered-groups.csv", groups_text)
            rows = store.unanswered(limit=int(lim or 1000))
            return _write_export("not-covered-questions.csv", unanswered_csv(rows))

        private: dict[str, Any] = {"api_visibility": "private"}
        lab_out = [
            summary_a, summary_b, table_a, table_b, table_ab, last, chosen, chosen_html,
            example_question, evidence,
        ]
        for trigger in (run.click, question.submit):
            trigger(on_search, [question, history, name_a, name_b, k], lab_out, **private)
        for table in (table_a, table_b, table_ab):
            table.select(on_select, [last], [chosen, chosen_html, evidence], **private)
        for button, verdict in ((relevant, True), (not_relevant, False)):
            button.click(
                lambda s, p, sc, v=verdict: on_label(s, p, v, sc),
                [last, chosen, scope],
                [label_status, labels],
                **private,
            )
        add.click(
            on_add, [last, chosen, example_question, evidence, scope], [label_status, labels],
            **private,
        )
        doc_out = [index_info, documents, document, segments, document_view]
        demo.load(on_documents, None, doc_out, **private)
        reload.click(on_reload, None, doc_out, **private)
        document.change(on_document, [document], [segments, document_view], **private)
        demo.load(labels_table, [scope], [labels], **private)
        scope.change(labels_table, [scope], [labels], **private)
        export.click(on_export, [export_format, export_all], [export_file], **private)
        demo.load(on_groups, [threshold, limit], [counts, grouped, words], **private)
        refresh.click(on_groups, [threshold, limit], [counts, grouped, words], **private)
        csv_grouped.click(
            lambda t, n: on_csv(True, t, n), [threshold, limit], [csv_file], **private
        )
        csv_raw.click(lambda t, n: on_csv(False, t, n), [threshold, limit], [csv_file], **private)

        register_api(actions, group_threshold)
    demo.queue(max_size=16, default_concurrency_limit=2, api_open=False)
    return StaffApp(demo, live, store)
