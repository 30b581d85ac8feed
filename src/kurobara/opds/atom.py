"""Atom documents as OPDS 1.2 clients read them: feeds and entries as plain data, rendered to
XML by one pure function (``render``). Nothing here knows the database or HTTP.

The namespaces are the ones the specifications fix: Atom (RFC 4287), OPDS catalog 1.2, Dublin
Core terms, OpenSearch 1.1 and OPDS-PSE 1.2 (page streaming: a templated ``pse:stream`` link
whose ``{pageNumber}`` counts from 0 and whose ``pse:count`` says how many pages there are).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree import ElementTree as ET

ATOM = "http://www.w3.org/2005/Atom"
OPDS = "http://opds-spec.org/2010/catalog"
DC = "http://purl.org/dc/terms/"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
PSE = "http://vaemendis.net/opds-pse/ns"

NAVIGATION_TYPE = "application/atom+xml;profile=opds-catalog;kind=navigation"
ACQUISITION_TYPE = "application/atom+xml;profile=opds-catalog;kind=acquisition"
ENTRY_TYPE = "application/atom+xml;type=entry;profile=opds-catalog"
OPENSEARCH_TYPE = "application/opensearchdescription+xml"
CBZ_TYPE = "application/vnd.comicbook+zip"

REL_ACQUISITION = "http://opds-spec.org/acquisition"
REL_IMAGE = "http://opds-spec.org/image"
REL_THUMBNAIL = "http://opds-spec.org/image/thumbnail"
REL_STREAM = "http://vaemendis.net/opds-pse/stream"
REL_SUBSECTION = "subsection"

# Written as fixed prefixes on the root, so every client (some match tag names literally) sees
# the same ``pse:count`` and ``opensearch:totalResults`` that the specifications show.
_PREFIXES = {"dc": DC, "opds": OPDS, "opensearch": OPENSEARCH, "pse": PSE}


@dataclass(frozen=True)
class Link:
    href: str
    rel: str
    type: str
    title: str | None = None
    # OPDS-PSE: how many pages the stream has, and the last one read (1-based, 0 for none).
    page_count: int | None = None
    last_read: int | None = None


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    updated: datetime
    links: list[Link]
    summary: str | None = None
    content: str | None = None
    authors: list[str] = field(default_factory=list)
    language: str | None = None
    issued: datetime | None = None


@dataclass(frozen=True)
class Paging:
    total: int
    per_page: int
    start_index: int  # 1-based, as OpenSearch counts


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    updated: datetime
    links: list[Link]
    entries: list[Entry]
    author: str = "Kurobara"
    paging: Paging | None = None
    subtitle: str | None = None


# Characters XML 1.0 cannot carry at all (a title scraped from a site may hold them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _q(namespace: str, name: str) -> str:
    if namespace in (ATOM, ""):
        return name
    prefix = next(p for p, uri in _PREFIXES.items() if uri == namespace)
    return f"{prefix}:{name}"


def _text(parent: ET.Element, namespace: str, name: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, _q(namespace, name))
    element.text = xml_text(value)
    return element


def _timestamp(moment: datetime) -> str:
    # RFC 3339 with an explicit offset; naive datetimes never reach here (UTCDateTime).
    return moment.isoformat(timespec="seconds")


def _link(parent: ET.Element, link: Link) -> None:
    element = ET.SubElement(parent, _q(ATOM, "link"), {"rel": link.rel, "href": link.href})
    element.set("type", link.type)
    if link.title is not None:
        element.set("title", xml_text(link.title))
    if link.page_count is not None:
        element.set(_q(PSE, "count"), str(link.page_count))
    if link.last_read is not None:
        element.set(_q(PSE, "lastRead"), str(link.last_read))


def _entry(parent: ET.Element, entry: Entry) -> None:
    element = ET.SubElement(parent, _q(ATOM, "entry"))
    _text(element, ATOM, "id", entry.id)
    _text(element, ATOM, "title", entry.title)
    _text(element, ATOM, "updated", _timestamp(entry.updated))
    for name in entry.authors:
        author = ET.SubElement(element, _q(ATOM, "author"))
        _text(author, ATOM, "name", name)
    if entry.language:
        _text(element, DC, "language", entry.language)
    if entry.issued is not None:
        _text(element, DC, "issued", entry.issued.date().isoformat())
    if entry.summary:
        _text(element, ATOM, "summary", entry.summary).set("type", "text")
    if entry.content:
        _text(element, ATOM, "content", entry.content).set("type", "text")
    for link in entry.links:
        _link(element, link)


def render(feed: Feed) -> bytes:
    """The feed as an XML document (UTF-8, with its declaration)."""
    root = ET.Element("feed", {"xmlns": ATOM, **{f"xmlns:{p}": u for p, u in _PREFIXES.items()}})
    _text(root, ATOM, "id", feed.id)
    _text(root, ATOM, "title", feed.title)
    if feed.subtitle:
        _text(root, ATOM, "subtitle", feed.subtitle)
    _text(root, ATOM, "updated", _timestamp(feed.updated))
    author = ET.SubElement(root, _q(ATOM, "author"))
    _text(author, ATOM, "name", feed.author)
    for link in feed.links:
        _link(root, link)
    if feed.paging is not None:
        _text(root, OPENSEARCH, "totalResults", str(feed.paging.total))
        _text(root, OPENSEARCH, "itemsPerPage", str(feed.paging.per_page))
        _text(root, OPENSEARCH, "startIndex", str(feed.paging.start_index))
    for entry in feed.entries:
        _entry(root, entry)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def opensearch_description(*, short_name: str, description: str, template: str) -> bytes:
    """An OpenSearch 1.1 description whose one URL template answers with an acquisition feed."""
    root = ET.Element("OpenSearchDescription", {"xmlns": OPENSEARCH})
    _text(root, "", "ShortName", short_name)
    _text(root, "", "Description", description)
    _text(root, "", "InputEncoding", "UTF-8")
    _text(root, "", "OutputEncoding", "UTF-8")
    ET.SubElement(root, "Url", {"type": ACQUISITION_TYPE, "template": template})
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document
