"""Following the committee's work, over HTTP: every open amendment marked in its clause's text
(the "Show proposed changes" mode and its page), merge notices that name who saved meanwhile, and
deadlines typed in the person's own time zone."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import select

from drafting.extensions import db
from drafting.models import Document
from drafting.models.base import parse_local_moment
from tests.test_clauses_http import clause_json, replace_once, save
from tests.test_consultation import HX, ok, propose


def page(client, document_id: int, htmx: bool = True) -> str:
    response = client.get(f"/documents/{document_id}/proposed-changes", headers=HX if htmx else {})
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


# ---- proposed changes in the text ---------------------------------------------------------------

def test_every_open_amendment_is_marked_in_reading_order(client, auth, api, plan):
    auth.login("commenter")
    before = page(client, plan["id"])
    total = int(re.search(r'data-total="(\d+)"', before).group(1))
    last_clause, first_clause = plan["clause_ids"][-1], plan["clause_ids"][0]
    text = clause_json(api, plan["id"], last_clause)["text"]
    late = propose(api, last_clause, text + " Reported yearly.", "Say how often.")
    text = clause_json(api, plan["id"], first_clause)["text"]
    early = propose(api, first_clause, text + " With the regions.", "Name the regions.")

    fragment = page(client, plan["id"])
    assert f'data-total="{total + 2}"' in fragment
    order = [int(i) for i in re.findall(r'data-amendment-id="(\d+)"', fragment)]
    assert order.index(early["id"]) < order.index(late["id"])  # clause order, not proposal order
    section = fragment[fragment.index(f'id="proposed-{early["id"]}"'):]
    section = section[:section.index("</section>")]
    assert "<ins>" in section and "With the regions." in section
    assert "· Preamble, by" in section  # the plan opens with its preamble (unnumbered)
    assert f'href="/documents/{plan["id"]}#amendment-{early["id"]}"' in section
    assert "Proposed change 1 of" in fragment


def test_each_change_names_its_clause_by_the_label_the_page_shows(client, auth, api, plan):
    clauses = ok(api.as_("editor").get(f"/documents/{plan['id']}"))["clauses"]
    action = next(c for c in clauses if c["kind"] == "action" and c["label"] == "1.1")
    assert action["number"] > 2  # its position, after the preamble and the first strand's heading
    amendment = propose(api, action["id"], action["text"] + " Yearly.")
    auth.login("commenter")
    fragment = page(client, plan["id"])
    section = fragment[fragment.index(f'id="proposed-{amendment["id"]}"'):]
    section = section[:section.index("</section>")]
    assert "· Action 1.1, by " in section
    assert f"clause {action['number']}, by" not in section
    # Previous/Next in each change, within reach wherever the person is reading.
    assert section.count("data-proposed-step") == 2
    assert 'Next<span class="visually-hidden"> proposed change</span>' in section


def test_decided_amendments_leave_the_queue(client, auth, api, plan):
    clause_id = plan["clause_ids"][1]
    amendment = propose(api, clause_id, clause_json(api, plan["id"], clause_id)["text"] + " Added.")
    auth.login("editor")
    assert f'data-amendment-id="{amendment["id"]}"' in page(client, plan["id"])
    ok(api.as_("editor").post(f"/amendments/{amendment['id']}/reject", json={"reason": "Out of scope."}))
    assert f'data-amendment-id="{amendment["id"]}"' not in page(client, plan["id"])


def test_hostile_amendment_text_is_escaped(client, auth, api, plan):
    clause_id = plan["clause_ids"][2]
    original = clause_json(api, plan["id"], clause_id)["text"]
    propose(api, clause_id, original + ' <script>alert(1)</script><img src=x onerror=alert(2)>',
            "<b onclick=x()>why</b>")
    auth.login("editor")
    fragment = page(client, plan["id"])
    assert "<script>alert(1)" not in fragment and "<img src=x" not in fragment
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in fragment
    assert "<b onclick" not in fragment and "&lt;b onclick=x()&gt;" in fragment


def test_without_javascript_it_is_a_page_of_its_own(client, auth, plan):
    auth.login("observer")
    full = page(client, plan["id"], htmx=False)
    assert "<h1>Proposed changes</h1>" in full and 'id="proposed-changes"' in full
    assert 'aria-current="page"' in full  # the consultation tabs name it


def test_other_peoples_documents_and_strangers(client, auth, plan):
    assert client.get(f"/documents/{plan['id']}/proposed-changes").status_code == 302  # to the login
    auth.login("outsider")
    assert client.get(f"/documents/{plan['id']}/proposed-changes", headers=HX).status_code == 404
    assert client.get("/documents/999999/proposed-changes").status_code == 404


def test_the_document_page_offers_the_mode_and_names_the_members(client, auth, plan):
    auth.login("commenter")
    text = client.get(f"/documents/{plan['id']}").get_data(as_text=True)
    assert "Show proposed changes" in text and "data-proposed-toggle" in text
    names = re.search(r'<script type="application/json" id="member-names">(.*?)</script>', text, re.S).group(1)
    assert "Tereza" in names and "<" not in names


# ---- who saved meanwhile ------------------------------------------------------------------------------

def test_a_merge_names_who_saved_meanwhile(client, auth, api, declaration):
    clause_id = declaration["clause_ids"][0]
    base = clause_json(api, declaration["id"], clause_id)["text"]
    auth.login("editor2")
    assert save(client, clause_id, replace_once(base, "from Bulgaria,", "from the Republic of Bulgaria,"), 1).status_code == 200
    auth.logout()
    auth.login("editor")
    response = save(client, clause_id, replace_once(base, "that will follow it.", "that will follow it soon."), 1)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Merged: Inês Carvalho saved a newer version" in text
    assert "someone" not in text.lower().split("merged:")[1][:60]


# ---- deadlines in local time ----------------------------------------------------------------------------

def contributions_deadline(app, document_id: int) -> datetime | None:
    with app.app_context():
        return db.session.scalar(select(Document.contributions_deadline).where(Document.id == document_id))


def test_a_deadline_is_typed_in_the_persons_time_zone(app, client, auth, plan):
    auth.login("admin")
    response = client.post(f"/documents/{plan['id']}/contributions/deadline",
                           data={"deadline": "2027-03-31 17:00", "timezone": "Europe/Brussels"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert contributions_deadline(app, plan["id"]) == datetime(2027, 3, 31, 15, 0)  # CEST, UTC+2
    response = client.post(f"/documents/{plan['id']}/contributions/deadline",
                           data={"deadline": "2027-01-15T09:30", "timezone": "Europe/Lisbon"})
    assert response.status_code == 302
    assert contributions_deadline(app, plan["id"]) == datetime(2027, 1, 15, 9, 30)  # WET, UTC+0


@pytest.mark.parametrize("deadline, zone, message", [
    ("31/03/2027 17:00", "Europe/Brussels", "YYYY-MM-DD HH:MM"),
    ("03/31/2027", "Europe/Brussels", "YYYY-MM-DD HH:MM"),
    ("2027-03-31 17:00", "Mars/Olympus_Mons", "time zone"),
    ("2027-03-31 17:00", "../../etc/passwd", "time zone"),
    ("9999-12-31T23:59:59-23:59", "UTC", "between the years"),
    ("1970-01-01 00:00", "UTC", "between the years"),
])
def test_unreadable_deadlines_are_refused_in_the_page(app, client, auth, plan, deadline, zone, message):
    auth.login("admin")
    before = contributions_deadline(app, plan["id"])
    response = client.post(f"/documents/{plan['id']}/contributions/deadline",
                           data={"deadline": deadline, "timezone": zone})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert message in text and 'aria-invalid="true"' in text
    assert contributions_deadline(app, plan["id"]) == before


def test_the_form_offers_an_unambiguous_format_and_says_the_zone(client, auth, plan):
    auth.login("admin")
    text = client.get(f"/documents/{plan['id']}/contributions").get_data(as_text=True)
    assert 'placeholder="2027-03-31 17:00"' in text and 'name="timezone"' in text
    assert "YYYY-MM-DD HH:MM" in text and 'type="datetime-local"' not in text


def test_the_page_and_the_deadline_form_follow_the_persons_chosen_zone(app, client, auth, plan):
    auth.login("admin")
    text = client.get(f"/documents/{plan['id']}/contributions").get_data(as_text=True)
    assert "data-timezone=" not in text  # none chosen: the scripts use the browser's zone
    assert '<input type="hidden" name="timezone" value="UTC" data-timezone-field>' in text

    assert client.post("/settings/language", data={"locale": "", "timezone": "America/New_York"}).status_code == 302
    response = client.post(f"/documents/{plan['id']}/contributions/deadline",
                           data={"deadline": "2027-07-01 18:30", "timezone": "America/New_York"})
    assert response.status_code == 302
    assert contributions_deadline(app, plan["id"]) == datetime(2027, 7, 1, 22, 30)  # EDT, UTC-4
    text = client.get(f"/documents/{plan['id']}/contributions").get_data(as_text=True)
    assert 'data-timezone="America/New_York"' in text  # on <body>, for static/review.js
    # Without the scripts too, the form speaks the chosen zone: the value, the label, the hidden field.
    assert 'value="2027-07-01 18:30"' in text
    assert '<span data-local-zone>America/New_York</span> time' in text
    assert '<input type="hidden" name="timezone" value="America/New_York" data-timezone-field>' in text


def test_parse_local_moment_names_its_rules():
    assert parse_local_moment("2027-07-01 08:00", "Europe/Sofia") == datetime(2027, 7, 1, 5, 0)
    assert parse_local_moment("2027-07-01T08:00+02:00", "Europe/Lisbon") == datetime(2027, 7, 1, 6, 0)
    assert parse_local_moment("2027-07-01 08:00", None) == datetime(2027, 7, 1, 8, 0)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_local_moment("next Tuesday", "UTC")
    with pytest.raises(ValueError, match="time zone"):
        parse_local_moment("2027-07-01 08:00", "x" * 100)
