"""The GitHub Action as the runner runs it: `python -m bot.action` with a workflow's environment,
a real event payload in a file, and the fake GitHub behind GITHUB_API_URL."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from tests.fakegithub import FakeGitHub, PullRequest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
PAYLOADS = DATA / "webhooks"
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")
ROOT_DOCKERFILE = 'FROM python:3.12-slim\nWORKDIR /srv\nCOPY . .\nUSER root\nCMD ["python", "app.py"]\n'
POD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: example/app:1\n"
)
ANNOTATION = re.compile(r"^::(error|warning|notice) file=([^,]+),line=(\d+),endLine=(\d+),title=[^:]*::(.+)$", re.M)


@dataclass(frozen=True)
class Step:
    """What the runner sees of one run of the action's step."""

    code: int
    stdout: str
    stderr: str
    summary: str


def pr_event(fake: FakeGitHub, pr: PullRequest) -> dict[str, Any]:
    """A real pull_request payload (@octokit/webhooks-examples) pointed at the fake's PR, as the
    runner writes it to GITHUB_EVENT_PATH (no installation: workflows have none)."""
    data: dict[str, Any] = copy.deepcopy(json.loads((PAYLOADS / "pull_request.opened.json").read_text()))
    repo = fake.repo(pr.repo)
    data["number"] = pr.number
    data["repository"].update(full_name=repo.full_name, default_branch=repo.default_branch, id=repo.id)
    data["pull_request"].update(number=pr.number, changed_files=None)
    data["pull_request"]["head"].update(sha=pr.head_sha, ref=pr.head_ref)
    data["pull_request"]["head"]["repo"].update(full_name=pr.head_repo)
    data["pull_request"]["base"].update(sha=pr.base_sha, ref=pr.base_ref)
    data["pull_request"]["base"]["repo"].update(full_name=repo.full_name)
    return data


async def run_action(
    tmp_path: Path, fake: FakeGitHub, event: str, payload: dict[str, Any], token: str, **inputs: str
) -> Step:
    """One step, as the runner starts it: a process with the workflow's variables."""
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(payload))
    summary = tmp_path / "step_summary.md"
    summary.write_text("")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_API_URL": fake.base_url,
        "GITHUB_GRAPHQL_URL": fake.graphql_url,
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_RUN_ID": "4242",
        "GITHUB_TOKEN": token,
        **{f"INPUT_{name.upper()}": value for name, value in inputs.items()},
    }
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.action",
        cwd=workspace,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return Step(process.returncode, out.decode(), err.decode(), summary.read_text())


def unroot_runs(fake: FakeGitHub, repo: str, sha: str) -> list[Any]:
    return [run for run in fake.check_runs_for(repo, sha=sha) if run.name == "unroot"]


async def test_a_pull_request_gets_the_apps_review_and_check_run_and_no_second_review(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    fake = fake_github
    pr = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE, "k8s/pod.yaml": POD})
    token = fake.issue_token(1)
    step = await run_action(tmp_path, fake, "pull_request", pr_event(fake, pr), token)
    assert step.code == 1, step
    (run,) = unroot_runs(fake, pr.repo, pr.head_sha)
    assert run.status == "completed" and run.conclusion == "failure" and len(run.annotations) >= 2
    (review,) = fake.reviews_for(pr.repo, pr.number)
    assert review.commit_id == pr.head_sha
    comments = fake.comments_for(pr.repo, pr.number)
    assert {c.path for c in comments} == {"Dockerfile", "k8s/pod.yaml"}
    assert all("<!-- unroot:" in c.body for c in comments)
    assert {c.path for c in comments if "```suggestion" in c.body} == {"Dockerfile", "k8s/pod.yaml"}
    assert (
        "# unroot\n" in step.summary and "in 2 files" in step.summary and "::error file=" not in step.stdout
    )  # the check run carries them
    assert not [r for r in fake.requests if r.status >= 400], "GitHub would have refused a request"

    again = await run_action(tmp_path, fake, "pull_request", pr_event(fake, pr), token)  # a re-run of the job
    assert again.code == 1
    assert len(fake.reviews_for(pr.repo, pr.number)) == 1, "the fingerprints say all was said already"
    assert len(fake.comments_for(pr.repo, pr.number)) == len(comments)


