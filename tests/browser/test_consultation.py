"""The consultation in the browser: quoting a passage, live threads, amendments, accessibility."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import run_axe
from tests.browser.pages import clause

pytestmark = pytest.mark.browser

LIVE = 3000  # ms: a live change, plus the fragment it makes the page fetch, on a loaded 2-core machine


def open_plan(page, live_server):
    page.goto(live_server.url("/documents"))
    page.get_by_role("link", name=re.compile("Joint Action Plan")).click()
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")



def select_words(item, first: int, count: int) -> str:
    """Select words of a clause's text as a person would, with a range; return the selected text."""
    return item.locator(".clause-text").evaluate(
        """(el, [first, count]) => {
             const node = el.firstChild;
             const words = [...node.data.matchAll(/\\S+/g)];
             const range = document.createRange();
             range.setStart(node, words[first].index);
             const last = words[first + count - 1];
             range.setEnd(node, last.index + last[0].length);
             const selection = document.getSelection();
             selection.removeAllRanges();
             selection.addRange(range);
             return selection.toString();
           }""", [first, count])


def test_quote_comment_live_and_resolve(new_page, live_server):
    lieve, tereza = new_page("commenter"), new_page("editor")
    open_plan(lieve, live_server)
    open_plan(tereza, live_server)

    quoted = select_words(clause(lieve, 2), 3, 4)
    button = lieve.get_by_role("button", name="Comment on the selected words")
    expect(button).to_be_visible()
    button.click()
    form = clause(lieve, 2).locator("form.consult-form")
    expect(form.get_by_label("Comment", exact=True)).to_be_focused()
    expect(form.locator("textarea[name=quote]")).to_have_value(quoted)
    form.get_by_label("Comment", exact=True).fill("Could we name the seven countries here? @Tereza Novotná")
    form.get_by_role("button", name="Post comment").click()
    thread = clause(lieve, 2).locator("article.thread")
    expect(thread.locator("blockquote")).to_have_text(quoted)
    expect(clause(lieve, 2).locator(".consult-status")).to_have_text("Comment posted.")
    expect(clause(lieve, 2).locator("mark.quoted")).to_have_text(quoted)

    # The editor sees it live: the count, the thread, and it is in the open threads panel.
    summary = clause(tereza, 2).locator(".consult-details > summary")
    expect(summary).to_contain_text("1 open thread", timeout=LIVE)
    expect(tereza.locator("#open-threads")).to_contain_text(quoted, timeout=LIVE)
    expect(tereza.locator("#open-threads")).to_contain_text("7 open threads")
    expect(tereza.locator("#notifications-link")).to_contain_text("(1 unread)", timeout=LIVE)  # the mention
    summary.click()
    their = clause(tereza, 2).locator("article.thread")
    expect(their.locator("blockquote")).to_have_text(quoted)
    their.get_by_role("button", name="Resolve").click()
    expect(clause(tereza, 2).locator(".consult-status")).to_have_text("Thread resolved.")

    # And the commenter sees it resolved, live.
    expect(clause(lieve, 2).locator("article.thread .chip")).to_have_text("Resolved", timeout=LIVE)
    expect(clause(lieve, 2).locator("mark.quoted")).to_have_count(0)


def test_reply_keeps_what_others_are_typing(new_page, live_server):
    lieve, tereza = new_page("commenter"), new_page("editor")
    open_plan(lieve, live_server)
    open_plan(tereza, live_server)
    # Lieve starts a reply on the seeded thread of clause 4 ...
    clause(lieve, 5).locator(".consult-details > summary").click()
    clause(lieve, 5).get_by_role("link", name="Reply").click()
    area = clause(lieve, 5).get_by_label("Your reply")
    expect(area).to_be_focused()
    area.fill("Half-typed reply")
    # ... while Tereza replies to the same thread.
    clause(tereza, 5).locator(".consult-details > summary").click()
    clause(tereza, 5).get_by_role("link", name="Reply").click()
    clause(tereza, 5).get_by_label("Your reply").fill("The committee agrees.")
    clause(tereza, 5).get_by_role("button", name="Post reply").click()
    expect(clause(lieve, 5).locator(".comments")).to_contain_text("The committee agrees.", timeout=LIVE)
    expect(clause(lieve, 5).get_by_label("Your reply")).to_have_value("Half-typed reply")


