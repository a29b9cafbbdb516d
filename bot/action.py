"""The GitHub Action's entry point: the App's job pipeline, driven by a workflow's event and GITHUB_TOKEN."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

import aiohttp

from bot import job as pipeline
from bot.auth import FixedToken
from bot.config import DOCS_URL
from bot.diff import FileChange
from bot.github import GitHubError, InstallationClient
from bot.handlers import ZERO_SHA, Fields, PayloadError
from bot.outputs import Annotation, Plan
from bot.queue import Job, JobKind, RetryLater

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
FailOn = Literal["error", "warning", "never"]
PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
_WORKFLOW_LEVEL = {"failure": "error", "warning": "warning", "notice": "notice"}
FORK_REASON = (
    "unroot posted no review and no check run: this pull request comes from a fork, and GitHub gives "
    "the workflows of fork pull requests a read-only GITHUB_TOKEN. The findings are the annotations "
    "of this workflow run and its job summary; the exit code says whether they fail the job."
)
REFUSED_REASON = (
    "unroot posted no review and no check run: GitHub refused the workflow's GITHUB_TOKEN a write ({error}). "
    "Grant the job `checks: write` and `pull-requests: write` (`contents: read` to read the files). "
    "The findings are the annotations of this workflow run and its job summary."
)


class ActionError(Exception):
    """The workflow gives the action something it cannot work with; exit 2 with the message."""


@dataclass(frozen=True)
class Inputs:
    """The action's inputs, as action.yml hands them over (INPUT_* variables)."""

    paths: tuple[str, ...] = (".",)
    fail_on: FailOn = "error"
    sarif_file: str | None = None
    review: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        paths = tuple(env.get("INPUT_PATHS", ".").split()) or (".",)
        fail_on = env.get("INPUT_FAIL_ON", "error").strip() or "error"
        if fail_on not in ("error", "warning", "never"):
            raise ActionError(f"input fail-on must be error, warning or never, not {fail_on!r}")
        review = env.get("INPUT_REVIEW", "true").strip().lower() or "true"
        if review not in ("true", "false"):
            raise ActionError(f"input review must be true or false, not {review!r}")
        sarif = env.get("INPUT_SARIF_FILE", "").strip() or None
        return cls(paths, fail_on, sarif, review == "true")  # type: ignore[arg-type]  # checked above


@dataclass(frozen=True)
class Work:
    """What the event asks for: the job to run, and whether its token can only read."""

    job: Job
    read_only: bool


def _under(path: str, roots: Sequence[str]) -> bool:
    """Whether a repository path is inside one of the `paths` inputs ('.' is the whole repository)."""
    for root in roots:
        cleaned = root.strip("/").removeprefix("./").rstrip("/")
        if cleaned in ("", ".") or path == cleaned or path.startswith(cleaned + "/"):
            return True
    return False


