"""The media endpoint: an item's image, served by the API itself.

``GET /media/{dataset_uid}/{path}``: for a demo dataset, the synthetic frame of the item whose key
is ``path``, drawn at ``size`` (the full frame by default, or one of its thumbnail sizes); for an
imported dataset, the image file ``path`` under its media root. The same checks as every
endpoint apply: the API key, then 404 and 403 on the dataset.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from avala_mcp.embedded.access import path_dataset, run
from avala_mcp.embedded.errors import NOT_FOUND, ApiError
from avala_mcp.embedded.media import FRAME_SIZE, FRAME_SIZES, size_name
from avala_mcp.embedded.media.files import MediaPathError, read_image
from avala_mcp.embedded.paging import ParameterError
from avala_mcp.embedded.seed import SYNTHETIC_MEDIA
from avala_mcp.embedded.store import Store

_SIZES = {size_name(size): size for size in FRAME_SIZES}
# A demo frame never changes; a local file may, so it is kept less long.
_FRAME_HEADERS = {"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"}
_FILE_HEADERS = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"}


def _render(kind: str, key: str, metadata: Mapping[str, Any], size: tuple[int, int]) -> bytes:
    # Pillow is imported here, on the first image asked for, never at start-up.
    from avala_mcp.embedded.media.frames import RENDERERS

    return RENDERERS[kind](key, metadata, size)


def _size(raw: str | None) -> tuple[int, int] | None:
    if raw is None:
        return None
    size = _SIZES.get(raw)
    if size is None:
        raise ParameterError("size", f"Must be one of {', '.join(_SIZES)}.")
    return size


class MediaEndpoints:
    """The media endpoint over one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def image(self, request: Request) -> Response:
        dataset = await path_dataset(request, self.store)
        path: str = request.path_params["path"]
        size = _size(request.query_params.get("size"))
        kind = SYNTHETIC_MEDIA.get(dataset.uid)
        if kind is not None:
            item = await run(self.store.item_by_key, dataset.id, path)
            if item is None:
                raise ApiError(404, NOT_FOUND)
            frame = await run(_render, kind, item.key, item.metadata, size or FRAME_SIZE)
            return Response(frame, media_type="image/jpeg", headers=_FRAME_HEADERS)
        if size is not None:
            raise ParameterError("size", "Only the demo datasets' frames come in sizes.")
        if dataset.media_root is None:
            raise ApiError(404, NOT_FOUND)
        try:
            data, media_type = await run(read_image, Path(dataset.media_root), path)
        except MediaPathError:
            # Why a path is refused (outside the root, not there) is not the caller's to learn.
            raise ApiError(404, NOT_FOUND) from None
        return Response(data, media_type=media_type, headers=_FILE_HEADERS)


def routes(store: Store) -> list[Route]:
    """The media route, relative to the API's base path; ``media`` by name (for ``url_for``)."""
    api = MediaEndpoints(store)
    return [Route("/media/{dataset_uid}/{path:path}", api.image, methods=["GET"], name="media")]