def test_only_clauses_with_open_threads(new_page, live_server):
    page = new_page("observer")
    open_plan(page, live_server)
    total = page.locator("ol.clause-list > li.clause").count()
    toggle = page.get_by_role("button", name="Show only clauses with open threads")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(page.locator("ol.clause-list > li.clause:visible")).to_have_count(6)
    expect(page.locator("#only-open-status")).to_have_text("Showing only the 6 clauses with open threads.")
    # Going to a thread from the panel opens its discussion.
    page.locator("#open-threads").get_by_role("link", name="Clause 16").click()
    expect(page.locator("article.thread", has_text="fast-track schemes for digital therapeutics")).to_be_in_viewport()
    toggle.click()
    expect(page.locator("ol.clause-list > li.clause:visible")).to_have_count(total)


def test_amendment_proposed_and_accepted_shows_as_a_diff(new_page, live_server):
    lieve, tereza = new_page("commenter"), new_page("editor")
    open_plan(lieve, live_server)
    open_plan(tereza, live_server)
    original = clause(lieve, 3).locator(".clause-text").inner_text()

    clause(lieve, 3).get_by_role("link", name="Propose amendment to clause 3").click()
    form = clause(lieve, 3).locator("form.consult-form")
    text = form.get_by_label("Proposed text of the clause")
    expect(text).to_be_focused()
    expect(text).to_have_value(original)
    text.fill(original + " Progress is reported to every presidency.")
    form.get_by_label("Rationale").fill("Keeps the presidencies <em>informed</em>.")
    form.get_by_role("button", name="Propose amendment").click()
    amendment = clause(lieve, 3).locator("article.amendment")
    expect(amendment.locator(".diff ins")).to_contain_text("Progress is reported to every presidency.")
    expect(amendment.locator(".rationale em")).to_have_text("informed")

    summary = clause(tereza, 3).locator(".consult-details > summary")
    expect(summary).to_contain_text("1 open amendment", timeout=LIVE)
    summary.click()
    clause(tereza, 3).locator("article.amendment").get_by_role("button", name="Accept").click()
    expect(clause(tereza, 3).locator(".clause-status")).to_contain_text("credited to Lieve Vandamme")
    expect(clause(tereza, 3).locator(".clause-text")).to_have_text(original + " Progress is reported to every presidency.")
    expect(clause(tereza, 3).locator(".clause-version")).to_have_text("v2")

    expect(clause(lieve, 3).locator(".clause-text")).to_have_text(
        original + " Progress is reported to every presidency.", timeout=LIVE)
    expect(clause(lieve, 3).locator("article.amendment .chip")).to_have_text("Accepted amendment", timeout=LIVE)
    expect(clause(lieve, 3).locator("article.amendment .diff ins")).to_contain_text("Progress is reported")


def test_consultation_pages_have_no_serious_accessibility_violations(new_page, live_server):
    tereza = new_page("editor")
    open_plan(tereza, live_server)
    document_url = tereza.url
    # The document with a discussion open, an amendment and a reply form.
    clause(tereza, 5).locator(".consult-details > summary").click()
    clause(tereza, 5).get_by_role("link", name="Reply").click()
    clause(tereza, 7).locator(".consult-details > summary").click()
    clause(tereza, 7).get_by_role("link", name="Accept with changes").click()
    expect(clause(tereza, 7).locator("form.consult-form textarea")).to_be_visible()
    assert run_axe(tereza) == []
    document_id = document_url.rstrip("/").split("/")[-1]
    for path in ("threads", "contributions", "summary", "report"):
        tereza.goto(live_server.url(f"/documents/{document_id}/{path}"))
        assert run_axe(tereza) == [], path
    tereza.goto(live_server.url("/notifications"))
    assert run_axe(tereza) == []

    lieve = new_page("commenter")
    open_plan(lieve, live_server)
    clause(lieve, 5).get_by_role("link", name="Comment on clause 5").click()
    expect(clause(lieve, 5).locator("form.consult-form")).to_be_visible()
    assert run_axe(lieve) == []
    lieve.goto(live_server.url("/documents"))
    lieve.get_by_role("link", name=re.compile("Joint Declaration")).click()
    lieve.get_by_role("link", name="Contributions from the clusters").click()
    expect(lieve.get_by_role("heading", name="Submit a contribution")).to_be_visible()
    assert run_axe(lieve) == []
