"""The JSON API of CONTRACT.md. It calls the same operations as the pages."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, g, jsonify, request
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from .. import live, permissions
from ..clauses.operations import (
    ClauseConflict,
    conflicting_authors,
    create_clause,
    delete_clause,
    restore_clause,
    save_clause,
)
from ..documents.operations import (
    add_member,
    add_participant,
    clause_label,
    create_document,
    document_json,
    remove_member,
    visible_documents,
)
from ..extensions import db
from ..models import Clause, ClauseRevision
from ..models.base import is_db_int, parse_int
from ..people.operations import invitation_json, invite, members_json
from ..signoff.phases import move_phase, withdraw_participant
from ..views import ERROR_CODES, get_clause_or_404, get_document_or_404
from .auth import token_required
from .blueprint import bp
from .openapi import spec

# Read-only fields of a clause a client may send back with the object it read: ignored.
ECHOED = frozenset({"id", "number", "version"})


def body(fields: tuple[str, ...] | None = None) -> dict:
    """Return the JSON object of the request, or abort 400; with `fields`, a field outside them is
    refused (422) rather than silently ignored (a misspelt `after_id` would put a clause at the end)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, _("The request body must be a JSON object."))
    if fields is not None:
        unknown = sorted(str(key)[:40] for key in data if key not in fields and key not in ECHOED)
        if unknown:
            abort(422, ngettext("Unknown field: %(names)s. This request takes: %(fields)s.",
                                "Unknown fields: %(names)s. This request takes: %(fields)s.", len(unknown),
                                names=", ".join(unknown[:5]), fields=", ".join(fields)))
    return data


def clause_json(clause: Clause) -> dict:
    """A clause as the API gives it: its position number and its label (by its document's kinds)."""
    label = None if clause.deleted_at else clause_label(clause)
    return clause.to_json(clause.number, label)


def error(status: int, message: str, **extra):
    code = ERROR_CODES.get(status, "error")
    return jsonify({"error": {"code": code, "message": message}, **extra}), status


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec())


@bp.get("/documents")
@token_required
def list_documents():
    return jsonify([document_json(d, with_clauses=False) for d in visible_documents(g.api_user)])


@bp.post("/documents")
@token_required
def create_document_():
    data = body()
    if not permissions.may_create_documents(g.api_user):
        abort(403, _("Only the secretariat creates documents."))
    document = create_document(g.api_user, data.get("title"), data.get("kind"), data.get("language", ...))
    db.session.commit()
    return jsonify(document_json(document)), 201


@bp.get("/documents/<int:document_id>")
@token_required
def get_document(document_id: int):
    return jsonify(document_json(get_document_or_404(document_id, user=g.api_user)))


@bp.post("/documents/<int:document_id>/members")
@token_required
def add_member_(document_id: int):
    document = get_document_or_404(document_id, "manage", g.api_user)
    data = body()
    membership = add_member(g.api_user, document, data.get("email"), data.get("role"))
    db.session.commit()
    return jsonify({"email": membership.user.email, "role": membership.role,
                    "document_id": document.id}), 201


@bp.delete("/documents/<int:document_id>/members/<int:user_id>")
@token_required
def remove_member_(document_id: int, user_id: int):
    document = get_document_or_404(document_id, "manage", g.api_user)
    remove_member(g.api_user, document, user_id)
    db.session.commit()
    return "", 204


@bp.post("/documents/<int:document_id>/participants")
@token_required
def add_participant_(document_id: int):
    document = get_document_or_404(document_id, "manage", g.api_user)
    participation = add_participant(g.api_user, document, body().get("organisation"))
    db.session.commit()
    return jsonify(participation.organisation.to_json()), 201


@bp.get("/documents/<int:document_id>/members")
@token_required
def list_members(document_id: int):
    return jsonify(members_json(get_document_or_404(document_id, user=g.api_user)))


@bp.delete("/documents/<int:document_id>/participants/<int:organisation_id>")
@token_required
def withdraw_participant_(document_id: int, organisation_id: int):
    document = get_document_or_404(document_id, "manage", g.api_user)
    data = body() if request.get_data() else {}  # no body at all: the reason is missing (422)
    withdraw_participant(g.api_user, document, organisation_id, data.get("reason"))
    db.session.commit()
    return jsonify(document_json(document))


