"""Export of documents (print view, Markdown, Word) and import of new documents from files."""

from flask import Blueprint

bp = Blueprint("exchange", __name__)

from . import routes  # noqa: E402,F401
