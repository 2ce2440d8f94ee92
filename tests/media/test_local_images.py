"""Local images of imported datasets: ``import`` resolves relative paths, the API serves them,
and nothing outside the media root (no ``..``, no absolute path, no escaping symlink, no file
that is not an image) is ever served or imported.
"""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from PIL import Image

from avala_mcp.cli import main
from avala_mcp.embedded import close_app, create_app
from avala_mcp.embedded.app import app_store
from avala_mcp.embedded.media.files import (
    MAX_IMAGE_BYTES,
    MediaPathError,
    read_image,
    resolve_image,
)
from avala_mcp.embedded.runner import serve_in_thread

KEY = "local-images-test-key"


def image_bytes(kind: str, color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, kind)
    return out.getvalue()


@dataclass
class Library:
    root: Path  # the imported file's directory
    secret: Path  # a directory beside it, never to be served
    items: Path

    def jsonl(self, name: str, rows: list[dict[str, object]]) -> Path:
        path = self.root / name
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        return path


@pytest.fixture
def library(tmp_path: Path) -> Library:
    root, secret = tmp_path / "data", tmp_path / "secret"
    (root / "images" / "sub").mkdir(parents=True)
    secret.mkdir()
    (root / "images" / "cat.jpg").write_bytes(image_bytes("JPEG", (200, 120, 40)))
    (root / "images" / "sub" / "dog.png").write_bytes(image_bytes("PNG", (40, 120, 200)))
    (root / "fake.jpg").write_text("not an image at all")
    (secret / "outside.jpg").write_bytes(image_bytes("JPEG", (255, 0, 0)))
    library = Library(root, secret, root / "items.jsonl")
    library.jsonl(
        "items.jsonl",
        [
            {"key": "cat", "url": "images/cat.jpg", "metadata": {"animal": "cat"}},
            {"key": "dog", "url": "images/sub/dog.png", "metadata": {"animal": "dog"}},
            {"key": "web", "url": "https://cdn.example/web.jpg"},
            {"key": "bare"},
        ],
    )
    return library


def import_file(
    db: Path, file: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str, str]:
    code = main(
        ["import", str(file), "--owner", "lab", "--dataset", file.stem, "--db", str(db), *extra]
    )
    out, err = capsys.readouterr()
    return code, out.strip(), err


