"""API of the audit trail: a document's events, newest first, filtered (admins and editors)."""

from __future__ import annotations

from flask import g, jsonify, request

from .. import audit
from ..audit_trail.describe import CATEGORIES
from ..audit_trail.queries import PAGE_SIZE, clause_names, event_json, read_filters, trail
from ..views import get_document_or_404
from .auth import token_required
from .blueprint import bp
from .openapi import ID, PATHS, SCHEMAS, errors, operation, path_id, ref, respond
from .routes import error


@bp.get("/documents/<int:document_id>/audit")
@token_required
def audit_trail(document_id: int):
    document = get_document_or_404(document_id, "view_audit", g.api_user)
    try:
        filters = read_filters(request.args)
    except LookupError as exc:
        return error(422, str(exc))
    events, older = trail(document, filters)
    names = clause_names(document)
    chain = audit.verify_chain(document)
    return jsonify({"events": [event_json(e, names) for e in events], "next_before": older,
                    "audit_chain": {"intact": chain.intact, "events": chain.events, "head": chain.head}})


SCHEMAS.update({
    "AuditEvent": {"type": "object", "required": ["id", "at", "action", "summary", "hash"], "properties": {
        "id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}, "action": {"type": "string"},
        "summary": {"type": "string"}, "actor": {"type": "object", "nullable": True},
        "organisation": {"type": "string", "nullable": True}, "clause_id": {"type": "integer", "nullable": True},
        "object_type": {"type": "string"}, "object_id": {"type": "integer", "nullable": True},
        "details": {"type": "object"}, "prev_hash": {"type": "string", "nullable": True},
        "hash": {"type": "string"}}},
})
PATHS.update({
    "/documents/{document_id}/audit": {"get": operation(
        f"The audit trail, newest first, {PAGE_SIZE} events a page (admin, editor); next_before is the cursor "
        "of the next page",
        {"200": respond({"type": "object", "required": ["events", "next_before", "audit_chain"], "properties": {
            "events": {"type": "array", "items": ref("AuditEvent")},
            "next_before": {"type": "integer", "nullable": True}, "audit_chain": {"type": "object"}}}),
         **errors(401, 403, 404, 422)},
        params=[path_id("document_id"),
                {"name": "clause", "in": "query", "required": False, "schema": ID},
                {"name": "organisation", "in": "query", "required": False,
                 "schema": {"type": "string"}, "description": "an organisation's id or name"},
                {"name": "category", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": list(CATEGORIES)}},
                {"name": "before", "in": "query", "required": False, "schema": ID}])},
})
