"""A person opens a clause's history, compares versions, restores one, and compares named versions."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import HOLD_ANSWERS, clause

from .conftest import run_axe

pytestmark = pytest.mark.browser



def open_declaration(page, live_server):
    page.goto(live_server.url("/documents"))
    page.get_by_role("link", name=re.compile("Joint Declaration")).click()
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")


def save(page, number: int, text: str):
    item = clause(page, number)
    item.get_by_role("link", name=f"Edit clause {number}").click()
    expect(item.locator("textarea")).to_be_focused()
    item.locator("textarea").fill(text)
    item.get_by_role("button", name="Save").click()
    expect(item.locator(".clause-status")).to_contain_text("Saved as version")


def test_history_diff_and_restore(new_page, live_server):
    page = new_page("editor")
    open_declaration(page, live_server)
    original = clause(page, 3).locator(".clause-text").inner_text()
    save(page, 3, original.replace("Recalling", "Recalling with <concern> & care", 1))

    clause(page, 3).get_by_role("link", name="History of clause 3").click()
    panel = clause(page, 3).locator(".history-panel")
    expect(panel.locator("table.revisions tbody tr")).to_have_count(2)
    expect(panel.locator(".diff ins")).to_contain_text("with <concern> & care")  # shown as text, not markup
    assert run_axe(page) == []

    panel.get_by_role("link", name="Side by side").click()
    expect(panel.locator(".side-by-side ins")).to_contain_text("with <concern> & care")
    panel.get_by_label("Compare from version 2").check()
    panel.get_by_label("Compare to version 1").check()
    panel.get_by_role("button", name="Compare selected versions").click()
    expect(panel.locator(".diff-head h4")).to_contain_text("(the reverse change)")
    expect(panel.locator(".diff del")).to_contain_text("with <concern> & care")

    page.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_role("button", name="Restore version 1").click()
    expect(clause(page, 3).locator(".clause-status")).to_have_text("Restored version 1 as version 3.")
    expect(clause(page, 3).locator(".clause-text")).to_have_text(original)


def test_named_versions_compare_and_print_view(new_page, live_server):
    page = new_page("editor")
    page.goto(live_server.url("/documents"))
    page.get_by_role("link", name=re.compile("Joint Declaration")).click()
    page.get_by_role("link", name="Named versions and comparisons").click()
    page.get_by_label("Name").fill("Consultation draft")
    page.get_by_role("button", name="Save named version").click()
    expect(page.locator(".flash")).to_have_text("Named version saved.")
    page.get_by_role("link", name=re.compile("Joint Declaration")).click()
    save(page, 1, "The preamble as the committee now has it.")
    page.get_by_role("link", name="Named versions and comparisons").click()
    page.get_by_role("button", name="Compare").click()
    expect(page.locator(".summary")).to_contain_text("1 changed")
    expect(page.locator(".compare-entry .diff ins")).to_contain_text("committee now has")
    assert run_axe(page) == []


def open_history_after_a_save(page, live_server):
    page.add_init_script(HOLD_ANSWERS)
    open_declaration(page, live_server)
    original = clause(page, 3).locator(".clause-text").inner_text()
    save(page, 3, original.replace("Recalling", "Recalling with care", 1))
    clause(page, 3).get_by_role("link", name="History of clause 3").click()
    expect(clause(page, 3).locator(".history-panel table.revisions tbody tr")).to_have_count(2)
    return original, clause(page, 3).get_attribute("data-url")


def test_a_live_refresh_waits_for_the_restore_under_way_on_that_clause(new_page, live_server):
    # The restore's own live event arrives before its answer: the clause is not fetched again
    # (the answer brings it), and the answer's status is what the person sees.
    page = new_page("editor")
    original, url = open_history_after_a_save(page, live_server)
    page.evaluate("url => { window.heldAnswers['/restore'] = 1500; window.sentRequests.length = 0; }", url)
    page.once("dialog", lambda dialog: dialog.accept())
    clause(page, 3).get_by_role("button", name="Restore version 1").click()
    expect(clause(page, 3).locator(".clause-status")).to_have_text("Restored version 1 as version 3.")
    expect(clause(page, 3).locator(".clause-text")).to_have_text(original)
    assert page.evaluate("url => window.sentRequests.filter(r => r === 'GET ' + url)", url) == []


def test_a_restore_answer_reaches_the_clause_a_live_refresh_put_in_its_place(new_page, live_server):
    # Another editor saves while the restore is under way, and the refresh for their save swaps
    # the clause (and the Restore button with it) out of the page before the restore's answer:
    # that answer still reaches the clause in the page.
    page = new_page("editor")
    original, url = open_history_after_a_save(page, live_server)
    page.evaluate("url => { window.heldAnswers['GET ' + url] = 1000; window.heldAnswers['/restore'] = 2500; }", url)
    other = new_page("editor2")
    open_declaration(other, live_server)
    save(other, 3, original.replace("Recalling", "Recalling with great care", 1))
    page.wait_for_function("url => window.sentRequests.includes('GET ' + url)", arg=url)  # the refresh is under way
    page.once("dialog", lambda dialog: dialog.accept())
    clause(page, 3).get_by_role("button", name="Restore version 1").click()
    expect(clause(page, 3).locator(".clause-status")).to_have_text("Restored version 1 as version 4.", timeout=10000)
    expect(clause(page, 3).locator(".clause-text")).to_have_text(original)
