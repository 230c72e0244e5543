"""API of export and import: the text as Markdown, HTML, DOCX or Akoma Ntoso; a new document from a file."""

from __future__ import annotations

from flask import Response, abort, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from .. import permissions
from ..config import Config
from ..documents.operations import document_json
from ..exchange.operations import (
    FORMATS,
    MAX_IMPORT_BYTES,
    STANDALONE_CSP,
    export,
    import_document,
    read_file,
)
from ..extensions import db
from ..models import Membership
from ..models.document import KINDS
from ..text.numbering import KINDS as KIND_NAMES
from ..text.numbering import default_kind, labels
from ..views import get_document_or_404
from .auth import token_required
from .blueprint import bp
from .openapi import ID, PATHS, errors, operation, path_id, ref, respond
from .routes import error

MAX_TITLE_CHARS = 300


@bp.get("/documents/<int:document_id>/export")
@token_required
def export_document(document_id: int):
    document = get_document_or_404(document_id, "export", g.api_user)
    kind = request.args.get("format", "md")
    content, media_type, name = export(document, kind, from_version=request.args.get("from"),
                                       to_version=request.args.get("to"), lang=request.args.get("lang") or None)
    response = Response(content, mimetype=media_type,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    if kind == "html":
        response.headers["Content-Security-Policy"] = STANDALONE_CSP
    return response


@bp.post("/documents/import")
@token_required
def import_document_():
    roles = db.session.scalars(select(Membership.role).where(Membership.user_id == g.api_user.id))
    if not permissions.may_import(g.api_user, roles):
        abort(403, _("Editors and the secretariat create documents from files."))
    request.max_content_length = MAX_IMPORT_BYTES + 256 * 1024
    try:
        upload = request.files.get("file")
        form = request.form
    except RequestEntityTooLarge:
        return error(413, _("Files up to %(size)s MB can be imported.", size=MAX_IMPORT_BYTES // (1024 * 1024)))
    if upload is None or not upload.filename:
        return error(400, _("Send the file as multipart/form-data in the field 'file'."))
    kind, preview = form.get("kind"), form.get("preview", "false")
    if kind not in KINDS:
        return error(422, _("kind must be 'declaration' or 'action_plan'."))
    if preview not in ("true", "false"):
        return error(422, _("preview must be true or false."))
    if len(form.get("title") or "") > MAX_TITLE_CHARS:
        return error(413, _("Titles are limited to %(limit)s characters.", limit=MAX_TITLE_CHARS))
    imported, source = read_file(upload.filename, upload.read(MAX_IMPORT_BYTES + 1))
    title = form.get("title") or imported.title
    # The kind each clause will have (the file's, else the document's default) and its number by it.
    kinds = [c.kind or default_kind(kind) for c in imported.clauses]
    clauses = [{"number": n, "label": label, "kind": clause_kind, "heading": c.heading, "text": c.text,
                **({"action": c.action} if c.action else {})}
               for n, (c, clause_kind, label) in enumerate(zip(imported.clauses, kinds, labels(kinds), strict=True), 1)]
    if preview == "true":
        return jsonify({"title": title, "kind": kind, "format": source.format, "notes": imported.notes,
                        "clauses": clauses})
    document = import_document(g.api_user, title, kind, imported.clauses, source)
    db.session.commit()
    return jsonify(document_json(document)), 201


_DOC = path_id("document_id")
_FILE = {"description": "The file", "content": {
    "text/markdown": {"schema": {"type": "string"}},
    "text/html": {"schema": {"type": "string"}},
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {
        "schema": {"type": "string", "format": "binary"}},
    "application/akn+xml": {"schema": {"type": "string"}}}}
PATHS.update({
    "/documents/{document_id}/export": {"get": operation(
        "The text with numbering and headings as Markdown, a standalone HTML print view, DOCX or Akoma Ntoso 3.0 "
        "XML (format=akn, application/akn+xml: valid against the OASIS schema, with FRBR identifiers and the "
        "content hash in its metadata); once adopted with the signatories (organisation, name, time) and the "
        "content hash. With from (format=docx only) the changes from that named version to another or the "
        "current text, as Word's tracked changes (w:ins, w:del with each change's author and date) and the open "
        "discussions as comments",
        {"200": _FILE, **errors(401, 403, 404, 422)},
        params=[_DOC, {"name": "format", "in": "query", "required": False,
                       "schema": {"type": "string", "enum": sorted(FORMATS), "default": "md"}},
                {"name": "from", "in": "query", "required": False, "schema": ID,
                 "description": "a named version of this document: export the changes since it (docx only)"},
                {"name": "to", "in": "query", "required": False,
                 "schema": {"oneOf": [ID, {"type": "string", "enum": ["current"]}], "default": "current"},
                 "description": "with from: the named version, or the current text, the changes lead to"},
                {"name": "lang", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": ["en", "bg", "cs", "es", "fr", "hu", "nl", "pt", "sv"]},
                 "description": "a language other than the authentic one: the document's translation into it, "
                                "marked as a translation (not with from/to)"}])},
    "/documents/import": {"post": {
        **operation(
            "Create a document in drafting from a Markdown (.md), Word (.docx) or Akoma Ntoso 3.0 (.xml, .akn) "
            f"file of up to 5 MB and {Config.MAX_IMPORT_PARAGRAPHS:,} paragraphs, split into clauses by headings "
            "and numbered paragraphs, an Akoma Ntoso file by its preamble, recitals, sections, articles and annexes "
            "(editor of any document, or admin; the importer becomes its editor). A larger file is refused with "
            "413 before it is parsed. With preview=true nothing is created and the split is returned",
            {"201": respond(ref("Document"), "Created"),
             "200": respond({"type": "object", "required": ["title", "clauses"], "properties": {
                 "title": {"type": "string"}, "kind": {"type": "string", "nullable": True},
                 "format": {"type": "string", "enum": ["markdown", "docx", "akn"]},
                 "notes": {"type": "array", "items": {"type": "string"}},
                 "clauses": {"type": "array", "items": {
                     "type": "object", "required": ["number", "label", "kind", "heading", "text"], "properties": {
                         "number": {"type": "integer"},
                         "label": {"type": "string", "description": "the number its kind gives it ('B', '2.1')"},
                         "kind": {"type": "string", "enum": list(KIND_NAMES)},
                         "heading": {"type": "string", "nullable": True},
                         "text": {"type": "string"},
                         "action": {"type": "object", "description": "an action's fields, when the file has them"}}}}}},
                 "Preview: nothing created"),
             **errors(400, 401, 403, 413, 415, 422)}),
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file", "kind"], "properties": {
                "file": {"type": "string", "format": "binary"},
                "kind": {"type": "string", "enum": ["declaration", "action_plan"]},
                "title": {"type": "string", "maxLength": MAX_TITLE_CHARS,
                          "description": "default: the file's title or name"},
                "preview": {"type": "string", "enum": ["true", "false"], "default": "false"}}}}}}}},
})
