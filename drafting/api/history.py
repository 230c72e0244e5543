"""API of clause history: diffs, restores, named versions and their comparison."""

from __future__ import annotations

from flask import g, jsonify, request

from ..extensions import db
from ..history.operations import (
    Comparison,
    compare,
    create_snapshot,
    current_side,
    diff_versions,
    get_snapshot,
    restore_revision,
    snapshot_side,
    snapshots_of,
)
from ..models.base import iso
from ..text.diffing import diff_html
from ..views import get_clause_or_404, get_document_or_404
from .auth import token_required
from .blueprint import bp
from .openapi import ID, PATHS, SCHEMAS, errors, operation, path_id, ref, respond
from .routes import body, clause_json


@bp.get("/clauses/<int:clause_id>/diff")
@token_required
def clause_diff(clause_id: int):
    clause = get_clause_or_404(clause_id, user=g.api_user, include_deleted=True)
    result = diff_versions(clause, request.args.get("from"), request.args.get("to"))
    return jsonify({"from": result.old.version, "to": result.new.version,
                    "ops": [[op, text] for op, text in result.ops], "html": diff_html(result.ops)})


@bp.post("/clauses/<int:clause_id>/restore")
@token_required
def restore(clause_id: int):
    clause = get_clause_or_404(clause_id, "edit_clause", g.api_user)
    version = body().get("version")
    result = restore_revision(clause, g.api_user, version)
    db.session.commit()
    return jsonify({"clause": clause_json(clause), "changed": result.changed})


def snapshot_json(snapshot) -> dict:
    return {"id": snapshot.id, "name": snapshot.name, "content_hash": snapshot.content_hash,
            "created_at": iso(snapshot.created_at)}


@bp.get("/documents/<int:document_id>/snapshots")
@token_required
def list_snapshots(document_id: int):
    document = get_document_or_404(document_id, user=g.api_user)
    return jsonify([snapshot_json(s) for s in snapshots_of(document)])


@bp.post("/documents/<int:document_id>/snapshots")
@token_required
def take_snapshot(document_id: int):
    document = get_document_or_404(document_id, "snapshot", g.api_user)
    snapshot = create_snapshot(document, g.api_user, body().get("name"))
    db.session.commit()
    return jsonify(snapshot_json(snapshot)), 201


def comparison_json(result: Comparison) -> dict:
    def side(s):
        return {"snapshot": s.snapshot_id, "label": s.label, "content_hash": s.content_hash}

    return {
        "from": side(result.old), "to": side(result.new), "summary": result.summary,
        "added": [{"clause_id": e.clause_id, "number": e.number, "heading": e.heading, "text": e.text}
                  for e in result.added],
        "removed": [{"clause_id": e.clause_id, "number": e.number, "heading": e.heading, "text": e.text}
                    for e in result.removed],
        "moved": [{"clause_id": e.clause_id, "from_number": e.from_number, "to_number": e.to_number}
                  for e in result.moved],
        "changed": [{"clause_id": e.clause_id, "number": e.to_number, "heading": e.heading,
                     "from_version": e.from_version, "to_version": e.to_version,
                     "ops": [[op, text] for op, text in e.ops]} for e in result.changed],
    }


@bp.get("/documents/<int:document_id>/compare")
@token_required
def compare_snapshots(document_id: int):
    document = get_document_or_404(document_id, user=g.api_user)
    old = snapshot_side(get_snapshot(document, request.args.get("from")))
    target = request.args.get("to", "current")
    new = current_side(document) if target == "current" else snapshot_side(get_snapshot(document, target))
    return jsonify(comparison_json(compare(old, new)))


_CLAUSE, _DOC = path_id("clause_id"), path_id("document_id")
_VERSION = ID
SCHEMAS.update({
    "Snapshot": {"type": "object", "required": ["id", "name", "content_hash", "created_at"], "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "content_hash": {"type": "string"},
        "created_at": {"type": "string"}}},
    "Diff": {"type": "object", "required": ["from", "to", "ops", "html"], "properties": {
        "from": {"type": "integer"}, "to": {"type": "integer"}, "html": {"type": "string"},
        "ops": {"type": "array", "items": {"type": "array", "minItems": 2, "maxItems": 2}}}},
    "Comparison": {"type": "object", "required": ["from", "to", "summary", "added", "removed", "moved", "changed"],
                   "properties": {"summary": {"type": "object"}, "added": {"type": "array"},
                                  "removed": {"type": "array"}, "moved": {"type": "array"},
                                  "changed": {"type": "array"}, "from": {"type": "object"},
                                  "to": {"type": "object"}}},
})
PATHS.update({
    "/clauses/{clause_id}/diff": {"get": operation(
        "Word-level diff between two versions (from later than to shows the reverse change)",
        {"200": respond(ref("Diff")), **errors(401, 404, 422)},
        params=[_CLAUSE, {"name": "from", "in": "query", "required": True, "schema": _VERSION},
                {"name": "to", "in": "query", "required": True, "schema": _VERSION}])},
    "/clauses/{clause_id}/restore": {"post": operation(
        "Make an older version current again, as a new revision with origin restore (editor)",
        {"200": respond({"type": "object", "required": ["clause", "changed"], "properties": {
            "clause": ref("Clause"), "changed": {"type": "boolean"}}}), **errors(400, 401, 403, 404, 409, 422, 423)},
        {"type": "object", "required": ["version"], "properties": {"version": _VERSION}}, [_CLAUSE])},
    "/documents/{document_id}/snapshots": {
        "get": operation("Named versions, newest first",
                         {"200": respond({"type": "array", "items": ref("Snapshot")}), **errors(401, 404)},
                         params=[_DOC]),
        "post": operation("Take a named version (editor)",
                          {"201": respond(ref("Snapshot"), "Created"), **errors(400, 401, 403, 404, 413, 422)},
                          {"type": "object", "required": ["name"], "properties": {
                              "name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S"}}},
                          [_DOC])},
    "/documents/{document_id}/compare": {"get": operation(
        "Clauses added, removed, moved and changed between two named versions, or one and the current text",
        {"200": respond(ref("Comparison")), **errors(401, 404, 422)},
        params=[_DOC, {"name": "from", "in": "query", "required": True, "schema": ID},
                {"name": "to", "in": "query", "required": False,
                 "schema": {"oneOf": [ID, {"type": "string", "enum": ["current"]}]}}])},
})
