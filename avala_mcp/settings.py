"""Settings from the environment and command-line flags, validated once (docs/contracts.md).

A missing or malformed setting raises :class:`ConfigError`, whose message is one line naming the
variable and saying how to fix it. A secret's value never appears in that line, nor in ``repr()``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from avala_mcp.contract import DEFAULT_BASE_URL, SEGMENT_RE
from avala_mcp.net import is_loopback

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_LOG_LEVEL = "WARNING"
#: Items read to profile a dataset or slice where the API has no profile extension.
DEFAULT_SAMPLE_ITEMS = 2000
#: Most items a sample may hold: 20 pages of the largest size, one burst of Avala's rate limit.
MAX_SAMPLE_ITEMS = 20_000
API_KEY_URL = "https://app.avala.ai/settings/api-keys"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_MAX_RETRIES_LIMIT = 10
# One label of a host name: letters, digits, '-' and '_', neither first nor last a '-'.
_HOST_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message is one line saying how to fix it."""


def check_base_url(value: str) -> httpx.URL:
    """The API's base URL, checked: absolute http(s), https unless loopback, nothing after the path.

    Raises ValueError saying what is wrong. The trailing slash is dropped so that endpoint paths
    join onto it the same way whatever the user typed.
    """
    try:
        url = httpx.URL(value.strip())
    except httpx.InvalidURL:
        raise ValueError(f"{value!r} is not a URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"{value!r} is not an absolute http(s) URL")
    if url.scheme != "https" and not is_loopback(url.host):
        # Over plain HTTP the API key would cross the network in clear text.
        raise ValueError(f"{value!r} must use https (plain http is allowed only for loopback)")
    if url.userinfo or url.query or url.fragment:
        raise ValueError(f"{value!r} must not carry credentials, a query or a fragment")
    return url.copy_with(path=url.path.rstrip("/") or "/")


def check_api_key(value: str) -> str:
    """An API key, checked to be a sendable header value; the message never repeats the key."""
    key = value.strip()
    if not key.isascii() or not key.isprintable() or any(char.isspace() for char in key):
        raise ValueError("it must be printable ASCII without spaces")
    return key


@dataclass(frozen=True)
class Settings:
    """Every setting of a run; build it with :meth:`Settings.from_env`."""

    api_key: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    read_only: bool = False
    db_path: Path | None = None
    auth_token: str | None = field(default=None, repr=False)
    log_level: str = DEFAULT_LOG_LEVEL
    default_owner: str | None = None
    sample_items: int = DEFAULT_SAMPLE_ITEMS
    # Empty: images may come from any public host (the rules of client/media.py still apply).
    media_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ, **overrides: Any) -> Settings:
        """Settings from ``environ``, with ``overrides`` (e.g. command-line flags) winning.

        An override of None means "not given" and leaves the environment's value in place.
        """
        unknown = set(overrides) - set(cls.__dataclass_fields__)
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        given = {name: value for name, value in overrides.items() if value is not None}

        def raw(name: str, variable: str) -> Any:
            return given.get(name, environ.get(variable))

        return cls(
            api_key=_optional_secret(raw("api_key", "AVALA_API_KEY"), "AVALA_API_KEY"),
            base_url=_base_url(raw("base_url", "AVALA_BASE_URL")),
            timeout=_timeout(raw("timeout", "AVALA_TIMEOUT")),
            max_retries=_whole_number(
                raw("max_retries", "AVALA_MAX_RETRIES"),
                "AVALA_MAX_RETRIES",
                DEFAULT_MAX_RETRIES,
                0,
                _MAX_RETRIES_LIMIT,
            ),
            read_only=_flag(raw("read_only", "AVALA_MCP_READ_ONLY"), "AVALA_MCP_READ_ONLY"),
            db_path=_path(raw("db_path", "AVALA_MCP_DB")),
            auth_token=_optional_secret(
                raw("auth_token", "AVALA_MCP_AUTH_TOKEN"), "AVALA_MCP_AUTH_TOKEN"
            ),
            log_level=_log_level(raw("log_level", "AVALA_MCP_LOG_LEVEL")),
            default_owner=_owner(raw("default_owner", "AVALA_MCP_OWNER")),
            sample_items=_whole_number(
                raw("sample_items", "AVALA_MCP_SAMPLE_ITEMS"),
                "AVALA_MCP_SAMPLE_ITEMS",
                DEFAULT_SAMPLE_ITEMS,
                1,
                MAX_SAMPLE_ITEMS,
            ),
            media_hosts=_media_hosts(raw("media_hosts", "AVALA_MCP_MEDIA_HOSTS")),
        )

    def require_api_key(self) -> str:
        """The API key, or a ConfigError saying how to get one."""
        if self.api_key is None:
            raise ConfigError(
                f"AVALA_API_KEY is not set: create a key at {API_KEY_URL} and "
                "export AVALA_API_KEY=..., or run with --local for the embedded demo API"
            )
        return self.api_key


