"""API of a person's own tokens: list them (never a secret) and revoke one."""

from __future__ import annotations

from flask import g, jsonify
from flask_babel import gettext as _

from ..extensions import db
from ..people.tokens import own_token, revoke_token, tokens_of
from .auth import token_required
from .blueprint import bp
from .openapi import PATHS, SCHEMAS, errors, operation, path_id, ref, respond
from .routes import error


@bp.get("/tokens")
@token_required
def list_tokens():
    current = g.get("api_token_id")
    return jsonify([{**token.to_json(), "current": token.id == current} for token in tokens_of(g.api_user)])


@bp.delete("/tokens/<int:token_id>")
@token_required
def delete_token(token_id: int):
    token = own_token(g.api_user, token_id)
    if token is None:
        return error(404, _("No token of yours has this id."))
    revoke_token(token)
    db.session.commit()
    return "", 204


SCHEMAS.update({
    "ApiToken": {"type": "object", "required": ["id", "name", "created_at", "state", "current"], "properties": {
        "id": {"type": "integer"}, "name": {"type": "string", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"},
        "last_used_at": {"type": "string", "format": "date-time", "nullable": True},
        "expires_at": {"type": "string", "format": "date-time", "nullable": True},
        "revoked_at": {"type": "string", "format": "date-time", "nullable": True},
        "state": {"type": "string", "enum": ["active", "expired", "revoked"]},
        "current": {"type": "boolean", "description": "the token this request was made with"}}},
})
PATHS.update({
    "/tokens": {"get": operation(
        "Your own API tokens, newest first: names, dates and states, never a secret",
        {"200": respond({"type": "array", "items": ref("ApiToken")}), **errors(401)})},
    "/tokens/{token_id}": {"delete": operation(
        "Revoke one of your tokens (also the one this request uses); another person's is not found",
        {"204": {"description": "Revoked"}, **errors(401, 404)}, params=[path_id("token_id")])},
})
