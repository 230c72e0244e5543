"""The content hash: SHA-256 over a canonical serialisation of a document's text."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

# ASCII record and unit separators cannot be typed into a clause, so fields cannot run together.
RECORD = "\x1e"
UNIT = "\x1f"


def content_hash(title: str, clauses: Iterable[tuple[int, str | None, str]]) -> str:
    """Hash a title and its ordered (number, heading, text) clauses; the one function for it."""
    parts = ["drafting-content-v1", title]
    for number, heading, text in clauses:
        parts.append(UNIT.join((str(number), heading or "", text)))
    return hashlib.sha256(RECORD.join(parts).encode("utf-8")).hexdigest()


def clause_hash(number: int, heading: str | None, text: str) -> str:
    """Hash one clause alone, as listed on the certificate of adoption."""
    data = UNIT.join((str(number), heading or "", text))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()
