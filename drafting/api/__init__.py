from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import audit, consultation, exchange, history, routes, signoff, strict, tokens  # noqa: E402,F401
