"""The API refuses what it does not read: a query parameter its description does not declare is
answered 422, like an unknown body field (routes.body), rather than silently ignored (a misspelt
filter would widen an answer without anyone noticing)."""

from __future__ import annotations

import re
from functools import cache

from flask import abort, request
from flask_babel import ngettext

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
        names = ", ".join(repr(n) for n in unknown[:5])
        if allowed:
            abort(422, ngettext("Unknown query parameter: %(names)s. This request takes: %(takes)s.",
                                "Unknown query parameters: %(names)s. This request takes: %(takes)s.",
                                len(unknown), names=names, takes=", ".join(sorted(allowed))))
        abort(422, ngettext("Unknown query parameter: %(names)s. This request takes: none.",
                            "Unknown query parameters: %(names)s. This request takes: none.", len(unknown),
                            names=names))
    return None
