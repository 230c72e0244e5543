"""A person logs in, opens a document, edits, adds, moves and deletes clauses in Chromium."""

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



def reach_at_the_swap(page, selector: str, select: bool = False) -> None:
    """At htmx's next swap that brings a field matching selector, focus it (and select its text)
    at once, within the 20 ms before the swap settles: what a fast keyboard user or a script does."""
    page.evaluate("""([selector, select]) => document.addEventListener("htmx:afterSwap", function early() {
        const field = document.querySelector(selector);
        if (field) {
            field.focus();
            if (select) field.select();
            document.removeEventListener("htmx:afterSwap", early);
        }
    })""", [selector, select])


def test_a_field_reached_before_the_form_settles_keeps_the_focus(new_page, live_server):
    # A fast keyboard user (or a script) reaches Heading within the 20 ms between htmx's swap and
    # its settle: the form's autofocus on Text must not take the focus, and the keys, away.
    page = new_page("editor")
    open_declaration(page, live_server)
    reach_at_the_swap(page, "form.clause-form input[name=heading]")
    second = clause(page, 2)
    second.get_by_role("link", name="Edit clause 2").click()
    heading = second.get_by_label("Heading (optional)")
    expect(heading).to_be_focused()
    page.wait_for_timeout(200)  # well past the settle
    page.keyboard.press("Control+A")
    page.keyboard.type("Scope")
    expect(heading).to_be_focused()
    expect(heading).to_have_value("Scope")
    # Without such a reach, the form still focuses Text, as every other test expects.
    third = clause(page, 3)
    third.get_by_role("link", name="Edit clause 3").click()
    expect(third.locator("textarea")).to_be_focused()


def test_a_selection_made_in_text_before_the_form_settles_is_kept(new_page, live_server):
    # Someone selects the whole Text within the 20 ms between htmx's swap and its settle, to type
    # over it: the settle's autofocus must not collapse the selection to the end, or what they type
    # is added after the old text (seen once: a clause saved with its text twice).
    page = new_page("editor")
    open_declaration(page, live_server)
    reach_at_the_swap(page, "form.clause-form textarea[data-autofocus]", select=True)
    second = clause(page, 2)
    second.get_by_role("link", name="Edit clause 2").click()
    text = second.locator("textarea")
    expect(text).to_be_focused()
    page.wait_for_timeout(200)  # well past the settle
    page.keyboard.type("Only this.")
    expect(text).to_have_value("Only this.")


def test_editor_edits_a_clause_and_sees_it_saved(new_page, live_server):
    page = new_page("editor")
    open_declaration(page, live_server)
    first = clause(page, 1)
    first.get_by_role("link", name="Edit clause 1").click()
    textarea = first.locator("textarea")
    expect(textarea).to_be_focused()
    textarea.fill("The signatory clusters, meeting in Berlin, adopt this declaration.")
    first.get_by_role("button", name="Save").click()
    expect(first.locator(".clause-text")).to_have_text("The signatory clusters, meeting in Berlin, adopt this declaration.")
    expect(first.locator(".clause-status")).to_have_text("Saved as version 2.")
    expect(first.locator(".clause-version")).to_have_text("v2")
    page.reload()
    expect(clause(page, 1).locator(".clause-text")).to_have_text(
        "The signatory clusters, meeting in Berlin, adopt this declaration.")


