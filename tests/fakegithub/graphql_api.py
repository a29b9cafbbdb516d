"""The fake's GraphQL API: POST /graphql, and its state as the objects (dicts of values and resolvers) queries reach.

What is served is what tests/data/github-graphql-subset.json describes (GitHub's own types,
arguments and nullability; tools/make_graphql_subset.py lists them): Query.repository and
node, Repository.pullRequest and object(expression | oid), pull requests' reviewThreads and
reviews, their comments, and the resolveReviewThread, unresolveReviewThread and
minimizeComment mutations. Repository.object is null when the rev or path does not exist; a
rev is a branch, tag or SHA (a fork's head SHA too), read with real git; Blob.text is cut at
512,000 bytes with isTruncated, and is null for a binary blob (a NUL byte, or not UTF-8).
A field's value is a plain value or a callable of the field's arguments (graphql_engine's
resolve_field calls it); an async one makes graphql-core run it alongside its siblings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, cast

from ..gitrepo import GitError
from .backend import GitHubState
from .common import HTML_ROOT, iso, node_id, same_login
from .gitobjects import GitObjectReads, RawGitObject, blob_text
from .graphql_engine import ResolveError, connection, run_query
from .replies import Ctx, Reply
from .state import FakeRepo, PullRequest, Review, ReviewComment, ReviewThread, Token

Args = Mapping[str, Any]
GraphQLObject = dict[str, Any]
MINIMIZE_REASONS = {
    "SPAM": "spam",
    "ABUSE": "abuse",
    "OFF_TOPIC": "off-topic",
    "OUTDATED": "outdated",
    "DUPLICATE": "duplicate",
    "RESOLVED": "resolved",
}


async def graphql(gh: GitHubState, ctx: Ctx) -> Reply:
    """POST /graphql: one request, one query (however many objects it reads), answered 200 as GitHub does."""
    body = ctx.body
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return Reply(200, {"errors": [{"message": "A query attribute must be specified and must be a string."}]})
    variables = body.get("variables")
    if variables is not None and not isinstance(variables, dict):
        return Reply(200, {"errors": [{"message": "Variables are invalid JSON."}]})
    token = cast(Token, ctx.token)
    root = {**query_root(gh, token), **mutation_root(gh, token)}  # graphql-core picks by operation
    return Reply(200, await run_query(body["query"], variables, body.get("operationName"), root))


def query_root(gh: GitHubState, token: Token) -> GraphQLObject:
    """Query: repository(owner, name) and node(id), as TOKEN may see them."""

    def repository(args: Args) -> GraphQLObject:
        full = f"{args['owner']}/{args['name']}"
        repo = gh.find_repo(full)
        if repo is None or (repo.private and not gh.can_access(token, repo)):
            raise ResolveError(f"Could not resolve to a Repository with the name '{full}'.")
        return repo_object(gh, token, repo)

    def node(args: Args) -> GraphQLObject:
        found = node_object(gh, token, str(args["id"]))
        if found is None:
            raise ResolveError(f"Could not resolve to a node with the global id of '{args['id']}'")
        return found

    return {"repository": repository, "node": node}


def node_object(gh: GitHubState, token: Token, nid: str) -> GraphQLObject | None:
    """The review thread, review comment or review with node id NID, if TOKEN may see it."""
    thread = gh.threads.get(nid)
    if thread is not None and visible(gh, token, thread.repo):
        return thread_object(gh, token, thread)
    comment = next((c for c in gh.review_comments.values() if c.node_id == nid), None)
    if comment is not None and visible(gh, token, comment.repo):
        return comment_object(gh, token, comment)
    review = next((r for r in gh.reviews.values() if node_id("PRR", r.id) == nid), None)
    if review is not None and visible(gh, token, review.repo) and gh.review_visible(review):
        return review_object(gh, token, review)
    return None


def visible(gh: GitHubState, token: Token, full: str) -> bool:
    """Whether TOKEN may read repository FULL through GraphQL (any public one, its own private ones)."""
    repo = gh.find_repo(full)
    return repo is not None and (not repo.private or gh.can_access(token, repo))


def bot_object(gh: GitHubState) -> GraphQLObject:
    """The App's bot as an Actor."""
    return {
        "__typename": "Bot",
        "id": node_id("BOT", gh.app.bot_id),
        "login": gh.app.slug,  # GraphQL's Bot.login has no "[bot]" suffix, unlike REST's user.login
        "url": f"{HTML_ROOT}/apps/{gh.app.slug}",
        "avatarUrl": lambda args: f"{HTML_ROOT}/avatars/{gh.app.slug}",
    }


