"""Images of the embedded API: synthetic frames of the demo items, and local files of imports.

An item's stored ``url`` of the form ``media:<path>`` names an image the API serves itself, at
``<base>/media/<dataset uid>/<path>``; responses render it absolute for the request's own base
URL. A demo dataset's images are drawn from each item's metadata (``frames``); an imported
dataset's are files under its media root (``files``).

This package's top level imports nothing heavy: Pillow is imported by ``frames`` alone, and only
the media route and the benchmarks import that, so start-up never pays for it.
"""

from __future__ import annotations

#: The prefix of a stored ``url`` that names an image served by the API itself.
MEDIA_SCHEME = "media:"

#: Sizes a demo frame is drawn at: the full frame (an item's ``url``) and its thumbnails, in the
#: order of the item's ``thumbnails`` list (the first is the one to show a model).
FRAME_SIZE = (1280, 720)
THUMBNAIL_SIZES = ((640, 360), (160, 90))
FRAME_SIZES = (FRAME_SIZE, *THUMBNAIL_SIZES)


def size_name(size: tuple[int, int]) -> str:
    """A size as the media route's ``size`` parameter spells it: ``640x360``."""
    return f"{size[0]}x{size[1]}"
