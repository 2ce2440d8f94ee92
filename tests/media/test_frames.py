"""The demo frames: real JPEGs, the same bytes every time, and telling the scenes apart.

Night from day by mean brightness, rain from fog by texture (how much neighbouring pixels
differ) and contrast, so a person or a model can tell them at a glance.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat

from avala_mcp.embedded.media import FRAME_SIZES
from avala_mcp.embedded.media.frames import RENDERERS, render_driving_scene, render_shelf
from avala_mcp.embedded.seed import demo_data

SCENE: dict[str, Any] = {
    "location": "Seattle",
    "camera": "front",
    "pedestrians": 4,
    "vehicles": 8,
}
KEYS = [f"driving-scenes/frame_{n:06d}.jpg" for n in range(1, 7)]


def picture(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return image.convert("RGB")


def scene(data: bytes) -> Image.Image:
    """The frame in grey, without its caption band (dark whatever the scene)."""
    image = picture(data).convert("L")
    return image.crop((0, 0, image.width, int(image.height * 0.93)))


def brightness(data: bytes) -> float:
    return float(ImageStat.Stat(scene(data)).mean[0])


def contrast(data: bytes) -> float:
    return float(ImageStat.Stat(scene(data)).stddev[0])


def texture(data: bytes) -> float:
    """Mean difference between each pixel and its right-hand neighbour: fine detail."""
    grey = scene(data)
    shifted = ImageChops.offset(grey, 1, 0)
    return float(ImageStat.Stat(ImageChops.difference(grey, shifted)).mean[0])


def frame(key: str, time_of_day: str, weather: str, size: tuple[int, int] = (640, 360)) -> bytes:
    return render_driving_scene(
        key, {**SCENE, "time_of_day": time_of_day, "weather": weather}, size
    )


@pytest.mark.parametrize("size", FRAME_SIZES)
def test_frames_decode_at_every_size(size: tuple[int, int]) -> None:
    driving = picture(frame(KEYS[0], "dusk", "snow", size))
    shelf = picture(render_shelf("retail-shelves/shelf_00001.jpg", {"empty_facings": 3}, size))
    assert driving.size == shelf.size == size


def test_the_same_item_gives_the_same_bytes_every_time() -> None:
    first = [frame(key, "night", "rain") for key in KEYS]
    again = [frame(key, "night", "rain") for key in KEYS]
    assert first == again
    # ... and a different item a different frame, though its metadata is alike.
    assert len(set(first)) == len(KEYS)


def test_night_is_much_darker_than_day() -> None:
    for weather in ("clear", "cloudy", "rain"):
        nights = [brightness(frame(key, "night", weather)) for key in KEYS]
        days = [brightness(frame(key, "day", weather)) for key in KEYS]
        assert max(nights) * 2 < min(days), weather
    dusk = brightness(frame(KEYS[0], "dusk", "clear"))
    assert (
        brightness(frame(KEYS[0], "night", "clear"))
        < dusk
        < brightness(frame(KEYS[0], "day", "clear"))
    )


def test_rain_and_fog_look_different() -> None:
    for time_of_day in ("day", "night"):
        for key in KEYS:
            rain, fog = frame(key, time_of_day, "rain"), frame(key, time_of_day, "fog")
            # Rain streaks are fine detail; fog washes detail and contrast out.
            assert texture(rain) > 2 * texture(fog), (time_of_day, key)
            assert contrast(rain) > 2 * contrast(fog), (time_of_day, key)
    # By day, fog is a bright veil, rain a darker scene.
    assert brightness(frame(KEYS[0], "day", "fog")) > brightness(frame(KEYS[0], "day", "rain"))


def test_vehicles_and_pedestrians_are_drawn() -> None:
    empty = picture(
        render_driving_scene(KEYS[0], {"time_of_day": "day", "weather": "clear"}, (640, 360))
    )
    busy = picture(
        render_driving_scene(
            KEYS[0],
            {"time_of_day": "day", "weather": "clear", "vehicles": 16, "pedestrians": 12},
            (640, 360),
        )
    )
    # Cars and people cover much of the road and pavements of the same (seeded) scene.
    changed = (
        ImageChops.difference(empty, busy)
        .convert("L")
        .point(lambda value: 255 if value > 40 else 0)
    )
    share = ImageStat.Stat(changed).mean[0] / 255
    assert share > 0.04


def test_the_demo_items_night_frames_are_darker_than_their_day_frames() -> None:
    driving = demo_data().datasets[0]
    renderer = RENDERERS["driving"]
    by_time: dict[str, list[float]] = {"night": [], "day": []}
    for item in driving.items:
        bucket = by_time.get(item.metadata["time_of_day"])
        if bucket is not None and len(bucket) < 8:
            bucket.append(brightness(renderer(item.key, item.metadata, (160, 90))))
    assert sum(by_time["night"]) / 8 * 2 < sum(by_time["day"]) / 8


def test_empty_facings_show_as_gaps() -> None:
    full = picture(render_shelf("retail-shelves/shelf_00007.jpg", {"empty_facings": 0}, (640, 360)))
    gappy = picture(
        render_shelf("retail-shelves/shelf_00007.jpg", {"empty_facings": 8}, (640, 360))
    )
    assert ImageChops.difference(full, gappy).getbbox() is not None


def test_odd_metadata_still_gives_a_frame() -> None:
    odd = {"time_of_day": "twilight", "weather": 7, "pedestrians": "many", "vehicles": True}
    assert picture(render_driving_scene("k", odd, (160, 90))).size == (160, 90)
