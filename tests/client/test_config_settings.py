"""Settings: defaults, every variable, overrides, and one clear line for each bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from avala_mcp.contract import DEFAULT_BASE_URL
from avala_mcp.net import is_loopback
from avala_mcp.settings import ConfigError, Settings, check_base_url

CANARY = "sk-canary-config-5f1e"


def test_defaults_need_nothing() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.api_key is None
    assert settings.base_url == DEFAULT_BASE_URL == "https://api.avala.ai/api/v1"
    assert (settings.timeout, settings.max_retries) == (30.0, 3)
    assert settings.read_only is False
    assert settings.db_path is None
    assert settings.log_level == "WARNING"
    assert settings.default_owner is None


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "AVALA_API_KEY": f"  {CANARY}  ",
            "AVALA_BASE_URL": "https://eu.example.com/api/v1/",
            "AVALA_TIMEOUT": "2.5",
            "AVALA_MAX_RETRIES": "0",
            "AVALA_MCP_READ_ONLY": "Yes",
            "AVALA_MCP_DB": "~/slices.db",
            "AVALA_MCP_AUTH_TOKEN": "tok-123",
            "AVALA_MCP_LOG_LEVEL": "debug",
            "AVALA_MCP_OWNER": "acme-ai",
        }
    )
    assert settings.api_key == CANARY
    assert settings.base_url == "https://eu.example.com/api/v1"
    assert (settings.timeout, settings.max_retries) == (2.5, 0)
    assert settings.read_only is True
    assert settings.db_path == Path("~/slices.db").expanduser()
    assert settings.auth_token == "tok-123"
    assert settings.log_level == "DEBUG"
    assert settings.default_owner == "acme-ai"


def test_overrides_win_and_none_means_not_given() -> None:
    environ = {"AVALA_MCP_READ_ONLY": "1", "AVALA_MCP_DB": "/env.db"}
    settings = Settings.from_env(environ, read_only=None, db_path=Path("/flag.db"), timeout=5)
    assert settings.read_only is True
    assert settings.db_path == Path("/flag.db")
    assert settings.timeout == 5.0
    assert Settings.from_env(environ, read_only=False).read_only is False


def test_unknown_override_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="colour"):
        Settings.from_env({}, colour="blue")


def test_settings_are_frozen() -> None:
    settings = Settings.from_env({})
    with pytest.raises(AttributeError):
        settings.read_only = True  # type: ignore[misc]


def test_secrets_are_hidden_from_repr() -> None:
    settings = Settings.from_env({"AVALA_API_KEY": CANARY, "AVALA_MCP_AUTH_TOKEN": "tok-secret"})
    text = repr(settings) + str(settings)
    assert CANARY not in text
    assert "tok-secret" not in text
    assert "base_url='https://api.avala.ai/api/v1'" in text


@pytest.mark.parametrize("value", ["1", "true", "YES", " on "])
def test_read_only_true_spellings(value: str) -> None:
    assert Settings.from_env({"AVALA_MCP_READ_ONLY": value}).read_only is True


@pytest.mark.parametrize("value", ["", "0", "False", "no", "OFF"])
def test_read_only_false_spellings(value: str) -> None:
    assert Settings.from_env({"AVALA_MCP_READ_ONLY": value}).read_only is False


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AVALA_MCP_READ_ONLY", "maybe"),
        ("AVALA_BASE_URL", "http://api.avala.ai/api/v1"),
        ("AVALA_BASE_URL", "ftp://api.avala.ai/"),
        ("AVALA_BASE_URL", "api.avala.ai/api/v1"),
        ("AVALA_BASE_URL", "https://user:pw@api.avala.ai/api/v1"),
        ("AVALA_BASE_URL", "https://api.avala.ai/api/v1?x=1"),
        ("AVALA_TIMEOUT", "soon"),
        ("AVALA_TIMEOUT", "0"),
        ("AVALA_TIMEOUT", "-3"),
        ("AVALA_TIMEOUT", "inf"),
        ("AVALA_MAX_RETRIES", "three"),
        ("AVALA_MAX_RETRIES", "-1"),
        ("AVALA_MAX_RETRIES", "2.5"),
        ("AVALA_MAX_RETRIES", "99"),
        ("AVALA_MCP_LOG_LEVEL", "LOUD"),
        ("AVALA_MCP_OWNER", "../etc"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: value})
    message = str(caught.value)
    assert message.startswith(variable)
    assert "\n" not in message
    assert caught.value.__cause__ is None


@pytest.mark.parametrize("variable", ["AVALA_API_KEY", "AVALA_MCP_AUTH_TOKEN"])
def test_a_malformed_secret_is_named_but_never_echoed(variable: str) -> None:
    bad = f"{CANARY} with spaces"
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: bad})
    assert str(caught.value).startswith(variable)
    assert CANARY not in str(caught.value)
    assert CANARY not in repr(caught.value)


def test_require_api_key_says_how_to_fix_it() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({}).require_api_key()
    message = str(caught.value)
    assert message.startswith("AVALA_API_KEY is not set")
    assert "export AVALA_API_KEY=" in message
    assert "--local" in message
    assert "\n" not in message
    assert Settings.from_env({"AVALA_API_KEY": CANARY}).require_api_key() == CANARY


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/api/v1",
        "http://localhost:8000/api/v1",
        "http://[::1]:8000/api/v1",
        "http://127.5.6.7/api/v1",
    ],
)
def test_plain_http_is_allowed_on_loopback_only(url: str) -> None:
    assert str(check_base_url(url)) == url
    assert Settings.from_env({"AVALA_BASE_URL": url}).base_url == url


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", True),
        ("api.localhost", True),
        ("127.0.0.1", True),
        ("[::1]", True),
        ("::1", True),
        ("10.0.0.1", False),
        ("localhost.evil.com", False),
        ("api.avala.ai", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected
