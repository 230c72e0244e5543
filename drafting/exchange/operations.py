"""Export of a document (HTML print view, Markdown, DOCX) and creation of a document from a file.

The conversions themselves are pure (`text/markdown.py`, `text/word.py`, `text/outline.py`); this
module gathers what they need from the database and, for imports, creates the document. An import
is checked completely (type, size, text, every clause) before anything is written, and it is
written in one transaction: a bad file creates nothing. How much a file may hold (bytes here,
paragraphs in `MAX_IMPORT_PARAGRAPHS` of the app's config) is checked before it is parsed.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from flask import current_app, render_template
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .. import audit
from ..clauses.operations import create_clause
from ..documents.operations import add_member, create_document, document_hash, numbered_clauses
from ..models import Document, User
from ..models.base import utcnow
from ..models.document import KINDS
from ..signoff.operations import valid_approvals
from ..text.clauses import TextError, clean_clause_text, clean_heading
from ..text.markdown import parse_markdown, to_markdown
from ..text.outline import ExportedText, ImportedClause, ImportedText, ImportFailure, Signature
from ..text.word import parse_docx, to_docx

MAX_IMPORT_BYTES = 5 * 1024 * 1024
# An import carries no more text than the largest Markdown file: a Word file compresses far more
# text into 5 MB, which the preview would show and carry to the save step in full.
MAX_IMPORT_CHARS = MAX_IMPORT_BYTES
PREVIEW_MAX_AGE = 60 * 60  # seconds a preview can be saved after the upload
FORMATS = {
    "md": ("text/markdown; charset=utf-8", "md"),
    "html": ("text/html; charset=utf-8", "html"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
}
MARKDOWN_SUFFIXES = (".md", ".markdown", ".txt")
# The standalone HTML file carries its own stylesheet and no script at all.
STANDALONE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
                  "form-action 'none'; frame-ancestors 'none'")


# ---- export ---------------------------------------------------------------------------------

def exported_text(document: Document) -> ExportedText:
    """Gather what every export format shows: numbered clauses, phase, hash, signatures once adopted."""
    signatures, adopted_at = [], None
    if document.phase == "adopted":
        approvals = sorted(valid_approvals(document), key=lambda a: a.organisation.name)
        signatures = [Signature(a.organisation.name, a.organisation.country, a.signatory.name, a.signed_at)
                      for a in approvals]
        adopted_at = max((a.signed_at for a in approvals), default=None)
    return ExportedText(
        title=document.title, kind_label=document.kind_label, phase=document.phase,
        phase_label=document.phase_label,
        clauses=[(n, c.heading, c.text) for n, c in numbered_clauses(document)],
        content_hash=document_hash(document), exported_at=utcnow(), deadline=document.deadline,
        adopted_at=adopted_at, signatures=signatures)


def file_name(document: Document, what: str, extension: str) -> str:
    """Name a download: an ASCII slug of the title, what it is and the date."""
    ascii_title = unicodedata.normalize("NFKD", document.title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60].rstrip("-") or f"document-{document.id}"
    return f"{slug}-{what}-{utcnow():%Y-%m-%d}.{extension}"


def export(document: Document, kind: object, back_link: str | None = None) -> tuple[bytes, str, str]:
    """Return the document as (file content, media type, file name) in the format md, html or docx."""
    if kind not in FORMATS:
        raise ImportFailure(422, "Format must be one of: md, html, docx.")
    text = exported_text(document)
    media_type, extension = FORMATS[kind]
    what = "adopted" if text.adopted else document.phase.replace("_", "-")
    name = file_name(document, what, extension)
    if kind == "md":
        return to_markdown(text).encode("utf-8"), media_type, name
    if kind == "docx":
        return to_docx(text), media_type, name
    html = render_template("exchange/document.html", text=text, back_link=back_link)
    return html.encode("utf-8"), media_type, name


# ---- import ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """Where an import came from, recorded in the audit trail."""

    filename: str
    format: str
    size: int
    sha256: str


def read_file(filename: str, data: bytes) -> tuple[ImportedText, Source]:
    """Parse an uploaded Markdown or DOCX file, or raise ImportFailure with a clear message."""
    filename = (filename or "").strip() or "upload"
    if not data:
        raise ImportFailure(422, "The file is empty.")
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportFailure(413, f"The file is {len(data) / (1024 * 1024):.1f} MB; files up to "
                                 f"{MAX_IMPORT_BYTES // (1024 * 1024)} MB can be imported.")
    lower = filename.lower()
    max_paragraphs = current_app.config["MAX_IMPORT_PARAGRAPHS"]
    if lower.endswith((".docx", ".doc")) or data[:4] == b"PK\x03\x04" or data[:4] == b"\xd0\xcf\x11\xe0":
        kind, imported = "docx", parse_docx(data, max_paragraphs=max_paragraphs)
    elif lower.endswith(MARKDOWN_SUFFIXES):
        if b"\x00" in data:
            raise ImportFailure(422, "This file is not text: Markdown files contain plain text only.")
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ImportFailure(422, "This Markdown file is not UTF-8 text. Save it with UTF-8 encoding and "
                                     "import it again.") from None
        kind, imported = "markdown", parse_markdown(source, max_paragraphs=max_paragraphs)
    else:
        raise ImportFailure(415, "Choose a Markdown file (.md) or a Word document (.docx).")
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
    for number, clause in enumerate(imported.clauses, start=1):
        label = f"Clause {number}" + (f" (“{clause.heading[:60]}”)" if clause.heading else "")
        try:
            clauses.append(ImportedClause(clean_heading(clause.heading), clean_clause_text(clause.text)))
        except TextError as error:
            raise ImportFailure(error.status, f"{label}: {error.message} Shorten it in the file and "
                                              "import it again.") from None
    if (total := sum(len(clause.text) for clause in clauses)) > MAX_IMPORT_CHARS:
        raise ImportFailure(413, f"The file holds {total:,} characters of text; files with up to "
                                 f"{MAX_IMPORT_CHARS:,} can be imported.")
    return ImportedText(imported.title, clauses, imported.notes)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="drafting-import-preview")


def seal(imported: ImportedText, source: Source) -> str:
    """Carry a previewed import to the save step, signed so the saved text is the previewed text."""
    return _serializer().dumps({
        "clauses": [[c.heading, c.text] for c in imported.clauses], "notes": imported.notes,
        "source": [source.filename, source.format, source.size, source.sha256]})


def unseal(token: object) -> tuple[list[ImportedClause], list[str], Source]:
    """Read a sealed preview back, or raise ImportFailure when it expired or was altered."""
    try:
        data = _serializer().loads(str(token or ""), max_age=PREVIEW_MAX_AGE)
    except SignatureExpired:
        raise ImportFailure(422, "This preview is more than an hour old. Upload the file again.") from None
    except BadSignature:
        raise ImportFailure(400, "This preview cannot be read. Upload the file again.") from None
    return ([ImportedClause(h, t) for h, t in data["clauses"]], data["notes"], Source(*data["source"]))


def import_document(actor: User, title: object, kind: object, clauses: list[ImportedClause],
                    source: Source) -> Document:
    """Create a document in drafting from imported clauses; the importer becomes its editor."""
    if kind not in KINDS:
        raise ImportFailure(422, "Kind must be 'declaration' or 'action_plan'.")
    document = create_document(actor, title, kind)
    if not actor.is_admin:
        add_member(actor, document, actor.email, "editor")
    for clause in clauses:
        create_clause(document, actor, clause.text, clause.heading, origin="import")
    audit.record(actor, document, "document.imported", "document", document.id, filename=source.filename,
                 format=source.format, size=source.size, sha256=source.sha256, clauses=len(clauses))
    return document
