"""Moving, deleting and restoring clauses from the keyboard (issue 15, item 5), at a desktop and a
phone size: the focus stays with the clause moved, goes to the next clause after a delete, the delete
is announced with an Undo next to the focus, and the Deleted clauses section restores for good."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import clause

from .conftest import run_axe

pytestmark = pytest.mark.browser

PURPOSE = "Purpose of this declaration"  # the heading of the declaration's clause 2


@pytest.fixture(params=[(1366, 768), (390, 844)], ids=["desktop", "phone"])
def editor_page(request, new_page, live_server):
    """The editor on the declaration's page, at the viewport's size."""
    width, height = request.param
    page = new_page("editor")
    page.set_viewport_size({"width": width, "height": height})
    page.goto(live_server.url("/documents"))
    page.get_by_role("link", name=re.compile("Joint Declaration")).click()
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    return page



def title(page, number: int):
    return clause(page, number).locator(".clause-title")


def open_actions(page, number: int) -> None:
    """Open a clause's "More actions" by keyboard where its secondary actions sit behind it (phones)."""
    toggle = clause(page, number).get_by_role("button", name=f"More actions for clause {number}")
    if toggle.count() and toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false":
        toggle.focus()
        page.keyboard.press("Enter")
        expect(toggle).to_have_attribute("aria-expanded", "true")


def focused_label(page) -> str | None:
    return page.evaluate("document.activeElement && document.activeElement.getAttribute('aria-label')")


def test_keyboard_move_keeps_the_focus_on_the_moved_clause(editor_page):
    page = editor_page
    open_actions(page, 2)
    clause(page, 2).get_by_role("button", name="Move clause 2 down").focus()
    page.keyboard.press("Enter")
    expect(title(page, 3)).to_contain_text(PURPOSE)
    expect(page.locator(".list-status")).to_have_text("Clause moved down to number 3.")
    # The same button of the same clause, now numbered 3: not "Edit clause 1".
    expect(clause(page, 3).get_by_role("button", name="Move clause 3 down")).to_be_focused()

    page.keyboard.press("Enter")  # a second Enter moves the same clause again
    expect(title(page, 4)).to_contain_text(PURPOSE)
    expect(clause(page, 4).get_by_role("button", name="Move clause 4 down")).to_be_focused()

    page.keyboard.press("Shift+Tab")
    expect(clause(page, 4).get_by_role("button", name="Move clause 4 up")).to_be_focused()
    for number in (3, 2):
        page.keyboard.press("Enter")
        expect(title(page, number)).to_contain_text(PURPOSE)
        expect(clause(page, number).get_by_role("button", name=f"Move clause {number} up")).to_be_focused()
    page.keyboard.press("Enter")
    expect(title(page, 1)).to_contain_text(PURPOSE)
    # At the top "up" is disabled: the focus goes to the other move button of the same clause.
    expect(clause(page, 1).get_by_role("button", name="Move clause 1 up")).to_be_disabled()
    expect(clause(page, 1).get_by_role("button", name="Move clause 1 down")).to_be_focused()
    page.keyboard.press("Enter")
    expect(title(page, 2)).to_contain_text(PURPOSE)
    expect(clause(page, 2).get_by_role("button", name="Move clause 2 down")).to_be_focused()

    page.reload()
    expect(title(page, 2)).to_contain_text(PURPOSE)


