"""The seed's example responses (slices-api.txt), which the client and the API must both match."""

from __future__ import annotations

from typing import Any

#: The slice of the seed's "Get Slice" and "List Slices" examples, field by field.
SEED_SLICE: dict[str, Any] = {
    "uid": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    "name": "Night Driving Scenes",
    "slug": "night-driving-scenes",
    "description": "Images captured in low-light driving conditions",
    "item_count": 340,
    "created_at": "2025-03-15T08:30:00Z",
    "updated_at": "2025-03-16T12:00:00Z",
}
