"""Readiness before a phase move: blockers refuse the signing (409) unless overridden with a recorded
reason, warnings inform; opening the signing and adoption take named versions; a signatory whose
approval was invalidated sees what changed since the version they approved."""

from __future__ import annotations

from sqlalchemy import select

from drafting.extensions import db
from drafting.models import Amendment, AuditEvent, Notification, Snapshot
from tests.phases import walk


def codes(issues: list[dict]) -> set[str]:
    return {issue["code"] for issue in issues}


def last_event(app, document_id: int, action: str) -> AuditEvent:
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.document_id == document_id, AuditEvent.action == action).order_by(AuditEvent.id.desc()))
        db.session.expunge(event)
        return event


def test_readiness_lists_open_items_as_blockers_for_signing_and_warnings_before(api, plan):
    answer = api.as_("commenter").get(f"/documents/{plan['id']}/readiness?to=signing")
    assert answer.status_code == 200
    data = answer.get_json()
    assert data["ready"] is False
    assert {"open_amendments", "open_threads"} <= codes(data["blockers"])
    assert all(b["message"] for b in data["blockers"])
    # Before the final review the same items only warn.
    data = api.as_("admin").get(f"/documents/{plan['id']}/readiness?to=final_review").get_json()
    assert data["ready"] is True and not data["blockers"]
    assert {"open_amendments", "open_threads"} <= codes(data["warnings"])


def test_readiness_refuses_bad_phases_and_strangers(api, plan):
    assert api.as_("admin").get(f"/documents/{plan['id']}/readiness?to=nowhere").status_code == 422
    assert api.as_("admin").get(f"/documents/{plan['id']}/readiness").status_code == 422
    assert api.as_("outsider").get(f"/documents/{plan['id']}/readiness?to=signing").status_code == 404


def test_signing_with_blockers_is_409_with_the_list_and_nothing_changes(app, api, plan):
    walk(api, plan["id"], "final_review")
    answer = api.as_("admin").post(f"/documents/{plan['id']}/phase", json={"phase": "signing"})
    assert answer.status_code == 409
    body = answer.get_json()
    assert body["error"]["code"] == "conflict"
    assert {"open_amendments", "open_threads"} <= codes(body["blockers"])
    assert api.as_("admin").get(f"/documents/{plan['id']}").get_json()["phase"] == "final_review"
    # An empty override reason is no override.
    answer = api.as_("admin").post(f"/documents/{plan['id']}/phase", json={"phase": "signing", "override_reason": "  "})
    assert answer.status_code == 409


def test_an_admin_overrides_with_a_reason_that_is_recorded(app, api, plan):
    walk(api, plan["id"], "final_review")
    reason = "The open items were settled in the plenary of 12 March; minutes attached to the report."
    answer = api.as_("admin").post(f"/documents/{plan['id']}/phase",
                                   json={"phase": "signing", "override_reason": reason})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["phase"] == "signing"
    event = last_event(app, plan["id"], "document.phase_changed")
    assert event.details["phase"] == "signing" and event.details["override"] == reason
    assert any("amendment" in b for b in event.details["blockers"])


