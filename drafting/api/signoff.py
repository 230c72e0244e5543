"""API of phases' end game: approvals by the participating organisations, verification, the certificate."""

from __future__ import annotations

from flask import g, jsonify, request
from flask_babel import gettext as _

from ..extensions import db
from ..models.document import PHASES
from ..signoff import seal
from ..signoff.operations import approvals_of, approve, certificate, verify
from ..signoff.readiness import readiness
from ..views import get_document_or_404
from .auth import token_required
from .blueprint import bp
from .openapi import PATHS, SCHEMAS, errors, operation, path_id, ref, respond
from .routes import body, error


@bp.post("/documents/<int:document_id>/approvals")
@token_required
def give_approval(document_id: int):
    document = get_document_or_404(document_id, "approve", g.api_user)
    data = body()
    approval = approve(document, g.api_user, data.get("content_hash"), data.get("password"))
    db.session.commit()
    return jsonify({**approval.to_json(), "document_phase": document.phase}), 201


@bp.get("/documents/<int:document_id>/approvals")
@token_required
def list_approvals(document_id: int):
    document = get_document_or_404(document_id, user=g.api_user)
    return jsonify([a.to_json() for a in approvals_of(document)])


@bp.get("/documents/<int:document_id>/verify")
@token_required
def verify_document(document_id: int):
    document = get_document_or_404(document_id, user=g.api_user)
    return jsonify(verify(document).to_json())


@bp.get("/documents/<int:document_id>/certificate")
@token_required
def adoption_certificate(document_id: int):
    document = get_document_or_404(document_id, user=g.api_user)
    return jsonify(seal.sealed(certificate(document)))


@bp.get("/documents/<int:document_id>/readiness")
@token_required
def document_readiness(document_id: int):
    document = get_document_or_404(document_id, user=g.api_user)
    phase = request.args.get("to", "")
    if phase not in PHASES:
        return error(422, _("to must be one of: %(phases)s.", phases=", ".join(PHASES)))
    return jsonify(readiness(document, phase).to_json())


_DOC = path_id("document_id")
_HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_WHEN = {"type": "string", "format": "date-time"}
_ISSUES = {"type": "array", "items": {"type": "object", "required": ["code", "message"], "properties": {
    "code": {"type": "string"}, "message": {"type": "string"}}}}
