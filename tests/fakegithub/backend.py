"""GitHubState: the fake's state with its setup API (no HTTP), lookups and cached git reads."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, cast

import jwt

from ..gitrepo import FileSpec, GitError, GitRepo
from .common import DEFAULT_PERMISSIONS, ids, iso, node_id, parse_time
from .diff import DiffFile, diff_files
from .keys import AppKey, shared_app_key
from .state import (
    CheckRun,
    FakeApp,
    FakeRepo,
    Installation,
    ManifestFlow,
    PullRequest,
    Review,
    ReviewComment,
    ReviewThread,
    Token,
)


class GitHubState:
    """Installations, repositories, pull requests, tokens, check runs and reviews, and how to set them up.

    The state (dataclasses in state.py): app, installations {id: Installation}, repos
    {full_name: FakeRepo}, pulls {(repo, n): PullRequest}, tokens {value: Token}, check_runs,
    reviews, review_comments {id: …} and threads {node_id: ReviewThread}. A pull request's head
    is fetched into its base repository as refs/pull/<n>/head, so it is readable there by SHA,
    as a fork's head is on GitHub. setup_pull() is the one call for the common case.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        app_id: int = 4242,
        slug: str = "unroot",
        key: AppKey | None = None,
        token_lifetime: float = 3600.0,
        max_patch_chars: int = 100_000,
    ) -> None:
        key = key or shared_app_key()
        self.workdir = workdir
        self.app = FakeApp(app_id, slug, f"Iv1.fake{app_id:08x}", key.private_pem, key.public_pem)
        self.token_lifetime = token_lifetime
        self.max_patch_chars = max_patch_chars
        self.contents_too_large_403 = False  # old behaviour: 403 too_large instead of encoding "none"
        self.require_start_side = True  # GitHub's docs call start_side required for multi-line comments
        # Entries a recursive tree listing holds before GitHub cuts it and says `truncated: true`
        # (GitHub: 100,000 entries or 7 MB); tests lower it to see the cut.
        self.tree_entry_limit = 100_000

        self.installations: dict[int, Installation] = {}
        self.repos: dict[str, FakeRepo] = {}
        self.pulls: dict[tuple[str, int], PullRequest] = {}
        self.tokens: dict[str, Token] = {}
        self.check_runs: dict[int, CheckRun] = {}
        self.reviews: dict[int, Review] = {}
        self.review_comments: dict[int, ReviewComment] = {}
        self.threads: dict[str, ReviewThread] = {}
        self.manifests = ManifestFlow()  # the App manifest flow: form posts and their codes

        self.next_id = ids(1001)  # ids of check runs, reviews, comments and pull requests, in one sequence
        self._next_repo_id = ids(500)
        self._numbers: dict[str, Callable[[], int]] = {}
        self._owner_ids: dict[str, int] = {}
        self._diff_cache: dict[tuple[str, str, str, int], list[DiffFile]] = {}
        self._commit_cache: dict[tuple[str, str], dict[str, Any]] = {}
        self._outdated_cache: dict[tuple[str, str, str, str], bool] = {}

    def add_installation(
        self, installation_id: int = 1, repos: Iterable[str] = (), *, account: str | None = None
    ) -> Installation:
        """Install the app on ACCOUNT (default: the first repo's owner, else "octo") for REPOS."""
        names = list(repos)
        owner = account or (names[0].split("/")[0] if names else "octo")
        inst = self.installations.get(installation_id)
        if inst is None:
            inst = self.installations[installation_id] = Installation(installation_id, owner)
        for name in names:
            inst.repos.add(self.repo(name).full_name)
        return inst

    def add_repo(
        self,
        full_name: str,
        git: GitRepo | None = None,
        *,
        files: Mapping[str, FileSpec] | None = None,
        default_branch: str = "main",
        installation_id: int | None = None,
        private: bool = False,
    ) -> FakeRepo:
        """Register a repository (a new git repo under workdir unless GIT is given)."""
        if "/" not in full_name:
            raise ValueError(f"{full_name!r}: expected owner/name")
        if git is None:
            initial = files if files is not None else {"README.md": f"# {full_name}\n"}
            git = GitRepo.create(self.workdir / "repos" / full_name, initial, branch=default_branch)
        repo = FakeRepo(full_name, git, default_branch, self._next_repo_id(), private=private)
        self.repos[full_name] = repo
        if installation_id is not None:
            self.add_installation(installation_id, account=repo.owner).repos.add(full_name)
        return repo

    def fork_repo(self, source: str, full_name: str, *, private: bool = False) -> FakeRepo:
        """A fork of SOURCE: a new git repository with all of SOURCE's branches (not installed)."""
        src = self.repo(source)
        git = GitRepo.create(self.workdir / "repos" / full_name, branch=src.default_branch)
        git.git("fetch", "-q", "--no-tags", "--update-head-ok", str(src.git.path), "+refs/heads/*:refs/heads/*")
        git.git("reset", "-q", "--hard", src.default_branch)
        repo = FakeRepo(full_name, git, src.default_branch, self._next_repo_id(), private=private, fork_of=source)
        self.repos[full_name] = repo
        return repo

    def repo(self, full_name: str) -> FakeRepo:
        """A registered repository (owner/name, case-insensitive); KeyError when unknown."""
        found = self.find_repo(full_name)
        if found is None:
            raise KeyError(full_name)
        return found

    def find_repo(self, full_name: str) -> FakeRepo | None:
        if full_name in self.repos:
            return self.repos[full_name]
        lowered = full_name.lower()
        return next((r for n, r in self.repos.items() if n.lower() == lowered), None)

    def open_pull(
        self,
        repo: str,
        *,
        head: str,
        base: str | None = None,
        head_repo: str | None = None,
        title: str = "Change",
        body: str = "",
        draft: bool = False,
        author: str = "octocat",
    ) -> PullRequest:
        """Open a PR from HEAD (a branch of HEAD_REPO, default REPO) into BASE (default branch)."""
        base_repo = self.repo(repo)
        source = self.repo(head_repo or repo)
        numbers = self._numbers.setdefault(base_repo.full_name, ids(1))
        pr = PullRequest(
            repo=base_repo.full_name,
            number=numbers(),
            id=self.next_id(),
            base_ref=base or base_repo.default_branch,
            base_sha="",
            head_ref=head,
            head_sha="",
            head_repo=source.full_name,
            title=title,
            body=body,
            draft=draft,
            author=author if source.full_name == base_repo.full_name else source.owner,
        )
        self.pulls[(pr.repo, pr.number)] = pr
        self._sync(pr)
        return pr

    def pull(self, repo: str, number: int) -> PullRequest:
        """A pull request; KeyError when unknown."""
        return self.pulls[(self.repo(repo).full_name, number)]

    def sync_pull(self, repo: str, number: int) -> PullRequest:
        """Re-read the PR's head (fetching a fork's branch again) and base branch tips."""
        pr = self.pull(repo, number)
        self._sync(pr)
        return pr

    def push_pull(
        self,
        repo: str,
        number: int,
        files: Mapping[str, FileSpec | None],
        message: str = "update",
        *,
        renames: Mapping[str, str] | None = None,
    ) -> str:
        """Commit FILES on the PR's head branch (in the head repository); return the new head SHA."""
        pr = self.pull(repo, number)
        self.repo(pr.head_repo).git.commit(files, message, branch=pr.head_ref, renames=renames)
        self._sync(pr)
        return pr.head_sha

    def _sync(self, pr: PullRequest) -> None:
        base_git = self.repo(pr.repo).git
        head_git = self.repo(pr.head_repo).git
        ref = f"refs/pull/{pr.number}/head"
        if pr.is_fork:
            base_git.fetch(head_git, f"+refs/heads/{pr.head_ref}:{ref}")
        else:
            base_git.git("update-ref", ref, head_git.head(pr.head_ref))
        pr.head_sha = base_git.head(ref)
        pr.base_sha = base_git.head(pr.base_ref)
        pr.updated_at = time.time()

    def setup_pull(
        self,
        base_files: Mapping[str, FileSpec],
        head_files: Mapping[str, FileSpec | None],
        *,
        repo: str = "octo/app",
        installation_id: int = 1,
        head: str = "feature",
        base: str = "main",
        head_repo: str | None = None,
        renames: Mapping[str, str] | None = None,
        message: str = "change",
        title: str = "Change",
    ) -> PullRequest:
        """One call for the common case: installation + repo with BASE_FILES on BASE, a branch HEAD
        (in the fork HEAD_REPO when given) with HEAD_FILES committed on top, and an open PR."""
        if installation_id not in self.installations:
            self.add_installation(installation_id, account=repo.split("/")[0])
        if self.find_repo(repo) is None:
            self.add_repo(repo, files=base_files, default_branch=base, installation_id=installation_id)
        else:
            self.installations[installation_id].repos.add(self.repo(repo).full_name)
        source = self.fork_repo(repo, head_repo) if head_repo and self.find_repo(head_repo) is None else None
        git = (source or self.repo(head_repo or repo)).git
        git.branch(head, from_=base)
        git.commit(head_files, message, branch=head, renames=renames)
        return self.open_pull(repo, head=head, base=base, head_repo=head_repo, title=title)

    def issue_token(
        self, installation_id: int = 1, *, lifetime: float | None = None, repos: Iterable[str] | None = None
    ) -> str:
        """An installation token, as POST …/access_tokens would return (no HTTP)."""
        value = "ghs_" + "".join(
            secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(36)
        )
        expires = time.time() + (self.token_lifetime if lifetime is None else lifetime)
        self.tokens[value] = Token(
            value, installation_id, expires, frozenset(repos) if repos is not None else None, dict(DEFAULT_PERMISSIONS)
        )
        return value

    def app_jwt(self, **claims: Any) -> str:
        """A valid app JWT (iat 60 s ago, exp in 9 min); CLAIMS override or add claims."""
        now = int(time.time())
        payload: dict[str, Any] = {"iat": now - 60, "exp": now + 540, "iss": str(self.app.app_id)}
        payload.update(claims)
        return jwt.encode(payload, self.app.private_pem, algorithm="RS256")

    def check_runs_for(self, repo: str, sha: str | None = None, name: str | None = None) -> list[CheckRun]:
        """Check runs of REPO (on SHA, named NAME), oldest first."""
        full = self.repo(repo).full_name
        return [
            r
            for r in self.check_runs.values()
            if r.repo == full and (sha is None or r.head_sha == sha) and (name is None or r.name == name)
        ]

    def review_as_user(
        self, repo: str, number: int, user: str, body: str, comment: tuple[str, int, str] | None = None
    ) -> Review:
        """A review a person posts from the web UI (not through the App's token), optionally with
        one inline comment (path, line, body) that opens a thread."""
        pr = self.pull(repo, number)
        now = time.time()
        review = Review(
            id=self.next_id(),
            repo=repo,
            pull_number=number,
            state="COMMENTED",
            event="COMMENT",
            body=body,
            commit_id=pr.head_sha,
            comment_ids=[],
            submitted_at=now,
            user=user,
        )
        self.reviews[review.id] = review
        if comment is not None:
            path, line, text = comment
            cid = self.next_id()
            thread_id = node_id("PRRT", cid)
            self.review_comments[cid] = ReviewComment(
                id=cid,
                node_id=node_id("PRRC", cid),
                repo=repo,
                pull_number=number,
                review_id=review.id,
                path=path,
                line=line,
                side="RIGHT",
                start_line=None,
                start_side=None,
                position=None,
                body=text,
                commit_id=pr.head_sha,
                diff_hunk="",
                user=user,
                created_at=now,
                thread_id=thread_id,
            )
            review.comment_ids.append(cid)
            self.threads[thread_id] = ReviewThread(
                id=thread_id,
                repo=repo,
                pull_number=number,
                comment_ids=[cid],
                path=path,
                line=line,
                start_line=None,
                side="RIGHT",
                start_side=None,
            )
        return review

    def reviews_for(self, repo: str, number: int) -> list[Review]:
        """Reviews of a PR, oldest first (pending ones included)."""
        full = self.repo(repo).full_name
        return [r for r in self.reviews.values() if r.repo == full and r.pull_number == number]

    def comments_for(self, repo: str, number: int) -> list[ReviewComment]:
        """Inline review comments of a PR, oldest first (pending reviews' included)."""
        full = self.repo(repo).full_name
        return [c for c in self.review_comments.values() if c.repo == full and c.pull_number == number]

    def threads_for(self, repo: str, number: int) -> list[ReviewThread]:
        """Review threads of a PR, oldest first."""
        full = self.repo(repo).full_name
        return [t for t in self.threads.values() if t.repo == full and t.pull_number == number]

    def can_access(self, token: Token, repo: FakeRepo) -> bool:
        inst = self.installations[token.installation_id]
        return repo.full_name in inst.repos and (token.repos is None or repo.full_name in token.repos)

    def resolve(self, repo: FakeRepo, ref: str) -> str | None:
        """The commit SHA REF names in REPO (branch, tag, SHA), or None."""
        if not ref or ref.startswith("-") or "\0" in ref:
            return None
        try:
            return repo.git.head(ref)
        except GitError:
            return None

    async def diff(self, repo: FakeRepo, base: str, head: str) -> list[DiffFile]:
        key = (repo.full_name, base, head, self.max_patch_chars)
        if key not in self._diff_cache:
            limit = self.max_patch_chars
            self._diff_cache[key] = await asyncio.to_thread(diff_files, repo.git, base, head, max_patch_chars=limit)
        return self._diff_cache[key]

    async def pull_diff(self, repo: FakeRepo, pr: PullRequest, commit: str | None = None) -> list[DiffFile]:
        head = commit or pr.head_sha
        base = await asyncio.to_thread(repo.git.merge_base, pr.base_sha, head)
        return await self.diff(repo, base, head)

    def commit_info(self, repo: FakeRepo, sha: str) -> dict[str, Any]:
        key = (repo.full_name, sha)
        if key not in self._commit_cache:
            fmt = "%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B"
            parts = repo.git.git("show", "-s", f"--format={fmt}", sha).split("\0")
            self._commit_cache[key] = {
                "sha": parts[0],
                "tree": parts[1],
                "parents": parts[2].split(),
                "author": {"name": parts[3], "email": parts[4], "date": iso(cast(float, parse_time(parts[5])))},
                "committer": {"name": parts[6], "email": parts[7], "date": iso(cast(float, parse_time(parts[8])))},
                "message": parts[9].rstrip("\n"),
            }
        return self._commit_cache[key]

    def outdated(self, comment: ReviewComment) -> bool:
        """Whether the commented file changed since the comment's commit (GitHub then nulls `line`)."""
        pr = self.pulls.get((comment.repo, comment.pull_number))
        if pr is None or comment.commit_id == pr.head_sha:
            return False
        key = (comment.repo, comment.commit_id, pr.head_sha, comment.path)
        if key not in self._outdated_cache:
            git = self.repo(comment.repo).git
            try:
                changed = git.git(
                    "--literal-pathspecs", "diff", "--name-only", comment.commit_id, pr.head_sha, "--", comment.path
                )
                self._outdated_cache[key] = bool(changed.strip())
            except GitError:
                self._outdated_cache[key] = True
        return self._outdated_cache[key]

    def owner_id(self, login: str) -> int:
        return self._owner_ids.setdefault(login.lower(), 9000 + len(self._owner_ids))

    def visible_comments(self, repo: str, number: int) -> list[ReviewComment]:
        return [c for c in self.comments_for(repo, number) if self.reviews[c.review_id].state != "PENDING"]

    def review_visible(self, review: Review) -> bool:
        """Pending reviews show to their author only (the viewer is always the app's bot)."""
        return review.state != "PENDING" or review.user == self.app.bot_login
