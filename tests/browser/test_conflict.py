"""Two editors change the same words of one clause: the second sees what overlaps and chooses (issue 15, item 3)."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import clause as nth_clause

from .conftest import AXE

pytestmark = pytest.mark.browser

NUMBER = 3
BASE = "The clusters publish an annual report on the data space before the end of March each year."
THEIRS = BASE.replace("annual report", "yearly summary").replace("each year", "every year")
MINE = BASE.replace("annual report", "audited annual report").replace("The clusters", "All clusters")
COMBINED = ("All clusters publish an audited annual report on the data space before the end of March "
            "every year.")
SHOTS = os.environ.get("CONFLICT_SCREENSHOTS")  # a folder: save what the conflict view looks like there


def open_declaration(page, live_server):
    page.goto(live_server.url("/documents"))
    page.get_by_role("link", name=re.compile("Joint Declaration")).click()
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")


def clause(page, number: int = NUMBER):
    return nth_clause(page, number)


def save_as(page, text: str):
    item = clause(page)
    item.get_by_role("link", name=f"Edit clause {NUMBER}").click()
    area = item.locator("textarea")
    expect(area).to_be_focused()
    area.fill(text)
    item.get_by_role("button", name="Save").click()
    expect(item.locator(".clause-status")).to_contain_text("Saved as version")


def shown(locator) -> list[str]:
    """The text each matching element shows, without the cues only screen readers hear."""
    return locator.evaluate_all("""els => els.map(el => {
        const copy = el.cloneNode(true);
        copy.querySelectorAll(".visually-hidden").forEach(cue => cue.remove());
        return copy.textContent.trim();
    })""")


def axe_violations(page, selector: str) -> list[dict]:
    """Serious or critical axe-core violations inside one part of the page (as conftest.run_axe does for all).

    The "changed live" note static/review.js puts above a clause's text is that feature's own, checked by its tests.
    """
    page.add_script_tag(url=f"/static/{AXE}")
    result = page.evaluate("async (part) => await axe.run({include: [[part]], exclude: [['.live-mark']]}, "
                           "{resultTypes: ['violations']})", selector)
    return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def no_horizontal_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def conflict_between(new_page, live_server, width: int, height: int):
    """Alice and Bob start from BASE; Alice saves THEIRS first; Bob's save of MINE meets the conflict view."""
    alice, bob = new_page("editor"), new_page("editor2")
    bob.set_viewport_size({"width": width, "height": height})
    open_declaration(alice, live_server)
    open_declaration(bob, live_server)
    save_as(alice, BASE)
    expect(clause(bob).locator(".clause-text")).to_have_text(BASE, timeout=5000)
    version = int(clause(bob).get_attribute("data-version"))
    clause(bob).get_by_role("link", name=f"Edit clause {NUMBER}").click()
    expect(clause(bob).locator("textarea")).to_be_focused()
    clause(bob).locator("textarea").fill(MINE)
    save_as(alice, THEIRS)
    clause(bob).get_by_role("button", name="Save").click()
    view = bob.locator("li.clause.conflict")
    expect(view).to_contain_text(f"Conflict on clause {NUMBER}")
    expect(view.locator("textarea")).to_be_focused()
    expect(view.locator("[role=alert]")).to_be_in_viewport()  # the message and versions, not only the box
    return alice, bob, view, version


