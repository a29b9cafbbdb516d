"""`unroot fix` as users run it must never damage a file: one test per defect of issue 9 item 18."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from rules.analyze import analyze
from tests.patience import PATIENCE

ROOT_DOCKERFILE = 'FROM debian:12\nCMD ["/app/run"]\n'
BOM = b"\xef\xbb\xbf"


def unroot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=PATIENCE
    )


def fix_twice(cwd: Path, name: str) -> tuple[str, str]:
    """The file after one `unroot fix` and after a second one."""
    first = unroot("fix", name, cwd=cwd)
    assert first.returncode == 0, first.stderr
    once = (cwd / name).read_text(encoding="utf-8")
    assert unroot("fix", name, cwd=cwd).returncode == 0
    return once, (cwd / name).read_text(encoding="utf-8")


def errors(name: str, text: str) -> list[str]:
    return [f.rule for f in analyze(name, text) if f.severity.value == "error"]


def test_a_bom_stays_single(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_bytes(BOM + ROOT_DOCKERFILE.replace("\n", "\r\n").encode())
    assert unroot("fix", "Dockerfile", cwd=tmp_path).returncode == 0
    data = (tmp_path / "Dockerfile").read_bytes()
    assert data.startswith(BOM) and not data.startswith(BOM * 2)
    assert b"USER 10001:10001\r\n" in data and data.count(b"\n") == data.count(b"\r\n")


def test_a_symlink_named_on_the_command_line_is_not_written_through(tmp_path: Path) -> None:
    target = tmp_path / "real" / "Dockerfile"
    target.parent.mkdir()
    target.write_text(ROOT_DOCKERFILE)
    (tmp_path / "Dockerfile").symlink_to(target)
    result = unroot("fix", "Dockerfile", cwd=tmp_path)
    assert result.returncode == 2
    assert "Dockerfile: not fixed: it is a symbolic link" in result.stderr
    assert target.read_text() == ROOT_DOCKERFILE and (tmp_path / "Dockerfile").is_symlink()


def test_the_write_replaces_the_file_atomically_and_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(ROOT_DOCKERFILE)
    path.chmod(0o640)
    (tmp_path / "hardlink").hardlink_to(path)
    before = path.stat().st_ino
    assert unroot("fix", "Dockerfile", cwd=tmp_path).returncode == 0
    # A new inode: the old content was never truncated in place (a reader sees old or new).
    assert path.stat().st_ino != before
    assert (tmp_path / "hardlink").read_text() == ROOT_DOCKERFILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert "USER 10001:10001" in path.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile", "hardlink"]


def test_the_user_switch_goes_after_a_heredoc_not_into_it(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nRUN <<EOF\napt-get update\nEOF\n")
    once, twice = fix_twice(tmp_path, "Dockerfile")
    assert once.startswith("FROM debian:12\nRUN <<EOF\napt-get update\nEOF\nRUN groupadd ")
    assert once.endswith("\nUSER 10001:10001\n")
    assert errors("Dockerfile", once) == [] and twice == once


def test_the_user_switch_goes_after_a_continued_from_not_into_it(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:12 \\\n  AS final\n")
    once, twice = fix_twice(tmp_path, "Dockerfile")
    assert once.startswith("FROM debian:12 \\\n  AS final\nRUN groupadd ")
    assert errors("Dockerfile", once) == [] and twice == once


def strict_load(text: str) -> list[object]:
    """All documents, refusing duplicate keys (the constructor checks them; the composer does not)."""
    from ruamel.yaml import YAML

    return list(YAML(typ="safe", pure=True).load_all(text))


NULL_SC_ITEM = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - securityContext:\n    name: app\n    image: x\n"


def test_a_null_security_context_that_opens_a_list_item_keeps_its_dash(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(NULL_SC_ITEM)
    once, twice = fix_twice(tmp_path, "pod.yaml")
    (pod,) = strict_load(once)
    assert isinstance(pod, dict)
    (container,) = pod["spec"]["containers"]  # still a list of one container
    assert container["name"] == "app" and container["securityContext"]["allowPrivilegeEscalation"] is False
    assert errors("pod.yaml", once) == [] and twice == once


ALIASED = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: x
    securityContext: &sc
      runAsNonRoot: false
  - name: two
    image: y
    securityContext: *sc
"""


