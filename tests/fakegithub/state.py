"""What the fake GitHub knows: the App, installations, repositories, pull requests, tokens, check runs, reviews."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from ..gitrepo import GitRepo
from .common import JSONValue


@dataclass
class FakeApp:
    """The GitHub App the bot authenticates as."""

    app_id: int
    slug: str
    client_id: str
    private_pem: str
    public_pem: str
    name: str = "unroot"
    owner: str = "unroot-dev"

    @property
    def bot_login(self) -> str:
        """The login of the app's bot user, as comments and reviews show it."""
        return f"{self.slug}[bot]"

    @property
    def bot_id(self) -> int:
        """The bot user's numeric id."""
        return 41898282 + self.app_id


@dataclass
class Installation:
    """An installation of the app on an account, with the repositories it may access."""

    id: int
    account: str
    repos: set[str] = field(default_factory=set)
    suspended: bool = False
    created_at: float = field(default_factory=time.time)


@dataclass
class FakeRepo:
    """A repository: name, git repository on disk, default branch."""

    full_name: str
    git: GitRepo
    default_branch: str
    id: int
    private: bool = False
    fork_of: str | None = None
    created_at: float = field(default_factory=time.time)

    @property
    def owner(self) -> str:
        """The owner's login."""
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        """The repository's name without the owner."""
        return self.full_name.split("/", 1)[1]


@dataclass
class PullRequest:
    """An open pull request; base/head SHAs are commits of the base repository's git."""

    repo: str
    number: int
    id: int
    base_ref: str
    base_sha: str
    head_ref: str
    head_sha: str
    head_repo: str
    title: str = "Change"
    body: str = ""
    draft: bool = False
    state: str = "open"
    author: str = "octocat"
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    @property
    def is_fork(self) -> bool:
        """Whether the head lives in another repository."""
        return self.head_repo != self.repo


@dataclass
class Token:
    """An installation access token."""

    value: str
    installation_id: int
    expires_at: float
    repos: frozenset[str] | None = None
    permissions: dict[str, str] | None = None

    def valid(self, now: float | None = None) -> bool:
        """Not yet expired."""
        return (time.time() if now is None else now) < self.expires_at


@dataclass
class CheckRun:
    """A check run as the bot created and updated it."""

    id: int
    repo: str
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    started_at: float | None
    completed_at: float | None
    output: dict[str, Any]
    annotations: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    details_url: str | None
    external_id: str | None
    created_at: float
    bodies: list[dict[str, Any]] = field(default_factory=list)  # every POST/PATCH body, in order


@dataclass
class Review:
    """A pull request review."""

    id: int
    repo: str
    pull_number: int
    state: str
    event: str | None
    body: str
    commit_id: str
    comment_ids: list[int]
    submitted_at: float | None
    user: str
    created_at: float = field(default_factory=time.time)


@dataclass
class ReviewComment:
    """An inline review comment."""

    id: int
    node_id: str
    repo: str
    pull_number: int
    review_id: int
    path: str
    line: int | None
    side: str
    start_line: int | None
    start_side: str | None
    position: int | None
    body: str
    commit_id: str
    diff_hunk: str
    user: str
    created_at: float
    thread_id: str
    minimized_reason: str | None = None


@dataclass
class ReviewThread:
    """A review thread (one per inline comment the bot posts)."""

    id: str
    repo: str
    pull_number: int
    comment_ids: list[int]
    path: str
    line: int | None
    start_line: int | None
    side: str
    start_side: str | None
    is_resolved: bool = False
    resolved_by: str | None = None


@dataclass(frozen=True)
class LoggedRequest:
    """One request the fake answered."""

    method: str
    path: str
    route: str | None
    query: dict[str, str]
    body: JSONValue
    status: int
    auth: str
    headers: dict[str, str]
    started: float
    duration: float

    @property
    def call(self) -> str:
        """ "METHOD route" (or "METHOD path" when no route matched)."""
        return f"{self.method} {self.route or self.path}"


@dataclass
class ManifestPost:
    """One form post to …/settings/apps/new: the manifest, the state, the owner, and the code it got."""

    manifest: dict[str, Any]
    state: str
    organization: str
    code: str = field(default_factory=lambda: secrets.token_hex(10))
    converted: bool = False


@dataclass
class ManifestFlow:
    """What the fake's web side saw: every post, and the codes not converted yet."""

    posts: list[ManifestPost] = field(default_factory=list)
    next_app_id: int = 90001
