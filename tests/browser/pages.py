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


# Holds back chosen answers in the page (the request reaches the server at once; its answer is
# handed to htmx, or to the fetch() that asked, only after the delay) and records what the page
# asked for, so a live refresh and the page's own request can be made to cross in a chosen order.
HOLD_ANSWERS = """
window.heldAnswers = {};
window.sentRequests = [];
const open = XMLHttpRequest.prototype.open;
XMLHttpRequest.prototype.open = function (method, url) { this.heldUrl = method + " " + url; return open.apply(this, arguments); };
const send = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.send = function () {
  const xhr = this;
  window.sentRequests.push(xhr.heldUrl);
  const hold = Object.keys(window.heldAnswers).find(function (part) { return xhr.heldUrl.indexOf(part) >= 0; });
  if (hold && xhr.onload) {
    const onload = xhr.onload;
    xhr.onload = function () { const args = arguments; setTimeout(function () { onload.apply(xhr, args); }, window.heldAnswers[hold]); };
  }
  return send.apply(this, arguments);
};
const fetched = window.fetch;
window.fetch = function (url, init) {
  const asked = ((init && init.method) || "GET").toUpperCase() + " " + url;
  window.sentRequests.push(asked);
  const hold = Object.keys(window.heldAnswers).find(function (part) { return asked.indexOf(part) >= 0; });
  const answer = fetched.apply(this, arguments);
  return hold ? answer.then(function (response) {
    return new Promise(function (resolve) { setTimeout(function () { resolve(response); }, window.heldAnswers[hold]); });
  }) : answer;
};
"""
