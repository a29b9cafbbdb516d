"""The sample pull request `unroot review --sample` shows: a throw-away git repository made from files the package ships."""

from __future__ import annotations

import os
import subprocess
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

SAMPLE_BRANCH = "containerise"
# Fixed names and dates: the sample's commits, and so its review, are the same on every machine.
_IDENTITY = {
    "GIT_AUTHOR_NAME": "unroot sample",
    "GIT_AUTHOR_EMAIL": "sample@unroot.invalid",
    "GIT_COMMITTER_NAME": "unroot sample",
    "GIT_COMMITTER_EMAIL": "sample@unroot.invalid",
    "GIT_AUTHOR_DATE": "2025-01-01T12:00:00+0000",
    "GIT_COMMITTER_DATE": "2025-01-01T12:00:00+0000",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def sample_files() -> Traversable:
    """The sample's folder in the installed package: `base/` is the first commit, `head/` what the pull request adds."""
    return files("bot").joinpath("sample")


def _copy(source: Traversable, target: Path) -> None:
    for entry in source.iterdir():
        if entry.is_dir():
            (target / entry.name).mkdir(exist_ok=True)
            _copy(entry, target / entry.name)
        else:
            (target / entry.name).write_bytes(entry.read_bytes())


def _git(root: Path, *args: str) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")} | _IDENTITY
    subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false", *args],
        cwd=root,
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )


def make_sample_repository(root: Path) -> None:
    """A repository in the empty folder `root`: `main` with the base files, and the branch
    SAMPLE_BRANCH (checked out) with one commit adding a Dockerfile and a Deployment."""
    sample = sample_files()
    _git(root, "init", "-q", "--initial-branch=main")
    _copy(sample.joinpath("base"), root)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "A small web service")
    _git(root, "checkout", "-q", "-b", SAMPLE_BRANCH)
    _copy(sample.joinpath("head"), root)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "Containerise the app: a Dockerfile and a Deployment")
