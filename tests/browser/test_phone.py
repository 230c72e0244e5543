"""Every page on a phone (360 and 390 px) and a laptop (1366 px): no sideways scrolling, axe clean;
the header's menu, the document page's sticky bar, its outline (search, jump), compact clause
actions, reading mode, and how few Tab presses reach the exports of a long document."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from drafting.extensions import db
from drafting.models import User
from drafting.people.operations import password_link
from tests.conftest import EMAILS, PASSWORD, Api, World, live_env, make_app
from tests.phases import adopt
from tests.served import LiveServer

from .conftest import run_axe

pytestmark = pytest.mark.browser

PHONES = ((360, 740), (390, 844))
LAPTOP = (1366, 768)
# The Joint Declaration (document 1, drafting) has 33 clauses; the Joint Action Plan (2) is in consultation.
LONG = 1

# Who sees which pages. A page is checked for overflow at every size for each role listed; axe runs
# on it (at 390 and 1366) for the first role that lists it.
PAGES = {
    "admin": ["/documents", "/documents/1", "/documents/2", "/documents/1/members", "/admin/users",
              "/admin/organisations", "/documents/1/phase?to=consultation", "/documents/2/phase?to=final_review",
              "/documents/2/signoff", "/documents/2/audit", "/admin/outbox", "/documents/import",
              "/documents/2/verify"],
    "editor": ["/documents", "/documents/1", "/documents/2", "/clauses/1/history", "/documents/1/versions",
               "/documents/2/summary", "/documents/2/report", "/documents/2/threads"],
    "commenter": ["/documents", "/documents/2", "/documents/2/contributions", "/notifications",
                  "/settings/notifications"],
    "signatory": ["/documents/2", "/documents/2/signoff"],
    "observer": ["/documents/1", "/documents/1/members"],
}


def overflow(page) -> tuple[int, int, list[str]]:
    """The page's scroll width, the window's width, and what sticks out (for the message)."""
    return page.evaluate("""() => {
        const w = window.innerWidth, out = [];
        if (document.documentElement.scrollWidth > w) for (const el of document.querySelectorAll('body *')) {
            const r = el.getBoundingClientRect();
            if (r.width && r.right > w + 1) out.push(el.tagName.toLowerCase() + '.' + el.className + ' ' + Math.round(r.right));
        }
        return [document.documentElement.scrollWidth, w, out.slice(0, 5)];
    }""")


def check_sizes(page, path: str, axe: bool, widths: list[int]) -> None:
    """Load `path` and check it at each size: no sideways scrolling; axe at 390 and 1366."""
    page.goto(page.base + path)
    for width, height in [size for size in (*PHONES, LAPTOP) if size[0] in widths]:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(30)
        scroll_width, window_width, wide = overflow(page)
        assert scroll_width <= window_width, f"{path} is {scroll_width}px wide at {width}px: {wide}"
        if axe and width in (390, 1366):
            assert run_axe(page) == [], f"{path} at {width}px"


def logged_in(new_page, live_server, role: str | None):
    page = new_page(role)
    page.base = live_server.url("")
    return page


def test_every_page_fits_a_phone_and_a_laptop(new_page, live_server, database):
    seen = set()
    for role, paths in PAGES.items():
        page = logged_in(new_page, live_server, role)
        for path in paths:
            check_sizes(page, path, axe=path not in seen, widths=[360, 390, 1366])
            seen.add(path)
        page.context.close()

    # Pages before logging in: the login page, an invitation, and a link to set a password.
    app = make_app(database, SECRET_KEY="browser-tests")
    api = Api(app.test_client(), World(app))
    answer = api.as_("admin").post("/documents/1/invitations", json={
        "email": "mara.ionescu@carpathian.example", "name": "Mara Ionescu",
        "organisation": "Danube Health Cluster", "role": "commenter"})
    assert answer.status_code == 201
    invitation = urlsplit(answer.get_json()["link"]).path
    with app.app_context(), app.test_request_context():
        admin = db.session.scalar(select(User).where(User.email == EMAILS["admin"]))
        person = db.session.scalar(select(User).where(User.email == EMAILS["observer"]))
        reset = urlsplit(password_link(admin, person)).path
        db.session.commit()
    guest = logged_in(new_page, live_server, None)
    for path in ("/login", invitation, reset):
        check_sizes(guest, path, axe=True, widths=[360, 390, 1366])
        expect(guest.locator("h1")).to_be_visible()


def test_the_header_folds_into_a_menu_that_opens_by_keyboard(new_page, live_server):
    page = new_page("admin")
    page.set_viewport_size({"width": 390, "height": 844})
    button = page.get_by_role("button", name="Menu")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("link", name="Users and organisations")).to_be_hidden()
    # From the top: skip link, the brand, the menu button.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("link", name="Documents", exact=True)).to_be_focused()
    expect(page.get_by_role("button", name="Log out")).to_be_in_viewport()
    name = page.locator(".who-name")
    box = name.bounding_box()
    assert box["height"] < 40 and box["width"] > 60, f"the name wraps: {box}"  # one line, not a letter a line
    page.keyboard.press("Escape")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_be_focused()
    expect(page.get_by_role("link", name="Users and organisations")).to_be_hidden()
    # Wide: no menu button, the links are in the header.
    page.set_viewport_size({"width": 1366, "height": 768})
    expect(button).to_be_hidden()
    expect(page.get_by_role("link", name="Users and organisations")).to_be_visible()


def test_the_sticky_bar_outline_and_reading_mode_on_a_phone(new_page, live_server):
    page = new_page("editor")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url(f"/documents/{LONG}"))
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    bar = page.locator("#doc-bar")
    live = bar.locator(".doc-bar-live")
    expect(live).to_have_attribute("data-state", "online")
    expect(live).to_contain_text("Live")
    expect(page.locator("#document-aside")).to_be_hidden()  # the rest is one tap away

    # Halfway down the long document the bar is still at the top, with the live state and phase.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight / 2)")
    page.wait_for_timeout(100)
    assert page.evaluate("window.scrollY") > 3000
    box = live.bounding_box()
    assert 0 <= box["y"] < 100, box
    expect(bar.locator(".phase")).to_have_text("Drafting")
    expect(bar.locator(".phase")).to_be_in_viewport()

    # Details: the aside as a sheet (live state, phase card, exports); Escape closes it.
    bar.get_by_role("button", name="Details").click()
    aside = page.locator("#document-aside")
    expect(aside).to_be_visible()
    expect(aside.get_by_role("link", name="Markdown")).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(aside).to_be_hidden()
    expect(bar.get_by_role("button", name="Details")).to_be_focused()

    # The outline: search filters (the count is announced), choosing a clause focuses its heading.
    bar.get_by_role("button", name="Outline").click()
    search = page.get_by_label("Search the clauses")
    expect(search).to_be_focused()
    entries = page.locator("#outline-list > li")
    expect(entries).to_have_count(33)
    search.fill("federated analysis")
    expect(page.locator("#outline-count")).to_have_text(re.compile(r"^1 of 33 clauses match"))
    expect(page.locator("#outline-count")).to_have_attribute("role", "status")
    expect(page.locator("#outline-list > li:visible")).to_have_count(1)
    page.locator("#outline-list > li:visible a").click()
    expect(page.locator("#outline")).to_be_hidden()
    focused = page.evaluate("Array.from(document.querySelectorAll('ol.clause-list > li.clause'))"
                            ".indexOf(document.activeElement.closest('li.clause')) + 1")
    assert page.evaluate("document.activeElement.classList.contains('clause-title')")
    expect(page.locator(f"ol.clause-list > li.clause:nth-child({focused}) .clause-text")).to_contain_text("federated analysis")
    assert 0 <= page.evaluate("document.activeElement.getBoundingClientRect().top") < 300
    bar.get_by_role("button", name="Outline").click()
    search.fill("no clause says xylophone")
    expect(page.locator("#outline-count")).to_have_text(re.compile("No clause matches"))
    expect(page.locator("#outline-list > li:visible")).to_have_count(0)
    search.fill("")

    # Go to a clause by its number.
    page.get_by_label("Go to clause").fill("12")
    page.get_by_label("Go to clause").press("Enter")
    expect(page.locator("#outline")).to_be_hidden()
    assert page.evaluate("document.activeElement.closest('li.clause').id") == page.locator(
        "ol.clause-list > li.clause").nth(11).get_attribute("id")  # the 12th clause (the enacting formula: no number)

    # On a phone the secondary actions are behind "More actions for clause N".
    clause = page.locator("ol.clause-list > li.clause").nth(1)
    up = clause.get_by_role("button", name="Move clause 2 up", exact=True)
    expect(up).to_be_hidden()
    clause.get_by_role("button", name="More actions for clause 2", exact=True).click()
    expect(up).to_be_visible()
    expect(clause.get_by_role("link", name="History of clause 2", exact=True)).to_be_visible()
    expect(clause.get_by_role("button", name="More actions for clause 2", exact=True)).to_have_attribute("aria-expanded", "true")

    # Reading mode: the text alone, remembered after a reload.
    toggle = page.get_by_role("button", name="Reading mode")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".clause-actions").first).to_be_hidden()
    expect(page.locator(".clause-text").first).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Reading mode")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".clause-actions").first).to_be_hidden()
    page.get_by_role("button", name="Reading mode").click()
    expect(page.locator(".clause-actions").first).to_be_visible()
    scroll_width, window_width, wide = overflow(page)
    assert scroll_width <= window_width, wide


def test_few_tab_presses_reach_the_exports_of_a_long_document(new_page, live_server):
    page = new_page("editor")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(live_server.url(f"/documents/{LONG}"))
    expect(page.locator("ol.clause-list > li.clause")).to_have_count(33)
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    first_export = page.locator(".export-links a").first
    presses = 0
    while presses < 300:
        page.keyboard.press("Tab")
        presses += 1
        if page.evaluate("document.activeElement === document.querySelector('.export-links a')"):
            break
    expect(first_export).to_be_focused()
    print(f"{presses} Tab presses to the first export link")
    assert presses < 80, f"{presses} Tab presses to the first export link"

    # A clause's actions by keyboard: Tab stops on its primary action; the arrow keys reach the rest.
    page.get_by_role("link", name="Edit clause 3", exact=True).focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Edit clause 4", exact=True)).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("ArrowRight")
    more = page.get_by_role("button", name="More actions for clause 3", exact=True)
    expect(more).to_be_focused()
    expect(more).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(more).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("link", name="Add after clause 3", exact=True)).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Move clause 3 up", exact=True)).to_be_focused()
    page.keyboard.press("Escape")
    expect(more).to_be_focused()
    expect(more).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("link", name="Edit clause 3", exact=True)).to_be_focused()
    page.keyboard.press("ArrowLeft")  # round to the last: Comment, and the menu opens for it
    expect(page.get_by_role("link", name="Comment on clause 3", exact=True)).to_be_focused()
    expect(more).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")  # on to the next clause; this one closes
    expect(page.get_by_role("link", name="Edit clause 4", exact=True)).to_be_focused()
    expect(more).to_have_attribute("aria-expanded", "false")

    # The outline sits beside the text; a search and a jump by keyboard.
    outline = page.locator("#outline")
    expect(outline).to_be_visible()
    page.keyboard.press("Alt+Shift+G")
    expect(page.get_by_label("Go to clause")).to_be_focused()
    page.keyboard.type("30")
    page.keyboard.press("Enter")
    # "Go to" takes the clause's place in the list; the number shown follows its kind (article 19).
    assert page.evaluate("document.activeElement.closest('li.clause').id") == page.locator(
        "ol.clause-list > li.clause").nth(29).get_attribute("id")
    assert page.evaluate("document.activeElement.closest('li.clause').querySelector('.clause-number').textContent") == "19"
    expect(outline.locator("a[aria-current=location]")).to_contain_text("19")


def test_the_outline_follows_live_changes(new_page, live_server):
    reader = new_page("editor")
    reader.goto(live_server.url(f"/documents/{LONG}"))
    expect(reader.locator("#connection")).to_have_attribute("data-state", "online")
    expect(reader.locator("#outline-list > li")).to_have_count(33)

    writer = new_page("editor2")
    writer.goto(live_server.url(f"/documents/{LONG}"))
    expect(writer.locator("#connection")).to_have_attribute("data-state", "online")
    # The other editor adds a clause (as the page's form would post it: what is tested here is the
    # reader's outline, so the writer's typing is kept out of it).
    token = writer.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']")
    first_id = writer.locator("ol.clause-list > li.clause").first.get_attribute("data-clause-id")
    added_answer = writer.request.post(live_server.url(f"/documents/{LONG}/clauses"), headers={"X-CSRFToken": token},
                                       form={"heading": "Added on the train", "after": first_id,
                                             "text": "A clause added while the others read."})
    assert added_answer.ok, added_answer.status

    expect(reader.locator("#outline-list > li")).to_have_count(34)
    expect(reader.locator("#outline-list > li").nth(1)).to_contain_text("Added on the train")
    reader.get_by_label("Search the clauses").fill("while the others read")
    expect(reader.locator("#outline-count")).to_have_text(re.compile(r"^1 of 34 clauses match"))
    # The new clause's actions are compact too.
    added = reader.locator("ol.clause-list > li.clause").nth(1)
    expect(added.get_by_role("button", name="More actions for clause 2", exact=True)).to_have_attribute("aria-controls", re.compile(r"\S"))
    assert added.get_by_role("link", name="Add after clause 2", exact=True).get_attribute("tabindex") == "-1"


@pytest.fixture
def adopted_server(database):
    """The demo with the Joint Action Plan adopted: its certificate exists."""
    app = make_app(database)
    adopt(app, Api(app.test_client(), World(app)), 2)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    server = LiveServer(database, env=live_env())
    yield server
    server.stop()


def test_adopted_pages_fit(browser, adopted_server):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.set_default_timeout(8000)
        page.base = adopted_server.url("")
        page.goto(page.base + "/login")
        page.fill("#email", EMAILS["signatory"])
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/documents")
        for path in ("/documents/2/certificate", "/documents/2", "/documents/2/verify", "/documents/2/signoff"):
            check_sizes(page, path, axe=path.endswith("certificate"), widths=[360, 390, 1366])
    finally:
        context.close()
