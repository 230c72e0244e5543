"""History panels, diffs, restores, named versions and their comparison (pages and htmx fragments)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from ..clauses.routes import clause_fragment
from ..documents.operations import DocumentError
from ..extensions import db
from ..text.diffing import diff_html, diff_side_by_side
from ..views import get_clause_or_404, get_document_or_404, is_htmx, vary_on_htmx
from .operations import (
    compare,
    create_snapshot,
    current_side,
    diff_versions,
    get_snapshot,
    mark_all_seen,
    restore_revision,
    revisions_of,
    snapshot_side,
    snapshots_of,
)

bp = Blueprint("history", __name__)


def diff_context(clause, from_version, to_version, view: str) -> dict:
    """Everything a diff fragment shows: both versions, inline and side-by-side renderings."""
    result = diff_versions(clause, from_version, to_version)
    left, right = diff_side_by_side(result.ops)
    return {"diff": result, "inline": Markup(diff_html(result.ops)), "left": Markup(left),
            "right": Markup(right), "view": "side" if view == "side" else "inline"}


@bp.get("/clauses/<int:clause_id>/history")
@login_required
def history(clause_id: int):
    clause = get_clause_or_404(clause_id, include_deleted=True)
    revisions = revisions_of(clause)
    context = {"clause": clause, "document": clause.document, "revisions": revisions}
    if len(revisions) > 1:
        context.update(diff_context(clause, revisions[-2].version, revisions[-1].version, "inline"))
    template = "history/_panel.html" if is_htmx() else "history/clause_page.html"
    return vary_on_htmx(render_template(template, **context))


@bp.get("/clauses/<int:clause_id>/diff")
@login_required
def diff(clause_id: int):
    clause = get_clause_or_404(clause_id, include_deleted=True)
    context = {"clause": clause, "document": clause.document,
               **diff_context(clause, request.args.get("from"), request.args.get("to"),
                              request.args.get("view", "inline"))}
    if is_htmx():
        return vary_on_htmx(render_template("history/_diff.html", **context))
    return vary_on_htmx(render_template("history/clause_page.html", revisions=revisions_of(clause), **context))


@bp.post("/clauses/<int:clause_id>/restore")
@login_required
def restore(clause_id: int):
    clause = get_clause_or_404(clause_id, "edit_clause")
    version = request.form.get("version", "")
    result = restore_revision(clause, current_user, version)
    db.session.commit()
    status = (_("Restored version %(old)s as version %(new)s.", old=version, new=clause.version) if result.changed
              else _("Version %(version)s says the same as the current text; nothing to restore.", version=version))
    if not is_htmx():
        return redirect(url_for("documents.page", document_id=clause.document_id) + f"#clause-{clause.id}")
    return clause_fragment(clause, status)


@bp.get("/documents/<int:document_id>/versions")
@login_required
def versions(document_id: int):
    document = get_document_or_404(document_id)
    return render_template("history/versions.html", document=document, snapshots=snapshots_of(document))


@bp.post("/documents/<int:document_id>/versions")
@login_required
def take_snapshot(document_id: int):
    document = get_document_or_404(document_id, "snapshot")
    try:
        snapshot = create_snapshot(document, current_user, request.form.get("name"))
    except DocumentError as error:
        db.session.rollback()
        return render_template("history/versions.html", document=document, snapshots=snapshots_of(document),
                               error=error.message, name=request.form.get("name", "")), error.status
    db.session.commit()
    return redirect(url_for("history.versions", document_id=document.id, taken=snapshot.id))


@bp.get("/documents/<int:document_id>/compare")
@login_required
def compare_versions(document_id: int):
    document = get_document_or_404(document_id)
    old = snapshot_side(get_snapshot(document, request.args.get("from")))
    target = request.args.get("to", "current")
    new = current_side(document) if target == "current" else snapshot_side(get_snapshot(document, target))
    result = compare(old, new)
    rendered = {e.clause_id: Markup(diff_html(e.ops)) for e in result.changed}
    return render_template("history/compare.html", document=document, result=result, rendered=rendered,
                           snapshots=snapshots_of(document))


@bp.post("/documents/<int:document_id>/seen")
@login_required
def mark_seen(document_id: int):
    document = get_document_or_404(document_id)
    mark_all_seen(document, current_user)
    db.session.commit()
    return redirect(url_for("documents.page", document_id=document.id))