def test_an_aliased_security_context_gets_no_fix_and_a_reason(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(ALIASED)
    once, twice = fix_twice(tmp_path, "pod.yaml")
    (pod,) = strict_load(once)  # no duplicate keys
    assert isinstance(pod, dict)
    assert [c["name"] for c in pod["spec"]["containers"]] == ["app", "two"]
    assert "securityContext: &sc\n      runAsNonRoot: false\n" in once and twice == once
    report = json.loads(unroot("check", "--format", "json", "pod.yaml", cwd=tmp_path).stdout)
    aliased = [f for f in report["findings"] if "YAML anchor and alias" in f["message"]]
    assert aliased and all(f["fix"] is None for f in aliased)


ONE_LINE_JSON = (
    '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, '
    '"spec": {"containers": [{"name": "app", "image": "x"}, {"name": "two", "image": "y"}]}}\n'
)


def test_a_single_line_json_manifest_is_fixed(tmp_path: Path) -> None:
    (tmp_path / "pod.json").write_text(ONE_LINE_JSON)
    once, twice = fix_twice(tmp_path, "pod.json")
    pod = json.loads(once)  # still JSON, on one line
    assert once.count("\n") == 1 and [c["name"] for c in pod["spec"]["containers"]] == ["app", "two"]
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert errors("pod.json", once) == [] and twice == once


def test_a_file_ending_inside_a_heredoc_gets_no_fix_rather_than_a_hidden_user(tmp_path: Path) -> None:
    # Unterminated, or terminated with the wrong case (the delimiter is case-sensitive).
    for text in ("FROM debian:12\nRUN <<EOF\napt-get update\n", "FROM alpine:3.20\nrun <<EOF\necho hi\neof\n"):
        (tmp_path / "Dockerfile").write_text(text)
        result = unroot("fix", "Dockerfile", cwd=tmp_path)
        assert result.returncode == 0 and "0 files fixed; 1 error needs a hand-made fix" in result.stderr
        assert (tmp_path / "Dockerfile").read_text() == text


def test_a_user_root_after_cmd_is_followed_by_the_switch(tmp_path: Path) -> None:
    text = 'FROM python:3.12-slim\nCOPY . /srv\nCMD ["x"]\nuser 0\nRUN <<EOF\necho hi\nEOF\n'
    (tmp_path / "Dockerfile").write_text(text)
    once, twice = fix_twice(tmp_path, "Dockerfile")
    assert once.startswith(text) and once.endswith("\nUSER 10001:10001\n")
    assert errors("Dockerfile", once) == [] and twice == once


ALIASED_ROOT = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: one
    image: nginx
    securityContext: &fz {runAsUser: 0}
  - name: two
    image: nginx
    securityContext: *fz
"""


def test_no_half_fix_next_to_an_aliased_block(tmp_path: Path) -> None:
    # runAsNonRoot: true on the pod alone would make the kubelet refuse both containers (UR203).
    (tmp_path / "pod.yaml").write_text(ALIASED_ROOT)
    once, twice = fix_twice(tmp_path, "pod.yaml")
    assert "UR203" not in errors("pod.yaml", once) and twice == once


NULL_SECCOMP = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile:
      type: Unconfined
  containers:
  - name: app
    image: example/app:1.0
    securityContext:
      seccompProfile: null
      allowPrivilegeEscalation: false
      capabilities:
        drop: ["ALL"]
"""


def test_a_null_container_seccomp_inherits_the_fixed_pod_profile(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(NULL_SECCOMP)
    once, twice = fix_twice(tmp_path, "pod.yaml")
    assert "type: RuntimeDefault" in once and twice == once
    assert not [f for f in analyze("pod.yaml", once) if f.rule == "UR209"]


def test_mixed_line_endings_do_not_fuse_into_a_new_crlf(tmp_path: Path) -> None:
    # The first line sets the file's style (CR); the edited line ends in LF, and so does the next.
    data = b"FROM prom/prometheus:v2.53.0\rCOPY app /app\n# trailing comment\n\n"
    (tmp_path / "Dockerfile").write_bytes(data)
    assert unroot("fix", "Dockerfile", cwd=tmp_path).returncode == 0
    fixed = (tmp_path / "Dockerfile").read_bytes()
    assert b"\r\n" not in fixed and b"USER 65534" in fixed
    assert fixed.endswith(b"\n\n")  # the blank last line is still there


@pytest.mark.parametrize("aliased", ["drop: *a3", "image: *a3"])
def test_an_aliased_scalar_inside_what_a_fix_edits_gets_no_fix_not_a_crash(tmp_path: Path, aliased: str) -> None:
    # Found by tools/fuzz_analysers.py: the edit landed at the anchor on line 1 (IndexError).
    container = "    image: example/app:1.0\n    securityContext:\n      allowPrivilegeEscalation: false\n      capabilities:\n        drop: [ALL]\n"
    if aliased.startswith("image"):
        container = "    image: *a3\n"
    else:
        container = container.replace("drop: [ALL]", aliased)
    text = (
        "apiVersion: &a3 v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  securityContext:\n    runAsNonRoot: true\n"
        "  containers:\n  - name: app\n" + container
    )
    (tmp_path / "pod.yaml").write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check", "--format", "json", "pod.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )
    assert "Traceback" not in result.stderr and result.returncode in (0, 1), result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert findings
    # No edit lands at the anchor's line (where the alias's node "is"), and the file stays fixable.
    assert all(e["start_line"] > 1 for f in findings if f["fix"] for e in f["fix"]["edits"]), findings


def _no_file_growth() -> None:
    """In the child: writing a single byte to any file fails with EFBIG (as on a full disk)."""
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails instead of killing the process
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def test_a_file_that_cannot_be_written_is_reported_and_left_whole(tmp_path: Path) -> None:
    # The operating system refuses the write (here: a file-size limit of 0; in life a full disk
    # or a read-only directory): no traceback, the file keeps its old bytes, exit 2 says why.
    (tmp_path / "Dockerfile").write_text(ROOT_DOCKERFILE)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "fix", "Dockerfile"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        preexec_fn=_no_file_growth,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "unroot: Dockerfile: not fixed: File too large" in result.stderr
    assert (tmp_path / "Dockerfile").read_text() == ROOT_DOCKERFILE
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]  # no temporary file left behind
