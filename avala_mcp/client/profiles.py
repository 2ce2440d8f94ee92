"""Profiles of a dataset or a slice: exact where the API has the profile extension, else sampled.

The embedded API answers ``POST /datasets/{uid}/profile/`` in SQL; Avala's cloud has no such
route and answers 404 (or 405). That answer is not an error and is not retried: the client
remembers that this API has no extension and, from then on, profiles a sample read through the
listings (:mod:`~avala_mcp.client.sampling`). See ``docs/contracts.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from avala_mcp.client.errors import AvalaError, ServerError
from avala_mcp.client.models import Profile
from avala_mcp.client.parsing import json_body, parse
from avala_mcp.client.sampling import Sample, SampleCache, take
from avala_mcp.client.transport import Transport
from avala_mcp.filters import Node, filter_to_json

if TYPE_CHECKING:
    from avala_mcp.client.api import AvalaClient

logger = logging.getLogger(__name__)

# What an API without the extension answers: no such route, or a route that takes no POST.
_NO_EXTENSION = frozenset({404, 405})


class Profiles:
    """Profiles for one client; it remembers whether its API has the profile extension."""

    def __init__(
        self,
        client: AvalaClient,
        transport: Transport,
        *,
        sample_items: int,
        now: Callable[[], datetime],
    ) -> None:
        self._client = client
        self._transport = transport
        self._sample_items = sample_items
        self._samples = SampleCache(now)
        #: Whether the API has the profile extension; None until an answer told.
        self.extension: bool | None = None

    async def of_dataset(
        self,
        uid: str,
        node: Node | None,
        fields: Sequence[str] | None,
        top: int,
        examples: int,
    ) -> Profile:
        """The profile of the dataset ``uid``'s items that ``node`` matches."""
        if self.extension is not False:
            raw_filter = None if node is None else filter_to_json(node)
            profile = await self._exact(uid, raw_filter, fields, top)
            if profile is not None:
                if examples:
                    profile.items = (await self._dataset_sample(uid)).examples(node, examples)
                return profile
        # Read before deciding: a 404 from the dataset itself means it is unknown, not that
        # the API lacks the extension.
        sample = await self._dataset_sample(uid)
        self._no_extension()
        return sample.profile(node, fields, top, examples)

    async def of_slice(
        self, owner: str, slug: str, fields: Sequence[str] | None, top: int, examples: int
    ) -> Profile:
        """The profile of the items of the slice ``owner``/``slug``.

        With the extension, that is its dataset's profile under its filter, which the embedded
        API gives with the slice; Avala's cloud gives neither, so the slice's items are sampled.
        """
        dataset: str | None = None
        if self.extension is not False:
            found = await self._client.get_slice(owner, slug)
            dataset = found.dataset
            if dataset is not None:
                profile = await self._exact(dataset, found.filter, fields, top)
                if profile is not None:
                    if examples:
                        sample = await self._slice_sample(owner, slug, dataset)
                        profile.items = sample.examples(None, examples)
                    return profile
        sample = await self._slice_sample(owner, slug, dataset)
        if dataset is not None:
            self._no_extension()
        return sample.profile(None, fields, top, examples)

    async def _exact(
        self,
        uid: str,
        raw_filter: Mapping[str, Any] | None,
        fields: Sequence[str] | None,
        top: int,
    ) -> Profile | None:
        """The extension's profile; None when the API answers that it has no extension."""
        body = {
            "filter": raw_filter,
            "fields": None if fields is None else list(fields),
            "top": top,
        }
        try:
            response = await self._transport.request(
                "POST", f"datasets/{uid}/profile/", body=body, reads_only=True
            )
        except AvalaError as error:
            if self.extension or error.status not in _NO_EXTENSION:
                raise
            return None
        self.extension = True
        return parse(Profile, json_body(response))

    def _no_extension(self) -> None:
        if self.extension is None:
            logger.debug("the API has no profile extension; profiles are sampled from now on")
        self.extension = False

    async def _dataset_sample(self, uid: str) -> Sample:
        async def read() -> Sample:
            dataset = await self._client.get_dataset(uid)
            owner, slug = dataset.owner_name, dataset.slug
            if owner is None or slug is None:
                raise ServerError(
                    f"the API did not say the owner and slug of dataset {uid}, "
                    "so its items cannot be listed"
                )
            items = await take(
                lambda cursor, limit: self._client.list_dataset_items(
                    owner, slug, cursor=cursor, limit=limit
                ),
                self._sample_items,
            )
            return Sample.of(uid, items)

        return await self._samples.get(("dataset", uid), read)

    async def _slice_sample(self, owner: str, slug: str, dataset: str | None) -> Sample:
        async def read() -> Sample:
            items = await take(
                lambda cursor, limit: self._client.list_slice_items(
                    owner, slug, cursor=cursor, limit=limit
                ),
                self._sample_items,
            )
            return Sample.of(dataset, items)

        return await self._samples.get(("slice", owner, slug), read)
