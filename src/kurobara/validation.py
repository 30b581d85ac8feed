"""Validation messages in words: pydantic says "String should match pattern '^[A-Za-z0-9_.-]+$'";
people are told which characters are allowed. Used by the API's 422 handler (the shape stays:
``type``, ``loc``, ``msg``, ``input``, ``ctx``) and by the web forms."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import HTTPException, status

# The patterns of our schemas, each said in words.
PATTERN_WORDS = {
    r"^[A-Za-z0-9_.-]+$": "may contain only letters, digits, dots, dashes and underscores",
    r"^[a-z]{2,3}(-[a-z]{2,4})?$": "should be a language code such as en or pt-br",
    r"\S": "should not be blank",
    r"^[a-z0-9][a-z0-9_-]*$": (
        "may contain only lower-case letters, digits, dashes and underscores, "
        "starting with a letter or digit"
    ),
    r"^(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$": (
        "should be a host name such as example.org or *.example.org, optionally with :port"
    ),
    r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$": (
        "should be a path of letters, digits, dashes and underscores, such as manga or series/all"
    ),
    r"^[A-Za-z_:][A-Za-z0-9_:.-]*$": "should be an HTML attribute name such as href",
}
UNKNOWN_PATTERN = "contains characters that are not allowed here"


def readable(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The errors with every pattern mismatch's ``msg`` in words."""
    out = []
    for error in errors:
        shaped = dict(error)
        if shaped.get("type") == "string_pattern_mismatch":
            pattern = str((shaped.get("ctx") or {}).get("pattern", ""))
            words = PATTERN_WORDS.get(pattern, UNKNOWN_PATTERN)
            shaped["msg"] = words[:1].upper() + words[1:]
        out.append(shaped)
    return out


def unprocessable(kind: str, loc: Sequence[str], items: Iterable[tuple[str, Any]]) -> HTTPException:
    """A 422 a route raises itself, in the list-of-errors shape of the validation handler (and
    of the OpenAPI document): one error of ``kind`` at ``loc`` per ``(msg, input)``."""
    detail = [{"type": kind, "loc": list(loc), "msg": msg, "input": value} for msg, value in items]
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)
