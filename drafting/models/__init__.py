"""The data model: one module per aggregate, re-exported here."""

from .audit import AuditEvent
from .clause import Clause, ClauseRevision
from .consultation import Amendment, Comment, Contribution, Notification, Thread, contribution_clauses
from .document import (
    ChangeEvent,
    Document,
    DocumentVisit,
    Membership,
    Participation,
    Snapshot,
    SnapshotClause,
)
from .mail import NotificationPreference, OutboxMail
from .people import ApiToken, Invitation, LoginFailure, Organisation, User
from .signoff import Approval, PasswordFailure
from .translation import ClauseTranslation, TranslationRevision

__all__ = [
    "Amendment", "ApiToken", "ClauseTranslation", "TranslationRevision", "Invitation", "LoginFailure", "Approval", "AuditEvent", "ChangeEvent", "Clause", "ClauseRevision",
    "Comment", "Contribution", "Document", "DocumentVisit", "Membership", "Notification",
    "NotificationPreference", "OutboxMail",
    "Organisation", "Participation", "PasswordFailure", "Snapshot", "SnapshotClause", "Thread", "User",
    "contribution_clauses",
]
