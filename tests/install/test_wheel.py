"""The built wheel, as a user gets it: installed into a fresh virtual environment (and run by
``uvx``), far from the source tree. Slow: it builds, resolves and installs for real."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from uv_runs import run_uv, uv_tool

from avala_mcp import __version__
from avala_mcp.commands.bundle import TREE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(TREE)],
        check=True,
        timeout=600,
    )
    (built,) = out.glob("avala_mcp-*.whl")
    return built


def _bin(environment: Path, name: str) -> Path:
    return environment / ("Scripts" if os.name == "nt" else "bin") / name


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def test_the_wheel_holds_the_package_and_its_metadata(wheel: Path) -> None:
    assert wheel.name == f"avala_mcp-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(f"avala_mcp-{__version__}.dist-info/METADATA").decode()
        entry_points = archive.read(f"avala_mcp-{__version__}.dist-info/entry_points.txt")
    assert "avala_mcp/py.typed" in names
    # Package data the server reads at start: the explorer app's HTML.
    assert "avala_mcp/server/explorer/explorer.html" in names
    assert not [name for name in names if name.startswith(("tests/", "packaging/"))]
    assert b"avala-mcp = avala_mcp.cli:main" in entry_points
    for line in (
        "Keywords: ",
        "Classifier: Programming Language :: Python :: 3.11",
        "Project-URL: Repository, https://github.com/avala-ai/avala-mcp",
        "mcp-name: io.github.avala-ai/avala-mcp",
    ):
        assert line in metadata, line


def test_a_fresh_venv_runs_version_and_demo(wheel: Path, tmp_path: Path) -> None:
    environment = tmp_path / "fresh"
    venv.create(environment, with_pip=True)
    python = str(_bin(environment, "python"))
    _run([python, "-m", "pip", "install", "--quiet", str(wheel)], cwd=tmp_path)
    script = str(_bin(environment, "avala-mcp"))
    env = {"PATH": f"{_bin(environment, '')}:/usr/bin:/bin", "HOME": str(tmp_path)}
    assert _run([script, "--version"], cwd=tmp_path, env=env).strip() == f"avala-mcp {__version__}"
    where = _run([python, "-c", "import avala_mcp; print(avala_mcp.__file__)"], tmp_path, env)
    assert Path(where.strip()).is_relative_to(environment), "the wheel, not the source tree"
    transcript = _run([script, "demo"], cwd=tmp_path, env=env)
    assert "All 7 steps behaved as expected." in transcript


def test_uvx_runs_the_wheel(wheel: Path, tmp_path: Path) -> None:
    uvx = uv_tool("uvx")
    if uvx is None:
        pytest.skip("uvx is not installed")
    argv = [str(uvx), "--python", sys.executable, "--from", str(wheel), "avala-mcp", "--version"]
    assert run_uv(argv, tmp_path).strip() == f"avala-mcp {__version__}"
