"""API of the consultation: threads, comments, amendments, contributions, the summary, the report
and notifications. It calls the same operations as the pages."""

from __future__ import annotations

from flask import Response, abort, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select

from ..clauses.operations import ClauseConflict
from ..consultation import queries
from ..consultation.loaders import (
    get_amendment_or_404,
    get_comment_or_404,
    get_contribution_or_404,
    get_thread_or_404,
)
from ..consultation.operations import (
    KINDS,
    accept_amendment,
    add_comment,
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
    submit_contribution,
    unknown_mentions,
    withdraw_amendment,
    withdraw_contribution,
)
from ..consultation.report import build_report, report_csv, report_json, report_markdown
from ..extensions import db
from ..models import Amendment, Clause, Comment, Notification, Organisation, Thread
from ..models.base import parse_int, utcnow
from ..models.consultation import TOPICS
from ..text.sanitise import plain_text
from ..views import get_clause_or_404, get_document_or_404
from .auth import token_required
from .blueprint import bp
from .openapi import PATHS, SCHEMAS, errors, operation, path_id, ref, respond
from .routes import body, clause_json, error


def _query_int(name: str) -> int | None:
    """Read an optional integer query parameter, or abort 422 (a silent None would widen a filter)."""
    values = request.args.getlist(name)
    if not values:
        return None
    if len(values) > 1 or not (values[0].isascii() and values[0].isdigit()):
        abort(422, _("%(name)s must be an integer.", name=name))
    value = parse_int(values[0])
    return value if value is not None else 0  # beyond any id the database holds: matches nothing


def _with_unknown_mentions(data: dict, comment: Comment) -> dict:
    """Add to a written comment's answer the "@Word"s in it that mention no member (nobody was told),
    as the page says after posting."""
    return {**data, "unknown_mentions": unknown_mentions(comment.thread.clause.document, plain_text(comment.body))}


def _organisation_id(name: str | None) -> int | None:
    if not name:
        return None
    organisation = db.session.scalar(select(Organisation).where(Organisation.name == name))
    if organisation is None:
        abort(422, _("No organisation has that name."))
    return organisation.id


# ---- threads and comments ----------------------------------------------------------------------

@bp.get("/clauses/<int:clause_id>/threads")
@token_required
def clause_threads(clause_id: int):
    clause = get_clause_or_404(clause_id, user=g.api_user)
    threads = db.session.scalars(select(Thread).where(Thread.clause_id == clause.id, Thread.status != "deleted")
                                 .order_by(Thread.id))
    return jsonify([queries.thread_json(t) for t in threads])


@bp.post("/clauses/<int:clause_id>/threads")
@token_required
def create_thread(clause_id: int):
    clause = get_clause_or_404(clause_id, "comment", g.api_user)
    data = body()
    thread = open_thread(clause, g.api_user, data.get("body"), data.get("quote"))
    db.session.commit()
    return jsonify(_with_unknown_mentions(queries.thread_json(thread), thread.comments[0])), 201


@bp.get("/documents/<int:document_id>/threads")
@token_required
def document_threads(document_id: int):
    document = get_document_or_404(document_id, user=g.api_user)
    status = request.args.get("status", "open")
    if status not in ("open", "resolved", "all"):
        return error(422, _("status must be open, resolved or all."))
    organisation_id = _organisation_id(request.args.get("organisation"))
    query = (select(Thread).join(Clause).where(Clause.document_id == document.id, Clause.deleted_at.is_(None),
                                               Thread.status != "deleted").order_by(Clause.position, Thread.id))
    if status != "all":
        query = query.where(Thread.status == status)
    rows = [queries.thread_json(t) for t in db.session.scalars(query)]
    if organisation_id is not None:
        name = db.session.get(Organisation, organisation_id).name
        rows = [row for row in rows if row["organisation"] == name]
    return jsonify(rows)


@bp.get("/threads/<int:thread_id>")
@token_required
def get_thread(thread_id: int):
    return jsonify(queries.thread_json(get_thread_or_404(thread_id, user=g.api_user)))


@bp.post("/threads/<int:thread_id>/comments")
@token_required
def reply(thread_id: int):
    thread = get_thread_or_404(thread_id, "reply", g.api_user)
    comment = add_comment(thread, g.api_user, body().get("body"))
    db.session.commit()
    return jsonify(_with_unknown_mentions(queries.comment_json(comment), comment)), 201


