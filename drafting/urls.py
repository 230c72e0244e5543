"""Build the URLs of many rows quickly: `url_for` once per request, then only the id changes.

A document page links each of its clauses to a dozen routes. Building those with `url_for`
costs more than rendering the clause itself, and only the clause id differs from one clause to
the next. `IdUrl` asks `url_for` once, with a placeholder id, and substitutes each integer id
into the result; anything else (a string, a negative number) goes through `url_for` as usual.
Patterns are kept for one request only (in its WSGI environ, not in `g`, which an app context
held open across requests would share), so the script root and host are always this request's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import g, has_request_context, request, url_for

if TYPE_CHECKING:
    from .models import Clause

# An id no database row has and no other part of a URL contains (checked: it must occur once).
_PLACEHOLDER = 987_654_321_987_654_321
_MARK = str(_PLACEHOLDER)


class IdUrl:
    """The URLs of one endpoint for any integer value of one of its arguments."""

    __slots__ = ("endpoint", "key", "values", "_head", "_tail")

    def __init__(self, endpoint: str, key: str, **values) -> None:
        self.endpoint, self.key, self.values = endpoint, key, values
        parts = url_for(endpoint, **values, **{key: _PLACEHOLDER}).split(_MARK)
        # Two parts: the placeholder is exactly where the id goes; otherwise build every URL.
        self._head, self._tail = (parts[0], parts[1]) if len(parts) == 2 else (None, None)

    def __call__(self, value) -> str:
        """Return url_for(endpoint, key=value, **values)."""
        if type(value) is int and value >= 0 and self._head is not None:
            return f"{self._head}{value}{self._tail}"
        return url_for(self.endpoint, **self.values, **{self.key: value})


class ClauseLinks:
    """Every URL a clause's fragment links to (clauses/_clause.html, consultation/_clause_tools.html)."""

    __slots__ = ("show", "edit", "move", "delete", "new_after", "history", "discussion",
                 "discussion_expanded", "new_thread", "new_amendment", "contributions")

    def __init__(self, clause: Clause) -> None:
        cid = clause.id
        for name, pattern in _clause_patterns(clause.document_id):
            setattr(self, name, pattern(cid))


def _request_cache() -> dict:
    if has_request_context():
        return request.environ.setdefault("drafting.clause_url_patterns", {})
    return g.setdefault("clause_url_patterns", {})


def _clause_patterns(document_id: int) -> list[tuple[str, IdUrl]]:
    cache = _request_cache()
    patterns = cache.get(document_id)
    if patterns is None:
        patterns = cache[document_id] = [
            ("show", IdUrl("clauses.show", "clause_id")),
            ("edit", IdUrl("clauses.edit", "clause_id")),
            ("move", IdUrl("clauses.move", "clause_id")),
            ("delete", IdUrl("clauses.delete", "clause_id")),
            ("new_after", IdUrl("clauses.new", "after", document_id=document_id)),
            ("history", IdUrl("history.history", "clause_id")),
            ("discussion", IdUrl("consultation.clause_tools", "clause_id")),
            ("discussion_expanded", IdUrl("consultation.clause_tools", "clause_id", expanded=1)),
            ("new_thread", IdUrl("consultation.new_thread", "clause_id")),
            ("new_amendment", IdUrl("consultation.new_amendment", "clause_id")),
            ("contributions", IdUrl("consultation.contributions", "clause", document_id=document_id)),
        ]
    return patterns


def clause_links(clause: Clause) -> ClauseLinks:
    """Return the URLs of a clause's actions and discussion (for its fragment)."""
    return ClauseLinks(clause)
