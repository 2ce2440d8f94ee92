"""``avala-mcp install`` and ``uninstall`` for each client, on a file that already has a life.

The acceptance of issue 13, per client: install into a config holding another server and
unrelated keys keeps both and adds ours, with a backup; a second run changes nothing; uninstall
removes only ours; a broken file is left untouched, with its line and column named.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from avala_mcp.cli import main
from avala_mcp.commands.clients import CLIENTS, app_config_root
from avala_mcp.commands.install import KEY_PLACEHOLDER, SERVER_NAME

HOME = Path("/home/ada")
APPDATA = Path("/c/Users/ada/AppData/Roaming")

# Each client's file on each platform: home, and the per-user application folder.
EXPECTED_PATHS = {
    ("claude-desktop", "darwin"): HOME
    / "Library/Application Support/Claude/claude_desktop_config.json",
    ("claude-desktop", "win32"): APPDATA / "Claude/claude_desktop_config.json",
    ("claude-desktop", "linux"): HOME / ".config/Claude/claude_desktop_config.json",
    ("claude-code", "darwin"): HOME / ".claude.json",
    ("claude-code", "win32"): HOME / ".claude.json",
    ("claude-code", "linux"): HOME / ".claude.json",
    ("cursor", "darwin"): HOME / ".cursor/mcp.json",
    ("cursor", "win32"): HOME / ".cursor/mcp.json",
    ("cursor", "linux"): HOME / ".cursor/mcp.json",
    ("vscode", "darwin"): HOME / "Library/Application Support/Code/User/mcp.json",
    ("vscode", "win32"): APPDATA / "Code/User/mcp.json",
    ("vscode", "linux"): HOME / ".config/Code/User/mcp.json",
    ("windsurf", "darwin"): HOME / ".codeium/windsurf/mcp_config.json",
    ("windsurf", "win32"): HOME / ".codeium/windsurf/mcp_config.json",
    ("windsurf", "linux"): HOME / ".codeium/windsurf/mcp_config.json",
}


@pytest.mark.parametrize(("client", "system"), sorted(EXPECTED_PATHS))
def test_each_client_file_on_each_platform(client: str, system: str) -> None:
    environ = {"APPDATA": str(APPDATA)}
    assert CLIENTS[client].config_path(system, HOME, environ) == EXPECTED_PATHS[client, system]


def test_every_client_has_its_locations() -> None:
    assert {client for client, _ in EXPECTED_PATHS} == set(CLIENTS)


@pytest.mark.parametrize(
    ("system", "environ", "expected"),
    [
        ("linux", {"XDG_CONFIG_HOME": "/xdg"}, Path("/xdg")),
        ("linux", {"XDG_CONFIG_HOME": "relative/ignored"}, HOME / ".config"),
        ("win32", {}, HOME / "AppData/Roaming"),
        # macOS apps keep their files in Application Support, whatever XDG says.
        ("darwin", {"XDG_CONFIG_HOME": "/xdg"}, HOME / "Library/Application Support"),
    ],
)
def test_application_folder_follows_the_platform_rules(
    system: str, environ: dict[str, str], expected: Path
) -> None:
    assert app_config_root(system, HOME, environ) == expected


def _existing_config(client: str) -> dict[str, Any]:
    """A file in use: another server, an unrelated setting, and (Claude Code) project scopes."""
    key = CLIENTS[client].servers_key
    return {
        "theme": "dark",
        key: {"github": {"command": "npx", "args": ["-y", "server-github"], "env": {"T": "x"}}},
        "projects": {"/src/app": {key: {"local-only": {"command": "tool"}}}},
        "numbers": [1, 2.5, None, True],
    }


def run(*argv: str) -> int:
    return main(list(argv))


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_install_again_and_uninstall_keep_everything_else(
    client: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.json"
    original = json.dumps(_existing_config(client), indent=4)
    config.write_text(original)
    key = CLIENTS[client].servers_key

    assert run("install", client, "--config", str(config)) == 0
    installed = json.loads(config.read_text())
    assert installed["theme"] == "dark"
    assert installed["projects"] == _existing_config(client)["projects"]
    assert installed["numbers"] == [1, 2.5, None, True]
    assert installed[key]["github"] == _existing_config(client)[key]["github"]
    assert set(installed[key]) == {"github", SERVER_NAME}
    ours = installed[key][SERVER_NAME]
    assert Path(ours["command"]).is_absolute()
    assert ours["args"][-1] == "serve"
    assert ours["env"] == {"AVALA_API_KEY": KEY_PLACEHOLDER}
    backup = config.with_name("config.json.bak")
    assert backup.read_text() == original
    out = capsys.readouterr().out
    assert f"added the avala server to {config}" in out
    assert KEY_PLACEHOLDER in out, "the output names the placeholder to replace"

    written = config.read_bytes()
    stamp = config.stat().st_mtime_ns
    assert run("install", client, "--config", str(config)) == 0
    assert "already up to date; nothing changed" in capsys.readouterr().out
    assert config.read_bytes() == written
    assert config.stat().st_mtime_ns == stamp
    assert backup.read_text() == original, "an unchanged run writes no backup either"

    assert run("uninstall", client, "--config", str(config)) == 0
    assert "removed the avala server" in capsys.readouterr().out
    assert json.loads(config.read_text()) == _existing_config(client)
    assert run("uninstall", client, "--config", str(config)) == 0
    assert "nothing changed" in capsys.readouterr().out


@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('{\n  "mcpServers": {\n    "github": {"command": "npx",}\n  }\n}\n', 3, 33),
        ('{"theme": "dark"', 1, 17),
        ("// a comment\n{}", 1, 1),
    ],
)
def test_broken_json_is_left_untouched(
    client: str,
    text: str,
    line: int,
    column: int,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "config.json"
    config.write_text(text)
    for command in ("install", "uninstall"):
        assert run(command, client, "--config", str(config)) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert f"{config}: not valid JSON at line {line}, column {column}" in err
        assert "nothing was changed" in err
    assert config.read_text() == text
    assert sorted(tmp_path.iterdir()) == [config], "no backup, no temporary file left"


def test_vscode_entries_say_stdio(tmp_path: Path) -> None:
    config = tmp_path / "mcp.json"
    assert run("install", "vscode", "--config", str(config)) == 0
    entry = json.loads(config.read_text())["servers"][SERVER_NAME]
    assert entry["type"] == "stdio"
    assert "mcpServers" not in json.loads(config.read_text())


def test_missing_file_and_folder_are_created(tmp_path: Path) -> None:
    config = tmp_path / "not" / "yet" / "claude_desktop_config.json"
    assert run("install", "claude-desktop", "--local", "--config", str(config)) == 0
    document = json.loads(config.read_text())
    assert list(document) == ["mcpServers"]
    assert document["mcpServers"][SERVER_NAME]["args"][-2:] == ["serve", "--local"]
    assert not config.with_name(config.name + ".bak").exists(), "nothing to back up"
    assert config.stat().st_mode & 0o077 == 0, "a new file is its owner's only"


def test_default_location_comes_from_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert run("install", "cursor", "--local") == 0
    assert (tmp_path / ".cursor" / "mcp.json").is_file()
    assert str(tmp_path / ".cursor" / "mcp.json") in capsys.readouterr().out
