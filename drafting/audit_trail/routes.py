"""The audit trail page of a document (admins and editors: permission 'view_audit')."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import login_required

from .. import audit
from ..views import get_document_or_404
from .describe import CATEGORIES, describe
from .queries import clause_names, organisations_in, read_filters, trail

bp = Blueprint("audit_trail", __name__)


@bp.get("/documents/<int:document_id>/audit")
@login_required
def page(document_id: int):
    document = get_document_or_404(document_id, "view_audit")
    try:
        filters = read_filters(request.args)
    except LookupError as error:
        abort(422, str(error))
    events, older = trail(document, filters)
    return render_template("audit/page.html", document=document, events=events, older=older,
                           filters=filters, names=clause_names(document), describe=describe,
                           categories=CATEGORIES, organisations=organisations_in(document),
                           chain=audit.verify_chain(document))
