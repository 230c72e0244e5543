"""Browser tests: the app served by gunicorn on a free port, driven in Debian's Chromium by Playwright."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import live_env
from tests.served import LiveServer

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
AXE = "vendor/axe.min.js"


@pytest.fixture
def live_server(database):
    server = LiveServer(database, env=live_env())
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package.")
    from playwright.sync_api import expect, sync_playwright

    # Two cores run the server, Chromium and pytest at once: a page's answer can take seconds
    # under CI load, so assertions wait up to 10 s (Playwright's default is 5 s).
    expect.set_options(timeout=10_000)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """Open a page in a fresh browser context (one context per person) logged in as a role.

    Every page is watched for what the Content-Security-Policy refused (an inline style or
    script the browser silently dropped): any such refusal fails the test that opened the page.
    """
    contexts = []
    refused: list[str] = []

    def make(role: str | None = "editor", javascript: bool = True, viewport: dict | None = None,
             zone: str | None = None, locale: str | None = None):
        from tests.conftest import EMAILS, PASSWORD

        # `locale`: the browser's language (its Accept-Language), which the pages follow.
        context = browser.new_context(java_script_enabled=javascript, viewport=viewport or {"width": 1280, "height": 900},
                                      timezone_id=zone, locale=locale)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: refused.append(f"{page.url}: {message.text}")
                if message.type == "error" and "Content Security Policy" in message.text else None)
        page.set_default_timeout(8000)
        if role:
            page.goto(live_server.url("/login"))
            page.fill("#email", EMAILS[role])
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/documents")
        return page

    yield make
    for context in contexts:
        context.close()
    assert refused == [], "the Content-Security-Policy refused part of a page"


def run_axe(page) -> list[dict]:
    """Run axe-core (vendored, served from the app itself so CSP allows it); return serious+ violations."""
    page.add_script_tag(url=f"/static/{AXE}")
    # Colours are judged as they rest, not halfway through a fade: a clause's "more" actions fade
    # in over 120 ms when focus enters it, and axe run during the fade measured faint text (CI
    # failed on it once). Short transitions and animations are brought to their end state at once
    # (finish() waits for nothing; awaiting their end can wait for ever, and a Playwright evaluate
    # has no timeout: a CI run hung that way, cause in the page unknown);
    # the undo countdown (seconds long, colours unchanged) is left running.
    page.evaluate("""() => {
        for (const a of document.getAnimations()) {
            const end = a.effect && a.effect.getComputedTiming().endTime;
            if (Number.isFinite(end) && end - (a.currentTime || 0) <= 2000) {
                try { a.finish(); } catch (e) { /* one that cannot finish is left as it is */ }
            }
        }
    }""")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]
