"""The text report and the flags around it, through the real `unroot` process: one line per finding,
each fix once per object, colour only on a terminal, quiet and statistics, exit thresholds, --output,
standard input, rule selection, the rule catalogue and --version."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from bot.config import DOCS_URL
from rules.registry import RULES
from tests.patience import PATIENCE

MANY = Path(__file__).parent / "data" / "many-containers" / "deployment.yaml"
FINDING = re.compile(
    r"^(?P<path>[^:]+):(?P<line>\d+): (?P<rule>UR\d{3}) (?P<severity>error|warning|notice) (?P<message>.+)$"
)
ESCAPE = "\x1b["
ROOT_DOCKERFILE = 'FROM debian:12\nCOPY . /app\nCMD ["/app/run"]\n'
SUDO_ONLY_DOCKERFILE = "FROM debian:12\nRUN apt-get install -y sudo\nUSER 10001:10001\n"
# What `helm template rel ./web` prints: documents after `---`, each behind a `# Source:` comment.
HELM_TEMPLATE = """---
# Source: web/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: rel-web
  labels:
    helm.sh/chart: web-0.1.0
---
# Source: web/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: rel-web
spec:
  type: ClusterIP
  ports:
    - port: 80
      targetPort: http
---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: rel-web
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: web
  template:
    metadata:
      labels:
        app.kubernetes.io/name: web
    spec:
      serviceAccountName: rel-web
      securityContext:
        {}
      containers:
        - name: web
          securityContext:
            {}
          image: "nginx:1.16.0"
          imagePullPolicy: IfNotPresent
          ports:
            - name: http
              containerPort: 8080
---
# Source: web/templates/tests/test-connection.yaml
apiVersion: v1
kind: Pod
metadata:
  name: "rel-web-test-connection"
  annotations:
    "helm.sh/hook": test
spec:
  containers:
    - name: wget
      image: busybox
      command: ['wget']
      args: ['rel-web:80']
  restartPolicy: Never
"""


def unroot(
    *args: str, cwd: Path, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        env=env,
    )


def plain_env(**extra: str) -> dict[str, str]:
    """The environment without the colour switches a developer's shell may carry."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return {**env, "TERM": "xterm-256color", **extra}


def on_a_terminal(*args: str, cwd: Path, env: dict[str, str]) -> str:
    """What `unroot` prints when its stdout is a terminal (a pseudo-terminal's other end)."""
    controller, terminal = os.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", *args], cwd=cwd, stdout=terminal, stderr=subprocess.DEVNULL, env=env
        )
    finally:
        os.close(terminal)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(controller)
        process.wait(timeout=PATIENCE)
    return b"".join(chunks).decode()


def test_twenty_containers_print_one_line_per_finding_and_each_fix_once(tmp_path: Path) -> None:
    result = unroot("check", str(MANY), cwd=tmp_path)
    lines = result.stdout.splitlines()
    findings = [line for line in lines if FINDING.match(line)]
    fixes = [line for line in lines if line.startswith("    fix for ")]
    assert len(findings) == 100  # 5 rules x 20 containers
    assert {line.split(":", 1)[0] for line in findings} == {str(MANY)}
    assert sum(line.endswith(" [fixable]") for line in findings) == 80  # UR211 waits for a second pass
    assert fixes == [
        "    fix for 40 findings in 20 containers (UR201, UR209): Set runAsNonRoot: true, runAsUser: 10001, "
        "runAsGroup: 10001, seccompProfile: RuntimeDefault in the pod's securityContext",
        "    fix for 40 findings in 20 containers (UR205, UR206): Set allowPrivilegeEscalation: false, "
        "capabilities.drop: [ALL] in the container's securityContext",
    ]
    assert (
        lines[-1]
        == "20 errors, 60 warnings, 20 notices in 1 file checked; 80 fixable with `unroot fix` (20 more in its second pass)"
    )
    assert len(lines) == 103 and result.returncode == 1


