"""Kubernetes semantics: which objects are workloads, precedence, skipped files."""

from __future__ import annotations

import pytest

from rules.analyze import analyze
from rules.kubernetes.ur202_run_as_user_zero import Ur202
from rules.kubernetes.ur206_capabilities import Ur206
from rules.kubernetes.ur207_host_namespaces import Ur207
from rules.model import Severity

CONTAINER = "      containers:\n      - name: app\n        image: x\n"


def rules_of(text: str, path: str = "m.yaml") -> set[str]:
    return {f.rule for f in analyze(path, text)}


@pytest.mark.parametrize(
    "header",
    [
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n",
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n",
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n",
        "apiVersion: apps.openshift.io/v1\nkind: DeploymentConfig\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n",
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n",
        "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n",
    ],
)
def test_every_pod_template_kind_is_checked(header: str) -> None:
    assert "UR201" in rules_of(header + CONTAINER)


def test_cronjob_list_and_podtemplate() -> None:
    cronjob = (
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: '* * * * *'\n"
        "  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - {name: a, image: x}\n"
    )
    assert "UR201" in rules_of(cronjob)
    listed = (
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n"
        "  spec:\n    containers:\n    - {name: a, image: x, securityContext: {privileged: true}}\n"
    )
    assert "UR204" in rules_of(listed)
    template = "apiVersion: v1\nkind: PodTemplate\nmetadata: {name: t}\ntemplate:\n  spec:\n    containers:\n    - {name: a, image: x}\n"
    assert "UR201" in rules_of(template)


def test_init_and_ephemeral_containers_are_named() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: x}]\n"
        "  initContainers: [{name: init, image: x, securityContext: {privileged: true}}]\n"
        "  ephemeralContainers: [{name: dbg, image: x, securityContext: {privileged: true}}]\n"
    )
    messages = [f.message for f in analyze("p.yaml", text) if f.rule == "UR204"]
    assert any("init container 'init' in Pod/p" in m for m in messages)
    assert any("ephemeral container 'dbg' in Pod/p" in m for m in messages)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 80}]\n"),
        (
            "cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  pod.yaml: |\n    apiVersion: v1\n    kind: Pod\n    spec:\n      containers: [{name: a, image: x}]\n",
        ),
        (
            ".github/workflows/ci.yaml",
            "name: ci\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    container:\n      image: node:20\n    services:\n      containers: {}\n",
        ),
        (
            "kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [deploy.yaml]\n",
        ),
        ("package.json", '{"name": "x", "containers": ["a"], "apiVersion": "1"}\n'),
    ],
)
def test_non_workloads_are_never_flagged(path: str, text: str) -> None:
    assert analyze(path, text) == []


def test_container_settings_override_the_pods() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
        "  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n"
        "  containers:\n  - name: a\n    image: x\n"
        "    securityContext: {runAsNonRoot: false, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n"
    )
    (finding,) = [f for f in analyze("p.yaml", text) if f.rule == "UR201"]
    assert finding.severity is Severity.ERROR and finding.line == 9


def test_windows_pods_skip_linux_only_controls() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  os: {name: windows}\n"
        "  securityContext: {runAsNonRoot: true}\n  containers: [{name: a, image: x}]\n"
    )
    assert rules_of(text) <= {"UR211"}


def test_annotation_suppresses_listed_rules_only() -> None:
    text = (
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: cni\n  annotations:\n"
        '    unroot.dev/ignore: "UR207, UR204"\nspec:\n  template:\n    spec:\n      hostNetwork: true\n'
        "      containers:\n      - name: a\n        image: x\n        securityContext: {privileged: true}\n"
    )
    found = rules_of(text)
    assert "UR207" not in found and "UR204" not in found
    assert "UR201" in found


@pytest.mark.parametrize(
    ("path", "text", "reason"),
    [
        (
            "t.yaml",
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: {{ .Values.name }}\n    image: x\n",
            "Helm or similar",
        ),
        (
            "shell-template.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: tablet-{{uid}}\nspec:\n  containers:\n  - name: a\n    image: x\n",
            "template with {{ }} placeholders",
        ),
        (
            "dup.yaml",
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: x\n    securityContext: {privileged: true}\n    securityContext: {}\n",
            "duplicate key 'securityContext' at line 8",
        ),
        (
            "bad.yaml",
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n   image: x\n",
            "invalid YAML at line",
        ),
        (
            "bomb.yaml",
            "apiVersion: v1\nkind: Pod\nspec:\n  containers: []\n"
            + "".join(
                f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 10 if i else ['"lol"'] * 10) + "]\n" for i in range(9)
            ),
            "alias bomb",
        ),
    ],
)
def test_unanalysable_manifests_get_one_notice(path: str, text: str, reason: str) -> None:
    (finding,) = analyze(path, text)
    assert finding.rule == "UR001" and finding.severity is Severity.NOTICE
    assert reason in finding.message


