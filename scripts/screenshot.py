"""Take screenshots of the served app with Debian's Chromium: python scripts/screenshot.py URL OUT_DIR.

Writes document.png (1366x768, the 33-clause Joint Declaration), editing.png (a clause being edited)
and phone-document.png (390x844, the same document on a phone, scrolled into the text, with the
sticky bar at the top)."""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", "drafting-demo")
    page.click("button[type=submit]")
    page.wait_for_url("**/documents")


def open_declaration(page) -> None:
    page.click("table.documents a:has-text('Joint Declaration')")
    page.wait_for_selector("#connection[data-state=online]", state="attached", timeout=5000)


def main(base: str, out: str, email: str = "editor@drafting.example") -> None:
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        log_in(page, base, email)
        open_declaration(page)
        page.screenshot(path=out_dir / "document.png")
        page.get_by_role("link", name="Edit clause 2", exact=True).click()
        page.wait_for_selector(".clause.editing textarea")
        page.screenshot(path=out_dir / "editing.png")

        phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1,
                                 is_mobile=True, has_touch=True)
        log_in(phone, base, email)
        open_declaration(phone)
        phone.locator("#clause-14").scroll_into_view_if_needed()
        phone.evaluate("document.getElementById('clause-14').scrollIntoView({block: 'start'})")
        phone.wait_for_timeout(200)
        phone.screenshot(path=out_dir / "phone-document.png")
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
