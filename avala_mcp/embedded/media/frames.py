"""Synthetic demo frames, drawn from an item's metadata with Pillow.

A driving scene shows its ``time_of_day`` in the sky and the light (day, dawn, dusk, night),
its ``weather`` over everything (clouds, rain streaks, fog, snow), a figure per pedestrian and a
box per vehicle, and a caption of location and camera. A retail shelf shows its products with a
gap per empty facing. Everything is seeded by the item's key: the same item gives the same bytes
at every call, with no clock and no randomness. The picture is composed on a 640x360 plan and
drawn at whatever size is asked, so a thumbnail is the frame, not a crop of it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import random
from collections.abc import Callable, Mapping
from typing import Any

from PIL import Image, ImageDraw, ImageFont

RGB = tuple[int, int, int]

_PLAN_WIDTH, _PLAN_HEIGHT = 640, 360
_HORIZON = 0.45  # of the height
_JPEG_QUALITY = 85

# Sky (top, horizon), ground, and how much light falls on the things in view.
_LIGHT: dict[str, tuple[RGB, RGB, RGB, float]] = {
    "day": ((78, 142, 226), (190, 218, 242), (104, 112, 98), 1.0),
    "dawn": ((64, 72, 140), (246, 168, 120), (86, 84, 88), 0.7),
    "dusk": ((36, 34, 92), (232, 106, 66), (70, 62, 70), 0.55),
    "night": ((4, 6, 22), (22, 28, 58), (20, 22, 28), 0.22),
}
_ROAD: RGB = (84, 84, 90)
_CAR_COLORS: tuple[RGB, ...] = (
    (200, 30, 40), (30, 70, 170), (230, 230, 230), (40, 40, 40), (150, 150, 160),
    (20, 120, 80), (230, 170, 20),
)  # fmt: skip
_CLOTHES: tuple[RGB, ...] = ((220, 60, 60), (60, 90, 200), (240, 200, 40), (50, 160, 90))


def _seeded(key: str) -> random.Random:
    """The item's own random source, the same on every machine (``hash()`` is salted)."""
    digest = hashlib.sha256(key.encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))  # pictures, not security


def _shade(color: RGB, light: float) -> RGB:
    red, green, blue = color
    return (int(red * light), int(green * light), int(blue * light))


def _gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    """A vertical gradient, computed as one column and stretched (fast at any width)."""
    height = size[1]
    steps = max(height - 1, 1)
    column = bytes(
        round(top[channel] + (bottom[channel] - top[channel]) * row / steps)
        for row in range(height)
        for channel in range(3)
    )
    return Image.frombytes("RGB", (1, height), column).resize(size, Image.Resampling.NEAREST)


@functools.lru_cache(maxsize=8)
def _font(pixels: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=pixels)


class _Canvas:
    """A drawing on the 640x360 plan, scaled to the picture's real size."""

    def __init__(self, image: Image.Image) -> None:
        self.image = image
        self.draw = ImageDraw.Draw(image)
        self.scale = image.width / _PLAN_WIDTH

    def xy(self, *points: float) -> list[float]:
        return [value * self.scale for value in points]

    def width(self, plan: float) -> int:
        return max(1, round(plan * self.scale))


def _encode(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=_JPEG_QUALITY)
    return out.getvalue()


# --- driving scenes ----------------------------------------------------------------------------


