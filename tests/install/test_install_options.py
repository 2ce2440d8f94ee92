"""``avala-mcp install``'s choices, its key handling, its refusals, and the entry it writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import canaries
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from avala_mcp.cli import main
from avala_mcp.commands.install import (
    KEY_PLACEHOLDER,
    KEY_SHOWN_AS,
    SERVER_NAME,
    Launcher,
    find_launcher,
)

KEY = canaries.API_KEY
SCRIPT = Path(sys.executable).with_name("avala-mcp")


def run(*argv: str) -> int:
    return main(list(argv))


def entry_in(config: Path, key: str = "mcpServers") -> dict[str, object]:
    entry: dict[str, object] = json.loads(config.read_text())[key][SERVER_NAME]
    return entry


@pytest.mark.parametrize(
    ("flags", "args"),
    [
        ((), ["serve"]),
        (("--local",), ["serve", "--local"]),
        (("--read-only",), ["serve", "--read-only"]),
        (("--local", "--read-only"), ["serve", "--local", "--read-only"]),
    ],
)
def test_flags_choose_the_entry(flags: tuple[str, ...], args: list[str], tmp_path: Path) -> None:
    config = tmp_path / "mcp.json"
    assert run("install", "cursor", "--config", str(config), *flags) == 0
    entry = entry_in(config)
    assert entry["command"] == str(SCRIPT)
    assert entry["args"] == args
    if "--local" in flags:
        assert "env" not in entry, "the embedded API needs no key"


def test_switching_choices_updates_our_entry_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "mcp.json"
    assert run("install", "windsurf", "--config", str(config)) == 0
    assert run("install", "windsurf", "--config", str(config), "--read-only") == 0
    assert "updated the avala server in" in capsys.readouterr().out
    assert entry_in(config)["args"] == ["serve", "--read-only"]
    backup = json.loads(config.with_name("mcp.json.bak").read_text())
    assert backup["mcpServers"][SERVER_NAME]["args"] == ["serve"]


def test_with_key_writes_the_key_and_never_prints_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AVALA_API_KEY", KEY)
    config = tmp_path / "claude_desktop_config.json"
    assert run("install", "claude-desktop", "--config", str(config), "--with-key") == 0
    assert entry_in(config)["env"] == {"AVALA_API_KEY": KEY}
    assert run("install", "claude-desktop", "--config", str(config), "--with-key") == 0
    installed = capsys.readouterr()
    assert "written from your environment (not shown)" in installed.out
    assert run("install", "claude-desktop", "--config", str(config), "--with-key", "--print") == 0
    printed = capsys.readouterr()
    masked = json.loads(printed.out)["mcpServers"][SERVER_NAME]["env"]["AVALA_API_KEY"]
    assert masked == KEY_SHOWN_AS
    assert "set in your environment; masked here" in printed.err
    for text in (installed.out, installed.err, printed.out, printed.err):
        assert KEY not in text


def test_without_with_key_the_environment_key_stays_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AVALA_API_KEY", KEY)
    config = tmp_path / "mcp.json"
    assert run("install", "cursor", "--config", str(config)) == 0
    assert KEY not in config.read_text()
    assert entry_in(config)["env"] == {"AVALA_API_KEY": KEY_PLACEHOLDER}
    out = capsys.readouterr().out
    assert f'the placeholder "{KEY_PLACEHOLDER}"' in out
    assert "--with-key" in out


def test_with_key_but_no_key_set_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AVALA_API_KEY", raising=False)
    config = tmp_path / "mcp.json"
    assert run("install", "cursor", "--config", str(config), "--with-key") == 0
    assert entry_in(config)["env"] == {"AVALA_API_KEY": KEY_PLACEHOLDER}
    assert "--with-key was given, but AVALA_API_KEY is not set" in capsys.readouterr().out


def test_a_malformed_key_is_refused_without_showing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AVALA_API_KEY", "two words-secret")
    config = tmp_path / "mcp.json"
    assert run("install", "cursor", "--config", str(config), "--with-key") == 1
    err = capsys.readouterr().err
    assert "AVALA_API_KEY is malformed" in err
    assert "secret" not in err
    assert not config.exists()


def test_a_key_pasted_by_hand_survives_a_new_install(tmp_path: Path) -> None:
    config = tmp_path / "mcp.json"
    assert run("install", "cursor", "--config", str(config)) == 0
    document = json.loads(config.read_text())
    document["mcpServers"][SERVER_NAME]["env"] = {"AVALA_API_KEY": KEY, "AVALA_MCP_OWNER": "acme"}
    document["mcpServers"][SERVER_NAME]["disabled"] = False
    config.write_text(json.dumps(document))
    assert run("install", "cursor", "--config", str(config), "--read-only") == 0
    entry = entry_in(config)
    assert entry["env"] == {"AVALA_API_KEY": KEY, "AVALA_MCP_OWNER": "acme"}
    assert entry["disabled"] is False
    assert entry["args"] == ["serve", "--read-only"]


def test_print_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "mcp.json"
    config.write_text("{ not json at all")
    assert run("install", "vscode", "--config", str(config), "--read-only", "--print") == 0
    assert config.read_text() == "{ not json at all"
    assert sorted(tmp_path.iterdir()) == [config]
    shown = capsys.readouterr()
    entry = json.loads(shown.out)["servers"][SERVER_NAME]
    assert entry["type"] == "stdio"
    assert entry["args"] == ["serve", "--read-only"]
    assert entry["env"] == {"AVALA_API_KEY": KEY_PLACEHOLDER}
    assert f"nothing was written; this entry goes in {config}" in shown.err


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ('{"mcpServers": ["avala"]}', 'the top-level "mcpServers" is not a JSON object'),
        ('{"mcpServers": null}', 'the top-level "mcpServers" is not a JSON object'),
        ("[1, 2]", "the top level is not a JSON object"),
        ('"text"', "the top level is not a JSON object"),
    ],
)
def test_a_file_of_the_wrong_shape_is_left_untouched(
    text: str, what: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "mcp.json"
    config.write_text(text)
    assert run("install", "cursor", "--config", str(config)) == 1
    err = capsys.readouterr().err
    assert err == f"avala-mcp: {config}: {what}; nothing was changed\n"
    assert config.read_text() == text


def test_an_empty_file_is_an_empty_configuration(tmp_path: Path) -> None:
    config = tmp_path / "mcp.json"
    config.write_text("\n")
    assert run("install", "cursor", "--local", "--config", str(config)) == 0
    assert list(json.loads(config.read_text())) == ["mcpServers"]


def test_a_path_through_a_file_gives_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    config = blocker / "mcp.json"
    assert run("install", "cursor", "--config", str(config)) == 1
    err = capsys.readouterr().err
    assert err == f"avala-mcp: cannot read {config}: Not a directory\n"
    assert blocker.read_text() == ""


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux's /sys")
def test_a_folder_that_cannot_be_made_gives_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    # Not even root may make a folder at the top of /sys.
    config = Path("/sys/avala-mcp-test/mcp.json")
    assert run("install", "cursor", "--config", str(config)) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"avala-mcp: cannot write {config}: ")
    assert err.endswith("; the file was not changed\n")
    assert err.count("\n") == 1
    assert not config.parent.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder")
def test_an_unwritable_folder_gives_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    config = folder / "mcp.json"
    config.write_text("{}")
    folder.chmod(0o500)
    try:
        assert run("install", "cursor", "--config", str(config)) == 1
    finally:
        folder.chmod(0o700)
    err = capsys.readouterr().err
    assert "Permission denied" in err
    assert err.count("\n") == 1
    assert config.read_text() == "{}"


def test_a_read_only_file_is_left_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "mcp.json"
    config.write_text("{}")
    config.chmod(0o444)
    if os.access(config, os.W_OK):
        pytest.skip("root may write a read-only file")
    assert run("install", "cursor", "--config", str(config)) == 1
    assert "the file is read-only" in capsys.readouterr().err
    assert config.read_text() == "{}"


def test_permissions_are_kept(tmp_path: Path) -> None:
    config = tmp_path / "mcp.json"
    config.write_text("{}")
    config.chmod(0o640)
    assert run("install", "cursor", "--config", str(config)) == 0
    assert config.stat().st_mode & 0o777 == 0o640
    assert config.with_name("mcp.json.bak").stat().st_mode & 0o777 == 0o640


def test_a_symlinked_file_stays_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "dotfiles" / "mcp.json"
    target.parent.mkdir()
    target.write_text('{"mcpServers": {}}')
    link = tmp_path / "mcp.json"
    link.symlink_to(target)
    assert run("install", "cursor", "--config", str(link)) == 0
    assert link.is_symlink()
    assert SERVER_NAME in json.loads(target.read_text())["mcpServers"]


def test_launcher_prefers_the_running_script(tmp_path: Path) -> None:
    script = tmp_path / "bin" / "avala-mcp"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    other = tmp_path / "other"
    other.mkdir()
    assert find_launcher(str(script), str(other), "/usr/bin/python3") == Launcher(str(script))
    # python -m avala_mcp: the console script of the same environment.
    assert find_launcher("-m", str(script.parent), "/usr/bin/python3") == Launcher(str(script))
    # No console script at all: this interpreter, with -m.
    assert find_launcher("-m", str(other), "/opt/py/bin/python3") == Launcher(
        "/opt/py/bin/python3", ("-m", "avala_mcp")
    )


@pytest.mark.parametrize(
    "argv",
    [[str(SCRIPT)], [sys.executable, "-m", "avala_mcp"]],
    ids=["console-script", "python-m"],
)
def test_entry_names_this_environment_script(argv: list[str], tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [*argv, "install", "claude-code", "--print"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    entry = json.loads(done.stdout)["mcpServers"][SERVER_NAME]
    assert entry == {
        "type": "stdio",
        "command": str(SCRIPT),
        "args": ["serve"],
        "env": entry["env"],
    }
    assert str(tmp_path / ".claude.json") in done.stderr
    assert not (tmp_path / ".claude.json").exists()


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_written_entry_starts_a_working_server(tmp_path: Path, mode: str) -> None:
    """What a client does with the entry: run it, without the shell's PATH, and talk to it."""
    config = tmp_path / "claude_desktop_config.json"
    db_path = tmp_path / "avala.db"
    assert run("install", "claude-desktop", "--local", "--read-only", "--config", str(config)) == 0
    entry = json.loads(config.read_text())["mcpServers"][SERVER_NAME]
    params = StdioServerParameters(
        command=entry["command"],
        args=[*entry["args"], "--db", str(db_path)],
        env={"HOME": str(tmp_path), "PATH": "/nonexistent"},
    )
    with (tmp_path / "stderr.log").open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode=mode) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
    assert "list_slices" in tools
    assert "create_slice" not in tools, "--read-only reached the server"
    assert db_path.is_file(), "--local reached the server"
