"""An npm package's files, for the tools that cut GitHub's published descriptions down to what unroot uses."""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path
from typing import Any


def fetch_tarball(spec: str, into: Path) -> Path:
    """`npm pack SPEC` into a directory; return the tarball's path."""
    out = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(into)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return into / Path(json.loads(out)[0]["filename"]).name


def read_member(tarball: Path, member: str) -> Any:
    """The JSON document stored at MEMBER inside an npm tarball."""
    with tarfile.open(tarball, "r:gz") as tar:
        handle = tar.extractfile(member)
        if handle is None:
            raise SystemExit(f"{tarball}: no {member}")
        return json.load(handle)