def test_overriding_closes_the_open_items_so_none_is_left_open_for_ever(app, api, auth, client, plan):
    """After the freeze nothing can close an item (resolve 403, reject 423): the override closes them,
    threads as noted, amendments as not accepted, each with a reason naming it, audited, authors told."""
    before = api.as_("observer").get(f"/documents/{plan['id']}/consultation/report").get_json()
    open_threads = [e["id"] for e in before if e["type"] == "thread" and e["disposition"] == "open"]
    open_amendments = [e["id"] for e in before if e["type"] == "amendment" and e["disposition"] == "open"]
    settled = [e for e in before if e["disposition"] != "open"]
    assert open_threads and open_amendments
    walk(api, plan["id"], "final_review")
    auth.login("admin")
    page = client.get(f"/documents/{plan['id']}/phase?to=signing").get_data(as_text=True)
    assert "the discussions still open are closed as noted and the amendments still open as not accepted" in page
    reason = "Settled in the plenary of 12 March."
    answer = client.post(f"/documents/{plan['id']}/phase", data={
        "phase": "signing", "override": "yes", "override_reason": reason})
    assert answer.status_code == 302

    after = {(e["type"], e["id"]): e for e in api.as_("observer").get(
        f"/documents/{plan['id']}/consultation/report").get_json()}
    assert not [e for e in after.values() if e["disposition"] == "open" and not e["clause_deleted"]]
    for thread_id in open_threads:
        entry = after[("thread", thread_id)]
        assert entry["disposition"] == "noted" and reason in entry["reason"] and "signing" in entry["reason"]
    for amendment_id in open_amendments:
        entry = after[("amendment", amendment_id)]
        assert entry["disposition"] == "rejected" and reason in entry["reason"]
        assert api.as_("observer").get(f"/amendments/{amendment_id}").get_json()["decided_by"]["name"]
    for entry in settled:  # what was settled stays as it was
        assert after[(entry["type"], entry["id"])]["disposition"] == entry["disposition"]
        assert after[(entry["type"], entry["id"])]["reason"] == entry["reason"]

    with app.app_context():
        resolved = list(db.session.scalars(select(AuditEvent).where(
            AuditEvent.document_id == plan["id"], AuditEvent.action == "thread.resolved",
            AuditEvent.object_id.in_(open_threads))))
        assert len(resolved) == len(open_threads) and all(e.details["disposition"] == "noted" for e in resolved)
        closed = list(db.session.scalars(select(AuditEvent).where(
            AuditEvent.document_id == plan["id"], AuditEvent.action == "amendment.closed",
            AuditEvent.object_id.in_(open_amendments))))
        assert len(closed) == len(open_amendments)
        assert all((e.details["status"], e.details["disposition"]) == ("rejected", "not_accepted") for e in closed)
        authors = set(db.session.scalars(select(Amendment.author_id).where(Amendment.id.in_(open_amendments))))
        told = list(db.session.scalars(select(Notification).where(
            Notification.user_id.in_(authors), Notification.message.like("%opened the signing%"))))
        assert told and all(reason in n.message for n in told)
    event = last_event(app, plan["id"], "document.phase_changed")
    assert event.details["override"] == reason
    assert (event.details["closed_threads"], event.details["closed_amendments"]) == (len(open_threads),
                                                                                     len(open_amendments))
    trail = client.get(f"/documents/{plan['id']}/audit?category=consultation").get_data(as_text=True)
    assert "as not accepted. Reason: Still open when the signing was opened despite open items. " \
           f"The reason given: {reason}" in trail


def test_a_cluster_without_signatory_blocks_the_signing(app, api, declaration):
    # Every seeded participant of the declaration has a signatory; a new one has none.
    before = api.as_("admin").get(f"/documents/{declaration['id']}/readiness?to=signing").get_json()
    assert "no_signatory" not in codes(before["blockers"])
    with app.app_context():
        from drafting.models import Organisation

        db.session.add(Organisation(name="Baltic eHealth Cluster", country="LT"))
        db.session.commit()
    assert api.as_("admin").post(f"/documents/{declaration['id']}/participants",
                                 json={"organisation": "Baltic eHealth Cluster"}).status_code == 201
    data = api.as_("admin").get(f"/documents/{declaration['id']}/readiness?to=signing").get_json()
    assert [b for b in data["blockers"] if b["code"] == "no_signatory" and "Baltic eHealth Cluster" in b["message"]]
    walk(api, declaration["id"], "final_review")
    answer = api.as_("admin").post(f"/documents/{declaration['id']}/phase", json={"phase": "signing"})
    assert answer.status_code == 409 and "no_signatory" in codes(answer.get_json()["blockers"])


def test_hidden_characters_and_late_comments_warn(app, api, declaration):
    clause_id = declaration["clause_ids"][1]
    current = api.as_("editor").get(f"/documents/{declaration['id']}").get_json()["clauses"][1]
    answer = api.as_("editor").patch(f"/clauses/{clause_id}", json={
        "text": current["text"] + " Signed\u202e txet", "base_version": current["version"]})
    assert answer.status_code == 200
    assert api.as_("editor").post(f"/clauses/{clause_id}/threads", json={"body": "Late thought."}).status_code == 201
    data = api.as_("admin").get(f"/documents/{declaration['id']}/readiness?to=final_review").get_json()
    assert {"hidden_characters", "comments_after_version"} <= codes(data["warnings"])
    hidden = next(w for w in data["warnings"] if w["code"] == "hidden_characters")
    assert "clause 2" in hidden["message"]
    # A named version taken after the comment settles that warning.
    assert api.as_("editor").post(f"/documents/{declaration['id']}/snapshots", json={"name": "After the comments"}).status_code == 201
    data = api.as_("admin").get(f"/documents/{declaration['id']}/readiness?to=final_review").get_json()
    assert "comments_after_version" not in codes(data["warnings"])