@pytest.mark.parametrize("width, height", [(1366, 768), (390, 844)])
def test_the_conflict_view_marks_the_overlap_shows_the_base_and_use_mine_saves_mine(
        new_page, live_server, width, height):
    alice, bob, view, version = conflict_between(new_page, live_server, width, height)
    theirs, mine = view.locator("section").nth(0), view.locator("section").nth(1)
    expect(theirs.get_by_role("heading")).to_contain_text(f"Their version (version {version + 1}, by ")
    expect(mine.get_by_role("heading")).to_contain_text("Your version")
    # The overlapping words are highlighted in both versions; the other changes are marked calmly.
    expect(theirs.locator("mark.conflict")).to_have_count(1)
    assert shown(theirs.locator("mark.conflict ins")) == ["yearly summary"]
    assert shown(theirs.locator("mark.conflict del")) == ["annual report"]
    assert shown(mine.locator("mark.conflict ins")) == ["audited"]
    assert shown(mine.locator("mark.conflict")) == ["audited annual report"]
    assert shown(theirs.locator(":scope .clause-text > ins")) == ["every"]
    assert shown(mine.locator(":scope .clause-text > ins")) == ["All"]
    highlight = theirs.locator("mark.conflict").evaluate("m => getComputedStyle(m).backgroundColor")
    calm = theirs.locator(":scope .clause-text > ins").evaluate("m => getComputedStyle(m).backgroundColor")
    assert highlight != calm
    # The base, one click away.
    base = view.locator("details.conflict-base")
    expect(base.locator(".clause-text")).not_to_be_visible()
    base.locator("summary").click()
    expect(base.locator(".clause-text")).to_be_visible()
    expect(base.locator(".clause-text")).to_have_text(BASE)
    # Narrow screens: the versions stack, and whole words wrap (nothing wider than the screen).
    boxes = [section.bounding_box() for section in (theirs, mine)]
    stacked = boxes[1]["y"] >= boxes[0]["y"] + boxes[0]["height"]
    assert stacked == (width < 720)
    assert no_horizontal_overflow(bob)
    if SHOTS:
        bob.screenshot(path=os.path.join(SHOTS, f"conflict-{width}.png"), full_page=width < 720)
        view.screenshot(path=os.path.join(SHOTS, f"conflict-view-{width}.png"))
    assert axe_violations(bob, "li.clause.conflict") == []
    if width < 720:
        bob.set_viewport_size({"width": 360, "height": 740})
        assert no_horizontal_overflow(bob)

    area = view.locator("textarea")
    expect(view.get_by_role("link", name="Keep the current text")).to_be_hidden()  # "Use theirs" does it
    # Edit combined: the other changes of both, and my words where we both changed the same ones, selected.
    view.get_by_role("button", name="Edit combined").click()
    expect(area).to_have_value(COMBINED)
    expect(area).to_be_focused()
    selected = area.evaluate("a => a.value.slice(a.selectionStart, a.selectionEnd)")
    assert selected == "audited annual report"
    expect(view.locator("[data-conflict-status]")).to_contain_text("combined text is in the text box")
    # Use mine, from the keyboard, then save: the next version is my text.
    view.get_by_role("button", name="Use mine").focus()
    bob.keyboard.press("Enter")
    expect(area).to_have_value(MINE)
    expect(area).to_be_focused()
    view.get_by_role("button", name=re.compile("Save resolved text")).click()
    expect(bob.locator("li.clause.conflict")).to_have_count(0)
    expect(clause(bob).locator(".clause-text")).to_have_text(MINE)
    expect(clause(bob).locator(".clause-status")).to_have_text(f"Saved as version {version + 2}.")
    expect(clause(alice).locator(".clause-text")).to_have_text(MINE, timeout=5000)


def test_use_theirs_closes_the_editor_with_their_text_and_saves_nothing(new_page, live_server):
    alice, bob, view, version = conflict_between(new_page, live_server, 390, 844)
    button = view.get_by_role("button", name="Use theirs")
    button.focus()
    bob.keyboard.press(" ")
    expect(bob.locator("li.clause.conflict")).to_have_count(0)
    expect(bob.locator("li.clause.editing")).to_have_count(0)
    expect(clause(bob).locator(".clause-text")).to_have_text(THEIRS)
    assert clause(bob).get_attribute("data-version") == str(version + 1)  # no new version
    alice.reload()
    expect(clause(alice).locator(".clause-text")).to_have_text(THEIRS)
    assert clause(alice).get_attribute("data-version") == str(version + 1)


def test_without_javascript_the_box_starts_with_my_text_and_the_link_keeps_theirs(new_page, live_server):
    alice, bob = new_page("editor"), new_page("editor2", javascript=False)
    open_declaration(alice, live_server)
    save_as(alice, BASE)
    bob.goto(live_server.url("/documents"))
    bob.get_by_role("link", name=re.compile("Joint Declaration")).click()
    clause(bob).get_by_role("link", name=f"Edit clause {NUMBER}", exact=True).click()
    bob.locator("textarea[name=text]").fill(MINE)
    save_as(alice, THEIRS)
    bob.get_by_role("button", name="Save").click()
    expect(bob.get_by_text(f"Conflict on clause {NUMBER}")).to_be_visible()
    expect(bob).to_have_title(re.compile(f"Conflict on clause {NUMBER}"))  # a whole page, styled
    expect(bob.locator("textarea[name=text]")).to_have_value(MINE)
    expect(bob.get_by_role("button", name="Use mine")).to_be_hidden()  # they need JavaScript
    expect(bob.locator("mark.conflict").first).to_be_visible()
    bob.get_by_role("link", name="Keep the current text").click()
    expect(bob.locator("ol.clause-list > li.clause").nth(NUMBER - 1).locator(".clause-text")).to_have_text(THEIRS)
