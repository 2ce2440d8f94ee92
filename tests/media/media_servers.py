"""Servers for the image-fetching tests, all on loopback.

- :class:`CountingListener`: a TCP socket that only counts the connections it accepts. The
  fetcher must never connect to one; the count proves it did not.
- :func:`hostile_api`: an app standing in for the API at the base URL's origin, whose answers are
  what a fetcher must survive (redirects to forbidden places, endless and huge bodies, bodies
  that are no image). It records the API key header of each request it gets.
- :class:`TlsImageServer`: an https server with a self-signed certificate for ``images.test``,
  reached through a test resolver that maps the name to 127.0.0.1: the way to check the
  guarded transport's connections without any traffic leaving the machine.
"""

from __future__ import annotations

import http.server
import io
import random
import socket
import ssl
import struct
import subprocess
import threading
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Any

import anyio
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from avala_mcp.contract import API_KEY_HEADER


class CountingListener:
    """A listening socket that accepts and counts connections, and says nothing."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()

    def __enter__(self) -> CountingListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def forbidden_urls(listeners: list[CountingListener]) -> list[str]:
    """Image URLs at ``listeners`` (IPv4 first, then IPv6 if any), by address and by name, over
    http and https: places no fetch may connect to, unless one is the base URL's origin."""
    v4 = listeners[0].port
    urls = [
        f"http://127.0.0.1:{v4}/frame.jpg",
        f"https://127.0.0.1:{v4}/frame.jpg",
        f"http://localhost:{v4}/frame.jpg",
        f"https://localhost:{v4}/frame.jpg",
        f"https://LOCALHOST:{v4}/frame.jpg",
        f"https://[::ffff:127.0.0.1]:{v4}/frame.jpg",
    ]
    if len(listeners) > 1:
        v6 = listeners[1].port
        urls += [f"http://[::1]:{v6}/frame.jpg", f"https://[::1]:{v6}/frame.jpg"]
    return urls


def jpeg(size: tuple[int, int], *, noisy: bool = False) -> bytes:
    """A real JPEG; ``noisy`` makes it hard to compress (random pixels, seeded)."""
    if noisy:
        image = Image.frombytes("RGB", size, _noise(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (30, 120, 200))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def _noise(count: int) -> bytes:
    return random.Random(1234).randbytes(count)  # the same noise every run


def rgba_png(size: tuple[int, int]) -> bytes:
    image = Image.new("RGBA", size, (200, 40, 40, 0))
    image.paste((20, 200, 40, 255), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG claiming ``width`` x ``height`` pixels: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def big_bmp(megabytes: int) -> bytes:
    """A valid BMP of about ``megabytes`` MB (uncompressed)."""
    side = int((megabytes * 1_000_000 / 3) ** 0.5)
    out = io.BytesIO()
    Image.new("RGB", (side, side), (90, 90, 90)).save(out, "BMP")
    return out.getvalue()


class HostileApi:
    """The app at the base URL's origin, and what it saw."""

    def __init__(self) -> None:
        self.keys_seen: list[str | None] = []
        self.big = big_bmp(20)
        self.noisy = jpeg((1600, 1200), noisy=True)
        self.app = Starlette(
            routes=[
                Route("/api/v1/redirect", self.redirect),
                Route("/api/v1/loop", self.loop),
                Route("/api/v1/endless", self.endless),
                Route("/api/v1/trickle", self.trickle),
                Route("/api/v1/text", self.text),
                Route("/api/v1/big", self.big_declared),
                Route("/api/v1/big-streamed", self.big_streamed),
                Route("/api/v1/bomb.png", self.bomb),
                Route("/api/v1/wide.png", self.wide),
                Route("/api/v1/noisy.jpg", self.noisy_image),
                Route("/api/v1/clear.png", self.transparent),
                Route("/api/v1/missing.jpg", self.missing),
            ]
        )

    def _saw(self, request: Request) -> None:
        self.keys_seen.append(request.headers.get(API_KEY_HEADER))

    async def redirect(self, request: Request) -> Response:
        self._saw(request)
        return RedirectResponse(request.query_params["to"], status_code=302)

    async def loop(self, request: Request) -> Response:
        self._saw(request)
        return RedirectResponse("/api/v1/loop", status_code=307)

    async def endless(self, request: Request) -> Response:
        self._saw(request)

        async def forever() -> AsyncIterator[bytes]:
            block = b"\xff\xd8\xff" + b"\x00" * 65533
            while not await request.is_disconnected():  # for as long as anyone listens
                yield block

        return StreamingResponse(forever(), media_type="image/jpeg")

    async def trickle(self, request: Request) -> Response:
        self._saw(request)

        async def slowly() -> AsyncIterator[bytes]:
            while not await request.is_disconnected():  # each read is in time; the whole never
                yield b"\x00"
                await anyio.sleep(0.2)

        return StreamingResponse(slowly(), media_type="image/jpeg")

    async def text(self, request: Request) -> Response:
        self._saw(request)
        return Response("<html>not an image</html>", media_type="image/jpeg")

    async def big_declared(self, request: Request) -> Response:
        self._saw(request)
        return Response(self.big, media_type="image/bmp")

    async def big_streamed(self, request: Request) -> Response:
        self._saw(request)

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(self.big), 1 << 20):
                if await request.is_disconnected():
                    return
                yield self.big[start : start + (1 << 20)]

        return StreamingResponse(chunks(), media_type="image/bmp")

    async def bomb(self, request: Request) -> Response:
        self._saw(request)
        return Response(png_header_only(40_000, 40_000), media_type="image/png")

    async def wide(self, request: Request) -> Response:
        self._saw(request)
        return Response(png_header_only(9_000, 5_000), media_type="image/png")

    async def noisy_image(self, request: Request) -> Response:
        self._saw(request)
        return Response(self.noisy, media_type="image/jpeg")

    async def transparent(self, request: Request) -> Response:
        self._saw(request)
        return Response(rgba_png((900, 600)), media_type="image/png")

    async def missing(self, request: Request) -> Response:
        self._saw(request)
        return Response("gone", status_code=404)


def self_signed(directory: Path, name: str) -> tuple[Path, Path] | None:
    """A certificate and key for ``name``, made by the openssl command; None without it."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return cert, key


class TlsImageServer:
    """An https server on 127.0.0.1 that serves one PNG at any path and records each request's
    host and API key header."""

    def __init__(self, cert: Path, key: str | Path, body: bytes) -> None:
        seen: list[dict[str, Any]] = []
        self.requests = seen

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(
                    {"host": self.headers.get("Host"), "key": self.headers.get(API_KEY_HEADER)}
                )
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port: int = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> TlsImageServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True
