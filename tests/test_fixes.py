"""The fix applier and the minimality of fixes: untouched bytes stay identical."""

from __future__ import annotations

import json

import pytest
from ruamel.yaml import YAML

from rules.analyze import analyze
from rules.fixes import EditConflict, apply
from rules.model import LineEdit, Options, Severity
from tests.validation import assert_valid_after_fix


def fix_all(path: str, text: str, options: Options | None = None) -> str:
    findings = analyze(path, text, options)
    return apply(text, [e for f in findings if f.fix for e in f.fix.edits])


def errors(path: str, text: str) -> list[str]:
    return [f.message for f in analyze(path, text) if f.severity is Severity.ERROR]


def warnings_and_errors(path: str, text: str) -> list[str]:
    return [f.message for f in analyze(path, text) if f.severity is not Severity.NOTICE]


def test_apply_replaces_inserts_and_deletes() -> None:
    text = "a\nb\nc\n"
    assert apply(text, [LineEdit(2, 2, "B\nB2\n")]) == "a\nB\nB2\nc\n"
    assert apply(text, [LineEdit(1, 2, "")]) == "c\n"


def test_apply_keeps_crlf_and_missing_final_newline() -> None:
    assert apply("a\r\nb", [LineEdit(2, 2, "x\ny\n")]) == "a\r\nx\r\ny"


def test_apply_counts_identical_edits_once_and_refuses_overlaps() -> None:
    edit = LineEdit(1, 1, "z\n")
    assert apply("a\nb\n", [edit, edit]) == "z\nb\n"
    with pytest.raises(EditConflict):
        apply("a\nb\n", [LineEdit(1, 2, "x\n"), LineEdit(2, 2, "y\n")])


DEPLOYMENT = """\
# web frontend
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # keep me
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels:
        app: "web"
    spec:
      containers:
        - name: app
          image: 'example/web:1.0'  # pinned
          ports:
            - containerPort: 8080
        - name: sidecar
          image: example/proxy:2
      initContainers:
        - name: migrate
          image: example/web:1.0
          command: ["./migrate"]
"""


def test_kubernetes_fix_only_adds_lines_and_meets_restricted() -> None:
    fixed = fix_all("deploy.yaml", DEPLOYMENT)
    original_lines = DEPLOYMENT.splitlines()
    fixed_lines = iter(fixed.splitlines())
    # Every original line survives byte for byte, in order: the fix only inserts.
    assert all(any(line == candidate for candidate in fixed_lines) for line in original_lines)
    assert warnings_and_errors("deploy.yaml", fixed) == []
    assert fixed.count("runAsNonRoot: true") == 1, "the pod-level block is inserted once"
    assert_valid_after_fix("deploy.yaml", DEPLOYMENT, fixed)
    # Inserted sequence items follow the file's indented style.
    assert "              drop:\n                - ALL\n" in fixed


def test_pod_level_block_never_gets_container_only_keys() -> None:
    fixed = fix_all("deploy.yaml", DEPLOYMENT)
    data = YAML(typ="safe", pure=True).load(fixed)
    pod_sc = data["spec"]["template"]["spec"]["securityContext"]
    assert set(pod_sc) == {"runAsNonRoot", "runAsUser", "runAsGroup", "seccompProfile"}
    assert pod_sc["runAsUser"] == 10001


def test_bad_override_is_replaced_not_duplicated() -> None:
    text = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: x
    securityContext:
      runAsNonRoot: false   # legacy
      runAsUser: 0
      allowPrivilegeEscalation: true
      capabilities:
        add: ["NET_BIND_SERVICE"]
        drop: ["NET_RAW"]
