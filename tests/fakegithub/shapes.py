"""The JSON GitHub's REST API answers with, built from the fake's state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from .backend import GitHubState
from .common import APP_EVENTS, DEFAULT_PERMISSIONS, HTML_ROOT, iso, node_id
from .diff import DiffFile
from .state import CheckRun, FakeRepo, Installation, PullRequest, Review, ReviewComment

REPO_URL_SUFFIXES = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}


def user(gh: GitHubState, api: str, login: str, id_: int | None = None, type_: str = "User") -> dict[str, Any]:
    uid = id_ if id_ is not None else gh.owner_id(login)
    url = f"{api}/users/{quote(login)}"
    return {
        "login": login,
        "id": uid,
        "node_id": node_id("U", uid),
        "avatar_url": f"{HTML_ROOT}/avatars/{quote(login)}",
        "gravatar_id": "",
        "url": url,
        "html_url": f"{HTML_ROOT}/{quote(login)}",
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs",
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": type_,
        "user_view_type": "public",
        "site_admin": False,
    }


def bot(gh: GitHubState, api: str) -> dict[str, Any]:
    return user(gh, api, gh.app.bot_login, gh.app.bot_id, "Bot")


def repo_json(gh: GitHubState, api: str, repo: FakeRepo, *, full: bool = False) -> dict[str, Any]:
    url = f"{api}/repos/{repo.full_name}"
    out: dict[str, Any] = {
        "id": repo.id,
        "node_id": node_id("R", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
        "owner": user(gh, api, repo.owner),
        "html_url": f"{HTML_ROOT}/{repo.full_name}",
        "description": None,
        "fork": repo.fork_of is not None,
        "url": url,
    }
    out.update({k: url + suffix for k, suffix in REPO_URL_SUFFIXES.items()})
    out.update(
        {
            "git_url": f"git://github.invalid/{repo.full_name}.git",
            "ssh_url": f"git@github.invalid:{repo.full_name}.git",
            "clone_url": f"{HTML_ROOT}/{repo.full_name}.git",
            "svn_url": f"{HTML_ROOT}/{repo.full_name}",
            "mirror_url": None,
            "homepage": None,
            "language": None,
            "size": 0,
            "forks": 0,
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers": 0,
            "watchers_count": 0,
            "open_issues": 0,
            "open_issues_count": 0,
            "default_branch": repo.default_branch,
            "has_issues": True,
            "has_projects": True,
            "has_wiki": True,
            "has_pages": False,
            "has_downloads": True,
            "has_discussions": False,
            "archived": False,
            "disabled": False,
            "visibility": "private" if repo.private else "public",
            "license": None,
            "allow_forking": True,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "pushed_at": iso(repo.created_at),
            "created_at": iso(repo.created_at),
            "updated_at": iso(repo.created_at),
        }
    )
    if full:
        out.update({"network_count": 0, "subscribers_count": 0})
        if repo.fork_of is not None and gh.find_repo(repo.fork_of) is not None:
            parent = repo_json(gh, api, gh.repo(repo.fork_of))
            out.update({"parent": parent, "source": parent})
    return out


def integration(gh: GitHubState, api: str) -> dict[str, Any]:
    return {
        "id": gh.app.app_id,
        "slug": gh.app.slug,
        "node_id": node_id("A", gh.app.app_id),
        "client_id": gh.app.client_id,
        "owner": user(gh, api, gh.app.owner, type_="Organization"),
        "name": gh.app.name,
        "description": "Keeps containers from running as root",
        "external_url": f"{HTML_ROOT}/apps/{gh.app.slug}",
        "html_url": f"{HTML_ROOT}/apps/{gh.app.slug}",
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
        "permissions": dict(DEFAULT_PERMISSIONS),
        "events": list(APP_EVENTS),
    }


def installation_json(gh: GitHubState, api: str, inst: Installation) -> dict[str, Any]:
    account = user(gh, api, inst.account, type_="Organization")
    return {
        "id": inst.id,
        "account": account,
        "repository_selection": "selected",
        "access_tokens_url": f"{api}/app/installations/{inst.id}/access_tokens",
        "repositories_url": f"{api}/installation/repositories",
        "html_url": f"{HTML_ROOT}/organizations/{inst.account}/settings/installations/{inst.id}",
        "app_id": gh.app.app_id,
        "app_slug": gh.app.slug,
        "target_id": account["id"],
        "target_type": "Organization",
        "permissions": dict(DEFAULT_PERMISSIONS),
        "events": list(APP_EVENTS),
        "created_at": iso(inst.created_at),
        "updated_at": iso(inst.created_at),
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }


def commit_json(gh: GitHubState, api: str, repo: FakeRepo, sha: str) -> dict[str, Any]:
    info = gh.commit_info(repo, sha)
    url = f"{api}/repos/{repo.full_name}/commits/{sha}"
    return {
        "sha": sha,
        "node_id": node_id("C", int(sha[:8], 16)),
        "url": url,
        "html_url": f"{HTML_ROOT}/{repo.full_name}/commit/{sha}",
        "comments_url": f"{url}/comments",
        "commit": {
            "url": f"{api}/repos/{repo.full_name}/git/commits/{sha}",
            "author": info["author"],
            "committer": info["committer"],
            "message": info["message"],
            "comment_count": 0,
            "tree": {"sha": info["tree"], "url": f"{api}/repos/{repo.full_name}/git/trees/{info['tree']}"},
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        },
        "author": None,
        "committer": None,
        "parents": [
            {
                "sha": p,
                "url": f"{api}/repos/{repo.full_name}/commits/{p}",
                "html_url": f"{HTML_ROOT}/{repo.full_name}/commit/{p}",
            }
            for p in info["parents"]
        ],
    }


def file_json(gh: GitHubState, api: str, repo: FakeRepo, ref: str, f: DiffFile) -> dict[str, Any]:
    path = quote(f.filename)
    out: dict[str, Any] = {
        "sha": f.sha,
        "filename": f.filename,
        "status": f.status,
        "additions": f.additions,
        "deletions": f.deletions,
        "changes": f.additions + f.deletions,
        "blob_url": f"{HTML_ROOT}/{repo.full_name}/blob/{ref}/{path}",
        "raw_url": f"{HTML_ROOT}/{repo.full_name}/raw/{ref}/{path}",
        "contents_url": f"{api}/repos/{repo.full_name}/contents/{path}?ref={ref}",
    }
    if f.patch is not None:
        out["patch"] = f.patch
    if f.previous_filename is not None:
        out["previous_filename"] = f.previous_filename
    return out


def pull_json(gh: GitHubState, api: str, pr: PullRequest, files: Sequence[DiffFile], commits: int) -> dict[str, Any]:
    repo = gh.repo(pr.repo)
    head_repo = gh.repo(pr.head_repo)
    url = f"{api}/repos/{repo.full_name}/pulls/{pr.number}"
    issue = f"{api}/repos/{repo.full_name}/issues/{pr.number}"
    html = f"{HTML_ROOT}/{repo.full_name}/pull/{pr.number}"
    statuses = f"{api}/repos/{repo.full_name}/statuses/{pr.head_sha}"
    n_comments = sum(
        1
        for c in gh.review_comments.values()
        if c.repo == pr.repo and c.pull_number == pr.number and gh.reviews[c.review_id].state != "PENDING"
    )

    def side(ref: str, sha: str, r: FakeRepo) -> dict[str, Any]:
        return {
            "label": f"{r.owner}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": user(gh, api, r.owner),
            "repo": repo_json(gh, api, r),
        }

    return {
        "url": url,
        "id": pr.id,
        "node_id": node_id("PR", pr.id),
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": issue,
        "commits_url": f"{url}/commits",
        "review_comments_url": f"{url}/comments",
        "review_comment_url": f"{api}/repos/{repo.full_name}/pulls/comments{{/number}}",
        "comments_url": f"{issue}/comments",
        "statuses_url": statuses,
        "number": pr.number,
        "state": pr.state,
        "locked": False,
        "title": pr.title,
        "user": user(gh, api, pr.author),
        "body": pr.body or None,
        "labels": [],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": iso(pr.created_at),
        "updated_at": iso(pr.updated_at),
        "closed_at": None,
        "merged_at": None,
        "merge_commit_sha": None,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": side(pr.head_ref, pr.head_sha, head_repo),
        "base": side(pr.base_ref, pr.base_sha, repo),
        "_links": {
            "self": {"href": url},
            "html": {"href": html},
            "issue": {"href": issue},
            "comments": {"href": f"{issue}/comments"},
            "review_comments": {"href": f"{url}/comments"},
            "review_comment": {"href": f"{api}/repos/{repo.full_name}/pulls/comments{{/number}}"},
            "commits": {"href": f"{url}/commits"},
            "statuses": {"href": statuses},
        },
        "author_association": "CONTRIBUTOR" if pr.is_fork else "MEMBER",
        "auto_merge": None,
        "draft": pr.draft,
        "merged": False,
        "mergeable": True,
        "rebaseable": True,
        "mergeable_state": "clean",
        "merged_by": None,
        "comments": 0,
        "review_comments": n_comments,
        "maintainer_can_modify": False,
        "commits": commits,
        "additions": sum(f.additions for f in files),
        "deletions": sum(f.deletions for f in files),
        "changed_files": len(files),
    }


def pull_minimal(gh: GitHubState, api: str, pr: PullRequest) -> dict[str, Any]:
    def side(ref: str, sha: str, r: FakeRepo) -> dict[str, Any]:
        return {"ref": ref, "sha": sha, "repo": {"id": r.id, "url": f"{api}/repos/{r.full_name}", "name": r.name}}

    return {
        "id": pr.id,
        "number": pr.number,
        "url": f"{api}/repos/{pr.repo}/pulls/{pr.number}",
        "head": side(pr.head_ref, pr.head_sha, gh.repo(pr.head_repo)),
        "base": side(pr.base_ref, pr.base_sha, gh.repo(pr.repo)),
    }


def check_run_json(gh: GitHubState, api: str, run: CheckRun) -> dict[str, Any]:
    url = f"{api}/repos/{run.repo}/check-runs/{run.id}"
    prs = [
        pull_minimal(gh, api, pr)
        for pr in gh.pulls.values()
        if pr.repo == run.repo and pr.head_sha == run.head_sha and pr.state == "open" and not pr.is_fork
    ]
    return {
        "id": run.id,
        "node_id": node_id("CR", run.id),
        "head_sha": run.head_sha,
        "external_id": run.external_id or "",
        "url": url,
        "html_url": f"{HTML_ROOT}/{run.repo}/runs/{run.id}",
        "details_url": run.details_url or f"{HTML_ROOT}/apps/{gh.app.slug}",
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": iso(run.started_at) if run.started_at is not None else None,
        "completed_at": iso(run.completed_at) if run.completed_at is not None else None,
        "output": {
            "title": run.output.get("title"),
            "summary": run.output.get("summary"),
            "text": run.output.get("text"),
            "annotations_count": len(run.annotations),
            "annotations_url": f"{url}/annotations",
        },
        "name": run.name,
        "check_suite": {"id": 7000 + run.id},
        "app": integration(gh, api),
        "pull_requests": prs,
    }


def annotation_json(gh: GitHubState, api: str, run: CheckRun, a: dict[str, Any]) -> dict[str, Any]:
    return {
        "path": a["path"],
        "start_line": a["start_line"],
        "end_line": a["end_line"],
        "start_column": a.get("start_column"),
        "end_column": a.get("end_column"),
        "annotation_level": a.get("annotation_level"),
        "title": a.get("title"),
        "message": a.get("message"),
        "raw_details": a.get("raw_details"),
        "blob_href": f"{HTML_ROOT}/{run.repo}/blob/{run.head_sha}/{quote(a['path'])}",
    }


def review_json(gh: GitHubState, api: str, review: Review) -> dict[str, Any]:
    html = f"{HTML_ROOT}/{review.repo}/pull/{review.pull_number}#pullrequestreview-{review.id}"
    pull_url = f"{api}/repos/{review.repo}/pulls/{review.pull_number}"
    out: dict[str, Any] = {
        "id": review.id,
        "node_id": node_id("PRR", review.id),
        "user": bot(gh, api),
        "body": review.body,
        "state": review.state,
        "html_url": html,
        "pull_request_url": pull_url,
        "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
        "commit_id": review.commit_id,
        "author_association": "NONE",
    }
    if review.submitted_at is not None:
        out["submitted_at"] = iso(review.submitted_at)
    return out


def comment_json(gh: GitHubState, api: str, c: ReviewComment) -> dict[str, Any]:
    url = f"{api}/repos/{c.repo}/pulls/comments/{c.id}"
    html = f"{HTML_ROOT}/{c.repo}/pull/{c.pull_number}#discussion_r{c.id}"
    pull_url = f"{api}/repos/{c.repo}/pulls/{c.pull_number}"
    outdated = gh.outdated(c)
    return {
        "url": url,
        "pull_request_review_id": c.review_id,
        "id": c.id,
        "node_id": c.node_id,
        "diff_hunk": c.diff_hunk,
        "path": c.path,
        "position": None if outdated else c.position,
        "original_position": c.position,
        "commit_id": c.commit_id,
        "original_commit_id": c.commit_id,
        "user": bot(gh, api),
        "body": c.body,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.created_at),
        "html_url": html,
        "pull_request_url": pull_url,
        "author_association": "NONE",
        "_links": {"self": {"href": url}, "html": {"href": html}, "pull_request": {"href": pull_url}},
        "start_line": None if outdated else c.start_line,
        "original_start_line": c.start_line,
        "start_side": c.start_side if c.start_line is not None else None,
        "line": None if outdated else c.line,
        "original_line": c.line,
        "side": c.side,
        "subject_type": "line",
    }


def content_links(
    gh: GitHubState, api: str, repo: FakeRepo, path: str, ref: str, kind: str, sha: str
) -> dict[str, Any]:
    url = f"{api}/repos/{repo.full_name}/contents/{quote(path)}?ref={quote(ref)}"
    git_url = f"{api}/repos/{repo.full_name}/git/{'trees' if kind == 'dir' else 'blobs'}/{sha}"
    html = f"{HTML_ROOT}/{repo.full_name}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{quote(path)}"
    return {
        "url": url,
        "git_url": git_url,
        "html_url": html,
        "download_url": None if kind == "dir" else f"{HTML_ROOT}/raw/{repo.full_name}/{ref}/{quote(path)}",
        "_links": {"self": url, "git": git_url, "html": html},
    }
