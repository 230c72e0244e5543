"""Operations of the consultation: threads, comments, amendments, contributions, notifications.

They flush, record the audit event and announce the change; they never commit. Who may act
in which phase is decided by the caller through `permissions`; what only the data can tell
(whose comment it is, whether an amendment is still open) is checked here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from flask_babel import gettext as _
from flask_babel import gettext as translate
from sqlalchemy import func, select

from .. import audit, live
from ..clauses.operations import SaveResult, revision_text, save_clause
from ..extensions import db
from ..i18n import N_, _l, number
from ..models import (
    Amendment,
    Clause,
    Comment,
    Contribution,
    Document,
    Notification,
    Thread,
    User,
)
from ..models.base import utcnow
from ..models.consultation import DISPOSITION_LABELS, DISPOSITIONS, TOPICS
from ..text.clauses import TextError, clean_clause_text, normalise_newlines
from ..text.sanitise import editable_text, plain_text, sanitise
from .closing import clause_mention, close_thread, notify

MAX_COMMENT_CHARS = 10_000
MAX_RATIONALE_CHARS = 10_000
MAX_REASON_CHARS = 5_000
MAX_QUOTE_CHARS = 2_000
MAX_TITLE_CHARS = 300
MAX_CONTRIBUTION_CHARS = 20_000
MAX_PROPOSAL_CHARS = 10_000
MAX_BOTTLENECKS = 5
KINDS = ("best_practice", "bottleneck")


class ConsultationError(TextError):
    """A consultation request that cannot be carried out; carries the HTTP status to answer."""


# ---- validation -------------------------------------------------------------------------------

# What a typed field's refusals say, by field (`what`): not text, empty, too long. Whole sentences,
# since word order and agreement differ between languages.
FIELD_MESSAGES = {
    "comment": (N_("The comment must be text."), N_("The comment cannot be empty."),
                N_("The comment is %(length)s characters; the limit is %(limit)s.")),
    "reply": (N_("The reply must be text."), N_("The reply cannot be empty."),
              N_("The reply is %(length)s characters; the limit is %(limit)s.")),
    "rationale": (N_("The rationale must be text."), N_("The rationale cannot be empty."),
                  N_("The rationale is %(length)s characters; the limit is %(limit)s.")),
    "reason": (N_("The reason must be text."), N_("The reason cannot be empty."),
               N_("The reason is %(length)s characters; the limit is %(limit)s.")),
    "title": (N_("The title must be text."), N_("The title cannot be empty."),
              N_("The title is %(length)s characters; the limit is %(limit)s.")),
    "description": (N_("The description must be text."), N_("The description cannot be empty."),
                    N_("The description is %(length)s characters; the limit is %(limit)s.")),
    "proposal": (N_("The proposal for an EU-level instrument must be text."),
                 N_("The proposal for an EU-level instrument cannot be empty."),
                 N_("The proposal for an EU-level instrument is %(length)s characters; the limit is %(limit)s.")),
}


def _not_text(what: str) -> str:
    return translate(FIELD_MESSAGES[what][0])


def _empty(what: str) -> str:
    return translate(FIELD_MESSAGES[what][1])


def _too_long(what: str, length: int, limit: int) -> str:
    return translate(FIELD_MESSAGES[what][2], length=number(length), limit=number(limit))


def clean_rich_text(value: object, what: str, limit: int, field: str = "body",
                    required: bool = True) -> str:
    """Return typed rich text as sanitised HTML, or raise: 422 empty or not text, 413 too long.
    `what` names the field in the messages (a key of FIELD_MESSAGES)."""
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ConsultationError(422, _not_text(what), field)
    value = normalise_newlines(value).strip()
    if len(value) > limit:
        raise ConsultationError(413, _too_long(what, len(value), limit), field)
    html = sanitise(value) if value else ""
    if required and not plain_text(html).strip():
        raise ConsultationError(422, _empty(what), field)
    return html


def clean_plain(value: object, what: str, limit: int, field: str, required: bool = True) -> str:
    """Return a short plain text (stored as typed, escaped on the way out), or raise 422/413."""
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ConsultationError(422, _not_text(what), field)
    value = normalise_newlines(value).strip()
    if required and not value:
        raise ConsultationError(422, _empty(what), field)
    if len(value) > limit:
        raise ConsultationError(413, _too_long(what, len(value), limit), field)
    return value


def find_passage(text: str, quote: str) -> tuple[int, int] | None:
    """Find a quoted passage in a text, whatever the whitespace between its words; return its span."""
    words = quote.split()
    if not words:
        return None
    match = re.search(r"\s+".join(re.escape(word) for word in words), text)
    return match.span() if match else None


def clean_quote(clause: Clause, quote: object) -> str | None:
    """Return the passage of the clause a thread quotes (as it stands in the text), or raise 422."""
    if quote is None or (isinstance(quote, str) and not quote.strip()):
        return None
    if not isinstance(quote, str):
        raise ConsultationError(422, _("The quoted passage must be text."), "quote")
    if len(quote) > MAX_QUOTE_CHARS:
        raise ConsultationError(413, _("Quoted passages are limited to %(limit)s characters.",
                                       limit=number(MAX_QUOTE_CHARS)), "quote")
    span = find_passage(clause.text, quote)
    if span is None:
        raise ConsultationError(422, _("The quoted passage is not in the text of the clause (version %(version)s).",
                                       version=clause.version), "quote")
    return clause.text[span[0]:span[1]]


# ---- mentions and notifications ---------------------------------------------------------------

def fold_text(text: str) -> str:
    """Fold text for matching names: no accents, no case, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def mentioned_members(document: Document, text: str) -> list[User]:
    """Return the document's members a text mentions as "@" + their email or their full name.

    Case and accents do not matter ("@tereza novotna" mentions Tereza Novotná); the handle must
    end the word (no letter or digit right after it); the longest handle at a place wins, so
    "@Anna Maria Berg" does not also mention "Anna Maria".
    """
    folded = fold_text(text)
    found: list[tuple[int, int, User]] = []
    for membership in document.memberships:
        user = membership.user
        for handle in {user.email, user.name}:
            needle = "@" + fold_text(handle)
            if len(needle) < 3:
                continue
            for match in re.finditer(r"(?<![\w@])" + re.escape(needle) + r"(?![\w])", folded):
                found.append((match.start(), match.end(), user))
    found.sort(key=lambda item: (item[0], -(item[1] - item[0])))
    mentioned: dict[int, User] = {}
    taken_until = -1
    for start, end, user in found:
        if start < taken_until:
            continue
        taken_until = end
        mentioned.setdefault(user.id, user)
    return list(mentioned.values())


