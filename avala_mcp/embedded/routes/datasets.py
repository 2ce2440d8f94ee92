"""The dataset endpoints: list those the caller sees, get one, a dataset's items, and the profile
extension (``POST /datasets/{uid}/profile/``, which only the embedded API offers).

Each handler checks the request, then asks the store; see ``docs/contracts.md`` for the contract.
"""

from __future__ import annotations

import sqlite3

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from avala_mcp.contract import DATASET_DEFAULT_LIMIT
from avala_mcp.embedded.access import caller, path_dataset, permitted_owner, run
from avala_mcp.embedded.errors import NOT_FOUND, ApiError, field_errors
from avala_mcp.embedded.inputs import fields_field, filter_field, json_body, top_field
from avala_mcp.embedded.paging import Key, assemble_page, decode_cursor, parse_limit
from avala_mcp.embedded.responses import dataset_json, item_page_json, page_json, profile_json
from avala_mcp.embedded.store import DatasetInfo, Store
from avala_mcp.filters import parse_filter

#: The listing's one ordering (name, then id), as its cursors spell it.
_BY_NAME = "name"
#: ``->`` and ``->>``, which the profile's SQL reads values with, came in SQLite 3.38. On an
#: older SQLite the extension is not offered (404), and clients fall back to sampling, as they
#: do against Avala's cloud.
PROFILE_MIN_SQLITE = (3, 38, 0)


class DatasetEndpoints:
    """The dataset endpoints over one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def list_datasets(self, request: Request) -> Response:
        params = request.query_params
        limit = parse_limit(params.get("limit"), DATASET_DEFAULT_LIMIT)
        cursor = decode_cursor(params.get("cursor"), _BY_NAME, (str, int))
        name = params.get("name") or None
        user_id = caller(request)
        rows = await run(self.store.list_datasets, user_id, name, cursor, limit)
        count = await run(self.store.count_datasets, user_id, name)

        def key_of(info: DatasetInfo) -> Key:
            return (info.name, info.id)

        page = assemble_page(rows, limit, cursor, _BY_NAME, key_of)
        return JSONResponse(page_json(request, page, count, dataset_json))

    async def get_dataset(self, request: Request) -> Response:
        dataset = await path_dataset(request, self.store)
        return JSONResponse(dataset_json(await run(self.store.dataset_info, dataset.id)))

    async def list_dataset_items(self, request: Request) -> Response:
        owner = await permitted_owner(request, self.store)
        dataset = await run(self.store.dataset_by_slug, owner.id, request.path_params["slug"])
        if dataset is None:
            raise ApiError(404, NOT_FOUND)
        limit = parse_limit(request.query_params.get("limit"))
        cursor = decode_cursor(request.query_params.get("cursor"), "id", (int,))
        rows = await run(self.store.dataset_items, dataset.id, cursor, limit)
        count = await run(self.store.dataset_item_count, dataset.id)
        return JSONResponse(item_page_json(request, rows, limit, cursor, count, dataset.uid))

    async def profile(self, request: Request) -> Response:
        dataset = await path_dataset(request, self.store)
        body = await json_body(request)
        errors: dict[str, list[str]] = {}
        raw_filter = filter_field(body, errors)
        fields = fields_field(body, errors)
        top = top_field(body, errors)
        if errors:
            raise field_errors(errors)
        node = None if raw_filter is None else parse_filter(raw_filter)
        profile = await run(self.store.profile, dataset.id, node, fields, top)
        return JSONResponse(profile_json(dataset.uid, profile))


def routes(store: Store) -> list[Route]:
    """The dataset routes, relative to the API's base path."""
    api = DatasetEndpoints(store)
    found = [
        Route("/datasets/", api.list_datasets, methods=["GET"]),
        Route("/datasets/{dataset_uid}/", api.get_dataset, methods=["GET"]),
        Route("/datasets/{owner}/{slug}/items/", api.list_dataset_items, methods=["GET"]),
    ]
    if sqlite3.sqlite_version_info >= PROFILE_MIN_SQLITE:
        found.append(Route("/datasets/{dataset_uid}/profile/", api.profile, methods=["POST"]))
    return found