"""
    fixed = fix_all("pod.yaml", text)
    YAML(typ="rt").load(fixed)  # raises on duplicate keys
    assert "runAsNonRoot: true   # legacy" in fixed
    assert "runAsUser: 10001" in fixed and "allowPrivilegeEscalation: false" in fixed
    assert 'add: ["NET_BIND_SERVICE"]' in fixed and 'drop: [ALL, "NET_RAW"]' in fixed
    assert warnings_and_errors("pod.yaml", fixed) == []
    assert_valid_after_fix("pod.yaml", text, fixed)


def test_fix_keeps_crlf_line_endings() -> None:
    text = DEPLOYMENT.replace("\n", "\r\n")
    fixed = fix_all("deploy.yaml", text)
    assert fixed != text
    assert "\n" not in fixed.replace("\r\n", "")
    assert warnings_and_errors("deploy.yaml", fixed) == []


def test_flow_style_security_context_is_fixed_in_flow_style() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "  - {name: app, image: x, securityContext: {runAsUser: 0}}\n"
    )
    fixed = fix_all("pod.yaml", text)
    assert errors("pod.yaml", fixed) == [], fixed
    assert_valid_after_fix("pod.yaml", text, fixed)


def test_json_manifest_fix_stays_json() -> None:
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api"},
        "spec": {
            "selector": {"matchLabels": {"app": "api"}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {
                    "containers": [{"name": "api", "image": "example/api:1", "securityContext": {"runAsUser": 0}}]
                },
            },
        },
    }
    text = json.dumps(manifest, indent=2) + "\n"
    fixed = fix_all("api.json", text)
    parsed = json.loads(fixed)
    container = parsed["spec"]["template"]["spec"]["containers"][0]
    assert container["securityContext"]["runAsUser"] == 10001
    assert warnings_and_errors("api.json", fixed) == []


def test_lowercase_all_gets_an_exact_ALL() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: app\n    image: x\n"
        "    securityContext:\n      capabilities:\n        drop:\n        - all\n"
    )
    fixed = fix_all("pod.yaml", text)
    assert "        - ALL\n        - all\n" in fixed
    assert warnings_and_errors("pod.yaml", fixed) == []


def test_configured_uid_is_used() -> None:
    fixed = fix_all("Dockerfile", 'FROM debian:12\nCMD ["x"]\n', Options(uid=2000, gid=3000))
    assert "USER 2000:3000" in fixed
    fixed_pod = fix_all(
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: x\n",
        Options(uid=2000, gid=3000),
    )
    assert "runAsUser: 2000" in fixed_pod and "runAsGroup: 3000" in fixed_pod


def test_misplaced_pod_fields_are_removed_and_set_on_containers() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext:\n    runAsNonRoot: true\n"
        "    allowPrivilegeEscalation: false\n    capabilities:\n      drop: [ALL]\n    seccompProfile:\n      type: RuntimeDefault\n"
        "  containers:\n  - name: a\n    image: x\n"
    )
    fixed = fix_all("pod.yaml", text)
    data = YAML(typ="safe", pure=True).load(fixed)
    assert "capabilities" not in data["spec"]["securityContext"]
    assert data["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] is False
    assert warnings_and_errors("pod.yaml", fixed) == []


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # The USER switch is appended after the last RUN, whose own sudo fix rewrites it.
        ("Dockerfile", "FROM busybox\n\nRUN apt-get update \\\n && sudo apt-get install vim\n"),
        # A null pod securityContext after the containers: its rewrite spans their edits.
        (
            "pod.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n"
            "    securityContext:\n      allowPrivilegeEscalation: true\n  securityContext:\n",
        ),
    ],
)
def test_overlapping_fixes_are_composed_so_all_apply(path: str, text: str) -> None:
    findings = analyze(path, text)
    assert all(f.fix is not None for f in findings if f.severity is Severity.ERROR)
    result = fix_all(path, text)  # raises EditConflict if the edits still overlap
    assert errors(path, result) == [], result
    assert_valid_after_fix(path, text, result)


def test_edits_that_cannot_be_composed_are_dropped_not_half_applied() -> None:
    from rules.fixes import reconcile

    a, b = LineEdit(1, 2, "x\n"), LineEdit(2, 3, "y\n")
    mapping = reconcile("1\n2\n3\n", [(a,), (b,)])
    assert mapping[a] is None and mapping[b] is None


def test_suppressed_and_disabled_rules_change_nothing_through_shared_fixes() -> None:
    text = (
        'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    unroot.dev/ignore: "UR205"\n'
        "spec:\n  containers:\n  - name: a\n    image: x\n    securityContext:\n      allowPrivilegeEscalation: true\n"
    )
    assert "allowPrivilegeEscalation: true" in fix_all("pod.yaml", text)
    plain = text.replace('    unroot.dev/ignore: "UR205"\n', "").replace("  annotations:\n", "")
    assert "allowPrivilegeEscalation: true" in fix_all("pod.yaml", plain, Options(disabled=frozenset({"UR205"})))
    assert "allowPrivilegeEscalation: false" in fix_all("pod.yaml", plain)


def test_windows_pods_get_no_uid_in_the_fix() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: w}\nspec:\n  os: {name: windows}\n  containers:\n  - name: a\n    image: x\n"
    fixed = fix_all("pod.yaml", text)
    assert "runAsNonRoot: true" in fixed and "runAsUser" not in fixed
    assert_valid_after_fix("pod.yaml", text, fixed)


def test_sudo_with_a_user_switch_is_reported_but_not_rewritten() -> None:
    text = "FROM debian:12\nRUN sudo -u postgres initdb -D /data\nUSER 1000\n"
    (finding,) = [f for f in analyze("Dockerfile", text) if f.rule == "UR104"]
    assert finding.fix is None