def render_driving_scene(key: str, metadata: Mapping[str, Any], size: tuple[int, int]) -> bytes:
    """A driving frame (JPEG) for an item of the demo's Driving Scenes dataset."""
    rng = _seeded(key)
    time_of_day = str(metadata.get("time_of_day", "day"))
    weather = str(metadata.get("weather", "clear"))
    top, horizon, ground, light = _LIGHT.get(time_of_day, _LIGHT["day"])
    if weather in ("cloudy", "rain", "snow"):
        # An overcast sky: the colours of the hour, washed toward grey.
        grey = (int(150 * light) + 20,) * 3
        top, horizon = _mix(top, grey, 0.6), _mix(horizon, grey, 0.6)
    image = _gradient(size, top, horizon)
    canvas = _Canvas(image)
    horizon_y = _PLAN_HEIGHT * _HORIZON
    canvas.draw.rectangle(canvas.xy(0, horizon_y, _PLAN_WIDTH, _PLAN_HEIGHT), fill=ground)
    _sky_lights(canvas, rng, time_of_day, weather)
    _buildings(canvas, rng, light, night=time_of_day == "night")
    _road(canvas, light, snowy=weather == "snow")
    _vehicles(canvas, rng, _count(metadata.get("vehicles"), 16), light, time_of_day)
    _pedestrians(canvas, rng, _count(metadata.get("pedestrians"), 12), light)
    image = _WEATHER.get(weather, _clear)(canvas, rng, light)
    location = metadata.get("location", "")
    camera = metadata.get("camera", "")
    _caption(_Canvas(image), f"{location} · {camera} camera" if camera else str(location))
    return _encode(image)


def _mix(first: RGB, second: RGB, share: float) -> RGB:
    red, green, blue = (round(a + (b - a) * share) for a, b in zip(first, second, strict=True))
    return (red, green, blue)