@bp.post("/threads/<int:thread_id>/resolve")
@token_required
def resolve(thread_id: int):
    thread = get_thread_or_404(thread_id, "resolve_thread", g.api_user)
    data = body() if request.data else {}  # no body at all: the disposition is missing (422)
    resolve_thread(thread, g.api_user, data.get("disposition"), data.get("reason"))
    db.session.commit()
    return jsonify(queries.thread_json(thread))


@bp.post("/threads/<int:thread_id>/reopen")
@token_required
def reopen(thread_id: int):
    thread = reopen_thread(get_thread_or_404(thread_id, "resolve_thread", g.api_user), g.api_user)
    db.session.commit()
    return jsonify(queries.thread_json(thread))


@bp.patch("/comments/<int:comment_id>")
@token_required
def patch_comment(comment_id: int):
    comment = get_comment_or_404(comment_id, "edit_comment", g.api_user)
    edit_comment(comment, g.api_user, body().get("body"))
    db.session.commit()
    return jsonify(_with_unknown_mentions(queries.comment_json(comment), comment))


@bp.delete("/comments/<int:comment_id>")
@token_required
def delete_comment_(comment_id: int):
    delete_comment(get_comment_or_404(comment_id, "edit_comment", g.api_user), g.api_user)
    db.session.commit()
    return "", 204


# ---- amendments --------------------------------------------------------------------------------

@bp.get("/clauses/<int:clause_id>/amendments")
@token_required
def clause_amendments(clause_id: int):
    clause = get_clause_or_404(clause_id, user=g.api_user)
    amendments = db.session.scalars(select(Amendment).where(Amendment.clause_id == clause.id).order_by(Amendment.id))
    return jsonify([queries.amendment_json(a) for a in amendments])


@bp.post("/clauses/<int:clause_id>/amendments")
@token_required
def create_amendment(clause_id: int):
    clause = get_clause_or_404(clause_id, "propose_amendment", g.api_user)
    data = body()
    amendment = propose_amendment(clause, g.api_user, data.get("text"), data.get("rationale"),
                                  data.get("base_version"))
    db.session.commit()
    return jsonify(queries.amendment_json(amendment)), 201


@bp.get("/amendments/<int:amendment_id>")
@token_required
def get_amendment(amendment_id: int):
    return jsonify(queries.amendment_json(get_amendment_or_404(amendment_id, user=g.api_user)))


@bp.post("/amendments/<int:amendment_id>/accept")
@token_required
def accept(amendment_id: int):
    amendment = get_amendment_or_404(amendment_id, "decide_amendment", g.api_user)
    data = request.get_json(silent=True) if request.data else {}
    if not isinstance(data, dict):
        abort(400, _("The request body must be a JSON object."))
    try:
        result = accept_amendment(amendment, g.api_user, data.get("text"), data.get("base_version"))
    except ClauseConflict as conflict:
        db.session.rollback()
        current = db.session.get(Clause, conflict.clause.id)
        return error(409, _("The clause changed since the amendment's base version in the same words; nothing "
                            "was saved. Accept it with changes: send the reconciled text with base_version set "
                            "to the current version."),
                     current=clause_json(current), yours=conflict.yours)
    answer = {"amendment": queries.amendment_json(result.amendment),
              "clause": clause_json(result.clause), "merged": result.save.merged}
    db.session.commit()
    return jsonify(answer)


@bp.post("/amendments/<int:amendment_id>/reject")
@token_required
def reject(amendment_id: int):
    amendment = get_amendment_or_404(amendment_id, "decide_amendment", g.api_user)
    reject_amendment(amendment, g.api_user, body().get("reason"))
    db.session.commit()
    return jsonify(queries.amendment_json(amendment))


@bp.post("/amendments/<int:amendment_id>/withdraw")
@token_required
def withdraw(amendment_id: int):
    amendment = get_amendment_or_404(amendment_id, "withdraw_amendment", g.api_user)
    withdraw_amendment(amendment, g.api_user)
    db.session.commit()
    return jsonify(queries.amendment_json(amendment))


# ---- contributions -----------------------------------------------------------------------------

@bp.get("/documents/<int:document_id>/contributions")
@token_required
def list_contributions(document_id: int):
    document = get_document_or_404(document_id, user=g.api_user)
    topic, kind = request.args.get("topic"), request.args.get("kind")
    if topic and topic not in TOPICS:
        return error(422, _("topic must be one of: %(topics)s.", topics=", ".join(TOPICS)))
    if kind and kind not in KINDS:
        return error(422, _("kind must be best_practice or bottleneck."))
    rows = queries.contributions(document, topic=topic, kind=kind,
                                 organisation_id=_organisation_id(request.args.get("organisation")),
                                 clause_id=_query_int("clause_id"))
    return jsonify([queries.contribution_json(c) for c in rows])


