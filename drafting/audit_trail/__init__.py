"""The audit trail of a document: who did what, when; filterable; admins and editors only."""

from flask import Blueprint

bp = Blueprint("audit_trail", __name__)

from . import routes  # noqa: E402,F401