@bp.post("/documents/<int:document_id>/invitations")
@token_required
def invite_(document_id: int):
    document = get_document_or_404(document_id, "manage", g.api_user)
    data = body()
    invitation, secret = invite(g.api_user, document, data.get("email"), data.get("name"),
                                data.get("organisation"), data.get("role"))
    db.session.commit()
    return jsonify(invitation_json(invitation, secret)), 201


@bp.post("/documents/<int:document_id>/phase")
@token_required
def change_phase(document_id: int):
    document = get_document_or_404(document_id, "move_phase", g.api_user)
    data = body()
    deadline = None
    if data.get("deadline") is not None:
        try:
            deadline = datetime.fromisoformat(str(data["deadline"]).replace("Z", "+00:00"))
        except ValueError:
            return error(422, _("deadline must be an ISO 8601 date and time."))
        if deadline.tzinfo is not None:
            deadline = deadline.astimezone(UTC).replace(tzinfo=None)
    move_phase(g.api_user, document, data.get("phase"), deadline, reason=data.get("reason"),
               override=data.get("override_reason"))
    db.session.commit()
    return jsonify(document_json(document))


@bp.get("/documents/<int:document_id>/changes")
@token_required
def changes(document_id: int):
    document = get_document_or_404(document_id, user=g.api_user)
    since = parse_int(request.args.get("since", "0"))
    if since is None:
        return error(422, _("since must be a non-negative integer."))
    return jsonify(live.changes_since(document, since))


@bp.post("/documents/<int:document_id>/clauses")
@token_required
def create_clause_(document_id: int):
    document = get_document_or_404(document_id, "edit_clause", g.api_user)
    data = body(("text", "heading", "after", "kind", "action"))
    after = None
    if data.get("after") is not None:
        after = db.session.get(Clause, data["after"]) if is_db_int(data["after"]) else None
        if after is None or after.document_id != document.id or after.deleted_at:
            return error(422, _("after must be the id of a clause of this document."))
    clause = create_clause(document, g.api_user, data.get("text"), data.get("heading"), after,
                           kind=data.get("kind"), action=data.get("action"))
    db.session.commit()
    return jsonify(clause_json(clause)), 201


@bp.patch("/clauses/<int:clause_id>")
@token_required
def patch_clause(clause_id: int):
    clause = get_clause_or_404(clause_id, "edit_clause", g.api_user)
    data = body(("text", "heading", "base_version", "kind", "action"))
    heading = data["heading"] if "heading" in data else ...
    try:
        result = save_clause(clause, g.api_user, data.get("text"), data.get("base_version"),
                             heading=heading, kind=data.get("kind", ...), action=data.get("action", ...))
    except ClauseConflict as conflict:
        db.session.rollback()
        current = db.session.get(Clause, clause_id)
        return error(409, _("Someone else changed the same words since your base version; "
                            "nothing was saved. Resolve against the current text and save again."),
                     current=clause_json(current), yours=conflict.yours,
                     base_version=conflict.base_version, base_text=conflict.base_text,
                     changed_by=[u.name for u in conflicting_authors(current, conflict.base_version, conflict.yours)])
    answer = {"clause": clause_json(clause), "merged": result.merged}
    db.session.commit()  # the acknowledgement goes out only after the commit
    return jsonify(answer)


@bp.delete("/clauses/<int:clause_id>")
@token_required
def delete_clause_(clause_id: int):
    clause = get_clause_or_404(clause_id, "edit_clause", g.api_user)
    delete_clause(clause, g.api_user)
    db.session.commit()
    return "", 204


@bp.post("/clauses/<int:clause_id>/undelete")
@token_required
def undelete_clause_(clause_id: int):
    clause = get_clause_or_404(clause_id, "edit_clause", g.api_user, include_deleted=True)
    data = body(("position",)) if request.get_data() else {}
    restore_clause(clause, g.api_user, data.get("position"))
    db.session.commit()
    return jsonify(clause_json(clause))


@bp.get("/clauses/<int:clause_id>/revisions")
@token_required
def revisions(clause_id: int):
    clause = get_clause_or_404(clause_id, user=g.api_user, include_deleted=True)
    rows = db.session.scalars(select(ClauseRevision).where(ClauseRevision.clause_id == clause.id)
                              .order_by(ClauseRevision.version))
    return jsonify([row.to_json() for row in rows])