def test_a_dockerfile_stage_gets_its_fix_after_its_findings(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nRUN apt-get install -y sudo\n" + 'CMD ["x"]\n')
    lines = unroot("check", "Dockerfile", cwd=tmp_path).stdout.splitlines()
    assert lines[0].startswith("Dockerfile:2: UR104 warning ") and not lines[0].endswith("[fixable]")
    assert lines[1].startswith("Dockerfile:3: UR102 error ") and lines[1].endswith(" [fixable]")
    assert lines[2].startswith("    fix for 1 finding (UR102): Run as UID 10001:10001")
    assert lines[3] == "1 error, 1 warning, 0 notices in 1 file checked; 1 fixable with `unroot fix`"


def test_colour_on_a_terminal_only_unless_told(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(ROOT_DOCKERFILE)
    coloured = on_a_terminal("check", "Dockerfile", cwd=tmp_path, env=plain_env())
    assert "\x1b[31merror\x1b[0m" in coloured and "\x1b[1mUR102\x1b[0m" in coloured
    assert ESCAPE not in on_a_terminal("check", "Dockerfile", cwd=tmp_path, env=plain_env(NO_COLOR="1"))
    assert ESCAPE not in on_a_terminal("check", "--color", "never", "Dockerfile", cwd=tmp_path, env=plain_env())
    assert ESCAPE not in on_a_terminal("check", "Dockerfile", cwd=tmp_path, env=plain_env(TERM="dumb"))
    # An empty NO_COLOR is unset (no-color.org).
    assert ESCAPE in on_a_terminal("check", "Dockerfile", cwd=tmp_path, env=plain_env(NO_COLOR=""))

    piped = unroot("check", "Dockerfile", cwd=tmp_path, env=plain_env())
    assert ESCAPE not in piped.stdout and piped.stdout.startswith("Dockerfile:3: UR102 error ")
    assert ESCAPE in unroot("check", "Dockerfile", cwd=tmp_path, env=plain_env(FORCE_COLOR="1")).stdout
    assert ESCAPE in unroot("check", "--color", "always", "Dockerfile", cwd=tmp_path, env=plain_env()).stdout
    assert ESCAPE not in unroot("check", "Dockerfile", cwd=tmp_path, env=plain_env(FORCE_COLOR="0")).stdout


def test_quiet_prints_the_finding_lines_alone(tmp_path: Path) -> None:
    result = unroot("check", "--quiet", str(MANY), cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert len(lines) == 100 and all(FINDING.match(line) for line in lines)
    assert result.returncode == 1


def test_statistics_count_each_rule_then_close(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nRUN apt-get install -y sudo\n" + 'CMD ["x"]\n')
    (tmp_path / "many.yaml").write_text(MANY.read_text())
    lines = unroot("check", "--statistics", ".", cwd=tmp_path).stdout.splitlines()
    titles = {rule.id: rule.title for rule in RULES}
    rows = [line.split(None, 3) for line in lines[:-1]]
    assert [(count, rule) for count, rule, *_rest in rows] == [
        ("20", "UR201"),
        ("20", "UR205"),
        ("20", "UR206"),
        ("20", "UR209"),
        ("20", "UR211"),
        ("1", "UR102"),
        ("1", "UR104"),
    ]
    assert lines[0].split(None, 3)[3] == f"[fixable]      {titles['UR201']}"
    assert lines[4].split(None, 3)[3] == titles["UR211"]  # nothing to mark: its fix waits for a second pass
    assert rows[6][2] == "warning" and rows[6][3] == titles["UR104"]
    assert (
        lines[-1]
        == "21 errors, 61 warnings, 20 notices in 2 files checked; 81 fixable with `unroot fix` (20 more in its second pass)"
    )


def test_fail_on_chooses_the_severity_that_fails(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(SUDO_ONLY_DOCKERFILE)  # one warning, no error
    (tmp_path / "huge.yaml").write_text("# x\n" * 100)  # one notice: over --max-bytes

    def code(*args: str) -> int:
        return unroot("check", "--max-bytes", "100", *args, cwd=tmp_path).returncode

    assert code("Dockerfile") == 0  # default: errors only
    assert code("--fail-on", "error", "Dockerfile") == 0
    assert code("--fail-on", "warning", "Dockerfile") == 1
    assert code("--fail-on", "warning", "huge.yaml") == 0
    assert code("--fail-on", "notice", "huge.yaml") == 1
    (tmp_path / "root.Dockerfile").write_text(ROOT_DOCKERFILE)
    assert code("root.Dockerfile") == 1
    assert code("--fail-on", "never", ".") == 0
    bad = unroot("check", "--fail-on", "fatal", ".", cwd=tmp_path)
    assert bad.returncode == 2 and "--fail-on" in bad.stderr


@pytest.mark.parametrize("form", ["text", "json", "sarif"])
def test_output_writes_the_whole_report_to_a_file_uncoloured(tmp_path: Path, form: str) -> None:
    (tmp_path / "Dockerfile").write_text(ROOT_DOCKERFILE)
    (tmp_path / "report").write_text("an old report\n")
    piped = unroot("check", "--format", form, "Dockerfile", cwd=tmp_path)
    done = unroot(
        "check", "--format", form, "--output", "report", "Dockerfile", cwd=tmp_path, env=plain_env(FORCE_COLOR="1")
    )
    assert done.stdout == "" and done.returncode == 1, done.stderr
    written = (tmp_path / "report").read_text()
    assert ESCAPE not in written and written == piped.stdout
    if form != "text":
        json.loads(written)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []  # no temporary left


def test_output_to_a_directory_or_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(ROOT_DOCKERFILE)
    (tmp_path / "reports").mkdir()
    folder = unroot("check", "--output", "reports", "Dockerfile", cwd=tmp_path)
    assert folder.returncode == 2 and folder.stderr == "unroot: --output reports: is a directory\n"
    missing = unroot("check", "-o", "nowhere/report.txt", "Dockerfile", cwd=tmp_path)
    assert missing.returncode == 2 and "no such directory: nowhere" in missing.stderr
    assert missing.stdout == ""


def test_helm_template_output_is_checked_from_stdin(tmp_path: Path) -> None:
    result = unroot("check", "-", cwd=tmp_path, stdin=HELM_TEMPLATE)
    found = [FINDING.match(line) for line in result.stdout.splitlines()]
    matched = [(m["path"], int(m["line"]), m["rule"]) for m in found if m is not None]
    assert ("-", 43, "UR201") in matched and ("-", 59, "UR201") in matched  # the web and wget containers
    assert {path for path, _line, _rule in matched} == {"-"}
    assert result.stdout.splitlines()[-1].endswith(
        "in 1 file checked; 8 fixable with `unroot fix` (1 more in its second pass)"
    )
    assert result.returncode == 1

    named = unroot("check", "--stdin-filename", "rendered/web.yaml", "-", cwd=tmp_path, stdin=HELM_TEMPLATE)
    assert named.stdout.startswith("rendered/web.yaml:43: UR201 error container 'web' in Deployment/rel-web")


def test_stdin_kind_is_guessed_or_named(tmp_path: Path) -> None:
    dockerfile = "# syntax=docker/dockerfile:1\nARG BASE=debian:12\nFROM $BASE\n" + 'CMD ["x"]\n'
    assert unroot("check", "-", cwd=tmp_path, stdin=dockerfile).stdout.startswith("-:4: UR102 error ")
    named = unroot("check", "--stdin-filename", "api.dockerfile", "-", cwd=tmp_path, stdin=ROOT_DOCKERFILE)
    assert named.stdout.startswith("api.dockerfile:3: UR102 error ")
    unknown = unroot("check", "--stdin-filename", "notes.txt", "-", cwd=tmp_path, stdin=ROOT_DOCKERFILE)
    assert unknown.returncode == 2 and "--stdin-filename notes.txt: not a Dockerfile" in unknown.stderr
    alone = unroot("check", "--stdin-filename", "x.yaml", ".", cwd=tmp_path)
    assert alone.returncode == 2 and "give `-` as a PATH" in alone.stderr


def test_stdin_beside_files_and_over_the_size_limit(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(ROOT_DOCKERFILE)
    both = unroot("check", "Dockerfile", "-", cwd=tmp_path, stdin=ROOT_DOCKERFILE).stdout.splitlines()
    assert [line.split(" ", 1)[0] for line in both if FINDING.match(line)] == [
        "-:3:",
        "Dockerfile:3:",
    ]  # sorted by path
    assert both[-1].endswith("in 2 files checked; 2 fixable with `unroot fix`")
    big = unroot("check", "--max-bytes", "10", "-", cwd=tmp_path, stdin=ROOT_DOCKERFILE)
    assert big.stdout.splitlines()[0] == "-:1: UR001 notice Skipped: over the 10-byte limit."
    assert big.returncode == 0


def test_fix_of_stdin_prints_the_fixed_text_alone(tmp_path: Path) -> None:
    fixed = unroot("fix", "-", cwd=tmp_path, stdin=HELM_TEMPLATE)
    assert fixed.returncode == 0 and "runAsNonRoot: true" in fixed.stdout
    assert fixed.stdout.startswith("---\n# Source: web/templates/serviceaccount.yaml\n")
    (tmp_path / "web.yaml").write_text(HELM_TEMPLATE)
    assert unroot("fix", "web.yaml", cwd=tmp_path).returncode == 0
    assert fixed.stdout == (tmp_path / "web.yaml").read_text()  # as `unroot fix` on the file, second pass too
    again = unroot("check", "--format", "json", "-", cwd=tmp_path, stdin=fixed.stdout)
    assert {f["severity"] for f in json.loads(again.stdout)["findings"]} == {"notice"}
    dockerfile = unroot("fix", "-", cwd=tmp_path, stdin=ROOT_DOCKERFILE)
    assert dockerfile.stdout.endswith('USER 10001:10001\nCMD ["/app/run"]\n')
    clean = "FROM debian:12\nUSER 10001:10001\n"
    assert unroot("fix", "-", cwd=tmp_path, stdin=clean).stdout == clean  # nothing to fix: the text as it came
    diff = unroot("fix", "--diff", "-", cwd=tmp_path, stdin=ROOT_DOCKERFILE).stdout
    assert diff.startswith("--- a/-\n+++ b/-\n") and "+USER 10001:10001\n" in diff


def test_select_and_ignore_switch_rules_by_id_or_prefix(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(ROOT_DOCKERFILE)
    (tmp_path / "many.yaml").write_text(MANY.read_text())
    (tmp_path / "binary.Dockerfile").write_bytes(b"\x00\x01")

    def rules(*args: str) -> set[str]:
        done = unroot("check", "--format", "json", *args, ".", cwd=tmp_path)
        assert done.returncode in (0, 1), done.stderr
        return {f["rule"] for f in json.loads(done.stdout)["findings"]}

    assert rules() == {"UR001", "UR102", "UR201", "UR205", "UR206", "UR209", "UR211"}
    assert rules("--select", "UR2") == {"UR001", "UR201", "UR205", "UR206", "UR209", "UR211"}
    assert rules("--select", "ur102,UR209") == {"UR001", "UR102", "UR209"}
    assert rules("--select", "UR102", "--select", "UR211") == {"UR001", "UR102", "UR211"}
    assert rules("--ignore", "UR2") == {"UR001", "UR102"}
    assert rules("--select", "UR20", "--ignore", "UR201") == {"UR001", "UR205", "UR206", "UR209"}
    for option in ("--select", "--ignore"):
        bad = unroot("check", option, "UR201,UR9", ".", cwd=tmp_path)
        assert bad.returncode == 2 and f"{option}: no rule is UR9" in bad.stderr


def test_a_selection_that_names_no_rule_fails_instead_of_passing(tmp_path: Path) -> None:
    # `--select "$RULES"` with RULES unset must not check nothing and exit 0.
    (tmp_path / "many.yaml").write_text(MANY.read_text())
    for command in ("check", "fix"):
        for empty in ("", ","):
            done = unroot(command, "--select", empty, "many.yaml", cwd=tmp_path)
            assert done.returncode == 2 and "--select names no rule" in done.stderr, done.stdout
    assert (tmp_path / "many.yaml").read_text() == MANY.read_text()
    ignored = unroot("check", "--ignore", "UR001", "many.yaml", cwd=tmp_path)
    assert ignored.returncode == 2 and "UR001 (a file that could not be checked) always reports" in ignored.stderr
    # An empty --ignore ignores nothing.
    assert unroot("check", "--ignore", "", "many.yaml", cwd=tmp_path).stdout.count(" UR201 error ") == 20


def test_text_only_flags_with_another_format_are_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(ROOT_DOCKERFILE)
    for flag in ("--quiet", "--statistics"):
        done = unroot("check", "--format", "json", flag, "Dockerfile", cwd=tmp_path)
        assert done.returncode == 2 and done.stdout == ""
        assert "shape the text report, not --format json" in done.stderr


def test_output_dash_is_standard_output(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(ROOT_DOCKERFILE)
    done = unroot("check", "-o", "-", "Dockerfile", cwd=tmp_path)
    assert done.returncode == 1 and " UR102 error " in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile"]


def test_fix_lines_name_the_container_and_files_come_in_order(tmp_path: Path) -> None:
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: two\nspec:\n  securityContext:\n    runAsNonRoot: true\n"
        "    runAsUser: 10001\n    seccompProfile:\n      type: RuntimeDefault\n  containers:\n  - name: web\n"
        "    image: example/web:1\n  - name: side\n    image: example/side:1\n"
        "    securityContext:\n      allowPrivilegeEscalation: false\n"
    )
    (tmp_path / "b.yaml").write_text(pod)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "Dockerfile").write_text(ROOT_DOCKERFILE)
    lines = unroot("check", "b.yaml", "a", cwd=tmp_path).stdout.splitlines()
    fixes = [line for line in lines if line.startswith("    fix for ")]
    assert any(line.startswith("    fix for 2 findings of container 'web' (UR205, UR206): ") for line in fixes)
    assert any(line.startswith("    fix for 1 finding of container 'side' (UR206): ") for line in fixes)
    paths = [m.group("path") for line in lines if (m := FINDING.match(line))]
    assert paths == sorted(paths) and paths[0] == "a/Dockerfile"
    assert lines[-1].startswith("1 error, 3 warnings, ") and " in 2 files checked; " in lines[-1]


def test_fix_applies_only_the_selected_rules(tmp_path: Path) -> None:
    (tmp_path / "many.yaml").write_text(MANY.read_text())
    diff = unroot("fix", "--diff", "--select", "UR205", "many.yaml", cwd=tmp_path).stdout
    assert diff.count("+            allowPrivilegeEscalation: false\n") == 20
    assert "runAsNonRoot" not in diff and "seccompProfile" not in diff


def test_rules_lists_the_catalogue_as_the_registry_holds_it(tmp_path: Path) -> None:
    lines = unroot("rules", cwd=tmp_path).stdout.splitlines()
    assert len(lines) == len(RULES)
    for line, rule in zip(lines, RULES):
        rule_id, severity, fixable, rest = line.split(None, 3)
        assert (rule_id, severity, fixable) == (rule.id, rule.severity.value, rule.fix_availability.value)
        title, docs = rest.rsplit(None, 1)
        assert (title, docs) == (rule.title, DOCS_URL.format(id=rule.id))
    listed = json.loads(unroot("rules", "--format", "json", cwd=tmp_path).stdout)["rules"]
    assert listed == [
        {
            "id": rule.id,
            "name": rule.name,
            "severity": rule.severity.value,
            "fixable": rule.fix_availability.value,
            "title": rule.title,
            "docs": DOCS_URL.format(id=rule.id),
        }
        for rule in RULES
    ]


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_names_the_installed_package(tmp_path: Path, flag: str) -> None:
    done = unroot(flag, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == f"unroot {version('unroot')}\n"


def test_a_diff_of_an_absolute_path_has_git_labels(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(ROOT_DOCKERFILE)
    absolute = str(tmp_path / "Dockerfile")
    diff = unroot("fix", "--diff", absolute, cwd=tmp_path).stdout.splitlines()
    assert diff[:2] == [f"--- a{absolute}", f"+++ b{absolute}"]