def repo_object(gh: GitHubState, token: Token, repo: FakeRepo) -> GraphQLObject:
    """A Repository. Its `object` fields (the bot asks for 50 aliased blobs at once) are read
    together, with one `git cat-file --batch`."""
    reads = GitObjectReads(repo.git)

    def pull_request(args: Args) -> GraphQLObject:
        pr = gh.pulls.get((repo.full_name, args["number"]))
        if pr is None:
            raise ResolveError(f"Could not resolve to a PullRequest with the number of {args['number']}.")
        return pull_object(gh, token, pr)

    def git_object(args: Args) -> Awaitable[GraphQLObject | None] | None:
        expression, oid = args.get("expression"), args.get("oid")
        name = expression if expression is not None else oid
        if name is None:
            return None
        path = str(expression).partition(":")[2].strip("/") if expression is not None else None
        return _completed(gh, token, repo, reads, reads.get(str(name)), path)

    owner = {
        "__typename": "Organization",
        "id": node_id("O", gh.owner_id(repo.owner)),
        "login": repo.owner,
        "url": f"{HTML_ROOT}/{repo.owner}",
        "avatarUrl": lambda args: f"{HTML_ROOT}/avatars/{repo.owner}",
    }
    return {
        "__typename": "Repository",
        "id": node_id("R", repo.id),
        "databaseId": repo.id,
        "name": repo.name,
        "nameWithOwner": repo.full_name,
        "owner": owner,
        "isPrivate": repo.private,
        "url": f"{HTML_ROOT}/{repo.full_name}",
        "pullRequest": pull_request,
        "object": git_object,
    }


async def _completed(
    gh: GitHubState,
    token: Token,
    repo: FakeRepo,
    reads: GitObjectReads,
    read: Awaitable[RawGitObject | None],
    path: str | None,
) -> GraphQLObject | None:
    raw = await read
    return None if raw is None else git_object_of(gh, token, repo, raw, path, reads)


def _comments(gh: GitHubState, token: Token, comment_ids: Sequence[int]) -> Callable[[Args], Any]:
    """The `comments` connection of a thread or a review."""

    def comments(args: Args) -> Any:
        items = [comment_object(gh, token, gh.review_comments[i]) for i in comment_ids]
        return connection(items, args, "comments", "PullRequestReviewCommentEdge", "PullRequestReviewCommentConnection")

    return comments


def pull_object(gh: GitHubState, token: Token, pr: PullRequest) -> GraphQLObject:
    """A PullRequest, with its submitted review threads and the reviews the viewer (the bot) may see."""

    def review_threads(args: Args) -> Any:
        submitted = [
            thread_object(gh, token, t)
            for t in gh.threads_for(pr.repo, pr.number)
            if gh.reviews[gh.review_comments[t.comment_ids[0]].review_id].state != "PENDING"
        ]
        return connection(
            submitted, args, "reviewThreads", "PullRequestReviewThreadEdge", "PullRequestReviewThreadConnection"
        )

    def reviews(args: Args) -> Any:
        states, author = args.get("states"), args.get("author")  # states: the schema checked its values
        items = [
            review_object(gh, token, r)
            for r in gh.reviews_for(pr.repo, pr.number)
            if gh.review_visible(r)
            and (states is None or r.state in states)
            and (author is None or same_login(str(author), r.user))
        ]
        return connection(items, args, "reviews", "PullRequestReviewEdge", "PullRequestReviewConnection")

    return {
        "__typename": "PullRequest",
        "id": node_id("PR", pr.id),
        "databaseId": pr.id,
        "number": pr.number,
        "title": pr.title,
        "body": pr.body,
        "author": actor_object(gh, pr.author),
        "createdAt": iso(pr.created_at),
        "state": pr.state.upper(),
        "isDraft": pr.draft,
        "url": f"{HTML_ROOT}/{pr.repo}/pull/{pr.number}",
        "headRefName": pr.head_ref,
        "headRefOid": pr.head_sha,
        "baseRefName": pr.base_ref,
        "baseRefOid": pr.base_sha,
        "reviewThreads": review_threads,
        "reviews": reviews,
    }


def thread_object(gh: GitHubState, token: Token, t: ReviewThread) -> GraphQLObject:
    """A PullRequestReviewThread: outdated (line null) once a push changed its file."""
    outdated = gh.outdated(gh.review_comments[t.comment_ids[0]])
    return {
        "__typename": "PullRequestReviewThread",
        "id": t.id,
        "isResolved": t.is_resolved,
        "isOutdated": outdated,
        "isCollapsed": t.is_resolved,
        "path": t.path,
        "line": None if outdated else t.line,
        "originalLine": t.line,
        "startLine": None if outdated else t.start_line,
        "originalStartLine": t.start_line,
        "diffSide": t.side,
        "startDiffSide": t.start_side,
        "viewerCanResolve": not t.is_resolved,
        "viewerCanUnresolve": t.is_resolved,
        "resolvedBy": None,
        "pullRequest": lambda args: pull_object(gh, token, gh.pulls[(t.repo, t.pull_number)]),
        "comments": _comments(gh, token, t.comment_ids),
    }


