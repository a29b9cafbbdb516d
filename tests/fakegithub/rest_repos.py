"""REST: repositories, pull requests, their files, compare, contents and blobs."""

from __future__ import annotations

import asyncio
import posixpath
import re
from typing import Any, cast

from ..gitrepo import GitError
from .backend import GitHubState
from .common import (
    BLOB_LIMIT,
    CONTENTS_LIMIT,
    HTML_ROOT,
    MAX_COMPARE_COMMITS,
    MAX_COMPARE_FILES,
    MAX_PR_FILES,
    b64,
    int_or,
    node_id,
)
from .replies import Ctx, Reply, error, not_found, page
from .shapes import commit_json, content_links, file_json, pull_json, repo_json
from .state import FakeRepo, PullRequest


async def get_repo(gh: GitHubState, ctx: Ctx) -> Reply:
    return Reply(200, repo_json(gh, ctx.api, cast(FakeRepo, ctx.repo), full=True))


def ctx_pull(gh: GitHubState, ctx: Ctx) -> PullRequest | None:
    repo = cast(FakeRepo, ctx.repo)
    return gh.pulls.get((repo.full_name, int_or(ctx.params["pull_number"], -1)))


async def get_pull(gh: GitHubState, ctx: Ctx) -> Reply:
    repo = cast(FakeRepo, ctx.repo)
    pr = ctx_pull(gh, ctx)
    if pr is None:
        return not_found()
    files = await gh.pull_diff(repo, pr)
    base = await asyncio.to_thread(repo.git.merge_base, pr.base_sha, pr.head_sha)
    commits = int(repo.git.git("rev-list", "--count", f"{base}..{pr.head_sha}").strip())
    return Reply(200, pull_json(gh, ctx.api, pr, files, commits))


async def list_files(gh: GitHubState, ctx: Ctx) -> Reply:
    repo = cast(FakeRepo, ctx.repo)
    pr = ctx_pull(gh, ctx)
    if pr is None:
        return not_found()
    files = (await gh.pull_diff(repo, pr))[:MAX_PR_FILES]
    chunk, headers = page(ctx, files)
    return Reply(200, [file_json(gh, ctx.api, repo, pr.head_sha, f) for f in chunk], headers)


def compare_ref(gh: GitHubState, repo: FakeRepo, spec: str) -> str | None:
    """A compare endpoint side: "ref", "sha" or "owner:ref" (a branch of a fork in the network)."""
    if ":" in spec:
        owner, ref = spec.split(":", 1)
        if owner.lower() != repo.owner.lower():
            other = next(
                (
                    r
                    for r in gh.repos.values()
                    if r.owner.lower() == owner.lower()
                    and (r.fork_of == repo.full_name or repo.fork_of == r.full_name or r.fork_of == repo.fork_of)
                ),
                None,
            )
            if other is None:
                return None
            try:
                repo.git.fetch(other.git, f"+refs/heads/{ref}:refs/fake-network/{owner}/{ref}")
            except GitError:
                return None
            return gh.resolve(repo, f"refs/fake-network/{owner}/{ref}")
        spec = ref
    return gh.resolve(repo, spec)


