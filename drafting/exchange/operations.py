"""Export of a document (HTML print view, Markdown, DOCX) and creation of a document from a file.

The conversions themselves are pure (`text/markdown.py`, `text/word.py`, `text/outline.py`); this
module gathers what they need from the database and, for imports, creates the document. An import
is checked completely (type, size, text, every clause) before anything is written, and it is
written in one transaction: a bad file creates nothing. How much a file may hold (bytes here,
paragraphs in `MAX_IMPORT_PARAGRAPHS` of the app's config) is checked before it is parsed.

The DOCX export with `from` (and `to`) writes the changes between two versions as Word's tracked
changes (`text/redline.py`): the clauses are paired by `history.operations.compare`, whose diffs
share its work budget, and each change is credited to the revision (or the deletion, or the
reordering) that made it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, tuple_
from sqlalchemy.orm import selectinload

from .. import audit, i18n, permissions
from ..clauses.operations import create_clause
from ..consultation.operations import find_passage
from ..documents.operations import (
    add_member,
    add_participant,
    create_document,
    document_hash,
    labelled_clauses,
)
from ..errors import DomainError
from ..extensions import db
from ..history.operations import Side, compare, current_side, get_snapshot, snapshot_side
from ..models import AuditEvent, ClauseRevision, Document, Organisation, Snapshot, Thread, User
from ..models.base import utcnow
from ..models.document import KINDS
from ..signoff.operations import valid_approvals
from ..text.akn import MEDIA_TYPE as AKN_MEDIA_TYPE
from ..text.akn import SUFFIXES as AKN_SUFFIXES
from ..text.akn import AknWork, parse_akn, to_akn
from ..text.clauses import TextError, clean_clause_text, clean_heading
from ..text.diffing import DELETE, DIFF_WORK_BUDGET, EQUAL, INSERT, Budget, Op, diff_ops
from ..text.markdown import parse_markdown, to_markdown
from ..text.numbering import clean_kind, display_title
from ..text.numbering import title as kind_title
from ..text.outline import (
    ExportedText,
    ImportedClause,
    ImportedText,
    ImportFailure,
    Signature,
    TranslationState,
)
from ..text.redline import Change, Piece, Redline, RedlineClause, Remark, to_redline_docx
from ..text.sanitise import plain_text
from ..text.word import megabytes, parse_docx, to_docx, written_utc
from ..translating.operations import status_of, translations_by_clause

MAX_IMPORT_BYTES = 5 * 1024 * 1024
# An import carries no more text than the largest Markdown file: a Word file compresses far more
# text into 5 MB, which the preview would show and carry to the save step in full.
MAX_IMPORT_CHARS = MAX_IMPORT_BYTES
PREVIEW_MAX_AGE = 60 * 60  # seconds a preview can be saved after the upload
FORMATS = {
    "md": ("text/markdown; charset=utf-8", "md"),
    "html": ("text/html; charset=utf-8", "html"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "akn": (AKN_MEDIA_TYPE, "xml"),  # Akoma Ntoso 3.0 (text/akn.py)
}
MARKDOWN_SUFFIXES = (".md", ".markdown", ".txt")
# The standalone HTML file carries its own stylesheet and no script at all.
STANDALONE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
                  "form-action 'none'; frame-ancestors 'none'")


# ---- export ---------------------------------------------------------------------------------

def exported_text(document: Document, lang: str | None = None) -> ExportedText:
    """Gather what every export format shows: numbered clauses, phase, hash, signatures once adopted.

    With `lang` other than the document's authentic language: its translation, clause by clause
    (a clause not translated yet keeps its authentic text), with the notice that it is one. The
    content hash is always the authentic text's."""
    signatures, adopted_at = [], None
    if document.phase == "adopted":
        approvals = sorted(valid_approvals(document), key=lambda a: a.organisation.name)
        signatures = [Signature(a.organisation.name, a.organisation.country, a.signatory.name, a.signed_at)
                      for a in approvals]
        adopted_at = max((a.signed_at for a in approvals), default=None)
    kind_label, phase_label = english_labels(document)
    labelled = labelled_clauses(document)
    clauses = [(n, c.heading, c.text) for n, _label, c in labelled]
    translated = {"title": document.title, "language": document.language, "translation": None, "notice": None,
                  "names": []}
    if lang is not None and lang != document.language:
        found = translations_by_clause(document, lang)
        states = [status_of(c, found.get(c.id)) for _n, _label, c in labelled]
        clauses = [(n, found[c.id].heading, found[c.id].text) if c.id in found else (n, c.heading, c.text)
                   for n, _label, c in labelled]
        with export_language(lang):
            kind_label, phase_label = str(document.kind_label), str(document.phase_label)
            notice = _("Translation into %(language)s: not the authentic text. The authentic text is in "
                       "%(authentic)s; the approvals and the content hash cover it alone.",
                       language=i18n.LANGUAGES[lang], authentic=i18n.LANGUAGES[document.language])
            names = [display_title(c.kind, label) for _n, label, c in labelled]
        translated = {"title": (document.title_translations or {}).get(lang) or document.title, "language": lang,
                      "translation": TranslationState(states.count("translated"), states.count("stale"),
                                                      states.count("missing")),
                      "notice": notice, "names": names}
    return ExportedText(
        title=translated["title"], kind_label=kind_label, phase=document.phase,
        phase_label=phase_label, clauses=clauses,
        kinds=[(label, c.kind, c.action) for _n, label, c in labelled],
        content_hash=document_hash(document), exported_at=utcnow(), deadline=document.deadline,
        adopted_at=adopted_at, signatures=signatures, language=translated["language"],
        authentic_language=document.language, translation=translated["translation"],
        notice=translated["notice"], names=translated["names"])