def unknown_mentions(document: Document, text: str) -> list[str]:
    """Return the "@Word"s of a text that mention no member of the document (as typed, once each).

    "@Lieve" alone mentions nobody when the member is Lieve Vandamme: the writer is told, so a
    mention cannot silently notify no one. Addresses (name@host) are not mentions.
    """
    handles = ["@" + fold_text(h) for m in document.memberships for h in (m.user.email, m.user.name)
               if len(fold_text(h)) >= 2]
    unknown: dict[str, str] = {}
    for match in re.finditer(r"(?<![\w@])@([^\W\d_]+)", text):
        rest = fold_text(text[match.start():match.start() + 320])
        if any(re.match(re.escape(handle) + r"(?!\w)", rest) for handle in handles):
            continue
        unknown.setdefault(fold_text(match.group(1)), "@" + match.group(1))
    return list(unknown.values())


def unknown_mentions_status(document: Document, html: str) -> str:
    """The sentence telling the writer which of their "@Word"s notified nobody ("" when none)."""
    unknown = unknown_mentions(document, plain_text(html))
    if not unknown:
        return ""
    if len(unknown) == 1:
        return _("No member is called %(name)s: nobody was notified.", name=unknown[0])
    return _("No member is called %(names)s or %(last)s: nobody was notified.",
             names=", ".join(unknown[:-1]), last=unknown[-1])




