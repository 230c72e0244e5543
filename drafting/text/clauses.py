"""Validation and normalisation of clause text, which is plain Unicode stored as typed."""

from __future__ import annotations

from flask_babel import gettext as _

from ..errors import DomainError
from ..i18n import number

MAX_CLAUSE_CHARS = 50_000
MAX_HEADING_CHARS = 300


class TextError(DomainError):
    """A clause text or heading that cannot be stored; carries the HTTP status to answer."""

    default_field = "text"


def normalise_newlines(text: str) -> str:
    """Turn CRLF and CR (as browsers submit textareas) into LF; nothing else changes."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def clean_clause_text(text: object, limit: int = MAX_CLAUSE_CHARS) -> str:
    """Return the text to store, or raise TextError: 422 empty, 413 too long."""
    if not isinstance(text, str):
        raise TextError(422, _("Clause text must be a string."))
    text = normalise_newlines(text)
    if not text.strip():
        raise TextError(422, _("Clause text cannot be empty."))
    if len(text) > limit:
        raise TextError(413, _("Clause text is %(length)s characters; the limit is %(limit)s.",
                                length=number(len(text)), limit=number(limit)))
    return text


def clean_heading(heading: object) -> str | None:
    """Return the heading to store (None when blank), or raise TextError 422/413."""
    if heading is None:
        return None
    if not isinstance(heading, str):
        raise TextError(422, _("Heading must be a string."), "heading")
    heading = " ".join(heading.split())
    if len(heading) > MAX_HEADING_CHARS:
        raise TextError(413, _("Headings are limited to %(limit)s characters.", limit=number(MAX_HEADING_CHARS)), "heading")
    return heading or None
