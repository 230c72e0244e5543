from flask import Blueprint

bp = Blueprint("consultation", __name__)

from . import routes  # noqa: E402,F401
