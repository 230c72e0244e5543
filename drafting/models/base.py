from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _

from ..i18n import _l


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


# Deadlines a person types: "2027-03-31 17:00" in their own time zone (the page sends the zone
# the browser reports; without JavaScript it is UTC and the form says so).
EARLIEST_DEADLINE, LATEST_DEADLINE = datetime(2000, 1, 1), datetime(3000, 1, 1)
DEADLINE_FORMAT_HINT = _l("a date and time written YYYY-MM-DD HH:MM, for example 2027-03-31 17:00")


def parse_local_moment(raw: str, zone: str | None) -> datetime:
    """Read a typed date and time in the named IANA time zone; return it as naive UTC.

    An explicit offset in the text wins over the zone. Raises ValueError with a message a person
    can act on (unknown zone, unreadable text, a year outside 2000-2999).
    """
    text = (raw or "").strip().replace("T", " ", 1)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(_("The deadline must be a date and time written YYYY-MM-DD HH:MM, for example "
                           "2027-03-31 17:00.")) from None
    if moment.tzinfo is None:
        name = (zone or "UTC").strip() or "UTC"
        try:
            if len(name) > 64 or not name.isascii() or ".." in name or name.startswith("/"):
                raise ZoneInfoNotFoundError(name)
            moment = moment.replace(tzinfo=ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(_("The time zone sent with the deadline is unknown; reload the page and try again.")) from None
    try:
        utc = moment.astimezone(UTC).replace(tzinfo=None)
    except (OverflowError, ValueError):
        utc = LATEST_DEADLINE  # past the end of the calendar: refused just below
    if not EARLIEST_DEADLINE <= utc < LATEST_DEADLINE:
        raise ValueError(_("The deadline must fall between the years 2000 and 2999."))
    return utc
