"""The visitors' chat in Gradio: layout, events, the source page and the security headers.

Everything a visitor can trigger goes through :class:`qa.chat.ChatService`; this module only
wires it to Gradio. What it locks down, since the chat faces the public:

- the chat's own events are ``api_visibility="private"`` (the browser uses them, API clients
  do not see them); the one public endpoint is ``/ask``, which returns the structured answer;
- ``queue(api_open=False)`` closes the queue-bypassing REST routes, ``max_size`` bounds the
  queue (Gradio's page then says "This application is currently busy. Please try again.") and
  ``default_concurrency_limit`` bounds the searches run at once;
- a Content-Security-Policy that lets Gradio run but blocks remote images, objects and
  framing by other sites, plus the usual hardening headers, on every response;
- no share link, no monitoring, no MCP server, no run history, no file uploads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.chat import ChatService, ChatSettings, Turn, Vote, chat_messages, turn_index_at
from qa.chat_html import (
    SOURCE_ROUTE,
    intro_html,
    missing_source_html,
    notice_html,
    source_page_html,
)
from qa.errors import InputError

if TYPE_CHECKING:
    from qa.index import CorpusIndex
    from qa.live import LiveSearcher
    from qa.search import Searcher
    from qa.store import Store

# Gradio's page needs its own scripts and inline config script, inline styles and data: fonts;
# nothing is ever loaded from another origin, images included ("img-src" is what stops a
# smuggled remote image from phoning home).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "media-src 'self' data: blob:",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Routes of Gradio that the chat never uses and that should not take visitors' bytes.
# /gradio_api/run is the queue-bypassing API: closed by queue(api_open=False) too, but Gradio
# answers 500 for a name it does not know; here every path under it is a plain 404.
BLOCKED_PATHS = ("/gradio_api/upload", "/gradio_api/monitoring", "/gradio_api/run")

#: The chat page's styles: a plain file beside this module (package data).
CSS = (Path(__file__).parent / "chat.css").read_text(encoding="utf-8")
#: Styles that must see the whole page (:has rules), put in the page head unprefixed.
HEAD_CSS = (Path(__file__).parent / "chat_head.css").read_text(encoding="utf-8")


# The visitor's own system fonts: nothing to download, native on a phone, and every weight
# (the default theme's bundled font has no 700 and draws some bold letters oddly).
THEME = gr.themes.Default(
    font=[
        "system-ui",
        "-apple-system",
        "Segoe UI",
        "Roboto",
        "Helvetica Neue",
        "Arial",
        "sans-serif",
    ],
)

STATIC: dict[str, Any] = {"sanitize_html": True, "latex_delimiters": [], "line_breaks": False}


# Gradio's chat scrolls to the *end* of a new reply, so a visitor sees its last card first and,
# on a phone, the crisis resources at the start of a reply are scrolled out of sight. With
# autoscroll off, this script instead brings the visitor's latest question to the top of the
# chat, its reply starting right below. It only moves a scroll position; an inline script is
# allowed by the CSP (string evaluation is not). Without it the chat simply does not scroll.
# It also gives the question box its focus back when it opens again after an answer (it is
# closed while a question is answered), so the next question can be typed straight away.
SCROLL_SCRIPT = r"""<script>
(() => {
  let count = 0, pending = false, closed = false;
  const refocus = () => {
    const box = document.querySelector("#qa-question textarea");
    if (!box) return;
    if (box.disabled) { closed = true; return; }
    if (!closed) return;
    closed = false;
    const active = document.activeElement;
    if (!active || active === document.body) box.focus();
  };
  const settle = () => {
    pending = false;
    refocus();
    const log = document.querySelector('#qa-chat [role="log"]');
    if (!log) return;
    // Gradio names each message by its raw content, which is our HTML: name it by its text.
    for (const el of log.querySelectorAll('[aria-label*="message: <"]')) {
      const who = el.getAttribute("aria-label").split(": ")[0];
      el.setAttribute("aria-label", who + ": " + el.innerText.replace(/\s+/g, " ").trim());
    }
    const rows = log.querySelectorAll(".message-row");
    if (rows.length === count) return;
    const grew = rows.length > count;
    count = rows.length;
    if (!grew) return;
    let target = rows[rows.length - 1];
    const before = target.previousElementSibling;
    // From the visitor's question, unless the reply is the crisis box: that shows whole first.
    const crisis = target.querySelector(".qa-crisis");
    if (before && before.classList.contains("user-row") && !crisis) target = before;
    log.scrollTop += target.getBoundingClientRect().top - log.getBoundingClientRect().top - 4;
  };
  // A suggested question in a "not covered" reply asks itself when clicked.
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("#qa-chat a.qa-ask");
    const box = document.querySelector("#qa-question textarea");
    const send = document.querySelector("#qa-question button.submit-button");
    if (!link || !box || !send) return;
    event.preventDefault();
    box.value = link.textContent;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    setTimeout(() => send.click(), 0);
  });
  new MutationObserver(() => {
    if (!pending) { pending = true; requestAnimationFrame(settle); }
  }).observe(document.documentElement, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["disabled"],
  });
})();
</script>"""


class SecurityHeadersMiddleware:
    """Pure ASGI middleware (safe with streamed responses): adds :data:`SECURITY_HEADERS`
    to every HTTP response and answers 404 for :data:`BLOCKED_PATHS`."""

    def __init__(
        self,
        app: ASGIApp,
        headers: dict[str, str] | None = None,
        blocked: Sequence[str] = BLOCKED_PATHS,
    ) -> None:
        self.app = app
        self.headers = SECURITY_HEADERS if headers is None else headers
        self.blocked = tuple(blocked)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if any(path == p or path.startswith(p + "/") for p in self.blocked):
            await PlainTextResponse("Not found", status_code=404, headers=self.headers)(
                scope, receive, send
            )
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass
class ChatApp:
    """The chat's Gradio Blocks and the service behind it; :meth:`launch` serves both."""

    demo: gr.Blocks
    service: ChatService
    _rows: tuple[str, dict[str, int]] = field(init=False, default=("", {}))

    def _rows_of(self, index: CorpusIndex) -> dict[str, int]:
        """Passage rows of the index being served, rebuilt when a new index is swapped in."""
        version, rows = self._rows
        if version != index.version:
            rows = index.passage_row()
            self._rows = (index.version, rows)
        return rows

    def source_page(self, request: Request) -> Response:
        """The whole document of a cited passage, opened at the passage."""
        passage_id = request.path_params.get("passage_id", "")
        index = self.service.searcher.index
        row = self._rows_of(index).get(passage_id)
        if row is None:
            return HTMLResponse(missing_source_html(), status_code=404)
        passage = index.passages[row]
        document = index.documents[passage.doc_id]
        label = f"{passage.title} — {passage.section}" if passage.section else passage.title
        return HTMLResponse(source_page_html(document, passage.start, passage.end, label))

    def app_kwargs(self) -> dict[str, Any]:
        """What Gradio passes to its FastAPI app: our middleware and the source page route
        (registered before Gradio's own routes)."""
        return {
            "openapi_url": None,  # FastAPI's route listing; API users have /gradio_api/info
            "middleware": [Middleware(SecurityHeadersMiddleware)],
            "routes": [Route(f"/{SOURCE_ROUTE}/{{passage_id}}", self.source_page)],
        }

    def launch(
        self,
        host: str = "127.0.0.1",
        port: int | None = 7860,
        *,
        prevent_thread_lock: bool = False,
        quiet: bool = False,
    ) -> str:
        """Serve the chat on ``host:port`` (never a public share link); returns its URL."""
        _, url, _ = self.demo.launch(
            server_name=host,
            server_port=port,
            prevent_thread_lock=prevent_thread_lock,
            quiet=quiet,
            show_error=False,
            **locked_down_launch(),
            app_kwargs=self.app_kwargs(),
            css=CSS,
            head=f"<style>{HEAD_CSS}</style>{SCROLL_SCRIPT}",
            theme=THEME,
        )
        return url


