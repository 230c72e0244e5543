"""A signatory signs in Chromium: sees the hash, confirms it, re-enters the password, and the board
shows their organisation as signed, also on the secretariat's open board, live."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from drafting.documents.operations import document_hash
from drafting.extensions import db
from drafting.models import Document, Organisation
from tests.conftest import Api, World, live_env, make_app
from tests.phases import walk
from tests.served import LiveServer

from .conftest import run_axe

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(database):
    """The demo, with the Joint Declaration opened for signing, served."""
    app = make_app(database)
    walk(Api(app.test_client(), World(app)), 1, "signing")
    with app.app_context():
        document = db.session.get(Document, 1)
        assert document.phase == "signing"
        app.config["EXPECTED"] = (document_hash(document), db.session.scalar(
            select(Organisation.id).where(Organisation.name == "Danube Health Cluster")))
        db.session.remove()  # give the connection back before closing them all
        db.engine.dispose()
    server = LiveServer(database, env=live_env())
    server.expected = app.config["EXPECTED"]
    yield server
    server.stop()


def test_a_signatory_signs(new_page, live_server):
    content_hash, hu = live_server.expected
    secretariat = new_page("admin")
    secretariat.goto(live_server.url("/documents/1/signoff"))
    expect(secretariat.locator(f"#board-org-{hu}")).to_contain_text("Pending")

    page = new_page("signatory")
    page.get_by_role("link", name=re.compile("Joint Declaration")).click()
    expect(page.locator(".signoff-banner")).to_contain_text("The text is frozen for signing")
    expect(page.locator(".clause-actions").first.get_by_role("link", name=re.compile("^Edit"))).to_have_count(0)
    page.get_by_role("link", name="Review and sign").click()

    shown = page.locator(".hash-card .hash-groups").inner_text()
    assert re.sub(r"\s", "", shown) == content_hash
    assert run_axe(page) == []

    form = page.locator("#sign")
    form.get_by_label(re.compile("I have read the final text")).check()
    form.get_by_label("Your password, to confirm it is you").fill("not my password")
    form.get_by_role("button", name="Sign for Danube Health Cluster").click()
    expect(page.locator("#sign-error")).to_contain_text("That password is not correct. Nothing was signed.")
    expect(page.get_by_label("Your password, to confirm it is you")).to_be_focused()
    expect(page.locator(f"#board-org-{hu}")).to_contain_text("Pending")

    checkbox = page.get_by_label(re.compile("I have read the final text"))
    expect(checkbox).to_be_checked()  # kept after a wrong password: the hash did not change
    page.get_by_label("Your password, to confirm it is you").fill("drafting-demo")
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_have_text("You signed for Danube Health Cluster.")
    row = page.locator(f"#board-org-{hu}")
    expect(row).to_contain_text("Signed")
    expect(row).to_contain_text("Katalin Szűcs")
    expect(page.locator(".board-summary")).to_contain_text("1 of 7")
    expect(page.locator("#sign")).to_contain_text("Danube Health Cluster has signed")
    assert run_axe(page) == []

    # The secretariat's open board follows without a reload.
    expect(secretariat.locator(f"#board-org-{hu}")).to_contain_text("Katalin Szűcs")
    expect(secretariat.locator(".board-summary")).to_contain_text("1 of 7")
