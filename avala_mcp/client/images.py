"""Re-encoding a downloaded image for a model: decoded, shrunk, and written anew.

Only what Pillow decodes as a JPEG, PNG, GIF, WebP or BMP passes, so a body that merely claims
to be an image does not. The result is a JPEG (a PNG if the picture has transparency) whose
longest side is at most :data:`MAX_SIDE` and whose size is at most :data:`MAX_ENCODED_BYTES`;
quality, then size, go down until it fits. Pillow is imported on the first call, not before.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

MAX_SIDE = 512
MAX_ENCODED_BYTES = 100_000
#: Largest picture decoded: beyond it, decoding alone could take hundreds of MB (a "bomb").
MAX_PIXELS = 40_000_000
_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP")
_JPEG_QUALITIES = (85, 72, 60, 45, 30)
_SMALLEST_SIDE = 64


@dataclass(frozen=True)
class FetchedImage:
    """An image ready to hand to a model: ``data`` in ``mime_type``, ``width`` x ``height``."""

    data: bytes = field(repr=False)
    mime_type: str
    width: int
    height: int


@dataclass(frozen=True)
class ImageNote:
    """Why an item has no image: one short line, e.g. ``"HTTP 404"``."""

    reason: str

    def __str__(self) -> str:
        return self.reason


def reencode(data: bytes) -> FetchedImage | ImageNote:
    """``data`` decoded and re-encoded within the limits, or a note saying why it cannot be."""
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data), formats=_FORMATS) as opened:
            pixels = opened.width * opened.height
            if pixels > MAX_PIXELS:
                return ImageNote(f"image too large ({opened.width}x{opened.height} pixels)")
            opened.draft("RGB", (MAX_SIDE, MAX_SIDE))  # a JPEG decodes at a fraction of its size
            upright = ImageOps.exif_transpose(opened)
            transparent = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
            picture = upright.convert("RGBA" if transparent else "RGB")
    except Image.DecompressionBombError:
        return ImageNote("image too large (a decompression bomb)")
    except Exception:  # Pillow reports bad data with many types (OSError, ValueError, ...)
        return ImageNote("not a readable image")
    return _fit(picture, transparent)


def _fit(picture: Image.Image, transparent: bool) -> FetchedImage | ImageNote:
    side = MAX_SIDE
    while side >= _SMALLEST_SIDE:
        scaled = picture.copy()
        scaled.thumbnail((side, side))
        for encoded, mime_type in _encodings(scaled, transparent):
            if len(encoded) <= MAX_ENCODED_BYTES:
                return FetchedImage(encoded, mime_type, scaled.width, scaled.height)
        side = side * 3 // 4
    return ImageNote(f"image cannot be made smaller than {MAX_ENCODED_BYTES // 1000} KB")


def _encodings(picture: Image.Image, transparent: bool) -> Iterator[tuple[bytes, str]]:
    """The encodings to try, best first; made one at a time, as each is tried in turn."""
    from PIL import Image

    if transparent:
        yield _save(picture, "PNG", optimize=True), "image/png"
        palette = picture.quantize(256, method=Image.Quantize.FASTOCTREE)
        yield _save(palette, "PNG", optimize=True), "image/png"
        return
    for quality in _JPEG_QUALITIES:
        yield _save(picture, "JPEG", quality=quality), "image/jpeg"


def _save(picture: Image.Image, kind: str, **options: object) -> bytes:
    out = io.BytesIO()
    picture.save(out, kind, **options)
    return out.getvalue()
