"""Two people on one document, in two browser contexts: changes, presence, offline and catch-up."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import HOLD_ANSWERS, clause

pytestmark = pytest.mark.browser

LIVE = 1500  # ms: "within a second", plus scheduling slack on a loaded 2-core machine


# The text of each version of the conflict view without removed words (and the space after each, before
# the words replacing them) and without the cues only screen readers hear.
VERSIONS_AS_READ = """sections => sections.map(section => {
    const copy = section.querySelector(".clause-text").cloneNode(true);
    copy.querySelectorAll(".visually-hidden").forEach(cue => cue.remove());
    copy.querySelectorAll("del").forEach(removed => {
        const gap = removed.nextSibling;
        if (gap && gap.nodeType === 3 && !gap.data.trim() && gap.nextSibling && gap.nextSibling.nodeName === "INS") gap.remove();
        removed.remove();
    });
    return copy.textContent;
})"""


def open_declaration(page, live_server):
    page.goto(live_server.url("/documents"))
    page.get_by_role("link", name=re.compile("Joint Declaration")).click()
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")



def edit(page, number: int, text: str):
    item = clause(page, number)
    item.get_by_role("link", name=f"Edit clause {number}").click()
    area = item.locator("textarea")
    expect(area).to_be_focused()
    area.fill(text)
    item.get_by_role("button", name="Save").click()
    expect(item.locator(".clause-status")).to_contain_text("version")


def test_a_save_add_move_and_delete_in_one_browser_appear_in_the_other(new_page, live_server):
    alice, bob = new_page("editor"), new_page("commenter")
    open_declaration(alice, live_server)
    open_declaration(bob, live_server)
    count = bob.locator("ol.clause-list > li.clause").count()

    edit(alice, 2, "Saved by the editor, seen live by the commenter.")
    expect(clause(bob, 2).locator(".clause-text")).to_have_text(
        "Saved by the editor, seen live by the commenter.", timeout=LIVE)
    expect(clause(bob, 2).locator(".clause-version")).to_have_text("v2", timeout=LIVE)

    clause(alice, 1).get_by_role("link", name="Add after clause 1").click()
    form = alice.locator("#new-clause-form")
    expect(form.get_by_label("Text")).to_be_focused()
    form.get_by_label("Text").fill("A clause added while others watch.")
    form.get_by_role("button", name="Add clause").click()
    expect(bob.locator("ol.clause-list > li.clause")).to_have_count(count + 1, timeout=LIVE)
    expect(clause(bob, 2).locator(".clause-text")).to_have_text("A clause added while others watch.", timeout=LIVE)

    clause(alice, 2).get_by_role("button", name="Move clause 2 down").click()
    expect(clause(bob, 3).locator(".clause-text")).to_have_text("A clause added while others watch.", timeout=LIVE)

    alice.once("dialog", lambda dialog: dialog.accept())
    clause(alice, 3).get_by_role("link", name="Delete clause 3").click()
    expect(bob.locator("ol.clause-list > li.clause")).to_have_count(count, timeout=LIVE)
    expect(bob.locator(".clause-text", has_text="A clause added while others watch.")).to_have_count(0)


def test_presence_shows_who_is_here_and_who_is_editing(new_page, live_server):
    alice, bob = new_page("editor"), new_page("signatory")
    open_declaration(alice, live_server)
    open_declaration(bob, live_server)
    expect(alice.locator("#presence")).to_contain_text("Katalin Szűcs, Danube Health Cluster", timeout=LIVE)
    expect(bob.locator("#presence")).to_contain_text("Tereza Novotná, Vltava Digital Health Cluster")

    clause(alice, 3).get_by_role("link", name="Edit clause 3").click()
    expect(clause(bob, 3).locator(".clause-editing")).to_have_text(
        "Tereza Novotná, Vltava Digital Health Cluster, is editing this clause.", timeout=LIVE)
    expect(bob.locator("#presence")).to_contain_text("is editing", timeout=LIVE)

    clause(alice, 3).get_by_role("link", name="Cancel").click()
    expect(clause(bob, 3).locator(".clause-editing")).to_be_hidden(timeout=LIVE)


def test_someone_saving_the_clause_you_edit_is_told_and_merged(new_page, live_server):
    alice, bob = new_page("editor"), new_page("editor")
    open_declaration(alice, live_server)
    open_declaration(bob, live_server)
    original = clause(bob, 4).locator(".clause-text").inner_text()
    words = original.split()
    # Bob opens clause 4 and starts typing at the end.
    clause(bob, 4).get_by_role("link", name="Edit clause 4").click()
    bob_area = clause(bob, 4).locator("textarea")
    expect(bob_area).to_be_focused()
    bob_area.fill(original + " Bob adds a closing sentence.")
    # Alice saves a change at the start of the same clause meanwhile.
    edit(alice, 4, "Firstly, " + words[0].lower() + original[len(words[0]):])
    expect(clause(bob, 4).locator(".clause-notice")).to_contain_text("saved version 2", timeout=LIVE)
    clause(bob, 4).get_by_role("button", name="Save").click()
    status = clause(bob, 4).locator(".clause-status")
    expect(status).to_contain_text("Merged")
    expect(clause(bob, 4).locator(".merged-diff ins")).to_contain_text("Firstly")
    expect(clause(bob, 4).locator(".clause-text")).to_contain_text("Firstly, ")
    expect(clause(bob, 4).locator(".clause-text")).to_contain_text("Bob adds a closing sentence.")


def test_touching_the_same_words_opens_the_side_by_side_conflict_view(new_page, live_server):
    alice, bob = new_page("editor"), new_page("editor")
    open_declaration(alice, live_server)
    open_declaration(bob, live_server)
    clause(bob, 5).get_by_role("link", name="Edit clause 5").click()
    bob_area = clause(bob, 5).locator("textarea")
    expect(bob_area).to_be_focused()
    bob_area.fill("Bob's wording of the whole clause.")
    edit(alice, 5, "Alice's wording of the whole clause.")
    clause(bob, 5).get_by_role("button", name="Save").click()
    conflict = bob.locator("li.clause.conflict")
    expect(conflict).to_contain_text("Conflict on clause 5")
    # Each version is shown with what it changed from the common base marked: read without the removed words.
    expect(conflict.locator(".side-by-side mark.conflict")).to_have_count(2)
    versions = conflict.locator(".side-by-side section").evaluate_all(VERSIONS_AS_READ)
    assert "Alice's wording of the whole clause." in versions[0]
    assert "Bob's wording of the whole clause." in versions[1]
    expect(conflict.locator("textarea")).to_be_focused()
    conflict.locator("textarea").fill("Alice's and Bob's wording, reconciled.")
    conflict.get_by_role("button", name=re.compile("Save resolved text")).click()
    expect(bob.locator("li.clause.conflict")).to_have_count(0)
    expect(clause(bob, 5).locator(".clause-text")).to_have_text("Alice's and Bob's wording, reconciled.")
    expect(clause(alice, 5).locator(".clause-text")).to_have_text("Alice's and Bob's wording, reconciled.",
                                                                    timeout=LIVE)


def test_offline_page_says_so_and_catches_up_on_reconnect(new_page, live_server, browser):
    alice, bob = new_page("editor"), new_page("observer")
    open_declaration(alice, live_server)
    open_declaration(bob, live_server)
    bob.context.set_offline(True)
    expect(bob.locator("#connection")).to_have_attribute("data-state", "offline", timeout=15000)
    expect(bob.locator("#connection")).to_contain_text("Offline")

    edit(alice, 6, "Changed while the observer was offline.")
    clause(alice, 1).get_by_role("link", name="Add after clause 1").click()
    form = alice.locator("#new-clause-form")
    expect(form.get_by_label("Text")).to_be_focused()
    form.get_by_label("Text").fill("Added while the observer was offline.")
    form.get_by_role("button", name="Add clause").click()
    expect(alice.locator(".list-status")).to_have_text("Clause 2 added.")
    expect(clause(bob, 6).locator(".clause-text")).not_to_have_text("Changed while the observer was offline.")

    bob.context.set_offline(False)
    expect(bob.locator("#connection")).to_have_attribute("data-state", "online", timeout=15000)
    expect(clause(bob, 2).locator(".clause-text")).to_have_text("Added while the observer was offline.", timeout=5000)
    expect(clause(bob, 7).locator(".clause-text")).to_have_text("Changed while the observer was offline.", timeout=5000)


def _reorder_clause_updates(page, deliver):
    """Route the page's Socket.IO WebSocket through Playwright: every frame from the server passes
    as it is, except `clause.updated` events, which are held and handed to `deliver(held, send)`
    after each one arrives (it sends what it chooses, in the order it chooses)."""
    held: list[str] = []

    def route(ws):
        server = ws.connect_to_server()

        def from_server(message):
            if isinstance(message, str) and message.startswith('42["clause.updated"'):
                held.append(message)
                deliver(held, ws.send)
            else:
                ws.send(message)

        server.on_message(from_server)

    page.route_web_socket(re.compile(r"/socket\.io/"), route)
    return held


@pytest.mark.parametrize("delivery", ["swapped", "first lost"])
def test_changes_arriving_out_of_seq_order_all_reach_the_page(new_page, live_server, delivery):
    # Two saves committed a moment apart are published by two server threads (or processes), so
    # their events can arrive in the other order. The page applied the later one and dropped the
    # earlier as old: that clause kept its stale text until a reload (test_live_async's burst
    # test saw such a swap under load). Now an event that skips ahead waits for the one before it,
    # and if that never comes the page asks for the changes it missed.
    def swapped(held, send):
        if len(held) == 2:
            send(held[1])
            send(held[0])

    def first_lost(held, send):
        if len(held) == 2:
            send(held[1])

    alice, bob = new_page("editor"), new_page("observer")
    held = _reorder_clause_updates(bob, swapped if delivery == "swapped" else first_lost)
    open_declaration(alice, live_server)
    open_declaration(bob, live_server)

    edit(alice, 2, "The first of two saves, published second.")
    edit(alice, 3, "The second of two saves, published first.")
    expect(clause(bob, 3).locator(".clause-text")).to_have_text("The second of two saves, published first.",
                                                                  timeout=LIVE)
    expect(clause(bob, 2).locator(".clause-text")).to_have_text("The first of two saves, published second.",
                                                                  timeout=LIVE)
    assert len(held) == 2  # both events went through the route: the order above is the one the page got


def test_several_clauses_changed_at_once_are_all_refreshed(new_page, live_server):
    # Another editor saves three clauses in a row while this page's refresh of the first is slow
    # (its answer held back): the second and third must be refreshed too. Refreshes sent from the
    # page's body were queued behind the one under way, each new one replacing the last waiting,
    # so the second clause kept its old text.
    page = new_page("editor")
    page.add_init_script(HOLD_ANSWERS)
    page.goto(live_server.url("/documents"))
    page.get_by_role("link", name=re.compile("Joint Declaration")).click()
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    page.evaluate("url => { window.heldAnswers['GET ' + url] = 1500; }", clause(page, 1).get_attribute("data-url"))

    writer = new_page("editor2")
    writer.goto(page.url)
    expect(writer.locator("#connection")).to_have_attribute("data-state", "online")
    token = writer.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']")
    for number in (1, 2, 3):
        item = clause(writer, number)
        answer = writer.request.post(live_server.url(f"/clauses/{item.get_attribute('data-clause-id')}"),
                                     headers={"X-CSRFToken": token},
                                     form={"text": f"Clause {number} as the other editor saved it.",
                                           "base_version": item.get_attribute("data-version")})
        assert answer.ok, answer.status
    for number in (1, 2, 3):
        expect(clause(page, number).locator(".clause-text")).to_have_text(f"Clause {number} as the other editor saved it.")
