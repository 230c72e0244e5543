"""Phases and sign-off: moving a document between phases, approvals, verification, the certificate."""
