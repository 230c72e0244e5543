"""Consultation pages and fragments: threads, comments, amendments, contributions, the summary,
the report and notifications (htmx, with full-page fallbacks)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from markupsafe import Markup

from ..auth.routes import safe_next
from ..clauses.operations import ClauseConflict, revision_text
from ..documents.operations import labels_by_id
from ..extensions import db
from ..i18n import when
from ..models import Clause, Notification
from ..models.base import parse_int, parse_local_moment, utcnow
from ..models.consultation import TOPICS
from ..text import offload
from ..text.clauses import TextError
from ..text.diffing import diff_html
from ..text.sanitise import clean_html, editable_text
from ..views import get_clause_or_404, get_document_or_404, is_htmx, vary_on_htmx
from . import queries
from .loaders import get_amendment_or_404, get_comment_or_404, get_contribution_or_404, get_thread_or_404
from .operations import (
    KINDS,
    MAX_BOTTLENECKS,
    ConsultationError,
    accept_amendment,
    add_comment,
    already_decided,
    bottlenecks_left,
    delete_comment,
    edit_comment,
    edit_contribution,
    link_contribution,
    mark_read,
    open_thread,
    propose_amendment,
    reject_amendment,
    reopen_thread,
    resolve_thread,
    set_contributions_deadline,
    submit_contribution,
    unknown_mentions_status,
    withdraw_amendment,
    withdraw_contribution,
)
from .report import build_report, report_csv, report_markdown

bp = Blueprint("consultation", __name__)

# ---- template helpers ------------------------------------------------------------------------


@bp.app_template_filter("rich")
def rich(html: str | None) -> Markup:
    """Render stored rich text: sanitised again on the way out, then trusted."""
    return Markup(clean_html(html or ""))


@bp.app_context_processor
def consultation_helpers():
    def unread_notifications() -> int:
        return queries.unread_count(current_user) if current_user.is_authenticated else 0

    def consultation_panel(document, organisation_id=None):
        return {"threads": queries.open_threads(document, organisation_id),
                "organisations": queries.discussing_organisations(document),
                "organisation_id": organisation_id}

    return {"clause_consultation": queries.clause_consultation, "consultation_panel": consultation_panel,
            "discussion_loads_on_demand": queries.discussion_loads_on_demand,
            "countdown": queries.countdown, "consultation_closed": queries.consultation_closed,
            "unread_notifications": unread_notifications,
            "topic_labels": queries.TOPIC_LABELS, "kind_labels": queries.KIND_LABELS,
            "disposition_labels": queries.DISPOSITION_DISPLAY, "editable_text": editable_text}


# ---- answering an action on a clause's discussion ----------------------------------------------

def _page_url(clause: Clause, anchor: str | None = None) -> str:
    return url_for("documents.page", document_id=clause.document_id) + (f"#{anchor}" if anchor else "")


def _section(clause: Clause, **consult) -> str:
    consult.setdefault("expanded", True)
    return render_template("consultation/_clause_tools.html", clause=clause, number=clause.number,
                           document=clause.document, consult=consult)


def _answer(clause: Clause, anchor: str | None = None, code: int = 200, *, flash_status: bool = False,
            **consult):
    """Answer with the clause's discussion (htmx), the form page (an error without htmx) or a redirect
    (with `flash_status`, the page it leads to shows the status too)."""
    if is_htmx():
        return _section(clause, **consult), code
    if consult.get("form") or consult.get("error"):
        return render_template("consultation/form_page.html", clause=clause, number=clause.number,
                               document=clause.document, consult=consult), code
    if flash_status and consult.get("status"):
        flash(consult["status"], "ok")  # the page it leads to must say so too
    return redirect(_page_url(clause, anchor))


def _posted(status: str, document, html: str) -> dict:
    """A saved comment's status, saying which of its "@Word"s notified nobody (then shown after a
    redirect too)."""
    unknown = unknown_mentions_status(document, html)
    return {"status": f"{status} {unknown}" if unknown else status, "flash_status": bool(unknown)}


def _failed(error: TextError, clause: Clause, form: dict | None = None):
    """Answer a refused action: the form again with its message and what was typed, or the message."""
    db.session.rollback()
    if error.status in (403, 404):
        abort(error.status, error.message)
    if form is None or error.status == 409:
        return _answer(clause, code=error.status, error=error.message)
    return _answer(clause, code=error.status, form={**form, "error": error.message})


def _form_fragment(clause: Clause, form: dict):
    """Show a form alone (into its slot) or on a page of its own without JavaScript."""
    context = {"clause": clause, "number": clause.number, "document": clause.document,
               "consult": {"form": form}, "form": form}
    if is_htmx():
        return vary_on_htmx(render_template(f"consultation/_{form['kind']}_form.html", **context))
    return vary_on_htmx(render_template("consultation/form_page.html", **context))


# ---- a clause's discussion ----------------------------------------------------------------------

@bp.get("/clauses/<int:clause_id>/consultation")
@login_required
def clause_tools(clause_id: int):
    clause = get_clause_or_404(clause_id)
    if not is_htmx():
        return redirect(_page_url(clause, f"consult-{clause.id}"))
    return vary_on_htmx(_section(clause, expanded=request.args.get("expanded") == "1"))


@bp.get("/clauses/<int:clause_id>/threads/new")
@login_required
def new_thread(clause_id: int):
    clause = get_clause_or_404(clause_id, "comment")
    return _form_fragment(clause, {"kind": "thread", "quote": request.args.get("quote", "")[:2000], "body": ""})


@bp.post("/clauses/<int:clause_id>/threads")
@login_required
def create_thread(clause_id: int):
    clause = get_clause_or_404(clause_id, "comment")
    body, quote = request.form.get("body", ""), request.form.get("quote", "")
    try:
        thread = open_thread(clause, current_user, body, quote)
    except TextError as error:
        return _failed(error, clause, {"kind": "thread", "body": body, "quote": quote})
    db.session.commit()
    return _answer(clause, f"thread-{thread.id}", focus=f"thread-{thread.id}",
                   **_posted(_("Comment posted."), clause.document, thread.comments[0].body))


@bp.get("/threads/<int:thread_id>/reply")
@login_required
def reply_form(thread_id: int):
    thread = get_thread_or_404(thread_id, "reply")
    return _form_fragment(thread.clause, {"kind": "reply", "id": thread.id, "thread": thread, "body": ""})


@bp.post("/threads/<int:thread_id>/comments")
@login_required
def reply(thread_id: int):
    thread = get_thread_or_404(thread_id, "reply")
    body = request.form.get("body", "")
    try:
        comment = add_comment(thread, current_user, body)
    except TextError as error:
        return _failed(error, thread.clause, {"kind": "reply", "id": thread.id, "thread": thread, "body": body})
    db.session.commit()
    return _answer(thread.clause, f"comment-{comment.id}", focus=f"comment-{comment.id}",
                   **_posted(_("Reply posted."), thread.clause.document, comment.body))


@bp.get("/comments/<int:comment_id>")
@login_required
def comment(comment_id: int):
    comment = get_comment_or_404(comment_id)
    if not is_htmx():
        return redirect(_page_url(comment.thread.clause, f"comment-{comment.id}"))
    return vary_on_htmx(render_template("consultation/_comment.html", comment=comment, thread=comment.thread,
                                        clause=comment.thread.clause, document=comment.thread.clause.document))


@bp.get("/comments/<int:comment_id>/edit")
@login_required
def edit_comment_form(comment_id: int):
    comment = get_comment_or_404(comment_id, "edit_comment")
    if comment.author_id != current_user.id:
        abort(403, _("You can edit and delete only your own comments."))
    return _form_fragment(comment.thread.clause, {"kind": "comment", "id": comment.id, "comment": comment,
                                                  "body": editable_text(comment.body)})


@bp.post("/comments/<int:comment_id>")
@login_required
def update_comment(comment_id: int):
    comment = get_comment_or_404(comment_id, "edit_comment")
    body = request.form.get("body", "")
    clause = comment.thread.clause
    try:
        edit_comment(comment, current_user, body)
    except TextError as error:
        return _failed(error, clause, {"kind": "comment", "id": comment.id, "comment": comment, "body": body})
    db.session.commit()
    return _answer(clause, f"comment-{comment.id}", focus=f"comment-{comment.id}",
                   **_posted(_("Comment saved."), clause.document, comment.body))


@bp.post("/comments/<int:comment_id>/delete")
@login_required
def remove_comment(comment_id: int):
    comment = get_comment_or_404(comment_id, "edit_comment")
    clause, thread_id = comment.thread.clause, comment.thread_id
    try:
        thread_gone = delete_comment(comment, current_user)
    except TextError as error:
        return _failed(error, clause)
    db.session.commit()
    status = _("Comment deleted; its thread had no other comments and is gone.") if thread_gone else _("Comment deleted.")
    return _answer(clause, None if thread_gone else f"thread-{thread_id}", status=status)


@bp.get("/threads/<int:thread_id>/resolve")
@login_required
def resolve_form(thread_id: int):
    """The resolve form alone (without JavaScript: on a page of its own)."""
    thread = get_thread_or_404(thread_id, "resolve_thread")
    return _form_fragment(thread.clause, {"kind": "resolve", "id": thread.id, "thread": thread,
                                          "disposition": "accepted", "reason": ""})


@bp.post("/threads/<int:thread_id>/resolve")
@login_required
def resolve(thread_id: int):
    thread = get_thread_or_404(thread_id, "resolve_thread")
    disposition, reason = request.form.get("disposition", ""), request.form.get("reason", "")
    try:
        resolve_thread(thread, current_user, disposition, reason)
    except TextError as error:
        return _failed(error, thread.clause, {"kind": "resolve", "id": thread.id, "thread": thread,
                                              "disposition": disposition, "reason": reason})
    db.session.commit()
    return _answer(thread.clause, f"thread-{thread.id}", status=_("Thread resolved."), focus=f"thread-{thread.id}")


@bp.post("/threads/<int:thread_id>/reopen")
@login_required
def reopen(thread_id: int):
    thread = get_thread_or_404(thread_id, "resolve_thread")
    try:
        reopen_thread(thread, current_user)
    except TextError as error:
        return _failed(error, thread.clause)
    db.session.commit()
    return _answer(thread.clause, f"thread-{thread.id}", status=_("Thread reopened."), focus=f"thread-{thread.id}")


@bp.get("/threads/<int:thread_id>/changes")
@login_required
def thread_changes(thread_id: int):
    thread = get_thread_or_404(thread_id)

    old = revision_text(thread.clause, thread.clause_version)
    context = {"thread": thread, "clause": thread.clause, "document": thread.clause.document,
               "number": thread.clause.number,
               "diff": Markup(diff_html(offload.diff(old.text, thread.clause.text)))}
    template = "consultation/_thread_changes.html" if is_htmx() else "consultation/changes_page.html"
    return vary_on_htmx(render_template(template, **context))


# ---- amendments -------------------------------------------------------------------------------

@bp.get("/clauses/<int:clause_id>/amendments/new")
@login_required
def new_amendment(clause_id: int):
    clause = get_clause_or_404(clause_id, "propose_amendment")
    return _form_fragment(clause, {"kind": "amendment", "text": clause.text, "rationale": "",
                                   "base_version": clause.version})


@bp.post("/clauses/<int:clause_id>/amendments")
@login_required
def create_amendment(clause_id: int):
    clause = get_clause_or_404(clause_id, "propose_amendment")
    text, rationale = request.form.get("text", ""), request.form.get("rationale", "")
    base_version = request.form.get("base_version", type=int)
    try:
        amendment = propose_amendment(clause, current_user, text, rationale, base_version)
    except TextError as error:
        return _failed(error, clause, {"kind": "amendment", "text": text, "rationale": rationale,
                                       "base_version": base_version or clause.version})
    db.session.commit()
    return _answer(clause, f"amendment-{amendment.id}", status=_("Amendment proposed."),
                   focus=f"amendment-{amendment.id}")


def _still_open(amendment) -> None:
    if amendment.status != "open":
        abort(409, already_decided(amendment.status))


@bp.get("/amendments/<int:amendment_id>/accept")
@login_required
def accept_form(amendment_id: int):
    amendment = get_amendment_or_404(amendment_id, "decide_amendment")
    _still_open(amendment)
    view = queries.amendment_view(amendment, amendment.clause)
    conflict = view.conflicts
    return _form_fragment(amendment.clause, {
        "kind": "accept", "id": amendment.id, "amendment": amendment, "text": amendment.text,
        "conflict": conflict,
        "base_version": amendment.clause.version if conflict else amendment.base_version})


def _clause_item(clause: Clause, code: int = 200, status: str | None = None, **consult):
    """Render the whole clause (its text changed), with the discussion in the given state."""
    html = render_template("clauses/_clause.html", clause=clause, number=clause.number,
                           document=clause.document, clause_status=status, consult={"expanded": True, **consult})
    return html, code


@bp.post("/amendments/<int:amendment_id>/accept")
@login_required
def accept(amendment_id: int):
    amendment = get_amendment_or_404(amendment_id, "decide_amendment")
    clause, text = amendment.clause, request.form.get("text")
    base_version = request.form.get("base_version", type=int)
    form = {"kind": "accept", "id": amendment.id, "amendment": amendment, "text": text or amendment.text,
            "base_version": base_version or amendment.base_version}
    try:
        result = accept_amendment(amendment, current_user, text, base_version)
    except ClauseConflict as conflict:
        db.session.rollback()
        clause = db.session.get(Clause, clause.id)
        form.update(text=conflict.yours, base_version=clause.version, conflict=True)
        return _accept_answer(clause, 409, form=form)
    except TextError as error:
        db.session.rollback()
        if error.status in (403, 404):
            abort(error.status, error.message)
        return _accept_answer(clause, error.status, **({"error": error.message} if error.status == 409
                                                      else {"form": {**form, "error": error.message}}))
    db.session.commit()
    status = _accepted_status(result, clause.version, amendment.author.name)
    if not is_htmx():
        flash(status, "ok")
        return redirect(_page_url(clause, f"clause-{clause.id}"))
    return _clause_item(clause, status=status)


def _accepted_status(result, version: int, author: str) -> str:
    """What accepting an amendment did, in one sentence."""
    if not result.save.changed:
        return _("Amendment accepted; the clause already had this text.")
    if result.with_changes and result.save.merged:
        return _("Amendment accepted with your changes as version %(version)s (merged with the changes made "
                 "since it was proposed), credited to %(author)s.", version=version, author=author)
    if result.with_changes:
        return _("Amendment accepted with your changes as version %(version)s, credited to %(author)s.",
                 version=version, author=author)
    if result.save.merged:
        return _("Amendment accepted as version %(version)s (merged with the changes made since it was "
                 "proposed), credited to %(author)s.", version=version, author=author)
    return _("Amendment accepted as version %(version)s, credited to %(author)s.", version=version, author=author)


def _accept_answer(clause: Clause, code: int, **consult):
    if is_htmx():
        return _clause_item(clause, code, **consult)
    return render_template("consultation/form_page.html", clause=clause, number=clause.number,
                           document=clause.document, consult=consult), code


@bp.get("/amendments/<int:amendment_id>/reject")
@login_required
def reject_form(amendment_id: int):
    amendment = get_amendment_or_404(amendment_id, "decide_amendment")
    _still_open(amendment)
    return _form_fragment(amendment.clause, {"kind": "reject", "id": amendment.id, "amendment": amendment,
                                             "reason": ""})


@bp.post("/amendments/<int:amendment_id>/reject")
@login_required
def reject(amendment_id: int):
    amendment = get_amendment_or_404(amendment_id, "decide_amendment")
    reason = request.form.get("reason", "")
    try:
        reject_amendment(amendment, current_user, reason)
    except TextError as error:
        return _failed(error, amendment.clause, {"kind": "reject", "id": amendment.id, "amendment": amendment,
                                                 "reason": reason})
    db.session.commit()
    return _answer(amendment.clause, f"amendment-{amendment.id}", status=_("Amendment rejected; the reason is recorded."),
                   focus=f"amendment-{amendment.id}")


@bp.post("/amendments/<int:amendment_id>/withdraw")
@login_required
def withdraw(amendment_id: int):
    amendment = get_amendment_or_404(amendment_id, "withdraw_amendment")
    try:
        withdraw_amendment(amendment, current_user)
    except TextError as error:
        return _failed(error, amendment.clause)
    db.session.commit()
    return _answer(amendment.clause, f"amendment-{amendment.id}", status=_("Amendment withdrawn."),
                   focus=f"amendment-{amendment.id}")


# ---- the proposed changes, marked in the text ---------------------------------------------------

@bp.get("/documents/<int:document_id>/proposed-changes")
@login_required
def proposed_changes(document_id: int):
    """Every open amendment, in reading order, as a mark-up of its clause's current text: the
    document page's "Show proposed changes" mode (htmx) and a page of its own without JavaScript."""
    document = get_document_or_404(document_id)
    views, total = queries.open_amendments_in_order(document)
    # Each change names its clause as the page does ("Article 2.1", "Recital B"), not by position.
    labels = labels_by_id(document.clauses)
    template = "consultation/_proposed.html" if is_htmx() else "consultation/proposed_page.html"
    return vary_on_htmx(render_template(template, document=document, views=views, total=total, labels=labels))


