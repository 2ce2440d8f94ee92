"""The trial of issue 10, replayed: each question answered in at most 3 calls and 8 KB of results,
and each typo caught (refused or warned) with the nearest correct name in the hint.

A :class:`Conversation` plays the model: it starts knowing only the owner's name, and counts the
calls it makes and the bytes of text it reads back.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from mcp import Client
from mcp_checks import call_tool, text_of

from avala_mcp.embedded.seed import (
    DEMO_DATASET_UID,
    DEMO_ORG,
    RAINY_NIGHT_PEDESTRIANS_COUNT,
    RAINY_NIGHT_PEDESTRIANS_FILTER,
)

pytestmark = pytest.mark.anyio

MAX_CALLS = 3
MAX_BYTES = 8 * 1024
WETHER = {"field": "metadata.wether", "op": "eq", "value": "rain"}
NIGHT_CAPITALISED = {"field": "metadata.time_of_day", "op": "eq", "value": "Night"}
PEDESTRIANS_AS_TEXT = {"field": "metadata.pedestrians", "op": "gte", "value": "2"}


class Conversation:
    """Tool calls as a model makes them, with what they cost."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self.calls = 0
        self.bytes = 0

    async def call(self, name: str, arguments: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """Whether the call succeeded, and its structured content."""
        result = await call_tool(self._client, name, arguments)
        self.calls += 1
        self.bytes += len(text_of(result).encode())
        assert result.structured_content is not None
        return not result.is_error, result.structured_content

    async def ok(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        succeeded, content = await self.call(name, arguments)
        assert succeeded, content
        return content

    async def dataset_uid(self) -> str:
        """The first step of most questions: which dataset is it?"""
        listed = await self.ok("list_datasets", {"owner": DEMO_ORG})
        (dataset,) = listed["datasets"]
        return str(dataset["uid"])

    def within_budget(self) -> bool:
        return self.calls <= MAX_CALLS and self.bytes <= MAX_BYTES


async def test_which_datasets_does_acme_ai_have(explore_session: Client) -> None:
    talk = Conversation(explore_session)
    listed = await talk.ok("list_datasets", {"owner": DEMO_ORG})
    assert [entry["name"] for entry in listed["datasets"]] == ["Driving Scenes"]
    assert talk.within_budget()
    assert talk.calls == 1


async def test_which_values_does_weather_take_and_how_many_frames_each(
    explore_session: Client, truth: list[dict[str, Any]]
) -> None:
    talk = Conversation(explore_session)
    uid = await talk.dataset_uid()
    calls_before = talk.calls
    # The model need not know the field's path: the default description lists every field.
    described = await talk.ok("describe_dataset", {"dataset": uid})
    assert talk.calls - calls_before == 1  # the distribution, in one call
    (weather,) = [field for field in described["fields"] if field["path"] == "metadata.weather"]
    answer = {entry["value"]: entry["count"] for entry in weather["top"]}
    assert answer == Counter(item["metadata"]["weather"] for item in truth)
    assert described["exact"] is True
    assert talk.within_budget()


async def test_how_many_frames_would_this_filter_select_before_creating(
    explore_session: Client,
) -> None:
    talk = Conversation(explore_session)
    uid = await talk.dataset_uid()
    preview = await talk.ok(
        "preview_slice", {"dataset": uid, "filter": RAINY_NIGHT_PEDESTRIANS_FILTER}
    )
    assert preview["count"] == RAINY_NIGHT_PEDESTRIANS_COUNT
    assert talk.within_budget()
    # Nothing was created.
    slices = await explore_session.call_tool("list_slices", {"owner": DEMO_ORG, "limit": 100})
    assert slices.structured_content is not None
    assert "rainy-night" not in text_of(slices)


async def test_a_misspelt_field_is_refused_and_the_fix_creates_the_slice(
    explore_session: Client,
) -> None:
    talk = Conversation(explore_session)
    uid = await talk.dataset_uid()
    created, error = await talk.call(
        "create_slice", {"name": "Rain", "dataset": uid, "filter": WETHER}
    )
    assert not created
    failure = error["error"]
    assert failure["type"] == "invalid_input"
    (problem,) = failure["fields"]["filter"]
    assert problem.startswith("metadata.wether: no item has this field")
    assert "did you mean metadata.weather?" in problem
    assert "metadata.weather" in failure["hint"]
    fixed = {**WETHER, "field": "metadata.weather"}
    slice_ = await talk.ok("create_slice", {"name": "Rain", "dataset": uid, "filter": fixed})
    assert slice_["item_count"] > 0
    assert "warnings" not in slice_
    assert talk.within_budget()


async def test_a_number_written_as_text_is_refused_with_the_number_to_write(
    explore_session: Client,
) -> None:
    talk = Conversation(explore_session)
    created, error = await talk.call(
        "create_slice",
        {"name": "Busy", "dataset": DEMO_DATASET_UID, "filter": PEDESTRIANS_AS_TEXT},
    )
    assert not created
    failure = error["error"]
    (problem,) = failure["fields"]["filter"]
    assert problem.startswith('metadata.pedestrians: "2" is a string, but this field holds numbers')
    assert "write 2" in failure["hint"]
    fixed = {**PEDESTRIANS_AS_TEXT, "value": 2}
    slice_ = await talk.ok(
        "create_slice", {"name": "Busy", "dataset": DEMO_DATASET_UID, "filter": fixed}
    )
    assert slice_["item_count"] > 0
    assert talk.within_budget()


async def test_a_value_in_the_wrong_case_is_warned_about_with_the_right_one(
    explore_session: Client,
) -> None:
    talk = Conversation(explore_session)
    arguments = {"dataset": DEMO_DATASET_UID, "filter": NIGHT_CAPITALISED}
    preview = await talk.ok("preview_slice", arguments)
    assert preview["count"] == 0
    warning, empty = preview["warnings"]
    assert warning.startswith('metadata.time_of_day: no item has the value "Night"')
    assert 'did you mean "night"?' in warning
    assert 'values of metadata.time_of_day: "dawn", "day", "dusk", "night"' in warning
    assert empty == "the filter matches no item of the dataset"
    # create_slice does not refuse a value (it may be coming), but says the same.
    slice_ = await talk.ok("create_slice", {"name": "Nights", **arguments})
    assert slice_["item_count"] == 0
    assert slice_["warnings"] == [warning, empty]
    assert talk.within_budget()


@pytest.mark.parametrize(
    ("raw_filter", "nearest"),
    [
        (WETHER, "did you mean metadata.weather?"),
        (PEDESTRIANS_AS_TEXT, "write 2"),
        (NIGHT_CAPITALISED, 'did you mean "night"?'),
        ({"field": "metadata.Weather", "op": "eq", "value": "rain"}, "metadata.weather"),
        ({"field": "metadata.weather", "op": "in", "value": ["rain", "snwo"]}, '"snow"'),
    ],
)
async def test_preview_warns_about_each_typo(
    explore_session: Client, raw_filter: dict[str, Any], nearest: str
) -> None:
    talk = Conversation(explore_session)
    preview = await talk.ok("preview_slice", {"dataset": DEMO_DATASET_UID, "filter": raw_filter})
    assert nearest in preview["warnings"][0]
    assert talk.within_budget()