def export_language(lang: str):
    """Write an export in `lang`, with its times in UTC (a file read anywhere)."""
    return i18n.for_user(SimpleNamespace(locale=lang, timezone="UTC"))


def export_lang(document: Document, lang: object) -> str | None:
    """The language an export is asked in: None (or the authentic one) for the authentic text."""
    if lang in (None, "", document.language):
        return None
    if not isinstance(lang, str) or lang not in i18n.LANGUAGES:
        raise ImportFailure(422, _("lang must be one of: %(codes)s.", codes=", ".join(i18n.LANGUAGES)))
    return lang


def english_labels(document: Document) -> tuple[str, str]:
    """The document's kind and phase as the exports name them: in English, whatever the reader's language."""
    with force_locale(i18n.DEFAULT_LANGUAGE):
        return str(document.kind_label), str(document.phase_label)


def file_name(document: Document, what: str, extension: str) -> str:
    """Name a download: an ASCII slug of the title, what it is and the date."""
    ascii_title = unicodedata.normalize("NFKD", document.title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60].rstrip("-") or f"document-{document.id}"
    return f"{slug}-{what}-{utcnow():%Y-%m-%d}.{extension}"


def export(document: Document, kind: object, back_link: str | None = None, from_version: object = None,
           to_version: object = None, lang: object = None) -> tuple[bytes, str, str]:
    """Return the document as (file content, media type, file name) in the format md, html, docx or akn.

    With `from_version` (a named version's id) a docx holds the changes from it to `to_version` (a
    named version's id, or "current", the default) as tracked changes.
    """
    if kind not in FORMATS:
        raise ImportFailure(422, _("Format must be one of: md, html, docx, akn."))
    lang = export_lang(document, lang)
    if changes_asked(kind, from_version, to_version):
        if lang is not None:
            raise ImportFailure(422, _("Tracked changes are made of the authentic text only: leave out lang."))
        return tracked_changes(document, from_version, to_version)
    text = exported_text(document, lang)
    media_type, extension = FORMATS[kind]
    what = "adopted" if text.adopted else document.phase.replace("_", "-")
    name = file_name(document, what + (f"-{lang}" if lang else ""), extension)
    if kind == "md":
        return to_markdown(text).encode("utf-8"), media_type, name
    if kind == "docx":
        return to_docx(text), media_type, name
    if kind == "akn":
        work = AknWork(document.kind, document.id, document.created_at, document.hash_scheme)
        return to_akn(text, work), media_type, name
    # The print view is an export: written in the language of its text (the authentic text's
    # clauses named in English, like the other formats'), its times in UTC.
    with export_language(text.language):
        html = render_template("exchange/document.html", text=text, back_link=back_link, kind_title=kind_title)
    return html.encode("utf-8"), media_type, name


