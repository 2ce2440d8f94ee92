"""``AVALA_MCP_MEDIA_HOSTS``: read once in settings, and what the fetcher makes of it."""

from __future__ import annotations

import pytest

from avala_mcp.client.media import MediaFetcher
from avala_mcp.settings import ConfigError, Settings

pytestmark = pytest.mark.anyio


def test_media_hosts_are_read_and_normalised() -> None:
    assert Settings.from_env({}).media_hosts == frozenset()
    assert Settings.from_env({"AVALA_MCP_MEDIA_HOSTS": " "}).media_hosts == frozenset()
    hosts = Settings.from_env({"AVALA_MCP_MEDIA_HOSTS": " CDN.Example.com, images.example.org.,"})
    assert hosts.media_hosts == {"cdn.example.com", "images.example.org"}
    flag = Settings.from_env({"AVALA_MCP_MEDIA_HOSTS": "a.example"}, media_hosts=["b.example"])
    assert flag.media_hosts == {"b.example"}


@pytest.mark.parametrize(
    "value", ["https://cdn.example.com", "cdn.example.com/images", "-x.example", "a b"]
)
def test_a_malformed_host_list_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="AVALA_MCP_MEDIA_HOSTS must be host names"):
        Settings.from_env({"AVALA_MCP_MEDIA_HOSTS": value})


async def test_the_fetcher_takes_them_from_settings() -> None:
    settings = Settings.from_env(
        {"AVALA_API_KEY": "settings-key", "AVALA_MCP_MEDIA_HOSTS": "cdn.example.com"}
    )
    async with MediaFetcher.from_settings(settings) as fetcher:
        assert "api.avala.ai" in repr(fetcher)
        assert "settings-key" not in repr(fetcher)
        # Refused before any lookup: no traffic leaves the machine.
        note = await fetcher.fetch("https://other.example/a.jpg")
    assert str(note) == "not fetched: other.example is not in AVALA_MCP_MEDIA_HOSTS"