# ---- the document's open threads ------------------------------------------------------------

@bp.get("/documents/<int:document_id>/threads")
@login_required
def threads(document_id: int):
    document = get_document_or_404(document_id)
    organisation_id = _filter_id(request.args.get("organisation"))
    template = "consultation/_open_threads.html" if is_htmx() else "consultation/threads_page.html"
    return vary_on_htmx(render_template(template, document=document, panel_org=organisation_id))


# ---- contributions ---------------------------------------------------------------------------

def _contribution_filters() -> dict:
    args = request.args
    return {"topic": args.get("topic") if args.get("topic") in TOPICS else None,
            "kind": args.get("kind") if args.get("kind") in KINDS else None,
            "organisation_id": _filter_id(args.get("organisation")), "clause_id": _filter_id(args.get("clause"))}


def _filter_id(raw: str | None) -> int | None:
    """An id to filter by: None when not given, 0 (matches nothing) when it is no id a row can have."""
    if raw is None or raw == "":
        return None
    value = parse_int(raw)
    return value if value is not None else 0


def _ids(values: list[str]) -> list[int]:
    """The ids in a form's repeated field; anything that is no id a row can have is left out."""
    return [v for v in (parse_int(raw) for raw in values) if v is not None]


def _contributions_page(document, form: dict | None = None, error: str | None = None, code: int = 200,
                        deadline_form: dict | None = None):
    filters = _contribution_filters()
    left = bottlenecks_left(document, current_user.organisation_id)
    return render_template(
        "consultation/contributions.html", document=document, filters=filters,
        contributions=queries.contributions(document, **filters),
        organisations=queries.contributing_organisations(document), form=form or {}, error=error,
        bottlenecks_left=left, max_bottlenecks=MAX_BOTTLENECKS, topics=TOPICS,
        closes_at=queries.contributions_close_at(document), deadline_form=deadline_form or {}), code


