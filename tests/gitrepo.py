"""Real git repositories in temporary directories, built with the git CLI, for tests."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Usage:
#     repo = GitRepo.create(tmp_path / "app", {"Dockerfile": "FROM alpine\n"})   # commit on main
#     repo.branch("feature")                                   # from main's tip
#     sha = repo.commit({"Dockerfile": "FROM alpine\nUSER 1\n",  # text
#                        "logo.png": b"\x89PNG\0...",            # bytes (binary)
#                        "link": Symlink("Dockerfile"),           # symlink (mode 120000)
#                        "run.sh": Executable("#!/bin/sh\n"),     # mode 100755
#                        "old.txt": None},                        # delete
#                       "message", branch="feature", renames={"a.yaml": "b.yaml"})
#     repo.head("feature") -> sha; repo.merge("feature", "main") -> merge commit sha
# Commits are written with `git fast-import` (one process per commit, any size, any
# branch, no checkout needed); the working tree follows the checked-out branch.


@dataclass(frozen=True)
class Symlink:
    """A symbolic link to TARGET (stored by git with mode 120000)."""

    target: str


@dataclass(frozen=True)
class Executable:
    """A file with the executable bit (mode 100755)."""

    content: str | bytes


FileSpec = str | bytes | Symlink | Executable
GIT_IDENTITY = ("unroot tests", "tests@unroot.invalid")


def git_env() -> dict[str, str]:
    """An environment that makes git ignore the machine's and the user's configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME=GIT_IDENTITY[0],
        GIT_AUTHOR_EMAIL=GIT_IDENTITY[1],
        GIT_COMMITTER_NAME=GIT_IDENTITY[0],
        GIT_COMMITTER_EMAIL=GIT_IDENTITY[1],
        GIT_TERMINAL_PROMPT="0",
        LC_ALL="C",
    )
    return env


def git_command(*args: str) -> list[str]:
    """A git command line with the settings every test git call needs."""
    return [
        "git",
        "-c", f"user.name={GIT_IDENTITY[0]}",
        "-c", f"user.email={GIT_IDENTITY[1]}",
        "-c", "init.defaultBranch=main",
        "-c", "commit.gpgsign=false",
        "-c", "tag.gpgsign=false",
        "-c", "core.autocrlf=false",
        "-c", "core.quotepath=false",
        "-c", "core.symlinks=true",
        "-c", "protocol.file.allow=always",
        "-c", "advice.detachedHead=false",
        *args,
    ]  # fmt: skip


