"""Deterministic generated manga: the same seed gives the same titles, chapters and pages, so a
fake site can be restarted (or run in another process) and still agree with itself."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

_ADJECTIVES = (
    "Crimson", "Silent", "Hidden", "Last", "Wandering", "Golden", "Broken", "Eternal", "Frozen",
    "Midnight", "Iron", "Paper", "Velvet", "Hollow", "Burning", "Azure", "Distant", "Secret",
    "Little", "Black", "White", "Moonlit", "Restless", "Forgotten", "Shining", "Stray",
)  # fmt: skip
_NOUNS = (
    "Blade", "Lantern", "Garden", "Kingdom", "Rose", "Alchemist", "Library", "Dragon", "Sky",
    "Samurai", "Witch", "Festival", "Detective", "Harbor", "Orchestra", "Fox", "Tower", "Chef",
    "Academy", "Voyage", "Melody", "Shrine", "Comet", "Knight", "Tea House", "Archive",
)  # fmt: skip
_PLACES = (
    "the North", "Kyoto", "the Abyss", "Starfall", "the Old Capital", "Willow Street",
    "the Sea", "Tomorrow", "Ashvale", "the Clocktower", "Spring", "the Border",
)  # fmt: skip
_GENRES = (
    "Action", "Adventure", "Comedy", "Drama", "Fantasy", "Horror", "Mystery", "Romance",
    "Sci-Fi", "Slice of Life", "Sports", "Supernatural", "Historical", "Psychological",
)  # fmt: skip
_STATUSES = ("ongoing", "completed", "hiatus")
_SENTENCES = (
    "A quiet life ends the night a stranger knocks on the door.",
    "Old rivals must work together before the festival burns out.",
    "Every chapter is a new town, a new debt and a new friend.",
    "The map was wrong, and that was only the first lie.",
    "Nobody remembers the war except the one who started it.",
    "Cooking, sword fights and an unreasonable amount of paperwork.",
    "She swore never to return; the letter says otherwise.",
    "Somewhere between the lanterns, the city keeps its promises.",
)  # fmt: skip
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
# Series that sites built with ``shared=SHARED_TITLES`` all carry: the same title, year and
# chapters everywhere, under each site's own id and slug (one series on several sources).
SHARED_TITLES: tuple[str, ...] = ("Lanterns of the Crossing", "The Clockwork Heron")


@dataclass(frozen=True)
class FakeChapter:
    number: str
    title: str
    pages: int
    published_at: datetime


@dataclass(frozen=True)
class FakeSeries:
    id: str
    slug: str
    title: str
    alt_titles: tuple[str, ...]
    description: str
    genres: tuple[str, ...]
    status: str
    year: int
    authors: tuple[str, ...]
    hue: int
    chapters: tuple[FakeChapter, ...] = field(repr=False)
    # One of ``SHARED_TITLES``: other sites carry it too (always a comic, never a novel).
    shared: bool = False

    def chapter(self, number: str) -> FakeChapter | None:
        return next((c for c in self.chapters if c.number == number), None)


class FakeCatalog:
    def __init__(self, seed: str, size: int = 40, shared: Sequence[str] = ()) -> None:
        rng = random.Random(hashlib.sha256(seed.encode()).digest())
        self.seed = seed
        self.series: list[FakeSeries] = []
        titles: set[str] = set()
        while len(self.series) < size:
            title = self._title(rng)
            if title in titles:
                continue
            titles.add(title)
            self.series.append(self._series(rng, title, len(self.series)))
        for title in shared:
            self.series.append(self._shared(title))
        self._by_id = {s.id: s for s in self.series}
        self._by_slug = {s.slug: s for s in self.series}

    @staticmethod
    def _title(rng: random.Random) -> str:
        shape = rng.randrange(3)
        adjective, noun = rng.choice(_ADJECTIVES), rng.choice(_NOUNS)
        if shape == 0:
            return f"The {adjective} {noun}"
        if shape == 1:
            return f"{adjective} {noun} of {rng.choice(_PLACES)}"
        return f"{noun} in {rng.choice(_PLACES).removeprefix('the ').title()}"

    def _series(self, rng: random.Random, title: str, index: int) -> FakeSeries:
        digest = hashlib.sha1(f"{self.seed}:{title}".encode()).hexdigest()
        chapter_count = rng.randint(3, 40)
        start = EPOCH + timedelta(days=rng.randint(0, 1500))
        chapters = tuple(
            FakeChapter(
                number=str(n) if rng.random() > 0.05 else f"{n}.5",
                title=f"Chapter {n}: {rng.choice(_NOUNS)}",
                pages=rng.randint(4, 12),
                published_at=start + timedelta(days=7 * n),
            )
            for n in range(1, chapter_count + 1)
        )
        return FakeSeries(
            id=f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-a{digest[17:20]}-{digest[20:32]}",
            slug=title.lower().replace(" ", "-"),
            title=title,
            alt_titles=(f"{title} (Remastered)",) if index % 3 == 0 else (),
            description=" ".join(rng.sample(_SENTENCES, 3)),
            genres=tuple(sorted(rng.sample(_GENRES, rng.randint(1, 3)))),
            status=rng.choice(_STATUSES),
            year=2000 + rng.randint(0, 25),
            authors=(f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} Studio",),
            hue=rng.randrange(360),
            chapters=chapters,
        )

    def _shared(self, title: str) -> FakeSeries:
        """A series generated from its title alone (so every site agrees on its chapters),
        with this site's own id and slug."""
        rng = random.Random(hashlib.sha256(f"shared:{title}".encode()).digest())
        series = self._series(rng, title, 1)
        suffix = hashlib.sha1(f"{self.seed}:{title}".encode()).hexdigest()[:4]
        return replace(series, slug=f"{series.slug}-{suffix}", shared=True)

    def find(self, ref: str) -> FakeSeries | None:
        """A series by its id or its slug (the control panel accepts either)."""
        return self._by_id.get(ref) or self._by_slug.get(ref)

    def add_chapter(
        self, ref: str, *, at: datetime | None = None
    ) -> tuple[FakeSeries, FakeChapter]:
        """Publish the next chapter of a series (as a site does when a scan group uploads one):
        the series gains it at the end of its list. ``KeyError`` for an unknown series."""
        series = self.find(ref)
        if series is None:
            raise KeyError(ref)
        last = series.chapters[-1] if series.chapters else None
        number = int(float(last.number)) + 1 if last else 1
        chapter = FakeChapter(
            number=str(number),
            title=f"Chapter {number}: New",
            pages=6,
            published_at=at or datetime.now(UTC).replace(microsecond=0),
        )
        grown = replace(series, chapters=(*series.chapters, chapter))
        self.series[self.series.index(series)] = grown
        self._by_id[grown.id] = grown
        self._by_slug[grown.slug] = grown
        return grown, chapter

    def by_id(self, series_id: str) -> FakeSeries | None:
        return self._by_id.get(series_id)

    def by_slug(self, slug: str) -> FakeSeries | None:
        return self._by_slug.get(slug)

    def follows(self, series: FakeSeries) -> int:
        """How many readers follow a series (stable per seed): what "popular" orders by."""
        digest = hashlib.sha256(f"{self.seed}:follows:{series.id}".encode()).digest()
        return int.from_bytes(digest[:3], "big") % 100_000

    def popular(self) -> list[FakeSeries]:
        """Most followed first (views on the WordPress themes, followedCount on MangaDex)."""
        return sorted(self.series, key=lambda s: (-self.follows(s), s.title))

    def latest(self) -> list[FakeSeries]:
        """Newest chapter first (the themes' "latest", MangaDex's latestUploadedChapter)."""

        def newest(series: FakeSeries) -> float:
            return series.chapters[-1].published_at.timestamp() if series.chapters else 0.0

        return sorted(self.series, key=lambda s: (-newest(s), s.title))

    def listing(self, name: str) -> list[FakeSeries]:
        """``popular`` or ``latest``; ``KeyError`` for another name."""
        return {"popular": self.popular, "latest": self.latest}[name]()

    def search(self, query: str) -> list[FakeSeries]:
        needle = query.strip().lower()
        return [
            s
            for s in self.series
            if needle in s.title.lower() or any(needle in alt.lower() for alt in s.alt_titles)
        ]
