"""Load a thread, comment, amendment or contribution the user may act on, or abort (pages and API)."""

from __future__ import annotations

from flask import abort
from flask_babel import gettext as _

from ..extensions import db
from ..models import Amendment, Comment, Contribution, Document, Thread
from ..views import check


def get_thread_or_404(thread_id: int, action: str = "view", user=None) -> Thread:
    """Load a thread; 404 when unknown, deleted or on a document the user is not on.

    A thread of a deleted clause can still be read (the consultation report links to it), not acted on.
    """
    thread = db.session.get(Thread, thread_id)
    if (thread is None or thread.status == "deleted"
            or (thread.clause.deleted_at is not None and action != "view")):
        abort(404, _("Thread not found."))
    check(thread.clause.document, action, user)
    return thread


def get_comment_or_404(comment_id: int, action: str = "view", user=None) -> Comment:
    """Load a comment that is still there."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.deleted_at is not None:
        abort(404, _("Comment not found."))
    get_thread_or_404(comment.thread_id, action, user)
    return comment


def get_amendment_or_404(amendment_id: int, action: str = "view", user=None) -> Amendment:
    """Load an amendment; one of a deleted clause can be read, not acted on."""
    amendment = db.session.get(Amendment, amendment_id)
    if amendment is None or (amendment.clause.deleted_at is not None and action != "view"):
        abort(404, _("Amendment not found."))
    check(amendment.clause.document, action, user)
    return amendment


def get_contribution_or_404(contribution_id: int, action: str = "view", user=None) -> Contribution:
    """Load a contribution to a document the user may act on; a withdrawn one is gone (404)."""
    contribution = db.session.get(Contribution, contribution_id)
    if contribution is None or contribution.withdrawn_at is not None:
        abort(404, _("Contribution not found."))
    check(db.session.get(Document, contribution.document_id), action, user)
    return contribution
