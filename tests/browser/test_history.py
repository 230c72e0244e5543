"""A person opens a clause's history, compares versions, restores one, and compares named versions."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import clause

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
