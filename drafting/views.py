"""Helpers every view shares: telling htmx requests apart, loading objects or refusing."""

from __future__ import annotations

from flask import abort, make_response, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import bindparam, select

from . import permissions
from .extensions import db
from .models import Clause, Document

ERROR_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "too_large",
               415: "unsupported_media_type", 422: "invalid", 423: "locked", 429: "rate_limited",
               503: "unavailable"}


def is_htmx() -> bool:
    """Tell an htmx request (wants a fragment) from a full page load."""
    return request.headers.get("HX-Request") == "true"


def vary_on_htmx(body):
    """Mark a response that differs for htmx requests, so caches keep both."""
    response = make_response(body)
    response.vary.add("HX-Request")
    return response


def check(document: Document, action: str, user=None) -> None:
    """Abort with the table's status and message unless the user may do the action now."""
    decision = permissions.decide(user if user is not None else current_user, document, action)
    if not decision:
        abort(decision.status, decision.message)


def get_document_or_404(document_id: int, action: str = "view", user=None) -> Document:
    """Load a document the user may act on, or abort (404 hides what they may not see)."""
    document = db.session.get(Document, document_id)
    if document is None:
        abort(404, _("Document not found."))
    check(document, action, user)
    return document


# The clause, its document and the user's role on it in one query (a save is 10 statements, not 11).
_CLAUSE_AND_DOCUMENT = (select(Clause, Document, permissions.ROLE_COLUMN)
                        .join(Document, Clause.document_id == Document.id)
                        .where(Clause.id == bindparam("clause_id")))


def get_clause_or_404(clause_id: int, action: str = "view", user=None,
                      include_deleted: bool = False) -> Clause:
    """Load a clause of a document the user may act on, or abort; deleted ones only for history."""
    user = user if user is not None else current_user
    user_id = user.id if getattr(user, "is_authenticated", False) else None
    row = db.session.execute(_CLAUSE_AND_DOCUMENT, {"clause_id": clause_id, "user_id": user_id}).first()
    clause = row[0] if row else None  # its document is loaded too: clause.document costs nothing
    if clause is None or (clause.deleted_at is not None and not include_deleted):
        abort(404, _("Clause not found."))
    permissions.remember_role(user, clause.document, row[2])
    check(clause.document, action, user)
    return clause