# ---- tracked changes between two versions (DOCX) ---------------------------------------------

NUMBERING = "drafting"  # who renumbered a clause: no one person, the additions, deletions and moves of others
CREDITS = [
    "Each change is credited to the author (and cluster) of the clause revision that wrote the later text of "
    "its clause; when several revisions changed a clause between the two versions, all its changes are "
    "credited to the latest of them.",
    "A deleted clause is credited to whoever deleted it; a moved clause, shown deleted where it was and "
    "inserted where it is, to whoever last reordered the clauses; a number changed by the addition, "
    "deletion or move of other clauses to “drafting”, as is a change no one person made (a comparison back "
    "in time).",
    "Open discussions are comments, anchored to the passage they quote (or to the whole clause when that "
    "passage is not in it); their replies follow in the same comment.",
]


def changes_asked(kind: object, from_version: object, to_version: object) -> bool:
    """Tell whether the changes between two versions are asked for; refuse them outside docx (422)."""
    if from_version is None and to_version is None:
        return False
    if kind != "docx":
        raise DomainError(422, _("The changes between two versions (from, to) are exported as Word only: "
                                 "ask for format=docx."), "format")
    if from_version is None:
        raise DomainError(422, _("Give from, the named version the changes start from (to defaults to the "
                                 "current text)."), "from")
    return True


def _person(user: User | None, organisation: Organisation | None) -> str:
    """Name a person as tracked changes and comments show them: "Name (Cluster)"."""
    if user is None:
        return NUMBERING
    return f"{user.name} ({organisation.name})" if organisation is not None else user.name


def _initials(user: User | None) -> str:
    return "".join(word[0] for word in user.name.split()[:3]).upper() if user is not None else "D"


def _revision_credit(revision: ClauseRevision) -> Change:
    return Change(_person(revision.author, revision.organisation), revision.created_at)


def _event_credit(event: AuditEvent) -> Change:
    organisation = db.session.get(Organisation, event.organisation_id) if event.organisation_id else None
    return Change(_person(event.actor, organisation), event.created_at)


def _revisions(sides: tuple[Side, Side]) -> dict[tuple[int, int], ClauseRevision]:
    """Load every clause revision either side shows, in batched queries."""
    pairs = sorted({pair for side in sides for pair in side.versions.items()})
    found = {}
    for start in range(0, len(pairs), 400):
        for revision in db.session.scalars(select(ClauseRevision).where(
                tuple_(ClauseRevision.clause_id, ClauseRevision.version).in_(pairs[start:start + 400]))):
            found[(revision.clause_id, revision.version)] = revision
    return found


def _structural_credits(document: Document, removed: list[int], moved: bool, since: datetime | None,
                        until: datetime) -> tuple[dict[int, Change], Change | None]:
    """Who deleted each removed clause, and who last reordered the clauses, between the two moments."""
    window = [AuditEvent.document_id == document.id, AuditEvent.created_at <= until]
    if since is not None:
        window.append(AuditEvent.created_at > since)
    deleted = {}
    for start in range(0, len(removed), 400):
        for event in db.session.scalars(select(AuditEvent).where(
                *window, AuditEvent.action == "clause.deleted", AuditEvent.clause_id.in_(removed[start:start + 400]))
                .order_by(AuditEvent.id)):
            deleted[event.clause_id] = _event_credit(event)  # the latest deletion wins
    reordered = None
    if moved:
        event = db.session.scalar(select(AuditEvent).where(*window, AuditEvent.action == "clauses.reordered")
                                  .order_by(AuditEvent.id.desc()).limit(1))
        reordered = _event_credit(event) if event is not None else None
    return deleted, reordered


