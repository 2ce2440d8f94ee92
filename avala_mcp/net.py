"""Network helpers for the HTTP servers (the MCP transports and the embedded API).

Listening sockets and uvicorn's configuration, telling whether a host is this machine, and
showing a URL without the credentials it may carry.

Binding before uvicorn starts makes the real port known at once, even for port 0, and lets
connections made before uvicorn is ready wait in the listen backlog.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import uvicorn

#: What a hidden part of a URL shows instead.
HIDDEN = "[hidden]"
#: How long a server that is stopping waits for open connections to finish.
SHUTDOWN_GRACE_SECONDS = 5


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0 picks a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose protocol says TCP,
    # and without it every small response waits ~40 ms on Nagle and delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


def server_config(
    app: Any, *, trusted_proxies: Sequence[str] = (), **options: Any
) -> uvicorn.Config:
    """uvicorn's configuration of one of this package's servers.

    uvicorn believes ``X-Forwarded-For``/``-Proto`` from loopback by default, which would let any
    local client forge its address (and dodge a per-client bound) or its scheme (and that of
    ``next`` links); here they are believed only from ``trusted_proxies``
    (``AVALA_MCP_TRUSTED_PROXIES``).
    """
    import uvicorn

    return uvicorn.Config(
        app,
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=list(trusted_proxies),
        # A client that stopped reading keeps its connection open for as long as it likes:
        # shutting down must not wait for it.
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        **options,
    )


def origin(sock: socket.socket) -> str:
    """``http://host:port`` of a bound socket, with an IPv6 host in brackets."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is this machine."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


# Everything up to the last "@" (user, password, a key pasted as either; a "/", "?" or "#" in
# a password must not end the match early), and then the query and fragment, which can carry a
# key too. Hiding too much of an odd URL is fine; showing part of a key is not.
_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)?.*@", re.DOTALL)
_QUERY_OR_FRAGMENT = re.compile(r"(?P<mark>[?#]).*", re.DOTALL)


def display_url(text: str) -> str:
    """``text`` (a URL, or what was meant as one) as it may be shown in a message or a log.

    Credentials, a query and a fragment are replaced, so no key that was put in a URL is ever
    echoed; works on text that does not even parse as a URL.
    """
    shown = _USERINFO.sub(lambda match: f"{match['scheme'] or ''}{HIDDEN}@", text.strip(), 1)
    return _QUERY_OR_FRAGMENT.sub(lambda match: f"{match['mark']}{HIDDEN}", shown, 1)
