"""The OpenAPI 3 description of the JSON API, served at /api/v1/openapi.json."""

from __future__ import annotations

from ..models.base import MAX_ID
from ..text.actions import HALF_YEARS
from ..text.numbering import KINDS

ERROR = {"$ref": "#/components/schemas/Error"}


def respond(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def errors(*codes: int) -> dict:
    text = {400: "Malformed request", 401: "No or bad token", 403: "Not allowed for this role or phase",
            404: "Unknown id", 409: "Conflict", 413: "Too large", 415: "Unsupported file type",
            422: "Invalid value", 423: "Text frozen", 429: "Too many attempts (see Retry-After)",
            503: "Database busy, try again (see Retry-After)"}
    return {str(code): respond(ERROR, text[code]) for code in codes}


def request_body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
KIND = {"type": "string", "enum": list(KINDS)}
_HALF_YEAR = {"type": "string", "enum": list(HALF_YEARS), "nullable": True}
_ITEMS = {"type": "array", "maxItems": 30, "items": {"type": "string", "maxLength": 300}}
# An action's structured fields (text.actions): responsible must name participating organisations.
ACTION = {"type": "object", "nullable": True, "additionalProperties": False, "properties": {
    "responsible": _ITEMS, "start": _HALF_YEAR, "end": _HALF_YEAR, "funding": _ITEMS, "indicators": _ITEMS}}
TEXT = {"type": "string", "minLength": 1, "maxLength": 50_000, "pattern": "\\S"}  # clause text: not blank


def path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": ID}


def operation(summary: str, responses: dict, body: dict | None = None, params: list | None = None) -> dict:
    operation = {"summary": summary, "responses": responses, "security": [{"bearer": []}]}
    if body is not None:
        operation["requestBody"] = request_body(body)
    if params:
        operation["parameters"] = params
    return operation


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


# Other API modules (one per product area) add their paths and schemas here at import time,
# beside the routes they describe: `PATHS.update({...})`, `SCHEMAS.update({...})`.
PATHS: dict[str, dict] = {}
SCHEMAS: dict[str, dict] = {}



def spec() -> dict:
    """Return the description of every endpoint the API serves."""
    doc, clause = path_id("document_id"), path_id("clause_id")
    common = (401, 404)
    return {
        "openapi": "3.0.3",
        "info": {"title": "drafting API", "version": "1.0.0",
                 "description": "Documents split into clauses, edited live; see CONTRACT.md."},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {
                    "error": {"type": "object", "required": ["code", "message"], "properties": {
                        "code": {"type": "string"}, "message": {"type": "string"}}},
                    "current": ref("Clause"), "yours": {"type": "string"},
                    # A clause save's conflict (409) also names who changed the same words and gives
                    # the version both sides started from.
                    "changed_by": {"type": "array", "items": {"type": "string"}},
                    "base_version": {"type": "integer"},
                    "base_text": {"type": "string", "nullable": True}}},
                "Clause": {"type": "object", "required": ["id", "number", "kind", "heading", "text", "version"],
                           "properties": {"id": {"type": "integer"},
                                          "number": {"type": "integer", "nullable": True,
                                                     "description": "position in the document, 1..n"},
                                          "label": {"type": "string", "nullable": True,
                                                    "description": "the number shown, by kind: 'B', '2.1', 'IV', '' "
                                                                   "for a preamble"},
                                          "kind": KIND,
                                          "heading": {"type": "string", "nullable": True},
                                          "text": {"type": "string"}, "version": {"type": "integer"},
                                          "action": ACTION}},
                "DocumentSummary": {"type": "object", "required": ["id", "title", "kind", "phase", "seq"],
                                    "properties": {
                                        "id": {"type": "integer"}, "title": {"type": "string"},
                                        "kind": {"type": "string", "enum": ["declaration", "action_plan"]},
                                        "phase": {"type": "string", "enum": [
                                            "drafting", "consultation", "final_review", "signing", "adopted"]},
                                        "seq": {"type": "integer"},
                                        "language": {"type": "string", "description": "the authentic language"},
                                        "deadline": {"type": "string", "nullable": True},
                                        "updated_at": {"type": "string"}}},
                "Document": {"allOf": [ref("DocumentSummary"), {
                    "type": "object", "required": ["content_hash", "participants", "clauses"],
                    "properties": {"content_hash": {"type": "string"},
                                   "participants": {"type": "array", "items": {"type": "string"}},
                                   "clauses": {"type": "array", "items": ref("Clause")}}}]},
                "Revision": {"type": "object", "required": ["version", "text", "author", "origin", "created_at"],
                             "properties": {"version": {"type": "integer"}, "text": {"type": "string"},
                                            "kind": KIND, "action": ACTION,
                                            "heading": {"type": "string", "nullable": True},
                                            "author": {"type": "string", "nullable": True},
                                            "organisation": {"type": "string", "nullable": True},
                                            "origin": {"type": "string", "enum": [
                                                "edit", "merge", "amendment", "restore", "import"]},
                                            "created_at": {"type": "string"}}},
                "Change": {"type": "object", "required": ["event", "document_id", "seq", "actor"],
                           "properties": {"event": {"type": "string"}, "document_id": {"type": "integer"},
                                          "seq": {"type": "integer"},
                                          "actor": {"type": "integer", "nullable": True}},
                           "additionalProperties": True},
                **SCHEMAS,
            },
        },
        "paths": {
            "/documents": {
                "get": operation("Documents the user can see",
                           {"200": respond({"type": "array", "items": ref("DocumentSummary")}), **errors(401)}),
                "post": operation("Create a document (admin)",
                            {"201": respond(ref("Document"), "Created"), **errors(400, 401, 403, 413, 422)},
                            {"type": "object", "required": ["title", "kind"], "properties": {
                                "title": {"type": "string", "minLength": 1, "maxLength": 300, "pattern": "\\S"},
                                "kind": {"type": "string", "enum": ["declaration", "action_plan"]},
                                "language": {"type": "string", "default": "en",
                                             "enum": ["en", "bg", "cs", "es", "fr", "hu", "nl", "pt", "sv"],
                                             "description": "the authentic language (approved and hashed)"}}}),
            },
            "/documents/{document_id}": {
                "get": operation("A document with its clauses", {"200": respond(ref("Document")), **errors(*common)},
                           params=[doc]),
            },
            "/documents/{document_id}/members": {
                "get": operation("The document's members with their role and cluster, by name (member)",
                                 {"200": respond({"type": "array", "items": {"type": "object", "properties": {
                                     "user_id": {"type": "integer"}, "email": {"type": "string"},
                                     "name": {"type": "string"}, "organisation": {"type": "string"},
                                     "role": {"type": "string"}}}}), **errors(401, 404)}, params=[doc]),
                "post": operation("Give a user a role on the document (admin)",
                            {"201": respond({"type": "object"}, "Created"), **errors(400, 401, 403, 404, 422)},
                            {"type": "object", "required": ["email", "role"], "properties": {
                                "email": {"type": "string"},
                                "role": {"type": "string", "enum": ["editor", "commenter", "signatory", "observer"]}}},
                            [doc]),
            },
            "/documents/{document_id}/members/{user_id}": {
                "delete": operation("Take a user's role on the document away (admin)",
                              {"204": {"description": "Removed"}, **errors(401, 403, 404)},
                              params=[doc, path_id("user_id")]),
            },
            "/documents/{document_id}/participants": {
                "post": operation("Add a participating organisation (admin); a withdrawn one is taken back. "
                                  "409 when it already takes part or the document is adopted",
                            {"201": respond({"type": "object"}, "Created"), **errors(400, 401, 403, 404, 409, 422)},
                            {"type": "object", "required": ["organisation"],
                             "properties": {"organisation": {"type": "string"}}}, [doc]),
            },
            "/documents/{document_id}/participants/{organisation_id}": {
                "delete": operation("Withdraw a participating cluster (admin), with a reason recorded in the audit "
                                    "trail: its approvals become void and adoption no longer waits for it (in "
                                    "signing, the document is adopted when everyone left has signed); broadcast "
                                    "`participant.withdrawn`. 404 when not an active participant; 409 once adopted",
                                    {"200": respond(ref("Document")), **errors(400, 401, 403, 404, 409, 413, 422)},
                                    {"type": "object", "required": ["reason"], "properties": {
                                        "reason": {"type": "string", "maxLength": 2000}}},
                                    [doc, path_id("organisation_id")]),
            },
            "/documents/{document_id}/invitations": {
                "post": operation("Invite a person by e-mail to the document with a role and cluster (admin). The "
                                  "answer carries the one-time `link` (7 days, single use) that sets a password "
                                  "and opens the document: no e-mail is sent yet, the admin passes it on. 409 "
                                  "when that address is already a member",
                                  {"201": respond({"type": "object", "required": ["id", "email", "expires_at", "link"],
                                                   "properties": {"id": {"type": "integer"}, "email": {"type": "string"},
                                                                  "expires_at": {"type": "string", "format": "date-time"},
                                                                  "link": {"type": "string"}}}, "Invited"),
                                   **errors(400, 401, 403, 404, 409, 413, 422)},
                                  {"type": "object", "required": ["email", "name", "organisation", "role"],
                                   "properties": {"email": {"type": "string"}, "name": {"type": "string"},
                                                  "organisation": {"type": "string"},
                                                  "role": {"type": "string", "enum": [
                                                      "editor", "commenter", "signatory", "observer"]}}}, [doc]),
            },
            "/documents/{document_id}/phase": {
                "post": operation("Move the document to a phase (admin): one step forward (drafting, "
                                  "consultation, final_review, signing) or back to drafting from consultation, "
                                  "final_review or signing; the same phase changes only the deadline. Back from "
                                  "signing needs a reason and invalidates every approval. adopted is reached by "
                                  "the last signature only; any other move is 422. To signing while "
                                  "readiness has blockers (open amendments or threads, a cluster without a "
                                  "signatory): 409 with `blockers`, unless `override_reason` says why to go "
                                  "ahead (recorded in the audit trail). Opening the signing takes a named "
                                  "version of the text",
                            {"200": respond(ref("Document")), **errors(400, 401, 403, 404, 409, 413, 422)},
                            {"type": "object", "required": ["phase"], "properties": {
                                "phase": {"type": "string", "enum": [
                                    "drafting", "consultation", "final_review", "signing", "adopted"]},
                                "deadline": {"type": "string", "format": "date-time", "nullable": True},
                                "reason": {"type": "string", "maxLength": 2000, "nullable": True},
                                "override_reason": {"type": "string", "maxLength": 2000, "nullable": True}}},
                            [doc]),
            },
            "/documents/{document_id}/changes": {
                "get": operation("Changes after a sequence number, in order",
                           {"200": respond({"type": "array", "items": ref("Change")}), **errors(401, 404, 422)},
                           params=[doc, {"name": "since", "in": "query", "required": False,
                                         "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}}]),
            },
            "/documents/{document_id}/clauses": {
                "post": operation("Add a clause (editor)",
                            {"201": respond(ref("Clause"), "Created"),
                             **errors(400, 401, 403, 404, 413, 422, 423)},
                            {"type": "object", "required": ["text"], "properties": {
                                "text": TEXT, "heading": {"type": "string", "nullable": True, "maxLength": 300},
                                "after": {**ID, "nullable": True}, "kind": {**KIND, "nullable": True},
                                "action": ACTION}}, [doc]),
            },
            "/clauses/{clause_id}": {
                "patch": operation("Save a clause based on a version: stored, merged, or 409 with both texts",
                             {"200": respond({"type": "object", "required": ["clause", "merged"], "properties": {
                                 "clause": ref("Clause"), "merged": {"type": "boolean"}}}),
                              **errors(400, 401, 403, 404, 409, 413, 422, 423)},
                             {"type": "object", "required": ["text", "base_version"], "properties": {
                                 "text": TEXT, "base_version": ID,
                                 "heading": {"type": "string", "nullable": True, "maxLength": 300},
                                 "kind": KIND, "action": ACTION}}, [clause]),
                "delete": operation("Delete a clause (editor)",
                              {"204": {"description": "Deleted"}, **errors(401, 403, 404, 423)},
                              params=[clause]),
            },
            "/clauses/{clause_id}/undelete": {
                "post": {**operation("Restore a deleted clause at its former place (editor); the threads and amendments its "
                                     "deletion closed are open again",
                                     {"200": respond(ref("Clause")),
                                      **errors(400, 401, 403, 404, 409, 422, 423)}, params=[clause]),
                         "requestBody": {"required": False, "content": {"application/json": {"schema": {
                             "type": "object", "properties": {"position": ID}}}}}},
            },
            "/clauses/{clause_id}/revisions": {
                "get": operation("Every revision of a clause, oldest first",
                           {"200": respond({"type": "array", "items": ref("Revision")}), **errors(*common)},
                           params=[clause]),
            },
            **PATHS,
        },
    }