def locked_down_launch() -> dict[str, Any]:
    """The ``launch`` options the chat and the staff view share: never a public share link or a
    browser tab, no usage telemetry, no MCP server, no server-side rendering, no installable
    app, no run history, no uploads. Each app adds its own auth, error display and routes."""
    return {
        "share": False,
        "inbrowser": False,
        "enable_monitoring": False,
        "mcp_server": False,
        "ssr_mode": False,
        "pwa": False,
        "run_history": False,
        "footer_links": ["api"],
        "max_file_size": 0,
    }


def build_app(
    searcher: Searcher | LiveSearcher,
    store: Store | None = None,
    settings: ChatSettings = ChatSettings(),
    *,
    queue_size: int = 32,
    concurrency: int = 2,
) -> ChatApp:
    """The chat around a ready searcher (and a store for votes; None keeps nothing)."""
    service = ChatService(searcher, store, settings)
    with gr.Blocks(title=settings.title, analytics_enabled=False) as demo:
        # gr.Markdown, not gr.HTML: Gradio 6's HTML component evaluates its template with
        # new Function(), which the CSP forbids. Our fragments are one-line HTML blocks, which
        # Markdown passes through untouched (titles inside are escaped, so stay text).
        gr.Markdown(intro_html(settings.title, service.titles), **STATIC)
        turns = gr.State(())
        chatbot = gr.Chatbot(
            elem_id="qa-chat",
            show_label=False,
            height="60vh",
            min_height=320,
            autoscroll=False,  # SCROLL_SCRIPT scrolls to the start of a reply instead
            render_markdown=False,  # our HTML is built escaped; Markdown in a passage stays text
            sanitize_html=True,
            latex_delimiters=[],  # "$$" in a passage is not maths
            allow_tags=False,
            line_breaks=False,
            group_consecutive_messages=False,
            layout="panel",
            feedback_options=("Like", "Dislike"),
            examples=[{"text": q} for q in service.examples] or None,
            buttons=[],
            allow_file_downloads=False,
        )
        gr.Markdown(notice_html(), **STATIC)
        textbox = gr.Textbox(
            elem_id="qa-question",
            show_label=False,
            placeholder="Ask a question about the articles…",
            lines=1,
            max_lines=6,
            submit_btn="Ask",
            autofocus=True,
        )

        def on_submit(message: str, history: tuple[Turn, ...]) -> tuple[Any, ...]:
            history = tuple(history or ())
            turn = service.respond(message, history)
            history = (*history, turn)[-settings.max_turns :]
            return chat_messages(history), history, ""

        def on_example(history: tuple[Turn, ...], event: gr.SelectData) -> tuple[Any, ...]:
            value = event.value if isinstance(event.value, dict) else {}
            return on_submit(str(value.get("text", "")), history)

        def on_like(history: tuple[Turn, ...], event: gr.LikeData) -> tuple[Turn, ...]:
            history = tuple(history or ())
            # Gradio sends True for Like, False for Dislike and "" when a vote is withdrawn.
            if not isinstance(event.index, int):
                return history
            n = turn_index_at(history, event.index)
            if n is None:
                return history
            votes: dict[object, Vote] = {True: "up", False: "down"}
            vote = votes.get(event.liked) if isinstance(event.liked, bool) else None
            return (*history[:n], service.vote(history[n], vote), *history[n + 1 :])

        def on_clear() -> tuple[Turn, ...]:
            return ()

        private: dict[str, Any] = {"api_visibility": "private"}
        # Through the queue (its bypass is closed), but never waiting behind searches.
        quick: dict[str, Any] = {"show_progress": "hidden", "concurrency_limit": None, **private}
        # While a question is answered it stays in view but cannot be edited or sent again (as
        # Gradio's ChatInterface does): letters typed meanwhile used to be wiped by the answer
        # clearing the box, and a second send was lost. The box opens again, focused, even
        # when the answer failed.
        (
            textbox.submit(lambda: gr.Textbox(interactive=False), None, [textbox], **quick)
            .then(
                on_submit,
                [textbox, turns],
                [chatbot, turns, textbox],
                show_progress="minimal",
                **private,
            )
            .then(lambda: gr.Textbox(interactive=True), None, [textbox], **quick)
        )
        chatbot.example_select(on_example, [turns], [chatbot, turns, textbox], **private)
        # Votes are quick SQLite writes: their own concurrency group, not behind searches, one
        # at a time. Each answer has one vote row whatever order clicks arrive in (the store's
        # set_vote); clicks within milliseconds may still arrive out of order.
        chatbot.like(
            on_like, [turns], [turns], concurrency_limit=1, concurrency_id="votes", **private
        )
        chatbot.clear(on_clear, None, [turns], **private)

        def ask(question: str, history: list[str] | None = None) -> dict[str, Any]:
            """The passages that answer ``question`` (verbatim, with their sources), or
            ``abstained: true`` when the articles do not cover it. ``history`` holds the
            earlier questions of the conversation, oldest first, to resolve a follow-up.
            ``crisis`` is true when the question reads as a crisis; ``crisis_message`` then
            holds help resources to show first."""
            try:
                return service.ask(question, history or [])
            except InputError as error:
                raise gr.Error(str(error), print_exception=False) from error

        gr.api(ask, api_name="ask")
    demo.queue(max_size=queue_size, default_concurrency_limit=concurrency, api_open=False)
    return ChatApp(demo, service)