def _remarks(texts: dict[int, str]) -> dict[int, list[Remark]]:
    """The open threads on these clauses as Word comments, anchored in the clauses' later texts."""
    remarks: dict[int, list[Remark]] = {}
    if not texts:
        return remarks
    threads = db.session.scalars(select(Thread).where(Thread.clause_id.in_(list(texts)), Thread.status == "open")
                                 .options(selectinload(Thread.comments)).order_by(Thread.id))
    for thread in threads:
        text = texts[thread.clause_id]
        span = find_passage(text, thread.quote) if thread.quote else None
        lines = []
        if thread.quote and span is None:
            lines.append(f"On “{thread.quote}” (no longer in this version of the clause):")
        for n, comment in enumerate(thread.comments):
            said = "(deleted)" if comment.deleted_at else plain_text(comment.body)
            if n == 0:
                lines.append(said)
            else:
                who = _person(comment.author, comment.organisation)
                lines.append(f"Reply from {who}, {written_utc(comment.created_at)}: {said}")
        first = thread.comments[0] if thread.comments else None
        organisation = first.organisation if first is not None else thread.author.organisation
        remarks.setdefault(thread.clause_id, []).append(Remark(
            span or (0, len(text)), _person(thread.author, organisation), _initials(thread.author),
            thread.created_at, "\n".join(lines)))
    return remarks


def _label(number: int) -> str:
    return f"{number}."


def _rest(heading: str | None) -> str:
    return f" {heading}" if heading else ""


def _ops(old: str, new: str, budget: Budget) -> list[Op]:
    return [(EQUAL, new)] if old == new else diff_ops(old, new, budget)


def _merged_order(old: list[int], new: list[int], stable: set[int]) -> list[tuple[int, int]]:
    """Both sides' clauses in one order: (DELETE|INSERT|EQUAL, clause id); those only on one side
    (added, removed, moved) between the clauses that keep their order, the earlier side's first."""
    merged, i, j = [], 0, 0
    while i < len(old) or j < len(new):
        while i < len(old) and old[i] not in stable:
            merged.append((DELETE, old[i]))
            i += 1
        while j < len(new) and new[j] not in stable:
            merged.append((INSERT, new[j]))
            j += 1
        if i < len(old) and j < len(new):  # the same clause: stable ids keep one order on both sides
            merged.append((EQUAL, new[j]))
            i, j = i + 1, j + 1
    return merged


def _side_label(snapshot: Snapshot | None) -> str:
    if snapshot is None:
        return "the current text"
    return f"the named version “{snapshot.name}” ({written_utc(snapshot.created_at)})"