def amendment_url(amendment: Amendment) -> str:
    return url_for("documents.page", document_id=amendment.clause.document_id) + f"#amendment-{amendment.id}"


def _notify_mentions(comment: Comment, actor: User, before: str = "") -> list[User]:
    thread = comment.thread
    document = thread.clause.document
    already = {u.id for u in mentioned_members(document, plain_text(before))} if before else set()
    text = plain_text(comment.body)
    people = [u for u in mentioned_members(document, text)
              if u.id != actor.id and u.id not in already]
    url = url_for("documents.page", document_id=document.id) + f"#comment-{comment.id}"  # the comment itself
    for user in people:
        notify(user, document,
               _l("%(actor)s (%(organisation)s) mentioned you in a comment on %(clause)s of “%(title)s”.",
                  actor=actor.name, organisation=actor.organisation.name, clause=clause_mention(thread.clause),
                  title=document.title), url, "discussion", excerpt=text,
               subject=_l("Mentioned by %(actor)s: %(title)s", actor=actor.name, title=document.title))
    return people


def _notify_thread(comment: Comment, actor: User, mentioned: list[User]) -> list[User]:
    """Tell the thread's author and those who replied before of a reply (not its writer, and not
    whoever its mentions already told), if they are still members of the document."""
    thread = comment.thread
    document = thread.clause.document
    members = {m.user_id for m in document.memberships}
    skip = {actor.id} | {u.id for u in mentioned}
    people: dict[int, User] = {}
    for user in [thread.author, *(c.author for c in thread.comments if c.deleted_at is None and c.id != comment.id)]:
        if user is not None and user.id not in skip and user.id in members:
            people.setdefault(user.id, user)
    names = {"actor": actor.name, "organisation": actor.organisation.name, "clause": clause_mention(thread.clause),
             "title": document.title}
    text = plain_text(comment.body)
    for user in people.values():
        if user.id == thread.author_id:
            message = _l("%(actor)s (%(organisation)s) replied to your comment on %(clause)s of “%(title)s”.",
                         **names)
        else:
            message = _l("%(actor)s (%(organisation)s) replied to a discussion you took part in on %(clause)s "
                         "of “%(title)s”.", **names)
        notify(user, document, message,
               url_for("documents.page", document_id=document.id) + f"#comment-{comment.id}", "discussion",
               excerpt=text, subject=_l("Reply from %(actor)s: %(title)s", actor=actor.name, title=document.title))
    return list(people.values())


# ---- threads and comments --------------------------------------------------------------------

def _require_open_thread(thread: Thread) -> None:
    if thread.status == "resolved":
        raise ConsultationError(409, _("This thread is resolved; an editor can reopen it."), "thread")
    if thread.status == "deleted":
        raise ConsultationError(404, _("Thread not found."), "thread")


def open_thread(clause: Clause, actor: User, body: object, quote: object = None) -> Thread:
    """Start a thread on a clause, optionally about a quoted passage of its current text."""
    html = clean_rich_text(body, "comment", MAX_COMMENT_CHARS)
    passage = clean_quote(clause, quote)
    now = utcnow()
    thread = Thread(clause_id=clause.id, author_id=actor.id, quote=passage,
                    clause_version=clause.version, status="open", created_at=now)
    db.session.add(thread)
    comment = Comment(author_id=actor.id, organisation_id=actor.organisation_id, body=html, created_at=now)
    thread.comments.append(comment)
    db.session.flush()
    _notify_mentions(comment, actor)
    audit.record(actor, clause.document, "thread.created", "thread", thread.id, clause.id,
                 quote=passage is not None, clause_version=clause.version)
    live.announce(clause.document, "thread.created", actor.id, clause_id=clause.id, thread_id=thread.id)
    return thread


