"""API of clause-aligned translations (issue 18): write one, read a language's, see progress."""

from __future__ import annotations

from flask import g, jsonify

from ..documents.operations import labelled_clauses
from ..extensions import db
from ..i18n import LANGUAGES
from ..translating.operations import (
    TranslationConflict,
    clean_language,
    progress,
    save_title,
    save_translation,
    translation_json,
    translations_by_clause,
)
from ..views import get_clause_or_404, get_document_or_404
from .auth import token_required
from .blueprint import bp
from .openapi import ID, PATHS, SCHEMAS, errors, operation, path_id, ref, respond
from .routes import body, error

_FIELDS = ("text", "heading", "source_version", "base_version")


@bp.put("/clauses/<int:clause_id>/translations/<lang>")
@token_required
def put_translation(clause_id: int, lang: str):
    clause = get_clause_or_404(clause_id, "translate", g.api_user)
    data = body(_FIELDS)
    try:
        translation = save_translation(clause, g.api_user, lang, data.get("text"), data.get("source_version"),
                                       data["heading"] if "heading" in data else ...,
                                       data.get("base_version"))
    except TranslationConflict as conflict:
        db.session.rollback()
        current = conflict.translation
        return error(409, conflict.message, current={"text": current.text, "heading": current.heading,
                                                      "version": current.version,
                                                      "source_version": current.source_version})
    db.session.commit()
    answer = translation_json(clause, translation)
    return jsonify({"lang": translation.lang, "text": translation.text, "heading": translation.heading,
                    "source_version": translation.source_version, "version": translation.version,
                    "clause_version": clause.version, "stale": answer["stale"], "status": answer["status"]})


@bp.get("/documents/<int:document_id>/translations/<lang>")
@token_required
def get_translations(document_id: int, lang: str):
    document = get_document_or_404(document_id, user=g.api_user)
    lang = clean_language(document, lang)
    found = translations_by_clause(document, lang)
    return jsonify({"lang": lang, "language": document.language,
                    "title": (document.title_translations or {}).get(lang),
                    "clauses": [translation_json(clause, found.get(clause.id), number, label)
                                for number, label, clause in labelled_clauses(document)]})


@bp.put("/documents/<int:document_id>/translations/<lang>/title")
@token_required
def put_title(document_id: int, lang: str):
    document = get_document_or_404(document_id, "translate", g.api_user)
    title = save_title(document, g.api_user, lang, body(("title",)).get("title"))
    db.session.commit()
    return jsonify({"lang": lang, "title": title})


@bp.get("/documents/<int:document_id>/translations")
@token_required
def get_progress(document_id: int):
    document = get_document_or_404(document_id, user=g.api_user)
    return jsonify({"language": document.language, "languages": [
        {"lang": p.lang, "translated": p.translated, "stale": p.stale, "missing": p.missing,
         "title": (document.title_translations or {}).get(p.lang)} for p in progress(document)]})


_LANG = {"name": "lang", "in": "path", "required": True, "schema": {"type": "string", "enum": list(LANGUAGES)}}
_STATUS = {"type": "string", "enum": ["translated", "stale", "missing"]}
SCHEMAS.update({
    "ClauseTranslation": {
        "type": "object", "required": ["id", "number", "label", "text", "source_version", "stale", "status"],
        "properties": {
            "id": {"type": "integer", "description": "the clause's id"}, "number": {"type": "integer"},
            "label": {"type": "string"}, "lang": {"type": "string", "nullable": True},
            "heading": {"type": "string", "nullable": True},
            "text": {"type": "string", "nullable": True, "description": "null: not translated yet"},
            "source_version": {"type": "integer", "nullable": True,
                               "description": "the clause version the translation translates"},
            "version": {"type": "integer", "nullable": True, "description": "the translation's own version"},
            "clause_version": {"type": "integer"},
            "stale": {"type": "boolean", "description": "the clause changed after source_version"},
            "status": _STATUS}},
})
PATHS.update({
    "/clauses/{clause_id}/translations/{lang}": {"put": operation(
        "Write the clause's translation into a language other than the document's authentic one (editor, any "
        "phase), pinned to the clause version it translates. With base_version (the translation version you "
        "started from) a concurrent change is merged, or refused with 409 and the current translation when both "
        "changed the same words. Announced as translation.updated",
        {"200": respond({"type": "object", "required": ["lang", "text", "source_version", "stale"], "properties": {
            "lang": {"type": "string"}, "text": {"type": "string"}, "heading": {"type": "string", "nullable": True},
            "source_version": {"type": "integer"}, "version": {"type": "integer"},
            "clause_version": {"type": "integer"}, "stale": {"type": "boolean"}, "status": _STATUS}}),
         **errors(400, 401, 403, 404, 409, 413, 422)},
        {"type": "object", "required": ["text", "source_version"], "properties": {
            "text": {"type": "string", "minLength": 1}, "heading": {"type": "string", "nullable": True},
            "source_version": ID, "base_version": ID}},
        [path_id("clause_id"), _LANG])},
    "/documents/{document_id}/translations/{lang}": {"get": operation(
        "A language's translation of every live clause, with its status (translated, stale, missing)",
        {"200": respond({"type": "object", "required": ["lang", "clauses"], "properties": {
            "lang": {"type": "string"}, "language": {"type": "string", "description": "the authentic language"},
            "title": {"type": "string", "nullable": True},
            "clauses": {"type": "array", "items": ref("ClauseTranslation")}}}), **errors(401, 404, 422)},
        params=[path_id("document_id"), _LANG])},
    "/documents/{document_id}/translations/{lang}/title": {"put": operation(
        "Set the document's title in a language (an empty title removes it; editor)",
        {"200": respond({"type": "object", "required": ["lang", "title"], "properties": {
            "lang": {"type": "string"}, "title": {"type": "string", "nullable": True}}}),
         **errors(400, 401, 403, 404, 413, 422)},
        {"type": "object", "required": ["title"], "properties": {"title": {"type": "string", "maxLength": 300}}},
        [path_id("document_id"), _LANG])},
    "/documents/{document_id}/translations": {"get": operation(
        "The authentic language and, per other language, how many clauses are translated, stale and missing",
        {"200": respond({"type": "object", "required": ["language", "languages"], "properties": {
            "language": {"type": "string"}, "languages": {"type": "array", "items": {
                "type": "object", "required": ["lang", "translated", "stale", "missing"], "properties": {
                    "lang": {"type": "string"}, "translated": {"type": "integer"}, "stale": {"type": "integer"},
                    "missing": {"type": "integer"}, "title": {"type": "string", "nullable": True}}}}}}),
         **errors(401, 404)},
        params=[path_id("document_id")])},
})
