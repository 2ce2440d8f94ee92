"""Logging set up by ``serve``: stderr only, quiet by default, secrets never written; warnings
about ignored flags."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from avala_mcp.cli import build_parser
from avala_mcp.commands.serve import check_startup, load_settings
from avala_mcp.logs import configure_logging
from avala_mcp.redaction import REDACTED

API_KEY = "canary-key-5b2f0d7e"
TOKEN = "canary-token-9c41aa03"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state; put it back for the next test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpx2", "uvicorn.access")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


@pytest.mark.usefixtures("restore_logging")
def test_secrets_are_redacted_from_messages_arguments_and_tracebacks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", secrets=[API_KEY, TOKEN])
    log = logging.getLogger("avala_mcp.test")
    log.warning("key %s and token %s", API_KEY, TOKEN)
    try:
        raise RuntimeError(f"boom with {API_KEY}")
    except RuntimeError:
        log.exception("failed")
    out, err = capsys.readouterr()
    assert out == ""
    assert API_KEY not in err
    assert TOKEN not in err
    assert err.count(REDACTED) == 3
    assert "RuntimeError: boom with [redacted]" in err


@pytest.mark.usefixtures("restore_logging")
def test_a_malformed_log_call_is_written_not_raised_at_the_caller(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", secrets=[API_KEY])
    # One argument for two placeholders: logging reports this itself; the filter must not
    # turn it into an exception in the code that logged.
    logging.getLogger("avala_mcp.test").warning("key %s and %s", API_KEY)
    err = capsys.readouterr().err
    assert "unformattable log arguments" in err
    assert API_KEY not in err
    assert REDACTED in err


@pytest.mark.usefixtures("restore_logging")
def test_quiet_by_default_and_http_request_lines_only_when_debugging(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("WARNING")
    logging.getLogger("avala_mcp.test").info("routine detail")
    logging.getLogger("httpx").info("HTTP Request: GET /slices/acme-ai/list/")
    assert capsys.readouterr().err == ""

    configure_logging("INFO")
    logging.getLogger("avala_mcp.test").info("routine detail")
    logging.getLogger("httpx").info("HTTP Request: GET /slices/acme-ai/list/")
    err = capsys.readouterr().err
    assert "routine detail" in err
    assert "HTTP Request" not in err

    configure_logging("DEBUG")
    logging.getLogger("httpx").info("HTTP Request: GET /slices/acme-ai/list/")
    assert "HTTP Request" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "warning"),
    [
        (["serve", "--db", "x.db"], "--db is used only with --local"),
        (["serve", "--transport", "sse", "--stateless"], "--stateless applies only"),
    ],
)
def test_ignored_flags_are_named(
    caplog: pytest.LogCaptureFixture, argv: list[str], warning: str
) -> None:
    args = build_parser().parse_args(argv)
    settings = load_settings(args, {"AVALA_API_KEY": API_KEY})
    check_startup(args, settings)
    assert warning in caplog.text
