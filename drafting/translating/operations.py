"""Clause-aligned translations: save one, read a language's progress, tell what is stale.

A document is written and approved in its authentic language (`Document.language`); each clause
may have a translation per other language (`ClauseTranslation`), pinned to the clause version it
translates (`source_version`). Once the clause has a newer version the translation is stale: the
page shows what changed in the source since, and a translator updates the translation (or
confirms it) against the current version. Translations are versioned like clauses: a save from an
older translation version is merged three ways, and refused (409) when both changed the same
words. They are no part of the content hash nor of any approval.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select, tuple_, update

from .. import audit, live
from ..clauses.operations import _merge_value as merge_value
from ..errors import DomainError
from ..extensions import db
from ..i18n import LANGUAGES
from ..models import Clause, ClauseRevision, ClauseTranslation, Document, TranslationRevision, User
from ..models.base import is_db_int, utcnow
from ..text import offload
from ..text.clauses import TextError, clean_clause_text, clean_heading

STATUSES = ("translated", "stale", "missing")
MAX_TITLE_CHARS = 300


class TranslationConflict(DomainError):
    """A save from an older translation version that touches the same words as a newer one."""

    def __init__(self, translation: ClauseTranslation, yours: str):
        super().__init__(409, _("Someone else changed the same words of this translation meanwhile (now version "
                                "%(version)s). Nothing was saved: compare and save again.",
                                version=translation.version), "base_version")
        self.translation = translation
        self.yours = yours


def clean_language(document: Document, lang: object) -> str:
    """A language the document may be translated into, or TextError 422/404."""
    if not isinstance(lang, str) or lang not in LANGUAGES:
        raise TextError(404, _("No such language: the languages are %(codes)s.", codes=", ".join(LANGUAGES)), "lang")
    if lang == document.language:
        raise TextError(422, _("This is the document's authentic language: edit the clause itself."), "lang")
    return lang


def target_languages(document: Document) -> list[str]:
    """The languages a document may be translated into: all but its authentic one."""
    return [code for code in LANGUAGES if code != document.language]


def status_of(clause: Clause, translation: ClauseTranslation | None) -> str:
    if translation is None:
        return "missing"
    return "stale" if translation.source_version < clause.version else "translated"


def translations_by_clause(document: Document, lang: str) -> dict[int, ClauseTranslation]:
    """The document's translations into `lang`, by clause id (one query)."""
    rows = db.session.scalars(select(ClauseTranslation).join(Clause, ClauseTranslation.clause_id == Clause.id)
                              .where(Clause.document_id == document.id, ClauseTranslation.lang == lang))
    return {row.clause_id: row for row in rows}


def translation_of(clause: Clause, lang: str) -> ClauseTranslation | None:
    """The clause's translation into `lang`, if any (one row, not the document's)."""
    return db.session.scalar(select(ClauseTranslation).where(ClauseTranslation.clause_id == clause.id,
                                                             ClauseTranslation.lang == lang))


@dataclass
class Progress:
    lang: str
    translated: int
    stale: int
    missing: int

    @property
    def total(self) -> int:
        return self.translated + self.stale + self.missing

    @property
    def percent(self) -> int:
        return round(100 * self.translated / self.total) if self.total else 0

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.translated == self.total


def progress(document: Document) -> list[Progress]:
    """Per target language: how many live clauses are translated, stale and missing (one query)."""
    live_clauses = {c.id: c.version for c in document.clauses}
    rows = db.session.execute(select(ClauseTranslation.clause_id, ClauseTranslation.lang,
                                     ClauseTranslation.source_version)
                              .join(Clause, ClauseTranslation.clause_id == Clause.id)
                              .where(Clause.document_id == document.id, Clause.deleted_at.is_(None))).all()
    counts = {lang: [0, 0] for lang in target_languages(document)}
    for clause_id, lang, source_version in rows:
        if lang in counts and clause_id in live_clauses:
            counts[lang][0 if source_version >= live_clauses[clause_id] else 1] += 1
    total = len(live_clauses)
    return [Progress(lang, fresh, stale, total - fresh - stale) for lang, (fresh, stale) in counts.items()]


def source_revisions(wanted: list[tuple[int, int]]) -> dict[tuple[int, int], ClauseRevision]:
    """Clauses' revisions by (clause id, version), in one query (a page's stale rows, or one row)."""
    if not wanted:
        return {}
    rows = db.session.scalars(select(ClauseRevision).where(
        tuple_(ClauseRevision.clause_id, ClauseRevision.version).in_(wanted)))
    return {(row.clause_id, row.version): row for row in rows}


def _source_version(clause: Clause, value: object) -> int:
    if not is_db_int(value):
        raise TextError(422, _("source_version must be a positive integer: the clause version the translation "
                               "translates."), "source_version")
    if value > clause.version:
        raise TextError(422, _("Version %(version)s of this clause does not exist yet.", version=value),
                        "source_version")
    return value