def _optional_secret(value: Any, variable: str) -> str | None:
    if value is None or not str(value).strip():
        return None
    try:
        return check_api_key(str(value))
    except ValueError as error:
        raise ConfigError(f"{variable} is malformed: {error}; set it again") from None


def _base_url(value: Any) -> str:
    if value is None or not str(value).strip():
        return DEFAULT_BASE_URL
    try:
        return str(check_base_url(str(value)))
    except ValueError as error:
        raise ConfigError(
            f"AVALA_BASE_URL is invalid: {error}; set it to e.g. {DEFAULT_BASE_URL}"
        ) from None


def _timeout(value: Any) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise ConfigError(
            f"AVALA_TIMEOUT must be a positive number of seconds, got {value!r}; "
            f"e.g. AVALA_TIMEOUT={DEFAULT_TIMEOUT:g}"
        )
    return seconds


def _whole_number(value: Any, variable: str, default: int, low: int, high: int) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        number = int(value) if not isinstance(value, bool | float) else low - 1
    except (TypeError, ValueError):
        number = low - 1
    if not low <= number <= high:
        raise ConfigError(
            f"{variable} must be a whole number from {low} to {high}, "
            f"got {value!r}; e.g. {variable}={default}"
        )
    return number


def _flag(value: Any, variable: str) -> bool:
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{variable} must be 1/true/yes/on or 0/false/no/off, got {value!r}")


def _path(value: Any) -> Path | None:
    if value is None or not str(value).strip():
        return None
    return Path(str(value).strip()).expanduser()


def _log_level(value: Any) -> str:
    if value is None or not str(value).strip():
        return DEFAULT_LOG_LEVEL
    level = str(value).strip().upper()
    if level not in _LOG_LEVELS:
        raise ConfigError(
            f"AVALA_MCP_LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, got {value!r}"
        )
    return level


def _owner(value: Any) -> str | None:
    if value is None or not str(value).strip():
        return None
    owner = str(value).strip()
    if not SEGMENT_RE.match(owner):
        raise ConfigError(
            f"AVALA_MCP_OWNER must be an organization slug or username (letters, digits, "
            f"'.', '_', '-'; at most 100), got {value!r}"
        )
    return owner


def _media_hosts(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    names = value if isinstance(value, list | tuple | set | frozenset) else str(value).split(",")
    hosts = set()
    for name in names:
        host = str(name).strip().lower().removesuffix(".")
        if not host:
            continue
        if len(host) > 253 or not all(_HOST_LABEL.match(part) for part in host.split(".")):
            raise ConfigError(
                "AVALA_MCP_MEDIA_HOSTS must be host names separated by commas "
                f"(e.g. cdn.example.com,images.example.org), got {str(name).strip()!r}"
            )
        hosts.add(host)
    return frozenset(hosts)
