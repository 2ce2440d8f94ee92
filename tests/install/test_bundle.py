"""The MCP Bundle: its manifest against the schema that ``@anthropic-ai/mcpb`` publishes, the
command line the host starts, and what the bundle holds.

The schema is the package's own file (``schemas/mcpb-manifest-v0.4.schema.json`` of
``@anthropic-ai/mcpb`` 2.1.2, the version ``packaging/package-lock.json`` pins), copied here so
the test needs no Node.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from uv_runs import run_uv, uv_environment, uv_tool

from avala_mcp import __version__
from avala_mcp.cli import build_parser
from avala_mcp.commands.bundle import PACKAGING, serve_argv, stage

MCPB_VERSION = "2.1.2"
SCHEMA = Path(__file__).parent / "schemas" / f"mcpb-{MCPB_VERSION}-manifest-v0.4.schema.json"
MANIFEST: dict[str, Any] = json.loads((PACKAGING / "manifest.json").read_text())


def test_manifest_passes_the_published_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    Draft7Validator.check_schema(schema)
    validator = Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)
    errors = [f"{list(error.path)}: {error.message}" for error in validator.iter_errors(MANIFEST)]
    assert errors == []


def test_the_schema_copy_is_the_pinned_release() -> None:
    lock = json.loads((PACKAGING / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/@anthropic-ai/mcpb"]["version"] == MCPB_VERSION
    package = json.loads((PACKAGING / "package.json").read_text())
    assert package["devDependencies"]["@anthropic-ai/mcpb"] == MCPB_VERSION
    assert json.loads(SCHEMA.read_text())["properties"]["manifest_version"]["const"] == "0.4"


def test_manifest_describes_this_release() -> None:
    assert MANIFEST["version"] == __version__
    assert MANIFEST["manifest_version"] == "0.4"
    assert MANIFEST["server"]["type"] == "uv", "a Python server with compiled dependencies"
    assert (PACKAGING / MANIFEST["server"]["entry_point"]).is_file()


def test_user_settings_hold_the_key_as_a_secret() -> None:
    settings = MANIFEST["user_config"]
    assert settings["api_key"]["sensitive"] is True
    assert settings["api_key"]["type"] == "string"
    assert settings["read_only"]["type"] == "boolean"
    assert settings["local"]["type"] == "boolean"
    assert settings["db_path"]["type"] == "file"
    config = MANIFEST["server"]["mcp_config"]
    assert config["env"] == {"AVALA_API_KEY": "${user_config.api_key}"}
    assert not any("api_key" in arg for arg in config["args"]), "no key on a command line"


def test_every_setting_used_is_declared_with_a_default() -> None:
    """A host substitutes a setting only if it has a value; a default means it always has."""
    text = json.dumps(MANIFEST["server"]["mcp_config"])
    used = set(re.findall(r"\$\{user_config\.([a-z_]+)\}", text))
    declared = MANIFEST["user_config"]
    assert used == set(declared)
    for name in used:
        assert "default" in declared[name], name


def _host_args(settings: dict[str, str | bool]) -> list[str]:
    """The arguments after the entry point, substituted the way mcpb's reference host does."""
    config = MANIFEST["server"]["mcp_config"]
    entry = config["args"].index(MANIFEST["server"]["entry_point"])
    values = {name: option["default"] for name, option in MANIFEST["user_config"].items()}
    values.update(settings)
    words = []
    for arg in config["args"][entry + 1 :]:
        for name, value in values.items():
            text = ("true" if value else "false") if isinstance(value, bool) else value
            arg = arg.replace(f"${{user_config.{name}}}", text)
        words.append(arg)
    return words


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, ["serve"]),
        ({"local": True}, ["serve", "--local"]),
        ({"read_only": True}, ["serve", "--read-only"]),
        (
            {"local": True, "read_only": True, "db_path": "/data/my team.db"},
            ["serve", "--local", "--read-only", "--db", "/data/my team.db"],
        ),
    ],
)
def test_host_settings_become_a_serve_command_line(
    settings: dict[str, str | bool], expected: list[str]
) -> None:
    argv = serve_argv(_host_args(settings))
    assert argv == expected
    assert build_parser().parse_args(argv).command == "serve"


def test_unsubstituted_settings_count_as_not_set() -> None:
    words = ["--local=${user_config.local}", "--read-only=", "--db=${user_config.db_path}"]
    assert serve_argv(words) == ["serve"]
    assert serve_argv([]) == ["serve"]


def test_the_entry_point_runs_the_cli(tmp_path: Path) -> None:
    entry = PACKAGING / MANIFEST["server"]["entry_point"]
    done = subprocess.run(
        [sys.executable, str(entry), "--local=true", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "usage: avala-mcp serve" in done.stdout


def test_stage_holds_the_project_and_no_leftovers(tmp_path: Path) -> None:
    staged = stage(tmp_path / "bundle")
    files = {path.relative_to(staged).as_posix() for path in staged.rglob("*") if path.is_file()}
    assert {"manifest.json", "pyproject.toml", "README.md", "server/main.py"} <= files
    assert "avala_mcp/__init__.py" in files
    assert not [name for name in files if "__pycache__" in name or name.endswith(".pyc")]
    assert not [name for name in files if name.startswith(("tests/", "packaging/", ".venv/"))]
    assert json.loads((staged / "manifest.json").read_text()) == MANIFEST


def test_the_bundle_folder_ignores_node_modules() -> None:
    assert "node_modules/" in (PACKAGING / ".gitignore").read_text().split()


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_staged_bundle_starts_under_uv(tmp_path: Path) -> None:
    """What the host does after unpacking: run the manifest's command line, and talk to it."""
    uv = uv_tool("uv")
    if uv is None:
        pytest.skip("uv is not installed")
    staged = stage(tmp_path / "bundle")
    config = MANIFEST["server"]["mcp_config"]
    args = [arg.replace("${__dirname}", str(staged)) for arg in config["args"]]
    # This interpreter, so that uv downloads no Python.
    args[args.index("run") + 1 : args.index("run") + 1] = ["--python", sys.executable]
    entry = args.index(MANIFEST["server"]["entry_point"])
    # First the environment, which is where a missing network shows (the test is then skipped).
    run_uv([str(uv), *args[:entry], "python", "-c", "import avala_mcp"], tmp_path)
    params = StdioServerParameters(
        command=str(uv),
        args=[*args[: entry + 1], *_host_args({"local": True, "read_only": True})],
        env={**uv_environment(tmp_path), "AVALA_API_KEY": ""},
    )
    with (tmp_path / "stderr.log").open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
    assert "list_slices" in tools
    assert "create_slice" not in tools, "the read-only setting reached the server"
