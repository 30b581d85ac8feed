"""An OPDS client's view of the catalog: fetch a feed, validate it (RELAX NG schema of Atom with
the OPDS/PSE/OpenSearch additions, ``opds.rnc``, plus the rules a grammar cannot say), and hand
back what a reader app would look at: the feed's links and its entries' links."""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from pathlib import Path

import httpx
import rnc2rng
from lxml import etree

ATOM = "{http://www.w3.org/2005/Atom}"
PSE = "{http://vaemendis.net/opds-pse/ns}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
CATALOG = "application/atom+xml;profile=opds-catalog"
REL_ACQUISITION = "http://opds-spec.org/acquisition"
REL_STREAM = "http://vaemendis.net/opds-pse/stream"


@functools.cache
def schema() -> etree.RelaxNG:
    compact = rnc2rng.load(str(Path(__file__).with_name("opds.rnc")))
    # rnc2rng declares the empty namespace as a prefix, which XML does not allow; the
    # ``nsName ns=""`` it stands for is written out in full anyway.
    grammar = rnc2rng.dumps(compact).replace(' xmlns:local=""', "")
    return etree.RelaxNG(etree.fromstring(grammar.encode()))


def basic(username: str, password: str) -> dict[str, str]:
    pair = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


@dataclass(frozen=True)
class FeedLink:
    href: str
    rel: str
    type: str
    title: str | None
    count: int | None
    last_read: int | None


@dataclass(frozen=True)
class FeedEntry:
    id: str
    title: str
    content: str | None
    links: list[FeedLink]

    def link(self, rel: str) -> FeedLink:
        [found] = [link for link in self.links if link.rel == rel]
        return found

    def rels(self) -> set[str]:
        return {link.rel for link in self.links}


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    kind: str
    links: list[FeedLink]
    entries: list[FeedEntry]
    total: int | None

    def link(self, rel: str) -> FeedLink | None:
        found = [link for link in self.links if link.rel == rel]
        return found[0] if found else None

    def entry(self, title: str) -> FeedEntry:
        [found] = [entry for entry in self.entries if entry.title == title]
        return found


def _links(element: etree._Element) -> list[FeedLink]:
    found = []
    for link in element.findall(f"{ATOM}link"):
        count, last = link.get(f"{PSE}count"), link.get(f"{PSE}lastRead")
        found.append(
            FeedLink(
                href=link.get("href", ""),
                rel=link.get("rel", "alternate"),
                type=link.get("type", ""),
                title=link.get("title"),
                count=int(count) if count is not None else None,
                last_read=int(last) if last is not None else None,
            )
        )
    return found


def _check_rules(root: etree._Element, kind: str, entries: list[FeedEntry]) -> None:
    """RFC 4287's and OPDS 1.2's rules beyond the grammar."""
    has_author = root.find(f"{ATOM}author") is not None
    for element, entry in zip(root.findall(f"{ATOM}entry"), entries, strict=True):
        assert has_author or element.find(f"{ATOM}author") is not None, "an entry has no author"
        assert element.find(f"{ATOM}content") is not None or "alternate" in entry.rels(), (
            f"entry {entry.id} has neither content nor an alternate link"
        )
        if kind == "navigation":
            assert any(link.type.startswith(CATALOG) for link in entry.links), (
                f"navigation entry {entry.id} leads to no catalog feed"
            )
        else:
            assert any(
                link.rel.startswith(REL_ACQUISITION)
                or link.rel == REL_STREAM
                or link.type.startswith(CATALOG)
                for link in entry.links
            ), f"acquisition entry {entry.id} can be neither read nor fetched"
        for link in entry.links:
            if link.rel == REL_STREAM:
                assert "{pageNumber}" in link.href, link
                assert link.count, link
    ids = [entry.id for entry in entries]
    assert len(ids) == len(set(ids)), "entry ids repeat"


def parse(document: bytes) -> ParsedFeed:
    root = etree.fromstring(document)
    validator = schema()
    assert validator.validate(root), validator.error_log
    links = _links(root)
    [self_link] = [link for link in links if link.rel == "self"]
    kind = self_link.type.rpartition("kind=")[2]
    assert kind in ("navigation", "acquisition"), self_link.type
    entries = [
        FeedEntry(
            id=element.findtext(f"{ATOM}id", ""),
            title=element.findtext(f"{ATOM}title", ""),
            content=element.findtext(f"{ATOM}content"),
            links=_links(element),
        )
        for element in root.findall(f"{ATOM}entry")
    ]
    _check_rules(root, kind, entries)
    total = root.findtext(f"{OPENSEARCH}totalResults")
    return ParsedFeed(
        title=root.findtext(f"{ATOM}title", ""),
        kind=kind,
        links=links,
        entries=entries,
        total=int(total) if total is not None else None,
    )


@dataclass
class OpdsReader:
    """A reader app signed in with one set of credentials."""

    client: httpx.AsyncClient
    headers: dict[str, str]

    async def get(self, href: str) -> httpx.Response:
        return await self.client.get(href, headers=self.headers)

    async def feed(self, href: str) -> ParsedFeed:
        response = await self.get(href)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(CATALOG), response.headers
        feed = parse(response.content)
        assert response.headers["content-type"].endswith(f"kind={feed.kind}")
        return feed
