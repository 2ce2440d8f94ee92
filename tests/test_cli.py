"""The command line's own surface: help, version and argument checks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from avala_mcp import __version__
from avala_mcp.cli import build_parser, main


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"avala-mcp {__version__}"


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("serve", "api", "demo", "import"):
        assert command in out


def test_module_entry_point_matches_console_script() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "avala_mcp", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"avala-mcp {__version__}"


@pytest.mark.parametrize(
    "argv",
    [
        ["api", "--rate-limit", "0"],
        ["api", "--rate-limit", "many"],
        ["serve", "--transport", "websocket"],
        ["import", "items.jsonl"],
        ["bogus"],
    ],
)
def test_bad_arguments_are_refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], ["serve"]),
        (["--local"], ["serve", "--local"]),
        (["--read-only", "--transport", "sse"], ["serve", "--read-only", "--transport", "sse"]),
    ],
)
def test_serve_is_the_default_command(
    argv: list[str], expected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import avala_mcp.commands.serve

    seen: list[object] = []
    monkeypatch.setattr(
        avala_mcp.commands.serve, "serve_command", lambda args: seen.append(args) or 0
    )
    assert main(argv) == 0
    assert seen == [build_parser().parse_args(expected)]