@bp.get("/documents/<int:document_id>/contributions")
@login_required
def contributions(document_id: int):
    document = get_document_or_404(document_id)
    return _contributions_page(document)


@bp.post("/documents/<int:document_id>/contributions")
@login_required
def submit(document_id: int):
    document = get_document_or_404(document_id, "contribute")
    form = request.form
    clause_ids = _ids(form.getlist("clause_ids"))
    try:
        contribution = submit_contribution(document, current_user, form.get("kind"), form.get("topic"),
                                           form.get("title", ""), form.get("body", ""),
                                           form.get("proposal", ""), clause_ids)
    except TextError as error:
        db.session.rollback()
        values = {**form.to_dict(), "clause_ids": clause_ids}
        return _contributions_page(document, values, error.message, error.status)
    db.session.commit()
    if contribution.kind == "bottleneck":
        flash(_("Thank you: your bottleneck “%(title)s” was submitted.", title=contribution.title), "ok")
    else:
        flash(_("Thank you: your best practice “%(title)s” was submitted.", title=contribution.title), "ok")
    return redirect(url_for("consultation.contributions", document_id=document.id) + f"#contribution-{contribution.id}")


def _contribution_values(form) -> dict:
    """The fields of a contribution form as typed (clause ids as numbers)."""
    return {"kind": form.get("kind"), "topic": form.get("topic"), "title": form.get("title", ""),
            "body": form.get("body", ""), "proposal": form.get("proposal", ""),
            "clause_ids": _ids(form.getlist("clause_ids"))}


