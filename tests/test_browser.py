"""The chat in a real browser: Debian's chromium driven by playwright (never `playwright install`).

Two apps are served on loopback: ``python app.py`` itself on the real corpus with the real
model (what a visitor gets; the README screenshots come from it), and an in-process app on a
tiny corpus whose text carries hostile markup, with a loopback "attacker" server that counts
every request, so that "nothing was loaded" is measured rather than assumed.
"""

from __future__ import annotations

import http.server
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urljoin

import pytest
from chat_support import EXAMPLES, STAFF_LOGIN, make_searcher, run_app, serving, staff_serving
from playwright.sync_api import expect, sync_playwright

from qa.chat import ChatSettings
from qa.render import NOT_COVERED
from qa.search import Searcher
from qa.store import Store
from qa.ui import build_app

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
TIMEOUT_MS = 60_000


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `make chromium` (Debian's chromium), "
            'or deselect these tests with -m "not browser"'
        )
    DOCS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def real_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python app.py`` on the bundled corpus, with the real model (builds its index)."""
    tmp = tmp_path_factory.mktemp("real")
    app = run_app(["--index", str(tmp / "index"), "--data", str(tmp / "data")])
    yield app.url.rstrip("/")
    app.stop()


class Attacker(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Attacker.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def attacker() -> Iterator[tuple[int, list[str]]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Attacker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Attacker.hits = []
    yield server.server_address[1], Attacker.hits
    server.shutdown()


@pytest.fixture(scope="module")
def hostile(
    tmp_path_factory: pytest.TempPathFactory, attacker: tuple[int, list[str]]
) -> Iterator[tuple[str, Store]]:
    """The tiny corpus with hostile markup pointing at the attacker, served in-process."""
    tmp = tmp_path_factory.mktemp("hostile")
    searcher = make_searcher(tmp, evil_port=attacker[0])
    with (
        Store(tmp / "qa.sqlite3") as store,
        serving(build_app(searcher, store, ChatSettings(examples=EXAMPLES))) as url,
    ):
        yield url, store


def new_page(browser: object, width: int = 1000, height: int = 820) -> object:
    page = browser.new_page(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    page.set_default_timeout(TIMEOUT_MS)
    return page


def ask(page: object, question: str) -> object:
    """Type a question, send it, and return the locator of the reply it gets."""
    replies = page.locator("#qa-chat .message-row.bot-row")  # type: ignore[attr-defined]
    before = replies.count()
    box = page.locator("#qa-question textarea")  # type: ignore[attr-defined]
    box.fill(question)
    box.press("Enter")
    expect(replies).to_have_count(before + 1, timeout=TIMEOUT_MS)
    return replies.last


def screenshot(page: object, name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Save a screenshot (viewport only, CSS pixels, so it stays small to commit).

    It goes to a temporary folder, so running the tests never edits tracked files; with
    QA_UPDATE_SCREENSHOTS=1 it refreshes the README's copies in docs/.
    """
    update = os.environ.get("QA_UPDATE_SCREENSHOTS") == "1"
    folder = DOCS if update else tmp_path_factory.getbasetemp()
    path = folder / name
    page.screenshot(path=str(path), scale="css")  # type: ignore[attr-defined]
    assert path.stat().st_size < 400_000


CONTRAST = """e => {
  const rgba = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const lin = v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  let back = null;
  for (let n = e; n && !back; n = n.parentElement) {
    const c = rgba(getComputedStyle(n).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) back = c.slice(0, 3);
  }
  back = back || [255, 255, 255];
  let alpha = 1;
  for (let n = e; n; n = n.parentElement) alpha *= Number(getComputedStyle(n).opacity);
  const fore = rgba(getComputedStyle(e).color);
  const a = alpha * (fore.length === 4 ? fore[3] : 1);
  const seen = fore.slice(0, 3).map((v, i) => a * v + (1 - a) * back[i]);
  const [hi, lo] = [luminance(seen), luminance(back)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}"""


