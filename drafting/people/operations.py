"""Organisations, user accounts and invitations: what the secretariat does to people.

Operations flush and record the audit event; they never commit. A refusal is a PeopleError: a
DocumentError (so the API answers it as one) that also names the form field it is about.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update

from .. import audit, live
from ..documents.operations import DocumentError, add_member
from ..extensions import db
from ..models import Document, Invitation, Membership, Organisation, User
from ..models.base import utcnow
from ..models.document import ROLE_LABELS, ROLES
from ..notifications import operations as notifications
from ..notifications import outbox
from .countries import COUNTRY_CODES

MIN_PASSWORD_CHARS = 8  # as `flask create-user` asks
MAX_PASSWORD_CHARS = 1024
MAX_NAME_CHARS = 200
MAX_EMAIL_CHARS = 254
INVITATION_LIFETIME = timedelta(days=7)
PASSWORD_LINK_LIFETIME = timedelta(days=3)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PASSWORD_LINK_SALT = "drafting-set-password"


class PeopleError(DocumentError):
    """A request about people that cannot be carried out; `field` names the input it is about."""


# ---- checking what was typed ----------------------------------------------------------------------

def clean_email(value: object, field: str = "email") -> str:
    """Return the e-mail address, trimmed and in lower case, or raise 422."""
    email = value.strip().lower() if isinstance(value, str) else ""
    if not email:
        raise PeopleError(422, _("Enter an e-mail address."), field)
    if len(email) > MAX_EMAIL_CHARS or not _EMAIL.fullmatch(email):
        raise PeopleError(422, _("That is not an e-mail address (like name@cluster.example)."), field)
    return email


def clean_name(value: object, what: str, field: str = "name") -> str:
    """Return a name with its spaces tidied, or raise 422/413; `what` is "organisation's name" or
    "person's name"."""
    name = " ".join(value.split()) if isinstance(value, str) else ""
    organisation = what == "organisation's name"
    if not name:
        raise PeopleError(422, _("Enter the organisation's name.") if organisation else _("Enter the person's name."),
                          field)
    if len(name) > MAX_NAME_CHARS:
        message = (_("The organisation's name is limited to %(limit)s characters.", limit=MAX_NAME_CHARS)
                   if organisation else
                   _("The person's name is limited to %(limit)s characters.", limit=MAX_NAME_CHARS))
        raise PeopleError(413, message, field)
    return name


def clean_password(password: object, confirm: object = ..., field: str = "password") -> str:
    """Return the new password, or raise 422 (too short, or not typed the same twice)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise PeopleError(422, ngettext("The password needs at least %(num)s character.",
                                        "The password needs at least %(num)s characters.", MIN_PASSWORD_CHARS), field)
    if len(password) > MAX_PASSWORD_CHARS:
        raise PeopleError(413, ngettext("The password is limited to %(num)s character.",
                                        "The password is limited to %(num)s characters.", MAX_PASSWORD_CHARS), field)
    if confirm is not ... and confirm != password:
        raise PeopleError(422, _("The two passwords are not the same: type it again twice."), "confirm")
    return password


def organisation_by_id(value: object, field: str = "organisation") -> Organisation:
    organisation = None
    if isinstance(value, int) or (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10):
        organisation = db.session.get(Organisation, int(value))
    if organisation is None:
        raise PeopleError(422, _("Choose the user's organisation from the list."), field)
    return organisation


def organisation_by_name(value: object, field: str = "organisation") -> Organisation:
    organisation = None
    if isinstance(value, str) and value.strip():
        organisation = db.session.scalar(select(Organisation).where(Organisation.name == value.strip()))
    if organisation is None:
        raise PeopleError(422, _("No organisation has that name."), field)
    return organisation


def user_with_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


# ---- organisations and users ----------------------------------------------------------------------

