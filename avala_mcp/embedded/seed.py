"""The demo data of a new embedded database, and the constants that name it.

Everything is derived from fixed seeds, so two new databases hold identical demo data. Tests and
the rest of the product import these constants rather than repeating the literals.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from avala_mcp.embedded import naming
from avala_mcp.embedded.media import MEDIA_SCHEME

DEMO_USER = "demo"
DEMO_ORG = "acme-ai"
DEMO_DATASET_UID = "550e8400-e29b-41d4-a716-446655440000"
DEMO_DATASET_NAME = "Driving Scenes"
DEMO_ITEM_COUNT = 2000
DEMO_NIGHT_COUNT = 340
DEMO_SLICE_UID = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
DEMO_SLICE_NAME = "Night Driving Scenes"
DEMO_SLICE_SLUG = "night-driving-scenes"
DEMO_SLICE_DESCRIPTION = "Images captured in low-light driving conditions"
DEMO_SLICE_FILTER: dict[str, Any] = {
    "field": "metadata.time_of_day",
    "op": "eq",
    "value": "night",
}
DEMO_SLICE_CREATED_AT = "2025-03-15T08:30:00Z"
DEMO_SLICE_UPDATED_AT = "2025-03-16T12:00:00Z"
# The seed's list example shows a count of 12 slices for acme-ai.
DEMO_ORG_SLICE_COUNT = 12

OTHER_ORG = "globex"
OTHER_USER = "globex-admin"
OTHER_DATASET_UID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
OTHER_DATASET_NAME = "Retail Shelves"
OTHER_ITEM_COUNT = 300
OTHER_SLICE_SLUG = "empty-shelves"

#: The demo datasets whose items' images the API draws from their metadata, and what they show
#: (``media.frames.RENDERERS``). Every demo item's ``url`` is ``media:<its key>``.
SYNTHETIC_MEDIA = {DEMO_DATASET_UID: "driving", OTHER_DATASET_UID: "shelves"}

# The filter the MCP demo builds, and how many demo items it matches (a few dozen).
RAINY_NIGHT_PEDESTRIANS_NAME = "Rainy night pedestrians"
RAINY_NIGHT_PEDESTRIANS_COUNT = 39
RAINY_NIGHT_PEDESTRIANS_FILTER: dict[str, Any] = {
    "and": [
        {"field": "metadata.time_of_day", "op": "eq", "value": "night"},
        {"field": "metadata.weather", "op": "eq", "value": "rain"},
        {"field": "metadata.pedestrians", "op": "gte", "value": 1},
    ]
}

_ITEM_NAMESPACE = uuid.UUID("6f1d3c52-8a0e-4d2b-9a57-3f0c1e2d4b6a")
_EPOCH = datetime(2025, 1, 6, tzinfo=UTC)


@dataclass(frozen=True)
class DemoItem:
    """One item to insert."""

    uid: str
    key: str
    url: str
    metadata: dict[str, Any]
    created_at: str


@dataclass(frozen=True)
class DemoSlice:
    """One slice to insert; its item_count is computed from the filter when stored."""

    uid: str
    name: str
    slug: str
    description: str
    filter: dict[str, Any] | None
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class DemoDataset:
    """A dataset with its items and slices."""

    uid: str
    name: str
    slug: str
    owner: str
    created_at: str
    items: list[DemoItem]
    slices: list[DemoSlice] = field(default_factory=list)


@dataclass(frozen=True)
class DemoData:
    """Everything a new database starts with."""

    users: list[str]
    organizations: dict[str, list[str]]  # org slug -> member usernames
    datasets: list[DemoDataset]


def stamp(moment: datetime) -> str:
    """The API's timestamp format: UTC, whole seconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def demo_data() -> DemoData:
    """The deterministic demo data."""
    return DemoData(
        users=[DEMO_USER, OTHER_USER],
        organizations={DEMO_ORG: [DEMO_USER], OTHER_ORG: [OTHER_USER]},
        datasets=[_driving_scenes(), _retail_shelves()],
    )


def _uid(key: str) -> str:
    return str(uuid.uuid5(_ITEM_NAMESPACE, key))


def _driving_items() -> Iterator[DemoItem]:
    rng = random.Random(20250315)  # demo data, not security
    times = (
        ["night"] * DEMO_NIGHT_COUNT
        + ["dusk"] * 220
        + ["dawn"] * 160
        + ["day"] * (DEMO_ITEM_COUNT - DEMO_NIGHT_COUNT - 380)
    )
    rng.shuffle(times)
    hours = {"night": (21, 4), "dusk": (18, 2), "dawn": (5, 2), "day": (8, 9)}
    locations = ["San Francisco", "Oakland", "Palo Alto", "Seattle", "Austin", "Boston"]
    cameras = ["front", "front_wide", "rear", "left", "right"]
    weathers = ["clear", "cloudy", "rain", "fog", "snow"]
    for index, time_of_day in enumerate(times, start=1):
        first_hour, span = hours[time_of_day]
        captured = _EPOCH + timedelta(
            days=rng.randrange(60),
            hours=(first_hour + rng.randrange(span)) % 24,
            minutes=rng.randrange(60),
            seconds=rng.randrange(60),
        )
        pedestrians = 0 if rng.random() < 0.4 else rng.randint(1, 12)
        metadata: dict[str, Any] = {
            "time_of_day": time_of_day,
            "weather": rng.choices(weathers, weights=[45, 20, 25, 6, 4])[0],
            "location": rng.choice(locations),
            "camera": rng.choice(cameras),
            "pedestrians": pedestrians,
            "vehicles": rng.randint(0, 30),
            "speed_kmh": round(rng.uniform(0, 110), 1),
            "captured_at": stamp(captured),
        }
        key = f"driving-scenes/frame_{index:06d}.jpg"
        yield DemoItem(
            uid=_uid(key),
            key=key,
            url=f"{MEDIA_SCHEME}{key}",
            metadata=metadata,
            created_at=stamp(datetime(2025, 3, 10, 9, 0, tzinfo=UTC) + timedelta(seconds=index)),
        )


