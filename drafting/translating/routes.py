"""Pages of the translations: each language's progress, and a side-by-side view per language in
which editors translate clause by clause, live (translation.updated)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from .. import permissions
from ..documents.operations import clause_label, labelled_clauses
from ..extensions import db
from ..models.base import parse_int
from ..text import offload
from ..text.clauses import TextError
from ..text.diffing import diff_html
from ..views import get_clause_or_404, get_document_or_404, is_htmx
from .operations import (
    TranslationConflict,
    clean_language,
    progress,
    save_title,
    save_translation,
    source_revisions,
    status_of,
    translation_of,
    translations_by_clause,
)

bp = Blueprint("translating", __name__)
SHOW = ("all", "stale", "missing")


def _language_or_404(document, lang: str) -> str:
    try:
        return clean_language(document, lang)
    except TextError as error:
        abort(404, error.message)  # an unknown language, or the authentic one: no such translation


def source_changes(clause, translation, revisions: dict | None = None) -> Markup | None:
    """What changed in the clause since the version the translation translates (stale ones only).
    `revisions`: what `source_revisions` read for a whole page (see side_by_side); else read here."""
    if translation is None or translation.source_version >= clause.version:
        return None
    wanted = (clause.id, translation.source_version)
    before = (revisions if revisions is not None else source_revisions([wanted])).get(wanted)
    if before is None:
        return None
    html = diff_html(offload.diff(before.text, clause.text))
    if before.heading != clause.heading:
        heading = diff_html(offload.diff(before.heading or "", clause.heading or ""))
        html = Markup('<p class="heading-change">{}</p>').format(Markup(heading)) + Markup(html)
    return Markup(html)


def _row(clause, lang: str, translation=None, status: str | None = None, code: int = 200):
    document = clause.document
    return render_template("translations/_row.html", clause=clause, document=document, lang=lang,
                           translation=translation, label=clause_label(clause),
                           state=status_of(clause, translation), changes=source_changes(clause, translation),
                           may_translate=permissions.can(current_user, document, "translate"),
                           row_status=status), code


def _form(clause, lang: str, translation, code: int = 200, error: str | None = None,
          typed: dict | None = None, current=None):
    document = clause.document
    return render_template("translations/_form.html", clause=clause, document=document, lang=lang,
                           translation=translation, label=clause_label(clause),
                           changes=source_changes(clause, translation), error=error, typed=typed or {},
                           current=current), code


@bp.get("/documents/<int:document_id>/translations")
@login_required
def overview(document_id: int):
    document = get_document_or_404(document_id)
    return render_template("translations/overview.html", document=document, progress=progress(document),
                           may_translate=permissions.can(current_user, document, "translate"))


@bp.get("/documents/<int:document_id>/translations/<lang>")
@login_required
def side_by_side(document_id: int, lang: str):
    document = get_document_or_404(document_id)
    lang = _language_or_404(document, lang)
    show = request.args.get("show", "all")
    if show not in SHOW:
        show = "all"
    found = translations_by_clause(document, lang)
    rows = [(number, label, clause, found.get(clause.id), status_of(clause, found.get(clause.id)))
            for number, label, clause in labelled_clauses(document)]
    counts = {state: sum(1 for row in rows if row[4] == state) for state in ("translated", "stale", "missing")}
    if show != "all":
        rows = [row for row in rows if row[4] == show]
    stale = [(clause, translation) for _n, _l, clause, translation, state in rows if state == "stale"]
    revisions = source_revisions([(clause.id, translation.source_version) for clause, translation in stale])
    return render_template("translations/page.html", document=document, lang=lang, rows=rows, counts=counts,
                           show=show, changes={clause.id: source_changes(clause, translation, revisions)
                                               for clause, translation in stale},
                           may_translate=permissions.can(current_user, document, "translate"),
                           title=(document.title_translations or {}).get(lang))


@bp.get("/clauses/<int:clause_id>/translations/<lang>")
@login_required
def row(clause_id: int, lang: str):
    clause = get_clause_or_404(clause_id)
    lang = _language_or_404(clause.document, lang)
    return _row(clause, lang, translation_of(clause, lang))


@bp.get("/clauses/<int:clause_id>/translations/<lang>/edit")
@login_required
def edit(clause_id: int, lang: str):
    clause = get_clause_or_404(clause_id, "translate")
    lang = _language_or_404(clause.document, lang)
    translation = translation_of(clause, lang)
    if not is_htmx():
        return render_template("translations/edit_page.html", form=_form(clause, lang, translation)[0],
                               document=clause.document, lang=lang)
    return _form(clause, lang, translation)


@bp.post("/clauses/<int:clause_id>/translations/<lang>")
@login_required
def save(clause_id: int, lang: str):
    clause = get_clause_or_404(clause_id, "translate")
    document = clause.document
    lang = _language_or_404(document, lang)
    form = request.form
    typed = {"text": form.get("text", ""), "heading": form.get("heading", "")}
    base = parse_int(form.get("base_version")) if form.get("base_version") else None
    try:
        translation = save_translation(clause, current_user, lang, form.get("text"),
                                       parse_int(form.get("source_version")), form.get("heading", ""), base)
    except TranslationConflict as conflict:
        db.session.rollback()
        clause = get_clause_or_404(clause_id, "translate")
        current = translation_of(clause, lang)
        page = _form(clause, lang, current, 409, conflict.message, typed, current)
        return page if is_htmx() else (render_template("translations/edit_page.html", form=page[0],
                                                       document=clause.document, lang=lang), 409)
    except TextError as error:
        db.session.rollback()
        clause = get_clause_or_404(clause_id, "translate")
        current = translation_of(clause, lang)
        page = _form(clause, lang, current, error.status, error.message, typed)
        return page if is_htmx() else (render_template("translations/edit_page.html", form=page[0],
                                                       document=clause.document, lang=lang), error.status)
    db.session.commit()
    if not is_htmx():
        flash(_("Translation saved."), "ok")
        return redirect(url_for("translating.side_by_side", document_id=document.id, lang=lang) + f"#tr-{clause.id}")
    return _row(clause, lang, translation, _("Translation saved (version %(version)s).", version=translation.version))


@bp.post("/documents/<int:document_id>/translations/<lang>/title")
@login_required
def title(document_id: int, lang: str):
    document = get_document_or_404(document_id, "translate")
    lang = _language_or_404(document, lang)
    try:
        save_title(document, current_user, lang, request.form.get("title", ""))
    except TextError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("translating.side_by_side", document_id=document.id, lang=lang))
    db.session.commit()
    flash(_("Title saved."), "ok")
    return redirect(url_for("translating.side_by_side", document_id=document.id, lang=lang))
