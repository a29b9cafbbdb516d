"""The fake's GraphQL objects: its state as the dicts and resolvers the GraphQL executor walks."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from ..gitrepo import GitError
from .backend import GitHubState
from .common import HTML_ROOT, iso, node_id, same_login
from .gitobjects import RawGitObject, blob_text, read_git_objects
from .graphql_engine import (
    REVIEW_STATES,
    GraphQLError,
    GraphQLExecutor,
    ResolveError,
    connection,
)
from .replies import Ctx, Reply
from .state import FakeRepo, PullRequest, Review, ReviewComment, ReviewThread, Token

MINIMIZE_REASONS = {
    "SPAM": "spam",
    "ABUSE": "abuse",
    "OFF_TOPIC": "off-topic",
    "OUTDATED": "outdated",
    "DUPLICATE": "duplicate",
    "RESOLVED": "resolved",
}


def query_root(gh: GitHubState, token: Token) -> dict[str, Any]:
    def repository(args: Mapping[str, Any]) -> dict[str, Any]:
        full = f"{args['owner']}/{args['name']}"
        repo = gh.find_repo(full)
        if repo is None or (repo.private and not gh.can_access(token, repo)):
            raise ResolveError(f"Could not resolve to a Repository with the name '{full}'.")
        return repo_object(gh, token, repo)

    def node(args: Mapping[str, Any]) -> dict[str, Any]:
        found = node_object(gh, token, str(args["id"]))
        if found is None:
            raise ResolveError(f"Could not resolve to a node with the global id of '{args['id']}'")
        return found

    return {"__typename": "Query", "repository": repository, "node": node, "viewer": bot_object(gh)}


def node_object(gh: GitHubState, token: Token, nid: str) -> dict[str, Any] | None:
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
    repo = gh.find_repo(full)
    return repo is not None and (not repo.private or gh.can_access(token, repo))


def bot_object(gh: GitHubState) -> dict[str, Any]:
    return {
        "__typename": "Bot",
        "id": node_id("BOT", gh.app.bot_id),
        "login": gh.app.slug,  # GraphQL's Bot.login has no "[bot]" suffix, unlike REST's user.login
        "url": f"{HTML_ROOT}/apps/{gh.app.slug}",
        "avatarUrl": lambda args: f"{HTML_ROOT}/avatars/{gh.app.slug}",
    }


def repo_object(gh: GitHubState, token: Token, repo: FakeRepo) -> dict[str, Any]:
    def pull_request(args: Mapping[str, Any]) -> dict[str, Any]:
        pr = gh.pulls.get((repo.full_name, args["number"]))
        if pr is None:
            raise ResolveError(f"Could not resolve to a PullRequest with the number of {args['number']}.")
        return pull_object(gh, token, pr)

    objects: dict[str, RawGitObject | None] = {}  # this Repository field's reads, by cat-file name

    def object_name(args: Mapping[str, Any]) -> str | None:
        expression, oid = args.get("expression"), args.get("oid")
        if expression is not None:
            return str(expression)
        if oid is not None:
            if not isinstance(oid, str) or not re.fullmatch(r"[0-9a-f]{40}", oid):
                raise GraphQLError(
                    f"Argument 'oid' on Field 'object' has an invalid value ({json.dumps(oid)}). "
                    "Expected type 'GitObjectID'."
                )
            return oid
        return None

    async def prefetch(fields: list[tuple[str, dict[str, Any]]]) -> None:
        names = sorted({n for name, args in fields if name == "object" and (n := object_name(args)) is not None})
        names = [n for n in names if n not in objects]
        if names:
            objects.update(zip(names, await asyncio.to_thread(read_git_objects, repo.git, names), strict=True))

    async def git_object(args: Mapping[str, Any]) -> dict[str, Any] | None:
        name = object_name(args)
        if name is None:
            return None
        if name not in objects:
            await prefetch([("object", dict(args))])
        raw = objects[name]
        if raw is None:
            return None
        path = name.partition(":")[2].strip("/") if args.get("expression") is not None else None
        return git_object_of(gh, token, repo, raw, path)

    return {
        "__typename": "Repository",
        "id": node_id("R", repo.id),
        "databaseId": repo.id,
        "name": repo.name,
        "nameWithOwner": repo.full_name,
        "owner": {
            "__typename": "Organization",
            "id": node_id("O", gh.owner_id(repo.owner)),
            "login": repo.owner,
        },
        "isPrivate": repo.private,
        "url": f"{HTML_ROOT}/{repo.full_name}",
        "pullRequest": pull_request,
        "object": git_object,
        "__prefetch__": prefetch,
    }


def pull_object(gh: GitHubState, token: Token, pr: PullRequest) -> dict[str, Any]:
    def review_threads(args: Mapping[str, Any]) -> Any:
        visible = [
            thread_object(gh, token, t)
            for t in gh.threads_for(pr.repo, pr.number)
            if gh.reviews[gh.review_comments[t.comment_ids[0]].review_id].state != "PENDING"
        ]
        return connection(
            visible, args, "reviewThreads", "PullRequestReviewThreadEdge", "PullRequestReviewThreadConnection"
        )

    def reviews(args: Mapping[str, Any]) -> Any:
        states = args.get("states")
        if states is not None and not isinstance(states, list):
            states = [states]  # GraphQL input coercion: a single value is a list of one
        if states is not None and any(s not in REVIEW_STATES for s in states):
            raise GraphQLError(
                f"Argument 'states' on Field 'reviews' has an invalid value ({json.dumps(states)}). "
                "Expected type '[PullRequestReviewState!]'."
            )
        author = args.get("author")
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


def thread_object(gh: GitHubState, token: Token, t: ReviewThread) -> dict[str, Any]:
    first = gh.review_comments[t.comment_ids[0]]
    outdated = gh.outdated(first)

    def comments(args: Mapping[str, Any]) -> Any:
        items = [comment_object(gh, token, gh.review_comments[i]) for i in t.comment_ids]
        return connection(items, args, "comments", "PullRequestReviewCommentEdge", "PullRequestReviewCommentConnection")

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
        "comments": comments,
    }


def actor_object(gh: GitHubState, login: str) -> dict[str, Any]:
    if login == gh.app.bot_login:
        return bot_object(gh)
    return {
        "__typename": "User",
        "id": node_id("U", gh.owner_id(login)),
        "login": login,
        "url": f"{HTML_ROOT}/{login}",
        "avatarUrl": lambda args: f"{HTML_ROOT}/avatars/{login}",
    }


def review_object(gh: GitHubState, token: Token, r: Review) -> dict[str, Any]:
    def comments(args: Mapping[str, Any]) -> Any:
        items = [comment_object(gh, token, gh.review_comments[i]) for i in r.comment_ids]
        return connection(items, args, "comments", "PullRequestReviewCommentEdge", "PullRequestReviewCommentConnection")

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
        "comments": comments,
    }


def git_common(gh: GitHubState, token: Token, repo: FakeRepo, typename: str, oid: str) -> dict[str, Any]:
    prefix = {"Blob": "B", "Tree": "T", "Commit": "C", "Tag": "TAG"}[typename]
    return {
        "__typename": typename,
        "id": node_id(prefix, int(oid[:8], 16)),
        "oid": oid,
        "abbreviatedOid": oid[:7],
        "repository": lambda args: repo_object(gh, token, repo),
    }


def commit_object(gh: GitHubState, token: Token, repo: FakeRepo, sha: str) -> dict[str, Any]:
    async def info() -> dict[str, Any]:
        try:
            return await asyncio.to_thread(gh.commit_info, repo, sha)
        except GitError as exc:
            raise ResolveError(f"Could not resolve to a Commit with the oid of '{sha}'.") from exc

    async def message(args: Mapping[str, Any]) -> str:
        return cast(str, (await info())["message"])

    async def headline(args: Mapping[str, Any]) -> str:
        return cast(str, (await info())["message"]).split("\n", 1)[0]

    async def authored(args: Mapping[str, Any]) -> str:
        return cast(str, (await info())["author"]["date"])

    async def committed(args: Mapping[str, Any]) -> str:
        return cast(str, (await info())["committer"]["date"])

    async def tree(args: Mapping[str, Any]) -> dict[str, Any]:
        return tree_object(gh, token, repo, cast(str, (await info())["tree"]), "")

    return {
        **git_common(gh, token, repo, "Commit", sha),
        "message": message,
        "messageHeadline": headline,
        "authoredDate": authored,
        "committedDate": committed,
        "url": f"{HTML_ROOT}/{repo.full_name}/commit/{sha}",
        "tree": tree,
    }


def tree_object(gh: GitHubState, token: Token, repo: FakeRepo, oid: str, path: str | None) -> dict[str, Any]:
    """A Tree; its entries' paths are PATH/name (just the name when PATH is None: read by oid)."""
    loaded: dict[str, RawGitObject | None] = {}

    async def entries(args: Mapping[str, Any]) -> list[dict[str, Any]]:
        out = await asyncio.to_thread(repo.git.git_bytes, "ls-tree", "-z", "--long", oid)
        rows: list[tuple[str, str, str, int, str]] = []
        for record in out.split(b"\0"):
            if record:
                meta, raw_name = record.split(b"\t", 1)
                r_mode, r_kind, r_obj, r_size = meta.decode().split()
                rows.append((r_mode, r_kind, r_obj, int(r_size) if r_size.isdigit() else 0, raw_name.decode()))

        def entry_object(obj: str, kind: str, full: str) -> Callable[[Any], Awaitable[dict[str, Any] | None]]:
            async def resolve(args: Any) -> dict[str, Any] | None:
                if kind == "commit":
                    return None  # a submodule: the commit is in another repository
                if not loaded:  # the first entry's object: read all the entries' objects at once
                    wanted = [o for _, k, o, _, _ in rows if k != "commit"]
                    found = await asyncio.to_thread(read_git_objects, repo.git, wanted)
                    loaded.update(zip(wanted, found, strict=True))
                raw = loaded.get(obj)
                return None if raw is None else git_object_of(gh, token, repo, raw, full)

            return resolve

        result = []
        for mode, kind, obj, size, name in rows:
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
                    "size": size,
                    "extension": f".{ext}" if dot and stem else None,
                    "object": entry_object(obj, kind, full),
                    "repository": lambda args: repo_object(gh, token, repo),
                }
            )
        return result

    return {**git_common(gh, token, repo, "Tree", oid), "entries": entries}


