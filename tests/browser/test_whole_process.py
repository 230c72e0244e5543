"""The whole process in the browser, from an empty database with only the admin account (issue 13,
item 8): organisations, a document, participating clusters, invitations (the one-time link shown to
the admin, as no mail server is configured), the consultation with a comment and an amendment,
readiness blockers shown and cleared (a disposition, a decision, a withdrawn cluster), signing by
every cluster, adoption, the certificate and the report. After the admin account exists (made with
the documented CLI, as an operator installs the app), no API call or CLI command is used."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.browser.conftest import run_axe
from tests.conftest import BACKEND, live_env
from tests.served import ROOT, LiveServer

ADMIN = ("secretary@eu-health-clusters.example", "Marta Secretary", "correct horse battery 42")
SECRETARIAT = ("EU Health Clusters Secretariat", "BE")
CLUSTERS = {"Danube Health Cluster": "HU", "Thracian MedTech Cluster": "BG", "Baltic eHealth Cluster": "LT"}
PEOPLE = {  # who is invited: name, cluster, role, password they choose
    "ines@atlantic.example": ("Inês Carvalho", SECRETARIAT[0], "editor", "drafting committee 1"),
    "zsofia@danube.example": ("Zsófia Kovács", "Danube Health Cluster", "signatory", "danube signs 2027"),
    "petar@thracian.example": ("Petar Ivanov", "Thracian MedTech Cluster", "signatory", "thracian signs 27"),
}
TITLE = "Joint Declaration on the European Health Data Space"
LIVE = 4000


@pytest.fixture
def empty_database(tmp_path, request):
    """A migrated database holding only the admin account, made with the CLI."""
    if BACKEND == "postgres":
        server = request.getfixturevalue("postgres")
        name = f"drafting_empty_{uuid.uuid4().hex[:10]}"
        url = server.create(name)
        request.addfinalizer(lambda: server.drop(name))
    else:
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    env = {**os.environ, "DATABASE_URL": url, "DRAFTING_ENV": "testing", "SECRET_KEY": "whole-process"}
    flask = str(Path(sys.executable).with_name("flask"))
    for command in (["db", "upgrade"], ["create-org", SECRETARIAT[0], "--country", SECRETARIAT[1]],
                    ["create-user", ADMIN[0], "--name", ADMIN[1], "--org", SECRETARIAT[0],
                     "--password", ADMIN[2], "--admin"]):
        done = subprocess.run([flask, "--app", "wsgi", *command], cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    return url


@pytest.fixture
def server(empty_database):
    served = LiveServer(empty_database, env=live_env())
    yield served
    served.stop()


def test_the_secretariat_runs_the_whole_process_in_the_browser(browser, server):
    contexts = []

    def person(email: str | None = None, password: str | None = None):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        if email:
            page.goto(server.url("/login"))
            page.fill("#email", email)
            page.fill("#password", password)
            page.click("button[type=submit]")
            page.wait_for_url("**/documents")
        return page

    try:
        admin = person(ADMIN[0], ADMIN[2])
        # ---- organisations --------------------------------------------------------------------
        admin.get_by_role("link", name="Users and organisations").click()
        admin.get_by_role("link", name=re.compile("^Organisations")).first.click()
        expect(admin.locator("#new-org-name")).to_be_visible()
        for name, country in CLUSTERS.items():
            admin.fill("#new-org-name", name)
            admin.fill("#new-org-country", country)
            admin.get_by_role("button", name="Add organisation").click()
            expect(admin.locator("main")).to_contain_text(name)
        assert run_axe(admin) == []

        # ---- a document and who takes part ------------------------------------------------------
        admin.goto(server.url("/documents"))
        admin.fill("#title", TITLE)
        admin.select_option("#kind", "declaration")
        admin.get_by_role("button", name="Create document").click()
        expect(admin.locator("h1")).to_have_text(TITLE)
        document_url = admin.url
        admin.locator(".document-nav").get_by_role("link", name=re.compile("Members")).click()
        expect(admin.locator("h1")).to_have_text("Members and participating clusters")
        members_url = admin.url
        for name in CLUSTERS:
            admin.select_option("#participant-organisation", name)
            admin.get_by_role("button", name="Add cluster").click()
            expect(admin.locator("#clusters-title")).to_contain_text("Participating clusters")
        clusters = admin.locator("#clusters-title").locator("xpath=..")
        for name in CLUSTERS:
            expect(clusters).to_contain_text(name)
        expect(clusters.locator(".signatory-missing")).to_have_count(3)

        links = {}
        for email, (name, cluster, role, _) in PEOPLE.items():
            admin.fill("#invite-email", email)
            admin.fill("#invite-name", name)
            admin.select_option("#invite-organisation", cluster)
            admin.select_option("#invite-role", role)
            admin.get_by_role("button", name="Invite").click()
            link = admin.locator("#new-link-url")
            expect(link).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/invitations/"))
            links[email] = link.input_value()
        expect(clusters.locator(".signatory-missing")).to_have_count(3)  # invited is not yet a member
        assert run_axe(admin) == []

        # ---- each invitee opens the link, sets a password and lands on the document -------------
        pages = {}
        for email, (*_, password) in PEOPLE.items():
            page = person()
            page.goto(links[email])
            page.fill("#password", password)
            page.fill("#confirm", password)
            page.get_by_role("button", name="Set password and open the document").click()
            expect(page.locator("h1")).to_have_text(TITLE)
            assert page.url.split("#")[0] == document_url
            pages[email] = page
        editor, danube, thracian = (pages[e] for e in PEOPLE)
        # The link works once.
        reused = person()
        reused.goto(links["ines@atlantic.example"])
        expect(reused.locator("main")).to_contain_text("used already")

        admin.goto(members_url)
        expect(clusters.locator(".signatory-missing")).to_have_count(1)  # only the Baltic cluster now
        expect(clusters.locator(".signatory-missing")).to_contain_text("Baltic eHealth Cluster")

        # ---- the committee drafts -------------------------------------------------------------
        for heading, text in (("Scope", "The clusters commit to a common approach to the secondary use of health data."),
                              ("Interoperability", "Each cluster supports the European electronic health record exchange format.")):
            editor.get_by_role("link", name="Add a clause at the end").click()
            form = editor.locator("#new-clause-form")
            # The form puts the focus on its Text once htmx settles it; a Heading focused before
            # that loses it, and its keys go to the Text (see the stop note): wait, as a person would.
            expect(form.get_by_label("Text")).to_be_focused()
            form.get_by_label("Heading").fill(heading)
            form.get_by_label("Text").fill(text)
            form.get_by_role("button", name="Add clause").click()
            expect(editor.locator(".clause-title", has_text=heading)).to_have_count(1)

        # ---- the consultation -----------------------------------------------------------------
        move(admin, document_url, "Open the consultation")
        # Open pages reload themselves when the phase changes.
        for page in (danube, thracian, editor):
            expect(page.locator(".document-head .phase")).to_have_text("Consultation", timeout=LIVE)
        danube.get_by_role("link", name="Comment on clause 1").click()
        danube.get_by_label("Comment", exact=True).fill("Name the national contact points for health data.")
        danube.get_by_role("button", name="Post comment").click()
        # The comment is there (the status line "Comment posted." is checked in test_consultation.py;
        # here a late reload after the phase change can replace it: see the stop note).
        expect(danube.locator("article.thread", has_text="Name the national contact points")).to_be_visible()
        thracian.get_by_role("link", name="Propose amendment to clause 2").click()
        thracian.get_by_label("Proposed text of the clause").fill(
            "Each cluster supports the European electronic health record exchange format and its updates.")
        thracian.get_by_label("Rationale").fill("The format will change; the commitment should follow it.")
        thracian.get_by_role("button", name="Propose amendment").click()
        expect(thracian.locator(".consult-status").first).to_have_text(re.compile("Amendment proposed"))

        # ---- readiness: the admin sees what blocks the signing ----------------------------------
        move(admin, document_url, "Close the consultation for the final review")
        admin.goto(document_url)
        admin.get_by_role("link", name=re.compile("Open the signing")).click()
        blockers = admin.locator("#readiness-blockers")
        expect(blockers).to_contain_text("amendment is still open")
        expect(blockers).to_contain_text("discussion is still open")
        expect(blockers).to_contain_text("Baltic eHealth Cluster takes part but has no signatory")
        assert run_axe(admin) == []
        admin.get_by_role("button", name=re.compile("Confirm: open the signing")).click()
        expect(admin.locator("#move-error")).to_contain_text("The signing cannot open yet")

        # The editor settles the items: the amendment accepted, the comment closed with a disposition.
        expect(editor.locator(".document-head .phase")).to_have_text("Final review", timeout=LIVE)
        editor.goto(document_url)
        item = editor.locator("li.clause").nth(1)
        item.locator(".consult-details > summary").click()
        item.get_by_role("button", name="Accept", exact=True).click()
        expect(editor.locator("li.clause").nth(1).locator(".clause-text")).to_contain_text("and its updates", timeout=LIVE)
        first = editor.locator("li.clause").nth(0)
        first.locator(".consult-details > summary").click()
        first.get_by_label("Disposition").select_option("partly_accepted")
        first.get_by_label(re.compile("^Reason")).fill("Contact points are named in the annex, not in clause 1.")
        first.get_by_role("button", name="Resolve").click()
        expect(editor.locator("li.clause").nth(0).locator(".consult-status")).to_contain_text("resolved")

        # The Baltic cluster dropped out: withdrawn, with a reason.
        admin.goto(members_url)
        baltic = admin.locator("li", has=admin.locator("strong", has_text="Baltic eHealth Cluster")).first
        baltic.locator("summary").click()
        baltic.get_by_label(re.compile("Why does Baltic eHealth Cluster withdraw")).fill(
            "The cluster left the network in February.")
        baltic.get_by_role("button", name=re.compile("Withdraw Baltic eHealth Cluster")).click()
        expect(admin.locator("main")).to_contain_text("The cluster left the network in February.")

        admin.goto(document_url)
        admin.get_by_role("link", name=re.compile("Open the signing")).click()
        expect(admin.locator("#readiness-blockers")).to_have_count(0)
        # What only warns stays in sight: the comment came after the last named version.
        expect(admin.locator("#readiness-warnings")).to_contain_text("after the last named version")
        expect(admin.locator("input[name=override]")).to_have_count(0)
        admin.get_by_role("button", name=re.compile("Confirm: open the signing")).click()
        expect(admin.locator(".signoff-banner")).to_contain_text("The text is frozen for signing")

        # ---- signing by every remaining cluster -----------------------------------------------
        for page, email, cluster in ((danube, "zsofia@danube.example", "Danube Health Cluster"),
                                     (thracian, "petar@thracian.example", "Thracian MedTech Cluster")):
            # Their open page reloads itself when the phase changes: it says so before they go on
            # (navigating away in the middle of that reload raced it).
            expect(page.locator(".signoff-banner")).to_contain_text("The text is frozen for signing")
            page.goto(document_url)
            page.get_by_role("link", name="Review and sign").click()
            page.get_by_label(re.compile("I have read the final text")).check()
            page.get_by_label("Your password, to confirm it is you").fill(PEOPLE[email][3])
            page.get_by_role("button", name=f"Sign for {cluster}").click()
            expect(page.locator(".flash")).to_contain_text(f"You signed for {cluster}.")
        expect(thracian.locator(".flash")).to_contain_text("the document is adopted")

        # ---- the certificate and the report --------------------------------------------------
        admin.goto(document_url)
        expect(admin.locator(".signoff-banner")).to_contain_text("Adopted")
        admin.get_by_role("link", name="Certificate of adoption").first.click()
        # The signatories are exactly the two clusters left: the withdrawn one is not waited for.
        signatories = admin.locator("section[aria-labelledby=cert-signatories] tbody tr")
        expect(signatories).to_have_count(2)
        for cluster in ("Danube Health Cluster", "Thracian MedTech Cluster"):
            expect(signatories.filter(has_text=cluster)).to_have_count(1)
        admin.goto(document_url.rstrip("/") + "/report")
        report = admin.locator("main")
        expect(report).to_contain_text("Partly accepted")
        expect(report).to_contain_text("Contact points are named in the annex")
        expect(report).to_contain_text("Accepted")
        assert run_axe(admin) == []
    finally:
        # The adoption made every open document page reload itself 1.2 s later. In two CI runs
        # (of about six) closing the contexts then never returned, the test itself passed: each
        # page is first brought to a blank document (its pending reload dropped, any navigation
        # finished), so none is closed in the middle of one. The cause is inferred, not seen.
        for context in contexts:
            for page in context.pages:
                try:
                    page.goto("about:blank", timeout=10_000)
                except PlaywrightError:
                    pass
            context.close()


def move(admin, document_url: str, label: str) -> None:
    """Move the document through its phase card's link and the confirmation page."""
    admin.goto(document_url)
    admin.get_by_role("link", name=re.compile(re.escape(label))).click()
    admin.get_by_role("button", name=re.compile("^Confirm")).click()
    expect(admin.locator(".flash")).to_contain_text("The document is now in")
