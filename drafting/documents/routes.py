"""The document list and the document page."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import live, permissions
from ..extensions import db
from ..history.operations import changed_since, record_visit
from ..models.base import parse_int
from ..views import get_document_or_404, is_htmx, vary_on_htmx
from .operations import (
    DocumentError,
    action_timeline,
    create_document,
    document_hash,
    labels_by_id,
    numbered_clauses,
    visible_documents,
)

bp = Blueprint("documents", __name__)


@bp.get("/")
def home():
    return redirect(url_for("documents.index"))


@bp.get("/documents")
@login_required
def index():
    documents = visible_documents(current_user)
    return render_template("documents/index.html", documents=documents,
                           may_create=permissions.may_create_documents(current_user))


@bp.post("/documents")
@login_required
def create():
    if not permissions.may_create_documents(current_user):
        abort(403, _("Only the secretariat creates documents."))
    try:
        document = create_document(current_user, request.form.get("title"), request.form.get("kind"),
                                   request.form.get("language") or ...)
    except DocumentError as error:
        documents = visible_documents(current_user)
        return render_template("documents/index.html", documents=documents, may_create=True,
                               error=error.message, form=request.form), error.status
    db.session.commit()
    return redirect(url_for("documents.page", document_id=document.id))


@bp.get("/documents/<int:document_id>")
@login_required
def page(document_id: int):
    document = get_document_or_404(document_id)
    if is_htmx() and request.args.get("fragment") == "clauses":
        return vary_on_htmx(render_template("documents/_clauses.html", document=document,
                                            numbered=numbered_clauses(document),
                                            labels=labels_by_id(document.clauses)))
    visit = record_visit(document, current_user)
    seen_at = visit.seen_at
    db.session.commit()  # first: a commit expires what was loaded, and the clauses are many
    numbered = numbered_clauses(document)
    changed = changed_since(document, current_user, seen_at)
    return vary_on_htmx(render_template("documents/page.html", document=document, numbered=numbered,
                                        labels=labels_by_id([c for _, c in numbered]),
                                        content_hash=document_hash(document), changed=changed, seen_at=seen_at,
                                        member_names=_member_names(document)))


def _member_names(document) -> dict[str, str]:
    """Who may change the document, by user id: live notices name the person ("Tereza saved ...")."""
    people = [m.user for m in document.memberships] + [current_user]
    return {str(user.id): f"{user.name}, {user.organisation.name}" if user.organisation else user.name
            for user in people}


@bp.get("/documents/<int:document_id>/changes")
@login_required
def changes(document_id: int):
    """The browser's catch-up feed after a reconnect (the API has the same under /api/v1)."""
    document = get_document_or_404(document_id)
    since = parse_int(request.args.get("since", "0"))
    if since is None:
        abort(422, _("since must be a non-negative integer."))
    return jsonify(live.changes_since(document, since))


@bp.get("/documents/<int:document_id>/timeline")
@login_required
def timeline(document_id: int):
    """A plan's actions per half-year, with the EU Council presidency of each; one cluster's only
    when `organisation` names a participating cluster (its id)."""
    document = get_document_or_404(document_id)
    participants = document.participants
    chosen = None
    raw = request.args.get("organisation", "")
    if raw:
        chosen = next((o for o in participants if str(o.id) == raw), None)
        if chosen is None:
            abort(404, _("That organisation does not take part in this document."))
    return render_template("documents/timeline.html", document=document, participants=participants,
                           chosen=chosen, rows=action_timeline(document, chosen.name if chosen else None))
