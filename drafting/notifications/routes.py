"""Pages of e-mail notifications: a person's choices per category, one-click unsubscribe, and the
admin's outbox (what was sent, what waits, what failed)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from ..extensions import csrf, db
from ..i18n import _l
from ..models import User
from ..models.mail import MAIL_STATUSES, OutboxMail
from .operations import (
    REQUEUEABLE,
    mail_server_configured,
    outbox_counts,
    outbox_mails,
    requeue,
)
from .outbox import CATEGORIES, MODE_LABELS, MODES, mode_of, read_unsubscribe_token, set_mode

bp = Blueprint("notifications", __name__)

STATUS_LABELS = {"queued": _l("Queued"), "sending": _l("Sending"), "sent": _l("Sent"), "failed": _l("Failed"),
                 "held": _l("Held for the digest"), "digested": _l("Sent in a digest"), "uncertain": _l("Uncertain")}


# ---- a person's choices -------------------------------------------------------------------------

def _optional() -> list:
    return [c for c in CATEGORIES.values() if c.optional]


@bp.route("/settings/notifications", methods=["GET", "POST"])
@login_required
def preferences():
    chosen = {c.key: mode_of(current_user, c.key) for c in _optional()}
    if request.method == "GET":
        return render_template("notifications/preferences.html", categories=_optional(), chosen=chosen,
                               modes=MODES, mode_labels=MODE_LABELS)
    typed = {c.key: request.form.get(c.key, chosen[c.key]) for c in _optional()}
    wrong = [c for c in _optional() if typed[c.key] not in MODES]
    if wrong:
        return render_template("notifications/preferences.html", categories=_optional(), chosen=chosen,
                               modes=MODES, mode_labels=MODE_LABELS, error_key=wrong[0].key,
                               error=_("Choose how you want “%(category)s” e-mails: immediately, "
                                       "in a daily digest, or off.", category=str(wrong[0].label))), 422
    for key, mode in typed.items():
        if mode != chosen[key]:
            set_mode(current_user, key, mode)
    db.session.commit()
    summary = "; ".join(_("%(category)s: %(mode)s", category=str(c.label), mode=MODE_LABELS[typed[c.key]].lower())
                        for c in _optional())
    flash(_("Your choices are saved. %(summary)s.", summary=summary), "ok")
    return redirect(url_for("notifications.preferences"))


# ---- one-click unsubscribe ----------------------------------------------------------------------

@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """Stop one category of mail (a digest's link: the categories it holds): the GET asks, the POST
    does it (also RFC 8058's one-click POST from mail clients, with the body
    List-Unsubscribe=One-Click and no CSRF token: the signed token is the credential, and all it
    can do is turn mail off)."""
    read = read_unsubscribe_token(token)
    user = db.session.get(User, read[0]) if read else None
    categories = [category for category in CATEGORIES.values() if read and category.key in read[1]]
    if user is None or not all(category.optional for category in categories):
        abort(404, _("This unsubscribe link is not valid. Check that it was copied whole, or choose what you "
                     "receive on the notifications settings page after logging in."))
    if request.method == "POST":
        for category in categories:
            set_mode(user, category.key, "off")
        db.session.commit()
    return render_template("notifications/unsubscribe.html", person=user, token=token, done=request.method == "POST",
                           category=categories[0], categories=categories, several=len(categories) > 1,
                           labels=", ".join(str(category.label) for category in categories),
                           already_off=all(mode_of(user, category.key) == "off" for category in categories))


csrf.exempt(unsubscribe)


# ---- the admin's outbox -------------------------------------------------------------------------

def _require_admin() -> None:
    if not permissions.may_administer(current_user):
        abort(403, _("Only the secretariat reads the outbox."))


@bp.get("/admin/outbox")
@login_required
def outbox():
    _require_admin()
    status = request.args.get("status") or None
    if status is not None and status not in MAIL_STATUSES:
        abort(404, _("There is no such status of mail."))
    return render_template("notifications/outbox.html", mails=outbox_mails(status), status=status,
                           counts=outbox_counts(), statuses=MAIL_STATUSES, status_labels=STATUS_LABELS,
                           categories=CATEGORIES, requeueable=REQUEUEABLE, mail_server=mail_server_configured(),
                           section="outbox")


@bp.post("/admin/outbox/<int:mail_id>/requeue")
@login_required
def requeue_mail(mail_id: int):
    _require_admin()
    mail = db.session.get(OutboxMail, mail_id)
    if mail is None:
        abort(404, _("Mail not found."))
    requeue(mail, current_user)
    db.session.commit()
    flash(_("The mail “%(subject)s” to %(email)s is queued again.", subject=mail.subject, email=mail.to_email), "ok")
    return redirect(url_for("notifications.outbox", status=request.form.get("status") or None) + f"#mail-{mail.id}")
