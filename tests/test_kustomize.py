"""Kustomize patches judged on what they set; overlays built when kustomize is installed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rules.analyze import analyze
from rules.kustomize import overlays, patch_files, read
from rules.model import Finding, Options, Severity
from rules.repository import RepoKnowledge, from_texts
from tests.gitrepo import GitRepo
from tests.patience import PATIENCE

BASE_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: web
        image: nginx:1.25
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
"""
ENV_PATCH = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: web
        env: [{name: X, value: "1"}]
"""
ROOT_PATCH = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: web
        securityContext:
          runAsUser: 0
          privileged: true
"""
OPS = """\
- op: add
  path: /spec/template/spec/hostNetwork
  value: true
- op: replace
  path: /spec/template/spec/containers/0/securityContext
  value:
    capabilities:
      add: [SYS_ADMIN, NET_BIND_SERVICE]
"""
OVERLAY = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../../base]
patches:
- path: env.yaml
- path: root.yaml
- path: ops.yaml
  target: {kind: Deployment, name: web}
- target: {kind: Deployment, name: web}
  patch: |-
    - op: add
      path: /spec/template/spec/hostPID
      value: true
- patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      template:
        spec:
          containers:
          - name: web
            securityContext:
              $patch: delete
"""
TREE = {
    "deploy/base/kustomization.yaml": "resources: [deployment.yaml]\n",
    "deploy/base/deployment.yaml": BASE_DEPLOYMENT,
    "deploy/overlays/prod/kustomization.yaml": OVERLAY,
    "deploy/overlays/prod/env.yaml": ENV_PATCH,
    "deploy/overlays/prod/root.yaml": ROOT_PATCH,
    "deploy/overlays/prod/ops.yaml": OPS,
}


def known(*paths: str) -> Options:
    return Options(knowledge=RepoKnowledge(patches=frozenset(paths)))


def rules_at(findings: list[Finding]) -> list[tuple[int, str, str]]:
    return [(f.line, f.rule, f.severity.value) for f in findings]


# ---- which files are patches


def test_patch_paths_are_read_from_every_form_relative_to_the_kustomization() -> None:
    text = """\
resources:
- ../../base
- extra.yaml
- https://github.com/x/y//z?ref=v1
components: [../../components/tls]
patchesStrategicMerge: [smp.yaml, "../shared/smp.yaml"]
patchesJson6902:
- target: {kind: Deployment, name: web}
  path: ops.json
patches:
- path: ./p.yaml
- patch: |-
    - op: remove
      path: /spec/replicas
