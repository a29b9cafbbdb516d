"""The readOnlyRootFilesystem fix (UR211): the setting only together with the emptyDir mounts the container writes."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from bot.cli import fixed_in_two_passes
from rules.analyze import analyze
from rules.fixes import apply
from rules.model import Deferred, Options
from tests.validation import assert_valid_after_fix

HARDENED = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile:
      type: RuntimeDefault
  containers:
  - name: app
    image: {image}
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop: ["ALL"]
"""


def load(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(io.StringIO(text))


def read_only_fix(text: str) -> tuple[str, str]:
    """The file after only UR211's fix, and its summary."""
    [finding] = [f for f in analyze("pod.yaml", text) if f.rule == "UR211"]
    assert finding.fix is not None, finding.message
    return apply(text, finding.fix.edits), finding.fix.summary


def test_a_known_image_gets_a_mount_at_each_path_it_writes() -> None:
    text, summary = read_only_fix(HARDENED.format(image="nginx:1.27"))
    spec = load(text)["spec"]
    container = spec["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts == {"/var/cache/nginx": "var-cache-nginx", "/var/run": "var-run", "/tmp": "tmp"}
    assert spec["volumes"] == [{"name": n, "emptyDir": {}} for n in ("var-cache-nginx", "var-run", "tmp")]
    assert "nginxinc/docker-nginx" in summary
    assert_valid_after_fix("pod.yaml", HARDENED, text)


def test_an_unknown_image_gets_tmp_and_a_warning() -> None:
    text, summary = read_only_fix(HARDENED.format(image="ghcr.io/example/app:1"))
    assert [m["mountPath"] for m in load(text)["spec"]["containers"][0]["volumeMounts"]] == ["/tmp"]
    assert "the app may write elsewhere; check before merging" in summary


def test_a_mounted_path_gets_no_second_mount_and_names_do_not_clash() -> None:
    source = HARDENED.format(image="redis:7") + (
        "    volumeMounts:\n    - name: tmp\n      mountPath: /data\n"
        "  volumes:\n  - name: tmp\n    persistentVolumeClaim: {claimName: data}\n"
    )
    text, _ = read_only_fix(source)
    spec = load(text)["spec"]
    assert spec["containers"][0]["volumeMounts"] == [
        {"name": "tmp", "mountPath": "/data"},
        {"name": "tmp-1", "mountPath": "/tmp"},
    ]
    assert spec["volumes"][1] == {"name": "tmp-1", "emptyDir": {}}
    assert_valid_after_fix("pod.yaml", source, text)


def test_two_containers_get_distinct_volumes_and_all_fixes_apply_together() -> None:
    source = HARDENED.format(image="nginx:1.27") + (
        "  - name: side\n    image: example/side:1\n    securityContext:\n      allowPrivilegeEscalation: false\n"
        '      capabilities:\n        drop: ["ALL"]\n'
    )
    findings = analyze("pod.yaml", source)
    text = apply(source, [e for f in findings if f.fix for e in f.fix.edits])
    spec = load(text)["spec"]
    names = [v["name"] for v in spec["volumes"]]
    assert len(names) == len(set(names)) == 4
    assert all(c["securityContext"]["readOnlyRootFilesystem"] is True for c in spec["containers"])
    assert_valid_after_fix("pod.yaml", source, text)


def test_when_one_container_waits_the_other_fix_adds_only_its_own_volumes() -> None:
    # `app` gets its securityContext from other fixes first, so its read-only fix waits; `side`'s
    # fix is offered now and must not carry the volume planned for `app` (it would stay unmounted).
    source = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n"
        "    image: example/app:1\n  - name: side\n    image: example/side:1\n    securityContext:\n"
        "      allowPrivilegeEscalation: false\n"
    )
    findings = analyze("pod.yaml", source)
    waiting = [f for f in findings if f.rule == "UR211" and f.variant is Deferred.AFTER_OTHER_FIXES]
    assert [f.container for f in waiting] == ["app"]
    text = fixed_in_two_passes("pod.yaml", source, findings, Options())
    spec = load(text)["spec"]
    mounted = {m["name"] for c in spec["containers"] for m in c.get("volumeMounts", [])}
    assert {v["name"] for v in spec["volumes"]} == mounted
    assert all(c["securityContext"]["readOnlyRootFilesystem"] is True for c in spec["containers"])


def test_flow_style_volumes_get_no_fix_and_the_reason() -> None:
    source = HARDENED.format(image="nginx:1.27") + "  volumes: [{name: c, configMap: {name: c}}]\n"
    [finding] = [f for f in analyze("pod.yaml", source) if f.rule == "UR211"]
    assert finding.fix is None
    assert "`volumes` is written in flow style" in finding.message


def test_it_waits_for_fixes_that_add_the_security_context_and_never_reaches_theirs() -> None:
    source = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: nginx:1\n"
    )
    findings = analyze("pod.yaml", source)
    [waiting] = [f for f in findings if f.rule == "UR211"]
    assert waiting.fix is None and waiting.variant is Deferred.AFTER_OTHER_FIXES
    assert all("readOnlyRootFilesystem" not in e.replacement for f in findings if f.fix for e in f.fix.edits)
    text = fixed_in_two_passes("pod.yaml", source, findings, Options())
    container = load(text)["spec"]["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert "/var/cache/nginx" in [m["mountPath"] for m in container["volumeMounts"]]
    assert fixed_in_two_passes("pod.yaml", text, analyze("pod.yaml", text), Options()) == text


def test_the_cli_fixes_it_in_one_run(tmp_path: Path) -> None:
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: redis:7\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "fix", str(manifest)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    container = load(manifest.read_text())["spec"]["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert [m["mountPath"] for m in container["volumeMounts"]] == ["/data", "/tmp"]
    check = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check", str(manifest)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert "UR211" not in check.stdout
