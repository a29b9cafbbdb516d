"""What a job reads of a commit: the calls GitHub's client answers, and so does a local git repository."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.github import Blob, Tree


class CommitReader(Protocol):
    """Reads files and listings at a commit of `repo` (GitHub's InstallationClient, or bot.review_local's git)."""

    async def tree(self, repo: str, sha: str, prefix: str = "") -> Tree:
        """Every regular file at commit (or tree) `sha`; `prefix` is a folder tree's path."""
        ...

    async def blobs(self, repo: str, sha: str, paths: Sequence[str]) -> dict[str, Blob | None]:
        """Facts and text of the files at a commit; None for a path with no file there."""
        ...

    async def file_bytes(self, repo: str, path: str, ref: str) -> bytes | None:
        """A regular file's bytes at `ref`; None when there is none."""
        ...

    async def directory_sha(self, repo: str, path: str, ref: str) -> str | None:
        """The git tree SHA of the folder `path` at `ref`; None when there is no such folder."""
        ...
