"""AvalaClient: a typed async client for the Avala Slices API (see ``docs/contracts.md``).

One method per endpoint, on one pooled connection. Arguments are checked before any request
(:mod:`~avala_mcp.client.arguments`); failures become :mod:`avala_mcp.client.errors` types; how
requests are sent, authenticated and retried is :mod:`~avala_mcp.client.transport`'s business, and
how listings are paged :mod:`~avala_mcp.client.paging`'s.

The API key travels only in the ``X-Avala-Api-Key`` header of requests to the base URL's origin.
It is never part of ``repr()``, of an error's text, or of a log line.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import anyio
import httpx

from avala_mcp.client.arguments import Arguments
from avala_mcp.client.errors import AvalaError, NotFoundError, ValidationError
from avala_mcp.client.models import Dataset, NameValidation, Page, Profile, Slice, SliceItem
from avala_mcp.client.paging import iterate, read_page
from avala_mcp.client.parsing import M, json_body, parse
from avala_mcp.client.profiles import Profiles
from avala_mcp.client.transport import Transport
from avala_mcp.contract import (
    DEFAULT_BASE_URL,
    PROFILE_DEFAULT_TOP,
    PROFILE_MAX_FIELDS,
    PROFILE_MAX_TOP,
    name_problem,
)
from avala_mcp.filters import Condition, Group, Node, Not
from avala_mcp.settings import DEFAULT_SAMPLE_ITEMS, Settings

#: Page size of the ``iter_*`` methods when none is given: few requests, little memory.
ITER_PAGE_SIZE = 100
#: Most matching items a profile returns with ``sample=N`` (a preview's examples).
PREVIEW_MAX_ITEMS = 6


def _utcnow() -> datetime:
    return datetime.now(UTC)


class AvalaClient:
    """Async client for the Slices API; use it as ``async with AvalaClient(...) as client``.

    ``sleep``, ``jitter`` (a source of floats in [0, 1)) and ``now`` exist so that tests can
    observe the retry waits without waiting. ``max_retry_wait`` bounds the seconds spent waiting
    between retries of one call: a wait that would pass it is not taken, the error is raised.
    ``sample_items`` is how many items :meth:`profile` reads where the API has no profile
    extension.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        max_retry_wait: float = 30.0,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        jitter: Callable[[], float] = random.random,
        now: Callable[[], datetime] = _utcnow,
        sample_items: int = DEFAULT_SAMPLE_ITEMS,
    ) -> None:
        if isinstance(sample_items, bool) or not isinstance(sample_items, int) or sample_items < 1:
            raise ValueError(f"sample_items must be a whole number >= 1, got {sample_items!r}")
        self._transport = Transport(
            api_key,
            base_url,
            timeout=timeout,
            max_retries=max_retries,
            max_retry_wait=max_retry_wait,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            transport=transport,
            sleep=sleep,
            jitter=jitter,
            now=now,
        )
        self._profiles = Profiles(self, self._transport, sample_items=sample_items, now=now)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> AvalaClient:
        """A client configured by ``settings`` (key, base URL, timeout, retries, sample size)."""
        return cls(
            api_key=settings.api_key,
            base_url=settings.base_url,
            timeout=settings.timeout,
            max_retries=settings.max_retries,
            transport=transport,
            sample_items=settings.sample_items,
        )

    @property
    def base_url(self) -> str:
        """The API's base URL, without a trailing slash."""
        return str(self._transport.base_url).rstrip("/")

    def __repr__(self) -> str:
        return f"AvalaClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> Self:
        await self._transport.http.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._transport.http.__aexit__(exc_type, exc, traceback)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._transport.http.aclose()

    # ----------------------------------------------------------------------------- endpoints

    async def list_slices(
        self,
        owner: str,
        *,
        ordering: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Slice]:
        """One page of the slices ``owner`` (an organization or user) owns."""
        args = Arguments()
        path = f"slices/{args.segment('owner', owner)}/list/"
        params = args.page_params(ordering=ordering, cursor=cursor, limit=limit)
        args.check()
        return await self._get_page(path, params, Slice)

    async def list_dataset_slices(
        self,
        dataset_uid: str,
        *,
        ordering: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Slice]:
        """One page of the slices of the dataset ``dataset_uid``."""
        args = Arguments()
        path = f"slices/dataset/{args.uuid('dataset_uid', dataset_uid)}/"
        params = args.page_params(ordering=ordering, cursor=cursor, limit=limit)
        args.check()
        return await self._get_page(path, params, Slice)

    async def get_slice(self, owner: str, slug: str) -> Slice:
        """The slice ``owner``/``slug``."""
        args = Arguments()
        path = f"slices/{args.segment('owner', owner)}/{args.segment('slug', slug)}/"
        args.check()
        response = await self._transport.request("GET", path)
        return parse(Slice, json_body(response))

    async def create_slice(
        self,
        *,
        name: str,
        dataset: str,
        description: str | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> Slice:
        """Create a slice of ``dataset``, optionally narrowed by a filter.

        The filter language is described in ``docs/contracts.md``.
        """
        args = Arguments()
        body: dict[str, Any] = {"name": args.name(name), "dataset": args.uuid("dataset", dataset)}
        if description is not None:
            body["description"] = args.text("description", description)
        if filter is not None:
            body["filter"] = args.json_object("filter", filter)
        args.check()
        response = await self._transport.request("POST", "slices/", body=body)
        return parse(Slice, json_body(response))

    async def list_slice_items(
        self,
        owner: str,
        slug: str,
        *,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[SliceItem]:
        """One page of the items of the slice ``owner``/``slug``."""
        args = Arguments()
        path = f"slices/{args.segment('owner', owner)}/{args.segment('slug', slug)}/items/list/"
        params = args.page_params(cursor=cursor, limit=limit)
        args.check()
        return await self._get_page(path, params, SliceItem)

    async def validate_slice_name(self, name: str, *, dataset: str | None = None) -> NameValidation:
        """Whether ``name`` may name a new slice (of ``dataset``), and the slug it would get.

        An invalid name is an answer (``valid=False`` with the API's reasons), not an error.
        A name holding a character no name may (``name_problem``) is answered so here, without
        asking: the API refuses it alike, and a lone surrogate could not even be sent.
        """
        if isinstance(name, str) and (problem := name_problem(name)) is not None:
            return NameValidation(valid=False, name=name, reasons=[f"Name {problem}."])
        args = Arguments()
        body: dict[str, Any] = {"name": args.text("name", name)}
        if dataset is not None:
            body["dataset"] = args.uuid("dataset", dataset)
        args.check()
        try:
            response = await self._transport.request("POST", "slice/validate/name", body=body)
        except ValidationError as error:
            if not error.fields:
                raise
            return NameValidation(valid=False, name=name, reasons=_reasons(error.fields))
        return parse(NameValidation, json_body(response))

    async def delete_slice(self, owner: str, slug: str) -> None:
        """Delete the slice ``owner``/``slug``.

        If an earlier attempt may have reached the server (a broken connection, a 502 or 504),
        a 404 on the retry means that attempt did the deletion, so it counts as success.
        """
        args = Arguments()
        path = f"slices/{args.segment('owner', owner)}/{args.segment('slug', slug)}/"
        args.check()
        await self._transport.request("DELETE", path, gone_if_retried=True)

    async def iter_slices(
        self, owner: str, *, ordering: str | None = None, limit: int = ITER_PAGE_SIZE
    ) -> AsyncIterator[Slice]:
        """Every slice of ``owner``, fetching one page at a time as the caller consumes them."""
        async for found in iterate(
            lambda cursor: self.list_slices(owner, ordering=ordering, cursor=cursor, limit=limit)
        ):
            yield found

    async def iter_dataset_slices(
        self, dataset_uid: str, *, ordering: str | None = None, limit: int = ITER_PAGE_SIZE
    ) -> AsyncIterator[Slice]:
        """Every slice of the dataset ``dataset_uid``, one page at a time."""
        async for found in iterate(
            lambda cursor: self.list_dataset_slices(
                dataset_uid, ordering=ordering, cursor=cursor, limit=limit
            )
        ):
            yield found

    async def iter_slice_items(
        self, owner: str, slug: str, *, limit: int = ITER_PAGE_SIZE
    ) -> AsyncIterator[SliceItem]:
        """Every item of the slice ``owner``/``slug``, one page at a time."""
        async for item in iterate(
            lambda cursor: self.list_slice_items(owner, slug, cursor=cursor, limit=limit)
        ):
            yield item

    # ---------------------------------------------------------------------- datasets, profiles

    async def list_datasets(
        self, *, name: str | None = None, cursor: str | None = None, limit: int | None = None
    ) -> Page[Dataset]:
        """One page of the datasets the key can see; ``name`` keeps those whose name holds it
        (ignoring case)."""
        args = Arguments()
        params = args.page_params(cursor=cursor, limit=limit)
        if name is not None:
            params["name"] = args.search("name", name)
        args.check()
        try:
            return await self._get_page("datasets/", params, Dataset)
        except NotFoundError as error:
            raise _no_datasets(error) from None

    async def get_dataset(self, uid: str) -> Dataset:
        """The dataset ``uid``."""
        args = Arguments()
        path = f"datasets/{args.uuid('uid', uid)}/"
        args.check()
        try:
            response = await self._transport.request("GET", path)
        except NotFoundError as error:
            raise await self._unknown_dataset(error) from None
        return parse(Dataset, json_body(response))

    async def list_dataset_items(
        self, owner: str, slug: str, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[SliceItem]:
        """One page of the items of the dataset ``owner``/``slug``."""
        args = Arguments()
        path = f"datasets/{args.segment('owner', owner)}/{args.segment('slug', slug)}/items/"
        params = args.page_params(cursor=cursor, limit=limit)
        args.check()
        try:
            return await self._get_page(path, params, SliceItem)
        except NotFoundError as error:
            raise await self._unknown_dataset(error) from None

    async def iter_dataset_items(
        self, owner: str, slug: str, *, page_size: int = ITER_PAGE_SIZE
    ) -> AsyncIterator[SliceItem]:
        """Every item of the dataset ``owner``/``slug``, one page at a time."""
        async for item in iterate(
            lambda cursor: self.list_dataset_items(owner, slug, cursor=cursor, limit=page_size)
        ):
            yield item

    async def profile(
        self,
        *,
        dataset: str | None = None,
        slice: tuple[str, str] | None = None,
        filter: Node | None = None,
        fields: Sequence[str] | None = None,
        top: int = PROFILE_DEFAULT_TOP,
        sample: int = 0,
    ) -> Profile:
        """What the items of a dataset (``dataset``, a uid, optionally under a parsed ``filter``)
        or of a slice (``slice=(owner, slug)``) hold: their count and, per field path, its
        types, presence, distinct count, most common values, min and max.

        Exact where the API has the profile extension, else computed from a sample of items
        (``exact=False, sampled=N``). ``fields`` limits the paths; ``sample=N`` also returns
        up to N matching items of the sample. See ``docs/contracts.md``.
        """
        args = Arguments()
        if (dataset is None) == (slice is None):
            args.refuse("dataset", "give exactly one of dataset (a uid) or slice (owner, slug)")
        uid = None if dataset is None else args.uuid("dataset", dataset)
        if slice is not None:
            args.slice_ref("slice", slice)
        if filter is not None and not isinstance(filter, Condition | Group | Not):
            args.refuse("filter", "expected a filter parsed by avala_mcp.filters.parse_filter")
        if filter is not None and slice is not None:
            args.refuse("filter", "a slice has its own filter; give a filter with a dataset")
        paths = None if fields is None else args.field_paths("fields", fields, PROFILE_MAX_FIELDS)
        args.whole_number("top", top, 1, PROFILE_MAX_TOP)
        args.whole_number("sample", sample, 0, PREVIEW_MAX_ITEMS)
        args.check()
        if uid is not None:
            return await self._profiles.of_dataset(uid, filter, paths, top, sample)
        assert slice is not None  # exactly one of the two, checked above
        owner, slug = slice
        return await self._profiles.of_slice(owner, slug, paths, top, sample)

    # ------------------------------------------------------------------------------ plumbing

    async def _unknown_dataset(self, error: NotFoundError) -> NotFoundError:
        """The error for a 404 from a dataset endpoint: the dataset is unknown, or the API has no
        dataset endpoints at all, which a listing tells (one request, only on this path)."""
        try:
            await self._transport.request("GET", "datasets/", params={"limit": 1})
        except NotFoundError as listing:
            return _no_datasets(listing)
        except AvalaError:
            pass
        return error

    async def _get_page(self, path: str, params: dict[str, Any], model: type[M]) -> Page[M]:
        response = await self._transport.request("GET", path, params=params)
        return read_page(response, model)


def _no_datasets(error: NotFoundError) -> NotFoundError:
    return NotFoundError(
        "this API does not offer datasets (GET /datasets/ answered 404)", status=error.status
    )


def _reasons(fields: Mapping[str, list[str]]) -> list[str]:
    """Field errors as reasons: the name's own as they are, the others prefixed with the field."""
    return [
        message if field in ("name", "non_field_errors") else f"{field}: {message}"
        for field, messages in fields.items()
        for message in messages
    ]