def create_organisation(actor: User, name: object, country: object) -> Organisation:
    """Add a cluster or network with its country (ISO 3166 alpha-2)."""
    name = clean_name(name, "organisation's name")
    code = country.strip().upper() if isinstance(country, str) else ""
    if code not in COUNTRY_CODES:
        raise PeopleError(422, _("Enter the country as its two-letter ISO 3166 code, for example SE for "
                                 "Sweden or BE for Belgium."), "country")
    taken = db.session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower()))
    if taken is not None:
        raise PeopleError(409, _("An organisation called %(name)s already exists.", name=taken.name), "name")
    organisation = Organisation(name=name, country=code)
    db.session.add(organisation)
    db.session.flush()
    audit.record(actor, None, "organisation.created", "organisation", organisation.id, name=name, country=code)
    return organisation


def create_user(actor: User, name: object, email: object, organisation_id: object, password: object) -> User:
    """Create an account with an initial password; the person can log in at once."""
    name = clean_name(name, "person's name")
    email = clean_email(email)
    organisation = organisation_by_id(organisation_id)
    password = clean_password(password)
    if user_with_email(email) is not None:
        raise PeopleError(409, _("An account with the e-mail address %(email)s already exists.", email=email),
                          "email")
    user = User(name=name, email=email, organisation=organisation)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, None, "user.created", "user", user.id, email=email, organisation=organisation.name)
    return user


def deactivate_user(actor: User, user: User) -> User:
    """Close an account: it can no longer log in, its sessions and tokens stop at once; its work stays."""
    if user.id == actor.id:
        raise PeopleError(422, _("You cannot deactivate your own account: ask another administrator."))
    if user.deactivated_at is not None:
        raise PeopleError(409, _("The account of %(name)s is already deactivated.", name=user.name))
    user.deactivated_at = utcnow()
    user.session_epoch += 1  # every copy of their session cookie is stale now
    db.session.flush()
    audit.record(actor, None, "user.deactivated", "user", user.id, email=user.email)
    live.evict(user.id)  # their open pages leave every document room after the commit
    return user


def reactivate_user(actor: User, user: User) -> User:
    """Open a deactivated account again; the person logs in with their password as before."""
    if user.deactivated_at is None:
        raise PeopleError(409, _("The account of %(name)s is active.", name=user.name))
    user.deactivated_at = None
    db.session.flush()
    audit.record(actor, None, "user.reactivated", "user", user.id, email=user.email)
    return user


def set_password(actor: User, user: User, password: object, confirm: object = ...) -> User:
    """Give the account a new password; its other sessions end."""
    user.set_password(clean_password(password, confirm))
    user.session_epoch += 1
    db.session.flush()
    action = "user.password_reset" if actor.id == user.id else "user.password_set"
    audit.record(actor, None, action, "user", user.id, email=user.email)
    return user


# A link to set a password carries the account and a fingerprint of its password hash, signed
# with the app's secret key: once a password is set the fingerprint no longer matches, so the
# link works once (and never after the account's password changed in another way).

def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:24]


def _password_links() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_PASSWORD_LINK_SALT)


def password_link(actor: User, user: User) -> str:
    """Return a one-time link with which the person sets a new password (valid 3 days)."""
    if not user.is_active:
        raise PeopleError(422, _("The account of %(name)s is deactivated: reactivate it first.", name=user.name))
    token = _password_links().dumps([user.id, _fingerprint(user)])
    audit.record(actor, None, "user.password_link_created", "user", user.id, email=user.email)
    return public_url("people.set_password_page", token=token)


