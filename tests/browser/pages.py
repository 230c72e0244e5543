"""What the browser tests do on a document page again and again: open a document from the list
(and wait until it is live), and find its n-th clause."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def open_document(page, live_server, title: str) -> None:
    """Open the document whose title matches `title` from the documents list; wait until it is live."""
    page.goto(live_server.url("/documents"))
    page.get_by_role("link", name=re.compile(title)).click()
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")


def clause(page, number: int):
    """The n-th clause (from 1) of the document list on the page."""
    return page.locator("ol.clause-list > li.clause").nth(number - 1)
