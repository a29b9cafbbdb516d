"""REST: check runs and their annotations, with GitHub's limits."""

from __future__ import annotations

import re
import time
from typing import Any, cast

from .backend import GitHubState
from .common import int_or, parse_time
from .replies import Ctx, Reply, error, not_found, page
from .shapes import annotation_json, check_run_json
from .state import CheckRun, FakeRepo


def check_run_problem(body: dict[str, Any], existing: CheckRun | None) -> Reply | None:
    """GitHub's rules beyond the schema (and the schema's limits again, should the subset change)."""
    output = body.get("output") or {}
    annotations = output.get("annotations") or []
    problems: list[str] = []
    if len(annotations) > 50:
        problems.append("Only 50 annotations can be sent per request")
    for key in ("summary", "text"):
        if len(output.get(key) or "") > 65535:
            problems.append(f"output.{key} is too long (maximum is 65535 characters)")
    problems += _action_problems(body.get("actions") or [])
    for annotation in annotations:
        problems += _annotation_problems(annotation)
    conclusion = body.get("conclusion") or (existing.conclusion if existing else None)
    if (body.get("status") == "completed" or body.get("completed_at")) and not conclusion:
        problems.append('No subschema in "anyOf" matched: "conclusion" is required when "status" is "completed"')
    if problems:
        return error(422, "Invalid request.\n\n" + "\n".join(dict.fromkeys(problems)))
    return None


def _action_problems(actions: list[dict[str, Any]]) -> list[str]:
    """What GitHub refuses in a run's buttons: more than 3, or a text over its length."""
    problems = ["Only 3 actions are allowed"] if len(actions) > 3 else []
    for action in actions:
        for key, limit in (("label", 20), ("description", 40), ("identifier", 20)):
            if len(str(action.get(key, ""))) > limit:
                problems.append(f"actions.{key} is too long (maximum is {limit} characters)")
    return problems


def _annotation_problems(annotation: dict[str, Any]) -> list[str]:
    """What GitHub refuses in one annotation: a bad line range, columns over lines, texts too long."""
    problems: list[str] = []
    start, end = annotation.get("start_line"), annotation.get("end_line")
    if isinstance(start, int) and isinstance(end, int):
        if start < 1 or end < start:
            problems.append("annotation start_line must be >= 1 and <= end_line")
        if start != end and ("start_column" in annotation or "end_column" in annotation):
            problems.append("annotation start_column/end_column are only allowed when start_line == end_line")
    if len(str(annotation.get("title") or "")) > 255:
        problems.append("annotation title is too long (maximum is 255 characters)")
    for key in ("message", "raw_details"):
        if len(str(annotation.get(key) or "").encode()) > 64 * 1024:
            problems.append(f"annotation {key} is too long (maximum is 64 KB)")
    return problems


async def create_check_run(gh: GitHubState, ctx: Ctx) -> Reply:
    repo = cast(FakeRepo, ctx.repo)
    body = cast(dict[str, Any], ctx.body)
    head_sha = body["head_sha"]
    if not re.fullmatch(r"[0-9a-f]{40}", head_sha) or gh.resolve(repo, head_sha) != head_sha:
        return error(422, f"No commit found for SHA: {head_sha}")
    problem = check_run_problem(body, None)
    if problem is not None:
        return problem
    now = time.time()
    output = body.get("output") or {}
    conclusion = body.get("conclusion")
    status = "completed" if conclusion else body.get("status", "queued")
    run = CheckRun(
        id=gh.next_id(),
        repo=repo.full_name,
        name=body["name"],
        head_sha=head_sha,
        status=status,
        conclusion=conclusion,
        started_at=parse_time(body.get("started_at")) or now,
        completed_at=(parse_time(body.get("completed_at")) or now) if status == "completed" else None,
        output={k: output[k] for k in ("title", "summary", "text", "images") if k in output},
        annotations=list(output.get("annotations") or []),
        actions=list(body.get("actions") or []),
        details_url=body.get("details_url"),
        external_id=body.get("external_id"),
        created_at=now,
        bodies=[body],
    )
    gh.check_runs[run.id] = run
    return Reply(201, check_run_json(gh, ctx.api, run))


def ctx_run(gh: GitHubState, ctx: Ctx) -> CheckRun | None:
    run = gh.check_runs.get(int_or(ctx.params["check_run_id"], -1))
    return run if run is not None and run.repo == cast(FakeRepo, ctx.repo).full_name else None


async def get_check_run(gh: GitHubState, ctx: Ctx) -> Reply:
    run = ctx_run(gh, ctx)
    return Reply(200, check_run_json(gh, ctx.api, run)) if run else not_found()


async def update_check_run(gh: GitHubState, ctx: Ctx) -> Reply:
    run = ctx_run(gh, ctx)
    if run is None:
        return not_found()
    body = cast(dict[str, Any], ctx.body)
    problem = check_run_problem(body, run)
    if problem is not None:
        return problem
    now = time.time()
    for key in ("name", "details_url", "external_id"):
        if key in body:
            setattr(run, key, body[key])
    if "started_at" in body:
        run.started_at = parse_time(body["started_at"])
    if body.get("conclusion"):
        run.conclusion, run.status = body["conclusion"], "completed"
    elif "status" in body:
        run.status = body["status"]
        if run.status != "completed":  # re-opened (e.g. a re-run): the old result goes
            run.conclusion, run.completed_at = None, None
    if run.status == "completed" and (run.completed_at is None or "completed_at" in body or "conclusion" in body):
        run.completed_at = parse_time(body.get("completed_at")) or now
    output = body.get("output") or {}
    for key in ("title", "summary", "text"):
        if key in output:
            run.output[key] = output[key]
    run.output["images"] = [*run.output.get("images", []), *(output.get("images") or [])]
    run.annotations.extend(output.get("annotations") or [])
    if "actions" in body:
        run.actions = list(body["actions"] or [])
    run.bodies.append(body)
    return Reply(200, check_run_json(gh, ctx.api, run))


async def list_annotations(gh: GitHubState, ctx: Ctx) -> Reply:
    run = ctx_run(gh, ctx)
    if run is None:
        return not_found()
    chunk, headers = page(ctx, run.annotations)
    return Reply(200, [annotation_json(gh, ctx.api, run, a) for a in chunk], headers)


async def list_check_runs(gh: GitHubState, ctx: Ctx) -> Reply:
    repo = cast(FakeRepo, ctx.repo)
    sha = gh.resolve(repo, ctx.params["ref"])
    if sha is None:
        return error(422, f"No commit found for SHA: {ctx.params['ref']}")
    runs = [r for r in gh.check_runs.values() if r.repo == repo.full_name and r.head_sha == sha]
    if "check_name" in ctx.query:
        runs = [r for r in runs if r.name == ctx.query["check_name"]]
    if "status" in ctx.query:
        runs = [r for r in runs if r.status == ctx.query["status"]]
    if "app_id" in ctx.query and int_or(ctx.query["app_id"], -1) != gh.app.app_id:
        runs = []
    if ctx.query.get("filter", "latest") == "latest":
        newest: dict[str, CheckRun] = {}
        for r in runs:
            if r.name not in newest or r.id > newest[r.name].id:
                newest[r.name] = r
        runs = list(newest.values())
    runs.sort(key=lambda r: r.id, reverse=True)
    chunk, headers = page(ctx, runs)
    return Reply(
        200, {"total_count": len(runs), "check_runs": [check_run_json(gh, ctx.api, r) for r in chunk]}, headers
    )
