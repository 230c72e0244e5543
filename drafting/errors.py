"""The one kind of refusal the domain raises, and what an answer to it carries.

Operations raise `DomainError(status, message, field)` (or one of the area names that subclass it,
for readability: TextError, DocumentError, SignoffError ...). One app-level handler (drafting.app)
rolls the transaction back (or commits it when `keep` asks, e.g. a wrong password recorded for the
rate limit) and answers with the API's error object or the message as a fragment or a page. A view
catches it only to show the message in place (the form with the person's input and the error).
"""

from __future__ import annotations


class DomainError(Exception):
    """A request that cannot be carried out: the HTTP status, a message for the person, the field.

    Optional details travel to the answer: `blockers` (readiness issues of a refused phase move),
    `current_hash` (a sign-off against an outdated text), `retry_after` (seconds, a header), and
    `keep` (commit what the request recorded before the refusal).
    """

    default_field: str | None = None

    def __init__(self, status: int, message: str, field: str | None = None, *, blockers: list | None = None,
                 current_hash: str | None = None, retry_after: int | None = None, keep: bool = False):
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field if field is not None else self.default_field
        self.blockers = blockers
        self.current_hash = current_hash
        self.retry_after = retry_after
        self.keep = keep

    def details(self) -> dict:
        """What the API's error answer carries besides {"error": {code, message}}."""
        extra: dict = {}
        if self.blockers:
            extra["blockers"] = [b.to_json() for b in self.blockers]
        if self.current_hash:
            extra["current_hash"] = self.current_hash
        return extra

    def headers(self) -> list[tuple[str, str]]:
        return [("Retry-After", str(self.retry_after))] if self.retry_after else []