@bp.post("/documents/<int:document_id>/contributions")
@token_required
def create_contribution(document_id: int):
    document = get_document_or_404(document_id, "contribute", g.api_user)
    data = body()
    contribution = submit_contribution(document, g.api_user, data.get("kind"), data.get("topic"),
                                       data.get("title"), data.get("body"), data.get("proposal"),
                                       data.get("clause_ids"))
    db.session.commit()
    return jsonify(queries.contribution_json(contribution)), 201


@bp.patch("/contributions/<int:contribution_id>")
@token_required
def patch_contribution(contribution_id: int):
    contribution = get_contribution_or_404(contribution_id, "contribute", g.api_user)
    edit_contribution(contribution, g.api_user, body())
    db.session.commit()
    return jsonify(queries.contribution_json(contribution))


@bp.delete("/contributions/<int:contribution_id>")
@token_required
def delete_contribution(contribution_id: int):
    withdraw_contribution(get_contribution_or_404(contribution_id, "contribute", g.api_user), g.api_user)
    db.session.commit()
    return "", 204


@bp.put("/contributions/<int:contribution_id>/clauses")
@token_required
def link_clauses(contribution_id: int):
    contribution = get_contribution_or_404(contribution_id, "link_contribution", g.api_user)
    link_contribution(contribution, g.api_user, body().get("clause_ids"))
    db.session.commit()
    return jsonify(queries.contribution_json(contribution))


# ---- summary, report, notifications ----------------------------------------------------------

@bp.get("/documents/<int:document_id>/consultation/summary")
@token_required
def consultation_summary(document_id: int):
    document = get_document_or_404(document_id, user=g.api_user)
    return jsonify([row.to_json() for row in queries.summary(document)])


@bp.get("/documents/<int:document_id>/consultation/report")
@token_required
def consultation_report(document_id: int):
    document = get_document_or_404(document_id, "export", g.api_user)
    fmt = request.args.get("format", "json")
    report = build_report(document)
    if fmt == "json":
        return jsonify(report_json(report))
    if fmt == "md":
        return Response(report_markdown(report, utcnow()), mimetype="text/markdown; charset=utf-8")
    if fmt == "csv":
        return Response(report_csv(report), mimetype="text/csv; charset=utf-8")
    return error(422, _("format must be json, md or csv."))


@bp.get("/notifications")
@token_required
def list_notifications():
    return jsonify([queries.notification_json(n) for n in queries.notifications_of(g.api_user)])


@bp.post("/notifications/<int:notification_id>/read")
@token_required
def read_notification(notification_id: int):
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != g.api_user.id:
        abort(404, _("Notification not found."))
    mark_read(g.api_user, notification)
    answer = queries.notification_json(notification)
    db.session.commit()
    return jsonify(answer)


# ---- OpenAPI -----------------------------------------------------------------------------------

_CLAUSE, _DOC = path_id("clause_id"), path_id("document_id")
_THREAD, _COMMENT = path_id("thread_id"), path_id("comment_id")
_AMENDMENT, _CONTRIBUTION = path_id("amendment_id"), path_id("contribution_id")
_TEXT = {"type": "string"}
_NULLABLE_TEXT = {"type": "string", "nullable": True}
_WHEN = {"type": "string", "nullable": True}
_DISPOSITIONS = ["open", "resolved", "accepted", "partly_accepted", "not_accepted", "noted",
                 "accepted_with_changes", "rejected", "withdrawn", "clause_deleted"]
_THREAD_DISPOSITIONS = {"type": "string", "nullable": True,
                        "enum": ["accepted", "partly_accepted", "not_accepted", "noted", "clause_deleted", None]}
_ORGANISATION_QUERY = {"name": "organisation", "in": "query", "required": False, "schema": _TEXT,
                       "description": "only what members of this organisation (by name) wrote"}

_UNKNOWN_MENTIONS = {"type": "array", "items": _TEXT, "description": (
    "Only in the answer to writing a comment (opening a thread, replying, editing): the \"@Word\"s of its "
    "text that mention no member of the document, as typed (nobody was notified for them)")}

