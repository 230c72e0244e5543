"""Clause fragments: show, edit, save, add, delete, restore, move and reorder (htmx, with full-page fallbacks)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from markupsafe import Markup

from ..consultation.queries import open_items
from ..documents.operations import labels_by_id, numbered_clauses
from ..extensions import db
from ..models import Clause
from ..models.base import parse_int
from ..text import offload
from ..text.clauses import TextError
from ..text.conflict import conflict_view
from ..text.diffing import diff_html
from ..views import get_clause_or_404, get_document_or_404, is_htmx, vary_on_htmx
from .operations import (
    ClauseConflict,
    closed_at_deletion,
    conflicting_authors,
    create_clause,
    delete_clause,
    deleted_clause_count,
    deleted_clauses,
    merged_with,
    move_clause,
    reorder_clauses,
    restore_clause,
    save_clause,
)

bp = Blueprint("clauses", __name__)




def kind_fields(form) -> dict:
    """The kind and action fields a clause form sent (only those it sent: the rest stays as is)."""
    fields: dict = {}
    if "kind" in form:
        fields["kind"] = form.get("kind")
    if form.get("action_fields"):
        fields["action"] = {"responsible": form.getlist("responsible"), "start": form.get("start") or None,
                            "end": form.get("end") or None, "funding": form.get("funding", ""),
                            "indicators": form.get("indicators", "")}
    return fields


def _form_action(form, fallback):
    """What an action form showed, to show it again after a refusal."""
    fields = kind_fields(form)
    if "action" not in fields:
        return fallback
    action = fields["action"]
    return {**action, "funding": action["funding"].splitlines(), "indicators": action["indicators"].splitlines()}


def clause_fragment(clause: Clause, status: str | None = None, code: int = 200, merged_diff=None):
    html = render_template("clauses/_clause.html", clause=clause, number=clause.number,
                           document=clause.document, clause_status=status, merged_diff=merged_diff)
    return html, code


def _clause_list(document, focus: int | None = None, status: str | None = None, *,
                 focus_control: str | None = None, undo: dict | None = None, announce: str | None = None):
    """Render the list; `focus` names the clause whose `focus_control` ("up", "down", "first")
    takes the keyboard focus; `undo` offers to restore the clause just deleted, in its place."""
    numbered = numbered_clauses(document)
    if undo is not None and focus is None and numbered:
        # The clause that took the deleted one's place, or the new last one.
        focus, focus_control = numbered[min(undo["number"], len(numbered)) - 1][1].id, "first"
    return render_template("documents/_clauses.html", document=document, numbered=numbered, focus=focus,
                           labels=labels_by_id([c for _, c in numbered]),
                           status=status, focus_control=focus_control, undo=undo, announce=announce)


@bp.app_template_global("deleted_clause_count")
def deleted_clause_count_of(document) -> int:
    """How many clauses of the document are deleted, for the list's "Deleted clauses" section."""
    return deleted_clause_count(document)


def _back_to(clause_or_document, anchor: int | None = None):
    document = getattr(clause_or_document, "document", clause_or_document)
    target = url_for("documents.page", document_id=document.id)
    return redirect(f"{target}#clause-{anchor}" if anchor else target)


def _form_int(name: str) -> int | None:
    value = request.form.get(name, "")
    return parse_int(value)


@bp.get("/clauses/<int:clause_id>")
@login_required
def show(clause_id: int):
    clause = get_clause_or_404(clause_id)
    if not is_htmx():
        return _back_to(clause, clause.id)
    return vary_on_htmx(clause_fragment(clause)[0])


@bp.get("/clauses/<int:clause_id>/edit")
@login_required
def edit(clause_id: int):
    clause = get_clause_or_404(clause_id, "edit_clause")
    context = {"clause": clause, "number": clause.number, "document": clause.document,
               "text": clause.text, "heading": clause.heading, "base_version": clause.version,
               "kind": clause.kind, "action": clause.action}
    template = "clauses/_edit.html" if is_htmx() else "clauses/edit_page.html"
    return vary_on_htmx(render_template(template, **context))


