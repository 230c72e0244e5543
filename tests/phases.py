"""Move a document through its phases the way an admin must: one step at a time (see
models.document.TRANSITIONS); `adopt` has a signatory of every participant sign."""

from __future__ import annotations

from sqlalchemy import select

from drafting.documents.operations import document_hash
from drafting.extensions import db
from drafting.models import Document, Membership
from drafting.signoff.operations import approve
from tests.conftest import PASSWORD

FORWARD = ("drafting", "consultation", "final_review", "signing")


def walk(api, document_id: int, target: str, reason: str = "Reopened for changes.",
         override: str | None = "Open items are settled outside this test.") -> dict:
    """Move the document to `target` through the API as the admin; return the last answer.

    Moving to signing while open items block it goes ahead with `override` as the reason (None:
    the refusal fails the walk)."""
    admin = api.as_("admin")
    current = admin.get(f"/documents/{document_id}").get_json()["phase"]
    if target == "drafting":
        steps = [] if current == "drafting" else ["drafting"]
    else:
        steps = list(FORWARD[FORWARD.index(current) + 1:FORWARD.index(target) + 1])
    data = admin.get(f"/documents/{document_id}").get_json()
    for phase in steps:
        body = {"phase": phase, **({"reason": reason} if current == "signing" else {})}
        response = admin.post(f"/documents/{document_id}/phase", json=body)
        if response.status_code == 409 and phase == "signing" and override:
            # The demo's open items block the signing; tests about other things go ahead, as an
            # admin may, with a recorded reason (tests/test_readiness.py checks the refusal).
            response = admin.post(f"/documents/{document_id}/phase", json={**body, "override_reason": override})
        assert response.status_code == 200, response.get_json()
        data, current = response.get_json(), phase
    return data


def signatories(app, document_id: int) -> dict[str, str]:
    """Return organisation name -> email of a signatory of that participating organisation."""
    with app.app_context():
        document = db.session.get(Document, document_id)
        participants = {o.id: o.name for o in document.participants}
        found = {}
        for membership in db.session.scalars(select(Membership).where(
                Membership.document_id == document_id, Membership.role == "signatory").order_by(Membership.id)):
            name = participants.get(membership.user.organisation_id)
            if name and name not in found:
                found[name] = membership.user.email
        return found


def adopt(app, api, document_id: int) -> None:
    """Walk to signing, then have a signatory of every participating organisation sign."""
    walk(api, document_id, "signing")
    emails = signatories(app, document_id)
    with app.app_context():
        document = db.session.get(Document, document_id)
        current = document_hash(document)
        for email in emails.values():
            user = next(m.user for m in document.memberships if m.user.email == email)
            approve(document, user, current, PASSWORD)
        db.session.commit()
        assert document.phase == "adopted"
