"""A Joint Action Plan action's structured fields: who is responsible, when, with what money,
measured how. Versioned and merged with the clause's text (clauses.operations.save_clause).

    {"responsible": ["Vltava Digital Health Cluster", ...],   # participating organisations
     "start": "2025-H1", "end": "2026-H2",                    # half-years, 2024-H1 ... 2029-H2
     "funding": ["Horizon Europe", ...], "indicators": ["...", ...]}
"""

from __future__ import annotations

import re

from flask_babel import gettext as _

from ..i18n import N_, _l, number
from .clauses import TextError

FIRST_YEAR, LAST_YEAR = 2024, 2029
HALF_YEARS = tuple(f"{year}-H{half}" for year in range(FIRST_YEAR, LAST_YEAR + 1) for half in (1, 2))
# The rotating EU Council presidency of each half-year (Council decision (EU) 2016/1316 and its update).
# Shown in pages only (the exports write half-years as dates), in the person's language.
PRESIDENCIES = {
    "2024-H1": _l("Belgium"), "2024-H2": _l("Hungary"), "2025-H1": _l("Poland"), "2025-H2": _l("Denmark"),
    "2026-H1": _l("Cyprus"), "2026-H2": _l("Ireland"), "2027-H1": _l("Lithuania"), "2027-H2": _l("Greece"),
    "2028-H1": _l("Italy"), "2028-H2": _l("Latvia"), "2029-H1": _l("Luxembourg"), "2029-H2": _l("Netherlands"),
}
FIELDS = ("responsible", "start", "end", "funding", "indicators")
MAX_ITEMS = 30
MAX_ITEM_CHARS = 300
_HALF = re.compile(r"^(\d{4})-H([12])$")
# What a refused field says, by field: each a whole sentence.
_NOT_A_LIST = {"responsible": N_("Responsible clusters must be a list of texts."),
               "funding": N_("Funding sources must be a list of texts."),
               "indicators": N_("Indicators must be a list of texts.")}
_TOO_MANY = {"responsible": N_("Responsible clusters: at most %(count)s entries."),
             "funding": N_("Funding sources: at most %(count)s entries."),
             "indicators": N_("Indicators: at most %(count)s entries.")}
_TOO_LONG = {"responsible": N_("Responsible clusters: each entry is limited to %(count)s characters."),
             "funding": N_("Funding sources: each entry is limited to %(count)s characters."),
             "indicators": N_("Indicators: each entry is limited to %(count)s characters.")}
_NOT_A_HALF = {"start": N_("The start must be a half-year from %(first)s to %(last)s, such as 2025-H1."),
               "end": N_("The end must be a half-year from %(first)s to %(last)s, such as 2025-H1.")}


def half_year_label(half: str) -> str:
    match = _HALF.match(half)
    return f"{'January–June' if match.group(2) == '1' else 'July–December'} {match.group(1)}" if match else half


def _list(value: object, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):  # a form's textarea: one item per line
        value = value.splitlines()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TextError(422, _(_NOT_A_LIST[field]), field)
    items = [" ".join(v.split()) for v in value]
    items = [v for v in items if v]
    if len(items) > MAX_ITEMS:
        raise TextError(413, _(_TOO_MANY[field], count=number(MAX_ITEMS)), field)
    if any(len(v) > MAX_ITEM_CHARS for v in items):
        raise TextError(413, _(_TOO_LONG[field], count=number(MAX_ITEM_CHARS)), field)
    return list(dict.fromkeys(items))  # each once, in the order given


def _half(value: object, field: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or value.strip().upper() not in HALF_YEARS:
        raise TextError(422, _(_NOT_A_HALF[field], first=HALF_YEARS[0], last=HALF_YEARS[-1]), field)
    return value.strip().upper()


def clean_action(value: object, kind: str, document) -> dict | None:
    """Return the action's fields to store (None for any other kind), or raise TextError 422/413.

    `responsible` must name organisations taking part in the document (by name, any case)."""
    if kind != "action" or value is None:
        return None
    if not isinstance(value, dict):
        raise TextError(422, _("An action's fields must be an object: responsible, start, end, funding, indicators."),
                        "action")
    unknown = sorted(set(value) - set(FIELDS))
    if unknown:
        raise TextError(422, _("Unknown action field: %(unknown)s. The fields are %(fields)s.",
                               unknown=", ".join(map(str, unknown))[:100], fields=", ".join(FIELDS)), "action")
    participants = {p.organisation.name.casefold(): p.organisation.name for p in document.active_participations}
    responsible = []
    for name in _list(value.get("responsible"), "responsible"):
        if name.casefold() not in participants:
            raise TextError(422, _("“%(name)s” does not take part in this document; responsible clusters "
                                   "must be participating organisations.", name=name[:80]), "responsible")
        responsible.append(participants[name.casefold()])
    start = _half(value.get("start"), "start")
    end = _half(value.get("end"), "end")
    if start and end and HALF_YEARS.index(end) < HALF_YEARS.index(start):
        raise TextError(422, _("The end cannot come before the start."), "end")
    action = {"responsible": list(dict.fromkeys(responsible)), "start": start, "end": end,
              "funding": _list(value.get("funding"), "funding"),
              "indicators": _list(value.get("indicators"), "indicators")}
    return action


def half_years_of(action: dict | None) -> list[str]:
    """The half-years an action runs through (start to end; only the start or end when one is set)."""
    if not action:
        return []
    start, end = action.get("start"), action.get("end")
    if not start and not end:
        return []
    first = HALF_YEARS.index(start or end)
    last = HALF_YEARS.index(end or start)
    return list(HALF_YEARS[first:last + 1])
