"""The slice endpoints: list (by owner or dataset), create, get, delete, items, validate a name.

Each handler checks the request, then asks the store; see ``docs/contracts.md`` for the contract.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from avala_mcp.embedded import naming
from avala_mcp.embedded.access import (
    path_dataset,
    permitted_dataset,
    permitted_owner,
    permitted_slice,
    run,
)
from avala_mcp.embedded.errors import NOT_FOUND, ApiError, field_errors
from avala_mcp.embedded.inputs import (
    description_field,
    filter_field,
    json_body,
    name_and_dataset,
)
from avala_mcp.embedded.paging import (
    Key,
    assemble_page,
    decode_cursor,
    parse_limit,
    parse_ordering,
)
from avala_mcp.embedded.responses import (
    item_page_json,
    listed_slice_json,
    page_json,
    slice_json,
)
from avala_mcp.embedded.store import DuplicateName, Slice, Store


class SliceEndpoints:
    """The slice endpoints over one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def _slice_page(self, request: Request, scope: str, scope_id: int) -> Response:
        params = request.query_params
        ordering = parse_ordering(params.get("ordering"))
        limit = parse_limit(params.get("limit"))
        key_types = (int if ordering.field == "item_count" else str, int)
        cursor = decode_cursor(params.get("cursor"), ordering.spelled, key_types)
        rows = await run(self.store.list_slices, scope, scope_id, ordering, cursor, limit)
        count = await run(self.store.count_slices, scope, scope_id)

        def key_of(piece: Slice) -> Key:
            return piece.key_for(ordering)

        page = assemble_page(rows, limit, cursor, ordering.spelled, key_of)
        return JSONResponse(page_json(request, page, count, listed_slice_json))

    async def list_owner_slices(self, request: Request) -> Response:
        owner = await permitted_owner(request, self.store)
        return await self._slice_page(request, "owner", owner.id)

    async def list_dataset_slices(self, request: Request) -> Response:
        dataset = await path_dataset(request, self.store)
        return await self._slice_page(request, "dataset", dataset.id)

    async def create_slice(self, request: Request) -> Response:
        body = await json_body(request)
        errors: dict[str, list[str]] = {}
        name, uid = name_and_dataset(body, errors, dataset_required=True)
        description = description_field(body, errors)
        raw_filter = filter_field(body, errors)
        if errors:
            raise field_errors(errors)
        assert name is not None
        assert uid is not None
        dataset = await permitted_dataset(request, self.store, uid)
        try:
            created = await run(self.store.create_slice, dataset, name, description, raw_filter)
        except DuplicateName:
            raise ApiError(
                409, {"detail": f"A slice named {name!r} already exists in this dataset."}
            ) from None
        return JSONResponse(slice_json(created), 201)

    async def get_slice(self, request: Request) -> Response:
        return JSONResponse(slice_json(await permitted_slice(request, self.store)))

    async def delete_slice(self, request: Request) -> Response:
        piece = await permitted_slice(request, self.store)
        if not await run(self.store.delete_slice, piece.id):
            raise ApiError(404, NOT_FOUND)
        return Response(status_code=204)

    async def list_slice_items(self, request: Request) -> Response:
        piece = await permitted_slice(request, self.store)
        limit = parse_limit(request.query_params.get("limit"))
        cursor = decode_cursor(request.query_params.get("cursor"), "id", (int,))
        rows = await run(self.store.slice_items, piece, cursor, limit)
        page = item_page_json(request, rows, limit, cursor, piece.item_count, piece.dataset)
        return JSONResponse(page)

    async def validate_name(self, request: Request) -> Response:
        body = await json_body(request)
        errors: dict[str, list[str]] = {}
        name, uid = name_and_dataset(body, errors, dataset_required=False)
        if errors:
            raise field_errors(errors)
        assert name is not None
        slug = naming.slugify(name)
        if uid is not None:
            dataset = await permitted_dataset(request, self.store, uid)
            if await run(self.store.name_taken, dataset.id, name):
                raise field_errors(
                    {"name": [f"A slice named {name!r} already exists in this dataset."]}
                )
            slug = await run(self.store.slug_for, dataset.owner.id, name)
        return JSONResponse({"name": name, "slug": slug, "valid": True})


def routes(store: Store) -> list[Route]:
    """The slice routes, relative to the API's base path."""
    api = SliceEndpoints(store)
    return [
        Route("/slices/", api.create_slice, methods=["POST"]),
        Route("/slices/dataset/{dataset_uid}/", api.list_dataset_slices, methods=["GET"]),
        Route("/slices/{owner}/list/", api.list_owner_slices, methods=["GET"]),
        Route("/slices/{owner}/{slug}/items/list/", api.list_slice_items, methods=["GET"]),
        Route("/slices/{owner}/{slug}/", api.get_slice, methods=["GET"]),
        Route("/slices/{owner}/{slug}/", api.delete_slice, methods=["DELETE"]),
        Route("/slice/validate/name", api.validate_name, methods=["POST"]),
    ]
