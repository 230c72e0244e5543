"""Browser tests: the app served by gunicorn on a free port, driven in Debian's Chromium by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ROOT = Path(__file__).resolve().parents[2]
AXE = "vendor/axe.min.js"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """A served copy of the seeded database; `url(path)` builds addresses."""

    def __init__(self, database: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "browser-tests",
               "DRAFTING_ENV": "testing"}
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.process = subprocess.Popen(
            [gunicorn, "-w", "1", "--threads", "50", "--no-control-socket", "-b", f"127.0.0.1:{self.port}",
             "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.process.stdout.read().decode()) from None
                time.sleep(0.1)
        raise RuntimeError("the test server did not start")

    def url(self, path: str = "/") -> str:
        return self.base + path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


@pytest.fixture
def live_server(template_database, tmp_path):
    database = tmp_path / "live.db"
    shutil.copy(template_database, database)
    server = LiveServer(database)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """Open a page in a fresh browser context (one context per person) logged in as a role."""
    contexts = []

    def make(role: str | None = "editor", javascript: bool = True):
        from tests.conftest import EMAILS, PASSWORD

        context = browser.new_context(java_script_enabled=javascript, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
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


def run_axe(page) -> list[dict]:
    """Run axe-core (vendored, served from the app itself so CSP allows it); return serious+ violations."""
    page.add_script_tag(url=f"/static/{AXE}")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]