def add_comment(thread: Thread, actor: User, body: object) -> Comment:
    """Reply in a thread."""
    _require_open_thread(thread)
    html = clean_rich_text(body, "reply", MAX_COMMENT_CHARS)
    comment = Comment(thread_id=thread.id, author_id=actor.id, organisation_id=actor.organisation_id,
                      body=html, created_at=utcnow())
    db.session.add(comment)
    db.session.flush()
    db.session.expire(thread, ["comments"])
    _notify_thread(comment, actor, _notify_mentions(comment, actor))
    document = thread.clause.document
    audit.record(actor, document, "comment.created", "comment", comment.id, thread.clause_id,
                 thread=thread.id)
    live.announce(document, "comment.created", actor.id, clause_id=thread.clause_id,
                  thread_id=thread.id, comment_id=comment.id)
    return comment


def _require_own_comment(comment: Comment, actor: User) -> None:
    if comment.deleted_at is not None:
        raise ConsultationError(404, _("Comment not found."), "comment")
    if comment.author_id != actor.id:
        raise ConsultationError(403, _("You can edit and delete only your own comments."), "comment")
    _require_open_thread(comment.thread)


def edit_comment(comment: Comment, actor: User, body: object) -> Comment:
    """Change one's own comment; newly mentioned members are notified."""
    _require_own_comment(comment, actor)
    html = clean_rich_text(body, "comment", MAX_COMMENT_CHARS)
    if html == comment.body:
        return comment
    before = comment.body
    comment.body = html
    comment.edited_at = utcnow()
    db.session.flush()
    _notify_mentions(comment, actor, before)
    thread = comment.thread
    audit.record(actor, thread.clause.document, "comment.updated", "comment", comment.id, thread.clause_id,
                 thread=thread.id)
    live.announce(thread.clause.document, "comment.updated", actor.id, clause_id=thread.clause_id,
                  thread_id=thread.id, comment_id=comment.id)
    return comment


def delete_comment(comment: Comment, actor: User) -> bool:
    """Delete one's own comment; tell whether its thread went with it (the opening comment, alone)."""
    _require_own_comment(comment, actor)
    now = utcnow()
    comment.deleted_at = now
    thread = comment.thread
    thread_gone = not any(c.deleted_at is None for c in thread.comments)
    if thread_gone:
        thread.status = "deleted"
    db.session.flush()
    document = thread.clause.document
    audit.record(actor, document, "comment.deleted", "comment", comment.id, thread.clause_id,
                 thread=thread.id, thread_deleted=thread_gone)
    live.announce(document, "comment.deleted", actor.id, clause_id=thread.clause_id,
                  thread_id=thread.id, comment_id=comment.id)
    return thread_gone


def _disposition_name(disposition: str) -> str:
    """A thread's disposition in words, in the reader's language, lower case ("partly accepted")."""
    return translate(str(DISPOSITION_LABELS[disposition])).lower()


def clean_disposition(disposition: object, reason: object) -> tuple[str, str | None]:
    """Return a thread's disposition and reason as typed, or raise 422 (413 for a long reason).

    The reason is required unless the comment was accepted: whoever reads the disposition table
    must learn why a comment was only partly taken up, not taken up or merely noted.
    """
    if not isinstance(disposition, str) or disposition not in DISPOSITIONS:
        choices = ", ".join(_disposition_name(d) for d in DISPOSITIONS)
        raise ConsultationError(422, _("Choose a disposition: %(choices)s.", choices=choices), "disposition")
    if reason is not None and not isinstance(reason, str):
        raise ConsultationError(422, _not_text("reason"), "reason")
    text = clean_plain(reason, "reason", MAX_REASON_CHARS, "reason", required=False)
    if not text and disposition != "accepted":
        raise ConsultationError(422, _("Give a reason: it is required when a comment is %(disposition)s.",
                                       disposition=_disposition_name(disposition)), "reason")
    return disposition, text or None


def resolve_thread(thread: Thread, actor: User, disposition: object = None, reason: object = None) -> Thread:
    """Close a thread with a disposition (accepted, partly accepted, not accepted, noted) and a reason.

    Resolving a resolved thread again with the same disposition and reason changes nothing; with
    another one it is refused (409): reopen it first, so the change is on record.
    """
    if thread.status == "deleted":
        raise ConsultationError(404, _("Thread not found."), "thread")
    disposition, reason = clean_disposition(disposition, reason)
    if thread.status == "resolved":
        if (thread.disposition, thread.reason) == (disposition, reason):
            return thread
        raise ConsultationError(409, _("This thread is already resolved; reopen it to change its disposition."),
                                "thread")
    close_thread(thread, actor, disposition, reason)
    return thread