class PathsClient(InstallationClient):
    """The App's client, seeing only the changed files inside the `paths` input."""

    def __init__(self, *args: Any, paths: Sequence[str] = (".",), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._paths = tuple(paths)

    async def pull_files(self, repo: str, number: int, changed_files: int | None = None) -> list[FileChange]:
        return [c for c in await super().pull_files(repo, number, changed_files) if _under(c.path, self._paths)]

    async def compare_files(self, repo: str, base: str, head: str) -> list[FileChange]:
        return [c for c in await super().compare_files(repo, base, head) if _under(c.path, self._paths)]


def work_for(event_name: str, payload: object, inputs: Inputs, run_id: str = "action") -> Work | None:
    """The job a workflow event asks for, or None (a tag push, a deleted branch, another event)."""
    fields = Fields(payload)
    repo = fields.full_name("repository.full_name")
    branch = fields.text("repository.default_branch", "main")

    def job(kind: JobKind, head: str, **more: Any) -> Job:
        # installation_id is unused: the token is the workflow's own.
        return Job(
            kind=kind, installation_id=1, repo=repo, head_sha=head, delivery_id=run_id, default_branch=branch, **more
        )

    if event_name in PULL_REQUEST_EVENTS:
        head_repo = fields.text("pull_request.head.repo.full_name", "") or None
        # pull_request_target runs with the base repository's token: a fork's files are only read, never run.
        read_only = event_name == "pull_request" and head_repo is not None and head_repo != repo
        head = fields.sha("pull_request.head.sha")
        if not inputs.review:  # the check run alone, over what the pull request changes
            return Work(job("push", head, base_sha=fields.sha("pull_request.base.sha")), read_only)
        number = fields.id("number")
        changed = fields.optional_int("pull_request.changed_files")
        return Work(job("pull_request", head, pr_number=number, changed_files=changed), read_only)
    if event_name == "push":
        ref = fields.text("ref", "")
        if not ref.startswith("refs/heads/") or fields.flag("deleted") or fields.text("after", ZERO_SHA) == ZERO_SHA:
            return None
        before = fields.text("before", ZERO_SHA)
        previous = None if before == ZERO_SHA else fields.sha("before")
        return Work(job("push", fields.sha("after"), base_sha=previous, ref=ref), False)
    return None


def _escape(text: str, *, property_value: bool = False) -> str:
    """Workflow-command escaping, as @actions/core does it: a message keeps its line breaks."""
    escaped = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return escaped.replace(":", "%3A").replace(",", "%2C") if property_value else escaped


def workflow_command(annotation: Annotation) -> str:
    """`::error file=…,line=…,endLine=…,title=…::message`: the runner shows it on the file's line."""
    props = ",".join(
        f"{key}={_escape(str(value), property_value=True)}"
        for key, value in (
            ("file", annotation.path),
            ("line", annotation.start_line),
            ("endLine", annotation.end_line),
            ("title", annotation.title),
        )
    )
    return f"::{_WORKFLOW_LEVEL[annotation.annotation_level]} {props}::{_escape(annotation.message)}"


def exit_code(plan: Plan, fail_on: FailOn) -> int:
    """Like `unroot check`: errors fail the step; with fail-on warning, warnings too."""
    failing = {"error": {"failure"}, "warning": {"failure", "warning"}, "never": set()}[fail_on]
    if plan.conclusion == "failure" and "failure" in failing:
        return EXIT_FINDINGS
    return EXIT_FINDINGS if any(a.annotation_level in failing for a in plan.annotations) else EXIT_OK


def _summary(plan: Plan, reason: str | None) -> str:
    note = f"> {reason}\n\n" if reason else ""
    return f"# unroot\n\n{note}{plan.summary}\n"  # the summary opens with its own title


def _append(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(text)


@dataclass(frozen=True)
class Runner:
    """Where the workflow's run happens: its API, token, and the files the runner reads back."""

    api_url: str
    graphql_url: str
    token: str
    summary_path: str | None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Runner:
        token = env.get("GITHUB_TOKEN", "").strip()
        if not token:
            raise ActionError("GITHUB_TOKEN is not set: give the step `env: GITHUB_TOKEN: ${{ github.token }}`")
        api = env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
        graphql = env.get("GITHUB_GRAPHQL_URL", "").rstrip("/") or (
            api[: -len("/v3")] + "/graphql" if api.endswith("/api/v3") else api + "/graphql"
        )
        return cls(api, graphql, token, env.get("GITHUB_STEP_SUMMARY") or None)


async def _always_current() -> bool:
    return True  # one workflow run, one commit: no queue to be superseded in


async def publish(work: Work, inputs: Inputs, runner: Runner, out: TextIO) -> int:
    """Post the review and the check run as the App does; a token that cannot write gets the
    findings as workflow annotations and the job summary instead, and is told why once."""
    async with aiohttp.ClientSession() as session:
        client = PathsClient(
            session, FixedToken(runner.token), 0, runner.api_url, runner.graphql_url, paths=inputs.paths
        )
        reason: str | None = FORK_REASON if work.read_only else None
        plan: Plan | None = None
        if reason is None:
            try:
                outcome = await pipeline.run(work.job, client, _always_current, DOCS_URL)
            except GitHubError as error:
                if error.status != 403:
                    raise
                reason = REFUSED_REASON.format(error=str(error).splitlines()[0][:200])
            else:
                if outcome.plan is None:
                    out.write("::error::unroot could not finish: its check run says why\n")
                    return EXIT_FINDINGS
                plan = outcome.plan
        if plan is None:
            plan = await pipeline.plan_only(work.job, client, DOCS_URL)
            out.write(f"::notice title=unroot::{_escape(reason or '')}\n")
            out.writelines(workflow_command(a) + "\n" for a in plan.annotations)
    _append(runner.summary_path, _summary(plan, reason))
    out.write(f"unroot: {plan.title}\n")
    return exit_code(plan, inputs.fail_on)


def write_sarif(paths: Sequence[str], target: str) -> int:
    """`unroot check --format sarif PATHS` into `target`, for code scanning (the whole checkout, not the diff)."""
    from bot import cli

    Path(target).parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", encoding="utf-8") as sarif, contextlib.redirect_stdout(sarif):
        return cli.main(["check", "--format", "sarif", *paths])


def _load_event(env: Mapping[str, str]) -> tuple[str, object]:
    name = env.get("GITHUB_EVENT_NAME", "")
    path = env.get("GITHUB_EVENT_PATH", "")
    if not name or not path:
        raise ActionError("GITHUB_EVENT_NAME and GITHUB_EVENT_PATH are not set: run this as a step of a workflow")
    try:
        return name, json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ActionError(f"cannot read the event payload {path}: {error}") from None


def run(env: Mapping[str, str], out: TextIO = sys.stdout) -> int:
    """The whole step: SARIF if asked, then the review or check run the event calls for."""
    inputs = Inputs.from_env(env)
    sarif_code = write_sarif(inputs.paths, inputs.sarif_file) if inputs.sarif_file else EXIT_OK
    if sarif_code == EXIT_USAGE:
        raise ActionError(f"could not write {inputs.sarif_file}: see the message above")
    name, payload = _load_event(env)
    try:
        work = work_for(name, payload, inputs, env.get("GITHUB_RUN_ID", "action"))
    except PayloadError as error:
        raise ActionError(f"the {name} event payload: {error}") from None
    if work is None:
        out.write(f"unroot: nothing to review for a {name} event (pull_request and branch pushes are)\n")
        return EXIT_OK if inputs.fail_on == "never" else sarif_code
    try:
        code = asyncio.run(publish(work, inputs, Runner.from_env(env), out))
    except (GitHubError, RetryLater) as error:
        out.write(f"::error title=unroot::{_escape(str(error))}\n")
        return EXIT_FINDINGS
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m bot.action`: settings from the runner's environment."""
    if argv:
        print("unroot action takes no arguments: its inputs are INPUT_* variables (see action.yml)", file=sys.stderr)
        return EXIT_USAGE
    try:
        return run(os.environ)
    except ActionError as error:
        print(f"::error title=unroot::{_escape(str(error))}", file=sys.stdout)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