- path: ../../../../outside.yaml
helmCharts: [{name: x}]
"""
    kustomization = read("deploy/overlays/prod/kustomization.yaml", text)
    assert kustomization is not None
    assert kustomization.patches == (
        "deploy/overlays/prod/smp.yaml",
        "deploy/overlays/shared/smp.yaml",
        "deploy/overlays/prod/p.yaml",
        "deploy/overlays/prod/ops.json",
    )
    assert kustomization.bases == ("deploy/base", "deploy/components/tls")
    assert kustomization.resources == ("deploy/overlays/prod/extra.yaml",)
    assert kustomization.remote and kustomization.unsafe == ("helmCharts",)


def test_a_file_of_another_kind_named_like_a_kustomization_names_no_patch() -> None:
    assert read("kustomization.yaml", "apiVersion: v1\nkind: ConfigMap\npatches: [{path: x.yaml}]\n") is None
    assert patch_files(
        {"a/kustomization.yaml": "patches: [{path: p.yaml}]", "a/other.yaml": "patches: [{path: q}]"}
    ) == {"a/p.yaml"}


def test_overlays_are_the_kustomizations_no_other_one_builds_on() -> None:
    found = [k for path, text in TREE.items() if (k := read(path, text)) is not None]
    assert [k.path for k in overlays(found)] == ["deploy/overlays/prod/kustomization.yaml"]


def test_repository_knowledge_carries_the_patches() -> None:
    knowledge = from_texts(TREE, wanted=[])
    assert knowledge.is_patch("deploy/overlays/prod/env.yaml")
    assert not knowledge.is_patch("deploy/base/deployment.yaml")


# ---- patches judged on what they set


def test_a_patch_that_sets_nothing_about_security_has_no_finding() -> None:
    assert analyze("deploy/overlays/prod/env.yaml", ENV_PATCH, known("deploy/overlays/prod/env.yaml")) == []


def test_a_patch_that_makes_the_container_root_is_an_error_at_its_line_without_fix() -> None:
    findings = analyze("p.yaml", ROOT_PATCH, known("p.yaml"))
    assert rules_at(findings) == [(10, "UR202", "error"), (11, "UR204", "error")]
    assert all(f.fix is None for f in findings)
    assert "every overlay that uses it" in findings[0].message
    assert findings[0].container == "web" and findings[0].workload == "Deployment/web"


def test_the_same_object_as_a_whole_manifest_is_judged_in_full() -> None:
    whole = BASE_DEPLOYMENT.replace("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true")
    findings = analyze("d.yaml", whole, Options())
    assert ("UR205", Severity.ERROR) in [(f.rule, f.severity) for f in findings]
    assert any(f.fix is not None for f in findings)


def test_json6902_ops_are_judged_on_the_value_they_put_at_their_path() -> None:
    findings = analyze("ops.yaml", OPS, known("ops.yaml"))
    assert rules_at(findings) == [(3, "UR207", "error"), (8, "UR206", "error")]
    assert "SYS_ADMIN" in findings[1].message and "NET_BIND_SERVICE" not in findings[1].message.split("adds")[1][:30]


def test_a_json6902_remove_of_a_security_context_is_a_warning() -> None:
    ops = "- op: remove\n  path: /spec/template/spec/containers/0/securityContext\n"
    assert rules_at(analyze("rm.yaml", ops, known("rm.yaml"))) == [(1, "UR201", "warning")]


def test_patch_delete_and_retain_keys_that_drop_the_bases_hardening_are_warnings() -> None:
    deleting = ENV_PATCH + "        securityContext:\n          $patch: delete\n"
    retaining = ENV_PATCH + "        securityContext:\n          $retainKeys: [privileged]\n"
    keeping = ENV_PATCH + "        securityContext:\n          $retainKeys: [runAsNonRoot]\n"
    assert rules_at(analyze("p.yaml", deleting, known("p.yaml"))) == [(11, "UR201", "warning")]
    assert rules_at(analyze("p.yaml", retaining, known("p.yaml"))) == [(11, "UR201", "warning")]
    assert analyze("p.yaml", keeping, known("p.yaml")) == []


def test_inline_patches_are_judged_at_their_lines_in_the_kustomization() -> None:
    findings = analyze("deploy/overlays/prod/kustomization.yaml", OVERLAY, Options())
    lines = OVERLAY.splitlines()
    assert rules_at(findings) == [(13, "UR207", "error"), (24, "UR201", "warning")]
    assert "hostPID" in lines[12 - 1] and "value: true" in lines[13 - 1] and "$patch: delete" in lines[24 - 1]
    assert findings[0].workload == "Deployment/web"


def test_a_patch_suppressed_by_its_annotation_is_quiet() -> None:
    text = ROOT_PATCH.replace("metadata: {name: web}", "metadata: {name: web, annotations: {unroot.dev/ignore: UR204}}")
    assert [f.rule for f in analyze("p.yaml", text, known("p.yaml"))] == ["UR202"]


def test_a_lone_patch_is_judged_like_a_known_one() -> None:
    """Without knowledge (a file checked alone), containers without image mean a patch all the same."""
    assert analyze("env.yaml", ENV_PATCH, Options()) == []
    assert rules_at(analyze("root.yaml", ROOT_PATCH, Options())) == rules_at(
        analyze("root.yaml", ROOT_PATCH, known("root.yaml"))
    )


def test_a_whole_workload_beside_a_lone_patch_in_one_file_is_still_judged_in_full() -> None:
    whole = BASE_DEPLOYMENT.replace("name: web}", "name: api}", 1).replace("runAsNonRoot: true, ", "")
    findings = analyze("both.yaml", ENV_PATCH + "---\n" + whole, Options())
    assert findings and all(f.workload == "Deployment/api" for f in findings)


# ---- through the CLI, on a real git repository


def unroot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=PATIENCE
    )


def findings_of(result: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    found = json.loads(result.stdout)
    return list(found["findings"] if isinstance(found, dict) else found)


def test_check_judges_patch_files_by_what_the_kustomization_says(tmp_path: Path) -> None:
    repo = GitRepo.create(tmp_path / "repo", TREE)
    result = unroot("check", "deploy", "--format", "json", "--no-build", cwd=repo.path)
    assert result.returncode == 1, result.stderr
    found = {(f["path"], f["line"], f["rule"]) for f in findings_of(result)}
    assert {
        ("deploy/overlays/prod/root.yaml", 10, "UR202"),
        ("deploy/overlays/prod/root.yaml", 11, "UR204"),
        ("deploy/overlays/prod/ops.yaml", 3, "UR207"),
        ("deploy/overlays/prod/ops.yaml", 8, "UR206"),
        ("deploy/overlays/prod/kustomization.yaml", 13, "UR207"),
        ("deploy/overlays/prod/kustomization.yaml", 24, "UR201"),
    } <= found
    assert not [f for f in findings_of(result) if f["path"] == "deploy/overlays/prod/env.yaml"]
    assert not [f for f in findings_of(result) if str(f["path"]).startswith("deploy/overlays") and f["fix"]]


def test_no_repository_does_not_know_the_json6902_files(tmp_path: Path) -> None:
    repo = GitRepo.create(tmp_path / "repo", TREE)
    result = unroot("check", ".", "--format", "json", "--no-repository", cwd=repo.path)
    assert not [f for f in findings_of(result) if f["path"] == "deploy/overlays/prod/ops.yaml"]
    # The strategic-merge patch is patch-shaped, so it is judged as one even without knowledge.
    assert {(f["line"], f["rule"]) for f in findings_of(result) if f["path"] == "deploy/overlays/prod/root.yaml"} == {
        (10, "UR202"),
        (11, "UR204"),
    }


def test_check_given_one_patch_file_from_another_directory_still_knows_it(tmp_path: Path) -> None:
    repo = GitRepo.create(tmp_path / "repo", TREE)
    result = unroot("check", "overlays/prod/ops.yaml", "--format", "json", cwd=repo.path / "deploy")
    assert [(f["path"], f["rule"]) for f in findings_of(result)] == [
        ("overlays/prod/ops.yaml", "UR207"),
        ("overlays/prod/ops.yaml", "UR206"),
    ]


KUSTOMIZE = shutil.which("kustomize") or shutil.which("kubectl")
needs_kustomize = pytest.mark.skipif(KUSTOMIZE is None, reason="neither kustomize nor kubectl is on PATH")


@needs_kustomize
def test_the_built_overlay_reports_what_only_the_build_shows_at_the_line_that_set_it(tmp_path: Path) -> None:
    # The base is clean; the overlay's patch puts a root UID in the pod's securityContext.
    files = {
        "base/kustomization.yaml": "resources: [deployment.yaml]\n",
        "base/deployment.yaml": BASE_DEPLOYMENT,
        "prod/kustomization.yaml": "resources: [../base]\npatches:\n- path: pod.yaml\n",
        "prod/pod.yaml": ENV_PATCH.replace(
            "      containers:", "      securityContext:\n        runAsUser: 0\n      containers:"
        ),
    }
    repo = GitRepo.create(tmp_path / "repo", files)
    result = unroot("check", ".", "--format", "json", cwd=repo.path)
    found = findings_of(result)
    patch = [f for f in found if f["path"] == "prod/pod.yaml"]
    assert [(f["line"], f["rule"]) for f in patch if not str(f["message"]).startswith("Built")] == [(8, "UR202")]
    built = [f for f in found if str(f["message"]).startswith("Built overlay prod")]
    assert built, "the build shows what the patch does to the base's container"
    assert all(f["fix"] is None for f in built)
    assert all(f["path"] in ("prod/pod.yaml", "base/deployment.yaml", "prod/kustomization.yaml") for f in built)


@needs_kustomize
def test_an_overlay_with_helm_charts_is_not_built_and_says_so(tmp_path: Path) -> None:
    files = {
        "prod/kustomization.yaml": "helmCharts:\n- name: web\n  repo: https://example.invalid\nresources: [d.yaml]\n",
        "prod/d.yaml": BASE_DEPLOYMENT,
    }
    repo = GitRepo.create(tmp_path / "repo", files)
    result = unroot("check", ".", "--format", "json", cwd=repo.path)
    notices = [f for f in findings_of(result) if f["rule"] == "UR001" and f["path"] == "prod/kustomization.yaml"]
    assert notices and "not built" in str(notices[0]["message"])


def test_a_patch_without_containers_is_judged_known_or_lone() -> None:
    # A DaemonSet without containers can only be a partial object: alone it is judged as the patch
    # it is (kube-linter's host-ipc/network/pid fixtures went unreported when lone files were skipped).
    host = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec:\n  template:\n    spec:\n      hostPID: true\n"
    assert rules_at(analyze("host.yaml", host, known("host.yaml"))) == [(7, "UR207", "error")]
    assert rules_at(analyze("host.yaml", host, Options())) == [(7, "UR207", "error")]
    quiet = host.replace("hostPID: true", "hostPID: false")
    assert analyze("host.yaml", quiet, Options()) == []
    # A container list written as a mapping is a broken workload, not a partial one: left unjudged.
    broken = host + "      containers:\n        name: a\n        securityContext: {privileged: true}\n"
    assert analyze("host.yaml", broken, Options()) == []


def test_an_image_less_workload_that_writes_its_selector_is_judged_whole() -> None:
    # A patch cannot change a selector, so it leaves it to the base: an object that writes one is a
    # whole workload missing its images (a scanner's fixture), judged in full, absences included.
    whole = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  selector:\n"
        "    matchLabels: {app: app}\n  template:\n    spec:\n      containers:\n      - name: app\n"
    )
    assert {f.rule for f in analyze("app.yaml", whole, Options())} >= {"UR201", "UR205", "UR206"}
    patch = whole.replace("  selector:\n    matchLabels: {app: app}\n", "")
    assert analyze("app.yaml", patch, Options()) == []
    # Overlays do not patch bare Pods: one without images is judged in full too, unless a
    # kustomization names it as a patch.
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: app\n"
    assert "UR201" in {f.rule for f in analyze("pod.yaml", pod, Options())}
    assert analyze("pod.yaml", pod, known("pod.yaml")) == []
