"""``avala-mcp install`` and ``uninstall``: the ``avala`` server in an MCP client's configuration.

``install`` writes one entry, named ``avala``, that starts this very installation by its absolute
path (desktop apps do not see the shell's ``PATH``), and leaves every other server, setting and
key of the file as it was. Running it again with the same choices changes nothing. The API key
goes into the file only when asked (``--with-key``); it is never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from avala_mcp.commands.clients import CLIENTS, Client
from avala_mcp.commands.config_file import (
    ConfigFileError,
    JsonConfig,
    read_config,
    write_config,
)
from avala_mcp.settings import API_KEY_URL, ConfigError, Settings

SERVER_NAME = "avala"
KEY_VARIABLE = "AVALA_API_KEY"
KEY_PLACEHOLDER = "paste-your-avala-api-key-here"
KEY_SHOWN_AS = "<your AVALA_API_KEY, not shown>"
SCRIPT_NAMES = ("avala-mcp", "avala-mcp.exe")
# Keys of an old entry that describe how to start it; the new entry's own replace them, while
# any other key (a client's "disabled", say) is kept.
_LAUNCH_KEYS = frozenset({"type", "command", "args", "env", "url", "serverUrl", "headers"})


@dataclass(frozen=True)
class Launcher:
    """The command a client runs to start this installation of avala-mcp."""

    command: str
    prefix: tuple[str, ...] = ()


def find_launcher(
    argv0: str | None = None, scripts_dir: str | None = None, executable: str | None = None
) -> Launcher:
    """The running ``avala-mcp`` script; else this environment's; else ``python -m avala_mcp``.

    ``shutil.which`` is not asked: the ``avala-mcp`` first on ``PATH`` may belong to another
    environment, another version, than the one running now.
    """
    argv0 = sys.argv[0] if argv0 is None else argv0
    running = Path(os.path.abspath(argv0)) if argv0 else None
    if running is not None and running.name in SCRIPT_NAMES and running.is_file():
        return Launcher(str(running))
    folder = Path(sysconfig.get_path("scripts") if scripts_dir is None else scripts_dir)
    for name in SCRIPT_NAMES:
        if (folder / name).is_file():
            return Launcher(str(folder / name))
    interpreter = os.path.abspath(sys.executable if executable is None else executable)
    return Launcher(interpreter, ("-m", "avala_mcp"))


class KeySource(Enum):
    """Where the entry's ``AVALA_API_KEY`` comes from."""

    NOT_NEEDED = "not needed"  # --local: the embedded API brings its own key
    ENVIRONMENT = "environment"  # --with-key, from AVALA_API_KEY
    KEPT = "kept"  # a key the user had already put in the file
    PLACEHOLDER = "placeholder"


@dataclass(frozen=True)
class Request:
    """What ``install`` was asked for."""

    client: Client
    local: bool = False
    read_only: bool = False
    api_key: str | None = None  # only with --with-key and AVALA_API_KEY set


def serve_args(local: bool, read_only: bool) -> list[str]:
    """The arguments of ``avala-mcp`` in the entry."""
    return ["serve", *(["--local"] if local else []), *(["--read-only"] if read_only else [])]


def server_entry(
    request: Request, launcher: Launcher, previous: Any = None
) -> tuple[dict[str, Any], KeySource]:
    """The ``avala`` entry for ``request``, merged into the ``previous`` one if there was one."""
    old: dict[str, Any] = previous if isinstance(previous, dict) else {}
    old_env = old.get("env")
    env = {
        name: value
        for name, value in (old_env.items() if isinstance(old_env, dict) else ())
        if isinstance(value, str)
    }
    if request.local:
        source = KeySource.NOT_NEEDED
    elif request.api_key:
        env[KEY_VARIABLE] = request.api_key
        source = KeySource.ENVIRONMENT
    elif env.get(KEY_VARIABLE, "").strip() not in ("", KEY_PLACEHOLDER):
        source = KeySource.KEPT
    else:
        env[KEY_VARIABLE] = KEY_PLACEHOLDER
        source = KeySource.PLACEHOLDER
    args = [*launcher.prefix, *serve_args(request.local, request.read_only)]
    entry = request.client.stdio_entry(launcher.command, args, env)
    entry.update((key, value) for key, value in old.items() if key not in _LAUNCH_KEYS)
    return entry, source


