"""E-mail notifications in Chromium: a person chooses what reaches them on the settings page with the
keyboard alone (axe clean, 360 px wide), and the @ box of a comment form suggests members and
inserts the full name, so a mention always names someone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import run_axe
from .test_consultation import clause, open_plan
from .test_people import fits

pytestmark = pytest.mark.browser


def test_choosing_what_reaches_me_by_keyboard(new_page, live_server):
    page = new_page("commenter")
    page.get_by_role("link", name="Notification settings").click()
    expect(page.get_by_role("heading", name="Notification settings")).to_be_visible()
    assert run_axe(page) == []
    fits(page)

    discussions = page.get_by_role("group", name="Discussions")
    expect(discussions).to_contain_text("A reply in a discussion you started")
    expect(discussions.get_by_role("radio", name="Immediately")).to_be_checked()
    # Tab into the group lands on its checked radio; the arrow keys choose within it.
    discussions.get_by_role("radio", name="Immediately").focus()
    page.keyboard.press("ArrowRight")
    expect(discussions.get_by_role("radio", name="Daily digest")).to_be_checked()
    expect(discussions.get_by_role("radio", name="Daily digest")).to_be_focused()
    page.keyboard.press("Tab")  # on to the next group: Your amendments
    amendments = page.get_by_role("group", name="Your amendments")
    expect(amendments.get_by_role("radio", name="Immediately")).to_be_focused()
    page.keyboard.press("ArrowLeft")  # wraps round to Off
    expect(amendments.get_by_role("radio", name="Off")).to_be_checked()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Save choices")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.locator(".flash")).to_contain_text("Your choices are saved.")
    expect(page.locator(".flash")).to_contain_text("Discussions: daily digest; Your amendments: off")
    expect(page.get_by_role("group", name="Discussions").get_by_role("radio", name="Daily digest")).to_be_checked()
    expect(page.get_by_role("group", name="Your amendments").get_by_role("radio", name="Off")).to_be_checked()
    assert run_axe(page) == []
    fits(page)

    page.locator("#notifications-link").click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    expect(page.get_by_role("link", name="Choose which of them reach you by e-mail")).to_be_visible()


def test_the_mention_box_inserts_the_full_name(new_page, live_server):
    page = new_page("commenter")
    open_plan(page, live_server)
    clause(page, 2).get_by_role("link", name="Comment on clause 2").click()
    area = clause(page, 2).get_by_label("Comment", exact=True)
    expect(area).to_be_focused()
    area.press_sequentially("Could @tere")
    box = page.get_by_role("listbox", name="Members to mention")
    expect(box).to_be_visible()
    expect(area).to_have_attribute("aria-expanded", "true")
    expect(box.get_by_role("option")).to_have_count(1)
    option = box.get_by_role("option").first
    expect(option).to_contain_text("Tereza Novotná")
    expect(option).to_have_attribute("aria-selected", "true")
    expect(area).to_have_attribute("aria-activedescendant", option.get_attribute("id"))
    assert run_axe(page) == []
    page.keyboard.press("Enter")
    expect(box).to_be_hidden()
    expect(area).to_have_attribute("aria-expanded", "false")
    expect(area).to_have_value("Could @Tereza Novotná ")
    area.press_sequentially("look? And @k")  # several matches: arrows move, Escape closes and keeps the text
    expect(box.get_by_role("option").first).to_be_visible()
    count = box.get_by_role("option").count()
    if count > 1:
        page.keyboard.press("ArrowDown")
        expect(box.get_by_role("option").nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Escape")
    expect(box).to_be_hidden()
    expect(area).to_have_value("Could @Tereza Novotná look? And @k")  # Escape closed the list, not the form
    area.press("Backspace")
    area.press_sequentially("szu")
    expect(box.get_by_role("option", name=re.compile("Katalin Szűcs"))).to_be_visible()
    page.keyboard.press("Tab")
    expect(area).to_have_value("Could @Tereza Novotná look? And @Katalin Szűcs ")
    expect(area).to_be_focused()
    area.press_sequentially("and @Lieve.")
    clause(page, 2).get_by_role("button", name="Post comment").click()
    expect(clause(page, 2).locator(".consult-status")).to_have_text(
        "Comment posted. No member is called @Lieve: nobody was notified.")


def test_the_admin_reads_a_waiting_invitation_in_the_outbox(new_page, live_server):
    admin = new_page("admin")
    admin.goto(live_server.url("/documents/1/members"))
    form = admin.locator("form", has=admin.locator("#invite-email"))
    form.get_by_label("E-mail").fill("ana.pop@carpathian.example")
    form.get_by_label("Name").fill("Ana Pop")
    form.get_by_label("Cluster").select_option(label="Danube Health Cluster (HU)")
    form.get_by_role("button", name="Invite").click()
    link = admin.get_by_label("The link to pass on").input_value()  # no mail server: shown to pass on

    admin.get_by_role("link", name="Users and organisations").click()
    admin.get_by_role("navigation", name="Administration").get_by_role("link", name="Outbox").click()
    expect(admin.locator("main")).to_contain_text("No mail server is configured")
    mail = admin.locator("li.mail", has_text="ana.pop@carpathian.example")
    expect(mail).to_contain_text("Invitation to “Joint Declaration")
    expect(mail).to_contain_text("Queued")
    mail.get_by_text("Read the mail").click()
    expect(mail.locator("pre.mail-text")).to_contain_text(link)
    assert run_axe(admin) == []
    fits(admin)
