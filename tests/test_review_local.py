"""`unroot review` as users run it: a real process on real git repositories, and the sample from an installed wheel."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.gitrepo import GitRepo
from tests.patience import PATIENCE

ROOT = Path(__file__).resolve().parent.parent
LEFT_OUT_OF_THE_COPY = (".git", ".venv", "build", "*.egg-info", ".*_cache", "__pycache__", ".ci")
ROOT_DOCKERFILE = 'FROM debian:12\nCOPY . /app\nCMD ["/app/run"]\n'
CLEAN_DOCKERFILE = 'FROM debian:12\nCOPY . /app\nUSER 10001:10001\nCMD ["/app/run"]\n'
# A Deployment whose container runs as root, with a long head so that a change to its first
# lines leaves the container's lines outside the diff's hunks.
LABELS = "".join(f"    label{n}: value{n}\n" for n in range(20))
DEPLOYMENT = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n"
    + LABELS
    + "spec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n"
    "    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: app\n        image: x\n"
)


def unroot(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "review", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        env=env,
    )


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout)


def feature_branch(tmp_path: Path, base: dict[str, str], head: dict[str, str]) -> GitRepo:
    """A repository whose `main` holds `base` and whose checked-out `feature` adds `head`."""
    repo = GitRepo.create(tmp_path / "repo", base)
    repo.branch("feature")
    repo.commit(head, "the pull request", branch="feature")
    repo.checkout("feature")
    return repo


def test_sample_shows_the_review_and_fails_like_check(tmp_path: Path) -> None:
    result = unroot("--sample", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "Check run 'unroot': failure - 2 errors" in out
    assert "(containerise) against" in out and "(main)" in out
    assert "[1] Dockerfile:7\n" in out
    assert "```suggestion\nRUN chown -R 1000:0 /app && chmod -R g=u /app\nUSER 1000:1000\n" in out
    assert "deploy/deployment.yaml:17" in out and "runAsNonRoot: true" in out
    assert "<!--" not in out  # the fingerprint markers are hidden, as on GitHub


def test_sample_is_the_same_on_every_run(tmp_path: Path) -> None:
    first = unroot("--sample", "--format", "json", cwd=tmp_path)
    second = unroot("--sample", "--format", "json", cwd=tmp_path)
    assert first.stdout == second.stdout
    assert as_json(first)["head"]["sha"] == as_json(second)["head"]["sha"]


def test_json_holds_what_the_app_sends(tmp_path: Path) -> None:
    document = as_json(unroot("--sample", "--format", "json", cwd=tmp_path))
    run = document["check_run"]
    assert run["name"] == "unroot" and run["conclusion"] == "failure"
    assert run["title"].startswith("2 errors")
    assert {a["path"] for a in run["annotations"]} == {"Dockerfile", "deploy/deployment.yaml"}
    review = document["review"]
    assert review["event"] == "COMMENT"
    assert [(c["path"], c["line"]) for c in review["comments"]][0] == ("Dockerfile", 7)
    assert all("<!-- unroot:" in c["body"] for c in review["comments"])  # what stops a second post
    # The Deployment's fixes are one suggestion; its notice is in the annotations only (issue 15).
    assert review["body"].startswith(
        "**unroot** found 2 errors, 3 warnings: 2 inline comments. Also 1 notice without an inline comment"
    )


def test_markdown_is_one_page_of_the_posts(tmp_path: Path) -> None:
    result = unroot("--sample", "--format", "markdown", cwd=tmp_path)
    assert result.returncode == 1
    page = result.stdout
    assert page.startswith("# unroot review\n")
    assert "## Check run `unroot`: failure" in page and "| Rule | Problem | Severity | Findings |" in page
    assert "### `Dockerfile:7`" in page and "```suggestion" in page
    assert "### Review body" in page


def test_a_finding_outside_the_diff_goes_to_the_body(tmp_path: Path) -> None:
    repo = feature_branch(
        tmp_path, {"deploy.yaml": DEPLOYMENT}, {"deploy.yaml": DEPLOYMENT.replace("name: web", "name: api", 1)}
    )
    result = unroot("--format", "json", cwd=repo.path)
    assert result.returncode == 1, result.stderr
    review = as_json(result)["review"]
    assert review["comments"] == []
    assert "outside the diff" in review["body"].split("\n", 1)[0]
    assert "### Outside the diff" in review["body"] and "`deploy.yaml` line" in review["body"]


def test_comments_over_the_limit_go_to_the_body(tmp_path: Path) -> None:
    document = as_json(unroot("--sample", "--format", "json", "--max-comments", "1", cwd=tmp_path))
    review = document["review"]
    assert [c["path"] for c in review["comments"]] == ["Dockerfile"]
    assert "1 inline comment, 1 over the 1-comment limit" in review["body"]
    assert "### Beyond the first 1 inline comment" in review["body"]


def test_default_base_is_the_merge_base_with_main(tmp_path: Path) -> None:
    repo = feature_branch(tmp_path, {"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE})
    repo.commit({"other.txt": "main moved on\n"}, "later on main")  # not part of the pull request
    result = unroot(cwd=repo.path)
    assert result.returncode == 1, result.stderr
    assert "(feature) against" not in result.stdout  # --head was not given: HEAD
    assert (
        f"against {repo.merge_base('main', 'feature')[:12]} (merge base of main and HEAD): 1 file changed"
        in result.stdout
    )


def test_a_clean_change_passes_and_exits_0(tmp_path: Path) -> None:
    repo = feature_branch(tmp_path, {"README.md": "hi\n"}, {"Dockerfile": CLEAN_DOCKERFILE})
    result = unroot("--repo", str(repo.path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Check run 'unroot': success - No root containers found" in result.stdout
    assert "No review: nothing to comment on." in result.stdout
    assert as_json(unroot("--repo", str(repo.path), "--format", "json", cwd=tmp_path))["review"] is None


def test_the_config_is_read_at_the_base_commit(tmp_path: Path) -> None:
    repo = feature_branch(
        tmp_path,
        {".github/unroot.yml": "rules: {UR102: off}\n"},
        {"Dockerfile": ROOT_DOCKERFILE, ".github/unroot.yml": "rules: {}\n"},  # a PR cannot switch a rule back on
    )
    result = unroot("--format", "json", cwd=repo.path)
    assert result.returncode == 0, result.stdout
    assert as_json(result)["check_run"]["conclusion"] == "success"


def test_explicit_refs_and_usage_errors(tmp_path: Path) -> None:
    repo = feature_branch(tmp_path, {"README.md": "hi\n"}, {"Dockerfile": ROOT_DOCKERFILE})
    repo.checkout("main")
    ok = unroot("--base", "main", "--head", "feature", cwd=repo.path)
    assert ok.returncode == 1 and "(feature) against" in ok.stdout and "[1] Dockerfile:3" in ok.stdout
    unknown = unroot("--head", "nope", cwd=repo.path)
    assert unknown.returncode == 2 and "not a commit: nope" in unknown.stderr
    plain = tmp_path / "plain"
    plain.mkdir()
    assert "not a git repository" in unroot("--repo", str(plain), cwd=tmp_path).stderr
    mixed = unroot("--sample", "--base", "main", cwd=tmp_path)
    assert mixed.returncode == 2 and "--sample makes its own repository" in mixed.stderr


def test_uncommitted_changes_are_named_not_reviewed(tmp_path: Path) -> None:
    repo = feature_branch(tmp_path, {"Dockerfile": CLEAN_DOCKERFILE}, {"README.md": "hi\n"})
    (repo.path / "Dockerfile").write_text(ROOT_DOCKERFILE)
    result = unroot(cwd=repo.path)
    assert result.returncode == 0
    assert "uncommitted changes are not reviewed" in result.stderr


def test_a_chart_values_change_is_reviewed_through_helm(tmp_path: Path) -> None:
    chart = {
        f"chart/{path.relative_to(ROOT / 'examples' / 'chart').as_posix()}": path.read_text()
        for path in (ROOT / "examples" / "chart").rglob("*")
        if path.is_file()
    }
    values = chart["chart/values.yaml"]
    assert "\npodSecurityContext: {}\n" in values
    changed = values.replace("\npodSecurityContext: {}\n", "\n# the pod's user\npodSecurityContext: {}\n")
    repo = feature_branch(tmp_path, chart, {"chart/values.yaml": changed})
    result = unroot("--format", "json", cwd=repo.path)
    assert result.returncode == 1, result.stderr
    comments = as_json(result)["review"]["comments"]
    on_values = [c for c in comments if c["path"] == "chart/values.yaml"]
    assert on_values, comments
    assert any("```suggestion" in c["body"] and "runAsNonRoot: true" in c["body"] for c in on_values)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package as a wheel installs it, outside the checkout (built by pip as users build it:
    in isolation, with the setuptools pyproject.toml asks for)."""
    # From a copy: a build/ folder left in the checkout by an earlier build would lend the wheel its files.
    source = tmp_path_factory.mktemp("source") / "unroot"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*LEFT_OUT_OF_THE_COPY))
    wheels = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(source)],
        check=True,
        capture_output=True,
        timeout=PATIENCE,
    )
    site = tmp_path_factory.mktemp("site")
    (wheel,) = wheels.glob("unroot-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)  # a pure-Python wheel installs by unpacking
    return site


def test_sample_works_from_an_installed_package(installed: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    program = (
        "import sys, bot.cli; print(bot.cli.__file__, file=sys.stderr); sys.exit(bot.cli.main(['review', '--sample']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=PATIENCE
    )
    assert result.stderr.startswith(str(installed)), result.stderr  # not the checkout's copy
    assert result.returncode == 1, result.stderr
    assert "[1] Dockerfile:7" in result.stdout and "```suggestion" in result.stdout


def test_a_20_container_deployment_is_one_comment_and_review_settings_apply(tmp_path: Path) -> None:
    many = (ROOT / "tests" / "data" / "many-containers" / "deployment.yaml").read_text()
    config = "review:\n  event: REQUEST_CHANGES\n"
    repo = feature_branch(tmp_path, {".github/unroot.yml": config}, {"deploy/deploy.yaml": many})
    document = as_json(unroot("--format", "json", cwd=repo.path))
    review = document["review"]
    (comment,) = review["comments"]
    assert comment["body"].count("```suggestion") == 1 and "(notice)" not in comment["body"]
    assert review["event"] == "REQUEST_CHANGES"
    assert review["body"].startswith("**unroot** found 20 errors, 60 warnings: 1 inline comment. Also 20 notices")
    assert "**1 one-click fix** in the review for `deploy/deploy.yaml`" in document["check_run"]["summary"]
    # --max-comments given wins: 0 inline, the object's one group listed in the body in one line.
    capped = as_json(unroot("--format", "json", "--max-comments", "0", cwd=repo.path))["review"]
    assert capped["comments"] == []
    assert "- `deploy/deploy.yaml` line 16: UR201 The container may run as root (error, 20), UR205" in capped["body"]