def git_object_of(gh: GitHubState, token: Token, repo: FakeRepo, raw: RawGitObject, path: str | None) -> dict[str, Any]:
    """A Blob, Tree, Commit or Tag (PATH: where the expression found it, for Tree entries' paths)."""
    if raw.type == "blob":
        is_binary, truncated, text = blob_text(raw.data)
        return {
            **git_common(gh, token, repo, "Blob", raw.oid),
            "byteSize": len(raw.data),
            "isBinary": is_binary,
            "isTruncated": truncated,
            "text": text,
        }
    if raw.type == "tree":
        return tree_object(gh, token, repo, raw.oid, path)
    if raw.type == "commit":
        return commit_object(gh, token, repo, raw.oid)
    head, _, message = raw.data.decode("utf-8", errors="replace").partition("\n\n")
    fields = dict(line.split(" ", 1) for line in head.splitlines() if " " in line)

    async def target(args: Mapping[str, Any]) -> dict[str, Any] | None:
        found = (await asyncio.to_thread(read_git_objects, repo.git, [fields.get("object", "")]))[0]
        return None if found is None else git_object_of(gh, token, repo, found, None)

    return {
        **git_common(gh, token, repo, "Tag", raw.oid),
        "name": fields.get("tag", ""),
        "message": message,
        "target": target,
    }