SCHEMAS.update({
    "Person": {"type": "object", "nullable": True, "required": ["id", "name", "organisation"], "properties": {
        "id": {"type": "integer"}, "name": _TEXT, "organisation": _TEXT}},
    "Comment": {"type": "object", "required": ["id", "thread_id", "author", "body", "created_at", "deleted"],
                "properties": {"id": {"type": "integer"}, "thread_id": {"type": "integer"},
                               "author": ref("Person"), "organisation": _NULLABLE_TEXT,
                               "body": {"type": "string", "description": "sanitised HTML"},
                               "created_at": _TEXT, "edited_at": _WHEN, "deleted": {"type": "boolean"},
                               "unknown_mentions": _UNKNOWN_MENTIONS}},
    "Thread": {"type": "object", "required": ["id", "clause_id", "status", "clause_version", "comments"],
               "properties": {"id": {"type": "integer"}, "clause_id": {"type": "integer"},
                              "document_id": {"type": "integer"}, "quote": _NULLABLE_TEXT,
                              "clause_version": {"type": "integer"},
                              "status": {"type": "string", "enum": ["open", "resolved"]},
                              "author": ref("Person"), "organisation": _NULLABLE_TEXT, "created_at": _TEXT,
                              "resolved_by": ref("Person"), "resolved_at": _WHEN,
                              "disposition": _THREAD_DISPOSITIONS, "reason": _NULLABLE_TEXT,
                              "clause_changed": {"type": "boolean"}, "outdated": {"type": "boolean"},
                              "comments": {"type": "array", "items": ref("Comment")},
                              "unknown_mentions": _UNKNOWN_MENTIONS}},
    "Amendment": {"type": "object", "required": ["id", "clause_id", "base_version", "text", "rationale", "status"],
                  "properties": {"id": {"type": "integer"}, "clause_id": {"type": "integer"},
                                 "document_id": {"type": "integer"}, "base_version": {"type": "integer"},
                                 "text": _TEXT, "rationale": {"type": "string", "description": "sanitised HTML"},
                                 "status": {"type": "string", "enum": ["open", "accepted", "rejected", "withdrawn",
                                                                       "clause_deleted"]},
                                 "disposition": {"type": "string", "enum": _DISPOSITIONS},
                                 "reason": _NULLABLE_TEXT, "author": ref("Person"), "organisation": _NULLABLE_TEXT,
                                 "created_at": _TEXT, "decided_by": ref("Person"), "decided_at": _WHEN,
                                 "accepted_text": _NULLABLE_TEXT,
                                 "accepted_version": {"type": "integer", "nullable": True}}},
    "Contribution": {"type": "object", "required": ["id", "kind", "topic", "title", "body", "organisation"],
                     "properties": {"id": {"type": "integer"}, "document_id": {"type": "integer"},
                                    "organisation": _TEXT, "author": ref("Person"),
                                    "kind": {"type": "string", "enum": list(KINDS)},
                                    "topic": {"type": "string", "enum": list(TOPICS)}, "title": _TEXT,
                                    "body": _TEXT, "proposal": _TEXT,
                                    "clause_ids": {"type": "array", "items": {"type": "integer"}},
                                    "created_at": _TEXT, "updated_at": _WHEN}},
    "OrganisationSummary": {"type": "object", "required": ["organisation", "participant"], "properties": {
        "organisation": _TEXT, "country": _TEXT, "participant": {"type": "boolean"},
        **{name: {"type": "integer"} for name in ("comments", "contributions", *queries.SUMMARY_FIELDS)}}},
    "ReportEntry": {"type": "object", "required": ["type", "id", "clause_id", "disposition"], "properties": {
        "type": {"type": "string", "enum": ["thread", "amendment"]}, "id": {"type": "integer"},
        "clause_id": {"type": "integer"}, "clause_number": {"type": "integer", "nullable": True},
        "organisation": _TEXT, "author": _TEXT, "created_at": _TEXT,
        "clause_heading": _NULLABLE_TEXT, "clause_deleted": {"type": "boolean"},
        "disposition": {"type": "string", "enum": _DISPOSITIONS}, "disposition_label": _TEXT,
        "excerpt": _TEXT, "decided_by": _NULLABLE_TEXT,
        "decided_at": _WHEN, "reason": _NULLABLE_TEXT, "quote": _NULLABLE_TEXT, "text": _TEXT,
        "rationale": _TEXT, "accepted_text": _NULLABLE_TEXT,
        "accepted_version": {"type": "integer", "nullable": True}, "replies": {"type": "array"}}},
    "Notification": {"type": "object", "required": ["id", "message", "read"], "properties": {
        "id": {"type": "integer"}, "document_id": {"type": "integer", "nullable": True}, "message": _TEXT,
        "excerpt": {**_NULLABLE_TEXT, "description": "A short quote of what it is about (the comment, the reason)"},
        "url": _NULLABLE_TEXT, "created_at": _TEXT, "read": {"type": "boolean"}}},
})