def _contribution_form(contribution, document, form: dict, error: str | None = None, code: int = 200):
    """The edit form of one's contribution: in place of its card (htmx) or on a page of its own."""
    template = "consultation/_contribution_form.html" if is_htmx() else "consultation/contribution_edit.html"
    left = bottlenecks_left(document, contribution.organisation_id, besides=contribution)
    return vary_on_htmx(render_template(template, contribution=contribution, document=document, form=form,
                                        error=error, topics=TOPICS, bottlenecks_left=left)), code


def _own_contribution_or_403(contribution) -> None:
    if contribution.author_id != current_user.id:
        abort(403, _("Only the member who submitted a contribution can edit or withdraw it."))


@bp.get("/contributions/<int:contribution_id>/edit")
@login_required
def edit_contribution_form(contribution_id: int):
    contribution = get_contribution_or_404(contribution_id, "contribute")
    _own_contribution_or_403(contribution)
    document = get_document_or_404(contribution.document_id)
    form = {"kind": contribution.kind, "topic": contribution.topic, "title": contribution.title,
            "body": editable_text(contribution.body), "proposal": editable_text(contribution.proposal),
            "clause_ids": [c.id for c in contribution.clauses if c.deleted_at is None]}
    return _contribution_form(contribution, document, form)


@bp.post("/contributions/<int:contribution_id>")
@login_required
def update_contribution(contribution_id: int):
    contribution = get_contribution_or_404(contribution_id, "contribute")
    document = get_document_or_404(contribution.document_id)
    values = _contribution_values(request.form)
    try:
        edit_contribution(contribution, current_user, values)
    except TextError as error:
        db.session.rollback()
        if error.status in (403, 404):
            abort(error.status, error.message)
        return _contribution_form(contribution, document, values, error.message, error.status)
    db.session.commit()
    status = _("Your changes to “%(title)s” are saved.", title=contribution.title)
    if not is_htmx():
        flash(status, "ok")
        return redirect(url_for("consultation.contributions", document_id=document.id)
                        + f"#contribution-{contribution.id}")
    return render_template("consultation/_contribution.html", contribution=contribution, document=document,
                           status=status)


