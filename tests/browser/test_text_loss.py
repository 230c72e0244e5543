"""No typed word is lost (issue 15, item 2): Escape asks before discarding changed text; a reload
offers the unsaved text back; an ended session shows a lasting banner, keeps the forms, and Retry
saves after logging in again in a new tab; going offline keeps the text until it can be saved."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import clause, open_document

from .conftest import AXE

pytestmark = pytest.mark.browser

LIVE = 5000  # ms: a live change and the fragment it makes the page fetch, on a loaded 2-core machine
WIDE, NARROW = {"width": 1366, "height": 768}, {"width": 390, "height": 844}
ENDED = ("Your session has ended. Nothing you typed is lost: log in again in a new tab, "
         "then come back here and press Retry.")


def axe_on(page, selector: str) -> list[dict]:
    """run_axe (conftest), limited to what this feature adds: other parts of the page have their own tests."""
    page.add_script_tag(url=f"/static/{AXE}")
    result = page.evaluate("async (selector) => await axe.run({include: [selector]}, {resultTypes: ['violations']})",
                           selector)
    return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]




def drafts(page) -> dict:
    """The drafts this browser keeps, by key (without the prefix and user)."""
    return page.evaluate("""() => {
        const found = {};
        for (let i = 0; i < localStorage.length; i++) {
            const name = localStorage.key(i);
            if (name.startsWith("drafting.draft.")) found[name.split(".").slice(3).join(".")] = JSON.parse(localStorage.getItem(name));
        }
        return found;
    }""")


def wait_for_draft(page, key: str, text: str):
    page.wait_for_function("""([key, text]) => {
        for (let i = 0; i < localStorage.length; i++) {
            const name = localStorage.key(i);
            if (name.startsWith("drafting.draft.") && name.endsWith("." + key)) {
                const record = JSON.parse(localStorage.getItem(name));
                return Object.values(record.fields).some(v => typeof v === "string" && v.includes(text));
            }
        }
        return false;
    }""", arg=[key, text])


def start_editing(page, number: int, added: str):
    item = clause(page, number)
    clause_id = item.get_attribute("data-clause-id")
    item.get_by_role("link", name=f"Edit clause {number}").click()
    textarea = page.locator(f"#clause-{clause_id} textarea")
    expect(textarea).to_be_focused()
    original = textarea.input_value()
    textarea.press("End")
    page.keyboard.press("Control+End")
    page.keyboard.type(added)
    return clause_id, textarea, original


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["1366x768", "390x844"])
def test_escape_asks_before_discarding_changed_text(new_page, live_server, viewport):
    page = new_page("editor")
    page.set_viewport_size(viewport)
    open_document(page, live_server, "Joint Declaration")
    shown = clause(page, 1).locator(".clause-text").inner_text()
    clause_id, textarea, original = start_editing(page, 1, " Kept unless discarded.")
    wait_for_draft(page, f"clause-{clause_id}", "Kept unless discarded.")

    textarea.press("Escape")
    question = page.get_by_role("dialog", name="Discard your changes?")
    expect(question).to_be_visible()
    expect(question.get_by_role("button", name="Keep editing")).to_be_focused()
    assert axe_on(page, "dialog.draft-confirm") == []
    page.keyboard.press("Enter")  # Keep editing
    expect(question).to_be_hidden()
    expect(textarea).to_have_value(original + " Kept unless discarded.")
    expect(textarea).to_be_focused()
    assert f"clause-{clause_id}" in drafts(page)

    textarea.press("Escape")
    expect(question).to_be_visible()
    page.keyboard.press("Escape")  # Escape in the question keeps editing too
    expect(question).to_be_hidden()
    expect(textarea).to_have_value(original + " Kept unless discarded.")

    textarea.press("Escape")
    question.get_by_role("button", name="Discard changes").click()
    expect(page.locator(f"#clause-{clause_id} textarea")).to_have_count(0)
    expect(clause(page, 1).locator(".clause-text")).to_have_text(shown)
    assert f"clause-{clause_id}" not in drafts(page)
    expect(clause(page, 1).locator(".draft-offer")).to_have_count(0)

    # An unchanged form still closes at once.
    clause(page, 2).get_by_role("link", name="Edit clause 2").click()
    expect(clause(page, 2).locator("textarea")).to_be_focused()
    clause(page, 2).locator("textarea").press("Escape")
    expect(clause(page, 2).locator("textarea")).to_have_count(0)
    expect(question).to_be_hidden()


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["1366x768", "390x844"])
def test_cancel_asks_before_discarding_changed_text_as_escape_does(new_page, live_server, viewport):
    page = new_page("editor")
    page.set_viewport_size(viewport)
    open_document(page, live_server, "Joint Declaration")
    shown = clause(page, 1).locator(".clause-text").inner_text()
    clause_id, textarea, original = start_editing(page, 1, " Not thrown away by a slip.")
    wait_for_draft(page, f"clause-{clause_id}", "Not thrown away by a slip.")
    cancel = page.locator(f"#clause-{clause_id}").get_by_role("link", name="Cancel")

    cancel.click()
    question = page.get_by_role("dialog", name="Discard your changes?")
    expect(question).to_be_visible()
    question.get_by_role("button", name="Keep editing").click()
    expect(question).to_be_hidden()
    expect(textarea).to_have_value(original + " Not thrown away by a slip.")
    assert f"clause-{clause_id}" in drafts(page)

    cancel.click()
    question.get_by_role("button", name="Discard changes").click()
    expect(page.locator(f"#clause-{clause_id} textarea")).to_have_count(0)
    expect(clause(page, 1).locator(".clause-text")).to_have_text(shown)
    assert f"clause-{clause_id}" not in drafts(page)

    # An unchanged form closes at once.
    clause(page, 2).get_by_role("link", name="Edit clause 2").click()
    expect(clause(page, 2).locator("textarea")).to_be_focused()
    clause(page, 2).get_by_role("link", name="Cancel").click()
    expect(clause(page, 2).locator("textarea")).to_have_count(0)
    expect(question).to_be_hidden()


def test_a_reload_offers_the_clause_draft_back_and_saving_merges_it(new_page, live_server):
    alice, bob = new_page("editor"), new_page("editor2")
    alice.set_viewport_size(WIDE)
    open_document(alice, live_server, "Joint Declaration")
    open_document(bob, live_server, "Joint Declaration")
    clause_id, textarea, original = start_editing(alice, 1, " Added by Alice before the reload.")
    wait_for_draft(alice, f"clause-{clause_id}", "Added by Alice before the reload.")

    asked = []
    alice.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.accept()))
    alice.reload()
    assert asked == ["beforeunload"]  # leaving with changed text asks first
    expect(alice.locator("#connection")).to_have_attribute("data-state", "online")
    offer = clause(alice, 1).locator(".draft-offer")
    expect(offer).to_contain_text(re.compile(r"You have unsaved text from .+ for this clause\."))

    # Meanwhile Bob saves another change to the same clause (version 2).
    bob_item = clause(bob, 1)
    bob_item.get_by_role("link", name="Edit clause 1").click()
    bob_text = bob.locator(f"#clause-{clause_id} textarea")
    expect(bob_text).to_be_focused()
    bob_text.fill("Bob wrote this first. " + original)
    bob.locator(f"#clause-{clause_id}").get_by_role("button", name="Save").click()
    expect(bob_item.locator(".clause-version")).to_have_text("v2")
    expect(clause(alice, 1).locator(".clause-version")).to_have_text("v2", timeout=LIVE)
    expect(clause(alice, 1).locator(".draft-offer")).to_be_visible()  # offered again after the live refresh

    clause(alice, 1).get_by_role("button", name="Restore it").click()
    form = alice.locator(f"#clause-{clause_id} form.clause-form")
    expect(form.locator("textarea")).to_have_value(original + " Added by Alice before the reload.")
    expect(form.locator("input[name=base_version]")).to_have_value("1")  # saved through the merge
    expect(form.locator(".draft-restored")).to_contain_text("Restored your unsaved text")
    form.get_by_role("button", name="Save").click()
    text = clause(alice, 1).locator(".clause-text")
    expect(text).to_contain_text("Bob wrote this first.")
    expect(text).to_contain_text("Added by Alice before the reload.")
    expect(clause(alice, 1).locator(".clause-version")).to_have_text("v3")
    assert f"clause-{clause_id}" not in drafts(alice)


def test_a_comment_draft_survives_a_reload(new_page, live_server):
    page = new_page("commenter")
    page.set_viewport_size(NARROW)
    open_document(page, live_server, "Joint Action Plan")
    item = clause(page, 1)
    clause_id = item.get_attribute("data-clause-id")
    item.get_by_role("link", name="Comment on clause 1").click()
    form = page.locator(f"#thread-form-{clause_id}")
    body = form.get_by_label("Comment", exact=True)
    expect(body).to_be_focused()
    body.press_sequentially("A comment half written when the tab crashed")
    wait_for_draft(page, f"thread-form-{clause_id}", "half written")

    page.on("dialog", lambda dialog: dialog.accept())
    page.reload()
    offer = clause(page, 1).locator(".draft-offer")
    expect(offer).to_contain_text("You have unsaved text from")
    expect(offer).to_contain_text("for this comment.")
    assert axe_on(page, ".draft-offer") == []
    offer.get_by_role("button", name="Restore it").click()
    body = page.locator(f"#thread-form-{clause_id}").get_by_label("Comment", exact=True)
    expect(body).to_have_value("A comment half written when the tab crashed")
    expect(body).to_be_focused()
    page.locator(f"#thread-form-{clause_id}").get_by_role("button", name="Post comment").click()
    expect(clause(page, 1).locator("article.thread").last).to_contain_text("A comment half written when the tab crashed")
    assert f"thread-form-{clause_id}" not in drafts(page)
    # Discarding an offered draft removes it too.
    clause(page, 2).get_by_role("link", name="Comment on clause 2").click()
    second = page.locator(f"#thread-form-{clause(page, 2).get_attribute('data-clause-id')}")
    second.get_by_label("Comment", exact=True).press_sequentially("Not worth keeping")
    wait_for_draft(page, f"thread-form-{clause(page, 2).get_attribute('data-clause-id')}", "Not worth keeping")
    page.reload()
    clause(page, 2).get_by_role("button", name="Discard it").click()
    expect(clause(page, 2).locator(".draft-offer")).to_have_count(0)
    assert drafts(page) == {}


@pytest.mark.parametrize(("how", "viewport"), [("cookie cleared", WIDE), ("logged out elsewhere", NARROW)],
                         ids=["cookie-cleared-1366x768", "logged-out-elsewhere-390x844"])
def test_an_ended_session_keeps_the_form_and_retry_saves_after_logging_in_again(new_page, live_server, how, viewport):
    page = new_page("editor")
    page.set_viewport_size(viewport)
    open_document(page, live_server, "Joint Declaration")
    clause_id, textarea, original = start_editing(page, 1, " Written while the session ended.")
    if how == "cookie cleared":
        page.context.clear_cookies(name="session")
        page.locator(f"#clause-{clause_id}").get_by_role("button", name="Save").click()
    else:
        elsewhere = new_page("editor")  # the same person, another browser
        elsewhere.get_by_role("button", name="Log out").click()
        expect(elsewhere.get_by_role("heading", name="Log in")).to_be_visible()
        # Its live connection is refused at once: the page asks and shows the banner before any save.
        expect(page.locator("#session-banner")).to_be_visible(timeout=LIVE)
        textarea.press("Control+Enter")  # Save (the button waits for the connection)
    banner = page.get_by_role("alert").filter(has_text="Your session has ended.")
    expect(banner).to_be_visible()
    expect(banner.locator(".session-banner-text")).to_have_text(ENDED)
    expect(page).to_have_url(re.compile(r"/documents/\d+$"))  # not sent to the login page
    expect(textarea).to_have_value(original + " Written while the session ended.")
    expect(page.locator("#toast")).to_be_hidden()  # no red toast about CSRF tokens
    expect(page.locator("#connection")).not_to_contain_text("Live")
    expect(page.locator("#connection")).to_contain_text("Session ended")
    assert axe_on(page, "#session-banner") == []
    assert "Written while the session ended." in drafts(page)[f"clause-{clause_id}"]["fields"]["text"]
    # Lasting: scrolled down the page, the banner stays whole in view, over the phone's sticky bar.
    page.evaluate("() => window.scrollBy(0, 2500)")
    page.wait_for_function("() => window.scrollY > 1000")
    assert page.evaluate("""() => [...document.querySelectorAll('#session-banner p, #session-banner .button')]
        .every(el => { const r = el.getBoundingClientRect();
                       const hit = document.elementFromPoint(r.left + 4, r.top + r.height / 2);
                       return r.top >= 0 && hit && hit.closest('#session-banner') !== null; })""")

    # Retry before logging in again: still ended, nothing lost.
    banner.get_by_role("button", name="Retry").click()
    expect(banner).to_contain_text("You are not logged in yet.")
    expect(textarea).to_have_value(original + " Written while the session ended.")

    with page.context.expect_page() as opened:
        banner.get_by_role("link", name="Log in again in a new tab").click()
    tab = opened.value
    tab.wait_for_load_state()
    from tests.conftest import EMAILS, PASSWORD
    tab.fill("#email", EMAILS["editor"])
    tab.fill("#password", PASSWORD)
    tab.click("button[type=submit]")
    expect(tab.get_by_text("You are logged in again; you can close this tab.")).to_be_visible()
    tab.close()

    banner.get_by_role("button", name="Retry").click()
    expect(clause(page, 1).locator(".clause-text")).to_contain_text("Written while the session ended.")
    expect(clause(page, 1).locator(".clause-version")).to_have_text("v2")
    expect(page.locator("#session-banner")).to_be_hidden()
    expect(page.locator("#connection")).not_to_contain_text("Session ended")
    assert f"clause-{clause_id}" not in drafts(page)


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["1366x768", "390x844"])
def test_offline_keeps_the_text_and_saving_works_when_back_online(new_page, live_server, viewport):
    page = new_page("editor")
    page.set_viewport_size(viewport)
    open_document(page, live_server, "Joint Declaration")
    clause_id, textarea, original = start_editing(page, 2, " Typed on the train.")
    page.context.set_offline(True)
    textarea.press("Control+Enter")  # try to save while offline
    expect(page.locator("#toast")).to_contain_text("offline")
    expect(page.locator("#toast")).to_be_in_viewport()
    if viewport is NARROW:  # on a phone the sticky bar says so, wherever the person is
        expect(page.locator(".doc-bar-live")).to_be_in_viewport()
    page.keyboard.type(" And more.")
    expect(textarea).to_have_value(original + " Typed on the train. And more.")
    wait_for_draft(page, f"clause-{clause_id}", "Typed on the train. And more.")

    page.context.set_offline(False)
    save = page.locator(f"#clause-{clause_id}").get_by_role("button", name="Save")
    expect(save).to_be_enabled(timeout=LIVE * 2)
    save.click()
    expect(clause(page, 2).locator(".clause-text")).to_contain_text("Typed on the train. And more.")
    assert f"clause-{clause_id}" not in drafts(page)


def test_logging_out_clears_this_persons_drafts(new_page, live_server):
    page = new_page("editor")
    open_document(page, live_server, "Joint Declaration")
    clause_id, textarea, _ = start_editing(page, 1, " Not for the next person at this computer.")
    wait_for_draft(page, f"clause-{clause_id}", "Not for the next person")
    page.get_by_role("button", name="Log out").click()
    question = page.get_by_role("dialog", name="Discard your changes?")
    expect(question).to_contain_text("Logging out removes it from this browser.")
    question.get_by_role("button", name="Keep editing").click()
    expect(textarea).to_be_visible()
    assert f"clause-{clause_id}" in drafts(page)
    page.get_by_role("button", name="Log out").click()
    question.get_by_role("button", name="Discard changes").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert drafts(page) == {}


def test_typing_goes_on_in_the_same_field_while_the_list_changes_live(new_page, live_server):
    """The open form is carried into the refreshed list: the field being typed in keeps the focus
    and the caret, so no keystroke lands elsewhere (a heading typed half before, half after)."""
    typist, other = new_page("editor"), new_page("editor2")
    open_document(typist, live_server, "Joint Declaration")
    open_document(other, live_server, "Joint Declaration")
    typist.get_by_role("link", name="Add a clause at the end").click()
    heading = typist.locator("#new-clause-form").get_by_label("Heading")
    heading.click()
    typist.keyboard.type("Cross-border ")
    count = typist.locator("ol.clause-list > li.clause").count()
    other.locator("ol.clause-list > li.clause").first.get_by_role("button", name="Move clause 1 down").click()
    expect(typist.locator("ol.clause-list > li.clause").first.locator(".clause-title")).to_contain_text(
        "Purpose of this declaration", timeout=LIVE)  # the list was refreshed under the open form
    expect(heading).to_be_focused()
    typist.keyboard.type("health data")
    expect(heading).to_have_value("Cross-border health data")
    # Carried across, not copied: one open form, and the list around it as it was.
    expect(typist.locator("#new-clause-form")).to_have_count(1)
    expect(typist.locator("ol.clause-list > li.clause")).to_have_count(count)

