"""Audit events in words, for the audit trail page, the API and the certificate of adoption."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

from .. import i18n
from ..i18n import _l
from ..models import AuditEvent
from ..models.consultation import DISPOSITION_LABELS
from ..models.document import PHASE_LABELS, ROLE_LABELS

# Filters of the audit trail page: a name (shown in the reader's language) and the actions it
# covers (by prefix).
CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "text": (_l("Text changes"), ("clause.", "clauses.", "document.imported")),
    "phases": (_l("Phases and sign-off"), ("document.phase_changed", "document.deadline_changed",
                                           "document.contributions_deadline_changed", "document.adopted",
                                           "approval.")),
    "people": (_l("Members and participants"), ("member.", "participant.", "document.created", "invitation.")),
    "consultation": (_l("Consultation"), ("thread.", "comment.", "amendment.", "contribution.")),
    "versions": (_l("Named versions"), ("snapshot.",)),
}

# The events said in words, in the reader's language (the certificate of adoption asks in English).
_SIMPLE = {
    "document.created": _l("created the document"),
    "clauses.reordered": _l("reordered the clauses"),
    "thread.created": _l("opened a discussion on %(clause)s"),
    "thread.resolved": _l("resolved a discussion on %(clause)s"),
    "thread.reopened": _l("reopened a discussion on %(clause)s"),
    "comment.created": _l("commented on %(clause)s"),
    "comment.updated": _l("edited a comment on %(clause)s"),
    "comment.deleted": _l("deleted a comment on %(clause)s"),
    "amendment.created": _l("proposed an amendment to %(clause)s"),
    "amendment.accepted": _l("accepted an amendment to %(clause)s"),
    "amendment.rejected": _l("rejected an amendment to %(clause)s"),
    "amendment.withdrawn": _l("withdrew an amendment to %(clause)s"),
    "amendment.reopened": _l("reopened an amendment to %(clause)s"),
    "contribution.created": _l("submitted a contribution"),
    "contribution.linked": _l("linked a contribution to clauses"),
    "contribution.updated": _l("edited a contribution"),
    "contribution.withdrawn": _l("withdrew a contribution"),
    "invitation.revoked": _l("withdrew an invitation"),
    "clause.created": _l("added %(clause)s"),
    "clause.deleted": _l("deleted %(clause)s"),
    "clause.restored": _l("restored %(clause)s"),
}
# An edit of a clause by its origin: without and with its version number.
_EDITED = {
    None: (_l("edited %(clause)s"), _l("edited %(clause)s (version %(version)s)")),
    "restore": (_l("edited %(clause)s (restored an earlier version)"),
                _l("edited %(clause)s (version %(version)s) (restored an earlier version)")),
    "amendment": (_l("edited %(clause)s (an accepted amendment)"),
                  _l("edited %(clause)s (version %(version)s) (an accepted amendment)")),
    "merge": (_l("edited %(clause)s (merged with a concurrent edit)"),
              _l("edited %(clause)s (version %(version)s) (merged with a concurrent edit)")),
    "import": (_l("edited %(clause)s (imported)"), _l("edited %(clause)s (version %(version)s) (imported)")),
}


def _phase(name: object) -> str:
    return str(PHASE_LABELS.get(str(name), name)).lower()


def _role(name: object) -> str:
    return str(ROLE_LABELS.get(str(name), name))


def _moment(value: object) -> str:
    """A moment recorded as ISO 8601 (UTC), as the trail writes it: "2027-03-31 17:00"."""
    return str(value).replace("T", " ")[:16]


def _phase_changed(d: dict) -> str:
    """A move of the document to another phase: with its deadline, reason and overridden blockers."""
    values = {"previous": _phase(d.get("previous")), "phase": _phase(d.get("phase")),
              "deadline": _moment(d.get("deadline")), "reason": d.get("reason"), "override": d.get("override")}
    deadline, reason = bool(d.get("deadline")), bool(d.get("reason"))
    if not d.get("override"):
        if deadline and reason:
            return _("moved the document from %(previous)s to %(phase)s, deadline %(deadline)s UTC. "
                     "Reason: %(reason)s", **values)
        if deadline:
            return _("moved the document from %(previous)s to %(phase)s, deadline %(deadline)s UTC", **values)
        if reason:
            return _("moved the document from %(previous)s to %(phase)s. Reason: %(reason)s", **values)
        return _("moved the document from %(previous)s to %(phase)s", **values)
    count = len(d.get("blockers") or [])
    if deadline and reason:
        return ngettext("moved the document from %(previous)s to %(phase)s, deadline %(deadline)s UTC. "
                        "Reason: %(reason)s, despite %(num)s blocker(s). Reason: %(override)s",
                        "moved the document from %(previous)s to %(phase)s, deadline %(deadline)s UTC. "
                        "Reason: %(reason)s, despite %(num)s blocker(s). Reason: %(override)s", count, **values)
    if deadline:
        return ngettext("moved the document from %(previous)s to %(phase)s, deadline %(deadline)s UTC, "
                        "despite %(num)s blocker(s). Reason: %(override)s",
                        "moved the document from %(previous)s to %(phase)s, deadline %(deadline)s UTC, "
                        "despite %(num)s blocker(s). Reason: %(override)s", count, **values)
    if reason:
        return ngettext("moved the document from %(previous)s to %(phase)s. Reason: %(reason)s, "
                        "despite %(num)s blocker(s). Reason: %(override)s",
                        "moved the document from %(previous)s to %(phase)s. Reason: %(reason)s, "
                        "despite %(num)s blocker(s). Reason: %(override)s", count, **values)
    return ngettext("moved the document from %(previous)s to %(phase)s, despite %(num)s blocker(s). "
                    "Reason: %(override)s",
                    "moved the document from %(previous)s to %(phase)s, despite %(num)s blocker(s). "
                    "Reason: %(override)s", count, **values)


def _approval_invalidated(d: dict) -> str:
    values = {"organisation": d.get("organisation"), "signatory": d.get("signatory"), "reason": d.get("reason")}
    if str(d.get("reason") or "").startswith(f"{d.get('organisation')} withdrew"):  # a reason, then
        return _("voided the approval of %(organisation)s given by %(signatory)s: %(reason)s", **values)
    if d.get("reason"):
        return _("invalidated the approval of %(organisation)s given by %(signatory)s by moving the document "
                 "back to drafting: %(reason)s", **values)
    return _("invalidated the approval of %(organisation)s given by %(signatory)s by moving the document back "
             "to drafting", **values)


def _closed(action: str, clause: str, d: dict) -> str:
    """A discussion or an amendment closed with a disposition (and a reason)."""
    label = DISPOSITION_LABELS.get(d["disposition"])
    values = {"clause": clause, "label": str(label if label is not None else d["disposition"]).lower(),
              "reason": d.get("reason")}
    if action == "thread.resolved":
        if d.get("reason"):
            return _("closed a discussion on %(clause)s as %(label)s. Reason: %(reason)s", **values)
        return _("closed a discussion on %(clause)s as %(label)s", **values)
    if d.get("reason"):
        return _("closed an amendment on %(clause)s as %(label)s. Reason: %(reason)s", **values)
    return _("closed an amendment on %(clause)s as %(label)s", **values)


def describe(event: AuditEvent, clauses: dict[int, str] | None = None) -> str:
    """Say in words what the event records; `clauses` names clauses by id ("clause 3 (Scope)")."""
    d = event.details or {}
    clause = (clauses or {}).get(event.clause_id) or (_("a clause") if event.clause_id else _("the document"))
    action = event.action
    if action in _SIMPLE:
        return str(_SIMPLE[action]) % {"clause": clause}
    if action == "clause.updated":
        plain, versioned = _EDITED.get(d.get("origin"), _EDITED[None])
        return str(versioned if d.get("version") else plain) % {"clause": clause, "version": d.get("version")}
    if action == "document.phase_changed":
        return _phase_changed(d)
    if action == "document.deadline_changed":
        if d.get("deadline"):
            return _("set the deadline of the %(phase)s to %(deadline)s UTC", phase=_phase(d.get("phase")),
                     deadline=_moment(d["deadline"]))
        return _("removed the deadline of the %(phase)s", phase=_phase(d.get("phase")))
    if action == "document.adopted":
        count = len(d.get("organisations") or [])
        return ngettext("gave the last signature: the document is adopted, signed by all %(num)s participating "
                        "organisations",
                        "gave the last signature: the document is adopted, signed by all %(num)s participating "
                        "organisations", count)
    if action == "document.imported":
        clauses_count = d.get("clauses")
        return ngettext("imported the document from “%(filename)s” (%(count)s clauses)",
                        "imported the document from “%(filename)s” (%(count)s clauses)",
                        clauses_count if isinstance(clauses_count, int) else 0,
                        filename=d.get("filename"), count=clauses_count)
    if action == "approval.given":
        return _("signed for %(organisation)s (content hash %(hash)s…)", organisation=d.get("organisation"),
                 hash=str(d.get("content_hash"))[:12])
    if action == "approval.invalidated":
        return _approval_invalidated(d)
    if action == "participant.withdrawn":
        return _("withdrew %(organisation)s from the participating organisations. Reason: %(reason)s",
                 organisation=d.get("organisation"), reason=d.get("reason"))
    if action == "participant.readded":
        return _("added %(organisation)s again as a participating organisation", organisation=d.get("organisation"))
    if action == "invitation.created":
        return _("invited %(name)s (%(email)s, %(organisation)s) as %(role)s", name=d.get("name"),
                 email=d.get("email"), organisation=d.get("organisation"), role=_role(d.get("role")))
    if action == "invitation.accepted":
        if d.get("new_account"):
            return _("created an account and accepted the invitation as %(role)s", role=_role(d.get("role")))
        return _("accepted the invitation as %(role)s", role=_role(d.get("role")))
    if action in ("thread.resolved", "amendment.closed") and d.get("disposition"):
        return _closed(action, clause, d)
    if action == "document.contributions_deadline_changed":
        deadline = d.get("deadline") or d.get("contributions_deadline")
        if deadline:
            return _("set the deadline of the call for contributions to %(deadline)s UTC", deadline=_moment(deadline))
        return _("removed the deadline of the call for contributions")
    if action == "member.role_set":
        return _("gave %(user)s the role %(role)s", user=d.get("user"), role=_role(d.get("role")))
    if action == "member.removed":
        return _("removed %(user)s from the document", user=d.get("user"))
    if action == "participant.added":
        return _("added %(organisation)s as a participating organisation", organisation=d.get("organisation"))
    if action == "translation.updated":
        language = i18n.LANGUAGES.get(d.get("lang"), d.get("lang"))
        return _("translated %(clause)s into %(language)s (version %(version)s, from version %(source)s of the "
                 "clause)", clause=clause, language=language, version=d.get("version"), source=d.get("source_version"))
    if action == "translation.title":
        return _("translated the title into %(language)s", language=i18n.LANGUAGES.get(d.get("lang"), d.get("lang")))
    if action == "snapshot.created":
        if d.get("origin") in ("signing", "adopted"):
            return _("the named version “%(name)s” was taken automatically", name=d.get("name"))
        return _("took the named version “%(name)s”", name=d.get("name"))
    return action.replace(".", " ").replace("_", " ")