@bp.post("/clauses/<int:clause_id>")
@login_required
def save(clause_id: int):
    clause = get_clause_or_404(clause_id, "edit_clause")
    text, heading = request.form.get("text", ""), request.form.get("heading", "")
    base_version = _form_int("base_version")
    try:
        result = save_clause(clause, current_user, text, base_version, heading=heading, **kind_fields(request.form))
    except TextError as error:
        db.session.rollback()
        template = "clauses/_edit.html" if is_htmx() else "clauses/edit_page.html"
        return render_template(template, clause=clause, number=clause.number,
                               document=clause.document, text=text, heading=heading,
                               kind=request.form.get("kind") or clause.kind,
                               action=_form_action(request.form, clause.action),
                               base_version=base_version, error=error.message), error.status
    except ClauseConflict as conflict:
        db.session.rollback()
        clause = db.session.get(Clause, clause_id)
        # The version both started from (unknown only when a save lost every compare-and-swap: then theirs).
        base = ((conflict.base_version, conflict.base_text, conflict.base_heading) if conflict.base_text is not None
                else (clause.version, clause.text, clause.heading))
        view = conflict_view(base[1], conflict.yours, clause.text, base[2], conflict.yours_heading, clause.heading)
        return render_template("clauses/_conflict.html", clause=clause, number=clause.number,
                               document=clause.document, yours=conflict.yours,
                               yours_heading=conflict.yours_heading, view=view, base_version=base[0],
                               base_text=base[1], base_heading=base[2], full_page=not is_htmx(),
                               yours_kind=conflict.yours_kind, yours_action=conflict.yours_action,
                               base_kind=conflict.base_kind, base_action=conflict.base_action,
                               authors=conflicting_authors(clause, conflict.base_version, conflict.yours)), 409
    db.session.commit()
    if not is_htmx():
        return _back_to(clause, clause.id)
    merged_diff = None
    if result.merged:
        # Show what the others changed meanwhile, so the merge is never a surprise.
        merged_diff = Markup(diff_html(offload.diff(result.base_text, result.theirs_text)))
    if not result.changed:
        status = _("No changes to save.")
    elif result.merged:
        status = _("Merged: %(names)s saved a newer version while you were editing; both changes are kept, saved as "
                   "version %(version)s.", names=merged_with(clause, base_version, current_user), version=clause.version)
    else:
        status = _("Saved as version %(version)s.", version=clause.version)
    return clause_fragment(clause, status, merged_diff=merged_diff)


@bp.get("/documents/<int:document_id>/clauses/new")
@login_required
def new(document_id: int):
    document = get_document_or_404(document_id, "edit_clause")
    after = request.args.get("after", type=int)
    template = "clauses/_new.html" if is_htmx() else "clauses/new_page.html"
    return vary_on_htmx(render_template(template, document=document, after=after, text="", heading=""))


@bp.post("/documents/<int:document_id>/clauses")
@login_required
def create(document_id: int):
    document = get_document_or_404(document_id, "edit_clause")
    after_id = _form_int("after")
    after = db.session.get(Clause, after_id) if after_id else None
    if after is not None and (after.document_id != document.id or after.deleted_at):
        abort(404, _("Clause not found."))
    try:
        clause = create_clause(document, current_user, request.form.get("text", ""),
                               request.form.get("heading", ""), after, **kind_fields(request.form))
    except TextError as error:
        db.session.rollback()
        template = "clauses/_new.html" if is_htmx() else "clauses/new_page.html"
        html = render_template(template, document=document, after=after_id, error=error.message,
                               kind=request.form.get("kind"), action=_form_action(request.form, None),
                               text=request.form.get("text", ""), heading=request.form.get("heading", ""))
        headers = {"HX-Retarget": "#new-clause-form", "HX-Reswap": "outerHTML"} if is_htmx() else {}
        return html, error.status, headers
    db.session.commit()
    if not is_htmx():
        return _back_to(document, clause.id)
    return _clause_list(document, focus=clause.id, status=_("Clause %(number)s added.", number=clause.number))


@bp.route("/clauses/<int:clause_id>/delete", methods=["GET", "POST"])
@login_required
def delete(clause_id: int):
    clause = get_clause_or_404(clause_id, "edit_clause")
    if request.method == "GET":
        threads, amendments = open_items(clause)
        return render_template("clauses/delete_page.html", clause=clause, number=clause.number,
                               document=clause.document, open_threads=threads, open_amendments=amendments)
    document, number, heading = clause.document, clause.number, clause.heading
    threads, amendments = open_items(clause)
    delete_clause(clause, current_user)
    db.session.commit()
    if not is_htmx():
        return _back_to(document)
    note = closed_items_note(threads, amendments)
    said = (_("Clause %(number)s (%(heading)s) deleted.", number=number, heading=heading) if heading
            else _("Clause %(number)s deleted.", number=number))
    undo = {"clause": clause, "number": number, "heading": heading, "note": note}
    return _clause_list(document, undo=undo, announce=f"{said}{note} " + _("Undo"))


