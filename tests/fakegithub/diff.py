"""Diffs as GitHub's files lists describe them, from real `git diff`, and the hunks of a `patch` string."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..gitrepo import GitRepo


@dataclass(frozen=True)
class DiffLine:
    """One line of a patch: kind ' ', '+', '-' or '\\'; old/new line numbers; diff position."""

    kind: str
    old: int | None
    new: int | None
    position: int
    text: str


@dataclass(frozen=True)
class Hunk:
    """A hunk of a file's patch, with its header's own position (0 for the first hunk)."""

    header: str
    header_position: int
    lines: tuple[DiffLine, ...]

    def side_lines(self, side: str) -> set[int]:
        """Line numbers a comment may target on SIDE ("RIGHT": added/context, "LEFT": removed/context)."""
        if side == "LEFT":
            return {ln.old for ln in self.lines if ln.kind in " -" and ln.old is not None}
        return {ln.new for ln in self.lines if ln.kind in " +" and ln.new is not None}

    def line_at(self, side: str, number: int) -> DiffLine | None:
        """The diff line for line NUMBER on SIDE."""
        for ln in self.lines:
            if side == "LEFT" and ln.kind in " -" and ln.old == number:
                return ln
            if side != "LEFT" and ln.kind in " +" and ln.new == number:
                return ln
        return None


HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def parse_patch(patch: str) -> list[Hunk]:
    """The hunks of a GitHub `patch` string (hunks only, no file headers)."""
    hunks: list[Hunk] = []
    header = ""
    header_pos = 0
    lines: list[DiffLine] = []
    old = new = 0
    position = -1
    for text in patch.split("\n"):
        m = HUNK_HEADER.match(text)
        if m:
            if header:
                hunks.append(Hunk(header, header_pos, tuple(lines)))
            position += 1
            header, header_pos, lines = text, position, []
            old, new = int(m.group(1)), int(m.group(3))
            continue
        if not header:
            continue
        position += 1
        kind = text[:1] or " "
        if kind == "+":
            lines.append(DiffLine("+", None, new, position, text))
            new += 1
        elif kind == "-":
            lines.append(DiffLine("-", old, None, position, text))
            old += 1
        elif kind == "\\":
            lines.append(DiffLine("\\", None, None, position, text))
        else:
            lines.append(DiffLine(" ", old, new, position, text))
            old += 1
            new += 1
    if header:
        hunks.append(Hunk(header, header_pos, tuple(lines)))
    return hunks


@dataclass(frozen=True)
class DiffFile:
    """One changed file between two commits, as GitHub's files lists describe it."""

    filename: str
    status: str
    previous_filename: str | None
    additions: int
    deletions: int
    sha: str
    old_sha: str
    old_mode: str
    new_mode: str
    patch: str | None
    binary: bool

    def hunks(self) -> list[Hunk]:
        """Parsed hunks of the patch (none when the patch is omitted)."""
        return parse_patch(self.patch) if self.patch else []


STATUS = {"A": "added", "D": "removed", "M": "modified", "R": "renamed", "C": "copied", "T": "changed"}


def _hunks_of(section: bytes) -> str | None:
    """The hunks of one file's `git diff` output (all its "diff --git" sections), or None if binary."""
    if re.search(rb"(?m)^(Binary files |GIT binary patch)", section):
        return None
    parts = [p[p.find(b"\n@@ ") + 1 :] for p in re.split(rb"(?m)^(?=diff --git )", section) if b"\n@@ " in p]
    return b"".join(parts).decode("utf-8", errors="replace").removesuffix("\n")


def diff_files(git: GitRepo, base: str, head: str, *, max_patch_chars: int) -> list[DiffFile]:
    """The files changed from BASE to HEAD, from real `git diff` (rename detection on)."""
    opts = ("-M", "--no-color", "--no-ext-diff", "--ignore-submodules=none")
    raw = git.git_bytes("diff", "--raw", "-z", "--no-abbrev", *opts, base, head).split(b"\0")
    numstat = git.git_bytes("diff", "--numstat", "-z", *opts, base, head).split(b"\0")
    patch = git.git_bytes("diff", "--patch", "-U3", "--full-index", *opts, base, head)
    sections = [s for s in re.split(rb"(?m)^(?=diff --git )", patch) if s.startswith(b"diff --git ")]

    counts: list[tuple[int, int]] = []
    i = 0
    while i < len(numstat) and numstat[i]:
        added, deleted, path = numstat[i].decode().split("\t", 2)
        i += 3 if path == "" else 1  # a rename: the two paths follow as their own fields
        counts.append((int(added) if added != "-" else 0, int(deleted) if deleted != "-" else 0))

    entries: list[tuple[str, str, str, str, str, str | None, str]] = []
    i = 0
    while i < len(raw) and raw[i].startswith(b":"):
        old_mode, new_mode, old_sha, new_sha, code = raw[i][1:].decode().split(" ")
        if code[0] in "RC":
            entries.append((old_mode, new_mode, old_sha, new_sha, code[0], raw[i + 1].decode(), raw[i + 2].decode()))
            i += 3
        else:
            entries.append((old_mode, new_mode, old_sha, new_sha, code[0], None, raw[i + 1].decode()))
            i += 2

    # git prints one "diff --git" section per entry, except a type change (file <-> symlink),
    # printed as a removal and an addition. Should that ever not line up, diff file by file.
    takes = [2 if e[4] == "T" else 1 for e in entries]
    per_entry: list[bytes] = []
    if sum(takes) == len(sections) and len(counts) == len(entries):
        at = 0
        for take in takes:
            per_entry.append(b"".join(sections[at : at + take]))
            at += take
    else:
        for e in entries:
            paths = [p for p in (e[5], e[6]) if p is not None]
            per_entry.append(
                git.git_bytes("--literal-pathspecs", "diff", "--patch", "--full-index", *opts, base, head, "--", *paths)
            )

    out: list[DiffFile] = []
    for n, (old_mode, new_mode, old_sha, new_sha, letter, previous, filename) in enumerate(entries):
        text = per_entry[n]
        binary = bool(re.search(rb"(?m)^(Binary files |GIT binary patch)", text))
        body = _hunks_of(text) or None
        if body is not None and len(body) > max_patch_chars:
            body = None
        additions, deletions = counts[n] if n < len(counts) else (0, 0)
        out.append(
            DiffFile(
                filename=filename,
                status=STATUS.get(letter, "modified"),
                previous_filename=previous,
                additions=additions,
                deletions=deletions,
                sha=new_sha if letter != "D" else old_sha,
                old_sha=old_sha,
                old_mode=old_mode,
                new_mode=new_mode,
                patch=body,
                binary=binary,
            )
        )
    return out
