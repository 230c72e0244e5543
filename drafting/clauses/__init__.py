from flask import Blueprint

bp = Blueprint("clauses", __name__)

from . import routes  # noqa: E402,F401
