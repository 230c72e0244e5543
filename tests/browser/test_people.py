"""The secretariat in Chromium: adds an organisation, invites a person to a document from its Members
page, and the person opens the link in a browser of their own, sets a password and lands on the
document. axe checks every new page; the pages also fit a 360 px wide screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import run_axe

pytestmark = pytest.mark.browser
WIDE = """() => [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1)
    .slice(0, 8).map(e => `${e.tagName}.${e.className}#${e.id}`)"""


def fits(page, width: int = 360) -> None:
    """At a phone's width the page needs no sideways scrolling."""
    page.set_viewport_size({"width": width, "height": 800})
    overflow = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(WIDE) if overflow > width else []
    assert overflow <= width, f"{page.url} is {overflow}px wide at {width}px: {wide}"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_secretariat_invites_a_person_who_joins(new_page, live_server):
    admin = new_page("admin")
    admin.get_by_role("link", name="Users and organisations").click()
    expect(admin.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    assert run_axe(admin) == []
    fits(admin)

    admin.get_by_role("navigation", name="Administration").get_by_role("link", name="Organisations").click()
    admin.get_by_label("Name").fill("Baltic Biotech Cluster")
    admin.get_by_label("Country").fill("XX")
    admin.get_by_role("button", name="Add organisation").click()
    expect(admin.locator("#new-org-country-error")).to_contain_text("two-letter ISO 3166")
    expect(admin.get_by_label("Country")).to_be_focused()
    expect(admin.get_by_label("Name")).to_have_value("Baltic Biotech Cluster")  # kept
    assert run_axe(admin) == []
    admin.get_by_label("Country").fill("lt")
    admin.keyboard.press("Enter")
    expect(admin.locator(".flash")).to_have_text("Baltic Biotech Cluster (LT) added.")
    assert run_axe(admin) == []
    fits(admin)

    admin.goto(live_server.url("/documents/1"))
    admin.get_by_role("navigation", name="Document tools").get_by_role(
        "link", name="Members and participating clusters").click()
    expect(admin.get_by_role("heading", name="Members and participating clusters")).to_be_visible()
    assert run_axe(admin) == []
    fits(admin)

    form = admin.locator("form", has=admin.locator("#invite-email"))
    form.get_by_label("E-mail").fill("ruta.kazlauskiene@balticbiotech.example")
    form.get_by_label("Name").fill("Rūta Kazlauskienė")
    form.get_by_label("Cluster").select_option(label="Baltic Biotech Cluster (LT)")
    form.get_by_label("Role").select_option("signatory")
    form.get_by_role("button", name="Invite").click()
    expect(admin.locator(".flash")).to_contain_text("Invitation for ruta.kazlauskiene@balticbiotech.example created")
    link = admin.get_by_label("The link to pass on").input_value()
    assert re.fullmatch(re.escape(live_server.url("/invitations/")) + r"[A-Za-z0-9_-]{43}", link)
    expect(admin.locator("#invitations-title")).to_have_text("Pending invitations (1)")
    assert run_axe(admin) == []
    fits(admin)

    person = new_page(None)  # a fresh browser: nobody logged in
    person.goto(link)
    expect(person.get_by_role("heading", name="Joint Declaration of European Health-Innovation Clusters")).to_be_visible()
    expect(person.locator("main")).to_contain_text("Rūta Kazlauskienė")
    assert run_axe(person) == []
    fits(person)
    person.get_by_label("Password", exact=True).fill("baltic-secret")
    person.get_by_label("The same password again").fill("baltic-secrets")
    person.get_by_role("button", name="Set password and open the document").click()
    expect(person.locator("#confirm-error")).to_contain_text("not the same")
    expect(person.get_by_label("The same password again")).to_be_focused()
    assert run_axe(person) == []
    person.get_by_label("Password", exact=True).fill("baltic-secret")
    person.get_by_label("The same password again").fill("baltic-secret")
    person.keyboard.press("Enter")
    person.wait_for_url(live_server.url("/documents/1"))
    expect(person.locator(".flash")).to_have_text("Welcome, Rūta Kazlauskienė: you are signatory of this document.")
    expect(person.locator(".site-header")).to_contain_text("Baltic Biotech Cluster")

    # the secretariat's members page now lists the person; the link is spent
    admin.reload()
    expect(admin.locator("#members-title")).to_be_visible()
    expect(admin.get_by_role("main")).to_contain_text("Rūta Kazlauskienė")
    expect(admin.locator("#invitations-title")).to_have_text("Pending invitations (0)")
    again = new_page(None)
    response = again.goto(link)
    assert response.status == 410
    expect(again.get_by_role("heading", name="This link no longer works")).to_be_visible()
    assert run_axe(again) == []


def test_a_member_reads_the_members_page(new_page, live_server):
    page = new_page("observer")
    page.goto(live_server.url("/documents/1"))
    page.get_by_role("link", name="Members and participating clusters").click()
    expect(page.locator("#clusters-title")).to_have_text("Participating clusters (7)")
    expect(page.get_by_role("button")).to_have_count(1)  # only "Log out"
    assert run_axe(page) == []
    fits(page)
