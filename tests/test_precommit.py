"""The pre-commit hooks through the real `pre-commit`, on throw-away git repositories.

`try-repo` builds the hook's environment in a temporary store every time (~25 s: pip installs this
checkout and its dependencies), so one test goes through it, as a person trying the hooks would;
the others name the hook repository in .pre-commit-config.yaml, as a team does, and share one store."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rules.analyze import analyze
from rules.model import Severity

CHECKOUT = Path(__file__).resolve().parent.parent
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")
ROOT_DOCKERFILE = 'FROM python:3.12-slim\nWORKDIR /srv\nCOPY . .\nCMD ["python", "app.py"]\n'
GOOD_DOCKERFILE = 'FROM python:3.12-slim\nWORKDIR /srv\nCOPY . .\nUSER 10001\nCMD ["python", "app.py"]\n'
# Hook environments are built once for the module: pre-commit installs this checkout into a venv.
HOOK_INSTALL_BUDGET_SECONDS = 300.0


@dataclass(frozen=True)
class Hooks:
    """Where pre-commit keeps its hook environments, shared by this module's tests."""

    home: Path
    source: Path  # a copy of this checkout, committed, as pre-commit wants a hook repository


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)
    return done.stdout


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hooks]:
    """A committed copy of the checkout's tracked and new files (the working tree as it is, so
    the hooks tested are the ones being changed), and an empty PRE_COMMIT_HOME."""
    if not PRE_COMMIT.exists():
        pytest.fail("pre-commit is not installed: pip install -e '.[test]'")
    root = tmp_path_factory.mktemp("hooks")
    source = root / "unroot"
    listed = _git(CHECKOUT, "ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")
    for name in filter(None, listed):
        origin = CHECKOUT / name
        if origin.is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, source / name)
    _git(source, "init", "-q", "-b", "main")
    _git(source, "add", "-A")
    _git(source, "commit", "-q", "-m", "hooks under test")
    yield Hooks(root / "pre-commit-home", source)


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    """A user's repository with FILES staged, as before `git commit`."""
    project = tmp_path / "project"
    project.mkdir()
    _git(project, "init", "-q", "-b", "main")
    (project / "README.md").write_text("# app\n")
    _git(project, "add", "README.md")
    _git(project, "commit", "-q", "-m", "start")
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
        _git(project, "add", name)
    return project


def _pre_commit(hooks: Hooks, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(hooks.home), "PRE_COMMIT_COLOR": "never"}
    env.pop("VIRTUAL_ENV", None)
    started = time.monotonic()
    done = subprocess.run(
        [str(PRE_COMMIT), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=HOOK_INSTALL_BUDGET_SECONDS,
    )
    print(f"pre-commit {' '.join(args[:2])}: {time.monotonic() - started:.1f} s")
    return done


def _run_hook(hooks: Hooks, project: Path, hook: str) -> subprocess.CompletedProcess[str]:
    """`pre-commit run HOOK` with the hook repository pinned in the project's config."""
    rev = _git(hooks.source, "rev-parse", "HEAD").strip()
    config = f"repos:\n- repo: {hooks.source}\n  rev: {rev}\n  hooks:\n  - id: unroot\n  - id: unroot-fix\n"
    (project / ".pre-commit-config.yaml").write_text(config)
    _git(project, "add", ".pre-commit-config.yaml")
    return _pre_commit(hooks, project, "run", hook, "--verbose")


def test_the_check_hook_fails_a_staged_dockerfile_that_runs_as_root(hooks: Hooks, tmp_path: Path) -> None:
    project = _project(tmp_path, {"Dockerfile": ROOT_DOCKERFILE, "notes.txt": "USER root\n"})
    done = _pre_commit(hooks, project, "try-repo", str(hooks.source), "unroot", "--verbose")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Dockerfile:" in done.stdout and "UR1" in done.stdout, done.stdout
    assert "notes.txt" not in done.stdout  # not a file the hook is for
    assert (project / "Dockerfile").read_text() == ROOT_DOCKERFILE  # checking changes nothing


def test_the_check_hook_passes_a_dockerfile_with_a_non_root_user(hooks: Hooks, tmp_path: Path) -> None:
    project = _project(tmp_path, {"Dockerfile": GOOD_DOCKERFILE})
    done = _run_hook(hooks, project, "unroot")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Passed" in done.stdout


def test_the_fix_hook_rewrites_the_file_and_stops_the_commit(hooks: Hooks, tmp_path: Path) -> None:
    pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: example/app:1\n"
    project = _project(tmp_path, {"Dockerfile": ROOT_DOCKERFILE, "k8s/pod.yaml": pod})
    done = _run_hook(hooks, project, "unroot-fix")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "files were modified by this hook" in done.stdout, done.stdout
    for name, before in (("Dockerfile", ROOT_DOCKERFILE), ("k8s/pod.yaml", pod)):
        after = (project / name).read_text()
        assert after != before
        assert not [f for f in analyze(name, after) if f.severity is Severity.ERROR], after
    # Staged again, the fixed files pass the check hook.
    _git(project, "add", "-A")
    assert _run_hook(hooks, project, "unroot").returncode == 0
