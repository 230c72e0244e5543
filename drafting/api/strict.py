"""The API refuses what it does not read: a query parameter its description does not declare is
answered 422, like an unknown body field (routes.body), rather than silently ignored (a misspelt
filter would widen an answer without anyone noticing)."""

from __future__ import annotations

import re
from functools import cache

from flask import abort, request

from .blueprint import bp
from .openapi import spec

_VARIABLE = re.compile(r"<(?:[^:>]+:)?([^>]+)>")


@cache
def _declared() -> dict[tuple[str, str], frozenset[str]]:
    """Every described operation's query parameters, by (path, method)."""
    declared = {}
    for path, operations in spec()["paths"].items():
        for method, operation in operations.items():
            names = frozenset(p["name"] for p in operation.get("parameters", []) if p.get("in") == "query")
            declared[(path, method.upper())] = names
    return declared


@bp.before_request
def refuse_unknown_query_parameters():
    rule = request.url_rule
    if rule is None or not request.args:
        return None
    path = _VARIABLE.sub(r"{\1}", rule.rule).removeprefix(bp.url_prefix or "")
    allowed = _declared().get((path, request.method))
    if allowed is None:  # not described (the description itself)
        return None
    unknown = sorted({str(name)[:40] for name in request.args if name not in allowed})
    if unknown:
        takes = ", ".join(sorted(allowed)) or "none"
        abort(422, f"Unknown query parameter{'s' if len(unknown) > 1 else ''}: "
                   f"{', '.join(repr(n) for n in unknown[:5])}. This request takes: {takes}.")
    return None
