"""Small hostile files through `unroot check` as a process: each one once hung, crashed or misjudged.

Every run has a CPU-time and address-space limit, so a regression fails the test (killed by
SIGXCPU) instead of hanging the suite; the limit counts CPU, not wall time, so a loaded
machine cannot trip it.
"""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CPU_SECONDS = 10  # each of these files takes well under 0.5 s; a hang is killed here
MEMORY_BYTES = 1024**3


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def unroot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command under CPU and memory limits; fails the test naming a hang or a crash."""
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limits,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    if proc.returncode < 0:
        pytest.fail(
            f"unroot {' '.join(args)} was killed by {signal.Signals(-proc.returncode).name} (hang or memory blow-up)"
        )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def findings(tmp_path: Path, name: str, content: bytes) -> tuple[int, list[dict[str, object]]]:
    (tmp_path / name).write_bytes(content)
    proc = unroot("check", "--format", "json", name, cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, list(json.loads(proc.stdout)["findings"])


@pytest.mark.parametrize(
    "text",
    [
        "apiVersion: v1\ncontainers: &a [*a]\n",  # the 35 bytes of the report
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: &s\n  containers:\n  - name: a\n    image: x\n    again: *s\n",
        "apiVersion: v1\nkind: Pod\ncontainers: &m {x: *m}\n",
    ],
)
def test_a_self_containing_alias_is_one_notice_not_a_hang(tmp_path: Path, text: str) -> None:
    code, found = findings(tmp_path, "x.yaml", text.encode())
    assert code == 0
    assert [(f["rule"], f["severity"]) for f in found] == [("UR001", "notice")]
    assert "recursive alias" in str(found[0]["message"])


@pytest.mark.parametrize("size", [60_000, 999_000])
def test_unclosed_nested_defaults_expand_in_linear_time(tmp_path: Path, size: int) -> None:
    # `${A:-${A:-…` without a closing brace: the old regex rescanned the rest of the line at
    # every `${` (60 KB: 10 s; the 1 MB limit: ~50 minutes).
    text = "FROM a\nUSER ${A:-" + "${A:-" * (size // 5) + "\n"
    code, found = findings(tmp_path, "Dockerfile", text.encode())
    assert code == 0  # a USER that cannot be known is not judged root
    assert all(int(str(f["line"])) <= 2 for f in found)


def test_closed_nested_defaults_are_expanded_like_docker(tmp_path: Path) -> None:
    text = "FROM debian:12\nARG A\nUSER ${A:-${B:-${C:-0}}}\n"
    code, found = findings(tmp_path, "Dockerfile", text.encode())
    assert code == 1 and [f["rule"] for f in found] == ["UR101"]


def test_a_name_created_with_uid_0_is_root_and_no_fix_names_it(tmp_path: Path) -> None:
    text = 'FROM debian:12\nRUN useradd -o -u 0 -g 0 admin\nUSER admin\nCMD ["sh"]\n'
    code, found = findings(tmp_path, "Dockerfile", text.encode())
    assert code == 1
    (finding,) = found
    assert (finding["rule"], finding["severity"], finding["line"]) == ("UR101", "error", 3)
    assert "UID 0" in str(finding["message"])
    fix = finding["fix"]
    assert isinstance(fix, dict)
    replacement = "".join(str(e["replacement"]) for e in fix["edits"])
    assert "USER 0" not in replacement and "USER admin" not in replacement
    assert unroot("fix", "Dockerfile", cwd=tmp_path).returncode == 0
    assert unroot("check", "Dockerfile", cwd=tmp_path).returncode == 0


def test_an_empty_env_does_not_crash(tmp_path: Path) -> None:
    code, found = findings(tmp_path, "Dockerfile", b"FROM a\nENV \n")
    assert code == 1 and [f["rule"] for f in found] == ["UR102"]


POD_WITH_BREAK = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a{char}  \n  labels: {{app: b{char}c}}\nspec:\n"
    "  containers:\n  - name: a\n    image: x\n"
)


@pytest.mark.parametrize("char", ["\x85", "\u2028", "\u2029"])
def test_yaml_only_line_breaks_keep_findings_on_real_lines(tmp_path: Path, char: str) -> None:
    # ruamel (like Kubernetes' decoder) breaks lines at NEL, LS and PS; git and GitHub do not.
    text = POD_WITH_BREAK.format(char=char)
    code, found = findings(tmp_path, "pod.yaml", text.encode())
    plain_code, plain = findings(tmp_path, "plain.yaml", POD_WITH_BREAK.format(char="").encode())
    line_count = len(text.split("\n")) - 1
    assert code == plain_code == 1
    assert [(f["rule"], f["line"], f["end_line"]) for f in found] == [
        (f["rule"], f["line"], f["end_line"]) for f in plain
    ]
    assert all(1 <= int(str(f["line"])) <= int(str(f["end_line"])) <= line_count for f in found)
    # An edit could land at the wrong YAML depth there, so none is offered, and the message says why.
    assert all(f["fix"] is None for f in found)
    assert any("U+2028" in str(f["message"]) for f in found)
    assert unroot("fix", "pod.yaml", cwd=tmp_path).returncode == 0
    assert (tmp_path / "pod.yaml").read_text() == text


def test_a_comment_hiding_root_behind_a_line_separator_is_still_seen(tmp_path: Path) -> None:
    # To Kubernetes the LS ends the comment and `runAsUser: 0` is a key of the securityContext.
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  securityContext:\n"
        "    runAsNonRoot: true # ok\u2028    runAsUser: 0\n  containers:\n  - name: a\n    image: x\n"
    )
    code, found = findings(tmp_path, "pod.yaml", text.encode())
    assert code == 1
    assert any(f["rule"] == "UR202" and "runAsUser: 0" in str(f["message"]) and f["line"] == 7 for f in found), found


def test_a_derandomized_fuzz_run_finds_no_crash_hang_or_slow_input(tmp_path: Path) -> None:
    # The same 300 inputs per analyser on every run (tools/fuzz_analysers.py runs 100,000 and more).
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "fuzz_analysers.py"),
            "--count",
            "300",
            "--seed",
            "7",
            "--corpus",
            str(tmp_path / "no-corpus"),
            "--out",
            str(tmp_path / "found"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = [line for line in proc.stdout.splitlines() if not line.startswith(" ")]
    assert [line.split(":")[0] for line in summary] == ["dockerfile", "json", "yaml"]
    assert all(" 300 inputs " in line and " 0 exceptions or hangs, 0 inputs under 64 KB" in line for line in summary), (
        summary
    )


@pytest.mark.parametrize("user", ["➍", "²", "١٠٠٠"])
def test_unicode_digits_are_names_not_numbers(tmp_path: Path, user: str) -> None:
    # str.isdigit() accepts them and int() then raised ValueError (found by tools/fuzz_analysers.py).
    text = f"FROM debian:12\nRUN useradd -u {user} app\nUSER {user}\n"
    code, found = findings(tmp_path, "Dockerfile", text.encode())
    assert [f["rule"] for f in found] == ["UR103"]
