"""Tests of the fake GitHub itself, driven through gidgethub as the bot will drive it."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from gidgethub import (
    BadRequest,
    GitHubBroken,
    InvalidField,
    QueryError,
    RateLimitExceeded,
    ValidationError,
    apps,
)
from gidgethub.aiohttp import GitHubAPI
from yarl import URL

from tests.fakegithub import FakeGitHub, generate_app_key, parse_patch, running_fake
from tests.gitrepo import Executable, FileSpec, GitRepo, Symlink

THREADS_QUERY = """
query Threads($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $after) {
        nodes { id isResolved comments(first: 1) { nodes { body databaseId } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""
RESOLVE = """
mutation Resolve($id: ID!) {
  resolveReviewThread(input: {threadId: $id}) { thread { id isResolved } }
}
"""
DOCKERFILE = "".join(f"RUN echo {i}\n" for i in range(1, 31))


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeGitHub]:
    async with running_fake(tmp_path / "github") as server:
        yield server
    assert server.internal_errors == []
    assert server.schema_errors == []


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def client(
    session: aiohttp.ClientSession, fake: FakeGitHub, installation_id: int = 1, *, ghes: bool = False
) -> GitHubAPI:
    base = fake.ghes_base_url if ghes else fake.base_url
    return GitHubAPI(session, "unroot-tests", base_url=base, oauth_token=fake.issue_token(installation_id))


def edited(text: str, replace: dict[int, str]) -> str:
    """TEXT with 1-based lines replaced."""
    lines = text.splitlines(keepends=True)
    for number, new in replace.items():
        lines[number - 1] = new
    return "".join(lines)


# ----------------------------------------------------------------------------- auth


async def test_jwt_gets_a_token_and_a_bad_jwt_gets_401(fake: FakeGitHub, session: aiohttp.ClientSession) -> None:
    fake.setup_pull({"Dockerfile": "FROM alpine\n"}, {"Dockerfile": "FROM alpine\nUSER 1\n"})
    gh = GitHubAPI(session, "unroot-tests", base_url=fake.base_url)
    token = await apps.get_installation_access_token(
        gh, installation_id="1", app_id=str(fake.app.app_id), private_key=fake.app.private_pem
    )
    assert token["token"].startswith("ghs_") and token["expires_at"].endswith("Z")
    authed = GitHubAPI(session, "unroot-tests", base_url=fake.base_url, oauth_token=token["token"])
    assert (await authed.getitem("/repos/octo/app"))["full_name"] == "octo/app"

    other_key = generate_app_key()
    now = int(time.time())
    bad = {
        "foreign key": jwt.encode(
            {"iat": now - 60, "exp": now + 500, "iss": str(fake.app.app_id)}, other_key.private_pem, "RS256"
        ),
        "expired": fake.app_jwt(iat=now - 700, exp=now - 100),
        "exp too far": fake.app_jwt(iat=now - 60, exp=now + 600),
        "iat in the future": fake.app_jwt(iat=now + 120, exp=now + 300),
        "wrong app": fake.app_jwt(iss="999"),
        "not a jwt": "abc.def.ghi",
    }
    for label, token_ in bad.items():
        with pytest.raises(BadRequest) as caught:
            await gh.post("/app/installations/1/access_tokens", data=b"", jwt=token_)
        assert caught.value.status_code == 401, label
    assert len(fake.tokens) == 1
    # gidgethub's own app credentials (app_id + private_key) work for JWT endpoints
    as_app = GitHubAPI(
        session, "unroot-tests", base_url=fake.base_url, app_id=str(fake.app.app_id), private_key=fake.app.private_pem
    )
    assert (await as_app.getitem("/app"))["slug"] == "unroot"
    assert (await as_app.getitem("/repos/octo/app/installation"))["id"] == 1


async def test_installation_tokens_expire_and_are_scoped(fake: FakeGitHub, session: aiohttp.ClientSession) -> None:
    fake.setup_pull({"a": "1\n"}, {"a": "2\n"})
    fake.add_repo("octo/private", private=True)
    fake.add_repo("octo/public")
    gh = GitHubAPI(session, "t", base_url=fake.base_url, oauth_token=fake.issue_token(1, lifetime=0.2))
    await gh.getitem("/repos/octo/app")
    await asyncio.sleep(0.3)
    with pytest.raises(BadRequest) as caught:
        await gh.getitem("/repos/octo/app")
    assert caught.value.status_code == 401 and "Bad credentials" in str(caught.value)

    fake.token_lifetime = 2
    as_app = GitHubAPI(session, "t", base_url=fake.base_url)
    token = await apps.get_installation_access_token(
        as_app, installation_id="1", app_id=str(fake.app.app_id), private_key=fake.app.private_pem
    )
    expires = time.mktime(time.strptime(token["expires_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert 0 < expires - time.time() <= 2

    gh = client(session, fake)
    with pytest.raises(BadRequest) as caught:  # a private repository outside the installation is invisible
        await gh.getitem("/repos/octo/private")
    assert caught.value.status_code == 404
    await gh.getitem("/repos/octo/public")  # a public one can be read…
    head = (await gh.getitem("/repos/octo/public/commits/main/check-runs"))["total_count"]
    assert head == 0
    with pytest.raises(BadRequest) as caught:  # …but not written to
        await gh.post(
            "/repos/octo/public/check-runs", data={"name": "unroot", "head_sha": fake.repo("octo/public").git.head()}
        )
    assert caught.value.status_code == 403
    anonymous = GitHubAPI(session, "t", base_url=fake.base_url)
    with pytest.raises(BadRequest) as caught:
        await anonymous.getitem("/repos/octo/app")
    assert caught.value.status_code == 401


# ----------------------------------------------------------------------------- files, pagination


async def test_130_changed_files_paginate_with_link_headers(fake: FakeGitHub, session: aiohttp.ClientSession) -> None:
    pr = fake.setup_pull({"README.md": "hi\n"}, {f"k8s/app-{i:03}.yaml": f"kind: Pod\nid: {i}\n" for i in range(130)})
    gh = client(session, fake)
    files = [f async for f in gh.getiter("/repos/octo/app/pulls/1/files?per_page=100")]
    assert len(files) == 130 and {f["status"] for f in files} == {"added"}
    assert files[0]["patch"] == "@@ -0,0 +1,2 @@\n+kind: Pod\n+id: 0"
    assert len([f async for f in gh.getiter("/repos/octo/app/pulls/1/files")]) == 130  # 30 a page

    token = fake.issue_token(1)
    headers = {"Authorization": f"token {token}", "Accept": "application/vnd.github+json"}
    url = f"{fake.base_url}/repos/octo/app/pulls/1/files?per_page=100"
    async with session.get(url, headers=headers) as resp:
        assert resp.status == 200
        assert URL(resp.links["next"]["url"]).query["page"] == "2"
        assert URL(resp.links["last"]["url"]).query["page"] == "2"
        assert URL(resp.links["next"]["url"]).query["per_page"] == "100"
        assert "prev" not in resp.links
    async with session.get(f"{url}&page=2", headers=headers) as resp:
        assert len(await resp.json()) == 30
        assert set(resp.links) == {"prev", "first"}
    async with session.get(url.replace("per_page=100", "per_page=1000"), headers=headers) as resp:
        assert len(await resp.json()) == 100  # per_page is capped at 100
    assert (await gh.getitem("/repos/octo/app/pulls/1"))["changed_files"] == 130
    assert fake.calls["GET /repos/{owner}/{repo}/pulls/{pull_number}/files"] == 2 + 5 + 3
    assert pr.head_sha == fake.repo("octo/app").git.head("feature")


async def test_pr_files_are_capped_at_3000(fake: FakeGitHub, session: aiohttp.ClientSession) -> None:
    fake.setup_pull({"README.md": "hi\n"}, {f"f/{i:04}.txt": f"{i}\n" for i in range(3005)})
    fake.check_responses = False  # 3000 entries: keep the test quick
    files = [f async for f in client(session, fake).getiter("/repos/octo/app/pulls/1/files?per_page=100")]
    assert len(files) == 3000


async def test_file_kinds_statuses_and_patches(fake: FakeGitHub, session: aiohttp.ClientSession) -> None:
    base: dict[str, FileSpec] = {
        "Dockerfile": DOCKERFILE,
        "old.yaml": "kind: Pod\nmetadata:\n  name: a\nspec: {}\n",
        "gone.txt": "bye\n",
        "logo.png": b"\x89PNG\r\n\x1a\n\0\0binary",
        "big.txt": "".join(f"line {i}\n" for i in range(2000)),
    }
    head: dict[str, FileSpec | None] = {
        "Dockerfile": edited(DOCKERFILE, {3: "USER root\n"}),
        "gone.txt": None,
        "logo.png": b"\x89PNG\r\n\x1a\n\0\0other",
        "link.yaml": Symlink("new.yaml"),
        "dangling": Symlink("../outside"),
        "run.sh": Executable("#!/bin/sh\n"),
        "big.txt": "".join(f"LINE {i}\n" for i in range(2000)),
    }
    fake.max_patch_chars = 20_000
    pr = fake.setup_pull(base, head, renames={"old.yaml": "new.yaml"})
    gh = client(session, fake)
    files = {f["filename"]: f async for f in gh.getiter("/repos/octo/app/pulls/1/files")}
    assert files["new.yaml"]["status"] == "renamed" and files["new.yaml"]["previous_filename"] == "old.yaml"
    assert "patch" not in files["new.yaml"]  # a pure rename has no hunks
    assert files["gone.txt"]["status"] == "removed" and files["gone.txt"]["deletions"] == 1
    assert "patch" not in files["logo.png"]  # binary
    assert "patch" not in files["big.txt"] and files["big.txt"]["additions"] == 2000  # too large
    assert files["Dockerfile"]["patch"].startswith("@@ -1,6 +1,6 @@\n RUN echo 1\n RUN echo 2\n-RUN echo 3\n+USER root")
    git = fake.repo("octo/app").git
    link_sha = git.git("rev-parse", f"{pr.head_sha}:link.yaml").strip()
    assert files["link.yaml"]["sha"] == link_sha and files["link.yaml"]["status"] == "added"
    assert files["link.yaml"]["patch"] == "@@ -0,0 +1 @@\n+new.yaml\n\\ No newline at end of file"

    # the contents API follows a symlink to a file in the repository, and describes any other symlink
    ref = f"?ref={pr.head_sha}"
    followed = await gh.getitem(f"/repos/octo/app/contents/link.yaml{ref}")
    assert followed["type"] == "file" and followed["path"] == "new.yaml"
    assert base64.b64decode(followed["content"]).decode().startswith("kind: Pod")
    dangling = await gh.getitem(f"/repos/octo/app/contents/dangling{ref}")
    assert dangling["type"] == "symlink" and dangling["target"] == "../outside"
    listing = await gh.getitem(f"/repos/octo/app/contents/{ref}")
    assert {e["name"]: e["type"] for e in listing}["dangling"] == "symlink"
    with pytest.raises(BadRequest) as caught:
        await gh.getitem(f"/repos/octo/app/contents/gone.txt{ref}")
    assert caught.value.status_code == 404
    hunks = parse_patch(files["Dockerfile"]["patch"])
    assert len(hunks) == 1 and hunks[0].side_lines("RIGHT") == set(range(1, 7))


async def test_contents_over_1mb_needs_the_blob_api(fake: FakeGitHub, session: aiohttp.ClientSession) -> None:
    big = ("x" * 99 + "\n") * 15_000  # 1.5 MB
    pr = fake.setup_pull({"README.md": "hi\n"}, {"huge.yaml": big, "small.yaml": "a: 1\n"})
    gh = client(session, fake)
    small = await gh.getitem(f"/repos/octo/app/contents/small.yaml?ref={pr.head_sha}")
    assert small["encoding"] == "base64" and base64.b64decode(small["content"]) == b"a: 1\n"
    meta = await gh.getitem(f"/repos/octo/app/contents/huge.yaml?ref={pr.head_sha}")
    assert meta["encoding"] == "none" and meta["content"] == "" and meta["size"] == len(big)
    blob = await gh.getitem(f"/repos/octo/app/git/blobs/{meta['sha']}")
    assert blob["encoding"] == "base64" and base64.b64decode(blob["content"]).decode() == big
    fake.contents_too_large_403 = True  # the older behaviour, still seen on some GHES versions
    with pytest.raises(BadRequest) as caught:
        await gh.getitem(f"/repos/octo/app/contents/huge.yaml?ref={pr.head_sha}")
    assert caught.value.status_code == 403


async def test_git_trees_list_one_level_or_everything_and_say_when_they_are_cut(
    fake: FakeGitHub, session: aiohttp.ClientSession
) -> None:
    pr = fake.setup_pull({"README.md": "hi\n", "app/Dockerfile": "FROM alpine\n"}, {"k8s/pod.yaml": "a: 1\n"})
    gh = client(session, fake)
    top = await gh.getitem(f"/repos/octo/app/git/trees/{pr.head_sha}")
    assert sorted((e["path"], e["type"]) for e in top["tree"]) == [
        ("README.md", "blob"),
        ("app", "tree"),
        ("k8s", "tree"),
    ]
    everything = await gh.getitem(f"/repos/octo/app/git/trees/{pr.head_ref}?recursive=1")
    blobs = {e["path"]: e for e in everything["tree"] if e["type"] == "blob"}
    assert sorted(blobs) == ["README.md", "app/Dockerfile", "k8s/pod.yaml"] and not everything["truncated"]
    assert blobs["app/Dockerfile"]["mode"] == "100644" and blobs["app/Dockerfile"]["size"] == len("FROM alpine\n")
    fake.tree_entry_limit = 2
    cut = await gh.getitem(f"/repos/octo/app/git/trees/{pr.head_sha}?recursive=1")
    assert cut["truncated"] is True and len(cut["tree"]) == 2
    with pytest.raises(BadRequest) as caught:
        await gh.getitem("/repos/octo/app/git/trees/no-such-ref?recursive=1")
    assert caught.value.status_code == 404


async def test_fork_pr_head_commits_are_readable_from_the_base_repo(
    fake: FakeGitHub, session: aiohttp.ClientSession
) -> None:
    pr = fake.setup_pull(
        {"Dockerfile": "FROM alpine\n"}, {"Dockerfile": "FROM alpine\nUSER 0\n"}, head_repo="alice/app"
    )
    assert pr.is_fork and not fake.repo("octo/app").git.has_ref("refs/heads/feature")
    gh = client(session, fake)
    data = await gh.getitem("/repos/octo/app/pulls/1")
    assert data["head"]["repo"]["full_name"] == "alice/app" and data["base"]["repo"]["full_name"] == "octo/app"
    assert data["head"]["sha"] == pr.head_sha == fake.repo("alice/app").git.head("feature")
    content = await gh.getitem(f"/repos/octo/app/contents/Dockerfile?ref={pr.head_sha}")
    assert base64.b64decode(content["content"]) == b"FROM alpine\nUSER 0\n"
    assert [f["filename"] async for f in gh.getiter("/repos/octo/app/pulls/1/files")] == ["Dockerfile"]
    new_head = fake.push_pull("octo/app", 1, {"Dockerfile": "FROM alpine\nUSER 10001\n"})
    assert (await gh.getitem("/repos/octo/app/pulls/1"))["head"]["sha"] == new_head != data["head"]["sha"]
    compare = await gh.getitem("/repos/octo/app/compare/main...alice:feature")
    assert compare["ahead_by"] == 2 and [f["filename"] for f in compare["files"]] == ["Dockerfile"]


async def test_compare_paginates_commits_and_lists_files_on_page_one(
    fake: FakeGitHub, session: aiohttp.ClientSession
) -> None:
    pr = fake.setup_pull({"a.txt": "0\n"}, {"a.txt": "1\n"})
    for i in range(2, 6):
        fake.push_pull("octo/app", pr.number, {f"f{i}.txt": f"{i}\n"})
    gh = client(session, fake)
    whole = await gh.getitem("/repos/octo/app/compare/main...feature")
    assert whole["status"] == "ahead" and whole["ahead_by"] == 5 and len(whole["commits"]) == 5
    assert whole["merge_base_commit"]["sha"] == pr.base_sha and len(whole["files"]) == 5
    first = await gh.getitem("/repos/octo/app/compare/main...feature?per_page=2")
    assert len(first["commits"]) == 2 and len(first["files"]) == 5
    third = await gh.getitem("/repos/octo/app/compare/main...feature?per_page=2&page=3")
    assert len(third["commits"]) == 1 and "files" not in third


# ----------------------------------------------------------------------------- reviews


async def test_a_comment_off_the_diff_fails_the_whole_review(fake: FakeGitHub, session: aiohttp.ClientSession) -> None:
    pr = fake.setup_pull({"Dockerfile": DOCKERFILE}, {"Dockerfile": edited(DOCKERFILE, {15: "USER root\n"})})
    gh = client(session, fake)
    review = {
        "commit_id": pr.head_sha,
        "body": "findings",
        "event": "COMMENT",
        "comments": [
            {"path": "Dockerfile", "line": 15, "side": "RIGHT", "body": "in the diff"},
            {"path": "Dockerfile", "line": 2, "side": "RIGHT", "body": "outside every hunk"},
        ],
    }
    with pytest.raises(ValidationError) as caught:
        await gh.post("/repos/octo/app/pulls/1/reviews", data=review)
    assert caught.value.status_code == 422
    assert "Pull request review thread line must be part of the diff" in str(caught.value)
    assert fake.reviews == {} and fake.review_comments == {} and fake.threads == {}
    for bad, message in [
        ({"path": "nope.txt", "line": 1}, "Path could not be resolved"),
        ({"path": "Dockerfile", "line": 2, "side": "LEFT"}, "must be part of the diff"),
        ({"path": "Dockerfile", "line": 13, "start_line": 15, "start_side": "RIGHT"}, "start line must precede"),
        ({"path": "Dockerfile", "line": 15, "start_line": 15, "start_side": "RIGHT"}, "start line must precede"),
    ]:
        with pytest.raises(ValidationError, match=message):
            await gh.post("/repos/octo/app/pulls/1/reviews", data={**review, "comments": [{**bad, "body": "x"}]})
    with pytest.raises(ValidationError, match="No commit found"):
        await gh.post("/repos/octo/app/pulls/1/reviews", data={**review, "commit_id": "f" * 40, "comments": []})
    assert fake.reviews == {} and fake.requests_to("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews")


async def test_a_multi_line_suggestion_is_recorded(fake: FakeGitHub, session: aiohttp.ClientSession) -> None:
    head = edited(DOCKERFILE, {4: "USER 1\n", 5: "USER 2\n", 24: "USER 3\n"})
    pr = fake.setup_pull({"Dockerfile": DOCKERFILE}, {"Dockerfile": head})
    gh = client(session, fake)
    body = "```suggestion\nUSER 10001\n```\n<!-- unroot:UR101:Dockerfile:abc -->"
    comment = {"path": "Dockerfile", "start_line": 3, "start_side": "RIGHT", "line": 6, "side": "RIGHT", "body": body}
    review = await gh.post(
        "/repos/octo/app/pulls/1/reviews",
        data={"commit_id": pr.head_sha, "body": "unroot found 1 problem", "event": "COMMENT", "comments": [comment]},
    )
    assert review["state"] == "COMMENTED" and review["commit_id"] == pr.head_sha
    [stored] = fake.review_comments.values()
    assert (stored.path, stored.start_line, stored.line, stored.body) == ("Dockerfile", 3, 6, body)
    listed = [c async for c in gh.getiter("/repos/octo/app/pulls/1/comments")]
    assert listed[0]["user"] == {**listed[0]["user"], "login": "unroot[bot]", "type": "Bot"}
    assert (listed[0]["start_line"], listed[0]["line"], listed[0]["commit_id"]) == (3, 6, pr.head_sha)
    assert listed[0]["diff_hunk"].startswith("@@ -1,8 +1,8 @@") and listed[0]["diff_hunk"].endswith("RUN echo 6")
    assert [r["state"] async for r in gh.getiter("/repos/octo/app/pulls/1/reviews")] == ["COMMENTED"]
    # start and end in different hunks
    with pytest.raises(ValidationError, match="same hunk"):
        await gh.post(
            "/repos/octo/app/pulls/1/reviews",
            data={"body": "x", "event": "COMMENT", "comments": [{**comment, "start_line": 5, "line": 24}]},
        )
    with pytest.raises(ValidationError, match="start side"):
        await gh.post(
            "/repos/octo/app/pulls/1/reviews",
            data={
                "body": "x",
                "event": "COMMENT",
                "comments": [{k: v for k, v in comment.items() if k != "start_side"}],
            },
        )
    assert len(fake.review_comments) == 1 and len(fake.threads) == 1
    # LEFT-side lines (removed or context) and the legacy `position` are accepted too
    await gh.post(
        "/repos/octo/app/pulls/1/reviews",
        data={
            "body": "x",
            "event": "COMMENT",
            "comments": [
                {"path": "Dockerfile", "line": 4, "side": "LEFT", "body": "old line 4"},
                {"path": "Dockerfile", "position": 6, "body": "by position"},
            ],
        },
    )
    left, by_position = list(fake.review_comments.values())[1:]
    assert (left.side, left.line) == ("LEFT", 4) and (by_position.side, by_position.line) == ("RIGHT", 4)


async def test_a_review_without_event_is_pending_and_blocks_the_next(
    fake: FakeGitHub, session: aiohttp.ClientSession
) -> None:
    fake.setup_pull({"Dockerfile": "FROM a\n"}, {"Dockerfile": "FROM b\n"})
    gh = client(session, fake)
    review = await gh.post(
        "/repos/octo/app/pulls/1/reviews",
        data={"body": "draft", "comments": [{"path": "Dockerfile", "line": 1, "body": "c"}]},
    )
    assert review["state"] == "PENDING" and "submitted_at" not in review
    assert [r.state for r in fake.reviews.values()] == ["PENDING"]
    assert [c async for c in gh.getiter("/repos/octo/app/pulls/1/comments")] == []  # not published
    with pytest.raises(ValidationError, match="one pending review"):
        await gh.post("/repos/octo/app/pulls/1/reviews", data={"body": "again", "event": "COMMENT"})


# ----------------------------------------------------------------------------- check runs


async def test_check_run_limits(fake: FakeGitHub, session: aiohttp.ClientSession) -> None:
    pr = fake.setup_pull({"Dockerfile": "FROM a\n"}, {"Dockerfile": "FROM b\n"})
    gh = client(session, fake)

    def annotations(n: int) -> list[dict[str, Any]]:
        return [
            {"path": "Dockerfile", "start_line": 1, "end_line": 1, "annotation_level": "warning", "message": f"m{i}"}
            for i in range(n)
        ]

    run = {"name": "unroot", "head_sha": pr.head_sha, "status": "in_progress"}
    bad_bodies: list[dict[str, Any]] = [
        {"output": {"title": "t", "summary": "s", "annotations": annotations(51)}},
        {"output": {"title": "t", "summary": "s" * 65536}},
        {"output": {"title": "t", "summary": "s", "text": "x" * 65536}},
        {"actions": [{"label": "l", "description": "d", "identifier": f"i{i}"} for i in range(4)]},
        {"actions": [{"label": "l" * 21, "description": "d", "identifier": "i"}]},
        {"actions": [{"label": "l", "description": "d" * 41, "identifier": "i"}]},
        {"actions": [{"label": "l", "description": "d", "identifier": "i" * 21}]},
        {"status": "completed"},
        {"output": {"title": "t", "summary": "s", "annotations": [{**annotations(1)[0], "annotation_level": "error"}]}},
        {"head_sha": "main"},
    ]
    for bad in bad_bodies:
        with pytest.raises(InvalidField) as caught:
            await gh.post("/repos/octo/app/check-runs", data={**run, **bad})
        assert caught.value.status_code == 422, bad
    assert fake.check_runs == {}

    created = await gh.post(
        "/repos/octo/app/check-runs",
        data={**run, "output": {"title": "t", "summary": "s", "annotations": annotations(50)}},
    )
    url = f"/repos/octo/app/check-runs/{created['id']}"
    done = await gh.patch(
        url,
        data={"conclusion": "neutral", "output": {"title": "t", "summary": "done", "annotations": annotations(30)}},
    )
    assert done["status"] == "completed" and done["output"]["annotations_count"] == 80
    assert len(fake.check_runs[created["id"]].annotations) == 80
    assert len([a async for a in gh.getiter(f"{url}/annotations?per_page=100")]) == 80
    listed = await gh.getitem(f"/repos/octo/app/commits/{pr.head_sha}/check-runs?check_name=unroot")
    assert listed["total_count"] == 1 and listed["check_runs"][0]["conclusion"] == "neutral"
    assert listed["check_runs"][0]["pull_requests"][0]["number"] == 1
    reopened = await gh.patch(url, data={"status": "in_progress", "output": {"title": "again", "summary": "s"}})
    assert (reopened["status"], reopened["conclusion"], reopened["completed_at"]) == ("in_progress", None, None)
    by_branch = await gh.getitem("/repos/octo/app/commits/feature/check-runs")
    assert by_branch["total_count"] == 1
    assert [
        r async for r in gh.getiter(f"/repos/octo/app/commits/{pr.base_sha}/check-runs", iterable_key="check_runs")
    ] == []


# ----------------------------------------------------------------------------- GraphQL


async def test_graphql_lists_and_resolves_review_threads(fake: FakeGitHub, session: aiohttp.ClientSession) -> None:
    head = edited(DOCKERFILE, {4: "USER 1\n", 24: "USER 3\n"})
    pr = fake.setup_pull({"Dockerfile": DOCKERFILE}, {"Dockerfile": head})
    gh = client(session, fake)
    comments = [{"path": "Dockerfile", "line": n, "side": "RIGHT", "body": f"c{n}"} for n in (4, 24)]
    await gh.post("/repos/octo/app/pulls/1/reviews", data={"body": "b", "event": "COMMENT", "comments": comments})
    data = await gh.graphql(THREADS_QUERY, endpoint=fake.graphql_url, owner="octo", name="app", number=1)
    threads = data["repository"]["pullRequest"]["reviewThreads"]
    assert [t["comments"]["nodes"][0]["body"] for t in threads["nodes"]] == ["c4", "c24"]
    assert threads["pageInfo"] == {"hasNextPage": False, "endCursor": threads["pageInfo"]["endCursor"]}
    assert threads["nodes"][0]["comments"]["nodes"][0]["databaseId"] in fake.review_comments
    first = threads["nodes"][0]
    resolved = await gh.graphql(RESOLVE, endpoint=fake.graphql_url, id=first["id"])
    assert resolved == {"resolveReviewThread": {"thread": {"id": first["id"], "isResolved": True}}}
    assert fake.threads[first["id"]].is_resolved

    page = await gh.graphql(
        THREADS_QUERY.replace("first: 100", "first: 1"), endpoint=fake.graphql_url, owner="octo", name="app", number=1
    )
    info = page["repository"]["pullRequest"]["reviewThreads"]["pageInfo"]
    assert info["hasNextPage"]
    rest = await gh.graphql(
        THREADS_QUERY.replace("first: 100", "first: 1"),
        endpoint=fake.graphql_url,
        owner="octo",
        name="app",
        number=1,
        after=info["endCursor"],
    )
    assert [n["isResolved"] for n in rest["repository"]["pullRequest"]["reviewThreads"]["nodes"]] == [False]

    for query in (
        'query { repository(owner: "octo", name: "app") { pullRequest(number: 1) { nope } } }',
        'query { repository(owner: "octo", name: "app") { pullRequest(number: 1) { reviewThreads(first: 101) { totalCount } } } }',
        'query { repository(owner: "octo", name: "gone") { id } }',
        "mutation { doSomething(input: {}) { id } }",
    ):
        with pytest.raises(QueryError):
            await gh.graphql(query, endpoint=fake.graphql_url)

    # a new push that touches the file outdates the threads; minimizing works on their comments
    fake.push_pull("octo/app", pr.number, {"Dockerfile": head + "USER 10001\n"})
    outdated = await gh.graphql(
        'query($n: Int!) { repository(owner: "octo", name: "app") { pullRequest(number: $n) {'
        " reviewThreads(first: 10) { nodes { isOutdated line comments(first: 1) { nodes { id author { login } } } } } } } }",
        endpoint=fake.graphql_url,
        n=1,
    )
    nodes = outdated["repository"]["pullRequest"]["reviewThreads"]["nodes"]
    assert [(n["isOutdated"], n["line"]) for n in nodes] == [(True, None), (True, None)]
    assert nodes[0]["comments"]["nodes"][0]["author"]["login"] == "unroot"  # no [bot] suffix in GraphQL
    minimized = await gh.graphql(
        "mutation($id: ID!) { minimizeComment(input: {subjectId: $id, classifier: OUTDATED}) {"
        " minimizedComment { isMinimized minimizedReason } } }",
        endpoint=fake.graphql_url,
        id=nodes[0]["comments"]["nodes"][0]["id"],
    )
    assert minimized["minimizeComment"]["minimizedComment"] == {"isMinimized": True, "minimizedReason": "outdated"}


async def test_graphql_reads_many_blobs_by_expression_in_one_request(
    fake: FakeGitHub, session: aiohttp.ClientSession
) -> None:
    big = "x" * 511_999 + "é\n"  # 512,002 bytes: cut at 512,000 splits the "é"
    pr = fake.setup_pull(
        {"Dockerfile": "FROM alpine\n"},
        {
            "Dockerfile": "FROM alpine\nUSER 0\n",
            "logo.png": b"\x89PNG\r\n\x1a\n\0\0",
            "latin1.txt": b"caf\xe9\n",
            "big.txt": big,
            "link": Symlink("Dockerfile"),
            "deploy/app.yaml": "kind: Pod\n",
        },
        head_repo="alice/app",  # a fork: its head is only readable by SHA in the base repo
    )
    gh = client(session, fake)
    before = fake.calls["POST /graphql"]
    query = """query($owner: String!, $name: String!, $a: String!, $b: String!, $c: String!) {
      repository(owner: $owner, name: $name) {
        a: object(expression: $a) { __typename ... on Blob { text byteSize isBinary isTruncated oid } }
        b: object(expression: $b) { ... on Blob { text byteSize isBinary isTruncated } }
        c: object(expression: $c) { ... on Blob { text byteSize isBinary isTruncated } }
      }
    }"""
    data = await gh.graphql(
        query,
        endpoint=fake.graphql_url,
        owner="octo",
        name="app",
        a=f"{pr.head_sha}:Dockerfile",
        b=f"{pr.head_sha}:missing.txt",
        c=f"{pr.head_sha}:logo.png",
    )
    a, b, c = (data["repository"][k] for k in "abc")
    git = fake.repo("octo/app").git
    assert a == {
        "__typename": "Blob",
        "text": "FROM alpine\nUSER 0\n",
        "byteSize": 19,
        "isBinary": False,
        "isTruncated": False,
        "oid": git.git("rev-parse", f"{pr.head_sha}:Dockerfile").strip(),
    }
    assert b is None
    assert c == {"text": None, "byteSize": 10, "isBinary": True, "isTruncated": False}
    assert fake.calls["POST /graphql"] == before + 1

    # 100 aliases (as many as the bot asks for at once), other kinds of blobs, bad revs: one request
    paths = ["Dockerfile", "latin1.txt", "big.txt", "link", "deploy", "nope", "../x", "deploy/app.yaml"]
    exprs = [f"{pr.head_sha}:{p}" for p in paths] + ["no-such-branch:Dockerfile", "main:Dockerfile"]
    exprs += [":Dockerfile", "main@{0}:Dockerfile"]  # git's index and reflogs: nothing GitHub has
    exprs += [f"{pr.head_sha}:Dockerfile"] * (100 - len(exprs))
    fields = " ".join(
        f"f{i}: object(expression: {json.dumps(e)}) {{ __typename ... on Blob {{ text byteSize isBinary isTruncated }}"
        " ... on Tree { entries { name path type mode } } }"
        for i, e in enumerate(exprs)
    )
    before = len(fake.requests)
    many = (
        await gh.graphql(f'{{ repository(owner: "octo", name: "app") {{ {fields} }} }}', endpoint=fake.graphql_url)
    )["repository"]
    assert len(fake.requests) == before + 1 and fake.requests[-1].route == "/graphql"
    assert len(many) == 100 and all(many[f"f{i}"] == many["f0"] for i in range(12, 100))
    assert many["f1"] == {"__typename": "Blob", "text": None, "byteSize": 5, "isBinary": True, "isTruncated": False}
    assert many["f2"]["isTruncated"] and not many["f2"]["isBinary"] and many["f2"]["byteSize"] == 512_002
    assert many["f2"]["text"] == "x" * 511_999  # 512,000 bytes, less the half of the split character
    assert many["f3"]["text"] == "Dockerfile" and many["f3"]["byteSize"] == 10  # a symlink's blob: its target
    assert many["f4"] == {
        "__typename": "Tree",
        "entries": [{"name": "app.yaml", "path": "deploy/app.yaml", "type": "blob", "mode": 0o100644}],
    }
    assert [many[f"f{i}"] for i in (5, 6, 8, 10, 11)] == [None] * 5
    assert many["f7"]["text"] == "kind: Pod\n" and many["f9"]["text"] == "FROM alpine\n"

    # the root tree tells a symlink by its mode; entries' objects and Commit/oid lookups work too
    root = await gh.graphql(
        """query($e: String!, $oid: GitObjectID!) { repository(owner: "octo", name: "app") {
          tree: object(expression: $e) { ... on Tree { entries { name type mode object { __typename oid } } } }
          commit: object(oid: $oid) { ... on Commit { oid abbreviatedOid messageHeadline tree { oid } } }
        } }""",
        endpoint=fake.graphql_url,
        e=f"{pr.head_sha}:",
        oid=pr.head_sha,
    )
    entries = {e["name"]: e for e in root["repository"]["tree"]["entries"]}
    assert entries["link"]["mode"] == 0o120000 and entries["link"]["type"] == "blob"
    assert entries["Dockerfile"]["mode"] == 0o100644 and entries["deploy"]["mode"] == 0o040000
    assert entries["deploy"]["object"]["__typename"] == "Tree"
    assert entries["link"]["object"]["oid"] == git.git("rev-parse", f"{pr.head_sha}:link").strip()
    commit = root["repository"]["commit"]
    assert commit["oid"] == pr.head_sha and commit["abbreviatedOid"] == pr.head_sha[:7]
    assert commit["tree"]["oid"] == git.git("rev-parse", f"{pr.head_sha}^{{tree}}").strip()

    # GitObject is an interface: only its own fields without a fragment; bad oids are errors
    for bad in (
        '{ repository(owner: "octo", name: "app") { object(expression: "main:Dockerfile") { text } } }',
        '{ repository(owner: "octo", name: "app") { object(oid: "main") { oid } } }',
        '{ repository(owner: "octo", name: "app") { object(expression: "main:Dockerfile") { ... on PullRequest { id } } } }',
    ):
        with pytest.raises(QueryError):
            await gh.graphql(bad, endpoint=fake.graphql_url)


async def test_graphql_lists_pull_request_reviews(fake: FakeGitHub, session: aiohttp.ClientSession) -> None:
    pr = fake.setup_pull({"Dockerfile": DOCKERFILE}, {"Dockerfile": edited(DOCKERFILE, {4: "USER 1\n"})})
    gh = client(session, fake)
    posted = await gh.post(
        "/repos/octo/app/pulls/1/reviews",
        data={
            "body": "unroot found 1 problem",
            "event": "COMMENT",
            "comments": [{"path": "Dockerfile", "line": 4, "side": "RIGHT", "body": "runs as root"}],
        },
    )
    await gh.post("/repos/octo/app/pulls/1/reviews", data={"body": "second", "event": "COMMENT"})
    query = """query($n: Int!, $last: Int, $first: Int, $before: String, $author: String) {
      repository(owner: "octo", name: "app") { pullRequest(number: $n) {
        reviews(last: $last, first: $first, before: $before, author: $author) {
          totalCount
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          nodes { id databaseId body state author { login } commit { oid } submittedAt
                  comments(first: 10) { nodes { body } } }
        }
      } }
    }"""
    data = await gh.graphql(query, endpoint=fake.graphql_url, n=1, last=100)
    reviews = data["repository"]["pullRequest"]["reviews"]
    assert reviews["totalCount"] == 2 and [r["body"] for r in reviews["nodes"]] == ["unroot found 1 problem", "second"]
    first = reviews["nodes"][0]
    assert first["databaseId"] == posted["id"] and first["id"] == posted["node_id"]
    assert first["state"] == "COMMENTED" and first["author"] == {"login": "unroot"}
    assert first["commit"] == {"oid": pr.head_sha} and first["submittedAt"] == posted["submitted_at"]
    assert first["comments"]["nodes"] == [{"body": "runs as root"}]

    page = (await gh.graphql(query, endpoint=fake.graphql_url, n=1, last=1))["repository"]["pullRequest"]["reviews"]
    assert [r["body"] for r in page["nodes"]] == ["second"] and page["pageInfo"]["hasPreviousPage"]
    older = await gh.graphql(query, endpoint=fake.graphql_url, n=1, last=1, before=page["pageInfo"]["startCursor"])
    assert [r["body"] for r in older["repository"]["pullRequest"]["reviews"]["nodes"]] == ["unroot found 1 problem"]
    for author, count in (("unroot[bot]", 2), ("UNROOT", 2), ("someone-else", 0)):
        found = await gh.graphql(query, endpoint=fake.graphql_url, n=1, first=10, author=author)
        assert found["repository"]["pullRequest"]["reviews"]["totalCount"] == count
    for bad in ({"first": 101}, {}):  # over the limit; no first/last at all
        with pytest.raises(QueryError):
            await gh.graphql(query, endpoint=fake.graphql_url, n=1, **bad)

    # the node id resolves; states filters (the bot's own pending review shows to the bot)
    await gh.post("/repos/octo/app/pulls/1/reviews", data={"body": "draft"})
    node = await gh.graphql(
        "query($id: ID!) { node(id: $id) { __typename ... on PullRequestReview { body } } }",
        endpoint=fake.graphql_url,
        id=first["id"],
    )
    assert node["node"] == {"__typename": "PullRequestReview", "body": "unroot found 1 problem"}
    pending = await gh.graphql(
        '{ repository(owner: "octo", name: "app") { pullRequest(number: 1) {'
        " reviews(first: 5, states: [PENDING]) { nodes { body state submittedAt } } } } }",
        endpoint=fake.graphql_url,
    )
    assert pending["repository"]["pullRequest"]["reviews"]["nodes"] == [
        {"body": "draft", "state": "PENDING", "submittedAt": None}
    ]
    with pytest.raises(QueryError):
        await gh.graphql(
            '{ repository(owner: "octo", name: "app") { pullRequest(number: 1) {'
            " reviews(first: 5, states: [NOPE]) { totalCount } } } }",
            endpoint=fake.graphql_url,
        )


@pytest.mark.parametrize(
    ("query", "variables", "code", "says"),
    [
        (  # the hand-written schema knew argument names only, so "x" reached the resolver
            '{ repository(owner: "octo", name: "app") { pullRequest(number: "x") { id } } }',
            {},
            "argumentLiteralsIncompatible",
            "Int cannot represent non-integer value",
        ),
        (
            'query($n: String!) { repository(owner: "octo", name: "app") { pullRequest(number: $n) { id } } }',
            {"n": "1"},
            "variableMismatch",
            "Variable '$n' of type 'String!' used in position expecting type 'Int!'",
        ),
        (
            '{ repository(owner: "octo", name: "app") { pullRequest(number: 1) {'
            " reviews(first: 5, states: [NOPE]) { totalCount } } } }",
            {},
            "argumentLiteralsIncompatible",
            "Value 'NOPE' does not exist in 'PullRequestReviewState' enum",
        ),
        (
            '{ repository(owner: "octo", name: "app") { nameWithOwnr } }',
            {},
            "undefinedField",
            "Did you mean 'nameWithOwner'?",
        ),
    ],
    ids=["argument type", "variable type", "enum value", "field name"],
)
async def test_graphql_rejects_what_githubs_schema_rejects(
    fake: FakeGitHub, session: aiohttp.ClientSession, query: str, variables: dict[str, Any], code: str, says: str
) -> None:
    fake.setup_pull({"Dockerfile": DOCKERFILE}, {"Dockerfile": edited(DOCKERFILE, {4: "USER 1\n"})})
    headers = {"Authorization": f"bearer {fake.issue_token(1)}"}
    async with session.post(fake.graphql_url, json={"query": query, "variables": variables}, headers=headers) as resp:
        status, body = resp.status, await resp.json()
    # GitHub's shape for a query that cannot run: 200, `errors` and no `data` at all, each error
    # with graphql-ruby's code; nothing was executed.
    assert status == 200 and set(body) == {"errors"}, body
    [problem] = body["errors"]
    assert problem["extensions"] == {"code": code} and problem["locations"], problem
    assert says in problem["message"], problem
    with pytest.raises(QueryError, match=re.escape(says)):
        await client(session, fake).graphql(query, endpoint=fake.graphql_url, **variables)


async def test_graphql_object_ids_are_checked_before_the_query_runs(
    fake: FakeGitHub, session: aiohttp.ClientSession
) -> None:
    fake.setup_pull({"Dockerfile": DOCKERFILE}, {"Dockerfile": edited(DOCKERFILE, {4: "USER 1\n"})})
    headers = {"Authorization": f"bearer {fake.issue_token(1)}"}
    by_variable = 'query($o: GitObjectID!) { repository(owner: "octo", name: "app") { object(oid: $o) { id } } }'
    for payload in (
        {"query": by_variable, "variables": {"o": "main"}},
        {"query": '{ repository(owner: "octo", name: "app") { object(oid: "main") { id } } }'},
    ):
        async with session.post(fake.graphql_url, json=payload, headers=headers) as resp:
            body = await resp.json()
        assert set(body) == {"errors"} and "not a valid GitObjectID" in body["errors"][0]["message"], body


async def test_graphql_field_errors_are_shaped_as_githubs(fake: FakeGitHub, session: aiohttp.ClientSession) -> None:
    fake.setup_pull({"Dockerfile": DOCKERFILE}, {"Dockerfile": edited(DOCKERFILE, {4: "USER 1\n"})})
    headers = {"Authorization": f"bearer {fake.issue_token(1)}"}
    query = '{ a: repository(owner: "octo", name: "app") { name } b: repository(owner: "octo", name: "gone") { name } }'
    async with session.post(fake.graphql_url, json={"query": query}, headers=headers) as resp:
        body = await resp.json()
    # A field that cannot be resolved is null with an error whose `type` says why; the rest is answered.
    assert body == {
        "data": {"a": {"name": "app"}, "b": None},
        "errors": [
            {
                "type": "NOT_FOUND",
                "path": ["b"],
                "locations": [{"line": 1, "column": query.index("b:") + 1}],
                "message": "Could not resolve to a Repository with the name 'octo/gone'.",
            }
        ],
    }


# ----------------------------------------------------------------------------- GHES, faults, misc


async def test_ghes_style_base_urls(fake: FakeGitHub, session: aiohttp.ClientSession) -> None:
    fake.setup_pull({"a": "1\n"}, {"a": "2\n", "b": "3\n"})
    gh = client(session, fake, ghes=True)
    assert (await gh.getitem("/repos/octo/app/pulls/1"))["url"].startswith(fake.ghes_base_url)
    token = fake.issue_token(1)
    async with session.get(
        f"{fake.ghes_base_url}/repos/octo/app/pulls/1/files?per_page=1", headers={"Authorization": f"Bearer {token}"}
    ) as resp:
        assert resp.status == 200 and "/api/v3/repos/octo/app/pulls/1/files" in str(resp.links["last"]["url"])
    data = await gh.graphql(THREADS_QUERY, endpoint=fake.ghes_graphql_url, owner="octo", name="app", number=1)
    assert data["repository"]["pullRequest"]["reviewThreads"]["nodes"] == []


async def test_fault_injection_and_unknown_endpoints(fake: FakeGitHub, session: aiohttp.ClientSession) -> None:
    fake.setup_pull({"a": "1\n"}, {"a": "2\n"})
    gh = client(session, fake)
    fake.fail_next(2, status=502, path=r"/pulls/")
    for _ in range(2):
        with pytest.raises(GitHubBroken):
            await gh.getitem("/repos/octo/app/pulls/1")
    await gh.getitem("/repos/octo/app/pulls/1")

    fake.rate_limit_next(1, retry_after=3, method="POST")
    await gh.getitem("/repos/octo/app")  # a GET is not affected
    with pytest.raises(BadRequest) as caught:
        await gh.post("/repos/octo/app/check-runs", data={"name": "u", "head_sha": "0" * 40})
    assert caught.value.status_code == 403 and "secondary rate limit" in str(caught.value)
    assert caught.value.headers["retry-after"] == "3"

    fake.primary_rate_limit_next(1, reset_in=5)
    with pytest.raises(RateLimitExceeded):
        await gh.getitem("/repos/octo/app")

    with pytest.raises(BadRequest) as caught:
        await gh.getitem("/repos/octo/app/issues")
    assert caught.value.status_code == 404
    assert [r.status for r in fake.requests][-1] == 404 and fake.faults == []

    fake.content_writes_per_minute = 2  # GitHub's secondary limit on bursts of content creation
    pr = fake.pull("octo/app", 1)
    for _ in range(2):
        await gh.post("/repos/octo/app/check-runs", data={"name": "u", "head_sha": pr.head_sha})
    with pytest.raises(BadRequest, match="secondary rate limit") as caught:
        await gh.post("/repos/octo/app/check-runs", data={"name": "u", "head_sha": pr.head_sha})
    assert 0 < int(caught.value.headers["retry-after"]) <= 60 and len(fake.check_runs) == 2

    fake.latency = 0.05
    started = time.monotonic()
    await asyncio.gather(*(gh.getitem("/repos/octo/app") for _ in range(4)))
    assert 0.05 <= time.monotonic() - started < 1 and fake.max_in_flight >= 2


async def test_random_faults_at_configured_rates(fake: FakeGitHub, session: aiohttp.ClientSession) -> None:
    fake.setup_pull({"a": "1\n"}, {"a": "2\n"})
    gh = client(session, fake)

    async def statuses(n: int) -> list[int]:
        seen = []
        for _ in range(n):
            async with session.get(
                f"{fake.base_url}/repos/octo/app", headers={"Authorization": f"token {gh.oauth_token}"}
            ) as r:
                body = await r.json()
                seen.append(r.status)
                if r.status == 403:
                    assert "secondary rate limit" in body["message"] and r.headers["retry-after"] == "2"
                elif r.status == 502:
                    assert body == {"message": "Server Error"}
        return seen

    await statuses(5)
    assert fake.random_faults == Counter()  # off by default; no random numbers drawn
    fake.fault_rates = {"502": 0.3, "secondary": 0.2}
    fake.fault_retry_after = 2
    fake.fault_random.seed(7)
    first = await statuses(300)
    counts = Counter(first)
    assert set(counts) == {200, 403, 502}
    assert 60 <= counts[502] <= 120 and 35 <= counts[403] <= 85 and counts[200] == 300 - counts[502] - counts[403]
    assert fake.random_faults == Counter({"502": counts[502], "secondary": counts[403]})
    fake.fault_random.seed(7)
    assert await statuses(300) == first  # serial requests: the same victims for the same seed

    fake.fault_rates = {"502": 1.0}
    for _ in range(3):  # the installation token endpoint is exempt by default
        async with session.post(
            f"{fake.base_url}/app/installations/1/access_tokens", headers={"Authorization": f"Bearer {fake.app_jwt()}"}
        ) as r:
            assert r.status == 201
    assert await statuses(3) == [502] * 3
    fake.fault_exempt = None
    async with session.post(
        f"{fake.base_url}/app/installations/1/access_tokens", headers={"Authorization": f"Bearer {fake.app_jwt()}"}
    ) as r:
        assert r.status == 502
    fake.fault_rates = {}
    assert await statuses(3) == [200] * 3


async def test_openapi_subset_checks_the_fake_itself(fake: FakeGitHub) -> None:
    subset = fake.openapi
    assert subset.source["package"] == "@octokit/openapi" and subset.source["version"]
    assert subset.errors("responses", "pulls/get", {"id": "1"})  # required fields, types
    assert not subset.errors("requests", "checks/create", {"name": "n", "head_sha": "s"})
    assert subset.errors("requests", "checks/update", {"status": "completed"})  # conclusion required


def test_gitrepo_works_on_a_fresh_machine(tmp_path: Path) -> None:
    repo = GitRepo.create(tmp_path / "r", {"a.txt": "1\n", "bin": b"\0\1", "s": Symlink("a.txt")})
    assert repo.branches() == ["main"] and repo.checked_out() == "main"
    repo.branch("topic")
    sha = repo.commit({"a.txt": "2\n", "b.txt": "b\n"}, "topic work", branch="topic")
    repo.commit({"c.txt": "c\n"}, "main work")
    merged = repo.merge("topic", "main")
    assert repo.head("topic") == merged and sha in repo.log("topic")
    assert repo.read("c.txt", "topic") == b"c\n" and (tmp_path / "r" / "c.txt").read_text() == "c\n"
    assert repo.git("ls-tree", "main", "s").split()[0] == "120000"
