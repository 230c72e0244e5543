"""Pages about people: the secretariat's organisations and users, a document's members and
participating clusters, invitations, and the one-time links that set a password.

Every form posts and, on success, redirects with a flash; on a refusal the same page is rendered
again with the message beside the field and what was typed (passwords excepted).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_required, login_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import permissions
from ..documents.operations import (
    DocumentError,
    add_member,
    add_participant,
    remove_member,
)
from ..extensions import db
from ..i18n import DEFAULT_LANGUAGE, LANGUAGES, clean_language, timezones
from ..models import Document, Membership, Organisation, User
from ..models.base import parse_int
from ..models.document import ROLE_LABELS, ROLES
from ..signoff.phases import ACTION_LABELS, withdraw_participant
from ..views import get_document_or_404
from .operations import (
    INVITATION_LIFETIME,
    MIN_PASSWORD_CHARS,
    PASSWORD_LINK_LIFETIME,
    PeopleError,
    accept_invitation,
    create_organisation,
    create_user,
    deactivate_user,
    invitation_for,
    invitation_link,
    invite,
    password_link,
    pending_invitations,
    reactivate_user,
    revoke_invitation,
    set_password,
    user_for_password_link,
    user_with_email,
)
from .tokens import EXPIRY_CHOICES, TokenError, issue_token, own_token, revoke_token, tokens_of

bp = Blueprint("people", __name__)

NEW_LINK = "people_new_link"  # a link just made, shown once on the next page (session)


@bp.app_context_processor
def people_helpers():
    return {"manage_action_label": ACTION_LABELS["manage"]}


def refused(template: str, error: DocumentError, form: str, field: str | None = None, **context):
    """Render the page again with the message beside the field and what was typed kept."""
    db.session.rollback()
    key = f"{form}-{getattr(error, 'field', None) or field or 'form'}"
    typed = {name: value for name, value in request.form.items() if "password" not in name and name != "confirm"}
    return render_template(template, errors={key: error.message}, failed_form=form, typed=typed,
                           **context), error.status


def shown_link(kind: str) -> dict | None:
    """The link made by the previous request (an invitation or a password link), shown once."""
    link = session.get(NEW_LINK)
    if link and link.get("kind") == kind:
        session.pop(NEW_LINK)
        return link
    return None


# ---- the secretariat: users and organisations ---------------------------------------------------

def require_admin() -> None:
    if not permissions.may_administer(current_user):
        abort(403, _("Only the secretariat manages organisations and users."))


def users_context() -> dict:
    users = db.session.scalars(select(User).join(User.organisation).order_by(Organisation.name, User.name))
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name))
    return {"users": list(users), "organisations": list(organisations), "min_password": MIN_PASSWORD_CHARS,
            "link_days": PASSWORD_LINK_LIFETIME.days}


def get_user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404, _("User not found."))
    return user


@bp.get("/admin")
@login_required
def admin():
    require_admin()
    return redirect(url_for("people.users"))


@bp.get("/admin/users")
@login_required
def users():
    require_admin()
    return render_template("people/users.html", new_link=shown_link("password"), **users_context())


@bp.post("/admin/users")
@login_required
def create_user_():
    require_admin()
    form = request.form
    try:
        user = create_user(current_user, form.get("name"), form.get("email"), form.get("organisation"),
                           form.get("password"))
    except PeopleError as error:
        return refused("people/users.html", error, "new-user", **users_context())
    db.session.commit()
    flash(_("Account created for %(name)s (%(email)s). Pass on the initial password by a safe route.",
            name=user.name, email=user.email), "ok")
    return redirect(url_for("people.users") + f"#user-{user.id}")


def user_action(user_id: int, action, message):
    """Run an action on an account from the users page; flash its outcome (`message(user)`)."""
    require_admin()
    user = get_user_or_404(user_id)
    try:
        action(current_user, user)
    except PeopleError as error:
        return refused("people/users.html", error, f"user-{user.id}", **users_context())
    db.session.commit()
    flash(message(user), "ok")
    return redirect(url_for("people.users") + f"#user-{user.id}")


@bp.post("/admin/users/<int:user_id>/deactivate")
@login_required
def deactivate(user_id: int):
    return user_action(user_id, deactivate_user, lambda user: _(
        "%(name)s is deactivated: they can no longer log in, and their sessions and API tokens stopped working.",
        name=user.name))


@bp.post("/admin/users/<int:user_id>/reactivate")
@login_required
def reactivate(user_id: int):
    return user_action(user_id, reactivate_user,
                       lambda user: _("%(name)s is active again and can log in.", name=user.name))


@bp.post("/admin/users/<int:user_id>/password")
@login_required
def set_user_password(user_id: int):
    def action(actor, user):
        set_password(actor, user, request.form.get("password"), request.form.get("confirm"))
    return user_action(user_id, action, lambda user: _(
        "New password set for %(name)s; their open sessions ended. Pass it on by a safe route.", name=user.name))


@bp.post("/admin/users/<int:user_id>/password-link")
@login_required
def make_password_link(user_id: int):
    require_admin()
    user = get_user_or_404(user_id)
    try:
        link = password_link(current_user, user)
    except PeopleError as error:
        return refused("people/users.html", error, f"user-{user.id}", **users_context())
    db.session.commit()
    session[NEW_LINK] = {"kind": "password", "id": user.id, "url": link}
    flash(_("A one-time link for %(name)s to set a password is ready below.", name=user.name), "ok")
    return redirect(url_for("people.users") + f"#user-{user.id}")


def organisations_context() -> dict:
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name))
    return {"organisations": list(organisations)}


@bp.get("/admin/organisations")
@login_required
def organisations():
    require_admin()
    return render_template("people/organisations.html", **organisations_context())


@bp.post("/admin/organisations")
@login_required
def create_organisation_():
    require_admin()
    try:
        organisation = create_organisation(current_user, request.form.get("name"), request.form.get("country"))
    except PeopleError as error:
        return refused("people/organisations.html", error, "new-org", **organisations_context())
    db.session.commit()
    flash(_("%(name)s (%(country)s) added.", name=organisation.name, country=organisation.country), "ok")
    return redirect(url_for("people.organisations"))


# ---- a document's members and participating clusters ----------------------------------------------

def members_context(document) -> dict:
    """The members page: members, clusters with their signatories, and what the admin may add."""
    memberships = sorted(db.session.scalars(select(Membership).where(Membership.document_id == document.id)),
                         key=lambda m: (m.user.name.lower(), m.user.id))
    member_ids = {m.user_id for m in memberships}
    clusters = []
    for participation in sorted(document.active_participations, key=lambda p: p.organisation.name):
        signatories = [m.user for m in memberships
                       if m.role == "signatory" and m.user.organisation_id == participation.organisation_id]
        clusters.append({"participation": participation, "organisation": participation.organisation,
                         "signatories": [u for u in signatories if u.is_active],
                         "inactive_signatories": [u for u in signatories if not u.is_active]})
    withdrawn = sorted((p for p in document.participations if p.withdrawn_at is not None),
                       key=lambda p: p.withdrawn_at, reverse=True)
    context = {"document": document, "memberships": memberships, "clusters": clusters, "withdrawn": withdrawn,
               "roles": ROLES, "invitation_days": INVITATION_LIFETIME.days}
    if permissions.may_administer(current_user):
        active_ids = {p.organisation_id for p in document.active_participations}
        organisations = list(db.session.scalars(select(Organisation).order_by(Organisation.name)))
        candidates = db.session.scalars(select(User).join(User.organisation)
                                        .where(User.deactivated_at.is_(None)).order_by(Organisation.name, User.name))
        context.update(
            candidates=[u for u in candidates if u.id not in member_ids],
            organisations=organisations,
            addable=[o for o in organisations if o.id not in active_ids],
            invitations=pending_invitations(document),
        )
    return context


def members_page_refused(document, error: DocumentError, form: str, field: str | None = None):
    return refused("people/members.html", error, form, field, **members_context(document))


def back_to_members(document, anchor: str = ""):
    return redirect(url_for("people.members", document_id=document.id) + anchor)


@bp.get("/documents/<int:document_id>/members")
@login_required
def members(document_id: int):
    document = get_document_or_404(document_id)
    new_link = shown_link("invitation") if permissions.may_administer(current_user) else None
    return render_template("people/members.html", new_link=new_link, **members_context(document))


@bp.post("/documents/<int:document_id>/members")
@login_required
def add_member_(document_id: int):
    document = get_document_or_404(document_id, "manage")
    try:
        membership = add_member(current_user, document, request.form.get("email"), request.form.get("role"))
    except DocumentError as error:
        return members_page_refused(document, error, "member", error.field or "email")
    db.session.commit()
    flash(_("%(name)s is now %(role)s of this document.", name=membership.user.name,
            role=ROLE_LABELS.get(membership.role, membership.role)), "ok")
    return back_to_members(document, f"#member-{membership.user_id}")


@bp.post("/documents/<int:document_id>/members/<int:user_id>/role")
@login_required
def change_role(document_id: int, user_id: int):
    document = get_document_or_404(document_id, "manage")
    membership = db.session.scalar(select(Membership).where(Membership.document_id == document.id,
                                                           Membership.user_id == user_id))
    if membership is None:
        abort(404, _("That user has no role on this document."))
    try:
        add_member(current_user, document, membership.user.email, request.form.get("role"))
    except DocumentError as error:
        return members_page_refused(document, error, f"role-{user_id}", "role")
    db.session.commit()
    flash(_("%(name)s is now %(role)s of this document.", name=membership.user.name,
            role=ROLE_LABELS.get(membership.role, membership.role)), "ok")
    return back_to_members(document, f"#member-{user_id}")


@bp.post("/documents/<int:document_id>/members/<int:user_id>/remove")
@login_required
def remove_member_(document_id: int, user_id: int):
    document = get_document_or_404(document_id, "manage")
    user = db.session.get(User, user_id)
    if user is None:
        abort(404, _("That user has no role on this document."))
    remove_member(current_user, document, user_id)
    db.session.commit()
    flash(_("%(name)s no longer has a role on this document.", name=user.name), "ok")
    return back_to_members(document, "#members-title")


@bp.post("/documents/<int:document_id>/participants")
@login_required
def add_participant_(document_id: int):
    document = get_document_or_404(document_id, "manage")
    try:
        participation = add_participant(current_user, document, request.form.get("organisation"))
    except DocumentError as error:
        return members_page_refused(document, error, "participant", "organisation")
    db.session.commit()
    flash(_("%(name)s now takes part: a signatory of it has to sign before adoption.",
            name=participation.organisation.name), "ok")
    return back_to_members(document, f"#cluster-{participation.organisation_id}")


@bp.post("/documents/<int:document_id>/participants/<int:organisation_id>/withdraw")
@login_required
def withdraw(document_id: int, organisation_id: int):
    document = get_document_or_404(document_id, "manage")
    try:
        participation = withdraw_participant(current_user, document, organisation_id, request.form.get("reason"))
    except DocumentError as error:
        return members_page_refused(document, error, f"withdraw-{organisation_id}", "reason")
    db.session.commit()
    message = _("%(name)s has withdrawn; its approvals, if any, are no longer valid.",
                name=participation.organisation.name)
    if document.phase == "adopted":
        message += " " + _("Every remaining participating organisation had signed: the document is adopted.")
    flash(message, "ok")
    return back_to_members(document, "#withdrawn-title")


@bp.post("/documents/<int:document_id>/invitations")
@login_required
def invite_(document_id: int):
    document = get_document_or_404(document_id, "manage")
    form = request.form
    try:
        invitation, secret = invite(current_user, document, form.get("email"), form.get("name"),
                                    form.get("organisation"), form.get("role"))
    except PeopleError as error:
        return members_page_refused(document, error, "invite")
    db.session.commit()
    if current_app.config.get("MAIL_SERVER"):  # the link went by e-mail: it is not shown (nor kept) here
        flash(_("Invitation for %(email)s created. An e-mail with the link was queued to them.",
                email=invitation.email), "ok")
        return back_to_members(document, f"#invitation-{invitation.id}")
    session[NEW_LINK] = {"kind": "invitation", "id": invitation.id, "url": invitation_link(secret),
                         "email": invitation.email}
    flash(_("Invitation for %(email)s created. No e-mail is sent yet (no mail server is configured): "
            "pass the link below on to them.", email=invitation.email), "ok")
    return back_to_members(document, "#new-link")


@bp.post("/documents/<int:document_id>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke(document_id: int, invitation_id: int):
    document = get_document_or_404(document_id, "manage")
    try:
        invitation = revoke_invitation(current_user, document, invitation_id)
    except PeopleError as error:
        return members_page_refused(document, error, f"revoke-{invitation_id}")
    db.session.commit()
    flash(_("The invitation of %(email)s is withdrawn: its link no longer works.", email=invitation.email), "ok")
    return back_to_members(document, "#invitations-title")


# ---- one-time links: accepting an invitation, setting a password --------------------------------

def link_gone(error: PeopleError):
    db.session.rollback()
    return render_template("people/link_gone.html", status=error.status, message=error.message), error.status


@bp.route("/invitations/<secret>", methods=["GET", "POST"])
def invitation_page(secret: str):
    try:
        invitation = invitation_for(secret)
    except PeopleError as error:
        return link_gone(error)
    document = db.session.get(Document, invitation.document_id)  # the link itself shows its title
    account = user_with_email(invitation.email)
    me = current_user._get_current_object() if current_user.is_authenticated else None
    if account is not None and not account.is_active:
        return link_gone(PeopleError(403, _("The account for this e-mail address is deactivated. Ask the "
                                            "secretariat if you need access again.")))
    context = {"invitation": invitation, "document": document, "account": account, "me": me,
               "min_password": MIN_PASSWORD_CHARS}
    if request.method == "GET" or (account is not None and (me is None or me.id != account.id)):
        return render_template("people/invitation.html", **context)
    try:
        person = accept_invitation(invitation, account, request.form.get("password"), request.form.get("confirm"))
        db.session.commit()
    except PeopleError as error:
        if error.status == 410:
            return link_gone(error)
        db.session.rollback()
        return render_template("people/invitation.html", errors={error.field or "password": error.message},
                               **context), error.status
    except IntegrityError:  # the same address got an account a moment ago, through another link
        return link_gone(PeopleError(409, _("An account with this e-mail address was created meanwhile: log in "
                                            "with it, then open this link again.")))
    if account is None:
        login_user(person)
    flash(_("Welcome, %(name)s: you are %(role)s of this document.", name=person.name,
            role=ROLE_LABELS.get(invitation.role, invitation.role)), "ok")
    return redirect(url_for("documents.page", document_id=invitation.document_id))


@bp.route("/password/<token>", methods=["GET", "POST"])
def set_password_page(token: str):
    try:
        user = user_for_password_link(token)
    except PeopleError as error:
        return link_gone(error)
    context = {"user": user, "min_password": MIN_PASSWORD_CHARS}
    if request.method == "GET":
        return render_template("people/set_password.html", **context)
    try:
        set_password(user, user, request.form.get("password"), request.form.get("confirm"))
    except PeopleError as error:
        db.session.rollback()
        return render_template("people/set_password.html", errors={error.field or "password": error.message},
                               **context), error.status
    db.session.commit()
    login_user(user)
    flash(_("Your password is set: you are logged in."), "ok")
    return redirect(url_for("documents.index"))


# ---- your own API tokens --------------------------------------------------------------------------

NEW_TOKEN = "people_new_token"  # a secret just made, shown once on the next page (session)


def _tokens_page(code: int = 200, errors: dict | None = None, typed: dict | None = None):
    new = session.pop(NEW_TOKEN, None)
    return render_template("people/tokens.html", tokens=tokens_of(current_user), new_token=new,
                           choices=EXPIRY_CHOICES, errors=errors or {}, typed=typed or {},
                           failed_form="token" if errors else None), code


@bp.get("/settings/tokens")
@login_required
def tokens():
    """Your personal API tokens: make one (shown once), see when each was used, revoke."""
    return _tokens_page()


@bp.post("/settings/tokens")
@login_required
def make_token():
    raw_days = request.form.get("expires_in_days", "90")
    days = None if raw_days == "never" else parse_int(raw_days)
    try:
        if days is None and raw_days != "never":
            raise TokenError(422, _("Choose when the token expires."), "expires_in_days")
        token, secret = issue_token(current_user, request.form.get("name", ""), days)
    except TokenError as error:
        db.session.rollback()
        return _tokens_page(error.status, {f"token-{error.field or 'name'}": error.message},
                            {"name": request.form.get("name", ""), "expires_in_days": raw_days})
    db.session.commit()
    session[NEW_TOKEN] = {"id": token.id, "secret": secret}
    flash(_("Token “%(name)s” made. Copy it now: it is shown only once.", name=token.name), "ok")
    return redirect(url_for("people.tokens") + "#new-token")


@bp.post("/settings/tokens/<int:token_id>/revoke")
@login_required
def revoke_own_token(token_id: int):
    token = own_token(current_user, token_id)
    if token is None:
        abort(404, _("No token of yours has this id."))
    revoke_token(token)
    db.session.commit()
    flash(_("Token “%(name)s” revoked: it no longer works.", name=token.name or token.id), "ok")
    return redirect(url_for("people.tokens"))


def _language_page(code: int = 200, error: str | None = None):
    return render_template("people/language.html", zones=timezones(), error=error,
                           browser=request.accept_languages.best_match(list(LANGUAGES), DEFAULT_LANGUAGE)), code


@bp.get("/settings/language")
@login_required
def language_settings():
    """Your interface language (or your browser's) and the time zone dates are shown in."""
    return _language_page()


@bp.post("/settings/language")
@login_required
def save_language_settings():
    chosen, zone = request.form.get("locale", ""), request.form.get("timezone", "")
    if chosen and clean_language(chosen) is None:
        return _language_page(422, _("Choose one of the languages in the list."))
    if zone and zone not in timezones():
        return _language_page(422, _("Choose one of the time zones in the list."))
    current_user.locale = chosen or None
    current_user.timezone = zone or None
    db.session.commit()
    refresh()  # this very answer already in the new language and zone
    flash(_("Language and time zone saved."), "ok")
    return redirect(url_for("people.language_settings"))