def install_command(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> int:
    """Add or update the ``avala`` entry, or with ``--print`` only show it."""
    environ = os.environ if environ is None else environ
    client = CLIENTS[args.client]
    path = _config_path(client, args.config, environ)
    try:
        request = Request(client, args.local, args.read_only, _key_to_write(args, environ))
        if args.print:
            _print_entry(request, path, args.with_key)
            return 0
        config = read_config(path)
        servers = _servers(config, client)
        entry, source = server_entry(request, find_launcher(), servers.get(SERVER_NAME))
        document = {**config.document, client.servers_key: {**servers, SERVER_NAME: entry}}
        if config.exists and document == config.document:
            print(
                f"{client.title}: the {SERVER_NAME} server in {path} is already up to date; "
                "nothing changed."
            )
            print(f"  {KEY_VARIABLE}: {_key_note(source, args.with_key, path)}")
            return 0
        backup = write_config(config, document)
    except (ConfigFileError, ConfigError) as error:
        print(f"avala-mcp: {error}", file=sys.stderr)
        return 1
    done = "updated the {} server in" if SERVER_NAME in servers else "added the {} server to"
    print(f"{client.title}: {done.format(SERVER_NAME)} {path}")
    print(f"  runs: {shlex.join([entry['command'], *entry['args']])}")
    print(f"  {KEY_VARIABLE}: {_key_note(source, args.with_key, path)}")
    if backup is not None:
        print(f"  the previous file is saved as {backup}")
    print(f"Restart {client.title} to load it.")
    return 0


def uninstall_command(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> int:
    """Remove the ``avala`` entry, and nothing else."""
    environ = os.environ if environ is None else environ
    client = CLIENTS[args.client]
    path = _config_path(client, args.config, environ)
    try:
        config = read_config(path)
        servers = _servers(config, client)
        if SERVER_NAME not in servers:
            print(f"{client.title}: no {SERVER_NAME} server in {path}; nothing changed.")
            return 0
        remaining = {name: entry for name, entry in servers.items() if name != SERVER_NAME}
        backup = write_config(config, {**config.document, client.servers_key: remaining})
    except ConfigFileError as error:
        print(f"avala-mcp: {error}", file=sys.stderr)
        return 1
    print(f"{client.title}: removed the {SERVER_NAME} server from {path}")
    print(f"  the previous file is saved as {backup}")
    print(f"Restart {client.title} to unload it.")
    return 0


def _config_path(client: Client, given: Path | None, environ: Mapping[str, str]) -> Path:
    if given is not None:
        return given.expanduser().absolute()
    return client.config_path(sys.platform, Path.home(), environ)


def _key_to_write(args: argparse.Namespace, environ: Mapping[str, str]) -> str | None:
    if not args.with_key or args.local:
        return None
    # Settings checks the key (printable, no spaces) and never repeats it in an error.
    return Settings.from_env(environ={KEY_VARIABLE: environ.get(KEY_VARIABLE, "")}).api_key


def _servers(config: JsonConfig, client: Client) -> dict[str, Any]:
    servers = config.document.get(client.servers_key, {})
    if not isinstance(servers, dict):
        raise ConfigFileError(
            f'{config.path}: the top-level "{client.servers_key}" is not a JSON object; '
            "nothing was changed"
        )
    return servers


def _print_entry(request: Request, path: Path, with_key: bool) -> None:
    """The entry on stdout, as JSON to paste; where it goes, on stderr. The key is masked."""
    entry, source = server_entry(request, find_launcher())
    note = _key_note(source, with_key, path)
    if source is KeySource.ENVIRONMENT:
        entry["env"][KEY_VARIABLE] = KEY_SHOWN_AS
        note = "set in your environment; masked here"
    snippet = {request.client.servers_key: {SERVER_NAME: entry}}
    print(json.dumps(snippet, indent=2, ensure_ascii=False))
    print(f"avala-mcp: nothing was written; this entry goes in {path}", file=sys.stderr)
    print(f"avala-mcp: {KEY_VARIABLE}: {note}", file=sys.stderr)


def _key_note(source: KeySource, with_key: bool, path: Path) -> str:
    if source is KeySource.NOT_NEEDED:
        return "not needed: --local uses the embedded demo API"
    if source is KeySource.ENVIRONMENT:
        return "written from your environment (not shown)"
    if source is KeySource.KEPT:
        return "kept the key already in the file"
    missing = " (--with-key was given, but AVALA_API_KEY is not set)" if with_key else ""
    return (
        f'the placeholder "{KEY_PLACEHOLDER}"{missing}: replace it in {path} with your key '
        f"from {API_KEY_URL}, or run this again with AVALA_API_KEY set and --with-key"
    )