def user_for_password_link(token: str) -> User:
    """Return the account a set-password link is for, or raise 410 (expired, used) or 404."""
    try:
        user_id, fingerprint = _password_links().loads(token, max_age=int(PASSWORD_LINK_LIFETIME.total_seconds()))
    except SignatureExpired:
        raise PeopleError(410, _("This link has expired. Ask the secretariat for a new one.")) from None
    except (BadSignature, ValueError, TypeError):
        raise PeopleError(404, _("This link is not valid. Check that it was copied whole.")) from None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None:
        raise PeopleError(404, _("This link is not valid. Check that it was copied whole."))
    if fingerprint != _fingerprint(user):
        raise PeopleError(410, _("This link has been used already: the password was set with it. "
                                 "Log in, or ask the secretariat for a new link."))
    if not user.is_active:
        raise PeopleError(410, _("This account is deactivated. Ask the secretariat if you need access again."))
    return user


def public_url(endpoint: str, **values) -> str:
    """An absolute link to pass on, on the deployment's public address (never this request's Host)."""
    return outbox.public_url(url_for(endpoint, **values))


# ---- members of a document ----------------------------------------------------------------------

def members_json(document: Document) -> list[dict]:
    """The document's members for the API, by name."""
    memberships = db.session.scalars(select(Membership).where(Membership.document_id == document.id))
    rows = sorted(memberships, key=lambda m: (m.user.name.lower(), m.user.id))
    return [{"user_id": m.user.id, "email": m.user.email, "name": m.user.name,
             "organisation": m.user.organisation.name, "role": m.role} for m in rows]


# ---- invitations --------------------------------------------------------------------------------

def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def invite(actor: User, document: Document, email: object, name: object, organisation: object,
           role: object) -> tuple[Invitation, str]:
    """Invite a person to the document with a role; return the invitation and its one-time secret.

    Only the secret's SHA-256 is stored. A pending invitation of the same address to this
    document is replaced (its link stops working).
    """
    email = clean_email(email)
    name = clean_name(name, "person's name")
    organisation = organisation_by_name(organisation)
    if role not in ROLES:
        raise PeopleError(422, _("Role must be one of: %(roles)s.", roles=", ".join(ROLES)), "role")
    existing = user_with_email(email)
    if existing is not None:
        if not existing.is_active:
            raise PeopleError(422, _("The account of %(name)s (%(email)s) is deactivated: reactivate it "
                                     "instead of inviting it.", name=existing.name, email=email), "email")
        membership = db.session.scalar(select(Membership).where(
            Membership.document_id == document.id, Membership.user_id == existing.id))
        if membership is not None:
            raise PeopleError(409, _("%(name)s (%(email)s) is already a member of this document, as %(role)s. "
                                     "Change their role in the list of members.", name=existing.name, email=email,
                                     role=ROLE_LABELS.get(membership.role, membership.role)), "email")
        if existing.organisation_id != organisation.id:  # an account takes part for its own cluster only
            raise PeopleError(422, _("%(name)s (%(email)s) already has an account as a member of %(organisation)s: "
                                     "they can be invited for that cluster only, not for %(other)s.",
                                     name=existing.name, email=email, organisation=existing.organisation.name,
                                     other=organisation.name), "organisation")
    now = utcnow()
    for earlier in pending_invitations(document, email=email):
        earlier.revoked_at = now
        audit.record(actor, document, "invitation.revoked", "invitation", earlier.id, email=email,
                     replaced=True)
    secret = secrets.token_urlsafe(32)
    invitation = Invitation(document_id=document.id, email=email, name=name, organisation=organisation,
                            role=role, token_hash=_hash(secret), invited_by_id=actor.id, created_at=now,
                            expires_at=now + INVITATION_LIFETIME)
    db.session.add(invitation)
    db.session.flush()
    audit.record(actor, document, "invitation.created", "invitation", invitation.id, email=email, name=name,
                 organisation=organisation.name, role=role, expires_at=invitation.expires_at.isoformat())
    notifications.invitation_sent(invitation, actor, invitation_link(secret))
    return invitation, secret


def invitation_link(secret: str) -> str:
    return public_url("people.invitation_page", secret=secret)


def invitation_json(invitation: Invitation, secret: str | None = None) -> dict:
    data = {"id": invitation.id, "email": invitation.email,
            "expires_at": invitation.expires_at.isoformat(timespec="seconds") + "Z"}
    if secret is not None:
        data["link"] = invitation_link(secret)
    return data