def contrast(locator: object) -> float:
    """The contrast ratio of the element's text against the first opaque background behind it,
    its own and its ancestors' opacity included."""
    return float(locator.evaluate(CONTRAST))  # type: ignore[attr-defined]


def open_chat(page: object, url: str) -> None:
    page.goto(url)  # type: ignore[attr-defined]
    expect(page.locator("#qa-question textarea")).to_be_visible()  # type: ignore[attr-defined]


# --- the real app -----------------------------------------------------------------------


def test_a_question_gets_cited_passages_and_the_source_opens_there(
    browser: object, real_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    page = new_page(browser)
    open_chat(page, real_url)
    expect(page.locator(".qa-notice")).to_contain_text("not medical advice")
    question = "How long do the effects of a ketamine treatment last?"
    reply = ask(page, question)
    cards = reply.locator(".qa-card")
    expect(cards.first).to_be_visible()
    assert 1 <= cards.count() <= 3
    labels = cards.locator(".qa-cite").all_inner_texts()
    assert [label[:3] for label in labels] == [f"[{n}]" for n in range(1, len(labels) + 1)]
    assert re.match(r"^\[1\] \S.*", labels[0])
    first = cards.first
    expect(first.locator(".qa-passage mark")).not_to_have_text("")
    passage = first.locator(".qa-passage").inner_text()
    expect(first.locator(".qa-where")).to_contain_text("characters")
    screenshot(page, "screenshot.png", tmp_path_factory)
    # Screen readers get each message's text as its name, not our HTML.
    names = page.locator("#qa-chat [aria-label*=\"message\"]").evaluate_all(
        "els => els.map(e => e.getAttribute('aria-label'))"
    )
    assert names and not any("<" in name for name in names), names
    assert any(labels[0] in name for name in names)

    href = first.locator("a.qa-open").get_attribute("href")
    source = new_page(browser, 1000, 700)
    source.goto(urljoin(page.url, href))
    mark = source.locator("mark#qa-passage")
    expect(mark).to_be_visible()
    assert " ".join(mark.inner_text().split()) == " ".join(passage.split())
    box = mark.bounding_box()
    assert box is not None and 0 <= box["y"] < 700  # opened at the passage, not at the top
    expect(source.locator(".notice")).to_contain_text("not medical advice")
    source.close()

    follow = ask(page, "How long do they last?")
    expect(follow.locator(".qa-query")).to_contain_text("Read with your earlier question:")
    expect(follow.locator(".qa-query q")).to_have_text(question)
    # Small secondary text must stay readable (WCAG AA: 4.5:1 against what is behind it).
    for line in (follow.locator(".qa-query"), first.locator(".qa-where")):
        assert contrast(line) >= 4.5
    page.close()


def test_typing_while_a_question_is_answered_loses_nothing(browser: object, real_url: str) -> None:
    # An exploratory session found letters typed right after sending eaten by the answer
    # clearing the box, and a second send lost. The box is now closed while answering.
    page = new_page(browser)
    open_chat(page, real_url)
    replies = page.locator("#qa-chat .message-row.bot-row")
    box = page.locator("#qa-question textarea")
    box.fill("does ketamine help with anxiety?")
    # What the closed box holds is recorded as it closes: the answer can come within
    # milliseconds, too fast to look at the box from here.
    page.evaluate("""() => {
      const box = document.querySelector("#qa-question textarea");
      window.qaClosedWith = null;
      new MutationObserver(() => {
        if (box.disabled && window.qaClosedWith === null) window.qaClosedWith = box.value;
      }).observe(box, { attributes: true, attributeFilter: ["disabled"] });
    }""")
    box.press("Enter")
    expect(replies).to_have_count(1)
    closed_with = page.evaluate("() => window.qaClosedWith")
    assert closed_with == "does ketamine help with anxiety?"  # still in view meanwhile
    expect(box).to_be_enabled()
    expect(box).to_have_value("")
    expect(box).to_be_focused()  # the next question can be typed straight away
    page.keyboard.type("does it help with ptsd?")
    expect(box).to_have_value("does it help with ptsd?")
    box.press("Enter")
    box.press("Enter")  # a second Enter while it is answered sends nothing twice
    expect(replies).to_have_count(2)
    expect(box).to_be_enabled()
    page.wait_for_timeout(500)
    assert replies.count() == 2
    users = page.locator("#qa-chat .message-row.user-row").all_inner_texts()
    assert [" ".join(u.split()) for u in users] == [
        "does ketamine help with anxiety?", "does it help with ptsd?"
    ]
    page.close()


def test_an_off_topic_question_is_not_covered(browser: object, real_url: str) -> None:
    page = new_page(browser)
    open_chat(page, real_url)
    reply = ask(page, "How do I bake sourdough bread?")
    expect(reply.locator(".qa-not-covered")).to_have_text(NOT_COVERED)
    expect(reply.locator(".qa-card")).to_have_count(0)
    expect(reply.locator(".qa-topics li").first).to_be_visible()
    expect(reply.locator(".qa-examples li").first).to_be_visible()
    # A "not covered" reply can be voted on (a thumbs-down logs the question for staff) ...
    expect(reply.locator(".message-buttons")).to_be_visible()
    # A suggested question asks itself, and gets passages.
    suggestion = reply.locator(".qa-examples a.qa-ask").first
    asked = suggestion.inner_text()
    replies = page.locator("#qa-chat .message-row.bot-row")
    before = replies.count()
    suggestion.click()
    expect(replies).to_have_count(before + 1, timeout=TIMEOUT_MS)
    expect(page.locator(".qa-user").last).to_have_text(asked)
    expect(replies.last.locator(".qa-card").first).to_be_visible()
    # ... and so can an answer; small talk cannot.
    expect(replies.last.locator(".message-buttons")).to_be_visible()
    expect(ask(page, "thanks!").locator(".message-buttons")).to_be_hidden()
    page.close()


def test_a_word_the_articles_never_mention_is_named_above_the_passages(
    browser: object, real_url: str
) -> None:
    page = new_page(browser)
    open_chat(page, real_url)
    reply = ask(page, "is ketamine safe while pregnant?")
    caution = reply.locator(".qa-missing")
    expect(caution).to_contain_text("never mention “pregnant”")
    expect(reply.locator(".qa-card").first).to_be_visible()
    below = reply.locator(".qa-card").first.bounding_box()["y"]
    assert caution.bounding_box()["y"] < below, "the caution comes before the passages"
    page.close()


def test_a_crisis_message_gets_the_resources_first(browser: object, real_url: str) -> None:
    page = new_page(browser, 390, 844)  # on a phone too the resources must be in sight
    open_chat(page, real_url)
    reply = ask(page, "i dont want to be alive anymore. can ketamine help with suicidal thoughts?")
    crisis = reply.locator(".qa-crisis")
    expect(crisis).to_contain_text("988")
    expect(crisis).to_contain_text("emergency")
    expect(crisis.locator("a[href='https://findahelpline.com']")).to_be_visible()
    # The resources come before any passage in the reply ...
    order = reply.evaluate(
        """r => { const c = r.querySelector('.qa-crisis'), card = r.querySelector('.qa-card');
                  return !card || !!(c.compareDocumentPosition(card) & 4); }"""
    )
    assert order
    # ... and the chat is scrolled to them, not to the end of the reply.
    log = page.locator('#qa-chat [role="log"]')
    expect(crisis).to_be_in_viewport()
    crisis_top = crisis.bounding_box()["y"]
    log_box = log.bounding_box()
    assert log_box["y"] <= crisis_top < log_box["y"] + log_box["height"]
    # The resources alone are not an answer to vote on; small talk is not either.
    expect(reply.locator("button[aria-label='Like']")).to_be_hidden()
    expect(ask(page, "thanks!").locator("button[aria-label='Like']")).to_be_hidden()
    # Nor is a later answer that still carries the resources (no vote on it would be stored).
    later = ask(page, "what are the side effects of ketamine?")
    expect(later.locator(".qa-crisis")).to_be_visible()
    expect(later.locator(".qa-card").first).to_be_visible()
    expect(later.locator("button[aria-label='Like']")).to_be_hidden()
    page.close()


def test_html_typed_by_a_visitor_stays_text(browser: object, real_url: str) -> None:
    page = new_page(browser)
    open_chat(page, real_url)
    typed = (
        '<img src=x onerror="window.__pwned=1"> <b>bold</b> ![t](http://127.0.0.1:9/x.png) ketamine'
    )
    ask(page, typed)
    expect(page.locator(".qa-user").last).to_have_text(typed)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#qa-chat img").count() == 0
    assert page.locator("#qa-chat .qa-user b").count() == 0
    page.close()


def test_phone_width(
    browser: object, real_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    page = new_page(browser, 390, 844)
    open_chat(page, real_url)
    box = page.locator("#qa-question textarea").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844  # the whole box, unscrolled
    page.get_by_text(EXAMPLE_ON_PHONE, exact=True).click()  # an example question, clicked
    reply = page.locator("#qa-chat .message-row.bot-row").last
    expect(reply.locator(".qa-card").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    expect(page.locator(".qa-notice")).to_be_in_viewport()
    expect(page.locator("#qa-question textarea")).to_be_in_viewport()
    screenshot(page, "screenshot-phone.png", tmp_path_factory)
    page.close()


EXAMPLE_ON_PHONE = "What are the side effects of ketamine therapy?"


def test_phone_width_shows_the_whole_crisis_box(browser: object, real_url: str) -> None:
    page = new_page(browser, 390, 844)
    open_chat(page, real_url)
    crisis = ask(page, "i want to kill myself").locator(".qa-crisis")
    expect(crisis).to_contain_text("911")
    page.wait_for_timeout(300)  # the scroll runs on the next animation frame
    box, panel = crisis.bounding_box(), page.locator("#qa-chat").bounding_box()
    assert box is not None and panel is not None
    assert panel["y"] <= box["y"] and box["y"] + box["height"] <= panel["y"] + panel["height"]
    page.close()


def test_a_small_phone_shows_all_three_crisis_resources_unscrolled(
    browser: object, real_url: str
) -> None:
    page = new_page(browser, 375, 667)
    open_chat(page, real_url)
    crisis = ask(page, "i want to die").locator(".qa-crisis")
    expect(crisis).to_contain_text("988")
    page.wait_for_timeout(300)  # the scroll runs on the next animation frame
    panel = page.locator("#qa-chat").bounding_box()
    assert panel is not None
    resources = crisis.locator("li")
    expect(resources).to_have_count(3)
    expect(resources.nth(2)).to_contain_text("911")
    for n in range(3):  # 988, findahelpline.com and the emergency number
        item = resources.nth(n).bounding_box()
        assert item is not None
        bottom = item["y"] + item["height"]
        assert panel["y"] <= item["y"] and bottom <= panel["y"] + panel["height"]
    expect(page.locator("#qa-question textarea")).to_be_in_viewport()
    page.close()


# --- the hostile corpus -----------------------------------------------------------------


def test_markup_in_the_corpus_is_inert(
    browser: object, hostile: tuple[str, Store], attacker: tuple[int, list[str]]
) -> None:
    url, _ = hostile
    page = new_page(browser)
    open_chat(page, url)
    reply = ask(page, "compost bin overlay heat weed seeds")
    expect(reply.locator(".qa-card").first).to_be_visible()
    expect(reply).to_contain_text('<div style="position:fixed')
    expect(reply).to_contain_text("<script>window.__pwned = 'script'</script>")
    expect(reply).to_contain_text("![compost tracker](http://127.0.0.1:")
    for selector in ("#overlay", "#qa-chat script", "#qa-chat form", "#qa-chat img"):
        assert page.locator(selector).count() == 0, selector
    assert page.evaluate("window.__pwned") is None
    hit = page.evaluate("(() => { const e = document.elementFromPoint(500, 410); return e.id; })()")
    assert hit != "overlay"
    # Open the source page too: the same text, inert there as well.
    href = reply.locator("a.qa-open").first.get_attribute("href")
    page.goto(urljoin(page.url, href))
    expect(page.locator("mark#qa-passage")).to_be_visible()
    assert page.locator("img, script:not([src]), form, #overlay").count() == 0
    time.sleep(1)  # give any stray request time to arrive before counting
    assert attacker[1] == []
    page.close()


def test_the_csp_blocks_remote_images_even_if_markup_got_through(
    browser: object, hostile: tuple[str, Store], attacker: tuple[int, list[str]]
) -> None:
    url, _ = hostile
    port, hits = attacker
    page = new_page(browser)
    open_chat(page, url)
    # Simulate a sanitizer bypass: put a remote image into the page directly.
    violated = page.evaluate(
        """src => new Promise(resolve => {
             document.addEventListener('securitypolicyviolation',
               e => resolve(e.violatedDirective), { once: true });
             const img = document.createElement('img');
             img.src = src;
             document.body.appendChild(img);
             setTimeout(() => resolve(null), 5000);
           })""",
        f"http://127.0.0.1:{port}/csp-probe.png",
    )
    assert violated == "img-src"
    assert "/csp-probe.png" not in hits
    page.close()


def test_thumbs_down_is_recorded_for_staff(browser: object, hostile: tuple[str, Store]) -> None:
    url, store = hostile
    page = new_page(browser)
    open_chat(page, url)
    question = "How often should I water tomato plants?"
    reply = ask(page, question)
    expect(reply.locator(".qa-card").first).to_be_visible()
    # Gradio puts a reply's vote buttons after its row; the last pair is this reply's.
    page.locator('#qa-chat button[aria-label="Dislike"]').last.click()
    # The vote, then the unanswered entry, are written by the server after the click.
    logged = (question, "thumbs_down")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and logged not in unanswered(store):
        time.sleep(0.2)
    assert logged in unanswered(store)
    votes = [f for f in store.feedback() if f.question == question]
    assert [f.vote for f in votes] == ["down"]
    assert votes[0].passage_ids and votes[0].index_version
    # Three clicks in one tick: whatever order they arrive in, the answer keeps one vote,
    # and a thumbs-down entry only if that vote is down.
    page.evaluate(
        """() => { const bar = [...document.querySelectorAll('#qa-chat .message-buttons')].pop();
                   const find = name => [...bar.querySelectorAll('button')].find(
                     b => (b.getAttribute('aria-label') || '').startsWith(name));
                   const up = find('Like'), down = find('Dislike');
                   up.click(); down.click(); up.click(); }"""
    )
    page.wait_for_timeout(1500)
    votes = [f.vote for f in store.feedback() if f.question == question]
    assert len(votes) == 1, votes
    assert (logged in unanswered(store)) == (votes == ["down"])
    assert [u for u in unanswered(store) if u == logged] in ([], [logged])
    page.close()


def unanswered(store: Store) -> list[tuple[str, str]]:
    return [(u.question, u.reason) for u in store.unanswered()]


def test_a_full_queue_tells_the_visitor_to_try_again(browser: object, tmp_path: Path) -> None:
    release = threading.Event()
    base = make_searcher(tmp_path)

    class Slow(Searcher):
        def search(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            release.wait(60)
            return super().search(*args, **kwargs)

    slow = Slow(base.index, base.embedder, base.settings)
    chat = build_app(slow, None, ChatSettings(examples=()), queue_size=1, concurrency=1)
    with serving(chat) as url:
        pages = [new_page(browser) for _ in range(3)]
        try:
            for page in pages:
                open_chat(page, url)
            for page in pages:
                box = page.locator("#qa-question textarea")
                box.fill("How often should I water tomato plants?")
                box.press("Enter")
                time.sleep(0.5)  # in order: one runs, one waits, the last finds the queue full
            expect(pages[2].get_by_text("currently busy")).to_be_visible()
            expect(pages[2].get_by_text("try again")).to_be_visible()
            release.set()
            # The refused visitor's question is still there, and can be sent again once the
            # queue has room (the two before it answered; sent sooner, it is refused again).
            box = pages[2].locator("#qa-question textarea")
            expect(box).to_be_enabled()
            expect(box).to_have_value("How often should I water tomato plants?")
            answers = [page.locator("#qa-chat .message-row.bot-row") for page in pages]
            for answered in answers[:2]:
                expect(answered).to_have_count(1, timeout=30_000)
            box.press("Enter")
            expect(answers[2]).to_have_count(1, timeout=30_000)
        finally:
            release.set()
            for page in pages:
                page.close()


# --- the staff view -----------------------------------------------------------------------


def signed_in_staff_page(browser: object, url: str, width: int, height: int) -> Any:
    """A page of the staff view at ``url``, signed in with the staff login."""
    page = new_page(browser, width, height)
    page.goto(url)
    page.get_by_label("username").fill(STAFF_LOGIN[0])
    page.get_by_label("password").fill(STAFF_LOGIN[1])
    page.get_by_role("button", name="Login").click()
    return page


def test_a_refused_label_leaves_the_staff_labels_table_working(
    browser: object, tmp_path: Path
) -> None:
    with staff_serving(tmp_path) as url:
        page = signed_in_staff_page(browser, url, 1200, 900)
        page.get_by_label("Passage id").fill("not-a-candidate")  # type: ignore[attr-defined]
        page.get_by_role("button", name="Relevant", exact=True).click()  # type: ignore[attr-defined]
        expect(page.get_by_text("Not labelled")).to_be_visible()  # type: ignore[attr-defined]
        page.get_by_role("tab", name="Labels").click()  # type: ignore[attr-defined]
        table = page.locator("table").first  # type: ignore[attr-defined]
        expect(table).to_contain_text("passage id")
        assert page.get_by_text("Error", exact=True).count() == 0  # type: ignore[attr-defined]
        page.close()  # type: ignore[attr-defined]


def test_staff_add_a_searched_question_as_an_example_of_a_passage(
    browser: object, tmp_path: Path
) -> None:
    question = "when should I snip off the shoots"
    with staff_serving(tmp_path) as url:
        page = signed_in_staff_page(browser, url, 1400, 1000)
        page.get_by_label("Question", exact=True).fill(question)  # type: ignore[attr-defined]
        page.get_by_role("button", name="Search").click()  # type: ignore[attr-defined]
        asked = page.get_by_label("Example question: how visitors ask for this passage")  # type: ignore[attr-defined]
        expect(asked).to_have_value(question)
        cells = page.get_by_role("gridcell")  # type: ignore[attr-defined]
        cells.nth(2).click()  # the first candidate's passage id
        evidence = page.get_by_label("Evidence: a phrase of the passage that places the example")  # type: ignore[attr-defined]
        expect(evidence).not_to_have_value("")
        phrase = evidence.input_value()
        page.get_by_role("button", name="Add as an example of this passage").click()  # type: ignore[attr-defined]
        expect(page.get_by_text("Added line 1")).to_be_visible()  # type: ignore[attr-defined]
        assert phrase in (tmp_path / "corpus" / ".qa-examples.jsonl").read_text(encoding="utf-8")
        page.get_by_role("button", name="Search").click()  # type: ignore[attr-defined]
        # The closest example question is named in the candidate's row.
        expect(cells.filter(has_text=question).first).to_be_visible()
        assert page.get_by_text("Error", exact=True).count() == 0  # type: ignore[attr-defined]
        page.close()  # type: ignore[attr-defined]
