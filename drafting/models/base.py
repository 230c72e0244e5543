from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current UTC time, naive (every stored time is UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def iso(moment: datetime | None) -> str | None:
    """Format a stored UTC time for the API."""
    return None if moment is None else moment.isoformat(timespec="seconds") + "Z"


MAX_ID = 2**31 - 1  # the largest id, version or seq every database column here holds (INTEGER)


def is_db_int(value: object) -> bool:
    """Tell whether a value is an integer a database id or version can be (1 .. MAX_ID)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def parse_int(text: object) -> int | None:
    """Read a non-negative integer written in ASCII digits that a database can hold, else None."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if value <= MAX_ID else None