def comment_object(gh: GitHubState, token: Token, c: ReviewComment) -> dict[str, Any]:
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


def mutation_root(gh: GitHubState, token: Token) -> dict[str, Any]:
    def input_of(args: Mapping[str, Any], name: str, *required: str) -> dict[str, Any]:
        value = args.get("input")
        type_name = f"{name[0].upper()}{name[1:]}Input"
        if not isinstance(value, dict):
            raise GraphQLError(
                f"Argument 'input' on Field '{name}' has an invalid value. Expected type '{type_name}!'."
            )
        for key in required:
            if value.get(key) is None:
                raise GraphQLError(f"Argument '{key}' on InputObject '{type_name}' is required. Expected type ID!")
        return value

    def thread_for(tid: str) -> ReviewThread:
        thread = gh.threads.get(tid)
        if thread is None or not visible(gh, token, thread.repo):
            raise ResolveError(f"Could not resolve to a node with the global id of '{tid}'")
        if not gh.can_access(token, gh.repo(thread.repo)):
            raise ResolveError("Resource not accessible by integration", "FORBIDDEN")
        return thread

    def set_resolved(name: str, value: bool) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
        def mutate(args: Mapping[str, Any]) -> dict[str, Any]:
            inp = input_of(args, name, "threadId")
            thread = thread_for(str(inp["threadId"]))
            thread.is_resolved = value
            thread.resolved_by = gh.app.bot_login if value else None
            return {
                "__typename": f"{name[0].upper()}{name[1:]}Payload",
                "thread": thread_object(gh, token, thread),
                "clientMutationId": inp.get("clientMutationId"),
            }

        return mutate

    def minimize(args: Mapping[str, Any]) -> dict[str, Any]:
        inp = input_of(args, "minimizeComment", "subjectId", "classifier")
        classifier = str(inp["classifier"])
        if classifier not in MINIMIZE_REASONS:
            raise GraphQLError(
                f"Argument 'classifier' on InputObject 'MinimizeCommentInput' has an invalid value ({classifier}). "
                "Expected type 'ReportedContentClassifiers!'."
            )
        comment = next((c for c in gh.review_comments.values() if c.node_id == inp["subjectId"]), None)
        if comment is None or not visible(gh, token, comment.repo):
            raise ResolveError(f"Could not resolve to a node with the global id of '{inp['subjectId']}'")
        if not gh.can_access(token, gh.repo(comment.repo)):
            raise ResolveError("Resource not accessible by integration", "FORBIDDEN")
        comment.minimized_reason = MINIMIZE_REASONS[classifier]
        return {
            "__typename": "MinimizeCommentPayload",
            "minimizedComment": comment_object(gh, token, comment),
            "clientMutationId": inp.get("clientMutationId"),
        }

    return {
        "__typename": "Mutation",
        "resolveReviewThread": set_resolved("resolveReviewThread", True),
        "unresolveReviewThread": set_resolved("unresolveReviewThread", False),
        "minimizeComment": minimize,
    }


async def graphql(gh: GitHubState, ctx: Ctx) -> Reply:
    body = ctx.body
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return Reply(200, {"errors": [{"message": "A query attribute must be specified and must be a string."}]})
    variables = body.get("variables")
    if variables is not None and not isinstance(variables, dict):
        return Reply(200, {"errors": [{"message": "Variables are invalid JSON."}]})
    try:
        executor = GraphQLExecutor(body["query"], variables, body.get("operationName"))
        token = cast(Token, ctx.token)
        root = mutation_root(gh, token) if executor.root_type == "Mutation" else query_root(gh, token)
        result = await executor.execute(root)
    except GraphQLError as exc:
        err: dict[str, Any] = {"message": exc.message}
        if exc.path is not None:
            err["path"] = exc.path
        err.update(exc.extra)
        return Reply(200, {"errors": [err]})
    return Reply(200, result)
