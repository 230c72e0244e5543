"""Clause kinds and how the kinds number a text, the way declarations and action plans are numbered.

A declaration opens with a preamble (unnumbered) and recitals (lettered A, B, C ... separately),
then its articles (1, 2, 3); sections group what follows them and number it within themselves
(section 2 holds articles 2.1, 2.2); annexes take Roman numerals. A Joint Action Plan's actions
are numbered like articles. The label is what the page, the exports and the content hash show.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _

from ..i18n import N_, _l
from .clauses import TextError

KINDS = ("preamble", "recital", "article", "action", "section", "annex")
# The kinds' names in the exports and the content hash: English, whatever the reader's language.
KIND_LABELS = {"preamble": "Preamble", "recital": "Recital", "article": "Article", "action": "Action",
               "section": "Section", "annex": "Annex"}
# The same names as pages show them, in the person's language.
KIND_NAMES = {"preamble": _l("Preamble"), "recital": _l("Recital"), "article": _l("Article"), "action": _l("Action"),
              "section": _l("Section"), "annex": _l("Annex")}
# How a page names a numbered clause of each kind ("Article 2.1", "Recital B"), in the person's language.
_NUMBERED_NAMES = {"preamble": N_("Preamble %(label)s"), "recital": N_("Recital %(label)s"),
                   "article": N_("Article %(label)s"), "action": N_("Action %(label)s"),
                   "section": N_("Section %(label)s"), "annex": N_("Annex %(label)s")}
NUMBERED_IN_SECTIONS = frozenset({"article", "action"})


def default_kind(document_kind: str) -> str:
    """The kind a new clause takes unless it is given one: an action in a plan, else an article."""
    return "action" if document_kind in ("plan", "action_plan") else "article"


def clean_kind(value: object) -> str:
    """Return a valid kind, or raise TextError 422 naming the kinds."""
    if isinstance(value, str) and value.strip().lower() in KINDS:
        return value.strip().lower()
    raise TextError(422, _("The kind of a clause must be one of: %(kinds)s.", kinds=", ".join(KINDS)), "kind")


def letters(n: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA (spreadsheet columns)."""
    out = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        out = chr(65 + rest) + out
    return out


def roman(n: int) -> str:
    out = ""
    for value, numeral in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                           (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        count, n = divmod(n, value)
        out += numeral * count
    return out


# Kinds with a count of their own; every other kind (articles, actions) is numbered in sections.
COUNTED_APART = ("preamble", "recital", "section", "annex")


def label_of(kind: str, recitals: int, sections: int, annexes: int, articles: int) -> str:
    """The label of a clause of `kind` from what precedes it, itself included: the recitals,
    sections and annexes so far, and the articles (or actions) since the last section (all of
    them while there is none). `labels` numbers a whole text this way; `clause_label` (in
    documents.operations) has the database count for one clause."""
    if kind == "preamble":
        return ""
    if kind == "recital":
        return letters(recitals)
    if kind == "section":
        return str(sections)
    if kind == "annex":
        return roman(annexes)
    return f"{sections}.{articles}" if sections else str(articles)


def labels(kinds: Sequence[str]) -> list[str]:
    """The number each clause shows, from the kinds of the document's clauses in order.

    Preambles show none (""). Recitals are lettered, annexes take Roman numerals, sections are
    numbered 1, 2, 3; articles and actions are numbered 1, 2, 3 before any section and s.1, s.2
    within section s (each kind counts on its own, so recitals never shift the articles).
    """
    out = []
    recitals = sections = annexes = articles = 0
    for kind in kinds:
        if kind == "recital":
            recitals += 1
        elif kind == "section":
            sections += 1
            articles = 0
        elif kind == "annex":
            annexes += 1
        elif kind != "preamble":
            articles += 1
        out.append(label_of(kind, recitals, sections, annexes, articles))
    return out


def title(kind: str, label: str) -> str:
    """How a clause is named in running text and exports: "Article 2.1", "Recital B", "Preamble"."""
    name = KIND_LABELS.get(kind, "Clause")
    return f"{name} {label}".strip()


def display_title(kind: str, label: str) -> str:
    """How a page names a clause, in the person's language: "Article 2.1", "Recital B", "Preamble"
    (`title` names it in the exports, in English)."""
    label = label.strip()
    if not label:
        return str(KIND_NAMES.get(kind, _l("Clause")))
    return _(_NUMBERED_NAMES.get(kind, N_("Clause %(label)s")), label=label)