async def compare(gh: GitHubState, ctx: Ctx) -> Reply:
    repo = cast(FakeRepo, ctx.repo)
    basehead = ctx.params["basehead"]
    three = "..." in basehead
    if not three and ".." not in basehead:
        return not_found()
    base_spec, head_spec = basehead.split("..." if three else "..", 1)
    base = compare_ref(gh, repo, base_spec)
    head = compare_ref(gh, repo, head_spec)
    if base is None or head is None:
        return not_found()
    try:
        merge_base = await asyncio.to_thread(repo.git.merge_base, base, head)
    except GitError:
        return error(404, f"No common ancestor between {base_spec} and {head_spec}.")
    files = (await gh.diff(repo, merge_base if three else base, head))[:MAX_COMPARE_FILES]
    ahead = repo.git.git("rev-list", "--reverse", f"{base}..{head}").split()
    behind = int(repo.git.git("rev-list", "--count", f"{head}..{base}").strip())
    paged = "page" in ctx.query or "per_page" in ctx.query
    headers: dict[str, str] = {}
    if paged:
        commits, headers = page(ctx, ahead)
        number = max(1, int_or(ctx.query.get("page"), 1))
    else:
        commits, number = ahead[-MAX_COMPARE_COMMITS:], 1
    status = (
        "identical" if not ahead and not behind else "ahead" if not behind else "behind" if not ahead else "diverged"
    )
    url = f"{ctx.api}/repos/{repo.full_name}/compare/{basehead}"
    html = f"{HTML_ROOT}/{repo.full_name}/compare/{basehead}"
    body: dict[str, Any] = {
        "url": url,
        "html_url": html,
        "permalink_url": f"{HTML_ROOT}/{repo.full_name}/compare/{base}...{head}",
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "base_commit": commit_json(gh, ctx.api, repo, base),
        "merge_base_commit": commit_json(gh, ctx.api, repo, merge_base),
        "status": status,
        "ahead_by": len(ahead),
        "behind_by": behind,
        "total_commits": len(ahead),
        "commits": [commit_json(gh, ctx.api, repo, sha) for sha in commits],
    }
    if number == 1:
        body["files"] = [file_json(gh, ctx.api, repo, head, f) for f in files]
    return Reply(200, body, headers)


def tree_entry(repo: FakeRepo, sha: str, path: str) -> tuple[str, str, str, int] | None:
    """(mode, type, object sha, size) of PATH at commit SHA."""
    out = repo.git.git_bytes("--literal-pathspecs", "ls-tree", "-z", "--long", sha, "--", path)
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, name = record.split(b"\t", 1)
        if name.decode() != path:
            continue
        mode, kind, obj, size = meta.decode().split()
        return mode, kind, obj, int(size) if size.isdigit() else 0
    return None


async def get_contents(gh: GitHubState, ctx: Ctx) -> Reply:
    repo = cast(FakeRepo, ctx.repo)
    path = ctx.params.get("path", "").strip("/")
    ref = ctx.query.get("ref") or repo.default_branch
    sha = gh.resolve(repo, ref)
    if sha is None:
        return error(404, f"No commit found for the ref {ref}")
    if path == "":
        return await list_dir(gh, ctx, repo, sha, ref, "")
    entry = await asyncio.to_thread(tree_entry, repo, sha, path)
    if entry is None:
        return not_found()
    mode, kind, obj, size = entry
    if kind == "tree":
        return await list_dir(gh, ctx, repo, sha, ref, path)
    if kind == "commit":
        return Reply(
            200,
            {
                "type": "submodule",
                "submodule_git_url": "",
                "size": 0,
                "name": path.rsplit("/", 1)[-1],
                "path": path,
                "sha": obj,
                **content_links(gh, ctx.api, repo, path, ref, "submodule", obj),
            },
        )
    if mode == "120000":
        target = repo.git.git_bytes("cat-file", "blob", obj).decode("utf-8", errors="replace")
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
        followed = None
        if not target.startswith("/") and not resolved.startswith("../") and resolved != "..":
            followed = await asyncio.to_thread(tree_entry, repo, sha, resolved)
        if followed is not None and followed[1] == "blob" and followed[0] in ("100644", "100755"):
            path, (mode, kind, obj, size) = resolved, followed
        else:
            return Reply(
                200,
                {
                    "type": "symlink",
                    "target": target,
                    "size": size,
                    "name": path.rsplit("/", 1)[-1],
                    "path": path,
                    "sha": obj,
                    **content_links(gh, ctx.api, repo, path, ref, "symlink", obj),
                },
            )
    if ctx.media("raw"):
        data = await asyncio.to_thread(repo.git.git_bytes, "cat-file", "blob", obj)
        return Reply(200, raw=data, content_type="application/vnd.github.raw")
    if size > CONTENTS_LIMIT and (gh.contents_too_large_403 and not ctx.media("object")):
        return error(
            403,
            "This API returns blobs up to 1 MB in size. The requested blob is too large to fetch via the API, "
            "but you can use the Git Data API to request blobs up to 100 MB in size.",
            errors=[{"resource": "Blob", "field": "data", "code": "too_large"}],
        )
    if size > BLOB_LIMIT:
        return error(403, "This API returns blobs up to 100 MB in size.", errors=[{"code": "too_large"}])
    if size > CONTENTS_LIMIT:
        content, encoding = "", "none"
    else:
        content = b64(await asyncio.to_thread(repo.git.git_bytes, "cat-file", "blob", obj))
        encoding = "base64"
    return Reply(
        200,
        {
            "type": "file",
            "encoding": encoding,
            "size": size,
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "content": content,
            "sha": obj,
            **content_links(gh, ctx.api, repo, path, ref, "file", obj),
        },
    )