def closed_items_note(threads: int, amendments: int) -> str:
    """Say what deleting a clause closed (" 2 open threads and 1 open amendment were closed.")."""
    if threads and amendments:
        note = _("%(threads)s and %(amendments)s were closed; they stay in the report.",
                 threads=ngettext("%(num)s open thread", "%(num)s open threads", threads),
                 amendments=ngettext("%(num)s open amendment", "%(num)s open amendments", amendments))
    elif threads:
        note = ngettext("%(num)s open thread was closed; they stay in the report.",
                        "%(num)s open threads were closed; they stay in the report.", threads)
    elif amendments:
        note = ngettext("%(num)s open amendment was closed; they stay in the report.",
                        "%(num)s open amendments were closed; they stay in the report.", amendments)
    else:
        return ""
    return f" {note}"


@bp.get("/documents/<int:document_id>/deleted-clauses")
@login_required
def deleted(document_id: int):
    document = get_document_or_404(document_id)
    context = {"document": document, "deleted": deleted_clauses(document), "in_list": is_htmx()}
    template = "clauses/_deleted_list.html" if is_htmx() else "clauses/deleted_page.html"
    return vary_on_htmx(render_template(template, **context))


@bp.post("/clauses/<int:clause_id>/undelete")
@login_required
def undelete(clause_id: int):
    clause = get_clause_or_404(clause_id, "edit_clause", include_deleted=True)
    threads, amendments = closed_at_deletion(clause) if clause.deleted_at is not None else (0, 0)
    try:
        restore_clause(clause, current_user)
    except TextError as error:
        db.session.rollback()
        if not is_htmx():
            abort(error.status, error.message)
        return _clause_list(clause.document, status=error.message), error.status
    db.session.commit()
    if not is_htmx():
        return _back_to(clause, clause.id)
    status = _("Clause %(number)s restored with its history.", number=clause.number) + reopened_items_note(
        threads, amendments)
    return _clause_list(clause.document, focus=clause.id, focus_control="first", status=status, announce=status)


def reopened_items_note(threads: int, amendments: int) -> str:
    """Say what restoring a clause reopened (" 2 threads and 1 amendment closed at its deletion are open again.")."""
    if threads and amendments:
        note = _("%(threads)s and %(amendments)s closed at its deletion are open again.",
                 threads=ngettext("%(num)s thread", "%(num)s threads", threads),
                 amendments=ngettext("%(num)s amendment", "%(num)s amendments", amendments))
    elif threads:
        note = ngettext("%(num)s thread closed at its deletion is open again.",
                        "%(num)s threads closed at its deletion are open again.", threads)
    elif amendments:
        note = ngettext("%(num)s amendment closed at its deletion is open again.",
                        "%(num)s amendments closed at its deletion are open again.", amendments)
    else:
        return ""
    return f" {note}"


@bp.post("/clauses/<int:clause_id>/move")
@login_required
def move(clause_id: int):
    clause = get_clause_or_404(clause_id, "edit_clause")
    direction = request.form.get("direction", "")
    move_clause(clause, current_user, direction)
    db.session.commit()
    if not is_htmx():
        return _back_to(clause, clause.id)
    status = (_("Clause moved up to number %(number)s.", number=clause.number) if direction == "up"
              else _("Clause moved down to number %(number)s.", number=clause.number))
    return _clause_list(clause.document, focus=clause.id, focus_control=direction, status=status)


@bp.post("/documents/<int:document_id>/order")
@login_required
def reorder(document_id: int):
    document = get_document_or_404(document_id, "edit_clause")
    raw = request.form.getlist("order")
    ids = [parse_int(value) for value in raw]
    if None in ids:
        abort(422, _("The new order must be a list of clause ids."))
    reorder_clauses(document, current_user, ids)
    db.session.commit()
    if not is_htmx():
        return _back_to(document)
    return _clause_list(document, status=_("Clause order saved."))
