"""Pure helpers shared by the scraping kinds (``madara``, ``html``): CSS selector validation,
text and image extraction with lazy-loading attributes, URL resolution, chapter numbers, dates
and status words. No I/O here; every function takes parsed HTML or strings and returns values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from string import Formatter
from urllib.parse import urljoin, urlsplit

import dateparser
from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from kurobara.providers.errors import ParseFailure

# Tried in this order: lazy-loading plugins keep the real URL in a data attribute and put a
# stand-in (often a data: URI or a 1x1 gif) in ``src``.
IMAGE_ATTRIBUTES: tuple[str, ...] = (
    "data-src",
    "data-lazy-src",
    "data-manga-src",
    "data-cfsrc",
    "data-original",
    "data-srcset",
    "data-lazy-srcset",
    "srcset",
    "src",
)

DEFAULT_CHAPTER_NUMBER_REGEX = (
    r"(?i)(?:chapter|chap|ch\.?|episode|ep\.?|#)\s*(\d+(?:[.,]\d+)?)|^\s*(\d+(?:[.,]\d+)?)\b"
)

_STATUS_WORDS: dict[str, tuple[str, ...]] = {
    "completed": ("completed", "complete", "finished", "end", "ended", "one-shot", "oneshot"),
    "ongoing": ("ongoing", "on going", "on-going", "updating", "publishing", "releasing"),
    "hiatus": ("hiatus", "on hold", "on-hold", "paused"),
    "cancelled": ("cancelled", "canceled", "dropped", "discontinued", "abandoned"),
}

# Genre names that mark a series as adult content even when the definition does not.
NSFW_GENRES = frozenset({"adult", "hentai", "smut", "18+"})

_EMPTY_PROBE = LexborHTMLParser("<html><body></body></html>")


def check_selector(selector: str) -> str:
    """Return the selector stripped, or raise ``ValueError`` when the engine cannot parse it."""
    cleaned = selector.strip()
    if not cleaned:
        raise ValueError("CSS selector must not be empty")
    try:
        _EMPTY_PROBE.css(cleaned)
    except SelectolaxError as exc:
        raise ValueError(f"invalid CSS selector {cleaned!r}: {exc}") from exc
    return cleaned


def check_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
    return pattern


def check_template(template: str, *, allowed: set[str], required: set[str]) -> str:
    """A ``str.format`` template may only name ``allowed`` fields and must name ``required``."""
    try:
        names = {name for _, name, _, _ in Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ValueError(f"invalid template {template!r}: {exc}") from exc
    unknown = names - allowed
    if unknown or "" in names:
        shown = ", ".join(sorted(f"{{{n}}}" for n in unknown or {""}))
        raise ValueError(f"unknown template field {shown}; allowed: {_braced(allowed)}")
    missing = required - names
    if missing:
        raise ValueError(f"must contain {_braced(missing)}")
    return template


def _braced(names: set[str]) -> str:
    return ", ".join(f"{{{n}}}" for n in sorted(names))


def parse_html(text: str, *, what: str) -> LexborHTMLParser:
    if not text.strip():
        raise ParseFailure(f"{what}: empty page")
    try:
        return LexborHTMLParser(text)
    except (SelectolaxError, ValueError) as exc:
        raise ParseFailure(f"{what}: not parseable as HTML: {exc}") from exc


def text_of(node: LexborNode | None) -> str:
    """The node's visible text with whitespace collapsed; empty for ``None``."""
    if node is None:
        return ""
    return " ".join((node.text(separator=" ") or "").split())


def paragraphs(node: LexborNode | None) -> str | None:
    """A description's text, keeping its paragraphs apart."""
    if node is None:
        return None
    parts = [text_of(p) for p in node.css("p")] or [text_of(node)]
    return "\n\n".join(part for part in parts if part) or None


def first_text(root: LexborNode | LexborHTMLParser, selector: str | None) -> str | None:
    if not selector:
        return None
    return text_of(root.css_first(selector)) or None


def all_texts(root: LexborNode | LexborHTMLParser, selector: str | None) -> list[str]:
    """Texts of every match, de-duplicated in order; comma-separated lists are split."""
    if not selector:
        return []
    seen: dict[str, None] = {}
    for node in root.css(selector):
        for part in text_of(node).split(","):
            if part.strip():
                seen.setdefault(part.strip(), None)
    return list(seen)


def absolute_url(base: str, value: str | None) -> str | None:
    """``value`` resolved against ``base``; ``None`` for empty values, anchors and data URIs."""
    if value is None:
        return None
    value = value.strip()
    if not value or value.startswith(("data:", "#", "javascript:")):
        return None
    return urljoin(base, value)


