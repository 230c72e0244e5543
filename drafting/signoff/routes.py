"""Pages of phases and sign-off: moving phases (with confirmation), the sign-off board and signing,
verification, and the certificate of adoption."""

from __future__ import annotations

import json
from datetime import datetime

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from ..config import ROOT
from ..documents.operations import DocumentError, document_hash, numbered_clauses
from ..exchange.operations import file_name
from ..extensions import db
from ..models.base import parse_local_moment
from ..views import get_document_or_404, is_htmx, vary_on_htmx
from . import seal
from .operations import SignoffError, approval_of, approve, board, certificate, since_signed, verify
from .phases import PHASE_HELP, allowed_now, move_phase, move_to, moves, phase_name
from .readiness import readiness

bp = Blueprint("signoff", __name__)

# The offline verification script (docs/verification.md), shown on the verification page to copy.
VERIFY_SCRIPT = ROOT / "scripts" / "verify_certificate.py"
# Parts of pages re-fetched live on approval.changed (static/app.js, "sign-off" section).
FRAGMENTS = {"board": "signoff/_board.html", "card": "signoff/_aside.html", "banner": "signoff/_banner.html"}


def signoff_context(document, whole_page: bool = True, **extra) -> dict:
    """Everything the sign-off page and its board fragment show, for the current user. The board
    alone (re-fetched live on every approval) skips the comparison behind "since you signed"."""
    rows = board(document)
    organisation = current_user.organisation
    participant = any(row.organisation.id == organisation.id for row in rows)
    return {"document": document, "rows": rows, "content_hash": document_hash(document),
            "signed": sum(1 for row in rows if row.signed), "participant": participant,
            "own_approval": approval_of(document, organisation.id) if participant else None,
            "since": since_signed(document, organisation.id) if participant and whole_page else None,
            "may_approve": permissions.can(current_user, document, "approve"),
            "numbered": numbered_clauses(document), "phase_help": PHASE_HELP, **extra}


@bp.get("/documents/<int:document_id>/signoff")
@login_required
def page(document_id: int):
    document = get_document_or_404(document_id)
    fragment = FRAGMENTS.get(request.args.get("fragment", "")) if is_htmx() else None
    if fragment in ("signoff/_aside.html", "signoff/_banner.html"):  # the document page's parts
        return vary_on_htmx(render_template(fragment, document=document))
    context = signoff_context(document, whole_page=fragment is None)
    return vary_on_htmx(render_template(fragment or "signoff/page.html", **context))


@bp.post("/documents/<int:document_id>/approvals")
@login_required
def sign(document_id: int):
    document = get_document_or_404(document_id, "approve")
    try:
        if request.form.get("confirm") != "yes":
            raise SignoffError(422, _("Tick the box to confirm that you approve the text with this content hash."))
        approval = approve(document, current_user, request.form.get("content_hash"), request.form.get("password"))
    except SignoffError as error:
        db.session.commit() if error.keep else db.session.rollback()
        html = render_template("signoff/page.html", **signoff_context(document, error=error))
        response = make_response(html, error.status)
        if error.retry_after:
            response.headers["Retry-After"] = str(error.retry_after)
        return response
    db.session.commit()
    if document.phase == "adopted":
        flash(_("You signed for %(organisation)s. Every participating organisation has now signed: the document "
                "is adopted.", organisation=approval.organisation.name), "ok")
    else:
        flash(_("You signed for %(organisation)s.", organisation=approval.organisation.name), "ok")
    return redirect(url_for("signoff.page", document_id=document.id))