_BODY = {"type": "object", "required": ["body"], "properties": {"body": _TEXT}}
_WRITE = errors(400, 401, 403, 404, 409, 413, 422)
PATHS.update({
    "/clauses/{clause_id}/threads": {
        "get": operation("Threads of a clause", {"200": respond({"type": "array", "items": ref("Thread")}),
                                                 **errors(401, 404)}, params=[_CLAUSE]),
        "post": operation("Open a thread, optionally quoting a passage of the clause (commenter+)",
                          {"201": respond(ref("Thread"), "Created"), **_WRITE},
                          {"type": "object", "required": ["body"], "properties": {
                              "body": _TEXT, "quote": _NULLABLE_TEXT}}, [_CLAUSE])},
    "/documents/{document_id}/threads": {"get": operation(
        "Threads of the document in clause order (default: the open ones)",
        {"200": respond({"type": "array", "items": ref("Thread")}), **errors(401, 404, 422)},
        params=[_DOC, {"name": "status", "in": "query", "required": False,
                       "schema": {"type": "string", "enum": ["open", "resolved", "all"]}}, _ORGANISATION_QUERY])},
    "/threads/{thread_id}": {"get": operation("A thread with its comments",
                                              {"200": respond(ref("Thread")), **errors(401, 404)}, params=[_THREAD])},
    "/threads/{thread_id}/comments": {"post": operation(
        "Reply in an open thread (commenter+; editors also after the deadline)",
        {"201": respond(ref("Comment"), "Created"), **_WRITE}, _BODY, [_THREAD])},
    "/threads/{thread_id}/resolve": {"post": operation(
        "Close a thread with a disposition and a reason, required unless accepted (editor). Again with the "
        "same ones: no change; with others: 409 (reopen first)",
        {"200": respond(ref("Thread")), **errors(400, 401, 403, 404, 409, 413, 422)},
        {"type": "object", "required": ["disposition"], "properties": {
            "disposition": {"type": "string", "enum": ["accepted", "partly_accepted", "not_accepted", "noted"]},
            "reason": {"type": "string", "description": "required unless the disposition is accepted"}}},
        [_THREAD])},
    "/threads/{thread_id}/reopen": {"post": operation(
        "Reopen a resolved thread, clearing its disposition (editor)",
        {"200": respond(ref("Thread")), **errors(401, 403, 404, 409)},
        params=[_THREAD])},
    "/comments/{comment_id}": {
        "patch": operation("Edit one's own comment", {"200": respond(ref("Comment")), **_WRITE}, _BODY, [_COMMENT]),
        "delete": operation("Delete one's own comment (the thread goes too when it was its only comment)",
                            {"204": {"description": "Deleted"}, **errors(401, 403, 404, 409)}, params=[_COMMENT])},
    "/clauses/{clause_id}/amendments": {
        "get": operation("Amendments of a clause", {"200": respond({"type": "array", "items": ref("Amendment")}),
                                                    **errors(401, 404)}, params=[_CLAUSE]),
        "post": operation("Propose new text for the clause with a rationale (commenter, signatory)",
                          {"201": respond(ref("Amendment"), "Created"), **_WRITE, **errors(423)},
                          {"type": "object", "required": ["text", "rationale"], "properties": {
                              "text": _TEXT, "rationale": _TEXT,
                              "base_version": {"type": "integer", "description": "default: the current version"}}},
                          [_CLAUSE])},
    "/amendments/{amendment_id}": {"get": operation("An amendment", {"200": respond(ref("Amendment")),
                                                                     **errors(401, 404)}, params=[_AMENDMENT])},
    "/amendments/{amendment_id}/accept": {"post": {**operation(
        "Accept: merged into the current text like any save, credited to the proposer (editor). With text: "
        "accepted with changes. 409 with both texts when it touches words changed since.",
        {"200": respond({"type": "object", "required": ["amendment", "clause"], "properties": {
            "amendment": ref("Amendment"), "clause": ref("Clause"), "merged": {"type": "boolean"}}}),
         **_WRITE, **errors(423)}, params=[_AMENDMENT]),
        "requestBody": {"required": False, "content": {"application/json": {"schema": {
            "type": "object", "properties": {"text": _TEXT, "base_version": {"type": "integer"}}}}}}}},
    "/amendments/{amendment_id}/reject": {"post": operation(
        "Reject with a reason (editor)", {"200": respond(ref("Amendment")), **_WRITE, **errors(423)},
        {"type": "object", "required": ["reason"], "properties": {"reason": _TEXT}}, [_AMENDMENT])},
    "/amendments/{amendment_id}/withdraw": {"post": operation(
        "Withdraw one's own open amendment (its proposer)", {"200": respond(ref("Amendment")),
                                                             **errors(401, 403, 404, 409)}, params=[_AMENDMENT])},
    "/documents/{document_id}/contributions": {
        "get": operation("Contributions, newest first, filtered",
                         {"200": respond({"type": "array", "items": ref("Contribution")}), **errors(401, 404, 422)},
                         params=[_DOC, {"name": "topic", "in": "query", "required": False,
                                        "schema": {"type": "string", "enum": list(TOPICS)}},
                                 {"name": "kind", "in": "query", "required": False,
                                  "schema": {"type": "string", "enum": list(KINDS)}},
                                 _ORGANISATION_QUERY,
                                 {"name": "clause_id", "in": "query", "required": False,
                                  "schema": {"type": "integer"}}]),
        "post": operation("Submit a best practice or a bottleneck (at most five per organisation; commenter, "
                          "signatory)", {"201": respond(ref("Contribution"), "Created"), **_WRITE},
                          {"type": "object", "required": ["kind", "topic", "title", "body"], "properties": {
                              "kind": {"type": "string", "enum": list(KINDS)},
                              "topic": {"type": "string", "enum": list(TOPICS)}, "title": _TEXT, "body": _TEXT,
                              "proposal": {"type": "string", "description": "required for a bottleneck"},
                              "clause_ids": {"type": "array", "items": {"type": "integer"}}}}, [_DOC])},
    "/contributions/{contribution_id}": {
        "patch": operation(
            "Edit one's own contribution: any of the fields it was submitted with (its author, until the "
            "contributions deadline)", {"200": respond(ref("Contribution")), **_WRITE},
            {"type": "object", "properties": {
                "kind": {"type": "string", "enum": list(KINDS)},
                "topic": {"type": "string", "enum": list(TOPICS)}, "title": _TEXT, "body": _TEXT,
                "proposal": {"type": "string", "description": "required for a bottleneck"},
                "clause_ids": {"type": "array", "items": {"type": "integer"}}}}, [_CONTRIBUTION]),
        "delete": operation(
            "Withdraw one's own contribution (its author, until the contributions deadline); a withdrawn "
            "bottleneck frees its slot", {"204": {"description": "Withdrawn"}, **errors(401, 403, 404)},
            params=[_CONTRIBUTION])},
    "/contributions/{contribution_id}/clauses": {"put": operation(
        "Set the clauses a contribution informed (editor)", {"200": respond(ref("Contribution")), **_WRITE},
        {"type": "object", "required": ["clause_ids"], "properties": {
            "clause_ids": {"type": "array", "items": {"type": "integer"}}}}, [_CONTRIBUTION])},
    "/documents/{document_id}/consultation/summary": {"get": operation(
        "Per organisation: comments, amendments proposed and by outcome, contributions",
        {"200": respond({"type": "array", "items": ref("OrganisationSummary")}), **errors(401, 404)},
        params=[_DOC])},
    "/documents/{document_id}/consultation/report": {"get": {**operation(
        "Every thread and amendment with its disposition (json), or the report as Markdown or CSV",
        {"200": {"description": "OK", "content": {
            "application/json": {"schema": {"type": "array", "items": ref("ReportEntry")}},
            "text/markdown": {"schema": _TEXT}, "text/csv": {"schema": _TEXT}}}, **errors(401, 404, 422)},
        params=[_DOC, {"name": "format", "in": "query", "required": False,
                       "schema": {"type": "string", "enum": ["json", "md", "csv"]}}])}},
    "/notifications": {"get": operation("Your notifications, newest first",
                                        {"200": respond({"type": "array", "items": ref("Notification")}),
                                         **errors(401)})},
    "/notifications/{notification_id}/read": {"post": operation(
        "Mark one of your notifications read", {"200": respond(ref("Notification")), **errors(401, 404)},
        params=[path_id("notification_id")])},
})