def reopen_thread(thread: Thread, actor: User) -> Thread:
    """Open a resolved thread again, clearing its disposition (reopening an open thread changes nothing)."""
    if thread.status == "deleted":
        raise ConsultationError(404, _("Thread not found."), "thread")
    if thread.status == "open":
        return thread
    if thread.disposition == "clause_deleted":
        raise ConsultationError(409, _("This thread was closed because its clause was deleted."), "thread")
    before = thread.disposition
    thread.status = "open"
    thread.disposition = None
    thread.reason = None
    thread.resolved_by_id = None
    thread.resolved_at = None
    db.session.flush()
    document = thread.clause.document
    audit.record(actor, document, "thread.reopened", "thread", thread.id, thread.clause_id, disposition=before)
    live.announce(document, "thread.reopened", actor.id, clause_id=thread.clause_id, thread_id=thread.id)
    return thread


# ---- amendments --------------------------------------------------------------------------------

def propose_amendment(clause: Clause, actor: User, text: object, rationale: object,
                      base_version: object = None) -> Amendment:
    """Propose new text for a clause, based on the version the proposer read (default: current)."""
    text = clean_clause_text(text)
    html = clean_rich_text(rationale, "rationale", MAX_RATIONALE_CHARS, "rationale")
    if base_version is None:
        base_version = clause.version
    if (not isinstance(base_version, int) or isinstance(base_version, bool)
            or not 1 <= base_version <= clause.version):
        raise ConsultationError(422, _("base_version must be an existing version of the clause."), "base_version")
    base = clause.text if base_version == clause.version else revision_text(clause, base_version).text
    if text == base:
        raise ConsultationError(422, _("The proposed text is the same as the clause text; change it first."))
    amendment = Amendment(clause_id=clause.id, author_id=actor.id, organisation_id=actor.organisation_id,
                          base_version=base_version, text=text, rationale=html, status="open",
                          created_at=utcnow())
    db.session.add(amendment)
    db.session.flush()
    audit.record(actor, clause.document, "amendment.created", "amendment", amendment.id, clause.id,
                 base_version=base_version)
    live.announce(clause.document, "amendment.created", actor.id, clause_id=clause.id,
                  amendment_id=amendment.id)
    return amendment


def _require_open_amendment(amendment: Amendment) -> None:
    if amendment.status == "clause_deleted":
        raise ConsultationError(409, _("This amendment was closed because its clause was deleted."), "amendment")
    if amendment.status != "open":
        raise ConsultationError(409, already_decided(amendment.status), "amendment")


def already_decided(status: str) -> str:
    """Why an amendment that is no longer open cannot be decided or withdrawn, by its status."""
    if status == "accepted":
        return _("This amendment has already been accepted.")
    if status == "rejected":
        return _("This amendment has already been rejected.")
    if status == "withdrawn":
        return _("This amendment has already been withdrawn.")
    return _("This amendment has already been %(status)s.", status=status)


@dataclass(frozen=True)
class Acceptance:
    amendment: Amendment
    clause: Clause
    save: SaveResult
    with_changes: bool