async def test_fixed_findings_resolve_their_threads_and_the_step_passes(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    fake = fake_github
    pr = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE})
    token = fake.issue_token(1)
    assert (await run_action(tmp_path, fake, "pull_request", pr_event(fake, pr), token)).code == 1
    assert fake.threads_for(pr.repo, pr.number) and not any(t.is_resolved for t in fake.threads_for(pr.repo, pr.number))
    fixed = ROOT_DOCKERFILE.replace("USER root", "USER 10001")
    fake.push_pull(pr.repo, pr.number, {"Dockerfile": fixed})
    step = await run_action(tmp_path, fake, "pull_request", pr_event(fake, fake.pull(pr.repo, pr.number)), token)
    assert step.code == 0, step
    assert all(t.is_resolved for t in fake.threads_for(pr.repo, pr.number))
    (run,) = unroot_runs(fake, pr.repo, fake.pull(pr.repo, pr.number).head_sha)
    assert run.conclusion == "success"


async def test_a_push_gets_the_check_run_only(fake_github: FakeGitHub, tmp_path: Path) -> None:
    fake = fake_github
    pr = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE})
    payload = copy.deepcopy(json.loads((PAYLOADS / "push.event.json").read_text()))
    payload.update(ref="refs/heads/feature", before=pr.base_sha, after=pr.head_sha, created=False, deleted=False)
    payload["repository"].update(full_name=pr.repo, default_branch="main")
    step = await run_action(tmp_path, fake, "push", payload, fake.issue_token(1))
    assert step.code == 1, step
    (run,) = unroot_runs(fake, pr.repo, pr.head_sha)
    assert run.conclusion == "failure" and run.annotations
    assert not fake.reviews_for(pr.repo, pr.number)


async def test_review_false_posts_the_check_run_without_a_review(fake_github: FakeGitHub, tmp_path: Path) -> None:
    fake = fake_github
    pr = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE})
    step = await run_action(tmp_path, fake, "pull_request", pr_event(fake, pr), fake.issue_token(1), review="false")
    assert step.code == 1, step
    assert unroot_runs(fake, pr.repo, pr.head_sha) and not fake.reviews_for(pr.repo, pr.number)


async def test_paths_leave_changed_files_outside_them_alone(fake_github: FakeGitHub, tmp_path: Path) -> None:
    fake = fake_github
    pr = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE, "k8s/pod.yaml": POD})
    step = await run_action(tmp_path, fake, "pull_request", pr_event(fake, pr), fake.issue_token(1), paths="k8s")
    assert step.code == 1, step
    assert {c.path for c in fake.comments_for(pr.repo, pr.number)} == {"k8s/pod.yaml"}
    (run,) = unroot_runs(fake, pr.repo, pr.head_sha)
    assert {a["path"] for a in run.annotations} == {"k8s/pod.yaml"}


def _annotations(stdout: str) -> list[tuple[str, str, int]]:
    return [(level, path, int(line)) for level, path, line, _end, _msg in ANNOTATION.findall(stdout)]


async def test_a_fork_pull_request_falls_back_to_annotations_and_the_job_summary(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    fake = fake_github
    pr = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE}, head_repo="mallory/app")
    # A fork's workflow gets a read-only token: it may read the public base repository, not write.
    read_only = fake.issue_token(1, repos=["octo/elsewhere"])
    step = await run_action(tmp_path, fake, "pull_request", pr_event(fake, pr), read_only)
    assert step.code == 1, step
    found = _annotations(step.stdout)
    assert ("error", "Dockerfile", 4) in found, step.stdout
    assert step.stdout.count("comes from a fork") == 1  # said once
    assert "comes from a fork" in step.summary and "1 error in 1 file" in step.summary
    assert not unroot_runs(fake, pr.repo, pr.head_sha) and not fake.reviews_for(pr.repo, pr.number)
    assert not [r for r in fake.requests if r.method != "GET" and "graphql" not in r.path], "no write was tried"


