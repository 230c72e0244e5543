"""The audit trail of a document: who did what, when; filterable; admins and editors only."""
