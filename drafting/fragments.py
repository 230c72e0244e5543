"""Rendered clauses of the document page, kept between requests.

A document page renders every clause with its actions and discussion summary; with hundreds of
clauses that was most of the page's time, and it is rendered again and again: every member's
page load, and every viewer's refresh of the clause list after a clause is added, moved or
deleted. Between two loads most clauses are unchanged, so each clause's HTML is kept, keyed by
everything it is made from:

- the clause's id and version (every change of its text or heading makes a new version), its
  number and the number of clauses (the move buttons);
- what the viewer may do (edit, comment, propose amendments) and whether it changed since the
  viewer's last visit: two people share an entry only when their clause looks the same;
- the counts of its discussion summary; a discussion rendered inline (small documents) is
  never kept, as its comments are in it;
- the request's script root (links), language and time zone, and the compiled templates (a
  reload starts afresh).

The two values that differ per request, the document's seq and the CSRF token, are rendered as
markers and filled in on the way out. The store is per process, bounded (least recently used
go first), and CLAUSE_FRAGMENT_CACHE=0 turns it off.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import current_app, request
from flask_babel import get_locale, get_timezone
from jinja2 import pass_context
from markupsafe import Markup

from .consultation.queries import clause_consultation

SEQ_MARK = "00seqmark4a7f00"
TOKEN_MARK = "00tokenmark4a7f00"
CLAUSE_TEMPLATE = "clauses/_clause.html"
TOOLS_TEMPLATE = "consultation/_clause_tools.html"


class FragmentStore:
    """A bounded, thread-safe map of rendered fragments; least recently used go first."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[tuple, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> str | None:
        with self._lock:
            html = self._items.get(key)
            if html is not None:
                self._items.move_to_end(key)
            return html

    def put(self, key: tuple, html: str) -> None:
        with self._lock:
            self._items[key] = html
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def store() -> FragmentStore | None:
    return current_app.extensions.get("drafting.fragments")


def init_app(app) -> None:
    size = int(app.config.get("CLAUSE_FRAGMENT_CACHE", 0) or 0)
    app.extensions["drafting.fragments"] = FragmentStore(size) if size > 0 else None
    app.jinja_env.globals["clause_item"] = clause_item


def _key(ctx, clause, number: int) -> tuple | None:
    """Everything the clause's fragment depends on, or None when it must be rendered afresh."""
    if ctx.get("clause_status") or ctx.get("merged_diff") or ctx.get("consult"):
        return None
    document = ctx["document"]
    cc = clause_consultation(clause, document)
    on_demand = ctx.get("discussion_on_demand")
    discussed = bool(cc.threads or cc.amendments)
    if discussed and not on_demand:
        return None  # the discussion is rendered inline, comments and all
    changed = ctx.get("changed") or {}
    env = ctx.environment
    return (
        id(env.get_template(CLAUSE_TEMPLATE)), id(env.get_template(TOOLS_TEMPLATE)), request.script_root,
        str(get_locale()), str(get_timezone()),
        document.id, clause.id, clause.version, number, (ctx.get("labels") or {}).get(clause.id), ctx.get("total"),
        bool(ctx.get("editable")), bool(ctx.get("may_comment")), bool(ctx.get("may_amend")),
        changed[clause.id] if clause.id in changed else "unchanged",
        discussed, bool(on_demand), cc.open_threads, cc.resolved_threads, cc.open_amendments,
        len(cc.amendments), cc.contributions,
    )


@pass_context
def clause_item(ctx, clause, number: int) -> Markup:
    """Render one clause of the page's list (documents/_clauses.html), from the store if it can."""
    fragments = store()
    key = _key(ctx, clause, number) if fragments is not None else None
    html = fragments.get(key) if key is not None else None
    if html is None:  # render it: the page's context, as an include would see it
        template = ctx.environment.get_template(CLAUSE_TEMPLATE)
        values = {**ctx.get_all(), "clause": clause, "number": number}
        if key is None:
            return Markup(template.render(values))
        html = template.render({**values, "consult_seq": SEQ_MARK, "page_csrf_token": TOKEN_MARK})
        fragments.put(key, html)
    html = html.replace(SEQ_MARK, str(ctx["document"].seq))
    if TOKEN_MARK in html:
        html = html.replace(TOKEN_MARK, ctx["page_csrf_token"])
    return Markup(html)
