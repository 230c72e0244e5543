"""Following the committee's work in the browser: the proposed changes marked in the text with
next/previous through them, clauses changed live marked with who changed them until seen, notices
that name the person, and times and deadlines in the viewer's own time zone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import run_axe
from tests.browser.pages import clause, open_document

pytestmark = pytest.mark.browser

LIVE = 3000
SIZES = [pytest.param({"width": 1366, "height": 768}, id="desktop"),
         pytest.param({"width": 390, "height": 844}, id="phone")]


@pytest.fixture
def person(new_page):
    """A logged-in page in a context of its own, with a viewport and a time zone."""
    def make(role: str, viewport: dict | None = None, zone: str = "Europe/Brussels"):
        return new_page(role, viewport=viewport or {"width": 1366, "height": 768}, zone=zone)
    return make




def in_view(page, control, viewport: dict) -> None:
    """The control is within the window as it is now (no scrolling by Playwright), below the sticky bar."""
    box = control.bounding_box()
    assert box, "not shown"
    top = page.evaluate("""() => { const bar = document.getElementById('doc-bar');
        return bar && bar.getClientRects().length ? bar.getBoundingClientRect().bottom : 0; }""")
    assert top <= box["y"] and box["y"] + box["height"] <= viewport["height"], (box, top)
    assert 0 <= box["x"] and box["x"] + box["width"] <= viewport["width"], box


@pytest.mark.parametrize("viewport", SIZES)
def test_proposed_changes_are_marked_in_the_text_and_stepped_through(person, live_server, viewport):
    page = person("editor", viewport)
    open_document(page, live_server, "Joint Action Plan")
    toggle = page.get_by_role("button", name="Show proposed changes")
    toggle.click()
    expect(page.get_by_role("button", name="Hide proposed changes")).to_have_attribute("aria-pressed", "true")
    marked = page.locator("#clauses .proposed-change")
    expect(marked.first).to_be_visible()
    total = marked.count()
    assert total >= 2
    status = page.locator(".review-bar .proposed-status")
    expect(status).to_have_text(f"{total} proposed changes marked in the text.")
    # Each one is the clause's text with the proposal's words marked, under its own clause.
    first = marked.first
    expect(first.locator(".diff ins, .diff del").first).to_be_visible()
    # Named by the label the clause shows ("Preamble", "Action 1.1"), not by its position.
    owner_label = first.locator("xpath=ancestor::li[contains(@class, 'clause')]").locator(".clause-number").inner_text()
    expect(first.locator(".proposed-who")).to_contain_text(owner_label if owner_label != "¶" else "Preamble")
    owner = first.locator("xpath=ancestor::li[contains(@class, 'clause')]")
    expect(owner.locator(":scope > article > .clause-text")).to_be_hidden()

    bar = page.locator(".review-bar")
    bar.get_by_role("button", name="Next", exact=True).click()
    expect(first).to_be_focused()
    expect(status).to_contain_text(f"Proposed change 1 of {total}")
    # Each change has its own Previous/Next, in view where the person now is (the bar's are not).
    for index in (0, 1):
        step = marked.nth(index).get_by_role("button", name="Next proposed change")
        in_view(page, step, viewport)
        if index == 0:
            step.click()
            expect(marked.nth(1)).to_be_focused()
            expect(status).to_contain_text(f"Proposed change 2 of {total}")
    marked.nth(1).get_by_role("button", name="Previous proposed change").click()
    expect(first).to_be_focused()
    in_view(page, first.get_by_role("button", name="Next proposed change"), viewport)
    bar.get_by_role("button", name="Next", exact=True).click()
    expect(marked.nth(1)).to_be_focused()
    assert run_axe(page) == []

    # From the suggestion to the decision: the amendment's own buttons, in its discussion.
    first.get_by_role("link", name="Decide on it in the discussion").click()
    expect(page.locator("article.amendment .item-actions").get_by_role("button", name="Accept").first).to_be_focused(timeout=LIVE)

    if viewport["width"] < 400:
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], width


def test_the_queue_follows_decisions_live_and_the_mode_survives_a_reload(person, live_server):
    editor, other = person("editor"), person("editor2")
    open_document(editor, live_server, "Joint Action Plan")
    open_document(other, live_server, "Joint Action Plan")
    editor.get_by_role("button", name="Show proposed changes").click()
    marked = editor.locator("#clauses .proposed-change")
    expect(marked.first).to_be_visible()
    total = marked.count()

    # Someone else rejects one: it leaves the marked queue on this page without a reload.
    amendment_id = marked.first.get_attribute("data-amendment-id")
    other.goto(live_server.url(f"/amendments/{amendment_id}/reject"))
    other.get_by_label(re.compile("Reason")).fill("Outside the plan's scope.")
    other.get_by_role("button", name=re.compile("Reject")).click()
    expect(marked).to_have_count(total - 1, timeout=LIVE)

    editor.reload()
    expect(editor.get_by_role("button", name="Hide proposed changes")).to_be_visible()
    expect(editor.locator("#clauses .proposed-change")).to_have_count(total - 1)


@pytest.mark.parametrize("viewport", SIZES)
def test_a_clause_changed_live_stays_marked_with_who_changed_it_until_seen(person, live_server, viewport):
    reader, writer = person("commenter", viewport), person("editor")
    open_document(reader, live_server, "Joint Declaration")
    open_document(writer, live_server, "Joint Declaration")
    item = clause(writer, 2)
    item.get_by_role("link", name="Edit clause 2").click()
    item.locator("textarea").fill("A sentence the commenter should notice.")
    item.get_by_role("button", name="Save").click()
    expect(item.locator(".clause-status")).to_contain_text("Saved as version 2")

    mark = clause(reader, 2).locator(".live-mark")
    expect(mark).to_contain_text("Changed by Tereza Novotná", timeout=LIVE)
    expect(mark).to_contain_text("now version 2")
    # It stays after the flash, after another change elsewhere, and after a reload of the page.
    reader.wait_for_timeout(2000)
    expect(mark).to_be_visible()
    reader.reload()
    expect(clause(reader, 2).locator(".live-mark")).to_contain_text("Changed by Tereza Novotná")
    clause(reader, 2).locator(".live-mark").get_by_role("link", name="See what changed").click()
    expect(clause(reader, 2).locator(".clause-panel .diff ins").first).to_contain_text("notice")
    clause(reader, 2).get_by_role("button", name="Mark as seen: the change to this clause").click()
    expect(clause(reader, 2).locator(".live-mark")).to_have_count(0)
    reader.reload()
    expect(clause(reader, 2).locator(".live-mark")).to_have_count(0)


def test_the_notice_while_editing_names_who_saved(person, live_server):
    mine, theirs = person("editor"), person("editor2")
    open_document(mine, live_server, "Joint Declaration")
    open_document(theirs, live_server, "Joint Declaration")
    clause(mine, 3).get_by_role("link", name="Edit clause 3").click()
    expect(clause(mine, 3).locator("textarea")).to_be_focused()
    other = clause(theirs, 3)
    other.get_by_role("link", name="Edit clause 3").click()
    other.locator("textarea").fill(other.locator("textarea").input_value() + " Added by the second editor.")
    other.get_by_role("button", name="Save").click()
    expect(other.locator(".clause-status")).to_contain_text("version 2")
    expect(clause(mine, 3).locator(".clause-notice")).to_contain_text(
        "Inês Carvalho, Atlantic Health Innovation Cluster saved version 2 while you were editing", timeout=LIVE)


@pytest.mark.parametrize("viewport", SIZES)
def test_times_are_shown_in_the_viewers_zone_and_deadlines_typed_in_it(person, live_server, viewport):
    page = person("admin", viewport, zone="Europe/Lisbon")
    open_document(page, live_server, "Joint Action Plan")
    deadline = page.locator(".document-head time[datetime]").first
    expect(deadline).to_have_attribute("data-local", "true")
    utc_text = deadline.get_attribute("title")
    assert utc_text.endswith("UTC")
    shown = deadline.inner_text()
    assert shown != utc_text and "UTC" not in shown  # rewritten in the viewer's zone ...
    assert re.search(r"GMT|WET|WEST", shown), shown  # ... which is named

    page.goto(page.url.split("#")[0] + "/contributions")
    field = page.get_by_label(re.compile("Contributions close at"))
    expect(page.locator("[data-local-zone]").first).to_have_text("Europe/Lisbon")
    field.fill("2027-07-01 18:30")
    expect(page.locator("[data-deadline-preview]")).to_contain_text("(2027-07-01 17:30 UTC)")  # WEST, UTC+1
    page.get_by_role("button", name="Save deadline").click()
    expect(page.get_by_text("Contributions now close at")).to_be_visible()
    # Shown back as typed, in the viewer's zone; stored in UTC.
    expect(page.get_by_label(re.compile("Contributions close at"))).to_have_value("2027-07-01 18:30")
    assert page.locator("input[name=timezone]").input_value() == "Europe/Lisbon"

    other = person("admin", viewport, zone="Europe/Sofia")
    other.goto(page.url)
    expect(other.get_by_label(re.compile("Contributions close at"))).to_have_value("2027-07-01 20:30")  # EEST


def test_times_follow_the_zone_chosen_in_the_settings_not_the_browsers(person, live_server):
    page = person("admin", zone="Europe/Sofia")  # the browser's zone: EET/EEST
    page.goto(live_server.url("/settings/language"))
    page.select_option("#timezone", "America/New_York")
    page.locator("form.stack button[type=submit]").click()
    expect(page.locator(".flash")).to_be_visible()

    open_document(page, live_server, "Joint Action Plan")
    deadline = page.locator(".document-head time[datetime]").first
    expect(deadline).to_have_attribute("data-local", "true")
    shown = deadline.inner_text()
    assert re.search(r"GMT-[45]|E[DS]T", shown) and not re.search(r"GMT\+[23]|EES?T", shown), shown

    page.goto(page.url.split("#")[0] + "/contributions")
    expect(page.locator("[data-local-zone]").first).to_have_text("America/New_York")
    field = page.get_by_label(re.compile("Contributions close at"))
    field.fill("2027-07-01 18:30")
    expect(page.locator("[data-deadline-preview]")).to_contain_text("(2027-07-01 22:30 UTC)")  # EDT, UTC-4
    page.get_by_role("button", name="Save deadline").click()
    expect(page.get_by_text("Contributions now close at")).to_be_visible()
    expect(page.get_by_label(re.compile("Contributions close at"))).to_have_value("2027-07-01 18:30")
    assert page.locator("input[name=timezone]").input_value() == "America/New_York"


def test_deletes_moves_and_restores_by_someone_else_are_announced_with_their_name(person, live_server):
    reader, writer = person("editor2"), person("editor")
    open_document(reader, live_server, "Joint Declaration")
    open_document(writer, live_server, "Joint Declaration")
    purpose = clause(writer, 2).locator(".clause-title").inner_text().split(":", 1)[-1].strip()
    clause(reader, 2).get_by_role("link", name="Edit clause 2").click()
    expect(clause(reader, 2).locator("textarea")).to_be_focused()
    toast = reader.locator("#toast")
    tereza = "Tereza Novotná, Vltava Digital Health Cluster"

    writer.once("dialog", lambda dialog: dialog.accept())
    clause(writer, 2).get_by_role("link", name="Delete clause 2").focus()
    writer.keyboard.press("Enter")
    expect(toast).to_have_text(f"{tereza} deleted “{purpose}”.", timeout=LIVE)
    expect(toast).to_have_attribute("role", "status")
    expect(reader.locator("li.editing .clause-notice")).to_have_text(
        f"{tereza} deleted this clause while you were editing it. Copy your text if you still need it.")

    writer.get_by_role("button", name="Undo").click()
    expect(toast).to_have_text(f"{tereza} restored “{purpose}”.", timeout=LIVE)

    third = clause(writer, 3).locator(".clause-title").inner_text().split(":", 1)[-1].strip()
    clause(writer, 2).get_by_role("button", name="Move clause 2 down").focus()
    writer.keyboard.press("Enter")
    expect(toast).to_have_text(re.compile(  # one move swaps two clauses: both are named
        rf"^{tereza} changed the order of the clauses: “({re.escape(third)}|{re.escape(purpose)})” and "
        rf"“({re.escape(purpose)}|{re.escape(third)})” moved\.$"), timeout=LIVE)
