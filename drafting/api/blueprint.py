"""The blueprint of the JSON API (/api/v1); its routes live in the modules beside it."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