def _count(value: Any, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(0, min(int(value), most))


def _sky_lights(canvas: _Canvas, rng: random.Random, time_of_day: str, weather: str) -> None:
    horizon_y = _PLAN_HEIGHT * _HORIZON
    if time_of_day == "night":
        if weather == "clear":
            for _ in range(60):
                x, y = rng.uniform(0, _PLAN_WIDTH), rng.uniform(0, horizon_y * 0.8)
                canvas.draw.point(canvas.xy(x, y), fill=(230, 230, 255))
        x = rng.uniform(420, 600)
        canvas.draw.ellipse(canvas.xy(x, 30, x + 26, 56), fill=(235, 235, 215))
    elif weather in ("clear", "cloudy"):
        x, y, radius, color = {
            "dawn": (110.0, horizon_y - 22, 24, (255, 200, 120)),
            "dusk": (520.0, horizon_y - 18, 26, (255, 140, 80)),
        }.get(time_of_day, (rng.uniform(80, 560), 50.0, 22, (255, 245, 190)))
        canvas.draw.ellipse(canvas.xy(x - radius, y - radius, x + radius, y + radius), fill=color)
    if weather == "cloudy":
        for _ in range(5):
            x, y = rng.uniform(-40, _PLAN_WIDTH), rng.uniform(10, horizon_y - 50)
            shade = (205, 205, 210) if time_of_day != "night" else (45, 48, 60)
            canvas.draw.ellipse(canvas.xy(x, y, x + rng.uniform(90, 170), y + 34), fill=shade)


def _buildings(canvas: _Canvas, rng: random.Random, light: float, *, night: bool) -> None:
    horizon_y = _PLAN_HEIGHT * _HORIZON
    x = 0.0
    while x < _PLAN_WIDTH:
        width, height = rng.uniform(40, 90), rng.uniform(30, 110)
        body = _shade((rng.randint(90, 150),) * 3, light)
        canvas.draw.rectangle(canvas.xy(x, horizon_y - height, x + width, horizon_y), fill=body)
        if night:  # lit windows
            for _ in range(int(width * height / 400)):
                wx = rng.uniform(x + 3, x + width - 6)
                wy = rng.uniform(horizon_y - height + 4, horizon_y - 6)
                canvas.draw.rectangle(canvas.xy(wx, wy, wx + 3, wy + 4), fill=(250, 210, 110))
        x += width + rng.uniform(2, 12)


def _road(canvas: _Canvas, light: float, *, snowy: bool) -> None:
    horizon_y = _PLAN_HEIGHT * _HORIZON
    middle = _PLAN_WIDTH / 2
    road = (224, 226, 232) if snowy else _shade(_ROAD, max(light, 0.3))
    canvas.draw.polygon(
        canvas.xy(
            30, _PLAN_HEIGHT, 610, _PLAN_HEIGHT, middle + 18, horizon_y, middle - 18, horizon_y
        ),
        fill=road,
    )
    stripe = _shade((235, 225, 160), max(light, 0.45))
    for step in range(8):  # the centre line's dashes, nearer ones longer
        near, far = 1 - step / 8, 1 - (step + 0.5) / 8
        y_near = horizon_y + (_PLAN_HEIGHT - horizon_y) * near**2
        y_far = horizon_y + (_PLAN_HEIGHT - horizon_y) * far**2
        canvas.draw.line(
            canvas.xy(middle, y_near, middle, y_far), fill=stripe, width=canvas.width(3 * near + 1)
        )


def _depth_point(rng: random.Random, lanes: tuple[float, float]) -> tuple[float, float, float]:
    """A place on the ground: x, y and how near it is (0 at the horizon, 1 at the bottom)."""
    near = rng.uniform(0.15, 1.0)
    horizon_y = _PLAN_HEIGHT * _HORIZON
    y = horizon_y + (_PLAN_HEIGHT - horizon_y) * near
    spread = rng.uniform(*lanes)
    x = _PLAN_WIDTH / 2 + spread * (18 + 290 * near)
    return x, y, near


def _vehicles(
    canvas: _Canvas, rng: random.Random, count: int, light: float, time_of_day: str
) -> None:
    places = sorted((_depth_point(rng, (-0.85, 0.85)) for _ in range(count)), key=lambda p: p[2])
    for x, y, near in places:  # far ones first, so near ones cover them
        width, height = 70 * near + 8, 38 * near + 5
        body = _shade(rng.choice(_CAR_COLORS), max(light, 0.3))
        left, top = x - width / 2, y - height
        canvas.draw.rectangle(canvas.xy(left, top, left + width, y), fill=body)
        glass = _shade((150, 185, 210), max(light, 0.25))
        canvas.draw.rectangle(
            canvas.xy(
                left + width * 0.15, top + height * 0.12, left + width * 0.85, top + height * 0.45
            ),
            fill=glass,
        )
        wheel = height * 0.22
        for wx in (left + width * 0.2, left + width * 0.8):
            canvas.draw.ellipse(
                canvas.xy(wx - wheel, y - wheel, wx + wheel, y + wheel), fill=(15, 15, 15)
            )
        if time_of_day != "day":  # lights on
            lamp = max(2.0, width * 0.08)
            for lx in (left + width * 0.12, left + width * 0.88):
                ly = top + height * 0.6
                canvas.draw.ellipse(
                    canvas.xy(lx - lamp, ly - lamp, lx + lamp, ly + lamp), fill=(255, 60, 50)
                )


def _pedestrians(canvas: _Canvas, rng: random.Random, count: int, light: float) -> None:
    places = []
    for _ in range(count):  # on the pavements, either side of the road
        x, y, near = _depth_point(rng, (1.0, 1.25))
        if rng.random() < 0.5:
            x = _PLAN_WIDTH - x
        places.append((x, y, near))
    for x, y, near in sorted(places, key=lambda place: place[2]):
        height = 70 * near + 10
        head = height * 0.11
        clothes = _shade(rng.choice(_CLOTHES), max(light, 0.35))
        skin = _shade((224, 182, 150), max(light, 0.35))
        body_top, hips = y - height * 0.78, y - height * 0.4
        line = canvas.width(height * 0.09)
        canvas.draw.line(
            canvas.xy(x, body_top, x, hips), fill=clothes, width=canvas.width(height * 0.2)
        )
        canvas.draw.line(canvas.xy(x, hips, x - height * 0.12, y), fill=(30, 30, 40), width=line)
        canvas.draw.line(canvas.xy(x, hips, x + height * 0.12, y), fill=(30, 30, 40), width=line)
        canvas.draw.ellipse(
            canvas.xy(x - head, body_top - 2.1 * head, x + head, body_top - 0.1 * head), fill=skin
        )


def _clear(canvas: _Canvas, rng: random.Random, light: float) -> Image.Image:
    return canvas.image


def _rain(canvas: _Canvas, rng: random.Random, light: float) -> Image.Image:
    image = Image.eval(canvas.image, lambda value: int(value * 0.82))  # a darker, wet scene
    draw = ImageDraw.Draw(image)
    streak = _shade((205, 215, 230), max(light, 0.55))
    for _ in range(420):
        x, y = rng.uniform(-20, _PLAN_WIDTH), rng.uniform(-20, _PLAN_HEIGHT)
        length = rng.uniform(10, 22)
        draw.line(canvas.xy(x, y, x + length * 0.3, y + length), fill=streak, width=canvas.width(1))
    return image


def _fog(canvas: _Canvas, rng: random.Random, light: float) -> Image.Image:
    haze = _shade((206, 208, 212), max(light, 0.45))
    veil = _gradient(canvas.image.size, haze, _mix(haze, (120, 120, 124), 0.25))
    return Image.blend(canvas.image, veil, 0.72)


def _snow(canvas: _Canvas, rng: random.Random, light: float) -> Image.Image:
    flake = _shade((250, 250, 255), max(light, 0.7))
    for _ in range(260):
        x, y = rng.uniform(0, _PLAN_WIDTH), rng.uniform(0, _PLAN_HEIGHT)
        radius = rng.uniform(0.8, 2.6)
        canvas.draw.ellipse(canvas.xy(x - radius, y - radius, x + radius, y + radius), fill=flake)
    return canvas.image


_WEATHER: dict[str, Callable[[_Canvas, random.Random, float], Image.Image]] = {
    "clear": _clear,
    "cloudy": _clear,  # the clouds are in the sky already
    "rain": _rain,
    "fog": _fog,
    "snow": _snow,
}


def _caption(canvas: _Canvas, text: str) -> None:
    band = 22
    canvas.draw.rectangle(
        canvas.xy(0, _PLAN_HEIGHT - band, _PLAN_WIDTH, _PLAN_HEIGHT), fill=(12, 12, 16)
    )
    font = _font(canvas.width(14))
    x, y = canvas.xy(8, _PLAN_HEIGHT - band + 3)
    canvas.draw.text((x, y), text, fill=(240, 240, 240), font=font)


# --- retail shelves ----------------------------------------------------------------------------


def render_shelf(key: str, metadata: Mapping[str, Any], size: tuple[int, int]) -> bytes:
    """A shelf (JPEG) for an item of the demo's Retail Shelves dataset: a gap per empty facing."""
    rng = _seeded(key)
    image = Image.new("RGB", size, (228, 224, 214))
    canvas = _Canvas(image)
    rows, columns = 4, 12
    facings = rows * columns
    empty = set(rng.sample(range(facings), _count(metadata.get("empty_facings"), facings)))
    shelf_height = (_PLAN_HEIGHT - 30) / rows
    facing_width = (_PLAN_WIDTH - 20) / columns
    for index in range(facings):
        row, column = divmod(index, columns)
        left = 10 + column * facing_width
        bottom = 8 + (row + 1) * shelf_height
        if index in empty:  # the bare back of the shelf, and the price tag left behind
            box = canvas.xy(left + 2, bottom - shelf_height + 6, left + facing_width - 2, bottom)
            canvas.draw.rectangle(box, fill=(92, 70, 52))
            tag = canvas.xy(left + 12, bottom - 12, left + facing_width - 12, bottom - 2)
            canvas.draw.rectangle(tag, fill=(250, 240, 120))
            continue
        fill = (rng.randint(70, 235), rng.randint(70, 235), rng.randint(70, 235))
        top = bottom - shelf_height * rng.uniform(0.6, 0.88)
        canvas.draw.rectangle(canvas.xy(left + 2, top, left + facing_width - 2, bottom), fill=fill)
    for row in range(rows + 1):
        y = 8 + row * shelf_height
        canvas.draw.rectangle(canvas.xy(0, y, _PLAN_WIDTH, y + 5), fill=(120, 110, 96))
    store, aisle = metadata.get("store", ""), metadata.get("aisle", "")
    _caption(canvas, f"{store} · aisle {aisle}")
    return _encode(image)


#: The renderer of each kind of demo dataset (``seed.SYNTHETIC_MEDIA`` names the kinds).
RENDERERS: dict[str, Callable[[str, Mapping[str, Any], tuple[int, int]], bytes]] = {
    "driving": render_driving_scene,
    "shelves": render_shelf,
}
