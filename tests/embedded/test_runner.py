"""The socket the embedded API listens on."""

from __future__ import annotations

import socket

import pytest

from avala_mcp.embedded.runner import base_url
from avala_mcp.net import bind


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_bound_socket_says_tcp_so_asyncio_turns_off_nagle(host: str) -> None:
    # asyncio sets TCP_NODELAY on accepted connections only when the listening socket's
    # protocol is IPPROTO_TCP; with protocol 0 every small response waited ~40 ms.
    try:
        sock = bind(host, 0)
    except OSError:
        pytest.skip(f"{host} is not available on this machine")
    with sock:
        assert sock.proto == socket.IPPROTO_TCP
        assert base_url(sock).startswith("http://")
