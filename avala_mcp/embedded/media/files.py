"""Local images of imported datasets: relative paths checked at import, files served from a root.

An import's ``url`` that is a relative path names an image file under the dataset's media root
(the imported file's directory, or ``--media-root``). Only such files are ever read: no absolute
path, no ``..``, no symlink that leads out of the root (the path is resolved, then checked to lie
inside the resolved root), only regular files of an image type, by name and by content, and no
larger than :data:`MAX_IMAGE_BYTES`.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from avala_mcp.embedded.media import MEDIA_SCHEME
from avala_mcp.embedded.store import NewItem

#: Largest local image the API serves.
MAX_IMAGE_BYTES = 25 * 2**20
#: File name endings of the images served.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp"})
# A URL has a scheme (``https:``, ``s3:``); a relative path has none.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# How each image type starts, and its media type.
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
)
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
_WEB = ("https://", "http://")


class MediaPathError(ValueError):
    """A path that names no image the API may serve; the message says why."""


def is_url(text: str) -> bool:
    """Whether ``text`` is a URL (it has a scheme) rather than a relative path."""
    return _SCHEME.match(text) is not None


def relative_image_path(text: str) -> str:
    """``text``, checked to be a relative POSIX path of an image file inside a root."""
    if "\\" in text or "\x00" in text:
        raise MediaPathError("must be a path with '/' separators")
    if text.startswith("/"):
        raise MediaPathError("is an absolute path; give a path relative to the media root")
    if any(part in ("", ".", "..") for part in text.split("/")):
        raise MediaPathError("must not have empty, '.' or '..' parts")
    if Path(text).suffix.lower() not in IMAGE_SUFFIXES:
        raise MediaPathError(f"is not an image file ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return text


def resolve_image(root: Path, relative: str) -> Path:
    """The regular file ``relative`` names under ``root``, symlinks followed, checked to be
    inside the (resolved) root and named as an image."""
    path = relative_image_path(relative)
    try:
        base = root.resolve(strict=True)
        target = (base / path).resolve(strict=True)
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop
        raise MediaPathError(f"names no file under {root}") from None
    if not target.is_relative_to(base):
        raise MediaPathError("leads outside the media root")
    if target.suffix.lower() not in IMAGE_SUFFIXES:
        raise MediaPathError("leads to a file that is not named as an image")
    if not stat.S_ISREG(target.stat().st_mode):
        raise MediaPathError("is not a regular file")
    return target


def image_type(head: bytes) -> str | None:
    """The media type of an image by its first bytes, or None if it is none of ours."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    for signature, media_type in _SIGNATURES:
        if head.startswith(signature):
            return media_type
    return None


def read_image(root: Path, relative: str) -> tuple[bytes, str]:
    """The bytes and media type of the image ``relative`` names under ``root``.

    Raises MediaPathError if it is not one the API may serve.
    """
    target = resolve_image(root, relative)
    try:
        # No symlink in the resolved path, so O_NOFOLLOW refuses one swapped in since.
        descriptor = os.open(target, os.O_RDONLY | _NO_FOLLOW)
    except OSError:
        raise MediaPathError("cannot be opened") from None
    with os.fdopen(descriptor, "rb") as handle:
        facts = os.fstat(handle.fileno())
        if not stat.S_ISREG(facts.st_mode) or facts.st_size > MAX_IMAGE_BYTES:
            raise MediaPathError(f"is not a regular file of at most {MAX_IMAGE_BYTES} bytes")
        data = handle.read(MAX_IMAGE_BYTES + 1)
    media_type = image_type(data[:16])
    if media_type is None or len(data) > MAX_IMAGE_BYTES:
        raise MediaPathError("is not an image of a served type")
    return data, media_type


class LocalMedia:
    """An import's relative image paths, each turned into a ``media:`` url once its file is
    found under ``root``; ``root`` is kept absolute and resolved, for the dataset."""

    def __init__(self, root: Path) -> None:
        self.root = str(root.resolve())

    def resolve(self, rows: Iterable[NewItem], errors: list[str]) -> Iterator[NewItem]:
        """``rows`` with relative paths checked and rewritten; a bad one goes to ``errors``."""
        root = Path(self.root)
        for row in rows:
            url = row.url
            # Most urls are web ones: the cheap test first (this runs for every row).
            if (
                url is None
                or url.startswith(_WEB)
                or (is_url(url) and not url.startswith(MEDIA_SCHEME))
            ):
                yield row
                continue
            try:
                if url.startswith(MEDIA_SCHEME):
                    raise MediaPathError(f"must not start with {MEDIA_SCHEME!r} (it is reserved)")
                resolve_image(root, url)
            except MediaPathError as error:
                errors.append(f"line {row.line}: 'url' {url!r} {error}")
                continue
            yield dataclasses.replace(row, url=MEDIA_SCHEME + url)
