"""Every client configuration in config_examples/ parses and starts a command our CLI accepts,
whether it names the installed ``avala-mcp`` or runs it through ``uvx``."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from avala_mcp.cli import build_parser
from avala_mcp.net import is_loopback

EXAMPLES = Path(__file__).resolve().parents[2] / "config_examples"
JSON_FILES = sorted(EXAMPLES.glob("*.json"))
SHELL_FILES = sorted(EXAMPLES.glob("*.sh"))
KNOWN_VARIABLES = {
    "AVALA_API_KEY",
    "AVALA_BASE_URL",
    "AVALA_MCP_READ_ONLY",
    "AVALA_MCP_DB",
    "AVALA_MCP_AUTH_TOKEN",
    "AVALA_MCP_LOG_LEVEL",
    "AVALA_MCP_OWNER",
}
# Every client the issue names has at least one example.
EXPECTED = {
    "claude_desktop_cloud.json",
    "claude_desktop_local_demo.json",
    "claude_desktop_uvx.json",
    "claude_code.sh",
    "cursor_mcp.json",
    "vscode_mcp.json",
    "vscode_mcp_uvx.json",
    "windsurf_mcp_config.json",
    "streamable_http_client.json",
    "streamable_http_server.sh",
}


# The package uvx should fetch: ours, at most pinned to a version.
PACKAGE_SPEC = re.compile(r"avala-mcp(?:==[0-9][0-9a-z.]*|@[0-9][0-9a-z.]*|@latest)?")
# uvx options that take a value; any other option is a flag.
UVX_VALUE_OPTIONS = {"--from", "--with", "--python", "-p", "--index", "--index-url"}


def _avala_argv(argv: list[str]) -> list[str]:
    """The avala-mcp command line that ``argv`` runs, directly or through ``uvx``."""
    if argv[0] != "uvx":
        return argv
    words = list(argv[1:])
    source = None
    while words[0].startswith("-"):
        option = words.pop(0)
        if option in UVX_VALUE_OPTIONS:
            value = words.pop(0)
            source = value if option == "--from" else source
    command = words.pop(0)
    if source is None:
        assert PACKAGE_SPEC.fullmatch(command), argv
    else:
        assert PACKAGE_SPEC.fullmatch(source), argv
        assert command == "avala-mcp", argv
    return ["avala-mcp", *words]


def _check_command_line(argv: list[str], commands: tuple[str, ...] = ("serve",)) -> None:
    """``argv`` starts avala-mcp with arguments the real parser accepts."""
    argv = _avala_argv(argv)
    assert argv[0] == "avala-mcp", argv
    args = build_parser().parse_args(argv[1:])
    assert args.command in commands, argv


def _check_url(url: str, headers: dict[str, str] | None) -> None:
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert is_loopback(parts.hostname), url
    assert parts.path == "/mcp", url
    assert headers is not None
    assert headers["Authorization"].startswith("Bearer "), headers


def _servers(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    servers = config.get("mcpServers", config.get("servers"))
    assert isinstance(servers, dict)
    assert servers
    return servers


def test_every_named_client_has_an_example() -> None:
    present = {path.name for path in [*JSON_FILES, *SHELL_FILES]}
    assert present >= EXPECTED


@pytest.mark.parametrize("path", JSON_FILES, ids=lambda path: path.name)
def test_json_example_parses_and_its_command_is_accepted(path: Path) -> None:
    for server in _servers(json.loads(path.read_text())).values():
        if "command" in server:
            _check_command_line([server["command"], *server.get("args", [])])
            assert set(server.get("env", {})) <= KNOWN_VARIABLES
        else:
            _check_url(server["url"], server.get("headers"))


def _shell_commands(path: Path) -> list[list[str]]:
    """The command lines of a shell example, comments and shell plumbing left out."""
    commands = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        words = shlex.split(line)
        if words[0] == "exec":
            words = words[1:]
        if words[0] in ("avala-mcp", "uvx", "claude"):
            commands.append(words)
    return commands


@pytest.mark.parametrize("path", SHELL_FILES, ids=lambda path: path.name)
def test_shell_example_commands_are_accepted(path: Path) -> None:
    commands = _shell_commands(path)
    assert commands
    for words in commands:
        if words[0] != "claude":
            # A shell example may also run the installer.
            _check_command_line(words, commands=("serve", "install"))
            continue
        assert words[:3] == ["claude", "mcp", "add"], words
        if "--" in words:
            _check_command_line(words[words.index("--") + 1 :])
        else:
            assert words[words.index("--transport") + 1] == "http"
            url = next(word for word in words if word.startswith("http://"))
            header = words[words.index("--header") + 1]
            name, _, value = header.partition(": ")
            _check_url(url, {name: value})


def test_the_uvx_form_stands_beside_the_installed_one() -> None:
    commands = {
        server.get("command")
        for path in JSON_FILES
        for server in _servers(json.loads(path.read_text())).values()
    }
    assert {"avala-mcp", "uvx"} <= commands
    shell = " ".join(" ".join(words) for path in SHELL_FILES for words in _shell_commands(path))
    assert "-- uvx avala-mcp serve" in shell


@pytest.mark.parametrize(
    "argv",
    [
        ["uvx", "avala-mcp", "serve"],
        ["uvx", "avala-mcp@0.1.0", "serve", "--local"],
        ["uvx", "--from", "avala-mcp==0.1.0", "avala-mcp", "serve"],
    ],
)
def test_uvx_command_lines_are_read_as_ours(argv: list[str]) -> None:
    _check_command_line(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["uvx", "some-other-server", "serve"],
        ["uvx", "--from", "avala-mcp", "other-command"],
        ["uvx", "avala-mcp", "serve", "--bogus"],
    ],
)
def test_uvx_command_lines_for_something_else_are_refused(argv: list[str]) -> None:
    with pytest.raises((AssertionError, SystemExit)):
        _check_command_line(argv)
