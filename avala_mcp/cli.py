"""The ``avala-mcp`` command line.

Each command's work lives in its own module, imported only when that command runs, so that
``avala-mcp serve`` (spawned by Claude Desktop at every start) never pays for the embedded API,
uvicorn or the importer unless it uses them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from avala_mcp import __version__
from avala_mcp.commands.clients import CLIENTS

_TOP_LEVEL_FLAGS = ("-h", "--help", "--version")


def build_parser() -> argparse.ArgumentParser:
    """The whole command-line surface (docs/contracts.md, commands)."""
    parser = argparse.ArgumentParser(
        prog="avala-mcp",
        description="MCP server for Avala dataset slices (filtered subsets of a dataset). "
        "Without a command, runs 'serve' and accepts its options.",
    )
    parser.add_argument("--version", action="version", version=f"avala-mcp {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the MCP server (the default command)",
        description="Run the MCP server: stdio for desktop clients, or an HTTP transport.",
    )
    _add_serve_arguments(serve)

    api = commands.add_parser(
        "api",
        help="serve the embedded Slices API over HTTP",
        description="Serve the embedded Slices API (SQLite, demo data on first use) over HTTP.",
    )
    _add_db_argument(api)
    api.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    api.add_argument(
        "--port", type=int, default=8000, help="port to bind (default 8000; 0 picks one)"
    )
    api.add_argument(
        "--api-key",
        default=None,
        help="make KEY a valid API key of the demo user (default: AVALA_API_KEY, else a new key)",
    )
    api.add_argument(
        "--rate-limit",
        type=_positive_int,
        default=None,
        metavar="N",
        help="answer 429 past N requests per minute per key (default: no limit)",
    )

    demo = commands.add_parser(
        "demo",
        help="run a scripted MCP session against the embedded API and print it",
        description="Start the server on a temporary demo database, drive it with a real MCP "
        "client and print the session as a transcript.",
    )
    demo.add_argument(
        "--db",
        type=Path,
        default=None,
        metavar="PATH",
        help="SQLite database to run the demo on (default: a temporary one, removed afterwards)",
    )

    importer = commands.add_parser(
        "import",
        help="load items from a JSONL or CSV file into a new dataset of the embedded API",
        description="Load items from JSONL (key, url, metadata) or CSV (key, url, other columns "
        "as metadata) into a new dataset. All or nothing.",
    )
    importer.add_argument("file", type=Path, help="a .jsonl or .csv file")
    importer.add_argument(
        "--owner", required=True, help="organization or user that owns the dataset"
    )
    importer.add_argument(
        "--dataset", required=True, metavar="NAME", help="name of the new dataset"
    )
    importer.add_argument(
        "--media-root",
        type=Path,
        metavar="DIR",
        help="where relative image paths in 'url' are found (default: the file's directory)",
    )
    _add_db_argument(importer)

    install = commands.add_parser(
        "install",
        help="add the avala server to an MCP client's configuration",
        description="Add (or update) the 'avala' server in CLIENT's configuration file, started "
        "by this installation's absolute path. Every other server and setting is kept, the "
        "previous file is saved beside it as .bak, and a second run changes nothing.",
    )
    _add_client_arguments(install)
    install.add_argument(
        "--local", action="store_true", help="use the embedded demo API (no key needed)"
    )
    install.add_argument(
        "--read-only", action="store_true", help="offer no tool that creates or deletes"
    )
    install.add_argument(
        "--with-key",
        action="store_true",
        help="write AVALA_API_KEY from the environment into the file (default: a placeholder)",
    )
    install.add_argument(
        "--print",
        action="store_true",
        help="change nothing; print the entry (the key masked) and where it would go",
    )

    uninstall = commands.add_parser(
        "uninstall",
        help="remove the avala server from an MCP client's configuration",
        description="Remove the 'avala' server from CLIENT's configuration file, and nothing "
        "else; the previous file is saved beside it as .bak.",
    )
    _add_client_arguments(uninstall)
    return parser


def _add_client_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("client", choices=list(CLIENTS), metavar="CLIENT", help=", ".join(CLIENTS))
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="PATH",
        help="the configuration file to change (default: the client's own, for this user)",
    )


def _add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--transport",
        choices=["stdio", "sse", "streamable-http"],
        default="stdio",
        help="how clients connect (default stdio)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    parser.add_argument(
        "--stateless",
        action="store_true",
        help="streamable HTTP without sessions (each request stands alone)",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        default=None,
        help="register no tool that writes (also AVALA_MCP_READ_ONLY=1)",
    )
    parser.add_argument(
        "--local",
        action="store_true",
        help="use the embedded Slices API in-process instead of Avala's cloud",
    )
    _add_db_argument(parser)


def _add_db_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        metavar="PATH",
        help="SQLite database of the embedded API (default: AVALA_MCP_DB, else the user data dir)",
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    # ``avala-mcp [serve options]`` is ``avala-mcp serve [serve options]``, as desktop clients
    # configure it; a first word that is not an option is a command (argparse names the valid
    # ones if it is not), and the top-level flags (help, version) stand alone.
    if not words or (words[0].startswith("-") and words[0] not in _TOP_LEVEL_FLAGS):
        words.insert(0, "serve")
    args = parser.parse_args(words)
    command = args.command
    if command == "serve":
        from avala_mcp.commands.serve import serve_command

        return serve_command(args)
    if command == "demo":
        from avala_mcp.commands.demo import demo_command

        return demo_command(args)
    if command == "api":
        from avala_mcp.embedded.runner import api_command

        return api_command(args)
    if command == "import":
        from avala_mcp.embedded.importer import import_command

        return import_command(args)
    if command == "install":
        from avala_mcp.commands.install import install_command

        return install_command(args)
    if command == "uninstall":
        from avala_mcp.commands.install import uninstall_command

        return uninstall_command(args)
    parser.error(f"the {command!r} command is not part of this build")
