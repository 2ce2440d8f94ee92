"""Every client configuration in config_examples/ parses and starts a command our CLI accepts."""

from __future__ import annotations

import json
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
    "claude_code.sh",
    "cursor_mcp.json",
    "vscode_mcp.json",
    "windsurf_mcp_config.json",
    "streamable_http_client.json",
    "streamable_http_server.sh",
}


def _check_command_line(argv: list[str]) -> None:
    """``argv`` starts avala-mcp with arguments the real parser accepts."""
    assert argv[0] == "avala-mcp", argv
    args = build_parser().parse_args(argv[1:])
    assert args.command == "serve", argv


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
        if words[0] in ("avala-mcp", "claude"):
            commands.append(words)
    return commands


@pytest.mark.parametrize("path", SHELL_FILES, ids=lambda path: path.name)
def test_shell_example_commands_are_accepted(path: Path) -> None:
    commands = _shell_commands(path)
    assert commands
    for words in commands:
        if words[0] == "avala-mcp":
            _check_command_line(words)
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
