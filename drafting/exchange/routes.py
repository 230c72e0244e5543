"""Pages of export and import: the print view and downloads; upload, preview, save."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from .. import i18n, permissions
from ..documents.operations import DocumentError
from ..extensions import csrf, db
from ..models import Membership
from ..models.document import KIND_LABELS
from ..signoff.seal import print_view_pdf
from ..text.outline import ImportedText
from ..views import get_document_or_404
from .operations import (
    MAX_IMPORT_BYTES,
    STANDALONE_CSP,
    ImportFailure,
    changes_asked,
    export,
    guess_kind,
    import_document,
    read_file,
    seal,
    unseal,
)

bp = Blueprint("exchange", __name__)

# The multipart envelope around the file, and the sealed preview (compressed text) on saving.
UPLOAD_LIMIT = MAX_IMPORT_BYTES + 256 * 1024
PREVIEW_FORM_LIMIT = 16 * 1024 * 1024


@bp.get("/documents/<int:document_id>/export")
@login_required
def download(document_id: int):
    document = get_document_or_404(document_id, "export")
    kind = request.args.get("format", "html")
    since, until = request.args.get("from"), request.args.get("to")
    changes_asked(kind, since, until)  # from/to: the tracked changes, as Word only (422 otherwise)
    lang = request.args.get("lang") or None  # a translation (issue 18); checked by `export`
    if kind == "pdf":  # the print view as a PDF (WeasyPrint), signatories and hash included once adopted
        content, _media_type, name = export(document, "html", lang=lang)
        pdf = print_view_pdf(content.decode("utf-8"))
        return Response(pdf, mimetype="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name.rsplit(".", 1)[0]}.pdf"'})
    inline = kind == "html" and not request.args.get("download")
    back = url_for("documents.page", document_id=document.id) if inline else None
    content, media_type, name = export(document, kind, back_link=back, from_version=since, to_version=until,
                                       lang=lang)
    response = Response(content, mimetype=media_type)
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{name}"'
    if kind == "html":
        response.headers["Content-Security-Policy"] = STANDALONE_CSP
    return response


def _may_import() -> None:
    roles = db.session.scalars(select(Membership.role).where(Membership.user_id == current_user.id))
    if not permissions.may_import(current_user, roles):
        abort(403, _("Editors and the secretariat create documents from files."))


def _upload_form(error: str | None = None, status: int = 200):
    return render_template("exchange/import.html", error=error,
                           limit_mb=MAX_IMPORT_BYTES // (1024 * 1024),
                           limit_paragraphs=current_app.config["MAX_IMPORT_PARAGRAPHS"]), status


@bp.get("/documents/import")
@login_required
def upload_form():
    _may_import()
    return _upload_form()


@bp.post("/documents/import")
@csrf.exempt  # checked below, once the larger upload limit of this form applies
@login_required
def preview():
    _may_import()
    request.max_content_length = UPLOAD_LIMIT
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        return _upload_form(_("The file is larger than %(limit)s MB; it cannot be imported.",
                              limit=i18n.number(MAX_IMPORT_BYTES // (1024 * 1024))), 413)
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
    if upload is None or not upload.filename:
        return _upload_form(_("Choose a Markdown (.md), Word (.docx) or Akoma Ntoso (.xml) file to import."), 400)
    try:
        imported, source = read_file(upload.filename, upload.read(MAX_IMPORT_BYTES + 1))
    except ImportFailure as error:
        return _upload_form(error.message, error.status)
    return render_template("exchange/preview.html", imported=imported, source=source,
                           sealed=seal(imported, source), kind=guess_kind(imported.title), kinds=KIND_LABELS)


@bp.post("/documents/import/save")
@csrf.exempt  # checked below, once the larger form limit of the sealed preview applies
@login_required
def save():
    _may_import()
    request.max_form_memory_size = PREVIEW_FORM_LIMIT
    sealed, title, kind = (request.form.get(name) for name in ("sealed", "title", "kind"))
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
    try:
        clauses, notes, source = unseal(sealed)
    except ImportFailure as error:
        return _upload_form(error.message, error.status)
    try:
        document = import_document(current_user, title, kind, clauses, source)
    except (ImportFailure, DocumentError) as error:
        db.session.rollback()
        imported = ImportedText(title or "", clauses, notes)
        return render_template("exchange/preview.html", imported=imported, source=source, sealed=sealed,
                               kind=kind if kind in KIND_LABELS else "declaration", kinds=KIND_LABELS,
                               error=error.message), error.status
    db.session.commit()
    flash(ngettext("Imported %(num)s clause from “%(file)s”. The document is in drafting; the secretariat adds "
                   "members and participating organisations.",
                   "Imported %(num)s clauses from “%(file)s”. The document is in drafting; the secretariat adds "
                   "members and participating organisations.", len(clauses), file=source.filename), "ok")
    return redirect(url_for("documents.page", document_id=document.id))


@bp.app_context_processor
def exchange_helpers() -> dict:
    def may_import_documents() -> bool:
        if not current_user.is_authenticated:
            return False
        roles = db.session.scalars(select(Membership.role).where(Membership.user_id == current_user.id))
        return permissions.may_import(current_user, roles)

    return {"may_import_documents": may_import_documents}