def test_psa_restricted_pod_gets_no_error_or_warning() -> None:
    text = """\
apiVersion: v1
kind: Pod
metadata:
  name: restricted
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile:
      type: RuntimeDefault
  containers:
  - name: app
    image: registry.k8s.io/pause
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop: [ALL]
  initContainers:
  - name: init
    image: registry.k8s.io/pause
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop: [ALL]
"""
    assert {f.severity for f in analyze("p.yaml", text)} <= {Severity.NOTICE}


def test_placeholders_outside_workloads_do_not_skip_the_file() -> None:
    text = (
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: alerts}\ndata:\n  rule: |\n    summary: "{{ $labels.instance }} down"\n'
        "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: x}\n"
    )
    assert "UR201" in rules_of(text)


def test_go_template_lines_in_configmap_data_do_not_hide_a_workload() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: am}\ndata:\n  slack.tmpl: |\n"
        '    {{ define "slack.title" }}[{{ .Status }}]{{ end }}\n---\n'
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "  - {name: a, image: x, securityContext: {privileged: true}}\n"
    )
    assert "UR204" in rules_of(text)


def test_duplicate_keys_outside_pod_specs_do_not_skip_the_file() -> None:
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {}\n  selector: {}\n"
        "  template:\n    spec:\n      containers:\n      - {name: a, image: x}\n"
    )
    assert "UR201" in rules_of(text)


def test_multi_document_positions_are_per_file() -> None:
    text = (
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n"
        "    securityContext: {privileged: true}\n"
    )
    (finding,) = [f for f in analyze("m.yaml", text) if f.rule == "UR204"]
    assert finding.line == 12


def test_findings_carry_their_variant_workload_and_container() -> None:
    # Callers (tools/corpus_check.py, bench/analysis.py) read these fields, never the message.
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n"
        "      hostPID: true\n"
        "      initContainers:\n      - name: setup\n        image: x\n"
        "        securityContext: {capabilities: {add: [SYS_ADMIN, CHOWN], drop: [all]}}\n"
        "      containers:\n      - name: app\n        image: x\n"
    )
    found = {(f.rule, f.variant, f.workload, f.container) for f in analyze("m.yaml", text)}
    assert ("UR207", Ur207.HOST_PID, "Deployment/web", None) in found
    assert ("UR206", Ur206.ADDS_DANGEROUS, "Deployment/web", "setup") in found
    assert ("UR206", Ur206.DROP_MISSING_ALL, "Deployment/web", "setup") in found
    assert not any(
        rule == "UR206" and variant is Ur206.ADDS_BASELINE for rule, variant, _, _ in found
    )  # dangerous wins


def test_pod_level_findings_name_the_workload_but_no_container() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsUser: 0}\n  containers:\n  - {name: app, image: x}\n"
    pod_level = [f for f in analyze("m.yaml", text) if f.rule == "UR202"]
    assert [(f.variant, f.workload, f.container) for f in pod_level] == [(Ur202.POD, "Pod/p", None)]


def _pod_with(image: str, pod_sc: str = "") -> str:
    context = f"  securityContext:\n{pod_sc}" if pod_sc else ""
    return f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n{context}  containers:\n  - name: app\n    image: {image}\n"


def test_a_published_non_root_image_is_relied_on_not_called_root() -> None:
    [ray] = [f for f in analyze("pod.yaml", _pod_with("rayproject/ray:2.9.0")) if f.rule == "UR201"]
    assert ray.severity.value == "warning" and "the published rayproject/ray image runs it as USER 1000" in ray.message
    [debian] = [f for f in analyze("pod.yaml", _pod_with("debian:12")) if f.rule == "UR201"]
    assert debian.severity.value == "error"


def test_runasnonroot_over_a_published_image_with_a_user_name_is_predicted_to_fail() -> None:
    text = _pod_with("prom/prometheus:v2.53.0", "    runAsNonRoot: true\n")
    [finding] = [f for f in analyze("pod.yaml", text) if f.rule == "UR220"]
    assert finding.severity.value == "error" and "'nobody'" in finding.message
    assert finding.fix is not None and "runAsUser: 65534" in "".join(e.replacement for e in finding.fix.edits)
    assert not [
        f for f in analyze("pod.yaml", _pod_with("example/app:1", "    runAsNonRoot: true\n")) if f.rule == "UR220"
    ]