@pytest.fixture
def imported(
    library: Library, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Iterator[tuple[str, str]]:
    """The library imported, served over uvicorn: (dataset uid, base URL)."""
    db = tmp_path / "images.sqlite3"
    code, uid, err = import_file(db, library.items, capsys)
    assert code == 0, err
    app = create_app(db, api_key=KEY)
    try:
        with serve_in_thread(app) as url:
            yield uid, url
    finally:
        close_app(app)


def items_of(url: str, uid: str) -> dict[str, dict[str, object]]:
    with httpx.Client(base_url=url, headers={"X-Avala-Api-Key": KEY}) as api:
        slices = api.get(f"/slices/dataset/{uid}/").json()["results"]
        whole = slices[0]
        page = api.get(f"/slices/{whole['owner']}/{whole['slug']}/items/list/").json()
    return {item["key"]: item for item in page["results"]}


def test_imported_images_are_served_from_the_media_root(
    imported: tuple[str, str], library: Library
) -> None:
    uid, url = imported
    items = items_of(url, uid)
    assert items["cat"]["url"] == f"{url}/media/{uid}/images/cat.jpg"
    assert items["dog"]["url"] == f"{url}/media/{uid}/images/sub/dog.png"
    assert items["web"]["url"] == "https://cdn.example/web.jpg"
    assert items["bare"]["url"] is None
    assert all(item["thumbnails"] == [] for item in items.values())
    with httpx.Client(headers={"X-Avala-Api-Key": KEY}) as client:
        for key, media_type, file in (
            ("cat", "image/jpeg", library.root / "images" / "cat.jpg"),
            ("dog", "image/png", library.root / "images" / "sub" / "dog.png"),
        ):
            response = client.get(str(items[key]["url"]))
            assert response.status_code == 200
            assert response.headers["content-type"] == media_type
            assert response.content == file.read_bytes()
        assert (
            client.get(str(items["cat"]["url"]), headers={"X-Avala-Api-Key": ""}).status_code == 401
        )


def raw_get(url: str, target: str) -> int:
    """The status of a GET of ``target`` exactly as written: no client normalises its dots."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    headers = f"Host: {host}\r\nX-Avala-Api-Key: {KEY}\r\nConnection: close\r\n"
    request = f"GET {target} HTTP/1.1\r\n{headers}\r\n"
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request.encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def test_nothing_outside_the_root_is_served(imported: tuple[str, str], library: Library) -> None:
    uid, url = imported
    images = library.root / "images"
    (images / "escape.jpg").symlink_to(library.secret / "outside.jpg")
    (images / "loop.jpg").symlink_to(images / "loop.jpg")
    (images / "inside.jpg").symlink_to(images / "cat.jpg")  # a link that stays inside is fine
    prefix = f"/api/v1/media/{uid}"
    assert raw_get(url, f"{prefix}/images/cat.jpg") == 200
    assert raw_get(url, f"{prefix}/images/inside.jpg") == 200
    refused = [
        "/images/../../secret/outside.jpg",
        "/../secret/outside.jpg",
        "/%2e%2e/secret/outside.jpg",
        "/images%2f..%2f..%2fsecret%2foutside.jpg",
        "/images/./cat.jpg",
        f"/{library.secret}/outside.jpg",  # an absolute path
        "/%2Fetc%2Fpasswd",
        "/images/escape.jpg",  # a symlink out of the root
        "/images/loop.jpg",
        "/images\\cat.jpg",
        "/fake.jpg",  # named as an image, but is none
        "/items.jsonl",  # not an image
        "/images",  # a directory
        "/images/missing.jpg",
    ]
    for path in refused:
        assert raw_get(url, prefix + path) == 404, path
    assert raw_get(url, f"{prefix}/images/cat.jpg?size=160x90") == 400


def test_the_checks_one_by_one(library: Library) -> None:
    root = library.root
    data, media_type = read_image(root, "images/cat.jpg")
    assert media_type == "image/jpeg"
    assert data == (root / "images" / "cat.jpg").read_bytes()
    (root / "images" / "out.png").symlink_to(library.secret / "outside.jpg")
    big = root / "big.jpg"
    with big.open("wb") as handle:  # sparse: large without taking the space
        handle.write(b"\xff\xd8\xff")
        handle.truncate(MAX_IMAGE_BYTES + 1)
    cases = {
        "../secret/outside.jpg": "'..'",
        "/etc/passwd.jpg": "absolute",
        "images//cat.jpg": "empty",
        "images/out.png": "outside the media root",
        "images/nothing.jpg": "names no file",
        "items.jsonl": "not an image",
        "fake.jpg": "not an image",
        "big.jpg": "at most",
    }
    for path, reason in cases.items():
        with pytest.raises(MediaPathError, match=reason):
            read_image(root, path)
    assert resolve_image(root / "images", "sub/dog.png") == (root / "images/sub/dog.png").resolve()


def test_bad_image_paths_fail_the_import(
    library: Library, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (library.root / "images" / "escape.jpg").symlink_to(library.secret / "outside.jpg")
    bad = library.jsonl(
        "bad.jsonl",
        [
            {"key": "ok", "url": "images/cat.jpg"},
            {"key": "up", "url": "../secret/outside.jpg"},
            {"key": "abs", "url": str(library.secret / "outside.jpg")},
            {"key": "gone", "url": "images/missing.jpg"},
            {"key": "link", "url": "images/escape.jpg"},
            {"key": "text", "url": "items.jsonl"},
            {"key": "ours", "url": "media:images/cat.jpg"},
        ],
    )
    db = tmp_path / "bad.sqlite3"
    code, out, err = import_file(db, bad, capsys)
    assert code == 1
    assert out == ""
    for line, words in [
        (2, "'..'"),
        (3, "absolute path"),
        (4, "names no file"),
        (5, "outside the media root"),
        (6, "not an image"),
        (7, "reserved"),
    ]:
        assert f"bad.jsonl: line {line}: 'url' " in err
        assert words in err.split(f"line {line}: ")[1].splitlines()[0]
    assert "6 bad rows; nothing was imported" in err


def test_media_root_flag(
    library: Library, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "lists"
    elsewhere.mkdir()
    listing = elsewhere / "pets.jsonl"
    listing.write_text(json.dumps({"key": "cat", "url": "cat.jpg"}) + "\n")
    db = tmp_path / "root.sqlite3"
    code, _, err = import_file(db, listing, capsys, "--media-root", str(tmp_path / "nowhere"))
    assert code == 2
    assert "--media-root" in err
    code, uid, err = import_file(db, listing, capsys, "--media-root", str(library.root / "images"))
    assert code == 0, err
    app = create_app(db, api_key=KEY)
    try:
        dataset = app_store(app).dataset(uid)
        assert dataset is not None
        assert dataset.media_root == str((library.root / "images").resolve())
        with serve_in_thread(app) as url:
            cat = items_of(url, uid)["cat"]
            response = httpx.get(str(cat["url"]), headers={"X-Avala-Api-Key": KEY})
        assert response.content == (library.root / "images" / "cat.jpg").read_bytes()
    finally:
        close_app(app)


def test_no_media_root_without_local_images(
    library: Library, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    web = library.jsonl("web.jsonl", [{"key": "a", "url": "https://cdn.example/a.jpg"}])
    db = tmp_path / "web.sqlite3"
    code, uid, err = import_file(db, web, capsys)
    assert code == 0, err
    app = create_app(db)
    try:
        dataset = app_store(app).dataset(uid)
        assert dataset is not None
        # Nothing of the file's directory is served when no item names a file in it.
        assert dataset.media_root is None
    finally:
        close_app(app)