def _cond(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


def _driving_scenes() -> DemoDataset:
    weather = "metadata.weather"
    time_of_day = "metadata.time_of_day"
    others: list[tuple[str, str, dict[str, Any] | None]] = [
        ("Rainy Scenes", "All frames captured in rain", _cond(weather, "eq", "rain")),
        (
            "Foggy Mornings",
            "Dawn frames in fog",
            {"and": [_cond(time_of_day, "eq", "dawn"), _cond(weather, "eq", "fog")]},
        ),
        (
            "Crowded Crossings",
            "Ten or more pedestrians in view",
            _cond("metadata.pedestrians", "gte", 10),
        ),
        ("Highway Speeds", "Frames at 90 km/h or faster", _cond("metadata.speed_kmh", "gte", 90)),
        (
            "Seattle Drives",
            "Everything captured in Seattle",
            _cond("metadata.location", "eq", "Seattle"),
        ),
        ("Rear Camera", "Frames from the rear camera", _cond("metadata.camera", "eq", "rear")),
        ("Snow", "Snowy frames for winter QA", _cond(weather, "eq", "snow")),
        (
            "Empty Streets",
            "No pedestrians and few vehicles",
            {
                "and": [
                    _cond("metadata.pedestrians", "eq", 0),
                    _cond("metadata.vehicles", "lte", 3),
                ]
            },
        ),
        ("Low Light", "Dusk, dawn or night", _cond(time_of_day, "in", ["dusk", "dawn", "night"])),
        (
            "Bay Area",
            "San Francisco, Oakland and Palo Alto",
            _cond("metadata.location", "in", ["San Francisco", "Oakland", "Palo Alto"]),
        ),
        ("All Driving Scenes", "The whole dataset", None),
    ]
    slices = [
        DemoSlice(
            uid=_uid(f"slice:{name}"),
            name=name,
            slug=naming.slugify(name),
            description=description,
            filter=query,
            created_at=stamp(datetime(2025, 2, 1, 10, 0, tzinfo=UTC) + timedelta(days=3 * n)),
            updated_at=stamp(datetime(2025, 2, 1, 10, 0, tzinfo=UTC) + timedelta(days=3 * n)),
        )
        for n, (name, description, query) in enumerate(others)
    ]
    # The seed's example slice is the newest, so it heads the default (newest first) listing.
    slices.append(
        DemoSlice(
            uid=DEMO_SLICE_UID,
            name=DEMO_SLICE_NAME,
            slug=DEMO_SLICE_SLUG,
            description=DEMO_SLICE_DESCRIPTION,
            filter=DEMO_SLICE_FILTER,
            created_at=DEMO_SLICE_CREATED_AT,
            updated_at=DEMO_SLICE_UPDATED_AT,
        )
    )
    return DemoDataset(
        uid=DEMO_DATASET_UID,
        name=DEMO_DATASET_NAME,
        slug="driving-scenes",
        owner=DEMO_ORG,
        created_at="2025-03-10T09:00:00Z",
        items=list(_driving_items()),
        slices=slices,
    )


def _retail_shelves() -> DemoDataset:
    rng = random.Random(4242)  # demo data, not security
    items = []
    first = datetime(2025, 2, 20, 12, 0, tzinfo=UTC)
    for index in range(1, OTHER_ITEM_COUNT + 1):
        key = f"retail-shelves/shelf_{index:05d}.jpg"
        items.append(
            DemoItem(
                uid=_uid(key),
                key=key,
                url=f"{MEDIA_SCHEME}{key}",
                metadata={
                    "aisle": rng.randint(1, 24),
                    "store": rng.choice(["Springfield", "Shelbyville", "Capital City"]),
                    "empty_facings": 0 if rng.random() < 0.7 else rng.randint(1, 8),
                },
                created_at=stamp(first + timedelta(seconds=index)),
            )
        )
    created = "2025-02-21T09:00:00Z"
    return DemoDataset(
        uid=OTHER_DATASET_UID,
        name=OTHER_DATASET_NAME,
        slug="retail-shelves",
        owner=OTHER_ORG,
        created_at="2025-02-20T12:00:00Z",
        items=items,
        slices=[
            DemoSlice(
                uid=_uid("slice:globex:empty"),
                name="Empty Shelves",
                slug=OTHER_SLICE_SLUG,
                description="Shelves with at least one empty facing",
                filter={"field": "metadata.empty_facings", "op": "gt", "value": 0},
                created_at=created,
                updated_at=created,
            ),
            DemoSlice(
                uid=_uid("slice:globex:springfield"),
                name="Springfield",
                slug="springfield",
                description="Shelves of the Springfield store",
                filter={"field": "metadata.store", "op": "eq", "value": "Springfield"},
                created_at=created,
                updated_at=created,
            ),
        ],
    )