def actor_object(gh: GitHubState, login: str) -> GraphQLObject:
    """The bot, or a User."""
    if login == gh.app.bot_login:
        return bot_object(gh)
    return {
        "__typename": "User",
        "id": node_id("U", gh.owner_id(login)),
        "login": login,
        "url": f"{HTML_ROOT}/{login}",
        "avatarUrl": lambda args: f"{HTML_ROOT}/avatars/{login}",
    }


def review_object(gh: GitHubState, token: Token, r: Review) -> GraphQLObject:
    """A PullRequestReview; viewerDidAuthor tells the bot its own reviews from anyone else's."""
    return {
        "__typename": "PullRequestReview",
        "id": node_id("PRR", r.id),
        "databaseId": r.id,
        "fullDatabaseId": str(r.id),
        "body": r.body,
        "bodyText": r.body,
        "state": r.state,
        "author": actor_object(gh, r.user),
        "commit": commit_object(gh, token, gh.repo(r.repo), r.commit_id),
        "submittedAt": None if r.submitted_at is None else iso(r.submitted_at),
        "createdAt": iso(r.created_at),
        "url": f"{HTML_ROOT}/{r.repo}/pull/{r.pull_number}#pullrequestreview-{r.id}",
        "viewerDidAuthor": r.user == gh.app.bot_login,
        "pullRequest": lambda args: pull_object(gh, token, gh.pulls[(r.repo, r.pull_number)]),
        "comments": _comments(gh, token, r.comment_ids),
        "isMinimized": False,
        "minimizedReason": None,
        "viewerCanMinimize": False,
    }


def comment_object(gh: GitHubState, token: Token, c: ReviewComment) -> GraphQLObject:
    """A PullRequestReviewComment (line null when outdated)."""
    outdated = gh.outdated(c)
    return {
        "__typename": "PullRequestReviewComment",
        "id": c.node_id,
        "databaseId": c.id,
        "fullDatabaseId": str(c.id),
        "body": c.body,
        "path": c.path,
        "line": None if outdated else c.line,
        "originalLine": c.line,
        "startLine": None if outdated else c.start_line,
        "diffHunk": c.diff_hunk,
        "outdated": outdated,
        "url": f"{HTML_ROOT}/{c.repo}/pull/{c.pull_number}#discussion_r{c.id}",
        "createdAt": iso(c.created_at),
        "author": actor_object(gh, c.user),
        "viewerDidAuthor": c.user == gh.app.bot_login,
        "commit": commit_object(gh, token, gh.repo(c.repo), c.commit_id),
        "isMinimized": c.minimized_reason is not None,
        "minimizedReason": c.minimized_reason,
        "viewerCanMinimize": True,
    }


def _git_common(gh: GitHubState, token: Token, repo: FakeRepo, typename: str, oid: str) -> GraphQLObject:
    """The fields every GitObject has."""
    prefix = {"Blob": "B", "Tree": "T", "Commit": "C", "Tag": "TAG"}[typename]
    return {
        "__typename": typename,
        "id": node_id(prefix, int(oid[:8], 16)),
        "oid": oid,
        "abbreviatedOid": oid[:7],
        "repository": lambda args: repo_object(gh, token, repo),
    }


def git_object_of(
    gh: GitHubState, token: Token, repo: FakeRepo, raw: RawGitObject, path: str | None, reads: GitObjectReads
) -> GraphQLObject:
    """A Blob, Tree, Commit or Tag (PATH: where the expression found it, for Tree entries' paths)."""
    if raw.type == "blob":
        is_binary, truncated, text = blob_text(raw.data)
        return {
            **_git_common(gh, token, repo, "Blob", raw.oid),
            "byteSize": len(raw.data),
            "isBinary": is_binary,
            "isTruncated": truncated,
            "text": text,
        }
    if raw.type == "tree":
        return tree_object(gh, token, repo, raw.oid, path, reads)
    if raw.type == "commit":
        return commit_object(gh, token, repo, raw.oid, reads)
    head, _, message = raw.data.decode("utf-8", errors="replace").partition("\n\n")
    fields = dict(line.split(" ", 1) for line in head.splitlines() if " " in line)
    return {
        **_git_common(gh, token, repo, "Tag", raw.oid),
        "name": fields.get("tag", ""),
        "message": message,
        "target": lambda args: _completed(gh, token, repo, reads, reads.get(fields.get("object", "")), None),
    }


