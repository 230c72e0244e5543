"""The audit trail: every change with actor and time; admins and editors only; filters."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from drafting.documents.operations import document_hash
from drafting.extensions import db
from drafting.models import AuditEvent, Document, Organisation
from tests.conftest import EMAILS
from tests.phases import walk

CZ = "Vltava Digital Health Cluster"   # the editor's organisation
HU = "Danube Health Cluster"           # the signatory's organisation


def organisation_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Organisation.id).where(Organisation.name == name))


def rows(html: str) -> list[str]:
    """The 'What' cells of the audit table, newest first."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return [re.sub(r"\s+", " ", cell).strip() for cell in re.findall(r"<td>((?:(?!</td>).)*)</td>\s*<td><code", body, re.S)]


@pytest.fixture
def history(app, api, declaration):
    """An edit by the editor (CZ), a role change, the signing and the signatory's (HU) approval."""
    ids = declaration["clause_ids"]
    assert api.as_("editor").patch(f"/clauses/{ids[2]}", json={"text": "Edited by the committee.",
                                                                 "base_version": 1}).status_code == 200
    assert api.as_("admin").post(f"/documents/{declaration['id']}/members",
                                 json={"email": "bence.halmos@danubehealth.example", "role": "observer"}).status_code == 201
    walk(api, declaration["id"], "signing")
    with app.app_context():
        current = document_hash(db.session.get(Document, declaration["id"]))
    assert api.as_("signatory").post(f"/documents/{declaration['id']}/approvals",
                                     json={"content_hash": current, "password": "drafting-demo"}).status_code == 201
    return declaration


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("editor", 200), ("commenter", 403),
                                               ("signatory", 403), ("observer", 403), ("outsider", 404)])
def test_the_trail_is_for_admins_and_editors(client, auth, api, declaration, role, status):
    auth.login(role)
    assert client.get(f"/documents/{declaration['id']}/audit").status_code == status
    assert api.as_(role).get(f"/documents/{declaration['id']}/audit").status_code == status
    page = client.get(f"/documents/{declaration['id']}").get_data(as_text=True) if status != 404 else ""
    assert ("Audit trail</a>" in page) is (status == 200)


def all_rows(client, url: str) -> tuple[str, list[str]]:
    """Every 'What' cell of the trail, newest first, following "Older events" to the end."""
    page = client.get(url).get_data(as_text=True)
    first, what = page, rows(page)
    while (older := re.search(r'href="([^"]*before=\d+[^"]*)">Older events', page)):
        page = client.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
        what += rows(page)
    return first, what


def test_every_change_is_listed_with_actor_organisation_and_time(client, auth, history):
    auth.login("editor")
    page, what = all_rows(client, f"/documents/{history['id']}/audit")
    assert "The trail is intact" in page
    assert what[0].startswith("signed for Danube Health Cluster")
    assert "moved the document from final review to signing" in what
    assert "gave bence.halmos@danubehealth.example the role observer" in what
    assert "edited clause 3 (version 2)" in what
    assert what[-1] == "created the document"
    assert "Katalin Szűcs" in page and "Tereza Novotná" in page and CZ in page
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">', page)


def test_filter_by_clause(app, client, auth, history):
    clause_id = history["clause_ids"][2]
    auth.login("admin")
    page = client.get(f"/documents/{history['id']}/audit?clause={clause_id}").get_data(as_text=True)
    assert rows(page) == ["edited clause 3 (version 2)",
                          "translated clause 3 into Magyar (version 1, from version 1 of the clause)", "added clause 3"]
    assert f'<option value="{clause_id}" selected>' in page and "Show everything" in page


def test_filter_by_organisation(app, client, auth, api, history):
    auth.login("admin")
    hu = rows(client.get(f"/documents/{history['id']}/audit?organisation={organisation_id(app, HU)}")
              .get_data(as_text=True))
    assert hu[0].startswith("signed for Danube Health Cluster")
    assert "added Danube Health Cluster as a participating organisation" in hu
    assert not any(r.startswith("edited") or r.startswith("moved") for r in hu)
    cz = rows(client.get(f"/documents/{history['id']}/audit?organisation={organisation_id(app, CZ)}")
              .get_data(as_text=True))
    assert "edited clause 3 (version 2)" in cz and not any(r.startswith("signed for") for r in cz)
    # The API takes the organisation by name too, and reports the actor and the chain.
    data = api.as_("editor").get(f"/documents/{history['id']}/audit", query_string={"organisation": HU}).get_json()
    assert data["audit_chain"]["intact"] is True
    given = data["events"][0]
    assert given["action"] == "approval.given" and given["actor"]["name"] == "Katalin Szűcs"
    assert given["organisation"] == HU and given["hash"] and given["prev_hash"]


def test_invalidations_are_listed_under_the_organisation_that_lost_its_approval(app, client, auth, api, history):
    api.as_("admin").post(f"/documents/{history['id']}/phase", json={"phase": "drafting", "reason": "A typo."})
    auth.login("admin")
    hu = rows(client.get(f"/documents/{history['id']}/audit?organisation={organisation_id(app, HU)}")
              .get_data(as_text=True))
    assert hu[0] == ("invalidated the approval of Danube Health Cluster given by Katalin Szűcs by moving the "
                     "document back to drafting: A typo.")


def test_filter_by_kind_and_pages(app, client, auth, api, history):
    auth.login("editor")
    phases = rows(client.get(f"/documents/{history['id']}/audit?category=phases").get_data(as_text=True))
    assert phases[0].startswith("signed for") and all(r.startswith(("signed", "moved")) for r in phases)
    people = rows(client.get(f"/documents/{history['id']}/audit?category=people").get_data(as_text=True))
    assert "gave bence.halmos@danubehealth.example the role observer" in people and "created the document" in people
    data = api.as_("editor").get(f"/documents/{history['id']}/audit").get_json()
    with app.app_context():
        total = len(db.session.scalars(select(AuditEvent.id).where(AuditEvent.document_id == history["id"])).all())
    assert len(data["events"]) == min(total, 100)
    older = api.as_("editor").get(f"/documents/{history['id']}/audit",
                                  query_string={"before": data["events"][1]["id"]}).get_json()
    assert older["events"][0]["id"] == data["events"][2]["id"]


@pytest.mark.parametrize("query", ["clause=abc", "clause=0", "organisation=Nobody", "category=gossip", "before=-1"])
def test_bad_filters_are_refused(client, auth, api, declaration, query):
    auth.login("admin")
    assert client.get(f"/documents/{declaration['id']}/audit?{query}").status_code == 422
    assert api.as_("admin").get(f"/documents/{declaration['id']}/audit?{query}").status_code == 422


def test_role_changes_and_removals_are_recorded(app, api, declaration):
    admin = api.as_("admin")
    admin.post(f"/documents/{declaration['id']}/members", json={"email": EMAILS["outsider"], "role": "commenter"})
    admin.post(f"/documents/{declaration['id']}/members", json={"email": EMAILS["outsider"], "role": "signatory"})
    data = admin.get(f"/documents/{declaration['id']}/audit", query_string={"category": "people"}).get_json()
    summaries = [e["summary"] for e in data["events"][:2]]
    assert summaries == [f"gave {EMAILS['outsider']} the role signatory", f"gave {EMAILS['outsider']} the role commenter"]
    assert all(e["actor"]["name"] == "Friederike Albrecht" and e["at"].endswith("Z") for e in data["events"][:2])
