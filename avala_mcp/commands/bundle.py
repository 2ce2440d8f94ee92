"""The MCP Bundle (``.mcpb``): its start-up command line, and building it from the source tree.

The bundle is of the ``uv`` type: it holds the project (``pyproject.toml`` and this package), and
the host installs Python and the dependencies with ``uv``. The host passes the user's settings
as ``--local=true``, ``--read-only=false``, ``--db=PATH`` (``packaging/manifest.json``); the
bundle's entry point turns them into an ``avala-mcp serve`` command line with
:func:`serve_argv`. The API key travels in the environment, never on the command line.

Build, from a clone (needs Node.js and npm; the ``mcpb`` version is pinned in
``packaging/package-lock.json``)::

    python -m avala_mcp.commands.bundle [--out DIR]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from avala_mcp import __version__

TREE = Path(__file__).resolve().parents[2]
PACKAGING = TREE / "packaging"
# What the bundle holds: the manifest and entry point from packaging/, and the project.
PROJECT_FILES = ("pyproject.toml", "README.md")
PACKAGING_FILES = ("manifest.json", ".mcpbignore")
_TRUE = frozenset({"true", "1", "yes", "on"})


def serve_argv(words: Sequence[str]) -> list[str]:
    """The ``avala-mcp`` arguments for the settings the bundle's host passes.

    A value the host left unsubstituted (``${user_config.db_path}``) or empty counts as not set;
    any other argument is passed on to ``serve``.
    """
    parser = argparse.ArgumentParser(prog="avala-mcp (bundle)", add_help=False)
    parser.add_argument("--local", default="")
    parser.add_argument("--read-only", default="")
    parser.add_argument("--db", default="")
    settings, others = parser.parse_known_args(words)
    argv = ["serve"]
    if _given(settings.local).lower() in _TRUE:
        argv.append("--local")
    if _given(settings.read_only).lower() in _TRUE:
        argv.append("--read-only")
    if _given(settings.db):
        argv += ["--db", _given(settings.db)]
    return [*argv, *others]


def _given(value: str) -> str:
    value = value.strip()
    return "" if value.startswith("${") else value


def stage(into: Path, tree: Path = TREE) -> Path:
    """Copy the bundle's files from ``tree`` into the new folder ``into``; returns ``into``."""
    into.mkdir(parents=True)
    for name in PACKAGING_FILES:
        shutil.copy2(tree / "packaging" / name, into / name)
    for name in PROJECT_FILES:
        shutil.copy2(tree / name, into / name)
    leftovers = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(tree / "packaging" / "server", into / "server", ignore=leftovers)
    shutil.copytree(tree / "avala_mcp", into / "avala_mcp", ignore=leftovers)
    return into


def find_mcpb(packaging: Path = PACKAGING) -> str:
    """The pinned ``mcpb`` in ``packaging/node_modules``, installed with ``npm ci`` if missing."""
    tools = packaging / "node_modules" / ".bin"
    found = shutil.which("mcpb", path=str(tools))
    if found is None:
        npm = shutil.which("npm")
        if npm is None:
            raise BundleError("building the bundle needs Node.js and npm (for mcpb); install them")
        subprocess.run(  # noqa: S603 - npm from PATH, fixed arguments
            [npm, "ci", "--no-audit", "--no-fund"], cwd=packaging, check=True
        )
        found = shutil.which("mcpb", path=str(tools))
    if found is None:
        raise BundleError(f"npm ci did not install mcpb into {tools}")
    return found


def build(out_dir: Path, tree: Path = TREE) -> Path:
    """Build ``avala-mcp-VERSION.mcpb`` into ``out_dir`` with the pinned ``mcpb pack``."""
    if not (tree / "packaging" / "manifest.json").is_file():
        raise BundleError(f"no packaging/manifest.json under {tree}: run this from a clone")
    mcpb = find_mcpb(tree / "packaging")
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir.resolve() / f"avala-mcp-{__version__}.mcpb"
    with tempfile.TemporaryDirectory() as scratch:
        staged = stage(Path(scratch) / "avala-mcp", tree)
        subprocess.run([mcpb, "pack", str(staged), str(output)], check=True)  # noqa: S603
    return output


class BundleError(Exception):
    """The bundle cannot be built here; the message says why in one line."""


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m avala_mcp.commands.bundle``: build the bundle, print its path."""
    parser = argparse.ArgumentParser(
        prog="python -m avala_mcp.commands.bundle",
        description="Build the MCP Bundle (.mcpb) of avala-mcp from this source tree.",
    )
    parser.add_argument(
        "--out", type=Path, default=TREE / "dist", help="output folder (default: dist/)"
    )
    args = parser.parse_args(argv)
    try:
        print(build(args.out))
    except BundleError as error:
        print(f"avala-mcp: {error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        tool = Path(error.cmd[0]).name
        print(f"avala-mcp: {tool} failed (exit {error.returncode})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