def commit_object(
    gh: GitHubState, token: Token, repo: FakeRepo, sha: str, reads: GitObjectReads | None = None
) -> GraphQLObject:
    """A Commit, read from git only when a query asks for more than its oid."""

    async def info() -> dict[str, Any]:
        try:
            return await asyncio.to_thread(gh.commit_info, repo, sha)
        except GitError as exc:
            raise ResolveError(f"Could not resolve to a Commit with the oid of '{sha}'.") from exc

    async def message(args: Args) -> str:
        return cast(str, (await info())["message"])

    async def headline(args: Args) -> str:
        return cast(str, (await info())["message"]).split("\n", 1)[0]

    async def authored(args: Args) -> str:
        return cast(str, (await info())["author"]["date"])

    async def committed(args: Args) -> str:
        return cast(str, (await info())["committer"]["date"])

    async def tree(args: Args) -> GraphQLObject:
        return tree_object(gh, token, repo, cast(str, (await info())["tree"]), "", reads or GitObjectReads(repo.git))

    return {
        **_git_common(gh, token, repo, "Commit", sha),
        "message": message,
        "messageHeadline": headline,
        "authoredDate": authored,
        "committedDate": committed,
        "url": f"{HTML_ROOT}/{repo.full_name}/commit/{sha}",
        "tree": tree,
    }


def tree_object(
    gh: GitHubState, token: Token, repo: FakeRepo, oid: str, path: str | None, reads: GitObjectReads
) -> GraphQLObject:
    """A Tree; its entries' paths are PATH/name (just the name when PATH is None: read by oid).
    The entries' objects are read together, like a Repository's."""

    def entry_object(obj: str, kind: str, full: str) -> Callable[[Args], Awaitable[GraphQLObject | None] | None]:
        def resolve(args: Args) -> Awaitable[GraphQLObject | None] | None:
            if kind == "commit":
                return None  # a submodule: the commit is in another repository
            return _completed(gh, token, repo, reads, reads.get(obj), full)

        return resolve

    async def entries(args: Args) -> list[GraphQLObject]:
        out = await asyncio.to_thread(repo.git.git_bytes, "ls-tree", "-z", "--long", oid)
        result = []
        for record in filter(None, out.split(b"\0")):
            meta, raw_name = record.split(b"\t", 1)
            mode, kind, obj, size = meta.decode().split()
            name = raw_name.decode()
            full = f"{path}/{name}" if path else name
            stem, dot, ext = name.rpartition(".")
            result.append(
                {
                    "__typename": "TreeEntry",
                    "name": name,
                    "path": full,
                    "type": kind,
                    "mode": int(mode, 8),
                    "oid": obj,
                    "size": int(size) if size.isdigit() else 0,
                    "extension": f".{ext}" if dot and stem else None,
                    "object": entry_object(obj, kind, full),
                    "repository": lambda args: repo_object(gh, token, repo),
                }
            )
        return result

    return {**_git_common(gh, token, repo, "Tree", oid), "entries": entries}


def mutation_root(gh: GitHubState, token: Token) -> GraphQLObject:
    """Mutation: resolveReviewThread, unresolveReviewThread, minimizeComment (inputs checked by the schema)."""

    def writable(repo: str) -> None:
        if not gh.can_access(token, gh.repo(repo)):
            raise ResolveError("Resource not accessible by integration", "FORBIDDEN")

    def set_resolved(payload: str, value: bool) -> Callable[[Args], GraphQLObject]:
        def mutate(args: Args) -> GraphQLObject:
            given = args["input"]
            thread = gh.threads.get(str(given["threadId"]))
            if thread is None or not visible(gh, token, thread.repo):
                raise ResolveError(f"Could not resolve to a node with the global id of '{given['threadId']}'")
            writable(thread.repo)
            thread.is_resolved = value
            thread.resolved_by = gh.app.bot_login if value else None
            return {
                "__typename": payload,
                "thread": thread_object(gh, token, thread),
                "clientMutationId": given.get("clientMutationId"),
            }

        return mutate

    def minimize(args: Args) -> GraphQLObject:
        given = args["input"]
        comment = next((c for c in gh.review_comments.values() if c.node_id == given["subjectId"]), None)
        if comment is None or not visible(gh, token, comment.repo):
            raise ResolveError(f"Could not resolve to a node with the global id of '{given['subjectId']}'")
        writable(comment.repo)
        comment.minimized_reason = MINIMIZE_REASONS[given["classifier"]]
        return {
            "__typename": "MinimizeCommentPayload",
            "minimizedComment": comment_object(gh, token, comment),
            "clientMutationId": given.get("clientMutationId"),
        }

    return {
        "resolveReviewThread": set_resolved("ResolveReviewThreadPayload", True),
        "unresolveReviewThread": set_resolved("UnresolveReviewThreadPayload", False),
        "minimizeComment": minimize,
    }
