"""Audit events in words, for the audit trail page, the API and the certificate of adoption."""

from __future__ import annotations

from ..models import AuditEvent
from ..models.consultation import DISPOSITION_LABELS
from ..models.document import PHASE_LABELS

# Filters of the audit trail page: a name and the actions it covers (by prefix).
CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "text": ("Text changes", ("clause.", "clauses.", "document.imported")),
    "phases": ("Phases and sign-off", ("document.phase_changed", "document.deadline_changed",
                                       "document.contributions_deadline_changed", "document.adopted",
                                       "approval.")),
    "people": ("Members and participants", ("member.", "participant.", "document.created", "invitation.")),
    "consultation": ("Consultation", ("thread.", "comment.", "amendment.", "contribution.")),
    "versions": ("Named versions", ("snapshot.",)),
}

_SIMPLE = {
    "document.created": "created the document",
    "clauses.reordered": "reordered the clauses",
    "thread.created": "opened a discussion on {clause}",
    "thread.resolved": "resolved a discussion on {clause}",
    "thread.reopened": "reopened a discussion on {clause}",
    "comment.created": "commented on {clause}",
    "comment.updated": "edited a comment on {clause}",
    "comment.deleted": "deleted a comment on {clause}",
    "amendment.created": "proposed an amendment to {clause}",
    "amendment.accepted": "accepted an amendment to {clause}",
    "amendment.rejected": "rejected an amendment to {clause}",
    "amendment.withdrawn": "withdrew an amendment to {clause}",
    "contribution.created": "submitted a contribution",
    "contribution.linked": "linked a contribution to clauses",
    "contribution.updated": "edited a contribution",
    "contribution.withdrawn": "withdrew a contribution",
    "invitation.revoked": "withdrew an invitation",
    "clause.created": "added {clause}",
    "clause.deleted": "deleted {clause}",
    "clause.restored": "restored {clause}",
}
_ORIGINS = {"restore": " (restored an earlier version)", "amendment": " (an accepted amendment)",
            "merge": " (merged with a concurrent edit)", "import": " (imported)"}


def _phase(name: object) -> str:
    return PHASE_LABELS.get(str(name), str(name)).lower()


def describe(event: AuditEvent, clauses: dict[int, str] | None = None) -> str:
    """Say in words what the event records; `clauses` names clauses by id ("clause 3 (Scope)")."""
    d = event.details or {}
    clause = (clauses or {}).get(event.clause_id) or ("a clause" if event.clause_id else "the document")
    action = event.action
    if action in _SIMPLE:
        return _SIMPLE[action].format(clause=clause)
    if action == "clause.updated":
        version = f" (version {d['version']})" if d.get("version") else ""
        return f"edited {clause}{version}{_ORIGINS.get(d.get('origin'), '')}"
    if action == "document.phase_changed":
        text = f"moved the document from {_phase(d.get('previous'))} to {_phase(d.get('phase'))}"
        if d.get("deadline"):
            text += f", deadline {d['deadline'].replace('T', ' ')[:16]} UTC"
        if d.get("reason"):
            text += f". Reason: {d['reason']}"
        if d.get("override"):
            text += f", despite {len(d.get('blockers') or [])} blocker(s). Reason: {d['override']}"
        return text
    if action == "document.deadline_changed":
        if d.get("deadline"):
            return f"set the deadline of the {_phase(d.get('phase'))} to {d['deadline'].replace('T', ' ')[:16]} UTC"
        return f"removed the deadline of the {_phase(d.get('phase'))}"
    if action == "document.adopted":
        count = len(d.get("organisations") or [])
        return f"gave the last signature: the document is adopted, signed by all {count} participating organisations"
    if action == "document.imported":
        return f"imported the document from “{d.get('filename')}” ({d.get('clauses')} clauses)"
    if action == "approval.given":
        return f"signed for {d.get('organisation')} (content hash {str(d.get('content_hash'))[:12]}…)"
    if action == "approval.invalidated":
        reason = f": {d['reason']}" if d.get("reason") else ""
        if str(d.get("reason") or "").startswith(f"{d.get('organisation')} withdrew"):
            return f"voided the approval of {d.get('organisation')} given by {d.get('signatory')}{reason}"
        return (f"invalidated the approval of {d.get('organisation')} given by {d.get('signatory')} "
                f"by moving the document back to drafting{reason}")
    if action == "participant.withdrawn":
        return f"withdrew {d.get('organisation')} from the participating organisations. Reason: {d.get('reason')}"
    if action == "participant.readded":
        return f"added {d.get('organisation')} again as a participating organisation"
    if action == "invitation.created":
        return f"invited {d.get('name')} ({d.get('email')}, {d.get('organisation')}) as {d.get('role')}"
    if action == "invitation.accepted":
        how = "created an account and " if d.get("new_account") else ""
        return f"{how}accepted the invitation as {d.get('role')}"
    if action in ("thread.resolved", "amendment.closed") and d.get("disposition"):
        label = DISPOSITION_LABELS.get(d["disposition"], d["disposition"]).lower()
        what = "a discussion" if action == "thread.resolved" else "an amendment"
        reason = f". Reason: {d['reason']}" if d.get("reason") else ""
        return f"closed {what} on {clause} as {label}{reason}"
    if action == "document.contributions_deadline_changed":
        deadline = d.get("deadline") or d.get("contributions_deadline")
        return (f"set the deadline of the call for contributions to {str(deadline).replace('T', ' ')[:16]} UTC"
                if deadline else "removed the deadline of the call for contributions")
    if action == "member.role_set":
        return f"gave {d.get('user')} the role {d.get('role')}"
    if action == "member.removed":
        return f"removed {d.get('user')} from the document"
    if action == "participant.added":
        return f"added {d.get('organisation')} as a participating organisation"
    if action == "snapshot.created":
        if d.get("origin") in ("signing", "adopted"):
            return f"the named version “{d.get('name')}” was taken automatically"
        return f"took the named version “{d.get('name')}”"
    return action.replace(".", " ").replace("_", " ")
