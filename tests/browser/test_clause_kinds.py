"""Clause kinds in Chromium: an editor makes an article a section, every open page renumbers the
clauses after it live; a plan's action is edited with its fields; the timeline reads on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import HOLD_ANSWERS, clause, open_document

from .conftest import run_axe

pytestmark = pytest.mark.browser
LIVE = 15_000




def test_a_new_section_renumbers_the_articles_after_it_on_every_open_page(new_page, live_server):
    editor, reader = new_page("editor"), new_page("observer")
    editor.add_init_script(HOLD_ANSWERS)
    for page in (editor, reader):
        open_document(page, live_server, "Joint Declaration")
    # The editor's own list refresh (the save renumbers) lands after the save's answer, as it may
    # under load: the answer's status line must survive it.
    editor.evaluate("() => { window.heldAnswers['GET ' + document.getElementById('clauses').dataset.refreshUrl] = 1500; }")
    expect(clause(reader, 13).locator(".clause-number")).to_have_text("2")
    expect(clause(reader, 14).locator(".clause-number")).to_have_text("3")

    thirteen = clause(editor, 13)
    thirteen.get_by_role("link", name="Edit clause 13").click()
    form = thirteen.locator("form")
    form.get_by_label("Kind").select_option("section")
    form.get_by_label("Heading").fill("Research")
    form.get_by_role("button", name="Save").click()
    expect(clause(editor, 13).locator(".clause-status")).to_have_text("Saved as version 2.")
    expect(clause(editor, 13).locator(".clause-kind")).to_have_text("Section 1")
    editor.wait_for_function("() => window.sentRequests.includes('GET ' + document.getElementById('clauses').dataset.refreshUrl)")
    expect(clause(editor, 14).locator(".clause-number")).to_have_text("1.1", timeout=LIVE)  # the list refreshed
    expect(clause(editor, 13).locator(".clause-status")).to_have_text("Saved as version 2.")

    # The reader's page renumbers the whole list, outline included, without a reload.
    expect(clause(reader, 13).locator(".clause-number")).to_have_text("1", timeout=LIVE)
    expect(clause(reader, 14).locator(".clause-number")).to_have_text("1.1", timeout=LIVE)
    expect(clause(reader, 31).locator(".clause-number")).to_have_text("1.18", timeout=LIVE)
    expect(reader.locator("#outline a[href='#" + clause(reader, 14).get_attribute("id") + "'] .outline-number")) \
        .to_have_text("1.1", timeout=LIVE)
    assert run_axe(reader) == []


def test_an_action_is_edited_with_its_fields_and_shows_on_the_timeline(new_page, live_server):
    page = new_page("editor")
    open_document(page, live_server, "Joint Action Plan")
    action = page.locator("ol.clause-list > li.clause", has_text="EHDS policy radar")
    expect(action.locator(".clause-number")).to_have_text("1.2")
    number = action.get_attribute("id")
    action.get_by_role("link", name=re.compile(r"^Edit clause \d+$")).click()
    form = page.locator(f"#{number} form")
    form.get_by_label("Mälaren Health Data Cluster").uncheck()
    form.get_by_label("Thracian MedTech Cluster").check()
    form.get_by_label("Start").select_option("2026-H1")
    form.get_by_label("End").select_option("2026-H2")
    form.get_by_label("Funding sources").fill("Interreg Europe\nDigital Europe Programme")
    assert run_axe(page) == []
    form.get_by_role("button", name="Save").click()
    facts = page.locator(f"#{number} .action-facts")
    expect(facts).to_contain_text("Thracian MedTech Cluster")
    expect(facts).to_contain_text("2026-H1 – 2026-H2")
    expect(facts).to_contain_text("Cyprus to Ireland presidency")
    expect(facts).to_contain_text("Interreg Europe; Digital Europe Programme")

    phone = new_page("observer", viewport={"width": 360, "height": 780})
    phone.goto(live_server.url("/documents"))
    phone.get_by_role("link", name=re.compile("Joint Action Plan")).click()
    phone.get_by_role("link", name="Timeline of the actions").click()
    phone.get_by_label("Responsible cluster").select_option(label="Thracian MedTech Cluster")
    phone.get_by_role("button", name="Show").click()
    expect(phone.locator("#half-2026-H1")).to_contain_text("EHDS policy radar")
    expect(phone.locator("#half-2026-H1")).to_contain_text("Cyprus")
    expect(phone.locator("#half-2025-H2")).not_to_contain_text("EHDS policy radar")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width  # nothing runs off a phone's screen
    assert run_axe(phone) == []
