"""The MCP clients ``avala-mcp install`` knows: where each keeps its servers, and in what shape.

Locations are per user and per platform (macOS, Windows, Linux). They are computed from the
platform name, the home folder and the environment handed in, so every platform's answer can be
checked on any machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any


class Base(Enum):
    """The folder a client's configuration path starts from."""

    HOME = "home"
    # The platform's per-user application folder: ~/Library/Application Support on macOS,
    # %APPDATA% on Windows, $XDG_CONFIG_HOME (else ~/.config) on Linux.
    APP_CONFIG = "app-config"


@dataclass(frozen=True)
class Client:
    """One MCP client: its name on the command line, its config file and its entry format."""

    name: str
    title: str
    base: Base
    relative: tuple[str, ...]
    servers_key: str = "mcpServers"
    # VS Code and Claude Code tag each entry with its transport; the others infer stdio.
    typed_entries: bool = False

    def config_path(self, system: str, home: Path, environ: Mapping[str, str]) -> Path:
        """The client's per-user configuration file on ``system`` (a ``sys.platform`` value)."""
        root = home if self.base is Base.HOME else app_config_root(system, home, environ)
        return root.joinpath(*self.relative)

    def stdio_entry(self, command: str, args: list[str], env: dict[str, str]) -> dict[str, Any]:
        """A server entry in this client's format; ``env`` is left out when empty."""
        entry: dict[str, Any] = {"type": "stdio"} if self.typed_entries else {}
        entry["command"] = command
        entry["args"] = args
        if env:
            entry["env"] = env
        return entry


def app_config_root(system: str, home: Path, environ: Mapping[str, str]) -> Path:
    """The per-user application configuration folder of ``system``."""
    if system == "darwin":
        return home / "Library" / "Application Support"
    if system == "win32":
        appdata = environ.get("APPDATA", "").strip()
        return Path(appdata) if appdata else home / "AppData" / "Roaming"
    xdg = environ.get("XDG_CONFIG_HOME", "").strip()
    # The XDG spec ignores a relative value.
    return Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".config"


CLIENTS: dict[str, Client] = {
    client.name: client
    for client in (
        Client(
            "claude-desktop",
            "Claude Desktop",
            Base.APP_CONFIG,
            ("Claude", "claude_desktop_config.json"),
        ),
        # Claude Code's user scope: the top-level "mcpServers" of ~/.claude.json.
        Client("claude-code", "Claude Code", Base.HOME, (".claude.json",), typed_entries=True),
        Client("cursor", "Cursor", Base.HOME, (".cursor", "mcp.json")),
        Client(
            "vscode",
            "VS Code",
            Base.APP_CONFIG,
            ("Code", "User", "mcp.json"),
            servers_key="servers",
            typed_entries=True,
        ),
        Client("windsurf", "Windsurf", Base.HOME, (".codeium", "windsurf", "mcp_config.json")),
    )
}
