"""Samples of items: read through the listings within the API's rate limits, and kept a while.

Where the API has no profile extension (Avala's cloud), the client profiles a bounded sample of
a dataset's or a slice's items. A sample is read at the largest page size the API gives and
kept for :data:`SAMPLE_TTL` seconds (a few at once), so that describe, preview and create's
checks in one conversation read it once. Filters are evaluated with
:func:`avala_mcp.filter_eval.matches`, exactly as the embedded API's SQL selects items.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
from pydantic import TypeAdapter

from avala_mcp.client.models import Page, Profile, SliceItem
from avala_mcp.client.paging import iterate
from avala_mcp.client.profiling import item_paths, profile_items
from avala_mcp.contract import MAX_LIMIT, PROFILE_MAX_FIELDS
from avala_mcp.filter_eval import matches
from avala_mcp.filters import Node

#: Seconds a sample is reused: long enough for one conversation's describe, preview and create.
SAMPLE_TTL = 120.0
#: Samples kept at once; the least recently used goes first.
SAMPLE_ENTRIES = 4

_TIMESTAMP = TypeAdapter(datetime | None)

#: Fetches one page of a listing: ``(cursor, limit) -> page``.
PageFetcher = Callable[[str | None, int], Awaitable[Page[SliceItem]]]


@dataclass(frozen=True)
class Sample:
    """Items read in listing order, as models (to show) and as JSON (to match and profile)."""

    dataset: str
    items: tuple[SliceItem, ...]
    documents: tuple[dict[str, Any], ...]

    @classmethod
    def of(cls, dataset: str | None, items: Sequence[SliceItem]) -> Sample:
        """The sample of ``items``; a slice's sample learns its dataset from its items."""
        if dataset is None:
            dataset = next((item.dataset for item in items if item.dataset), "")
        documents = tuple(
            {
                "key": item.key,
                # As the model writes it back, the API's form: filters compare it as text.
                "created_at": _TIMESTAMP.dump_python(item.created_at, mode="json"),
                "metadata": item.metadata,
            }
            for item in items
        )
        return cls(dataset, tuple(items), documents)

    @functools.cached_property
    def paths(self) -> list[str]:
        """Every path of the sample's items, in order."""
        return item_paths(self.documents)

    def examples(self, node: Node | None, count: int) -> list[SliceItem]:
        """The first ``count`` items of the sample that ``node`` matches."""
        return [self.items[index] for index in self._matching(node)[:count]]

    def profile(
        self, node: Node | None, fields: Sequence[str] | None, top: int, examples: int
    ) -> Profile:
        """The profile of the sample's items that ``node`` matches (all for None).

        Without ``fields``, the paths are every path of the whole sample, as the embedded API
        lists every path of the whole dataset whatever the filter.
        """
        chosen = self._matching(node)
        paths = list(fields) if fields is not None else self.paths
        return Profile(
            dataset=self.dataset,
            count=len(chosen),
            exact=False,
            sampled=len(self.items),
            fields=profile_items(
                [self.documents[index] for index in chosen], paths[:PROFILE_MAX_FIELDS], top=top
            ),
            truncated=fields is None and len(paths) > PROFILE_MAX_FIELDS,
            items=[self.items[index] for index in chosen[:examples]],
        )

    def _matching(self, node: Node | None) -> list[int]:
        if node is None:
            return list(range(len(self.documents)))
        return [index for index, item in enumerate(self.documents) if matches(node, item)]


async def take(fetch: PageFetcher, size: int) -> list[SliceItem]:
    """The first ``size`` items of a listing, read at the largest page size the API gives.

    Each request asks for what is still missing, at most ``MAX_LIMIT``; a smaller page than
    asked for is taken as it is, and the next one asked for by its cursor.
    """
    items: list[SliceItem] = []

    async def page(cursor: str | None) -> Page[SliceItem]:
        return await fetch(cursor, min(MAX_LIMIT, size - len(items)))

    async with aclosing(iterate(page)) as listing:
        async for item in listing:
            items.append(item)
            if len(items) >= size:
                break
    return items


class SampleCache:
    """A few recent samples, each reused for ``ttl`` seconds after it was read.

    One read at a time: two calls that want the same sample wait for one read, and calls that
    want different ones do not add up to a burst against the API's rate limit.
    """

    def __init__(
        self,
        now: Callable[[], datetime],
        *,
        ttl: float = SAMPLE_TTL,
        entries: int = SAMPLE_ENTRIES,
    ) -> None:
        self._now = now
        self._ttl = ttl
        self._most = entries
        self._entries: OrderedDict[Hashable, tuple[datetime, Sample]] = OrderedDict()
        self._lock = anyio.Lock()

    async def get(self, key: Hashable, read: Callable[[], Awaitable[Sample]]) -> Sample:
        """The sample kept under ``key`` if it is fresh, else the one ``read`` returns."""
        async with self._lock:
            kept = self._entries.get(key)
            if kept is not None and (self._now() - kept[0]).total_seconds() < self._ttl:
                self._entries.move_to_end(key)
                return kept[1]
            sample = await read()
            self._entries[key] = (self._now(), sample)
            self._entries.move_to_end(key)
            while len(self._entries) > self._most:
                self._entries.popitem(last=False)
            return sample