def tracked_changes(document: Document, from_version: object, to_version: object) -> tuple[bytes, str, str]:
    """Return a .docx of the changes from a named version to another or the current text, as tracked changes."""
    earlier = get_snapshot(document, from_version)
    if to_version == "":
        raise DomainError(422, _("to must be the number of a named version, or current."), "to")
    later = None if to_version in (None, "current") else get_snapshot(document, to_version)
    old, new = snapshot_side(earlier), current_side(document) if later is None else snapshot_side(later)
    now = utcnow()
    until = later.created_at if later is not None else now
    result = compare(old, new)  # pairs the clauses and diffs the changed ones within its one budget
    revisions = _revisions((old, new))
    moved = {entry.clause_id for entry in result.moved}
    changed = {entry.clause_id: entry for entry in result.changed}
    stable = (set(old.versions) & set(new.versions)) - moved
    old_number = {cid: n for n, cid in enumerate(old.order, start=1)}
    new_number = {cid: n for n, cid in enumerate(new.order, start=1)}
    deleted, reordered = _structural_credits(document, [e.clause_id for e in result.removed], bool(moved),
                                             earlier.created_at, until)
    remarks = _remarks({cid: revisions[(cid, v)].text for cid, v in new.versions.items()})
    numbering = Change(NUMBERING, until)
    headings = Budget(DIFF_WORK_BUDGET)  # every heading's diff together: short, but bounded all the same
    clauses = []
    for status, cid in _merged_order(old.order, new.order, stable):
        if status == DELETE:
            before = revisions[(cid, old.versions[cid])]
            after = revisions.get((cid, new.versions.get(cid, -1)))
            credit = (reordered or _revision_credit(after)) if cid in moved else deleted.get(cid)
            clauses.append(RedlineClause(DELETE, [Piece([(DELETE, _label(old_number[cid]) + _rest(before.heading))],
                                                        credit)], [(DELETE, before.text)], credit))
        elif status == INSERT:
            after = revisions[(cid, new.versions[cid])]
            credit = (reordered if cid in moved else None) or _revision_credit(after)
            clauses.append(RedlineClause(INSERT, [Piece([(INSERT, _label(new_number[cid]) + _rest(after.heading))],
                                                        credit)], [(INSERT, after.text)], credit,
                                         remarks.get(cid, [])))
        else:
            before, after = revisions[(cid, old.versions[cid])], revisions[(cid, new.versions[cid])]
            entry = changed.get(cid)
            credit = _revision_credit(after) if entry is not None else None
            number = Piece(_ops(_label(old_number[cid]), _label(new_number[cid]), headings),
                           numbering if old_number[cid] != new_number[cid] else None)
            heading = Piece(_ops(_rest(before.heading), _rest(after.heading), headings), credit)
            body = entry.ops if entry is not None and entry.ops else [(EQUAL, after.text)]
            clauses.append(RedlineClause(EQUAL, [number, heading], body, credit, remarks.get(cid, [])))
    redline = Redline(document.title, english_labels(document)[0], _side_label(earlier), _side_label(later),
                      earlier.content_hash, new.content_hash, now, clauses, CREDITS)
    media_type, extension = FORMATS["docx"]
    what = f"changes-{earlier.id}-to-{later.id if later is not None else 'current'}"
    return to_redline_docx(redline), media_type, file_name(document, what, extension)


# ---- import ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """Where an import came from, recorded in the audit trail."""

    filename: str
    format: str
    size: int
    sha256: str