def best_srcset_candidate(srcset: str) -> str | None:
    """The widest candidate of a ``srcset`` (``"a.jpg 110w, b.jpg 193w"`` → ``b.jpg``); the
    first one when no candidate has a descriptor."""
    candidates: list[tuple[float, int, str]] = []
    for position, candidate in enumerate(srcset.split(",")):
        parts = candidate.split()
        if not parts:
            continue
        size = 0.0
        if len(parts) > 1 and parts[1][-1:] in ("w", "x"):
            try:
                size = float(parts[1][:-1])
            except ValueError:
                size = 0.0
        candidates.append((size, -position, parts[0]))
    return max(candidates)[2] if candidates else None


def image_url(node: LexborNode | None, base: str, attribute: str | None = None) -> str | None:
    """The real image URL of an ``<img>`` (or of the first ``<img>`` inside ``node``), looking
    through lazy-loading attributes unless ``attribute`` names the one to read."""
    if node is None:
        return None
    if node.tag != "img":
        node = node.css_first("img") or node
    attributes = node.attributes
    for name in (attribute,) if attribute else IMAGE_ATTRIBUTES:
        value = attributes.get(name)
        if not value or not value.strip():
            continue
        if name.endswith("srcset"):
            value = best_srcset_candidate(value)
        url = absolute_url(base, value)
        if url is not None:
            return url
    return None


def link_url(node: LexborNode | None, base: str) -> str | None:
    if node is None:
        return None
    if node.tag != "a":
        node = node.css_first("a[href]") or node
    return absolute_url(base, node.attributes.get("href"))


def url_path(url: str) -> str:
    """Path and query of a URL, the part that identifies a page on its site."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def chapter_number(text: str, pattern: str = DEFAULT_CHAPTER_NUMBER_REGEX) -> str | None:
    """``"Chapter 10.5 - Homecoming"`` → ``"10.5"``; ``None`` when the text has no number."""
    match = re.search(pattern, text)
    if match is None:
        return None
    groups = [g for g in match.groups() if g] or [match.group(0)]
    number = groups[0].replace(",", ".").strip()
    if not re.fullmatch(r"\d+(?:\.\d+)?", number):
        return None
    whole, _, fraction = number.partition(".")
    whole = whole.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


def normalize_status(text: str | None) -> str | None:
    """A site's status wording → ``ongoing``, ``completed``, ``hiatus``, ``cancelled`` or
    ``None`` when it is not recognised."""
    if not text:
        return None
    lowered = " ".join(text.lower().split())
    for status, words in _STATUS_WORDS.items():
        if lowered in words:
            return status
    for status, words in _STATUS_WORDS.items():
        if any(re.search(rf"\b{re.escape(word)}\b", lowered) for word in words if len(word) > 3):
            return status
    return None


def parse_date(text: str | None, date_format: str | None) -> datetime | None:
    """A chapter date in the site's ``strptime`` format, as UTC; ``None`` when absent or in
    another shape (relative dates such as "2 days ago" are not worth guessing)."""
    if not text or not date_format:
        return None
    cleaned = " ".join(re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text).split())
    try:
        parsed = datetime.strptime(cleaned, date_format)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def year_of(text: str | None) -> int | None:
    match = re.search(r"\b(19\d{2}|20\d{2})\b", text or "")
    return int(match.group(1)) if match else None


# A "new" badge (a chapter published in the last day or two) that carries no date of its own.
_NEW_BADGES = frozenset({"new", "nuevo", "novo", "nouveau", "baru", "yeni", "mới", "جديد"})


def parse_site_date(
    text: str | None, date_format: str | None, language: str | None, *, now: datetime
) -> datetime | None:
    """A chapter date as a site shows it, as UTC: the site's ``strptime`` format first, then
    whatever ``dateparser`` reads in the site's language: month names ("15 janvier 2024"),
    relative dates ("2 hours ago", "hace 3 días", "yesterday") counted back from ``now``. A
    "new" badge is ``now``; ``None`` when nothing fits."""
    exact = parse_date(text, date_format)
    if exact is not None or not text or not text.strip():
        return exact
    cleaned = " ".join(re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text).split())
    if cleaned.lower().strip("!. ") in _NEW_BADGES:
        return now
    settings: Mapping[str, object] = {
        "RELATIVE_BASE": now.astimezone(UTC).replace(tzinfo=None),
        "TIMEZONE": "UTC",
        "TO_TIMEZONE": "UTC",
        "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DATES_FROM": "past",
    }
    languages = [language.split("-", 1)[0].lower()] if language else None
    try:
        parsed = dateparser.parse(cleaned, languages=languages, settings=dict(settings))
    except (ValueError, LookupError):
        return None
    if parsed is None:
        return None
    return parsed.astimezone(UTC)


def request_headers(cookies: Mapping[str, str], headers: Mapping[str, str]) -> dict[str, str]:
    """A definition's extra headers, with its cookies (an age gate's "I am over 18") as one
    ``Cookie`` header."""
    merged = dict(headers)
    if cookies:
        merged["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    return merged
