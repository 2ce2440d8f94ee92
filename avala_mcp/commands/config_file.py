"""Editing a client's JSON configuration file without ever damaging it.

A file that is not valid JSON, or not shaped as expected, is refused and left as it is. A change
is written to a temporary file in the same folder and renamed over the old one, so a crash leaves
either the old file or the new one, never half of either; the old content is kept beside it as a
backup, with the file's permissions (such files often hold API keys).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BACKUP_SUFFIX = ".bak"
# A new file may soon hold an API key: readable by its owner only.
NEW_FILE_MODE = 0o600


class ConfigFileError(Exception):
    """A file we refuse to change or cannot write; the message is one line naming the file."""


@dataclass(frozen=True)
class JsonConfig:
    """A configuration file as read: its path, its text (None if absent) and its JSON object."""

    path: Path
    text: str | None
    document: dict[str, Any]

    @property
    def exists(self) -> bool:
        return self.text is not None


def read_config(path: Path) -> JsonConfig:
    """The file's JSON object (empty if the file is absent or blank), or a ConfigFileError."""
    try:
        # utf-8-sig: Windows editors may begin the file with a byte-order mark.
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return JsonConfig(path, None, {})
    except UnicodeDecodeError:
        raise ConfigFileError(f"{path}: not UTF-8 text; nothing was changed") from None
    except OSError as error:
        raise ConfigFileError(f"cannot read {path}: {_reason(error)}") from None
    if not text.strip():
        return JsonConfig(path, text, {})
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigFileError(
            f"{path}: not valid JSON at line {error.lineno}, column {error.colno} "
            f"({error.msg}); fix it there, nothing was changed"
        ) from None
    if not isinstance(document, dict):
        raise ConfigFileError(f"{path}: the top level is not a JSON object; nothing was changed")
    return JsonConfig(path, text, document)


def write_config(config: JsonConfig, document: dict[str, Any]) -> Path | None:
    """Replace the file's content with ``document``; returns the backup's path, if one was made.

    The folder is created when missing. A symbolic link (a dotfiles checkout, say) is followed,
    so the link stays and its target changes.
    """
    target = Path(os.path.realpath(config.path)) if config.path.is_symlink() else config.path
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if config.exists and not os.access(target, os.W_OK):
            raise ConfigFileError(
                f"cannot write {target}: the file is read-only; nothing was changed"
            )
        mode = stat.S_IMODE(target.stat().st_mode) if config.exists else NEW_FILE_MODE
        backup = None
        if config.text is not None:
            backup = target.with_name(target.name + BACKUP_SUFFIX)
            _replace_atomically(backup, config.text, mode)
        _replace_atomically(target, text, mode)
    except OSError as error:
        raise ConfigFileError(
            f"cannot write {target}: {_reason(error)}; the file was not changed"
        ) from None
    return backup


def _replace_atomically(path: Path, text: str, mode: int) -> None:
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__
