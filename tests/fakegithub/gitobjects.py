"""Git objects read the way GitHub's GraphQL API reads them: many at once with `git cat-file --batch`."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass

from ..gitrepo import GitError, GitRepo


@dataclass(frozen=True)
class RawGitObject:
    """One object as `git cat-file --batch` prints it."""

    oid: str
    type: str  # blob, tree, commit, tag
    data: bytes


_BATCH_HEADER = re.compile(rb"([0-9a-f]{40}|[0-9a-f]{64}) (blob|tree|commit|tag) (\d+)")


def _cat_file_batch(git: GitRepo, names: Sequence[str]) -> list[RawGitObject | None]:
    out = git.git_bytes("cat-file", "--batch", input="".join(f"{n}\n" for n in names).encode())
    found: list[RawGitObject | None] = []
    pos = 0
    for _ in names:
        end = out.index(b"\n", pos)
        m = _BATCH_HEADER.fullmatch(out[pos:end])
        pos = end + 1
        if m is None:  # "<name> missing" / "<name> ambiguous"
            found.append(None)
            continue
        size = int(m[3])
        found.append(RawGitObject(m[1].decode(), m[2].decode(), out[pos : pos + size]))
        pos += size + 1
    return found


def _plain_rev(name: str) -> bool:
    """Whether NAME is a revision GitHub could know: not the index (":path", ":0:path"), a reflog
    or upstream ("@{…}"), or a path relative to the working directory ("rev:./x", "rev:../x")."""
    if not name or any(c in name for c in "\n\r\0") or name.startswith(":") or "@{" in name:
        return False
    _, colon, path = name.partition(":")
    return not (colon and (path.startswith(("./", "../")) or path in (".", "..")))


def read_git_objects(git: GitRepo, names: Sequence[str]) -> list[RawGitObject | None]:
    """The objects that NAMES ("<rev>:<path>", "<rev>", an oid) resolve to in GIT, None where none does.

    One `git cat-file --batch` for all of them; should git give up on the whole batch (a path
    like "main:../x" is fatal to it), each name is read on its own.
    """
    usable = [n for n in names if _plain_rev(n)]
    found: dict[str, RawGitObject | None] = {}
    if usable:
        try:
            found = dict(zip(usable, _cat_file_batch(git, usable), strict=True))
        except (GitError, ValueError):
            for name in usable:
                try:
                    found[name] = _cat_file_batch(git, [name])[0]
                except (GitError, ValueError):
                    found[name] = None
    return [found.get(n) for n in names]


BLOB_TEXT_LIMIT = 512_000  # GraphQL Blob.text is cut at exactly 512,000 bytes (isTruncated: true)


def blob_text(data: bytes) -> tuple[bool, bool, str | None]:
    """(isBinary, isTruncated, text) of a blob as GitHub's GraphQL Blob reports it.

    Binary: a NUL byte anywhere, or not valid UTF-8. Text: the first BLOB_TEXT_LIMIT bytes
    (less the tail of a character the cut splits), null when binary.
    """
    truncated = len(data) > BLOB_TEXT_LIMIT
    if b"\0" in data:
        return True, truncated, None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return True, truncated, None
    if truncated:
        text = data[:BLOB_TEXT_LIMIT].decode("utf-8", errors="ignore")
    return False, truncated, text


class GitObjectReads:
    """Reads of one GraphQL object's git objects, batched: every name asked for before the
    first read starts goes into that one `git cat-file --batch`.

    graphql-core calls the resolvers of an object's fields (or of a list's items) one after
    the other before it awaits any of them, so get() must be called from the resolver
    itself, not from inside a coroutine: then a Repository's 50 aliased `object` fields, or
    a Tree's entries, cost one git process and one thread, as the bot's blob query needs.
    """

    def __init__(self, git: GitRepo) -> None:
        self._git = git
        self._waiting: list[str] = []
        self._found: dict[str, asyncio.Future[RawGitObject | None]] = {}

    def get(self, name: str) -> Awaitable[RawGitObject | None]:
        """The object NAME resolves to ("<rev>:<path>", "<rev>", an oid), None where none does."""
        if name not in self._found:
            self._found[name] = asyncio.get_running_loop().create_future()
            self._waiting.append(name)
        return self._read(name)

    async def _read(self, name: str) -> RawGitObject | None:
        if self._waiting:
            names, self._waiting = self._waiting, []
            try:
                found = await asyncio.to_thread(read_git_objects, self._git, names)
            except Exception as exc:  # every waiting field fails with it
                for each in names:
                    self._found[each].set_exception(exc)
            else:
                for each, obj in zip(names, found, strict=True):
                    self._found[each].set_result(obj)
        return await self._found[name]
