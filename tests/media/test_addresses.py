"""The address check, as a unit: which addresses are refused, and that refused ones are never
connected to. Nothing here connects anywhere: the backend's inner network backend is a recorder.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

import httpcore
import pytest

from avala_mcp.client.addresses import ForbiddenAddress, GuardedBackend, refusal

pytestmark = pytest.mark.anyio

REFUSED = {
    # IPv4
    "0.0.0.0": "unspecified",
    "127.0.0.1": "loopback",
    "127.255.255.254": "loopback",
    "10.0.0.1": "private",
    "10.255.255.255": "private",
    "172.16.0.1": "private",
    "172.31.255.1": "private",
    "192.168.1.1": "private",
    "169.254.169.254": "link-local",  # cloud metadata services live here
    "224.0.0.1": "multicast",
    "239.255.255.250": "multicast",
    "255.255.255.255": "reserved",
    "240.0.0.1": "reserved",
    "100.64.0.1": "non-public",  # carrier-grade NAT
    "192.0.2.10": "private",  # documentation
    "198.18.0.1": "private",  # benchmarking
    # IPv6
    "::": "unspecified",
    "::1": "loopback",
    "fe80::1": "link-local",
    "fc00::1": "private",
    "fd12:3456::1": "private",
    "ff02::1": "multicast",
    "ff0e::1": "multicast",
    "fec0::1": "site-local",
    "2001:db8::1": "private",
    # IPv4 inside IPv6: judged by the IPv4 address they carry
    "::ffff:127.0.0.1": "loopback",
    "::ffff:10.1.2.3": "private",
    "::ffff:169.254.169.254": "link-local",
    "64:ff9b::7f00:1": "loopback",  # NAT64 of 127.0.0.1
    "64:ff9b::a00:1": "private",  # NAT64 of 10.0.0.1
    "2002:7f00:1::": "loopback",  # 6to4 of 127.0.0.1
    "2002:c0a8:101::": "private",  # 6to4 of 192.168.1.1
}
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize(("address", "kind"), sorted(REFUSED.items()))
def test_non_public_addresses_are_refused(address: str, kind: str) -> None:
    assert refusal(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_every_address_of_the_private_ranges_is_refused() -> None:
    ranges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "224.0.0.0/4",
              "127.0.0.0/8", "fc00::/7", "fe80::/10", "ff00::/8", "::ffff:0:0/96"]  # fmt: skip
    for text in ranges:
        network = ipaddress.ip_network(text)
        # The first, the last and a few in between of each range.
        step = max(network.num_addresses // 7, 1)
        samples = [network[n] for n in range(0, network.num_addresses, step)] + [network[-1]]
        for address in samples:
            if text == "::ffff:0:0/96" and refusal(address.ipv4_mapped) is None:  # type: ignore[union-attr]
                continue  # a mapped public address is public
            assert refusal(address) is not None, address


class Recorder(httpcore.AsyncNetworkBackend):
    """An inner backend that records what it is asked to connect to, and connects nothing."""

    def __init__(self) -> None:
        self.connects: list[tuple[str, int]] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connects.append((host, port))
        return httpcore.AsyncMockStream([])


def resolving_to(*addresses: str) -> Any:
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


@pytest.mark.parametrize(
    "addresses",
    [
        ["10.0.0.7"],
        ["169.254.169.254"],
        ["224.0.0.251"],
        ["fd00::7"],
        ["93.184.216.34", "10.0.0.7"],  # one bad answer among good ones refuses the name
        ["::ffff:192.168.0.1"],
        [],
    ],
)
async def test_a_refused_name_is_never_connected_to(addresses: list[str]) -> None:
    recorder = Recorder()
    backend = GuardedBackend(resolving_to(*addresses), inner=recorder)
    with pytest.raises(ForbiddenAddress, match=r"cdn\.example"):
        await backend.connect_tcp("cdn.example", 443)
    assert recorder.connects == []


async def test_the_connection_goes_to_the_checked_address() -> None:
    recorder = Recorder()
    backend = GuardedBackend(resolving_to("93.184.216.34", "2606:2800:220:1::1"), inner=recorder)
    await backend.connect_tcp("cdn.example", 443)
    # The address, not the name: nothing resolves the name again between check and connect.
    assert recorder.connects == [("93.184.216.34", 443)]


async def test_names_that_do_not_resolve_and_unix_sockets_are_refused() -> None:
    async def broken(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    async def garbage(host: str, port: int) -> list[str]:
        return ["not-an-address"]

    recorder = Recorder()
    for resolver in (broken, garbage):
        with pytest.raises(ForbiddenAddress, match="could not be resolved"):
            await GuardedBackend(resolver, inner=recorder).connect_tcp("cdn.example", 443)
    with pytest.raises(ForbiddenAddress, match="Unix"):
        await GuardedBackend(inner=recorder).connect_unix_socket("/run/docker.sock")
    assert recorder.connects == []