def accept_amendment(amendment: Amendment, actor: User, text: object = None,
                     base_version: object = None) -> Acceptance:
    """Merge an amendment into the clause like any save, credited to its proposer.

    With `text` the editor accepts it with changes (their edit of the proposed text), based on
    `base_version` (default: the version the amendment was based on). A save touching the same
    words as a newer version raises ClauseConflict and stores nothing.
    """
    _require_open_amendment(amendment)
    clause = amendment.clause
    accepted = amendment.text if text is None else clean_clause_text(text)
    base = amendment.base_version if base_version is None else base_version
    save = save_clause(clause, actor, accepted, base, origin="amendment", author=amendment.author)
    with_changes = accepted != amendment.text
    amendment.status = "accepted"
    amendment.accepted_text = accepted
    amendment.accepted_version = clause.version
    amendment.decided_by_id = actor.id
    amendment.decided_at = utcnow()
    db.session.flush()
    document = clause.document
    audit.record(actor, document, "amendment.accepted", "amendment", amendment.id, clause.id,
                 version=clause.version, with_changes=with_changes, merged=save.merged)
    live.announce(document, "amendment.accepted", actor.id, clause_id=clause.id, amendment_id=amendment.id)
    names = {"clause": clause_mention(clause), "title": document.title, "actor": actor.name}
    if with_changes:
        message = _l("Your amendment to %(clause)s of “%(title)s” was accepted with changes by %(actor)s.", **names)
        subject = _l("Amendment accepted with changes: %(title)s", title=document.title)
    else:
        message = _l("Your amendment to %(clause)s of “%(title)s” was accepted by %(actor)s.", **names)
        subject = _l("Amendment accepted: %(title)s", title=document.title)
    notify(amendment.author, document, message, amendment_url(amendment), "amendments", subject=subject)
    return Acceptance(amendment, clause, save, with_changes)


def reject_amendment(amendment: Amendment, actor: User, reason: object) -> Amendment:
    """Reject an amendment, saying why."""
    _require_open_amendment(amendment)
    amendment.reason = clean_plain(reason, "reason", MAX_REASON_CHARS, "reason")
    amendment.status = "rejected"
    amendment.decided_by_id = actor.id
    amendment.decided_at = utcnow()
    db.session.flush()
    clause = amendment.clause
    audit.record(actor, clause.document, "amendment.rejected", "amendment", amendment.id, clause.id)
    live.announce(clause.document, "amendment.rejected", actor.id, clause_id=clause.id,
                  amendment_id=amendment.id)
    notify(amendment.author, clause.document,
           _l("Your amendment to %(clause)s of “%(title)s” was rejected by %(actor)s: %(reason)s",
              clause=clause_mention(clause), title=clause.document.title, actor=actor.name, reason=amendment.reason),
           amendment_url(amendment), "amendments", excerpt=amendment.reason,
           subject=_l("Amendment rejected: %(title)s", title=clause.document.title))
    return amendment


def withdraw_amendment(amendment: Amendment, actor: User) -> Amendment:
    """Withdraw one's own open amendment."""
    if amendment.author_id != actor.id:
        raise ConsultationError(403, _("Only the member who proposed an amendment can withdraw it."), "amendment")
    _require_open_amendment(amendment)
    amendment.status = "withdrawn"
    amendment.decided_at = utcnow()
    db.session.flush()
    clause = amendment.clause
    audit.record(actor, clause.document, "amendment.withdrawn", "amendment", amendment.id, clause.id)
    live.announce(clause.document, "amendment.withdrawn", actor.id, clause_id=clause.id,
                  amendment_id=amendment.id)
    return amendment


# ---- contributions -----------------------------------------------------------------------------

def clauses_of(document: Document, ids: object) -> list[Clause]:
    """Return the document's live clauses with the given ids, or raise 422."""
    if ids is None:
        return []
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ConsultationError(422, _("clause_ids must be a list of clause ids."), "clause_ids")
    by_id = {c.id: c for c in document.clauses}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise ConsultationError(422, _("Every linked clause must be a clause of this document."), "clause_ids")
    return [by_id[i] for i in dict.fromkeys(ids)]


def bottlenecks_left(document: Document, organisation_id: int, besides: Contribution | None = None) -> int:
    """Return how many more bottlenecks an organisation may submit to a document.

    Withdrawn bottlenecks free their slot; `besides` is left out of the count (the one being edited).
    """
    query = select(func.count(Contribution.id)).where(
        Contribution.document_id == document.id, Contribution.organisation_id == organisation_id,
        Contribution.kind == "bottleneck", Contribution.withdrawn_at.is_(None))
    if besides is not None and besides.id is not None:
        query = query.where(Contribution.id != besides.id)
    return max(0, MAX_BOTTLENECKS - (db.session.scalar(query) or 0))


