"""Every listing's query parameters, forged or misspelt: always a 400 naming the parameter.

A cursor is opaque but not trusted: one that decodes to values no row can hold (an integer past
SQLite's 64 bits, a lone surrogate) once reached SQLite and came back as a 500. And a number in
a query string is ASCII digits only, where Python's ``int()`` would also take ``5_0``, ``+5``,
`` 5 `` or other scripts' digits.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from avala_mcp.embedded.paging import SLICE_ORDERINGS
from avala_mcp.embedded.seed import DEMO_DATASET_UID, DEMO_ORG, DEMO_SLICE_SLUG

pytestmark = pytest.mark.anyio

INVALID_CURSOR = {"cursor": ["Invalid cursor."]}

# Each listing with an ordering it takes (None: it takes none), the ordering its cursors name,
# and the types of its cursors' keys.
_SLICE_LISTINGS = [f"/slices/{DEMO_ORG}/list/", f"/slices/dataset/{DEMO_DATASET_UID}/"]
LISTINGS: list[tuple[str, str | None, str, tuple[type, ...]]] = [
    *(
        (url, ordering, ordering, (int if "item_count" in ordering else str, int))
        for url in _SLICE_LISTINGS
        for ordering in SLICE_ORDERINGS
    ),
    *((url, None, "-created_at", (str, int)) for url in _SLICE_LISTINGS),  # the default
    (f"/slices/{DEMO_ORG}/{DEMO_SLICE_SLUG}/items/list/", None, "id", (int,)),
    (f"/datasets/{DEMO_ORG}/driving-scenes/items/", None, "id", (int,)),
    ("/datasets/", None, "name", (str, int)),
]
LISTING_IDS = [f"{url}?ordering={ordering}" for url, ordering, _, _ in LISTINGS]

_GOOD = {int: 1, str: "m"}
# Values a cursor key of each type must not take: out of SQLite's range, not Unicode, or not
# of the type at all.
_BAD: dict[type, list[Any]] = {
    int: [2**63, -(2**63) - 1, 2**64, 10**30, 1.5, True, None, "1", [1]],
    str: ["\ud800", "a\udfffb", 5, None, True, ["a"]],
}


def _text(payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _cursor(payload: Any) -> str:
    # json.dumps writes NaN as NaN and a lone surrogate as \ud800, as a forger could.
    return _text(json.dumps(payload))


def forged_cursors(ordering: str, kinds: tuple[type, ...]) -> list[str]:
    """Cursors of every forged kind for a walk of ``ordering`` with keys of ``kinds``."""
    good = [_GOOD[kind] for kind in kinds]
    forged = [
        _cursor({"o": ordering, "f": True, "k": [*good[:index], bad, *good[index + 1 :]]})
        for index, kind in enumerate(kinds)
        for bad in _BAD[kind]
    ]
    forged += [
        _cursor({"o": ordering, "f": True, "k": [float("nan"), *good[1:]]}),
        _cursor({"o": ordering, "f": True, "k": [float("inf"), *good[1:]]}),
        _cursor({"o": f"{ordering}x", "f": True, "k": good}),
        _cursor({"o": ordering, "f": 1, "k": good}),
        _cursor({"o": ordering, "f": True, "k": good[1:]}),
        _cursor({"o": ordering, "f": True, "k": [*good, 1]}),
        _cursor({"o": ordering, "f": True, "k": good, "x": 0}),
        _cursor({"o": ordering, "f": True}),
        _cursor([ordering, True, good]),
        _cursor(None),
        _text('{"o": "%s", "f": true, "k": [%s]}' % (ordering, "9" * 5000)),  # noqa: UP031
        _text("{"),
        "!!!",
        "é",
        "eyJ",
        _cursor({"o": ordering, "f": True, "k": good}) + "==",
        "A" * 5000,
    ]
    return forged


@pytest.mark.parametrize(("url", "ordering", "spelled", "kinds"), LISTINGS, ids=LISTING_IDS)
async def test_every_forged_cursor_is_an_invalid_cursor(
    local_http: httpx.AsyncClient,
    url: str,
    ordering: str | None,
    spelled: str,
    kinds: tuple[type, ...],
) -> None:
    params = {} if ordering is None else {"ordering": ordering}
    # The walk's own cursor works (the forgeries below are of the right shape otherwise).
    first = await local_http.get(url, params={**params, "limit": 1})
    assert first.status_code == 200
    if first.json()["next"] is not None:  # the demo user sees a single dataset
        own = httpx.URL(first.json()["next"]).params["cursor"]
        assert (await local_http.get(url, params={**params, "cursor": own})).status_code == 200
    answers = {}
    for cursor in forged_cursors(spelled, kinds):
        response = await local_http.get(url, params={**params, "cursor": cursor})
        answers[cursor[:60]] = (response.status_code, response.json())
    assert answers == {cursor: (400, INVALID_CURSOR) for cursor in answers}


ALL_LISTINGS = sorted({url for url, _, _, _ in LISTINGS})
LENIENT_NUMBERS = ["5_0", "+5", " 5 ", "5 ", "\uff15", "\u0665", "5.0", "1e2", "0x10", "-1", "5\n"]


@pytest.mark.parametrize("url", ALL_LISTINGS)
async def test_limit_takes_ascii_digits_only(local_http: httpx.AsyncClient, url: str) -> None:
    answers = {}
    for raw in [*LENIENT_NUMBERS, "1" * 25]:
        response = await local_http.get(url, params={"limit": raw})
        answers[raw] = (response.status_code, response.json())
    assert answers == {raw: (400, {"limit": ["A valid integer is required."]}) for raw in answers}
    assert (await local_http.get(url, params={"limit": "05"})).status_code == 200


async def test_a_real_cursor_of_a_long_name_fits_the_cursor_bound(
    local_http: httpx.AsyncClient,
) -> None:
    # 255 characters past the BMP: as \u escapes its cursor would be over 4,096 characters.
    name = "\U0001f600" * 255
    created = await local_http.post("/slices/", json={"name": name, "dataset": DEMO_DATASET_UID})
    assert created.status_code == 201
    url = f"/slices/{DEMO_ORG}/list/"
    page = await local_http.get(url, params={"ordering": "-name", "limit": 1})
    assert page.json()["results"][0]["name"] == name
    following = await local_http.get(page.json()["next"])
    assert following.status_code == 200
    assert following.json()["results"][0]["name"] != name