def test_keyboard_only_edit_and_cancel(new_page, live_server):
    page = new_page("editor")
    open_declaration(page, live_server)
    second = clause(page, 2)
    original = second.locator(".clause-text").inner_text()
    second.get_by_role("link", name="Edit clause 2").focus()
    page.keyboard.press("Enter")
    textarea = page.locator("#clause-{} textarea".format(second.get_attribute("data-clause-id")))
    expect(textarea).to_be_focused()
    page.keyboard.type(" Typed from the keyboard.")
    page.keyboard.press("Escape")
    # Changed text is never thrown away by one key: the page asks, "Keep editing" first.
    expect(page.get_by_role("button", name="Keep editing")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Discard changes")).to_be_focused()
    page.keyboard.press("Enter")
    expect(clause(page, 2).locator(".clause-text")).to_have_text(original)
    # Focus returns to the clause's Edit link, so the keyboard user carries on from there.
    expect(clause(page, 2).get_by_role("link", name="Edit clause 2")).to_be_focused()
    page.keyboard.press("Enter")
    expect(textarea).to_be_focused()
    page.keyboard.type(" Typed from the keyboard.")
    page.keyboard.press("Control+Enter")
    expect(clause(page, 2).locator(".clause-text")).to_have_text(original + " Typed from the keyboard.")


def test_empty_text_is_refused_in_the_page_and_nothing_is_lost(new_page, live_server):
    page = new_page("editor")
    open_declaration(page, live_server)
    first = clause(page, 1)
    first.get_by_role("link", name="Edit clause 1").click()
    expect(first.locator("textarea")).to_be_focused()  # the form has settled
    first.locator("textarea").fill("   ")
    first.get_by_role("button", name="Save").click()
    expect(page.locator("#clause-{} .error".format(first.get_attribute("data-clause-id")))).to_contain_text("cannot be empty")
    expect(page.locator("#clause-{} textarea".format(first.get_attribute("data-clause-id")))).to_be_visible()


def test_add_move_and_delete_clauses(new_page, live_server):
    page = new_page("editor")
    open_declaration(page, live_server)
    count = page.locator("ol.clause-list > li.clause").count()
    clause(page, 1).get_by_role("link", name="Add after clause 1").click()
    form = page.locator("#new-clause-form")
    expect(form.get_by_label("Text")).to_be_focused()
    form.get_by_label("Heading").fill("Added in the browser")
    form.get_by_label("Text").fill("A new clause typed by the committee.")
    form.get_by_role("button", name="Add clause").click()
    expect(page.locator("ol.clause-list > li.clause")).to_have_count(count + 1)
    expect(clause(page, 2).locator(".clause-title")).to_contain_text("Added in the browser")
    expect(page.locator(".list-status")).to_have_text("Clause 2 added.")

    # Keyboard reorder: move clause 2 up with the button, by keyboard.
    clause(page, 2).get_by_role("button", name="Move clause 2 up").focus()
    page.keyboard.press("Enter")
    expect(clause(page, 1).locator(".clause-title")).to_contain_text("Added in the browser")
    expect(page.locator(".list-status")).to_have_text("Clause moved up to number 1.")

    page.once("dialog", lambda dialog: dialog.accept())
    clause(page, 1).get_by_role("link", name="Delete clause 1").click()
    expect(page.locator("ol.clause-list > li.clause")).to_have_count(count)
    expect(page.locator(".clause-title", has_text="Added in the browser")).to_have_count(0)
    expect(clause(page, 1).get_by_role("link", name="Edit clause 1")).to_be_visible()  # numbered 1 again
    expect(clause(page, 1).locator(".clause-number")).to_have_text("¶")  # the preamble: no number shown


def test_commenter_sees_no_edit_controls(new_page, live_server):
    page = new_page("commenter")
    open_declaration(page, live_server)
    expect(page.locator("ol.clause-list > li.clause").first).to_be_visible()
    expect(page.get_by_role("link", name="Edit clause 1")).to_have_count(0)


def test_reading_works_without_javascript(new_page, live_server):
    page = new_page("observer", javascript=False)
    page.goto(live_server.url("/documents"))
    page.get_by_role("link", name=re.compile("Joint Action Plan")).click()
    expect(page.locator("h1")).to_contain_text("Joint Action Plan")
    expect(page.locator("ol.clause-list > li.clause").first.locator(".clause-text")).not_to_be_empty()


def test_editing_without_javascript_falls_back_to_pages(new_page, live_server):
    page = new_page("editor", javascript=False)
    open_url = live_server.url("/documents")
    page.goto(open_url)
    page.get_by_role("link", name=re.compile("Joint Declaration")).click()
    clause(page, 3).get_by_role("link", name="Edit clause 3").click()
    expect(page.locator("h1")).to_have_count(0)  # the full-page form has no document title
    page.locator("textarea").fill("Saved by a browser with JavaScript switched off.")
    page.get_by_role("button", name="Save").click()
    expect(clause(page, 3).locator(".clause-text")).to_have_text("Saved by a browser with JavaScript switched off.")


@pytest.mark.parametrize("state", ["reading", "editing"])
def test_document_page_has_no_serious_accessibility_violations(new_page, live_server, state):
    page = new_page("editor")
    open_declaration(page, live_server)
    if state == "editing":
        clause(page, 1).get_by_role("link", name="Edit clause 1").click()
        expect(clause(page, 1).locator("textarea")).to_be_visible()
    assert run_axe(page) == []


def test_login_and_list_pages_have_no_serious_accessibility_violations(new_page, live_server):
    page = new_page(None)
    page.goto(live_server.url("/login"))
    assert run_axe(page) == []
    page.fill("#email", "admin@drafting.example")
    page.fill("#password", "drafting-demo")
    page.click("button[type=submit]")
    page.wait_for_url("**/documents")
    assert run_axe(page) == []


def test_an_ended_session_takes_the_whole_page_to_the_login_and_back(new_page, live_server):
    from tests.conftest import EMAILS, PASSWORD

    page = new_page("editor")
    open_declaration(page, live_server)
    document_path = page.url.replace(live_server.url(""), "")
    page.context.clear_cookies()  # the session ended (expired, or logged out elsewhere)
    clause(page, 1).get_by_role("link", name="History of clause 1").click()
    page.wait_for_url(re.compile(r"/login\?next="))
    expect(page.locator("ol.clause-list")).to_have_count(0)  # the login page, not swapped into a clause
    expect(page.get_by_text("Please log in to continue.")).to_be_visible()  # and why it is shown
    page.fill("#email", EMAILS["editor"])
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(document_path) + "$"))
    expect(clause(page, 1)).to_be_visible()