@dataclass(frozen=True)
class ContributionFields:
    kind: str
    topic: str
    title: str
    body: str
    proposal: str


def _clean_contribution(kind: object, topic: object, title: object, body: object,
                        proposal: object) -> ContributionFields:
    if kind not in KINDS:
        raise ConsultationError(422, _("Kind must be 'best_practice' or 'bottleneck'."), "kind")
    if topic not in TOPICS:
        raise ConsultationError(422, _("Topic must be one of: %(topics)s.", topics=", ".join(TOPICS)), "topic")
    title = clean_plain(title, "title", MAX_TITLE_CHARS, "title")
    body_html = clean_rich_text(body, "description", MAX_CONTRIBUTION_CHARS, "body")
    proposal_html = clean_rich_text(proposal, "proposal", MAX_PROPOSAL_CHARS, "proposal",
                                    required=kind == "bottleneck")
    return ContributionFields(kind, topic, title, body_html, proposal_html)


def _bottleneck_slot(document: Document, actor: User, besides: Contribution | None = None) -> None:
    if bottlenecks_left(document, actor.organisation_id, besides) == 0:
        raise ConsultationError(422, _("%(organisation)s has already submitted %(count)s bottlenecks to this "
                                       "document, the most the call for input asks for.",
                                       organisation=actor.organisation.name, count=MAX_BOTTLENECKS), "kind")


def submit_contribution(document: Document, actor: User, kind: object, topic: object, title: object,
                        body: object, proposal: object = None, clause_ids: object = None) -> Contribution:
    """Submit a best-practice example or a bottleneck (at most five per organisation and document)."""
    fields = _clean_contribution(kind, topic, title, body, proposal)
    clauses = clauses_of(document, clause_ids)
    if fields.kind == "bottleneck":
        _bottleneck_slot(document, actor)
    contribution = Contribution(document_id=document.id, organisation_id=actor.organisation_id,
                                author_id=actor.id, kind=fields.kind, topic=fields.topic, title=fields.title,
                                body=fields.body, proposal=fields.proposal, created_at=utcnow())
    contribution.clauses = clauses
    db.session.add(contribution)
    db.session.flush()
    audit.record(actor, document, "contribution.created", "contribution", contribution.id,
                 kind=fields.kind, topic=fields.topic, clauses=[c.id for c in clauses])
    live.announce(document, "contribution.created", actor.id, contribution_id=contribution.id,
                  clause_ids=[c.id for c in clauses])
    return contribution


CONTRIBUTION_FIELDS = ("kind", "topic", "title", "body", "proposal", "clause_ids")


def _require_own_contribution(contribution: Contribution, actor: User) -> None:
    if contribution.withdrawn_at is not None:
        raise ConsultationError(404, _("Contribution not found."), "contribution")
    if contribution.author_id != actor.id:
        raise ConsultationError(403, _("Only the member who submitted a contribution can edit or withdraw it."),
                                "contribution")