def read_file(filename: str, data: bytes) -> tuple[ImportedText, Source]:
    """Parse an uploaded Markdown, DOCX or Akoma Ntoso file, or raise ImportFailure with a clear message."""
    filename = (filename or "").strip() or "upload"
    if not data:
        raise ImportFailure(422, _("The file is empty."))
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportFailure(413, _("The file is %(size)s; files up to %(limit)s MB can be imported.",
                                   size=megabytes(len(data)), limit=i18n.number(MAX_IMPORT_BYTES // (1024 * 1024))))
    lower = filename.lower()
    max_paragraphs = current_app.config["MAX_IMPORT_PARAGRAPHS"]
    if lower.endswith(AKN_SUFFIXES):
        kind, imported = "akn", parse_akn(data, max_paragraphs=max_paragraphs)
    elif lower.endswith((".docx", ".doc")) or data[:4] == b"PK\x03\x04" or data[:4] == b"\xd0\xcf\x11\xe0":
        kind, imported = "docx", parse_docx(data, max_paragraphs=max_paragraphs)
    elif lower.endswith(MARKDOWN_SUFFIXES):
        if b"\x00" in data:
            raise ImportFailure(422, _("This file is not text: Markdown files contain plain text only."))
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ImportFailure(422, _("This Markdown file is not UTF-8 text. Save it with UTF-8 encoding and "
                                       "import it again.")) from None
        kind, imported = "markdown", parse_markdown(source, max_paragraphs=max_paragraphs)
    else:
        raise ImportFailure(415, _("Choose a Markdown file (.md) or a Word document (.docx), or an Akoma Ntoso "
                                   "file (.xml)."))
    checked = check_clauses(imported)
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    title = checked.title or " ".join(stem.replace("_", " ").replace("-", " ").split()) or "Imported document"
    return (ImportedText(title[:300], checked.clauses, checked.notes),
            Source(filename[-200:], kind, len(data), hashlib.sha256(data).hexdigest()))


def guess_kind(title: str | None) -> str:
    """Pre-select the kind of an imported document from its title (the person can change it)."""
    return "action_plan" if title and "action plan" in title.lower() else "declaration"


def check_clauses(imported: ImportedText) -> ImportedText:
    """Validate every clause as a save would, naming the one that fails, and bound the text in all."""
    clauses = []
    for position, clause in enumerate(imported.clauses, start=1):
        try:
            clauses.append(ImportedClause(clean_heading(clause.heading), clean_clause_text(clause.text),
                                          clean_kind(clause.kind) if clause.kind is not None else None,
                                          clause.action if clause.kind == "action" else None))
        except TextError as error:
            if clause.heading:
                message = _("Clause %(number)s (“%(heading)s”): %(problem)s Shorten it in the file and import it "
                            "again.", number=position, heading=clause.heading[:60], problem=error.message)
            else:
                message = _("Clause %(number)s: %(problem)s Shorten it in the file and import it again.",
                            number=position, problem=error.message)
            raise ImportFailure(error.status, message) from None
    if (total := sum(len(clause.text) for clause in clauses)) > MAX_IMPORT_CHARS:
        raise ImportFailure(413, _("The file holds %(count)s characters of text; files with up to %(limit)s can be "
                                   "imported.", count=i18n.number(total), limit=i18n.number(MAX_IMPORT_CHARS)))
    return ImportedText(imported.title, clauses, imported.notes)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="drafting-import-preview")


def seal(imported: ImportedText, source: Source) -> str:
    """Carry a previewed import to the save step, signed so the saved text is the previewed text."""
    return _serializer().dumps({
        "clauses": [[c.heading, c.text, c.kind, c.action] for c in imported.clauses], "notes": imported.notes,
        "source": [source.filename, source.format, source.size, source.sha256]})


def unseal(token: object) -> tuple[list[ImportedClause], list[str], Source]:
    """Read a sealed preview back, or raise ImportFailure when it expired or was altered."""
    try:
        data = _serializer().loads(str(token or ""), max_age=PREVIEW_MAX_AGE)
    except SignatureExpired:
        raise ImportFailure(422, _("This preview is more than an hour old. Upload the file again.")) from None
    except BadSignature:
        raise ImportFailure(400, _("This preview cannot be read. Upload the file again.")) from None
    return ([ImportedClause(*clause) for clause in data["clauses"]], data["notes"], Source(*data["source"]))


def import_document(actor: User, title: object, kind: object, clauses: list[ImportedClause],
                    source: Source) -> Document:
    """Create a document in drafting from imported clauses; the importer becomes its editor."""
    if kind not in KINDS:
        raise ImportFailure(422, _("Kind must be 'declaration' or 'action_plan'."))
    document = create_document(actor, title, kind)
    if not actor.is_admin:
        add_member(actor, document, actor.email, "editor")
    # The clusters a file names as responsible for its actions take part in the new document
    # (an action may only name participants); each must be an organisation of this instance.
    named = list(dict.fromkeys(name for clause in clauses if clause.action
                               for name in clause.action.get("responsible") or [] if isinstance(name, str)))
    if named:
        known = {o.name.casefold(): o for o in db.session.scalars(select(Organisation))}
        missing = [name for name in named if name.casefold() not in known]
        if missing:
            raise ImportFailure(422, _("The file names %(names)s as responsible for actions, which is no "
                                       "organisation here: add it under Organisations first.",
                                       names=", ".join(missing[:5])))
        if not permissions.may_bring_participants(actor, document):
            raise ImportFailure(403, _("Only the secretariat may add participating clusters."))
        for name in named:
            add_participant(actor, document, known[name.casefold()].name)
    for position, clause in enumerate(clauses, start=1):
        try:
            create_clause(document, actor, clause.text, clause.heading, origin="import", kind=clause.kind,
                          action=clause.action)
        except TextError as error:
            raise ImportFailure(error.status, _("Clause %(number)s: %(problem)s", number=position,
                                                problem=error.message)) from None
    audit.record(actor, document, "document.imported", "document", document.id, filename=source.filename,
                 format=source.format, size=source.size, sha256=source.sha256, clauses=len(clauses))
    return document
