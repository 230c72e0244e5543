"""Phases and sign-off: moving a document between phases, approvals, verification, the certificate."""

from flask import Blueprint

bp = Blueprint("signoff", __name__)

from . import routes  # noqa: E402,F401