def edit_contribution(contribution: Contribution, actor: User, changes: dict) -> Contribution:
    """Change one's own contribution: any of the fields it was submitted with (the others stay)."""
    _require_own_contribution(contribution, actor)
    document = db.session.get(Document, contribution.document_id)
    unknown = sorted(set(changes) - set(CONTRIBUTION_FIELDS))
    if unknown:
        raise ConsultationError(422, _("Unknown field: %(names)s. A contribution has %(fields)s.",
                                       names=", ".join(unknown), fields=", ".join(CONTRIBUTION_FIELDS)), unknown[0])
    current = {"kind": contribution.kind, "topic": contribution.topic, "title": contribution.title,
               "body": editable_text(contribution.body), "proposal": editable_text(contribution.proposal)}
    typed = {name: changes[name] for name in current if name in changes}
    merged = {**current, **typed}
    fields = _clean_contribution(merged["kind"], merged["topic"], merged["title"], merged["body"],
                                 merged["proposal"])
    # Text not sent stays exactly as stored (not re-sanitised from its editable form).
    body = fields.body if "body" in typed else contribution.body
    proposal = fields.proposal if "proposal" in typed else contribution.proposal
    if fields.kind == "bottleneck" and contribution.kind != "bottleneck":
        _bottleneck_slot(document, actor, besides=contribution)
    changed = [name for name, new, old in (
        ("kind", fields.kind, contribution.kind), ("topic", fields.topic, contribution.topic),
        ("title", fields.title, contribution.title), ("body", body, contribution.body),
        ("proposal", proposal, contribution.proposal)) if new != old]
    if "clause_ids" in changes:
        clauses = clauses_of(document, changes["clause_ids"])
        kept = [c for c in contribution.clauses if c.deleted_at is not None]
        if sorted(c.id for c in contribution.clauses if c.deleted_at is None) != sorted(c.id for c in clauses):
            contribution.clauses = kept + clauses
            changed.append("clause_ids")
    if not changed:
        return contribution
    contribution.kind, contribution.topic, contribution.title = fields.kind, fields.topic, fields.title
    contribution.body, contribution.proposal = body, proposal
    contribution.updated_at = utcnow()
    db.session.flush()
    clause_ids = sorted(c.id for c in contribution.clauses)
    audit.record(actor, document, "contribution.updated", "contribution", contribution.id,
                 fields=changed, kind=contribution.kind, topic=contribution.topic, clauses=clause_ids)
    live.announce(document, "contribution.updated", actor.id, contribution_id=contribution.id,
                  clause_ids=clause_ids)
    return contribution


def withdraw_contribution(contribution: Contribution, actor: User) -> Contribution:
    """Withdraw one's own contribution: no longer listed or counted, kept on record."""
    _require_own_contribution(contribution, actor)
    document = db.session.get(Document, contribution.document_id)
    contribution.withdrawn_at = utcnow()
    db.session.flush()
    clause_ids = sorted(c.id for c in contribution.clauses)
    audit.record(actor, document, "contribution.withdrawn", "contribution", contribution.id,
                 kind=contribution.kind, title=contribution.title)
    live.announce(document, "contribution.withdrawn", actor.id, contribution_id=contribution.id,
                  clause_ids=clause_ids)
    return contribution


def set_contributions_deadline(document: Document, actor: User, deadline: datetime | None) -> Document:
    """Set (or clear, with None) the moment contributions close; it must lie in the future."""
    if deadline is not None and deadline <= utcnow():
        raise ConsultationError(422, _("The contributions deadline must be in the future."), "deadline")
    if document.contributions_deadline == deadline:
        return document
    document.contributions_deadline = deadline
    db.session.flush()
    audit.record(actor, document, "document.contributions_deadline_changed", "document", document.id,
                 deadline=deadline.isoformat(timespec="seconds") if deadline else None)
    live.announce(document, "document.contributions_deadline_changed", actor.id,
                  deadline=deadline.isoformat(timespec="seconds") + "Z" if deadline else None)
    return document


def link_contribution(contribution: Contribution, actor: User, clause_ids: object) -> Contribution:
    """Set the clauses a contribution informed."""
    document = db.session.get(Document, contribution.document_id)
    clauses = clauses_of(document, clause_ids)
    before = sorted(c.id for c in contribution.clauses)
    # Links to clauses deleted since stay in the record; only live clauses are edited here.
    kept = [c for c in contribution.clauses if c.deleted_at is not None]
    contribution.clauses = kept + clauses
    db.session.flush()
    after = sorted(c.id for c in contribution.clauses)
    if before != after:
        audit.record(actor, document, "contribution.linked", "contribution", contribution.id,
                     clauses=after)
        live.announce(document, "contribution.linked", actor.id, contribution_id=contribution.id,
                      clause_ids=after)
    return contribution


# ---- notifications -----------------------------------------------------------------------------

def mark_read(user: User, notification: Notification | None = None) -> int:
    """Mark one of the user's notifications read, or all of them; return how many changed."""
    query = select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification is not None:
        query = query.where(Notification.id == notification.id)
    now = utcnow()
    changed = 0
    for row in db.session.scalars(query):
        row.read_at = now
        changed += 1
    db.session.flush()
    return changed