def test_delete_focuses_the_next_clause_announces_and_undo_restores(editor_page):
    page = editor_page
    count = page.locator("ol.clause-list > li.clause").count()
    third = clause(page, 3).get_attribute("data-clause-id")
    page.once("dialog", lambda dialog: dialog.accept())
    open_actions(page, 2)
    clause(page, 2).get_by_role("link", name="Delete clause 2").focus()
    page.keyboard.press("Enter")
    expect(page.locator("ol.clause-list > li.clause")).to_have_count(count - 1)
    # The clause that took its place has the focus (its first action), not the top of the page.
    expect(clause(page, 2)).to_have_attribute("data-clause-id", third)
    expect(clause(page, 2).get_by_role("link", name="Edit clause 2")).to_be_focused()
    expect(clause(page, 2).get_by_role("link", name="Edit clause 2")).to_be_in_viewport()
    expect(page.locator("#restore-announcer")).to_have_text(f"Clause 2 ({PURPOSE}) deleted. Undo")
    expect(page.locator("#restore-announcer")).to_have_attribute("aria-live", "polite")

    # The Undo is right before the focus, one Shift+Tab away.
    undo = page.get_by_role("button", name="Undo")
    expect(undo).to_be_visible()
    expect(page.locator(".undo-delete")).to_contain_text("Clause 2 deleted.")
    assert run_axe(page) == []
    page.keyboard.press("Shift+Tab")
    expect(undo).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("ol.clause-list > li.clause")).to_have_count(count)
    expect(title(page, 2)).to_contain_text(PURPOSE)
    expect(page.locator(".undo-delete")).to_have_count(0)
    expect(clause(page, 2).get_by_role("link", name="Edit clause 2")).to_be_focused()
    expect(page.locator("#restore-announcer")).to_have_text("Clause 2 restored with its history.")

    page.reload()
    expect(title(page, 2)).to_contain_text(PURPOSE)
    expect(page.locator("#deleted-clauses")).to_have_count(0)


def test_undo_goes_after_a_while_and_the_deleted_clauses_section_restores(editor_page):
    page = editor_page
    count = page.locator("ol.clause-list > li.clause").count()
    last_id = clause(page, count).get_attribute("data-clause-id")
    page.once("dialog", lambda dialog: dialog.accept())
    open_actions(page, count)
    clause(page, count).get_by_role("link", name=f"Delete clause {count}").focus()
    page.keyboard.press("Enter")
    expect(page.locator("ol.clause-list > li.clause")).to_have_count(count - 1)
    # The last clause: the focus goes to the one before.
    expect(clause(page, count - 1).get_by_role("link", name=f"Edit clause {count - 1}")).to_be_focused()
    expect(page.locator(".undo-delete")).to_be_visible()
    expect(page.locator(".undo-delete")).to_have_count(0, timeout=15_000)  # about ten seconds
    # The focus stayed where it was.
    assert focused_label(page) == f"Edit clause {count - 1}"

    deleted = page.locator("#deleted-clauses")
    expect(deleted.locator("summary")).to_have_text("Deleted clauses (1)")
    deleted.locator("summary").focus()
    page.keyboard.press("Enter")
    item = deleted.locator("li.deleted-clause")
    expect(item).to_be_visible()
    expect(item).to_contain_text("Deleted by Tereza Novotná")
    expect(item.get_by_role("link", name=re.compile("^History of deleted clause"))).to_be_visible()
    assert run_axe(page) == []
    item.get_by_role("button", name=re.compile("^Restore deleted clause")).focus()
    page.keyboard.press("Enter")
    expect(page.locator("ol.clause-list > li.clause")).to_have_count(count)
    expect(clause(page, count)).to_have_attribute("data-clause-id", last_id)
    expect(clause(page, count).get_by_role("link", name=f"Edit clause {count}")).to_be_focused()
    expect(page.locator("#deleted-clauses")).to_have_count(0)


def test_other_pages_see_a_restore_at_once(editor_page, new_page, live_server):
    page = editor_page
    reader = new_page("observer")
    reader.goto(page.url)
    expect(reader.locator("#connection")).to_have_attribute("data-state", "online")
    count = reader.locator("ol.clause-list > li.clause").count()
    page.once("dialog", lambda dialog: dialog.accept())
    open_actions(page, 2)
    clause(page, 2).get_by_role("link", name="Delete clause 2").click()
    expect(reader.locator("ol.clause-list > li.clause")).to_have_count(count - 1)
    expect(reader.locator("#deleted-clauses summary")).to_have_text("Deleted clauses (1)")
    expect(reader.get_by_role("button", name="Undo")).to_have_count(0)
    page.get_by_role("button", name="Undo").click()
    expect(reader.locator("ol.clause-list > li.clause")).to_have_count(count)
    expect(title(reader, 2)).to_contain_text(PURPOSE)
    expect(reader.locator("#deleted-clauses")).to_have_count(0)