def _deadline(raw: str, zone: str | None) -> datetime | None:
    """The typed deadline (the person's local time, zone sent by the page) as naive UTC."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return parse_local_moment(raw, zone)
    except ValueError as error:
        raise DocumentError(422, str(error)) from None


@bp.get("/documents/<int:document_id>/phase")
@login_required
def phase_form(document_id: int):
    document = get_document_or_404(document_id, "move_phase")
    target = request.args.get("to", "")
    allowed = [m.phase for m in moves(document)] + ([document.phase] if document.phase != "adopted" else [])
    if target not in allowed:
        abort(422, _("That phase cannot be reached from here. Choose one of the moves on the document page."))
    return render_template("signoff/phase.html", **phase_context(document, target))


def readiness_urls(document) -> dict[str, str]:
    """Where the secretariat acts on each kind of blocker."""
    return {"report": url_for("consultation.report", document_id=document.id),
            "members": url_for("people.members", document_id=document.id),
            "versions": url_for("history.versions", document_id=document.id)}


def phase_context(document, target: str, **extra) -> dict:
    """What the confirmation page of a phase move shows: its effect, the signers, what blocks it."""
    return {"document": document, "move": move_to(document, target), "content_hash": document_hash(document),
            "rows": board(document), "check": readiness(document, target, readiness_urls(document)), **extra}


@bp.post("/documents/<int:document_id>/phase")
@login_required
def move(document_id: int):
    document = get_document_or_404(document_id, "move_phase")
    target = request.form.get("phase", "")
    try:
        override = request.form.get("override_reason") if request.form.get("override") == "yes" else None
        if request.form.get("override") == "yes" and not (override or "").strip():
            raise DocumentError(422, _("Say why the signing opens despite the blockers: the reason is recorded "
                                       "in the audit trail."))
        move_phase(current_user, document, target, _deadline(request.form.get("deadline", ""), request.form.get("timezone")),
                   reason=request.form.get("reason"), override=override)
    except DocumentError as error:
        db.session.rollback()
        if target not in ("drafting", "consultation", "final_review", "signing"):
            abort(error.status, error.message)
        return render_template("signoff/phase.html", **phase_context(document, target, error=error.message,
                                                                      form=request.form)), error.status
    db.session.commit()
    flash(_("The document is now in %(phase)s.", phase=phase_name(document.phase)), "ok")
    return redirect(url_for("documents.page", document_id=document.id))


@bp.get("/documents/<int:document_id>/verify")
@login_required
def verify_page(document_id: int):
    document = get_document_or_404(document_id)
    script = VERIFY_SCRIPT.read_text(encoding="utf-8") if VERIFY_SCRIPT.exists() else None
    return render_template("signoff/verify.html", document=document, result=verify(document),
                           key=seal.key_summary(), script=script)


@bp.get("/documents/<int:document_id>/certificate")
@login_required
def certificate_page(document_id: int):
    document = get_document_or_404(document_id)
    data = certificate(document)
    kind = request.args.get("format")
    if kind not in ("json", "md", "pdf"):
        return render_template("signoff/certificate.html", document=document, cert=data, key=seal.key_summary())
    download = {"Content-Disposition": f'attachment; filename="{file_name(document, "certificate", kind)}"'}
    if kind == "md":
        return Response(render_template("signoff/certificate.md", cert=data), mimetype="text/markdown",
                        headers=download)
    cert = seal.sealed(data)
    as_json = json.dumps(cert, indent=2, ensure_ascii=False) + "\n"
    if kind == "json":
        return Response(as_json, mimetype="application/json", headers=download)
    # The PDF carries the sealed JSON as an attachment, for the offline check (docs/verification.md).
    pdf = seal.render_pdf(render_template("signoff/certificate_pdf.html", cert=cert),
                          attachments={file_name(document, "certificate", "json"): as_json.encode("utf-8")})
    return Response(pdf, mimetype="application/pdf", headers=download)


@bp.app_context_processor
def signoff_helpers() -> dict:
    """Helpers for the document page's phase card and banner (templates/signoff/_aside.html)."""
    def signoff_summary(document) -> dict:
        rows = board(document) if document.phase in ("signing", "adopted") else []
        mine = next((r for r in rows if r.organisation.id == current_user.organisation_id), None)
        return {"participants": len(document.active_participations), "signed": sum(1 for r in rows if r.signed),
                "mine": mine, "may_approve": permissions.can(current_user, document, "approve")}

    return {"signoff_summary": signoff_summary, "phase_moves": moves, "allowed_now": allowed_now,
            "phase_help": PHASE_HELP}
