"""Turning submitted forms into values or into messages a person can act on."""

from __future__ import annotations

from pydantic import ValidationError

from kurobara.config import USER_CHECK_INTERVALS
from kurobara.validation import readable

# How the seed's allowed intervals read on the settings page.
INTERVAL_LABELS: dict[int, str] = {
    30: "30 minutes",
    60: "1 hour",
    120: "2 hours",
    1440: "1 day",
    10080: "1 week",
    43200: "30 days",
}
assert set(INTERVAL_LABELS) == set(USER_CHECK_INTERVALS)


def field_errors(exc: ValidationError, *, model_field: str) -> dict[str, str]:
    """The first message per field; model-level checks (password strength) are shown at
    ``model_field``, the field they judge."""
    errors: dict[str, str] = {}
    for error in readable(exc.errors()):
        field = str(error["loc"][0]) if error["loc"] else model_field
        message = str(error["msg"]).removeprefix("Value error, ")
        message = message.replace("String should have", "Use").replace("String should", "Should")
        errors.setdefault(field, message[:1].upper() + message[1:])
    return errors


def parse_interval(value: str) -> int | None:
    """An allowed interval in minutes, or None for anything else."""
    try:
        minutes = int(value)
    except ValueError:
        return None
    return minutes if minutes in USER_CHECK_INTERVALS else None


def retry_message(seconds: int) -> str:
    minutes = -(-seconds // 60)
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}" if seconds >= 60 else "a minute"
    return f"Too many failed logins. Try again in {wait}."
