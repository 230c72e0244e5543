"""Take screenshots of the served app with Debian's Chromium: python scripts/screenshot.py URL OUT_DIR.

Writes document.png (1366x768, the 33-clause Joint Declaration), editing.png (a clause being edited)
and phone-document.png (390x844, the same document on a phone, scrolled into the text, with the
sticky bar at the top); then conflict.png and phone-conflict.png (two editors changed the same words
of clause 3: the overlap marked in both versions), proposed-changes.png and
phone-proposed-changes.png (the Joint Action Plan's open amendments marked in the text, at the
first one), phone-session-ended.png (the lasting banner after the session ended, the form kept) and
deleted-clauses.png (the Deleted clauses section, opened after a delete; the clause is restored
afterwards). These change the served database: run it on a fresh demo."""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
WIDE = {"width": 1366, "height": 768}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
SECOND_EDITOR = "ines.carvalho@atlantichealth.example"


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", "drafting-demo")
    page.click("button[type=submit]")
    page.wait_for_url("**/documents")


def open_document(page, title: str = "Joint Declaration") -> None:
    page.click(f"table.documents a:has-text('{title}')")
    page.wait_for_selector("#connection[data-state=online]", state="attached", timeout=5000)


def open_declaration(page) -> None:
    open_document(page)


def clause(page, number: int):
    return page.locator("ol.clause-list > li.clause").nth(number - 1)


def save_clause(page, number: int, text: str) -> None:
    item = clause(page, number)
    item.get_by_role("link", name=f"Edit clause {number}", exact=True).click()
    item.locator("textarea").fill(text)
    item.get_by_role("button", name="Save").click()
    item.locator(".clause-status").wait_for()


def conflict(browser, base: str, out_dir: Path, email: str, phone: bool) -> None:
    """The second editor saves clause 3 while this one edits the same words: the conflict view."""
    words = "The clusters publish an annual report on the data space before the end of March each year."
    theirs = browser.new_page(viewport=WIDE)
    log_in(theirs, base, SECOND_EDITOR)
    open_declaration(theirs)
    save_clause(theirs, 3, words)
    mine = browser.new_page(**PHONE) if phone else browser.new_page(viewport=WIDE)
    log_in(mine, base, email)
    open_declaration(mine)
    clause(mine, 3).get_by_role("link", name="Edit clause 3", exact=True).click()
    clause(mine, 3).locator("textarea").fill(words.replace("annual report", "audited annual report")
                                             .replace("The clusters", "All clusters"))
    save_clause(theirs, 3, words.replace("annual report", "yearly summary").replace("each year", "every year"))
    mine.wait_for_timeout(500)
    clause(mine, 3).get_by_role("button", name="Save").click()
    view = mine.locator("li.clause.conflict")
    view.wait_for()
    view.evaluate("el => el.scrollIntoView({block: 'start'})")
    mine.wait_for_timeout(300)
    mine.screenshot(path=out_dir / ("phone-conflict.png" if phone else "conflict.png"))
    theirs.close()
    mine.close()


def proposed_changes(browser, base: str, out_dir: Path, email: str, phone: bool) -> None:
    page = browser.new_page(**PHONE) if phone else browser.new_page(viewport=WIDE)
    log_in(page, base, email)
    open_document(page, "Joint Action Plan")
    page.get_by_role("button", name="Show proposed changes").click()
    page.locator("#clauses .proposed-change").first.wait_for()
    page.locator(".review-bar").get_by_role("button", name="Next", exact=True).click()
    page.wait_for_timeout(300)
    page.screenshot(path=out_dir / ("phone-proposed-changes.png" if phone else "proposed-changes.png"))
    page.get_by_role("button", name="Hide proposed changes").click()  # the mode is remembered per tab
    page.close()


def session_ended(browser, base: str, out_dir: Path, email: str) -> None:
    page = browser.new_page(**PHONE)
    log_in(page, base, email)
    open_declaration(page)
    item = clause(page, 2)
    item.get_by_role("link", name="Edit clause 2", exact=True).click()
    area = item.locator("textarea")
    area.press("Control+End")
    page.keyboard.type(" A sentence written as the session ended.")
    page.context.clear_cookies(name="session")
    item.get_by_role("button", name="Save").click()
    page.locator("#session-banner").wait_for()
    page.wait_for_timeout(300)
    page.screenshot(path=out_dir / "phone-session-ended.png")
    page.close()


def deleted_clauses(browser, base: str, out_dir: Path, email: str) -> None:
    page = browser.new_page(viewport=WIDE)
    log_in(page, base, email)
    open_declaration(page)
    count = page.locator("ol.clause-list > li.clause").count()
    page.once("dialog", lambda dialog: dialog.accept())
    last = clause(page, count)
    last.get_by_role("link", name=f"Delete clause {count}").focus()
    page.keyboard.press("Enter")
    page.locator("#deleted-clauses").wait_for()
    section = page.locator("#deleted-clauses")
    section.locator("summary").click()
    section.locator("li.deleted-clause").first.wait_for()
    section.evaluate("el => el.scrollIntoView({block: 'center'})")
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)
    page.screenshot(path=out_dir / "deleted-clauses.png")
    section.get_by_role("button", name="Restore").first.click()  # the demo keeps its clauses
    page.locator("ol.clause-list > li.clause").nth(count - 1).wait_for()
    page.close()


def main(base: str, out: str, email: str = "editor@drafting.example") -> None:
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        page = browser.new_page(viewport=WIDE)
        log_in(page, base, email)
        open_declaration(page)
        page.screenshot(path=out_dir / "document.png")
        page.get_by_role("link", name="Edit clause 2", exact=True).click()
        page.wait_for_selector(".clause.editing textarea")
        page.screenshot(path=out_dir / "editing.png")
        page.close()

        phone = browser.new_page(**PHONE)
        log_in(phone, base, email)
        open_declaration(phone)
        phone.locator("#clause-14").scroll_into_view_if_needed()
        phone.evaluate("document.getElementById('clause-14').scrollIntoView({block: 'start'})")
        phone.wait_for_timeout(200)
        phone.screenshot(path=out_dir / "phone-document.png")
        phone.close()

        for on_phone in (False, True):
            proposed_changes(browser, base, out_dir, email, on_phone)
        session_ended(browser, base, out_dir, email)
        deleted_clauses(browser, base, out_dir, email)
        for on_phone in (False, True):
            conflict(browser, base, out_dir, email, on_phone)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
