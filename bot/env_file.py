"""The `.env` file the setup page writes the App's credentials to, and reads them back from, owner-only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

HEADER = "# The GitHub App's credentials, written by `unroot serve` (setup). Secret: keep this file mode 0600.\n"


class EnvFileExists(FileExistsError):
    """The file is there already; it is never overwritten (it may hold another App's key)."""


def _quoted(value: str) -> str:
    """A dotenv double-quoted value, newlines written as \\n (the settings turn them back, as dotenv does)."""
    if '"' in value or "\\" in value:
        raise ValueError("a credential with a quote or a backslash cannot be written to a dotenv file")
    return '"' + value.replace("\n", "\\n") + '"'


def write_new(path: Path, values: Mapping[str, str]) -> None:
    """Create PATH with VALUES, readable by its owner only from the first byte (O_EXCL, mode 0600)."""
    text = HEADER + "".join(f"{name}={_quoted(value)}\n" for name, value in values.items())
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise EnvFileExists(f"{path} exists already; move it away to register another App") from None
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())


def _unquoted(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1]  # \\n stays two characters: AppSettings turns them into the key's newlines
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1]
    return raw


def read(path: Path) -> dict[str, str]:
    """The NAME=value lines of a dotenv file (comments, blank lines and `export ` prefixes allowed)."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, raw = line.removeprefix("export ").split("=", 1)
        values[name.strip()] = _unquoted(raw.strip())
    return values