async def list_dir(gh: GitHubState, ctx: Ctx, repo: FakeRepo, sha: str, ref: str, path: str) -> Reply:
    spec = f"{sha}:{path}" if path else sha
    out = await asyncio.to_thread(repo.git.git_bytes, "ls-tree", "-z", "--long", spec)
    entries = []
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, name = record.split(b"\t", 1)
        mode, kind, obj, size = meta.decode().split()
        full = f"{path}/{name.decode()}" if path else name.decode()
        type_ = "dir" if kind == "tree" else "symlink" if mode == "120000" else "file"
        entries.append(
            {
                "type": type_,
                "size": int(size) if size.isdigit() else 0,
                "name": name.decode(),
                "path": full,
                "sha": obj,
                **content_links(gh, ctx.api, repo, full, ref, type_, obj),
            }
        )
    return Reply(200, entries[:1000])


async def get_blob(gh: GitHubState, ctx: Ctx) -> Reply:
    repo = cast(FakeRepo, ctx.repo)
    sha = ctx.params["file_sha"]
    if not re.fullmatch(r"[0-9a-f]{40}", sha):
        return not_found()
    try:
        kind = repo.git.git("cat-file", "-t", sha).strip()
    except GitError:
        return not_found()
    if kind != "blob":
        return not_found()
    data = await asyncio.to_thread(repo.git.git_bytes, "cat-file", "blob", sha)
    if len(data) > BLOB_LIMIT:
        return error(403, "This API returns blobs up to 100 MB in size.", errors=[{"code": "too_large"}])
    if ctx.media("raw"):
        return Reply(200, raw=data, content_type="application/vnd.github.raw")
    return Reply(
        200,
        {
            "sha": sha,
            "node_id": node_id("B", int(sha[:8], 16)),
            "size": len(data),
            "url": f"{ctx.api}/repos/{repo.full_name}/git/blobs/{sha}",
            "content": b64(data),
            "encoding": "base64",
        },
    )


async def get_tree(gh: GitHubState, ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/git/trees/{tree_sha}: a tree (or a commit's or ref's tree), its
    entries one level deep, or every entry with `recursive` set; cut at `gh.tree_entry_limit`
    entries with `truncated: true`, as GitHub does."""
    repo = cast(FakeRepo, ctx.repo)
    spec = ctx.params["tree_sha"]
    sha = spec if re.fullmatch(r"[0-9a-f]{40}", spec) else gh.resolve(repo, spec)
    if sha is None:
        return not_found()
    try:
        tree_sha = repo.git.git("rev-parse", "--verify", "--quiet", f"{sha}^{{tree}}").strip()
    except GitError:
        return not_found()
    recursive = "recursive" in ctx.query  # GitHub: any value sets it
    args = ["ls-tree", "-z", "--long", *(["-r", "-t"] if recursive else []), tree_sha]
    out = await asyncio.to_thread(repo.git.git_bytes, *args)
    entries: list[dict[str, Any]] = []
    truncated = False
    for record in out.split(b"\0"):
        if not record:
            continue
        if len(entries) >= gh.tree_entry_limit:
            truncated = True
            break
        meta, name = record.split(b"\t", 1)
        mode, kind, obj, size = meta.decode().split()
        entry: dict[str, Any] = {"path": name.decode(), "mode": mode, "type": kind, "sha": obj}
        if kind == "blob":
            entry["size"] = int(size)
            entry["url"] = f"{ctx.api}/repos/{repo.full_name}/git/blobs/{obj}"
        elif kind == "tree":
            entry["url"] = f"{ctx.api}/repos/{repo.full_name}/git/trees/{obj}"
        entries.append(entry)
    return Reply(
        200,
        {
            "sha": tree_sha,
            "url": f"{ctx.api}/repos/{repo.full_name}/git/trees/{tree_sha}",
            "tree": entries,
            "truncated": truncated,
        },
    )