SCHEMAS.update({
    "Readiness": {"type": "object", "required": ["ready", "blockers", "warnings"], "properties": {
        "to": {"type": "string"}, "ready": {"type": "boolean"}, "blockers": _ISSUES, "warnings": _ISSUES}},
    "Approval": {"type": "object", "required": ["organisation", "signatory", "content_hash", "signed_at", "valid"],
                 "properties": {
                     "id": {"type": "integer"}, "organisation": {"type": "string"}, "country": {"type": "string"},
                     "signatory": {"type": "string"}, "content_hash": _HASH, "signed_at": _WHEN,
                     "valid": {"type": "boolean"}, "invalidated_at": {**_WHEN, "nullable": True},
                     "invalidated_reason": {"type": "string", "nullable": True}}},
    "Verification": {"type": "object", "required": ["content_hash", "ok", "problems", "approvals", "audit_chain"],
                     "properties": {
                         "document_id": {"type": "integer"}, "phase": {"type": "string"}, "content_hash": _HASH,
                         "checked_at": _WHEN, "participants": {"type": "integer"}, "signed": {"type": "integer"},
                         "ok": {"type": "boolean"}, "problems": {"type": "array", "items": {"type": "string"}},
                         "approvals": {"type": "array", "items": {"allOf": [ref("Approval"), {
                             "type": "object", "properties": {"matches_current_text": {"type": "boolean"},
                                                              "in_audit_trail": {"type": "boolean"}}}]}},
                         "audit_chain": {"type": "object", "required": ["intact", "events"], "properties": {
                             "intact": {"type": "boolean"}, "events": {"type": "integer"},
                             "head": {"type": "string", "nullable": True}, "problems": {"type": "array"}}}}},
    "Certificate": {"type": "object", "required": ["document", "content_hash", "clauses", "signatories",
                                                   "signing_events", "audit_chain", "seal"],
                    "properties": {
                        "document": {"type": "object"}, "content_hash": _HASH, "issued_at": _WHEN,
                        "clauses": {"type": "array", "items": {"type": "object", "properties": {
                            "number": {"type": "integer"}, "heading": {"type": "string", "nullable": True},
                            "clause_hash": _HASH}}},
                        "signatories": {"type": "array", "items": {"type": "object", "properties": {
                            "organisation": {"type": "string"}, "country": {"type": "string"},
                            "signatory": {"type": "string"}, "signed_at": _WHEN, "content_hash": _HASH}}},
                        "signing_events": {"type": "array", "items": {"type": "object", "properties": {
                            "id": {"type": "integer"}, "at": _WHEN, "action": {"type": "string"},
                            "summary": {"type": "string"}, "prev_hash": {"type": "string", "nullable": True},
                            "hash": _HASH, "hashed": {"type": "object"}}}},
                        "audit_chain": {"type": "object"},
                        "seal": {"type": "object", "required": ["algorithm", "public_key", "signature"],
                                 "description": "Ed25519 signature of the certificate without `seal`, as UTF-8 "
                                                "JSON with sorted keys, separators ',' ':' and no ASCII escaping "
                                                "(docs/verification.md)",
                                 "properties": {
                                     "algorithm": {"type": "string", "enum": ["Ed25519"]},
                                     "canonical_form": {"type": "string"},
                                     "public_key": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                                     "public_key_fingerprint": _HASH,
                                     "signature": {"type": "string", "pattern": "^[A-Za-z0-9+/]{86}==$"}}}}},
})
PATHS.update({
    "/documents/{document_id}/approvals": {
        "post": operation(
            "Approve the current text for your organisation (signatory, signing phase), re-entering your "
            "password. 409: the hash is not the current one (body carries current_hash), or your "
            "organisation already signed; 422: your organisation is not a participant; 403: wrong password "
            "or not a signatory; 429 after 5 wrong passwords in 15 minutes (Retry-After). The last "
            "participant's approval adopts the document",
            {"201": respond(ref("Approval"), "Signed"), **errors(400, 401, 403, 404, 409, 422, 429)},
            {"type": "object", "required": ["content_hash", "password"], "properties": {
                "content_hash": _HASH, "password": {"type": "string"}}}, [_DOC]),
        "get": operation("Every approval, valid and invalidated, oldest first",
                         {"200": respond({"type": "array", "items": ref("Approval")}), **errors(401, 404)},
                         params=[_DOC]),
    },
    "/documents/{document_id}/readiness": {"get": operation(
        "What blocks moving the document to a phase, and what only warns. Blockers for signing: an open "
        "amendment, an open thread, a participating cluster without a signatory (POST phase answers 409 "
        "with them unless override_reason is given); warnings: hidden characters in clauses, comments "
        "newer than the last named version",
        {"200": respond(ref("Readiness")), **errors(401, 404, 422)},
        params=[_DOC, {"name": "to", "in": "query", "required": True,
                       "schema": {"type": "string", "enum": list(PHASES)}}])},
    "/documents/{document_id}/verify": {"get": operation(
        "Recompute the content hash of the current text and check every approval and the audit chain against it",
        {"200": respond(ref("Verification")), **errors(401, 404)}, params=[_DOC])},
    "/documents/{document_id}/certificate": {"get": operation(
        "The certificate of adoption: document hash, each clause's SHA-256, the signatories and the chained "
        "audit events of the signing, sealed with the instance's Ed25519 key (`seal`; docs/verification.md) "
        "(409 until adopted)",
        {"200": respond(ref("Certificate")), **errors(401, 404, 409)}, params=[_DOC])},
})
