"""Take screenshots of the served app with Debian's Chromium: python scripts/screenshot.py URL OUT_DIR."""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def main(base: str, out: str, email: str = "editor@drafting.example") -> None:
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1360, "height": 900})
        page.goto(f"{base}/login")
        page.fill("#email", email)
        page.fill("#password", "drafting-demo")
        page.click("button[type=submit]")
        page.click("table.documents a >> nth=0")
        page.wait_for_selector("#connection[data-state=online]", timeout=5000)
        page.screenshot(path=out_dir / "document.png")
        page.click(".clause-actions a:has-text('Edit') >> nth=1")
        page.wait_for_selector(".clause.editing textarea")
        page.screenshot(path=out_dir / "editing.png")
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