def run_git(cwd: Path, *args: str, input: bytes | None = None) -> bytes:
    """Run git in CWD; return stdout; raise with git's stderr on failure."""
    proc = subprocess.run(git_command(*args), cwd=cwd, input=input, capture_output=True, env=git_env(), check=False)
    if proc.returncode != 0:
        raise GitError(f"git {' '.join(args)} (in {cwd}) failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


class GitError(RuntimeError):
    """A git command failed."""


def _blob(spec: FileSpec) -> tuple[str, bytes]:
    """(mode, bytes) of a file spec."""
    if isinstance(spec, Symlink):
        return "120000", spec.target.encode()
    if isinstance(spec, Executable):
        data = spec.content
        return "100755", data.encode() if isinstance(data, str) else data
    return "100644", spec.encode() if isinstance(spec, str) else spec


def _quote(path: str) -> str:
    """A path as fast-import expects it (C-style quoted when needed)."""
    if not any(c in path for c in '"\\\n') and not path.startswith('"') and path == path.strip(" "):
        return path
    escaped = path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class GitRepo:
    """A non-bare git repository on disk; branches and commits made without touching other state."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(
        cls,
        path: Path,
        files: Mapping[str, FileSpec] | None = None,
        *,
        message: str = "initial commit",
        branch: str = "main",
    ) -> GitRepo:
        """`git init` PATH (created if needed); commit FILES on BRANCH when given."""
        path.mkdir(parents=True, exist_ok=True)
        run_git(path, "init", "-q", f"--initial-branch={branch}")
        repo = cls(path)
        if files is not None:
            repo.commit(files, message, branch=branch)
        return repo

    def git(self, *args: str, input: bytes | None = None) -> str:
        """Run a git command in this repository; stdout as text."""
        return run_git(self.path, *args, input=input).decode("utf-8", errors="replace")

    def git_bytes(self, *args: str, input: bytes | None = None) -> bytes:
        """Run a git command in this repository; stdout as bytes."""
        return run_git(self.path, *args, input=input)

    def checked_out(self) -> str | None:
        """The branch HEAD points at (None when detached)."""
        proc = subprocess.run(
            git_command("symbolic-ref", "-q", "--short", "HEAD"),
            cwd=self.path,
            capture_output=True,
            env=git_env(),
            check=False,
        )
        return proc.stdout.decode().strip() or None

    def has_ref(self, ref: str) -> bool:
        """Whether REF resolves to a commit."""
        proc = subprocess.run(
            git_command("rev-parse", "-q", "--verify", f"{ref}^{{commit}}"),
            cwd=self.path,
            capture_output=True,
            env=git_env(),
            check=False,
        )
        return proc.returncode == 0

    def head(self, branch: str = "main") -> str:
        """The commit SHA at the tip of BRANCH (or of any rev)."""
        return self.git("rev-parse", "--verify", f"{branch}^{{commit}}").strip()

    def branches(self) -> list[str]:
        """Local branch names."""
        return self.git("for-each-ref", "--format=%(refname:short)", "refs/heads/").split()

    def branch(self, name: str, from_: str = "main") -> str:
        """Create (or move) branch NAME at FROM_ (branch or SHA); return its SHA."""
        sha = self.head(from_)
        self.git("update-ref", f"refs/heads/{name}", sha)
        return sha

    def checkout(self, branch: str) -> None:
        """Check BRANCH out in the working tree (discarding local changes)."""
        self.git("checkout", "-q", "-f", branch)

    def commit(
        self,
        files: Mapping[str, FileSpec | None],
        message: str = "change",
        *,
        branch: str = "main",
        renames: Mapping[str, str] | None = None,
        parent: str | None = None,
        date: int | None = None,
    ) -> str:
        """Commit on BRANCH: write FILES (None deletes), apply RENAMES {old: new}; return the new SHA.

        The parent is BRANCH's tip (or PARENT when given; a new branch without PARENT starts
        a root commit). DATE (unix seconds) pins author and committer dates.
        """
        ref = f"refs/heads/{branch}"
        base = self.head(parent) if parent is not None else (self.head(branch) if self.has_ref(ref) else None)
        when = f"{date if date is not None else int(time.time())} +0000"
        msg = message.encode()
        stream = bytearray()
        stream += f"commit {ref}\n".encode()
        stream += f"author {GIT_IDENTITY[0]} <{GIT_IDENTITY[1]}> {when}\n".encode()
        stream += f"committer {GIT_IDENTITY[0]} <{GIT_IDENTITY[1]}> {when}\n".encode()
        stream += f"data {len(msg)}\n".encode() + msg + b"\n"
        if base is not None:
            stream += f"from {base}\n".encode()
        for old, new in (renames or {}).items():
            stream += f"R {_quote(old)} {_quote(new)}\n".encode()
        for path, spec in files.items():
            if spec is None:
                stream += f"D {_quote(path)}\n".encode()
                continue
            mode, data = _blob(spec)
            stream += f"M {mode} inline {_quote(path)}\n".encode()
            stream += f"data {len(data)}\n".encode() + data + b"\n"
        stream += b"done\n"
        run_git(self.path, "fast-import", "--quiet", "--done", "--force", input=bytes(stream))
        self._sync_worktree(branch)
        return self.head(branch)

    def merge(self, into: str, other: str, message: str | None = None) -> str:
        """Merge OTHER into branch INTO (a real two-parent merge commit); return its SHA.

        Raises GitError on conflicts.
        """
        ours, theirs = self.head(into), self.head(other)
        tree = self.git("merge-tree", "--write-tree", ours, theirs).split("\n", 1)[0].strip()
        sha = self.git(
            "commit-tree", tree, "-p", ours, "-p", theirs, "-m", message or f"Merge {other} into {into}"
        ).strip()
        self.git("update-ref", f"refs/heads/{into}", sha, ours)
        self._sync_worktree(into)
        return sha

    def fetch(self, source: GitRepo | Path, refspec: str) -> None:
        """`git fetch SOURCE REFSPEC` (e.g. "+refs/heads/x:refs/pull/1/head")."""
        src = source.path if isinstance(source, GitRepo) else source
        self.git("fetch", "-q", "--no-tags", str(src), refspec)

    def merge_base(self, a: str, b: str) -> str:
        """The best common ancestor of A and B."""
        return self.git("merge-base", a, b).strip()

    def read(self, path: str, ref: str = "main") -> bytes:
        """The bytes of PATH at REF."""
        return self.git_bytes("cat-file", "blob", f"{ref}:{path}")

    def ls(self, ref: str = "main") -> list[str]:
        """All file paths at REF."""
        return [p for p in self.git_bytes("ls-tree", "-r", "-z", "--name-only", ref).decode().split("\0") if p]

    def log(self, ref: str = "main") -> Sequence[str]:
        """Commit SHAs reachable from REF, newest first."""
        return self.git("rev-list", ref).split()

    def _sync_worktree(self, branch: str) -> None:
        """Keep the working tree equal to the checked-out branch after a ref moved under it."""
        if self.checked_out() == branch:
            self.git("reset", "-q", "--hard", branch)
