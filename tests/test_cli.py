"""The `unroot` command as users run it: a real process, real files, exit codes, formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.patience import PATIENCE
from tests.rule_cases import APP_UID_1000, RESTRICTED_CONTAINER, SKAFFOLD, pod

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
ROOT_DOCKERFILE = 'FROM debian:12\nCOPY . /app\nCMD ["/app/run"]\n'
CLEAN_DOCKERFILE = 'FROM debian:12\nUSER 10001:10001\nCMD ["/app/run"]\n'
POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: x\n"


def unroot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=PATIENCE
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "Dockerfile").write_text(ROOT_DOCKERFILE)
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "pod.yaml").write_text(POD)
    (tmp_path / "README.md").write_text("# not analysed\n")
    return tmp_path


def test_check_reports_like_a_compiler_and_exits_1_on_errors(tree: Path) -> None:
    result = unroot("check", ".", cwd=tree)
    assert result.returncode == 1, result.stderr
    assert "svc/Dockerfile:3: UR102 error " in result.stdout
    assert "k8s/pod.yaml:8: UR201 error container 'app' in Pod/web" in result.stdout
    assert result.stdout.strip().endswith("in 2 files checked; 5 fixable with `unroot fix` (1 more in its second pass)")
    assert result.stderr == ""


def test_check_exits_0_without_errors(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(CLEAN_DOCKERFILE)
    assert unroot("check", "Dockerfile", cwd=tmp_path).returncode == 0


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    missing = unroot("check", "nope", cwd=tmp_path)
    assert missing.returncode == 2 and "no such file or directory: nope" in missing.stderr
    assert unroot("check", "--format", "xml", ".", cwd=tmp_path).returncode == 2
    (tmp_path / "bad.yml").write_text("rules: {UR999: off}\n")
    bad_config = unroot("check", "--config", "bad.yml", ".", cwd=tmp_path)
    assert bad_config.returncode == 2 and "unknown rule UR999" in bad_config.stderr


def test_json_output_has_the_documented_shape(tree: Path) -> None:
    result = unroot("check", "--format", "json", "svc", cwd=tree)
    (finding,) = json.loads(result.stdout)["findings"]
    assert set(finding) == {"rule", "severity", "path", "line", "end_line", "message", "fix"}
    assert finding["rule"] == "UR102" and finding["severity"] == "error" and finding["line"] == 3
    (edit,) = finding["fix"]["edits"]
    assert set(edit) == {"start_line", "end_line", "replacement"}
    assert edit["replacement"].endswith('USER 10001:10001\nCMD ["/app/run"]\n')


def test_sarif_output_validates_against_the_2_1_0_schema(tree: Path) -> None:
    result = unroot("check", "--format", "sarif", ".", cwd=tree)
    log = json.loads(result.stdout)
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"UR102", "UR201"}
    assert all(r["level"] in ("error", "warning", "note") for r in results)
    run = log["runs"][0]
    assert run["tool"]["driver"]["version"] == run["tool"]["driver"]["semanticVersion"] != ""
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tree.as_uri() + "/"}}
    locations = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in results]
    assert {"uri": "svc/Dockerfile", "uriBaseId": "%SRCROOT%"} in locations
    assert all(loc["uriBaseId"] == "%SRCROOT%" and not loc["uri"].startswith("/") for loc in locations)
    assert all(r["partialFingerprints"]["unroot/v1"].startswith(r["ruleId"] + ":") for r in results)
    severity = {rule["id"]: float(rule["properties"]["security-severity"]) for rule in run["tool"]["driver"]["rules"]}
    assert all(0.0 < value < 10.0 for value in severity.values())
    assert severity["UR204"] >= 9.0 and 7.0 <= severity["UR201"] < 9.0 and severity["UR211"] < 4.0
    assert all("security" in rule["properties"]["tags"] for rule in run["tool"]["driver"]["rules"])


def test_sarif_fingerprints_and_uris_do_not_depend_on_the_cwd_or_line_moves(tree: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tree)], check=True)

    def results(cwd: Path, path: str) -> list[tuple[str, str]]:
        run = json.loads(unroot("check", "--format", "sarif", path, cwd=cwd).stdout)["runs"][0]
        assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tree.as_uri() + "/"
        return [
            (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["partialFingerprints"]["unroot/v1"])
            for r in run["results"]
        ]

    before = results(tree, "svc")
    assert before and before == results(tree / "svc", ".")
    (tree / "svc" / "Dockerfile").write_text("# a comment\n\n" + ROOT_DOCKERFILE)
    assert results(tree, "svc/Dockerfile") == before


def test_fix_rewrites_files_and_check_is_then_clean(tree: Path) -> None:
    assert unroot("fix", ".", cwd=tree).returncode == 0
    assert "USER 10001:10001" in (tree / "svc" / "Dockerfile").read_text()
    assert unroot("check", ".", cwd=tree).returncode == 0


def test_fix_diff_prints_and_changes_nothing(tree: Path) -> None:
    result = unroot("fix", "--diff", ".", cwd=tree)
    assert "+USER 10001:10001" in result.stdout and "--- a/svc/Dockerfile" in result.stdout
    assert (tree / "svc" / "Dockerfile").read_text() == ROOT_DOCKERFILE


def test_bad_input_gets_one_notice_each_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_bytes(b"\x7fELF\x00\x00binary")
    (tmp_path / "latin1.yaml").write_bytes(b"apiVersion: v1\nkind: Pod\n# caf\xe9\n")
    (tmp_path / "huge.yaml").write_bytes(b"# x\n" * 300_000)
    (tmp_path / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nspec:\n  containers: [\n")
    (tmp_path / "pod.yaml").write_text(POD)
    result = unroot("check", ".", cwd=tmp_path)
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert "Dockerfile:1: UR001 notice Skipped: binary file." in lines
    assert any(line.startswith("latin1.yaml:1: UR001 notice Skipped: not valid UTF-8") for line in lines)
    assert any(
        line.startswith("huge.yaml:1: UR001 notice Skipped: 1,200,000 bytes is over the 1,000,000-byte limit")
        for line in lines
    )
    assert any(line.startswith("broken.yaml:1: UR001 notice Skipped: invalid YAML") for line in lines)
    assert any(line.startswith("pod.yaml:8: UR201 error") for line in lines)
    assert result.returncode == 1


def test_max_bytes_is_configurable(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(POD)
    result = unroot("check", "--max-bytes", "10", "pod.yaml", cwd=tmp_path)
    assert "over the 10-byte limit" in result.stdout and result.returncode == 0


def test_repository_config_turns_rules_off_and_ignores_paths(tree: Path) -> None:
    (tree / ".github").mkdir()
    (tree / ".github" / "unroot.yml").write_text("rules:\n  UR201: off\nignore:\n  - svc/\n")
    result = unroot("check", "--format", "json", ".", cwd=tree)
    rules = {f["rule"] for f in json.loads(result.stdout)["findings"]}
    assert "UR201" not in rules and rules, result.stdout
    assert all(f["path"].startswith("k8s/") for f in json.loads(result.stdout)["findings"])


def test_symlinks_inside_walked_directories_are_not_followed(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    outside = tmp_path / "outside.yaml"
    outside.write_text(POD)
    (tmp_path / "real" / "link.yaml").symlink_to(outside)
    result = unroot("check", "real", cwd=tmp_path)
    assert result.returncode == 0 and "0 files" in result.stdout


def test_parallel_jobs_give_the_same_report_in_the_same_order(tmp_path: Path) -> None:
    for index in range(20):
        (tmp_path / f"svc{index:02}").mkdir()
        (tmp_path / f"svc{index:02}" / "Dockerfile").write_text(ROOT_DOCKERFILE if index % 2 else CLEAN_DOCKERFILE)
        (tmp_path / f"pod{index:02}.yaml").write_text(POD)
    serial = unroot("check", "--format", "json", "--jobs", "1", ".", cwd=tmp_path)
    parallel = unroot("check", "--format", "json", "--jobs", "2", ".", cwd=tmp_path)
    assert parallel.returncode == serial.returncode == 1
    assert parallel.stdout == serial.stdout
    assert len(json.loads(parallel.stdout)["findings"]) > 40


def test_our_own_image_and_deployment_pass_with_zero_findings() -> None:
    root = Path(__file__).resolve().parents[1]
    result = unroot("check", "--format", "json", "Dockerfile", "deploy", cwd=root)
    assert result.returncode == 0
    assert json.loads(result.stdout)["findings"] == []


def _app_env(**extra: str) -> dict[str, str]:
    import os

    from tests.fakegithub import shared_app_key

    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "UNROOT_", "REDIS_"))}
    env.update(GITHUB_APP_ID="1", GITHUB_PRIVATE_KEY=shared_app_key().private_pem, **extra)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    return env


def test_worker_without_redis_says_what_to_set(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "worker"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        env=_app_env(),
    )
    assert result.returncode == 2
    assert "cannot start the worker: REDIS_URL is not set" in result.stderr


def test_worker_refuses_a_redis_it_cannot_reach_with_the_address_and_no_password(tmp_path: Path) -> None:
    from tests.redisserver import free_port

    url = f"redis://user:hunter2@127.0.0.1:{free_port()}/0"
    env = _app_env(REDIS_URL=url, UNROOT_REDIS_WAIT="0.5")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "worker"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        env=env,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "worker stopped: cannot reach Redis at redis://***@127.0.0.1:" in result.stderr
    assert "hunter2" not in result.stderr and "Traceback" not in result.stderr


def test_serve_refuses_a_redis_it_cannot_reach(tmp_path: Path) -> None:
    from tests.redisserver import free_port

    env = _app_env(GITHUB_WEBHOOK_SECRET="s", REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", UNROOT_REDIS_WAIT="0.5")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--port", "0", "--host", "127.0.0.1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        env=env,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "server stopped: cannot reach Redis at redis://127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_run_jobs_is_refused_without_redis(tmp_path: Path) -> None:
    env = _app_env(GITHUB_WEBHOOK_SECRET="s")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--run-jobs"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        env=env,
    )
    assert result.returncode == 2
    assert "--run-jobs is for REDIS_URL setups" in result.stderr


def test_the_check_path_imports_nothing_of_the_app(tmp_path: Path) -> None:
    # Editors and pre-commit hooks start `unroot check` per file: no aiohttp, crypto or Redis client.
    from bench.startup import imported_app_modules

    (tmp_path / "Dockerfile").write_text(CLEAN_DOCKERFILE)
    assert imported_app_modules(str(tmp_path / "Dockerfile")) == []


def test_cli_reads_the_checked_out_repository_unless_told_not_to(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "skaffold.yaml").write_text(SKAFFOLD)
    (tmp_path / "services" / "app").mkdir(parents=True)
    (tmp_path / "services" / "app" / "Dockerfile.prod").write_text(APP_UID_1000)
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "pod.yaml").write_text(pod(RESTRICTED_CONTAINER))

    def ur201(*extra: str) -> list[str]:
        done = unroot("check", "k8s", "--format", "json", *extra, cwd=tmp_path)
        return [f["severity"] for f in json.loads(done.stdout)["findings"] if f["rule"] == "UR201"]

    assert ur201() == ["warning"]
    assert ur201("--no-repository") == ["error"]