async def test_a_token_refused_writes_falls_back_and_says_which_permissions(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    fake = fake_github
    pr = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE})
    step = await run_action(
        tmp_path,
        fake,
        "pull_request",
        pr_event(fake, pr),
        fake.issue_token(1, repos=["octo/elsewhere"]),
        **{"fail_on": "never"},
    )
    assert step.code == 0, step  # fail-on never
    assert ("error", "Dockerfile", 4) in _annotations(step.stdout)
    assert "Resource not accessible by integration" in step.stdout and "checks: write" in step.summary
    assert not fake.reviews_for(pr.repo, pr.number)


async def test_the_sarif_file_is_valid_sarif_of_the_checkout(fake_github: FakeGitHub, tmp_path: Path) -> None:
    fake = fake_github
    pr = fake.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE})
    workspace = tmp_path / "workspace"
    (workspace / "deploy").mkdir(parents=True)
    (workspace / "Dockerfile").write_text(ROOT_DOCKERFILE)
    (workspace / "deploy" / "pod.yaml").write_text(POD)
    step = await run_action(
        tmp_path, fake, "pull_request", pr_event(fake, pr), fake.issue_token(1), sarif_file="out/unroot.sarif"
    )
    assert step.code == 1, step
    log = json.loads((workspace / "out" / "unroot.sarif").read_text())
    jsonschema.validate(log, json.loads((DATA / "sarif-schema-2.1.0.json").read_text()))
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert uris == {"Dockerfile", "deploy/pod.yaml"}  # relative to the checkout, as code scanning wants


async def test_an_event_without_a_token_is_a_usage_error(fake_github: FakeGitHub, tmp_path: Path) -> None:
    pr = fake_github.setup_pull({"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE})
    step = await run_action(tmp_path, fake_github, "pull_request", pr_event(fake_github, pr), "")
    assert step.code == 2 and "GITHUB_TOKEN is not set" in step.stdout


def _schema_check(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    """SchemaStore's published schema, as the check-jsonschema package ships it."""
    if not CHECK_JSONSCHEMA.exists():
        pytest.fail("check-jsonschema is not installed: pip install -e '.[test]'")
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", schema, str(path)], capture_output=True, text=True, timeout=60
    )


def test_action_yml_is_valid_against_the_published_schema(tmp_path: Path) -> None:
    done = _schema_check("vendor.github-actions", ROOT / "action.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    # The schema can say no: a composite step without `shell` is refused.
    broken = (ROOT / "action.yml").read_text().replace("      shell: bash\n", "", 1)
    (tmp_path / "action.yml").write_text(broken)
    assert _schema_check("vendor.github-actions", tmp_path / "action.yml").returncode == 1


def test_action_yml_hands_every_input_to_the_entry_point() -> None:
    action = YAML(typ="safe").load((ROOT / "action.yml").read_text())
    step = action["runs"]["steps"][-1]
    for name in action["inputs"]:
        if name in ("token", "python-version"):
            continue
        assert step["env"][f"INPUT_{name.upper().replace('-', '_')}"] == f"${{{{ inputs.{name} }}}}"
    assert "bot.action" in step["run"]


def _readme_workflows() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## GitHub Action", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```yaml\n(.*?)```", section, re.S)


def test_the_readme_workflows_are_valid_workflows(tmp_path: Path) -> None:
    workflows = _readme_workflows()
    assert len(workflows) >= 3  # pull request review, push check, SARIF upload
    for number, text in enumerate(workflows):
        path = tmp_path / f"workflow{number}.yml"
        path.write_text(text)
        done = _schema_check("vendor.github-workflows", path)
        assert done.returncode == 0, text + done.stdout
        workflow = YAML(typ="safe").load(text)
        assert workflow["permissions"]["contents"] == "read", text