@bp.route("/contributions/<int:contribution_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw_contribution_(contribution_id: int):
    """Withdraw one's contribution; without JavaScript the GET asks for confirmation first."""
    contribution = get_contribution_or_404(contribution_id, "contribute")
    _own_contribution_or_403(contribution)
    document = get_document_or_404(contribution.document_id)
    if request.method == "GET":
        return render_template("consultation/contribution_withdraw.html", contribution=contribution,
                               document=document)
    withdraw_contribution(contribution, current_user)
    db.session.commit()
    status = _("Your contribution “%(title)s” was withdrawn.", title=contribution.title)
    if not is_htmx():
        flash(status, "ok")
        return redirect(url_for("consultation.contributions", document_id=document.id))
    return render_template("consultation/_contribution_withdrawn.html", contribution=contribution, status=status)


def _deadline_value(raw: str, zone: str | None):
    """The typed deadline (the person's local time, zone sent by the page) as naive UTC."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return parse_local_moment(raw, zone)
    except ValueError as error:
        raise ConsultationError(422, str(error), "deadline") from None


@bp.post("/documents/<int:document_id>/contributions/deadline")
@login_required
def contributions_deadline(document_id: int):
    """The secretariat sets or clears the moment contributions close (UTC)."""
    document = get_document_or_404(document_id, "manage")
    raw = "" if request.form.get("clear") else request.form.get("deadline", "")
    try:
        set_contributions_deadline(document, current_user, _deadline_value(raw, request.form.get("timezone")))
    except TextError as error:
        db.session.rollback()
        return _contributions_page(document, code=error.status,
                                   deadline_form={"deadline": raw, "error": error.message})
    db.session.commit()
    closes = document.contributions_deadline
    flash(_("Contributions now close at %(moment)s.", moment=when(closes)) if closes else
          _("The contributions deadline is cleared: contributions close with the consultation."), "ok")
    return redirect(url_for("consultation.contributions", document_id=document.id))


@bp.post("/contributions/<int:contribution_id>/clauses")
@login_required
def link(contribution_id: int):
    contribution = get_contribution_or_404(contribution_id, "link_contribution")
    clause_ids = _ids(request.form.getlist("clause_ids"))
    try:
        link_contribution(contribution, current_user, clause_ids)
    except TextError as error:
        db.session.rollback()
        if not is_htmx():
            abort(error.status, error.message)
        document = get_document_or_404(contribution.document_id)
        return render_template("consultation/_contribution.html", contribution=contribution, document=document,
                               error=error.message), error.status
    db.session.commit()
    count = len([c for c in contribution.clauses if c.deleted_at is None])
    status = (ngettext("Linked to %(num)s clause.", "Linked to %(num)s clauses.", count) if count
              else _("No clauses linked."))
    if not is_htmx():
        flash(status, "ok")
        return redirect(url_for("consultation.contributions", document_id=contribution.document_id)
                        + f"#contribution-{contribution.id}")
    document = get_document_or_404(contribution.document_id)
    return render_template("consultation/_contribution.html", contribution=contribution, document=document,
                           status=status)


# ---- the summary and the report -------------------------------------------------------------

@bp.get("/documents/<int:document_id>/summary")
@login_required
def summary(document_id: int):
    document = get_document_or_404(document_id)
    return render_template("consultation/summary.html", document=document, rows=queries.summary(document),
                           fields=queries.SUMMARY_FIELDS)


@bp.get("/documents/<int:document_id>/report")
@login_required
def report(document_id: int):
    document = get_document_or_404(document_id, "export")
    return render_template("consultation/report.html", document=document, report=build_report(document),
                           generated_at=utcnow())


def _download(body: str, mimetype: str, name: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/documents/<int:document_id>/report.md")
@login_required
def report_md(document_id: int):
    document = get_document_or_404(document_id, "export")
    body = report_markdown(build_report(document), utcnow())
    return _download(body, "text/markdown; charset=utf-8", f"consultation-report-{document.id}.md")


@bp.get("/documents/<int:document_id>/report.csv")
@login_required
def report_csv_(document_id: int):
    document = get_document_or_404(document_id, "export")
    # A byte-order mark, so spreadsheet programs read the UTF-8 names right.
    body = "\ufeff" + report_csv(build_report(document))
    return _download(body, "text/csv; charset=utf-8", f"consultation-report-{document.id}.csv")


# ---- mentioning people -----------------------------------------------------------------------

@bp.get("/documents/<int:document_id>/people")
@login_required
def people(document_id: int):
    """Members to mention: up to 8 whose name or e-mail has a word starting with `q` (for the @ box)."""
    document = get_document_or_404(document_id)
    return jsonify(queries.mention_candidates(document, request.args.get("q", ""), current_user))


# ---- notifications ----------------------------------------------------------------------------

def _own_notification_or_404(notification_id: int) -> Notification:
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        abort(404, _("Notification not found."))
    return notification


@bp.get("/notifications")
@login_required
def notifications():
    return render_template("consultation/notifications.html",
                           notifications=queries.notifications_of(current_user))


@bp.get("/notifications/link")
@login_required
def notifications_link():
    """The header's link with its unread count, re-fetched by live pages."""
    return vary_on_htmx(render_template("consultation/_notifications_link.html"))


def _notification_target(notification) -> str:
    """Where a notification points: only ever a path of this site."""
    return safe_next(notification.url, url_for("consultation.notifications"))


@bp.get("/notifications/<int:notification_id>")
@login_required
def open_notification(notification_id: int):
    """Go where a notification points (a GET changes nothing: opening it from the list marks it read)."""
    return redirect(_notification_target(_own_notification_or_404(notification_id)))


@bp.post("/notifications/<int:notification_id>/open")
@login_required
def open_and_read_notification(notification_id: int):
    """Mark a notification read and go where it points (the list's links are these forms)."""
    notification = _own_notification_or_404(notification_id)
    mark_read(current_user, notification)
    db.session.commit()
    return redirect(_notification_target(notification))


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read_notification(notification_id: int):
    mark_read(current_user, _own_notification_or_404(notification_id))
    db.session.commit()
    if is_htmx():
        return render_template("consultation/_notifications.html", status=_("Marked as read."), oob=True,
                               notifications=queries.notifications_of(current_user))
    return redirect(url_for("consultation.notifications"))


@bp.post("/notifications/read")
@login_required
def read_all_notifications():
    changed = mark_read(current_user)
    db.session.commit()
    status = ngettext("%(num)s notification marked as read.", "%(num)s notifications marked as read.", changed)
    if is_htmx():
        return render_template("consultation/_notifications.html", status=status, oob=True,
                               notifications=queries.notifications_of(current_user))
    flash(status, "ok")
    return redirect(url_for("consultation.notifications"))

