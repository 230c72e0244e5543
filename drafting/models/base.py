from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current UTC time, naive (every stored time is UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def iso(moment: datetime | None) -> str | None:
    """Format a stored UTC time for the API."""
    return None if moment is None else moment.isoformat(timespec="seconds") + "Z"