def test_opening_the_signing_takes_a_named_version_of_the_text(app, api, declaration):
    walk(api, declaration["id"], "signing")
    versions = api.as_("observer").get(f"/documents/{declaration['id']}/snapshots").get_json()
    document = api.as_("observer").get(f"/documents/{declaration['id']}").get_json()
    assert versions[0]["name"].startswith("Opened for signing")
    assert versions[0]["content_hash"] == document["content_hash"]
    with app.app_context():
        assert db.session.get(Snapshot, versions[0]["id"]).origin == "signing"


# ---- the phase page -----------------------------------------------------------------------------

def test_the_phase_page_shows_blockers_and_refuses_without_override(app, api, auth, client, plan):
    walk(api, plan["id"], "final_review")
    auth.login("admin")
    page = client.get(f"/documents/{plan['id']}/phase?to=signing").get_data(as_text=True)
    assert 'id="readiness-blockers"' in page and "amendments are still open" in page
    assert 'name="override"' in page and 'name="override_reason"' in page
    answer = client.post(f"/documents/{plan['id']}/phase", data={"phase": "signing"})
    assert answer.status_code == 409
    assert "The signing cannot open yet" in answer.get_data(as_text=True)
    # Ticking the override without a reason: refused, the tick kept.
    answer = client.post(f"/documents/{plan['id']}/phase", data={"phase": "signing", "override": "yes"})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert "Say why the signing opens despite the blockers" in html and 'value="yes" checked' in html
    answer = client.post(f"/documents/{plan['id']}/phase", data={
        "phase": "signing", "override": "yes", "override_reason": "Settled in plenary."})
    assert answer.status_code == 302
    assert api.as_("admin").get(f"/documents/{plan['id']}").get_json()["phase"] == "signing"


def test_the_phase_page_says_when_nothing_blocks(api, auth, client, declaration):
    walk(api, declaration["id"], "final_review")
    auth.login("admin")
    page = client.get(f"/documents/{declaration['id']}/phase?to=signing").get_data(as_text=True)
    assert 'id="readiness-ok"' in page and 'name="override"' not in page


# ---- since you signed ---------------------------------------------------------------------------

def test_after_a_reopen_the_signatory_sees_what_changed_since_their_approval(app, api, auth, client, declaration):
    walk(api, declaration["id"], "signing")
    current = api.as_("observer").get(f"/documents/{declaration['id']}").get_json()
    assert api.as_("signatory").post(f"/documents/{declaration['id']}/approvals", json={
        "content_hash": current["content_hash"], "password": "drafting-demo"}).status_code == 201
    walk(api, declaration["id"], "drafting", reason="Clause 3 must name the funding instrument.")
    clause = current["clauses"][2]
    assert api.as_("editor").patch(f"/clauses/{clause['id']}", json={
        "text": clause["text"] + " Funding comes from EU4Health.", "base_version": clause["version"]}).status_code == 200
    auth.login("signatory")
    page = client.get(f"/documents/{declaration['id']}/signoff").get_data(as_text=True)
    assert 'id="since-signed"' in page
    assert "Clause 3 must name the funding instrument." in page
    assert "Changed: clause 3" in page
    with app.app_context():
        snapshot = db.session.scalar(select(Snapshot).where(Snapshot.document_id == declaration["id"],
                                                            Snapshot.origin == "signing"))
        compare_url = f"/documents/{declaration['id']}/compare?from={snapshot.id}&amp;to=current"
    assert compare_url in page
    compare = client.get(compare_url.replace("&amp;", "&")).get_data(as_text=True)
    assert "EU4Health" in compare and "<ins" in compare


def test_a_signatory_who_never_signed_sees_no_since_card(api, auth, client, declaration):
    walk(api, declaration["id"], "signing")
    auth.login("signatory")
    page = client.get(f"/documents/{declaration['id']}/signoff").get_data(as_text=True)
    assert 'id="sign"' in page and 'id="since-signed"' not in page
