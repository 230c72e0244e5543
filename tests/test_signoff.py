"""Phases, the frozen text, approvals by every participating cluster, invalidation, verification,
the certificate of adoption, the audit chain, and the content hash."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update

from drafting import audit
from drafting.documents.operations import document_hash
from drafting.extensions import db
from drafting.models import (
    ApiToken,
    Approval,
    AuditEvent,
    Clause,
    Document,
    PasswordFailure,
    User,
)
from drafting.models.base import utcnow
from drafting.models.document import TRANSITIONS
from drafting.signoff.operations import MAX_PASSWORD_FAILURES
from drafting.text.hashing import clause_hash_v2, content_hash, content_hash_v2
from drafting.text.numbering import labels
from tests.conftest import EMAILS, HX, PASSWORD, Auth
from tests.phases import adopt, signatories, walk

PHASES = ("drafting", "consultation", "final_review", "signing", "adopted")
HU = "Danube Health Cluster"  # the organisation of signatory@drafting.example


def token_for(app, email: str) -> str:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        _, secret = ApiToken.issue(user)
        db.session.commit()
        return secret


def as_email(client, app, email: str):
    """Call the API as the user with this email: as_email(...)("post", path, json=...)."""
    token = token_for(app, email)

    def call(method: str, path: str, **kwargs):
        return getattr(client, method)(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs)

    return call


def set_phase_in_db(app, document_id: int, phase: str) -> None:
    with app.app_context():
        db.session.execute(update(Document).where(Document.id == document_id).values(phase=phase))
        db.session.commit()


def current_hash(app, document_id: int) -> str:
    with app.app_context():
        return document_hash(db.session.get(Document, document_id))


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def actions(app, document_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.document_id == document_id)
                                       .order_by(AuditEvent.id)))


def sign(api, document_id: int, content_hash_: str, password: str = PASSWORD, role: str = "signatory"):
    return api.as_(role).post(f"/documents/{document_id}/approvals",
                              json={"content_hash": content_hash_, "password": password})


# ---- phase transitions -------------------------------------------------------------------------

ALLOWED = {("drafting", "consultation"), ("consultation", "final_review"), ("consultation", "drafting"),
           ("final_review", "signing"), ("final_review", "drafting"), ("signing", "drafting")}
# Staying in a phase changes only its deadline; an adopted document stays as it is.
ALLOWED |= {(p, p) for p in PHASES if p != "adopted"}
MOVES = [(a, b) for a in PHASES for b in PHASES]


def test_the_transition_table_is_the_one_described():
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} | {(p, p) for p in PHASES
                                                                              if p != "adopted"} == ALLOWED


@pytest.mark.parametrize(("start", "target"), MOVES, ids=[f"{a}-to-{b}" for a, b in MOVES])
def test_phase_moves_allowed_and_refused(app, api, declaration, start, target):
    set_phase_in_db(app, declaration["id"], start)
    response = api.as_("admin").post(f"/documents/{declaration['id']}/phase",
                                     json={"phase": target, "reason": "The matrix says so."})
    if (start, target) in ALLOWED:
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["phase"] == target
    else:
        assert response.status_code == 422, response.get_json()
        message = response.get_json()["error"]["message"]
        assert "adopt" in message.lower() or "can move" in message
        assert api.as_("admin").get(f"/documents/{declaration['id']}").get_json()["phase"] == start


def test_adopted_cannot_be_set_by_hand(api, declaration):
    walk(api, declaration["id"], "signing")
    response = api.as_("admin").post(f"/documents/{declaration['id']}/phase", json={"phase": "adopted"})
    assert response.status_code == 422
    assert "last signature" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("role", ["editor", "commenter", "signatory", "observer"])
def test_only_the_secretariat_moves_phases(api, declaration, role):
    response = api.as_(role).post(f"/documents/{declaration['id']}/phase", json={"phase": "consultation"})
    assert response.status_code == 403


def test_same_phase_changes_only_the_deadline(app, api, declaration):
    walk(api, declaration["id"], "consultation")
    data = api.as_("admin").post(f"/documents/{declaration['id']}/phase",
                                 json={"phase": "consultation", "deadline": "2999-01-01T12:00:00Z"}).get_json()
    assert data["phase"] == "consultation" and data["deadline"] == "2999-01-01T12:00:00Z"
    assert actions(app, declaration["id"])[-1] == "document.deadline_changed"


def test_signing_needs_participants_and_clauses(app, api):
    admin = api.as_("admin")
    created = admin.post("/documents", json={"title": "A text nobody takes part in", "kind": "declaration"})
    document_id = created.get_json()["id"]
    for phase in ("consultation", "final_review"):
        assert admin.post(f"/documents/{document_id}/phase", json={"phase": phase}).status_code == 200
    refused = admin.post(f"/documents/{document_id}/phase", json={"phase": "signing"})
    assert refused.status_code == 422 and "participating organisations" in refused.get_json()["error"]["message"]
    admin.post(f"/documents/{document_id}/participants", json={"organisation": HU})
    refused = admin.post(f"/documents/{document_id}/phase", json={"phase": "signing"})
    assert refused.status_code == 422 and "without clauses" in refused.get_json()["error"]["message"]


def test_back_from_signing_needs_a_reason(app, api, declaration):
    walk(api, declaration["id"], "signing")
    assert sign(api, declaration["id"], current_hash(app, declaration["id"])).status_code == 201
    for body in ({"phase": "drafting"}, {"phase": "drafting", "reason": "   "}):
        response = api.as_("admin").post(f"/documents/{declaration['id']}/phase", json=body)
        assert response.status_code == 422 and "Say why" in response.get_json()["error"]["message"]
    too_long = api.as_("admin").post(f"/documents/{declaration['id']}/phase",
                                     json={"phase": "drafting", "reason": "x" * 2001})
    assert too_long.status_code == 413
    assert api.as_("admin").get(f"/documents/{declaration['id']}").get_json()["phase"] == "signing"
    assert [a["valid"] for a in api.as_("admin").get(f"/documents/{declaration['id']}/approvals").get_json()] == [True]


def test_phase_is_moved_through_a_confirmation_page(app, client, auth, declaration):
    auth.login("admin")
    page = client.get(f"/documents/{declaration['id']}").get_data(as_text=True)
    assert "Open the consultation…" in page and f"/documents/{declaration['id']}/phase?to=consultation" in page
    confirm = client.get(f"/documents/{declaration['id']}/phase?to=consultation")
    assert confirm.status_code == 200 and "Open the consultation?" in confirm.get_data(as_text=True)
    assert client.get(f"/documents/{declaration['id']}/phase?to=signing").status_code == 422
    moved = client.post(f"/documents/{declaration['id']}/phase",
                        data={"phase": "consultation", "deadline": "2999-03-31T17:00"})
    assert moved.status_code == 302
    page = client.get(moved.headers["Location"]).get_data(as_text=True)
    assert "The document is now in consultation." in page
    assert "31 Mar 2999, 17:00 UTC" in page
    refused = client.post(f"/documents/{declaration['id']}/phase", data={"phase": "consultation",
                                                                          "deadline": "yesterday"})
    assert refused.status_code == 422 and "date and time" in refused.get_data(as_text=True)


def test_going_back_from_signing_on_the_page_requires_the_reason(app, client, auth, api, declaration):
    walk(api, declaration["id"], "signing")
    auth.login("admin")
    form = client.get(f"/documents/{declaration['id']}/phase?to=drafting").get_data(as_text=True)
    assert "Approvals that become invalid" in form and 'name="reason"' in form and "required" in form
    refused = client.post(f"/documents/{declaration['id']}/phase", data={"phase": "drafting", "reason": ""})
    assert refused.status_code == 422 and "Say why" in refused.get_data(as_text=True)
    assert client.post(f"/documents/{declaration['id']}/phase",
                       data={"phase": "drafting", "reason": "Clause 3 needs a correction."}).status_code == 302


def test_editors_do_not_get_the_phase_pages(client, auth, declaration):
    auth.login("editor")
    assert client.get(f"/documents/{declaration['id']}/phase?to=consultation").status_code == 403
    assert client.post(f"/documents/{declaration['id']}/phase", data={"phase": "consultation"}).status_code == 403
    assert "Move the document" not in client.get(f"/documents/{declaration['id']}").get_data(as_text=True)


@pytest.mark.parametrize(("role", "phase", "shown", "hidden"), [
    ("editor", "drafting", ["edit, add, delete, reorder and restore clauses", "read the audit trail"],
     ["approve the final text"]),
    ("signatory", "signing", ["approve the final text for your organisation"], ["edit, add, delete"]),
    ("observer", "consultation", ["export the text"], ["comment on clauses", "edit, add, delete"]),
    ("admin", "final_review", ["move the document to another phase", "Open the signing…", "Back to drafting…"],
     ["approve the final text"]),
])
def test_the_page_says_what_the_role_may_do_now(app, client, auth, declaration, role, phase, shown, hidden):
    set_phase_in_db(app, declaration["id"], phase)
    auth.login(role)
    page = client.get(f"/documents/{declaration['id']}").get_data(as_text=True)
    assert f"You can now, as {role}" in page
    for text in shown:
        assert text in page, text
    for text in hidden:
        assert text not in page, text


# ---- the frozen text -----------------------------------------------------------------------------

def frozen(app, api, declaration, phase: str) -> None:
    if phase == "adopted":
        adopt(app, api, declaration["id"])
    else:
        walk(api, declaration["id"], phase)


def an_amendment(api, declaration) -> int:
    """Have a commenter propose an amendment during the consultation; leave the document there."""
    walk(api, declaration["id"], "consultation")
    clause_id = declaration["clause_ids"][3]
    response = api.as_("commenter").post(f"/clauses/{clause_id}/amendments",
                                         json={"text": "An amended text.", "rationale": "Clearer."})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


@pytest.mark.parametrize("phase", ["signing", "adopted"])
def test_every_page_edit_path_is_423_when_frozen(app, client, auth, api, declaration, phase):
    ids = declaration["clause_ids"]
    api.as_("editor").patch(f"/clauses/{ids[0]}", json={"text": "A second version.", "base_version": 1})
    amendment_id = an_amendment(api, declaration)
    frozen(app, api, declaration, phase)
    before = current_hash(app, declaration["id"])
    auth.login("editor")
    calls = {
        "edit form": client.get(f"/clauses/{ids[0]}/edit", headers=HX),
        "save": client.post(f"/clauses/{ids[0]}", data={"text": "Too late.", "base_version": "2"}, headers=HX),
        "add form": client.get(f"/documents/{declaration['id']}/clauses/new", headers=HX),
        "add": client.post(f"/documents/{declaration['id']}/clauses", data={"text": "Late."}, headers=HX),
        "delete": client.post(f"/clauses/{ids[1]}/delete", headers=HX),
        "move": client.post(f"/clauses/{ids[1]}/move", data={"direction": "up"}, headers=HX),
        "reorder": client.post(f"/documents/{declaration['id']}/order",
                               data={"order": [str(i) for i in reversed(ids)]}, headers=HX),
        "restore": client.post(f"/clauses/{ids[0]}/restore", data={"version": "1"}, headers=HX),
        "accept amendment": client.post(f"/amendments/{amendment_id}/accept", data={}, headers=HX),
    }
    assert {name: r.status_code for name, r in calls.items()} == {name: 423 for name in calls}
    # The reason says which: frozen for signing, or adopted for good (not "frozen for signing" then).
    expected = "frozen for signing" if phase == "signing" else "The text is adopted"
    assert all(expected in r.get_data(as_text=True) for r in calls.values())
    Auth(client).logout()
    auth.login("signatory")
    proposal = client.post(f"/clauses/{ids[2]}/amendments", data={"text": "Mine.", "rationale": "Because."},
                           headers=HX)
    assert proposal.status_code == 423
    assert current_hash(app, declaration["id"]) == before
    page = client.get(f"/documents/{declaration['id']}").get_data(as_text=True)
    assert f"/clauses/{ids[0]}/edit" not in page and "Add a clause at the end" not in page


@pytest.mark.parametrize("phase", ["signing", "adopted"])
def test_every_api_edit_path_is_423_when_frozen(app, api, declaration, phase):
    ids = declaration["clause_ids"]
    amendment_id = an_amendment(api, declaration)
    frozen(app, api, declaration, phase)
    before = current_hash(app, declaration["id"])
    editor = api.as_("editor")
    answers = {
        "patch": editor.patch(f"/clauses/{ids[0]}", json={"text": "Too late.", "base_version": 1}),
        "create": editor.post(f"/documents/{declaration['id']}/clauses", json={"text": "Late."}),
        "delete": editor.delete(f"/clauses/{ids[1]}"),
        "restore": editor.post(f"/clauses/{ids[0]}/restore", json={"version": 1}),
        "accept amendment": editor.post(f"/amendments/{amendment_id}/accept", json={}),
        "propose amendment": api.as_("signatory").post(f"/clauses/{ids[2]}/amendments",
                                                       json={"text": "Mine.", "rationale": "Because."}),
    }
    assert {name: r.status_code for name, r in answers.items()} == {name: 423 for name in answers}
    assert all(r.get_json()["error"]["code"] == "locked" for r in answers.values())
    assert current_hash(app, declaration["id"]) == before


def test_an_edit_racing_the_freeze_is_refused(app, declaration):
    """A save whose permission check passed before signing began still cannot change the text."""
    from drafting.clauses.operations import save_clause
    from drafting.text.clauses import TextError

    with app.app_context():
        clause = db.session.get(Clause, declaration["clause_ids"][0])
        editor = db.session.scalar(select(User).where(User.email == EMAILS["editor"]))
        # The admin's move commits between the editor's check and the editor's write.
        db.session.execute(update(Document).where(Document.id == declaration["id"]).values(phase="signing"))
        with pytest.raises(TextError) as refused:
            save_clause(clause, editor, "Slipped in.", 1)
        assert refused.value.status == 423
        db.session.rollback()
        assert db.session.get(Clause, declaration["clause_ids"][0]).version == 1


# ---- approvals -----------------------------------------------------------------------------------

def test_a_signatory_approves_with_the_hash_and_password(app, api, declaration, socket_client, client):
    walk(api, declaration["id"], "signing")
    Auth(client).login("editor")
    listener = socket_client(client)
    listener.emit("join", {"document_id": declaration["id"]}, callback=True)
    listener.get_received()
    current = current_hash(app, declaration["id"])
    response = sign(api, declaration["id"], current.upper())  # case does not matter
    assert response.status_code == 201, response.get_json()
    approval = response.get_json()
    assert approval["organisation"] == HU and approval["signatory"] == "Katalin Szűcs"
    assert approval["content_hash"] == current and approval["valid"] is True
    assert approval["document_phase"] == "signing"
    listed = api.as_("observer").get(f"/documents/{declaration['id']}/approvals").get_json()
    assert [(a["organisation"], a["signatory"], a["content_hash"], a["valid"]) for a in listed] == [
        (HU, "Katalin Szűcs", current, True)]
    assert {"organisation", "signatory", "content_hash", "signed_at", "valid"} <= set(listed[0])
    events = [e for e in listener.get_received() if e["name"] == "approval.changed"]
    assert [e["args"][0]["organisation"] for e in events] == [HU]
    assert actions(app, declaration["id"])[-1] == "approval.given"


def test_a_stale_hash_is_409_and_records_nothing(app, api, declaration):
    walk(api, declaration["id"], "signing")
    events_before = len(actions(app, declaration["id"]))
    response = sign(api, declaration["id"], "0" * 64)
    assert response.status_code == 409
    data = response.get_json()
    assert data["current_hash"] == current_hash(app, declaration["id"])
    assert "Nothing was signed" in data["error"]["message"]
    assert count(app, Approval) == 0 and count(app, PasswordFailure) == 0
    assert len(actions(app, declaration["id"])) == events_before


def test_a_wrong_password_is_403_recorded_and_rate_limited(app, api, declaration):
    walk(api, declaration["id"], "signing")
    current = current_hash(app, declaration["id"])
    for attempt in range(1, MAX_PASSWORD_FAILURES + 1):
        response = sign(api, declaration["id"], current, password=f"guess {attempt}")
        assert response.status_code == 403, attempt
        assert "password is not correct" in response.get_json()["error"]["message"]
    assert count(app, PasswordFailure) == MAX_PASSWORD_FAILURES
    limited = sign(api, declaration["id"], current)  # even the right password now waits
    assert limited.status_code == 429
    assert 0 < int(limited.headers["Retry-After"]) <= 15 * 60
    assert "Too many wrong passwords" in limited.get_json()["error"]["message"]
    assert count(app, Approval) == 0
    # The window passes (the failures age): signing works again.
    with app.app_context():
        db.session.execute(update(PasswordFailure).values(created_at=utcnow() - timedelta(minutes=16)))
        db.session.commit()
    assert sign(api, declaration["id"], current).status_code == 201


def test_the_rate_limit_holds_across_documents_and_the_pages(app, api, client, auth, declaration):
    walk(api, declaration["id"], "signing")
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == EMAILS["signatory"]))
        db.session.add_all([PasswordFailure(user_id=user_id, created_at=utcnow()) for _ in range(5)])
        db.session.commit()
    auth.login("signatory")
    response = client.post(f"/documents/{declaration['id']}/approvals",
                           data={"confirm": "yes", "content_hash": current_hash(app, declaration["id"]),
                                 "password": PASSWORD})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "Too many wrong passwords" in response.get_data(as_text=True)


def test_an_organisation_signs_once(app, api, client, declaration):
    walk(api, declaration["id"], "signing")
    # A second signatory of the same organisation.
    colleague = "bence.halmos@danubehealth.example"
    assert api.as_("admin").post(f"/documents/{declaration['id']}/members",
                                 json={"email": colleague, "role": "signatory"}).status_code == 201
    current = current_hash(app, declaration["id"])
    assert sign(api, declaration["id"], current).status_code == 201
    again = sign(api, declaration["id"], current)
    assert again.status_code == 409 and "already signed" in again.get_json()["error"]["message"]
    other = as_email(client, app, colleague)("post", f"/documents/{declaration['id']}/approvals",
                                             json={"content_hash": current, "password": PASSWORD})
    assert other.status_code == 409 and "Katalin Szűcs" in other.get_json()["error"]["message"]
    assert count(app, Approval) == 1


def test_two_signatories_of_one_organisation_at_once_make_one_approval(app, api, client, declaration):
    walk(api, declaration["id"], "signing")
    colleague = "bence.halmos@danubehealth.example"
    api.as_("admin").post(f"/documents/{declaration['id']}/members", json={"email": colleague, "role": "signatory"})
    current = current_hash(app, declaration["id"])
    callers = [as_email(app.test_client(), app, email) for email in (EMAILS["signatory"], colleague)]
    results, barrier = [None, None], threading.Barrier(2)

    def go(i):
        barrier.wait()
        results[i] = callers[i]("post", f"/documents/{declaration['id']}/approvals",
                                json={"content_hash": current, "password": PASSWORD}).status_code

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [201, 409]
    assert count(app, Approval) == 1


def test_no_one_signs_for_another_organisation_or_outside_the_participants(app, api, declaration):
    walk(api, declaration["id"], "signing")
    current = current_hash(app, declaration["id"])
    # The observer belongs to the secretariat, which is not a participant.
    api.as_("admin").post(f"/documents/{declaration['id']}/members",
                          json={"email": EMAILS["observer"], "role": "signatory"})
    outside = sign(api, declaration["id"], current, role="observer")
    assert outside.status_code == 422 and "not a participating organisation" in outside.get_json()["error"]["message"]
    for role, status in (("commenter", 403), ("editor", 403), ("admin", 403), ("outsider", 404)):
        assert sign(api, declaration["id"], current, role=role).status_code == status, role
    # The approval is always for the signatory's own organisation, whatever the body says.
    body = {"content_hash": current, "password": PASSWORD, "organisation": "Thracian MedTech Cluster"}
    response = api.as_("signatory").post(f"/documents/{declaration['id']}/approvals", json=body)
    assert response.get_json()["organisation"] == HU
    assert count(app, Approval) == 1


def test_approvals_only_in_signing(app, api, declaration):
    for phase in ("drafting", "consultation", "final_review"):
        set_phase_in_db(app, declaration["id"], phase)
        assert sign(api, declaration["id"], current_hash(app, declaration["id"])).status_code == 403
    assert count(app, Approval) == 0


def test_malformed_approvals(app, api, declaration):
    walk(api, declaration["id"], "signing")
    signatory = api.as_("signatory")
    assert signatory.post(f"/documents/{declaration['id']}/approvals", data="nope").status_code == 400
    assert signatory.post(f"/documents/{declaration['id']}/approvals",
                          json={"password": PASSWORD}).status_code == 422
    assert signatory.post(f"/documents/{declaration['id']}/approvals",
                          json={"content_hash": current_hash(app, declaration["id"])}).status_code == 422
    assert count(app, Approval) == 0 and count(app, PasswordFailure) == 0


def test_the_last_signature_adopts(app, api, declaration):
    walk(api, declaration["id"], "signing")
    emails = signatories(app, declaration["id"])
    assert len(emails) == 7
    current = current_hash(app, declaration["id"])
    client = app.test_client()
    answers = []
    for organisation, email in emails.items():
        answer = as_email(client, app, email)("post", f"/documents/{declaration['id']}/approvals",
                                               json={"content_hash": current, "password": PASSWORD})
        assert answer.status_code == 201, (organisation, answer.get_json())
        answers.append(answer.get_json()["document_phase"])
    assert answers == ["signing"] * 6 + ["adopted"]
    document = api.as_("observer").get(f"/documents/{declaration['id']}").get_json()
    assert document["phase"] == "adopted" and document["content_hash"] == current
    # Adoption takes a named version of the adopted text.
    assert actions(app, declaration["id"])[-3:] == ["approval.given", "document.adopted", "snapshot.created"]
    versions = api.as_("observer").get(f"/documents/{declaration['id']}/snapshots").get_json()
    assert versions[0]["content_hash"] == current and versions[0]["name"].startswith("Adopted")
    changes = api.as_("observer").get(f"/documents/{declaration['id']}/changes?since=0").get_json()
    assert changes[-1]["event"] == "document.phase_changed" and changes[-1]["phase"] == "adopted"
    # Adoption is final: no more approvals, moves or participants.
    assert sign(api, declaration["id"], current).status_code == 403
    assert api.as_("admin").post(f"/documents/{declaration['id']}/phase",
                                 json={"phase": "drafting", "reason": "Too late."}).status_code == 422
    late = api.as_("admin").post(f"/documents/{declaration['id']}/participants",
                                 json={"organisation": "Baltic Health Network Secretariat"})
    assert late.status_code == 409


def test_back_to_drafting_invalidates_every_approval_visibly(app, api, client, auth, declaration):
    walk(api, declaration["id"], "signing")
    emails = list(signatories(app, declaration["id"]).values())[:3]
    current = current_hash(app, declaration["id"])
    for email in emails:
        assert as_email(client, app, email)("post", f"/documents/{declaration['id']}/approvals",
                                            json={"content_hash": current, "password": PASSWORD}).status_code == 201
    reason = "Clause 12 cites the wrong regulation; the committee corrects it."
    moved = api.as_("admin").post(f"/documents/{declaration['id']}/phase", json={"phase": "drafting", "reason": reason})
    assert moved.status_code == 200
    approvals = api.as_("observer").get(f"/documents/{declaration['id']}/approvals").get_json()
    assert len(approvals) == 3
    assert all(not a["valid"] and a["invalidated_reason"] == reason and a["invalidated_at"] for a in approvals)
    trail = actions(app, declaration["id"])
    assert trail[-4:] == ["document.phase_changed"] + ["approval.invalidated"] * 3
    with app.app_context():
        moved_event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "document.phase_changed")
                                        .order_by(AuditEvent.id.desc()))
        assert moved_event.details["reason"] == reason and moved_event.details["content_hash"] == current
    # The board shows the invalidated approvals and why; so does the audit trail.
    auth.login("admin")
    board = client.get(f"/documents/{declaration['id']}/signoff").get_data(as_text=True)
    assert board.count("Invalidated</span>") == 3 and reason in board
    assert "0 of 7</strong>" in board
    trail_page = client.get(f"/documents/{declaration['id']}/audit").get_data(as_text=True)
    assert trail_page.count("invalidated the approval of") == 3 and reason in trail_page
    # Editable again; a new signing round starts from nothing and needs the new hash.
    assert api.as_("editor").patch(f"/clauses/{declaration['clause_ids'][11]}",
                                   json={"text": "Corrected.", "base_version": 1}).status_code == 200
    walk(api, declaration["id"], "signing")
    assert sign(api, declaration["id"], current).status_code == 409
    assert sign(api, declaration["id"], current_hash(app, declaration["id"])).status_code == 201
    assert [a["valid"] for a in api.as_("admin").get(f"/documents/{declaration['id']}/approvals").get_json()] \
        == [False, False, False, True]


def test_signing_through_the_page(app, client, auth, api, declaration):
    walk(api, declaration["id"], "signing")
    current = current_hash(app, declaration["id"])
    auth.login("signatory")
    page = client.get(f"/documents/{declaration['id']}/signoff").get_data(as_text=True)
    assert "Sign for Danube Health Cluster" in page and f'value="{current}"' in page
    assert "".join(current[i:i + 8] for i in range(0, 64, 8)) == current and current[:8] in page
    unconfirmed = client.post(f"/documents/{declaration['id']}/approvals",
                              data={"content_hash": current, "password": PASSWORD})
    assert unconfirmed.status_code == 422 and "Tick the box" in unconfirmed.get_data(as_text=True)
    wrong = client.post(f"/documents/{declaration['id']}/approvals",
                        data={"confirm": "yes", "content_hash": current, "password": "nope"})
    assert wrong.status_code == 403 and "password is not correct" in wrong.get_data(as_text=True)
    stale = client.post(f"/documents/{declaration['id']}/approvals",
                        data={"confirm": "yes", "content_hash": "f" * 64, "password": PASSWORD})
    assert stale.status_code == 409 and current in stale.get_data(as_text=True)
    assert count(app, Approval) == 0
    done = client.post(f"/documents/{declaration['id']}/approvals",
                       data={"confirm": "yes", "content_hash": current, "password": PASSWORD})
    assert done.status_code == 302
    board = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "You signed for Danube Health Cluster." in board
    assert "Danube Health Cluster has signed" in board and "1 of 7</strong>" in board
    fragment = client.get(f"/documents/{declaration['id']}/signoff?fragment=board", headers=HX)
    assert fragment.get_data(as_text=True).lstrip().startswith('<section id="signoff-board"')
    card = client.get(f"/documents/{declaration['id']}/signoff?fragment=card", headers=HX).get_data(as_text=True)
    assert 'id="phase-card"' in card and "1 of 7 organisations signed" in card


# ---- verification and the certificate ---------------------------------------------------------

def test_verify_answers_for_the_current_text(app, api, client, auth, declaration):
    walk(api, declaration["id"], "signing")
    current = current_hash(app, declaration["id"])
    sign(api, declaration["id"], current)
    result = api.as_("observer").get(f"/documents/{declaration['id']}/verify").get_json()
    assert result["ok"] is True and result["problems"] == []
    assert result["content_hash"] == current and result["signed"] == 1 and result["participants"] == 7
    assert result["approvals"][0]["matches_current_text"] and result["approvals"][0]["in_audit_trail"]
    assert result["audit_chain"]["intact"] is True
    auth.login("commenter")
    page = client.get(f"/documents/{declaration['id']}/verify").get_data(as_text=True)
    assert "✓</span> Verified" in page and current[:8] in page
    # Someone changes the text behind the application's back: verification says so.
    with app.app_context():
        db.session.execute(update(Clause).where(Clause.id == declaration["clause_ids"][4]).values(text="Altered."))
        db.session.commit()
    result = api.as_("observer").get(f"/documents/{declaration['id']}/verify").get_json()
    assert result["ok"] is False and result["content_hash"] != current
    assert result["approvals"][0]["matches_current_text"] is False
    assert any("another text" in p for p in result["problems"])
    page = client.get(f"/documents/{declaration['id']}/verify").get_data(as_text=True)
    assert "Problems found" in page


def test_the_certificate_of_adoption(app, api, client, auth, declaration):
    assert api.as_("admin").get(f"/documents/{declaration['id']}/certificate").status_code == 409
    adopt(app, api, declaration["id"])
    cert = api.as_("observer").get(f"/documents/{declaration['id']}/certificate").get_json()
    with app.app_context():
        document = db.session.get(Document, declaration["id"])
        assert cert["content_hash"] == document_hash(document)
        shown = labels([c.kind for c in document.clauses])
        assert [(c["number"], c["label"], c["heading"], c["clause_hash"]) for c in cert["clauses"]] == [
            (n, label, c.heading, clause_hash_v2(label, c.kind, c.heading, c.text, c.action))
            for (n, c), label in zip(enumerate(document.clauses, 1), shown, strict=True)]
    assert len(cert["signatories"]) == 7
    assert {s["organisation"] for s in cert["signatories"]} >= {HU, "Thracian MedTech Cluster"}
    assert all(s["signatory"] and s["signed_at"].endswith("Z") and s["content_hash"] == cert["content_hash"]
               for s in cert["signatories"])
    events = cert["signing_events"]
    assert events[0]["action"] == "document.phase_changed" and events[0]["hashed"]["details"]["phase"] == "signing"
    assert events[-1]["action"] == "document.adopted"
    # Opening the signing took a named version of the text to be signed.
    assert events[1]["action"] == "snapshot.created" and events[1]["hashed"]["details"]["origin"] == "signing"
    assert events[1]["hashed"]["details"]["content_hash"] == cert["content_hash"]
    assert [e["action"] for e in events[2:-1]] == ["approval.given"] * 7
    # Anyone can recompute each event's hash from the certificate alone, and see the chain.
    for previous, event in zip(events, events[1:], strict=False):
        assert event["prev_hash"] == previous["hash"]
    for event in events:
        assert audit.hash_fields(event["hashed"]) == event["hash"]
        assert event["hashed"]["prev"] == event["prev_hash"]
    assert cert["audit_chain"]["intact"] is True
    auth.login("commenter")
    page = client.get(f"/documents/{declaration['id']}/certificate").get_data(as_text=True)
    assert "Certificate of adoption" in page and cert["content_hash"][:8] in page
    assert cert["clauses"][0]["clause_hash"] in page and "Katalin Szűcs" in page and events[-1]["hash"] in page
    download = client.get(f"/documents/{declaration['id']}/certificate?format=md")
    assert download.headers["Content-Disposition"].startswith("attachment;")
    text = download.get_data(as_text=True)
    assert cert["content_hash"] in text and cert["clauses"][-1]["clause_hash"] in text
    assert "Danube Health Cluster (HU): Katalin Szűcs" in text and events[3]["prev_hash"] in text
    as_json = client.get(f"/documents/{declaration['id']}/certificate?format=json")
    assert as_json.get_json()["content_hash"] == cert["content_hash"]


# ---- the audit chain -----------------------------------------------------------------------------

def test_an_altered_audit_event_is_detected(app, api, declaration):
    walk(api, declaration["id"], "signing")
    sign(api, declaration["id"], current_hash(app, declaration["id"]))
    with app.app_context():
        document = db.session.get(Document, declaration["id"])
        assert audit.verify_chain(document).intact
        given = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "approval.given"))
        db.session.execute(update(AuditEvent).where(AuditEvent.id == given.id)
                           .values(details={**given.details, "organisation": "Someone else"}))
        db.session.commit()
        check = audit.verify_chain(document)
        assert not check.intact and [i for i, _ in check.problems] == [given.id]
        assert "altered" in check.problems[0][1]
    result = api.as_("admin").get(f"/documents/{declaration['id']}/verify").get_json()
    assert result["ok"] is False and result["audit_chain"]["intact"] is False


def test_a_removed_audit_event_is_detected(app, api, declaration):
    walk(api, declaration["id"], "signing")
    sign(api, declaration["id"], current_hash(app, declaration["id"]))
    with app.app_context():
        document = db.session.get(Document, declaration["id"])
        ids = list(db.session.scalars(select(AuditEvent.id).where(AuditEvent.document_id == document.id)
                                      .order_by(AuditEvent.id)))
        victim = ids[len(ids) // 2]
        db.session.execute(delete(AuditEvent).where(AuditEvent.id == victim))
        db.session.commit()
        check = audit.verify_chain(document)
        assert not check.intact
        assert check.problems[0][0] == ids[ids.index(victim) + 1] and "removed" in check.problems[0][1]
        # Removing the approval's own event (the newest) shows up too: the approval has no event.
        given = db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "approval.given"))
        db.session.execute(delete(AuditEvent).where(AuditEvent.id == given))
        db.session.commit()
    result = api.as_("admin").get(f"/documents/{declaration['id']}/verify").get_json()
    assert any("no matching event" in p for p in result["problems"])


def test_removing_the_newest_events_is_detected(app, client, auth, api, declaration):
    for n in range(2):
        response = api.as_("editor").patch(f"/clauses/{declaration['clause_ids'][0]}",
                                           json={"text": f"Edit {n}.", "base_version": n + 1})
        assert response.status_code == 200
    with app.app_context():
        newest = list(db.session.scalars(select(AuditEvent).where(AuditEvent.document_id == declaration["id"])
                                         .order_by(AuditEvent.id.desc()).limit(2)))
        assert [e.action for e in newest] == ["clause.updated", "clause.updated"]
        db.session.execute(delete(AuditEvent).where(AuditEvent.id.in_([e.id for e in newest])))
        db.session.commit()
        # What is left is a well-linked chain; only the document's recorded head gives the cut away.
        check = audit.verify_chain(db.session.get(Document, declaration["id"]))
        assert not check.intact and len(check.problems) == 1
        assert "removed from its end" in check.problems[0][1]
    result = api.as_("admin").get(f"/documents/{declaration['id']}/verify").get_json()
    assert result["ok"] is False and result["audit_chain"]["intact"] is False
    assert "removed from its end" in result["audit_chain"]["problems"][0]["problem"]
    auth.login("admin")
    page = client.get(f"/documents/{declaration['id']}/verify").get_data(as_text=True)
    assert "events were removed from its end or replaced" in page


def test_the_chain_links_every_event_of_a_document(app, api, declaration):
    api.as_("editor").patch(f"/clauses/{declaration['clause_ids'][0]}", json={"text": "New.", "base_version": 1})
    walk(api, declaration["id"], "final_review")
    with app.app_context():
        events = audit.events_of(db.session.get(Document, declaration["id"]))
        assert events[0].prev_hash is None
        assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))


# ---- the content hash ----------------------------------------------------------------------------

CLAUSES = [(1, "Preamble", "We, the clusters,\n\nagree."), (2, None, "(a) share data;\n(b) publish results.")]


def test_same_text_same_hash():
    assert content_hash("Title", CLAUSES) == content_hash("Title", list(CLAUSES))
    assert content_hash("Title", iter(CLAUSES)) == content_hash("Title", CLAUSES)
    assert len(content_hash("Title", CLAUSES)) == 64


@pytest.mark.parametrize("changed", [
    ("Title.", CLAUSES),
    ("Title", [(1, "Preamble", "We, the clusters,\n\nagree. "), CLAUSES[1]]),
    ("Title", [(1, "Preamble", "We, the clusters,\nagree."), CLAUSES[1]]),
    ("Title", [(1, "Preambles", CLAUSES[0][2]), CLAUSES[1]]),
    ("Title", [(1, None, CLAUSES[0][2]), CLAUSES[1]]),
    ("Title", [CLAUSES[0], (2, None, CLAUSES[1][2].replace(";", ","))]),
    ("Title", [(1, CLAUSES[1][1], CLAUSES[1][2]), (2, CLAUSES[0][1], CLAUSES[0][2])]),
    ("Title", CLAUSES[:1]),
    ("Title", [*CLAUSES, (3, None, "More.")]),
    ("Title", [(1, "Preamble", "We, the clusters,"), (2, None, "agree."), (3, None, CLAUSES[1][2])]),
    ("Title", [(1, "Preamble\x1fWe", "the clusters,\n\nagree."), CLAUSES[1]]),
], ids=["title", "trailing space", "one newline less", "heading", "heading removed", "a comma",
        "order", "clause removed", "clause added", "clause split", "separator in heading"])
def test_any_change_gives_another_hash(changed):
    title, clauses = changed
    assert content_hash(title, clauses) != content_hash("Title", CLAUSES)


def test_no_heading_and_an_empty_heading_are_the_same_text():
    assert content_hash("Title", [(1, None, "Text.")]) == content_hash("Title", [(1, "", "Text.")])


def test_the_document_hash_is_the_one_function_over_the_numbered_clauses(app, api, declaration):
    data = api.as_("observer").get(f"/documents/{declaration['id']}").get_json()
    assert data["hash_scheme"] == 2  # made since clause kinds: labels, kinds and action fields are hashed
    expected = content_hash_v2(data["title"], [(c["label"], c["kind"], c["heading"], c["text"], c.get("action"))
                                               for c in data["clauses"]])
    assert data["content_hash"] == expected == current_hash(app, declaration["id"])
    assert expected != content_hash(data["title"], [(c["number"], c["heading"], c["text"]) for c in data["clauses"]])
    api.as_("editor").patch(f"/clauses/{declaration['clause_ids'][0]}",
                            json={"text": data["clauses"][0]["text"] + " ", "base_version": 1})
    assert current_hash(app, declaration["id"]) != expected
