"""Secrets and what a message may say (issue 11): no URL is shown with its credentials, every
escaped form of a key is redacted wherever text leaves the process (logs, ``api``'s access
lines), a short bearer token is refused off loopback, and ``api --api-key`` checks its key as
``serve`` does.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest
from running import clean_env, started

from avala_mcp.cli import build_parser
from avala_mcp.commands.serve import check_startup, load_settings, serve_command
from avala_mcp.embedded.seed import DEMO_ORG
from avala_mcp.logs import configure_logging
from avala_mcp.redaction import REDACTED, Redactor
from avala_mcp.settings import MIN_AUTH_TOKEN_LENGTH, ConfigError, check_base_url

#: A key as awkward as a valid one can be: every character that some escaping changes.
KEY = "k\\e\"y'1%2F+&=/?#@:<>"
URL_KEY = "sk-url-key-71c3e9"


def forms_of(secret: str) -> list[str]:
    """How ``secret`` shows once escaped: in JSON, a repr, a URL, and JSON inside JSON."""
    once = [
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        repr(f'"{secret}')[2:-1],
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
    ]
    return [secret, *once, *(json.dumps(form)[1:-1] for form in once), repr(once[0])[1:-1]]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state; put it back for the next test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize(
    "url",
    [
        f"https://user:{URL_KEY}@api.example.com/api/v1",
        f"https://{URL_KEY}@api.example.com",
        f"http://user:{URL_KEY}@api.example.com/",  # two faults: still no key
        f"https://user:{URL_KEY[:6]}/{URL_KEY[6:]}@api.example.com/",  # "/" in the password
        f"https://user:{URL_KEY[:6]}#{URL_KEY[6:]}@api.example.com/",
        f"https://api.example.com/api/v1?api_key={URL_KEY}",
        f"ftp://u:{URL_KEY}@api.example.com/",
        f"https://u:{URL_KEY}@[::1/",  # not even a URL
    ],
)
def test_a_refused_base_url_never_shows_its_credentials(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValueError, match=r"URL|must") as caught:
        check_base_url(url)
    assert URL_KEY[6:] not in str(caught.value)
    args = build_parser().parse_args(["serve"])
    assert serve_command(args, {"AVALA_API_KEY": "k-ok", "AVALA_BASE_URL": url}) == 2
    err = capsys.readouterr().err
    assert err.startswith("avala-mcp: AVALA_BASE_URL is invalid")
    assert URL_KEY[6:] not in err


def test_a_key_pasted_as_the_base_url_is_not_echoed(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["serve"])
    assert serve_command(args, {"AVALA_API_KEY": URL_KEY, "AVALA_BASE_URL": URL_KEY}) == 2
    err = capsys.readouterr().err
    assert "AVALA_BASE_URL is invalid" in err
    assert URL_KEY not in err


@pytest.mark.parametrize("form", forms_of(KEY))
def test_every_escaped_form_of_a_key_is_redacted(form: str) -> None:
    text = Redactor([KEY]).text(f"before {form} after")
    assert text == f"before {REDACTED} after"


@pytest.mark.usefixtures("restore_logging")
def test_logs_carry_no_form_of_a_key(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", secrets=[KEY])
    log = logging.getLogger("avala_mcp.test")
    log.warning("as repr: %r", KEY)
    log.warning("inside JSON: %s", json.dumps({"key": KEY}))
    log.warning("in a URL: /slices/%s/", quote(KEY, safe=""))
    log.warning("as arguments of a list: %s", [KEY])
    try:
        raise RuntimeError({"sent": KEY})
    except RuntimeError:
        log.exception("failed")
    err = capsys.readouterr().err
    assert err.count(REDACTED) == 5
    for form in forms_of(KEY):
        assert form not in err, form


def test_api_access_lines_carry_no_form_of_its_key(tmp_path: Path) -> None:
    env = clean_env(AVALA_MCP_DB=str(tmp_path / "api.sqlite3"), AVALA_MCP_LOG_LEVEL="INFO")
    with started(["api", "--port", "0", "--api-key", KEY], env, r"serving (\S+)") as running:
        base = running.ready[1]
        with httpx.Client(timeout=30) as http:
            # A caller who put the key where a slug goes: the access line shows the path.
            path = f"{base}/slices/{DEMO_ORG}/{quote(KEY, safe='')}/"
            assert http.get(path, headers={"X-Avala-Api-Key": KEY}).status_code in (400, 404)
            assert http.get(f"{base}/slices/{DEMO_ORG}/list/?q={quote_plus(KEY)}").status_code
            # Encoded as no escaping function would: every character, lowercase hex digits.
            every = "".join(f"%{byte:02x}" for byte in KEY.encode())
            assert http.get(f"{base}/slices/{DEMO_ORG}/list/?k={every}&n=1").status_code
    err = running.rest_of_stderr()
    assert f"GET /api/v1/slices/{DEMO_ORG}/{REDACTED}/" in err
    assert f"?k={REDACTED}&n=1" in err
    for form in [*forms_of(KEY), every]:
        assert form not in err, form


def test_a_short_bearer_token_is_refused_for_a_non_loopback_bind() -> None:
    short = "t" * (MIN_AUTH_TOKEN_LENGTH - 1)
    args = build_parser().parse_args(["serve", "--transport", "sse", "--host", "192.0.2.10"])
    settings = load_settings(args, {"AVALA_API_KEY": "k-ok", "AVALA_MCP_AUTH_TOKEN": short})
    with pytest.raises(ConfigError) as caught:
        check_startup(args, settings)
    assert "shorter than 16 characters" in str(caught.value)
    assert short not in str(caught.value)
    long_enough = load_settings(
        args, {"AVALA_API_KEY": "k-ok", "AVALA_MCP_AUTH_TOKEN": short + "t"}
    )
    check_startup(args, long_enough)
    loopback = build_parser().parse_args(["serve", "--transport", "sse"])
    check_startup(
        loopback, load_settings(loopback, {"AVALA_API_KEY": "k", "AVALA_MCP_AUTH_TOKEN": "t"})
    )


@pytest.mark.parametrize(
    ("flags", "environ", "named"),
    [
        (["--api-key", "a b"], {}, "--api-key"),
        (["--api-key", "key-\u00e9"], {}, "--api-key"),
        ([], {"AVALA_API_KEY": "tab\there"}, "AVALA_API_KEY"),
    ],
)
def test_api_refuses_a_key_serve_would_refuse(
    tmp_path: Path, flags: list[str], environ: dict[str, str], named: str
) -> None:
    env = clean_env(AVALA_MCP_DB=str(tmp_path / "api.sqlite3"), **environ)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "avala_mcp", "api", "--port", "0", *flags],
            env=env, capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail("avala-mcp api served with a malformed key")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"avala-mcp api: {named} is malformed: it must be printable ASCII without spaces; "
        "set it again"
    ]
