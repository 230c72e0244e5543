"""The content hash: SHA-256 over a canonical serialisation of a document's text."""

from __future__ import annotations

import hashlib
import json
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


def _action_part(action: dict | None) -> str:
    """An action's fields as canonical JSON (sorted keys, no spaces, UTF-8 as is), or empty."""
    if not action:
        return ""
    return json.dumps(action, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def clause_part_v2(label: str, kind: str, heading: str | None, text: str, action: dict | None) -> str:
    return UNIT.join((label, kind, heading or "", text, _action_part(action)))


def content_hash_v2(title: str, clauses: Iterable[tuple[str, str, str | None, str, dict | None]]) -> str:
    """Scheme 2 (documents made since clause kinds): each clause's label, kind, heading, text and
    action fields, in order; see docs/verification.md."""
    parts = ["drafting-content-v2", title]
    parts.extend(clause_part_v2(*clause) for clause in clauses)
    return hashlib.sha256(RECORD.join(parts).encode("utf-8")).hexdigest()


def clause_hash_v2(label: str, kind: str, heading: str | None, text: str, action: dict | None) -> str:
    return hashlib.sha256(clause_part_v2(label, kind, heading, text, action).encode("utf-8")).hexdigest()