def save_translation(clause: Clause, actor: User, lang: object, text: object, source_version: object,
                     heading: object = ..., base_version: object = None) -> ClauseTranslation:
    """Write the clause's translation into `lang`, pinned to `source_version`; merged with a
    concurrent save when `base_version` (the translation version the editor started from) is
    older, refused with TranslationConflict when both changed the same words."""
    document = clause.document
    lang = clean_language(document, lang)
    text = clean_clause_text(text)
    source = _source_version(clause, source_version)
    if base_version is not None and not is_db_int(base_version):
        raise TextError(422, _("base_version must be a positive integer."), "base_version")
    # One writer of the document at a time (the order every change takes its locks in); then the
    # translation is read as committed.
    live.locked_row(document)
    translation = db.session.scalar(select(ClauseTranslation).where(
        ClauseTranslation.clause_id == clause.id, ClauseTranslation.lang == lang)
        .execution_options(populate_existing=True))
    new_heading = translation.heading if translation is not None and heading is ... else (
        None if heading is ... else clean_heading(heading))
    now = utcnow()
    if translation is None:
        translation = ClauseTranslation(clause_id=clause.id, lang=lang, heading=new_heading, text=text,
                                        source_version=source, version=1, updated_at=now, updated_by_id=actor.id)
        db.session.add(translation)
        db.session.flush()
    else:
        if base_version is not None and base_version < translation.version:
            base = db.session.scalar(select(TranslationRevision).where(
                TranslationRevision.translation_id == translation.id, TranslationRevision.version == base_version))
            if base is None:
                raise TextError(422, _("Version %(version)s of this translation does not exist.",
                                       version=base_version), "base_version")
            merged = offload.merge(base.text, text, translation.text)
            # The heading three ways too, as a clause's: a stale form must not undo a newer heading.
            new_heading, heading_clean = merge_value(base.heading, new_heading, translation.heading)
            if not merged.clean or not heading_clean:
                raise TranslationConflict(translation, text)
            text = merged.text
            source = max(source, translation.source_version) if text != translation.text else source
        elif base_version is not None and base_version > translation.version:
            raise TextError(422, _("Version %(version)s of this translation does not exist yet.",
                                   version=base_version), "base_version")
        if (text, new_heading, source) == (translation.text, translation.heading, translation.source_version):
            return translation
        translation.version += 1
        translation.text, translation.heading, translation.source_version = text, new_heading, source
        translation.updated_at, translation.updated_by_id = now, actor.id
    db.session.add(TranslationRevision(translation_id=translation.id, version=translation.version,
                                       heading=translation.heading, text=translation.text,
                                       source_version=translation.source_version, author_id=actor.id,
                                       created_at=now))
    live.announce(document, "translation.updated", actor.id, clause_id=clause.id, lang=lang,
                  version=translation.version, source_version=translation.source_version)
    audit.record(actor, document, "translation.updated", "clause", clause.id, clause.id, lang=lang,
                 version=translation.version, source_version=translation.source_version)
    return translation


def save_title(document: Document, actor: User, lang: object, title: object) -> str | None:
    """Set (or, empty, remove) the document's title in `lang`."""
    lang = clean_language(document, lang)
    if not isinstance(title, str):
        raise TextError(422, _("The title must be a text."), "title")
    title = " ".join(title.split())
    if len(title) > MAX_TITLE_CHARS:
        raise TextError(413, _("Titles are limited to %(limit)s characters.", limit=MAX_TITLE_CHARS), "title")
    # The titles of every language are one value: hold the document's row and read them again, so a
    # title saved meanwhile in another language is kept, not overwritten with what this request read.
    live.locked_row(document)
    titles = dict(db.session.scalar(select(Document.title_translations).where(Document.id == document.id)) or {})
    if titles.get(lang) == (title or None):
        return title or None
    if title:
        titles[lang] = title
    else:
        titles.pop(lang, None)
    db.session.execute(update(Document).where(Document.id == document.id).values(title_translations=titles or None))
    document.title_translations = titles or None
    live.announce(document, "translation.updated", actor.id, clause_id=None, lang=lang)
    audit.record(actor, document, "translation.title", "document", document.id, lang=lang)
    return title or None


def translation_json(clause: Clause, translation: ClauseTranslation | None, number: int | None = None,
                     label: str | None = None) -> dict:
    return {"id": clause.id, "number": number, "label": label, "lang": translation.lang if translation else None,
            "heading": translation.heading if translation else None,
            "text": translation.text if translation else None,
            "source_version": translation.source_version if translation else None,
            "version": translation.version if translation else None,
            "clause_version": clause.version, "status": status_of(clause, translation),
            "stale": status_of(clause, translation) == "stale"}