def pending_invitations(document: Document, email: str | None = None) -> list[Invitation]:
    """The invitations of the document still waiting for an answer, soonest to expire first."""
    query = (select(Invitation).where(Invitation.document_id == document.id, Invitation.accepted_at.is_(None),
                                      Invitation.revoked_at.is_(None), Invitation.expires_at > utcnow())
             .order_by(Invitation.expires_at, Invitation.id))
    if email is not None:
        query = query.where(Invitation.email == email)
    return list(db.session.scalars(query))


def revoke_invitation(actor: User, document: Document, invitation_id: int) -> Invitation:
    """Withdraw a pending invitation: its link stops working."""
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.document_id != document.id:
        raise PeopleError(404, _("That invitation does not exist."))
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise PeopleError(409, _("The invitation of %(email)s is no longer pending.", email=invitation.email))
    invitation.revoked_at = utcnow()
    db.session.flush()
    audit.record(actor, document, "invitation.revoked", "invitation", invitation.id, email=invitation.email)
    return invitation


def invitation_for(secret: str) -> Invitation:
    """Return the invitation a link's secret opens, or raise 404 (unknown) or 410 (used, revoked, expired)."""
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == _hash(secret)))
    if invitation is None:
        raise PeopleError(404, _("This invitation link is not valid. Check that it was copied whole, or ask "
                                 "the secretariat for a new one."))
    _check_open(invitation, utcnow())
    return invitation


def _check_open(invitation: Invitation, now: datetime) -> None:
    if invitation.accepted_at is not None:
        raise PeopleError(410, _("This invitation has been used already. Log in with the password you set."))
    if invitation.revoked_at is not None:
        raise PeopleError(410, _("This invitation was withdrawn by the secretariat. Ask them for a new one "
                                 "if you should take part."))
    if invitation.expires_at <= now:
        raise PeopleError(410, _("This invitation has expired (links work for 7 days). Ask the secretariat "
                                 "for a new one."))


def accept_invitation(invitation: Invitation, person: User | None, password: object = None,
                      confirm: object = None) -> User:
    """Accept the invitation: create the account (or use `person`, the logged-in owner of its
    address) and give it the role on the document. The link works once.

    An account of another cluster than the invitation's is refused (409): the invitation would
    have them take part for a cluster they do not belong to (see `invite`).
    """
    document = db.session.get(Document, invitation.document_id)
    if person is None:
        password = clean_password(password, confirm)
    elif person.organisation_id != invitation.organisation_id:
        raise PeopleError(409, _("This invitation is for a member of %(invited)s, but your account belongs to "
                                 "%(organisation)s. Ask the secretariat for a new invitation.",
                                 invited=invitation.organisation.name, organisation=person.organisation.name),
                          "organisation")
    now = utcnow()
    # Claim the invitation first: of two concurrent uses, only one finds it still open.
    claimed = db.session.execute(
        update(Invitation).where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None),
                                 Invitation.revoked_at.is_(None), Invitation.expires_at > now)
        .values(accepted_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        db.session.refresh(invitation)
        _check_open(invitation, now)
        raise PeopleError(410, _("This invitation is no longer open."))
    created = person is None
    if created:
        person = User(email=invitation.email, name=invitation.name, organisation_id=invitation.organisation_id)
        person.set_password(password)
        db.session.add(person)
        db.session.flush()
        audit.record(person, None, "user.created", "user", person.id, email=person.email,
                     organisation=invitation.organisation.name, invitation=invitation.id)
    add_member(person, document, person.email, invitation.role)
    invitation.accepted_at, invitation.user_id = now, person.id
    db.session.flush()
    audit.record(person, document, "invitation.accepted", "invitation", invitation.id, email=invitation.email,
                 role=invitation.role, new_account=created)
    return person
