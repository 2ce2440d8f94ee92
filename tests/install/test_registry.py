"""``server.json``, the MCP Registry entry, against the registry's published schema and checks.

The schema is the registry's ``server.schema.json`` of 2025-12-11 (the ``$id`` inside it), the
version ``server.json`` names in its ``$schema``. Beyond the schema, the registry checks that a
PyPI package's README carries ``mcp-name: <name>``, which proves the publisher owns it.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

from avala_mcp import __version__
from avala_mcp.commands.bundle import TREE

SCHEMA_VERSION = "2025-12-11"
SCHEMA_FILE = (
    Path(__file__).parent / "schemas" / f"mcp-registry-server-{SCHEMA_VERSION}.schema.json"
)
SCHEMA: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())
SERVER: dict[str, Any] = json.loads((TREE / "server.json").read_text())
PROJECT: dict[str, Any] = tomllib.loads((TREE / "pyproject.toml").read_text())["project"]


def test_server_json_passes_the_published_schema() -> None:
    Draft7Validator.check_schema(SCHEMA)
    validator = Draft7Validator(SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER)
    errors = [f"{list(error.path)}: {error.message}" for error in validator.iter_errors(SERVER)]
    assert errors == []


def test_it_names_the_pinned_schema() -> None:
    assert SERVER["$schema"] == SCHEMA["$id"]
    assert f"/schemas/{SCHEMA_VERSION}/" in SCHEMA["$id"]


def test_the_registry_field_rules() -> None:
    """The rules that most often reject a publish, checked here by hand as well."""
    detail = SCHEMA["definitions"]["ServerDetail"]["properties"]
    assert re.fullmatch(detail["name"]["pattern"], SERVER["name"])
    assert SERVER["name"].count("/") == 1
    # A GitHub-authenticated publisher owns the io.github.<owner> namespace.
    assert SERVER["name"].startswith("io.github.")
    assert 1 <= len(SERVER["description"]) <= detail["description"]["maxLength"] == 100
    assert len(SERVER.get("title", "")) <= 100


def test_versions_follow_the_package() -> None:
    assert SERVER["version"] == __version__
    (package,) = SERVER["packages"]
    assert package["version"] == __version__
    assert not re.search(r"[\^~<>=*x]", package["version"]), "a pinned version, not a range"


def test_the_pypi_package_runs_with_uvx_over_stdio() -> None:
    (package,) = SERVER["packages"]
    assert package["registryType"] == "pypi"
    assert package["identifier"] == PROJECT["name"] == "avala-mcp"
    assert package["runtimeHint"] == "uvx"
    assert package["transport"] == {"type": "stdio"}
    assert [arg["value"] for arg in package["packageArguments"]] == ["serve"]


def test_the_api_key_is_a_secret() -> None:
    (package,) = SERVER["packages"]
    variables = {variable["name"]: variable for variable in package["environmentVariables"]}
    assert variables["AVALA_API_KEY"]["isSecret"] is True
    assert variables["AVALA_API_KEY"]["isRequired"] is True
    assert "value" not in variables["AVALA_API_KEY"]
    assert all(name.startswith("AVALA_") for name in variables)


def test_readme_carries_the_ownership_marker() -> None:
    readme = (TREE / PROJECT["readme"]).read_text()
    markers = re.findall(r"<!--\s*mcp-name:\s*(\S+)\s*-->", readme)
    assert markers == [SERVER["name"]]


def test_repository_agrees_with_the_package_metadata() -> None:
    assert SERVER["repository"]["url"] == PROJECT["urls"]["Repository"]
    owner = SERVER["repository"]["url"].removeprefix("https://github.com/").split("/")[0]
    assert SERVER["name"] == f"io.github.{owner}/{PROJECT['name']}"
