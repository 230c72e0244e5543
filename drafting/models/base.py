from datetime import datetime, timezone


def utcnow() -> datetime:
    """Return the current UTC time, naive (every stored time is UTC)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def iso(moment: datetime | None) -> str | None:
    """Format a stored UTC time for the API."""
    return None if moment is None else moment.isoformat(timespec="seconds") + "Z"
