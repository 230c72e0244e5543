"""A Joint Action Plan action's structured fields: who is responsible, when, with what money,
measured how. Versioned and merged with the clause's text (clauses.operations.save_clause).

    {"responsible": ["Vltava Digital Health Cluster", ...],   # participating organisations
     "start": "2025-H1", "end": "2026-H2",                    # half-years, 2024-H1 ... 2029-H2
     "funding": ["Horizon Europe", ...], "indicators": ["...", ...]}
"""

from __future__ import annotations

import re

from .clauses import TextError

FIRST_YEAR, LAST_YEAR = 2024, 2029
HALF_YEARS = tuple(f"{year}-H{half}" for year in range(FIRST_YEAR, LAST_YEAR + 1) for half in (1, 2))
# The rotating EU Council presidency of each half-year (Council decision (EU) 2016/1316 and its update).
PRESIDENCIES = {
    "2024-H1": "Belgium", "2024-H2": "Hungary", "2025-H1": "Poland", "2025-H2": "Denmark",
    "2026-H1": "Cyprus", "2026-H2": "Ireland", "2027-H1": "Lithuania", "2027-H2": "Greece",
    "2028-H1": "Italy", "2028-H2": "Latvia", "2029-H1": "Luxembourg", "2029-H2": "Netherlands",
}
FIELDS = ("responsible", "start", "end", "funding", "indicators")
MAX_ITEMS = 30
MAX_ITEM_CHARS = 300
_HALF = re.compile(r"^(\d{4})-H([12])$")


def half_year_label(half: str) -> str:
    match = _HALF.match(half)
    return f"{'January–June' if match.group(2) == '1' else 'July–December'} {match.group(1)}" if match else half


def _list(value: object, what: str, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):  # a form's textarea: one item per line
        value = value.splitlines()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TextError(422, f"{what} must be a list of texts.", field)
    items = [" ".join(v.split()) for v in value]
    items = [v for v in items if v]
    if len(items) > MAX_ITEMS:
        raise TextError(413, f"{what}: at most {MAX_ITEMS} entries.", field)
    if any(len(v) > MAX_ITEM_CHARS for v in items):
        raise TextError(413, f"{what}: each entry is limited to {MAX_ITEM_CHARS} characters.", field)
    return list(dict.fromkeys(items))  # each once, in the order given


def _half(value: object, what: str, field: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or value.strip().upper() not in HALF_YEARS:
        raise TextError(422, f"{what} must be a half-year from {HALF_YEARS[0]} to {HALF_YEARS[-1]}, "
                             "such as 2025-H1.", field)
    return value.strip().upper()


def clean_action(value: object, kind: str, document) -> dict | None:
    """Return the action's fields to store (None for any other kind), or raise TextError 422/413.

    `responsible` must name organisations taking part in the document (by name, any case)."""
    if kind != "action" or value is None:
        return None
    if not isinstance(value, dict):
        raise TextError(422, "An action's fields must be an object: responsible, start, end, funding, indicators.",
                        "action")
    unknown = sorted(set(value) - set(FIELDS))
    if unknown:
        raise TextError(422, f"Unknown action field: {', '.join(map(str, unknown))[:100]}. "
                             f"The fields are {', '.join(FIELDS)}.", "action")
    participants = {p.organisation.name.casefold(): p.organisation.name for p in document.active_participations}
    responsible = []
    for name in _list(value.get("responsible"), "Responsible clusters", "responsible"):
        if name.casefold() not in participants:
            raise TextError(422, f"“{name[:80]}” does not take part in this document; responsible clusters "
                                 "must be participating organisations.", "responsible")
        responsible.append(participants[name.casefold()])
    start = _half(value.get("start"), "The start", "start")
    end = _half(value.get("end"), "The end", "end")
    if start and end and HALF_YEARS.index(end) < HALF_YEARS.index(start):
        raise TextError(422, "The end cannot come before the start.", "end")
    action = {"responsible": list(dict.fromkeys(responsible)), "start": start, "end": end,
              "funding": _list(value.get("funding"), "Funding sources", "funding"),
              "indicators": _list(value.get("indicators"), "Indicators", "indicators")}
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
