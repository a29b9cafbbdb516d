"""The fix policy of rules/docs/fix-policy.md, one test per line of it, and its proof over every fixture."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from ruamel.yaml import YAML

from bot.config import ConfigError, parse_config
from rules.analyze import analyze
from rules.fixes import apply
from rules.model import Finding, Options, Severity
from tests.rule_cases import CASES
from tests.validation import assert_valid_after_fix

ROOT = Path(__file__).resolve().parents[1]
REAL_WORLD = ROOT.parent / "shared" / "corpus" / "real-world"


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_fixes_policy", ROOT / "tools" / "fuzz_fixes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


FUZZ = _load_tool()


def fixed(path: str, text: str, options: Options | None = None) -> tuple[str, list[Finding]]:
    findings = analyze(path, text, options)
    return apply(text, [edit for f in findings if f.fix for edit in f.fix.edits]), findings


def load(text: str) -> Any:
    """The fixed manifest as plain data (its first document)."""
    return YAML(typ="safe", pure=True).load(text)


def pod_of(data: Any) -> Any:
    """The pod spec of a Pod or of a workload's template."""
    spec = data["spec"]
    return spec["template"]["spec"] if "template" in spec else spec


LINKERD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers:
      - name: linkerd-init
        image: cr.l5d.io/linkerd/proxy-init:v2.2.1
        securityContext:
          capabilities:
            add: [NET_ADMIN, NET_RAW]
      containers:
      - name: web
        image: ghcr.io/example/web:1.0
        ports:
        - containerPort: 8080
"""


def test_capability_adds_stay_and_their_container_stays_root() -> None:
    text, findings = fixed("deploy.yaml", LINKERD)
    init, web = pod_of(load(text))["initContainers"][0], pod_of(load(text))["containers"][0]
    assert init["securityContext"]["capabilities"] == {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]}
    assert "runAsUser" not in init["securityContext"] and "runAsNonRoot" not in init["securityContext"]
    # The identity goes on the other container alone, so the pod-level settings never reach the init container.
    assert web["securityContext"]["runAsNonRoot"] is True and web["securityContext"]["runAsUser"] == 10001
    assert "runAsNonRoot" not in pod_of(load(text)).get("securityContext", {})
    kept = [f for f in findings if f.container == "linkerd-init" and f.severity is Severity.ERROR]
    assert {f.rule for f in kept} == {"UR201", "UR206"} and all(f.fix is None for f in kept)
    for finding in kept:
        assert "No fix offered" in finding.message and f'unroot.dev/ignore: "{finding.rule}"' in finding.message
    assert_valid_after_fix("deploy.yaml", LINKERD, text)


def test_privileged_stays_without_allow_privilege_escalation_false() -> None:
    source = LINKERD.replace("capabilities:\n            add: [NET_ADMIN, NET_RAW]", "privileged: true")
    text, findings = fixed("deploy.yaml", source)
    init = pod_of(load(text))["initContainers"][0]["securityContext"]
    assert init["privileged"] is True and "allowPrivilegeEscalation" not in init
    ur205 = [f for f in findings if f.rule == "UR205" and f.container == "linkerd-init"]
    assert ur205 and ur205[0].fix is None and "rejects allowPrivilegeEscalation: false" in ur205[0].message
    ur204 = [f for f in findings if f.rule == "UR204"]
    assert ur204 and ur204[0].fix is None and "by hand" in ur204[0].message


def test_host_namespaces_stay() -> None:
    source = LINKERD.replace(
        "    spec:\n      initContainers:",
        "    spec:\n      hostNetwork: true\n      hostPID: true\n      initContainers:",
    )
    text, findings = fixed("deploy.yaml", source)
    pod = pod_of(load(text))
    assert pod["hostNetwork"] is True and pod["hostPID"] is True
    assert all(f.fix is None for f in findings if f.rule == "UR207")
    assert "delete `hostPID: true` by hand" in " ".join(f.message for f in findings if f.rule == "UR207")


def test_host_path_stays_and_says_the_node_owner_decides() -> None:
    source = LINKERD + "      volumes:\n      - name: logs\n        hostPath: {path: /var/log}\n"
    text, findings = fixed("deploy.yaml", source)
    assert {"name": "logs", "hostPath": {"path": "/var/log"}} in pod_of(load(text))["volumes"]
    note = [f.message for f in findings if f.rule == "UR212"]
    assert note and "owner on the node decides" in note[0]


NGINX = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports:
    - containerPort: 443
    - containerPort: 80
"""


def test_a_low_port_gets_the_unprivileged_port_sysctl_and_the_summary_says_so() -> None:
    text, findings = fixed("pod.yaml", NGINX)
    sc = pod_of(load(text))["securityContext"]
    assert sc["sysctls"] == [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "80"}]
    summary = next(f.fix.summary for f in findings if f.rule == "UR201" and f.fix)
    assert "bind port 80 as non-root" in summary and "NET_BIND_SERVICE would not" in summary
    assert_valid_after_fix("pod.yaml", NGINX, text)


def test_an_existing_sysctl_list_gains_the_port_sysctl() -> None:
    source = NGINX.replace(
        "spec:\n  containers:",
        "spec:\n  securityContext:\n    sysctls:\n    - name: net.ipv4.tcp_syncookies\n      value: '1'\n  containers:",
    )
    text, _ = fixed("pod.yaml", source)
    names = [item["name"] for item in pod_of(load(text))["securityContext"]["sysctls"]]
    assert names == ["net.ipv4.tcp_syncookies", "net.ipv4.ip_unprivileged_port_start"]


def test_a_low_port_on_the_node_network_keeps_the_container_root() -> None:
    source = NGINX.replace("spec:\n  containers:", "spec:\n  hostNetwork: true\n  containers:")
    text, findings = fixed("pod.yaml", source)
    assert "runAsUser" not in text and "sysctls" not in text
    ur201 = [f for f in findings if f.rule == "UR201"]
    assert ur201 and ur201[0].fix is None and "hostNetwork" in ur201[0].message


STATEFUL = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: mysql
        image: mysql:8
        volumeMounts:
        - {name: data, mountPath: /var/lib/mysql}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
"""


@pytest.mark.parametrize(
    "source",
    [
        STATEFUL,
        NGINX
        + "    volumeMounts:\n    - {name: d, mountPath: /d}\n  volumes:\n  - name: d\n    persistentVolumeClaim: {claimName: d}\n",
        NGINX + "    volumeMounts:\n    - {name: t, mountPath: /tmp}\n  volumes:\n  - name: t\n    emptyDir: {}\n",
    ],
    ids=["volumeClaimTemplate", "persistentVolumeClaim", "emptyDir"],
)
def test_volumes_of_a_pod_made_non_root_get_the_fix_gid_as_fs_group(source: str) -> None:
    text, _ = fixed("w.yaml", source, Options(uid=2000, gid=3000))
    sc = pod_of(load(text))["securityContext"]
    assert sc["fsGroup"] == 3000 and sc["fsGroupChangePolicy"] == "OnRootMismatch"
    assert sc["runAsGroup"] == 3000
    assert_valid_after_fix("w.yaml", source, text)


def test_openshift_mode_sets_run_as_non_root_without_ids() -> None:
    text, _ = fixed("deploy.yaml", STATEFUL, Options(openshift=True))
    sc = pod_of(load(text))["securityContext"]
    assert sc["runAsNonRoot"] is True
    assert not {"runAsUser", "runAsGroup", "fsGroup"} & set(sc)


def test_openshift_mode_removes_run_as_user_zero_and_is_detected_from_a_route() -> None:
    source = STATEFUL.replace(
        "        image: mysql:8\n", "        image: mysql:8\n        securityContext:\n          runAsUser: 0\n"
    )
    route = "apiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {name: db}\nspec: {to: {kind: Service, name: db}}\n---\n"
    text, findings = fixed("db.yaml", route + source)
    assert "runAsUser" not in text and "runAsNonRoot: true" in text
    assert any("restricted-v2 SCC" in f.fix.summary for f in findings if f.fix)


def test_openshift_is_a_fix_setting_of_the_config() -> None:
    assert parse_config("fix: {openshift: true}\n").options.openshift is True
    assert parse_config("fix: {uid: 2000}\n").options.openshift is False
    with pytest.raises(ConfigError, match="fix.openshift must be true or false"):
        parse_config("fix: {openshift: 'yes'}\n")


def _fixtures() -> list[tuple[str, str]]:
    found = [(f"cases/{n}/{case.path}", case.text) for n, case in enumerate(CASES)]
    for root in (ROOT / "examples", ROOT / "tests" / "data"):
        found += [(p.relative_to(ROOT).as_posix(), p.read_text(encoding="utf-8")) for p in sorted(root.rglob("*.y*ml"))]
    return found


def _losses(files: list[tuple[str, str]]) -> dict[str, list[str]]:
    losses: dict[str, list[str]] = {}
    for name, text in files:
        try:
            after, _ = fixed(name, text)
        except Exception:  # a fixture no fix applies to (conflicts are the fuzzer's to count)
            continue
        for kind in FUZZ.semantic_losses(name, text, after):
            losses.setdefault(kind, []).append(name)
    return losses


def test_proof_no_fix_of_the_project_fixtures_changes_how_a_workload_works() -> None:
    """After all fixes: no capability add, privileged, host namespace or hostPath is gone, no container made
    non-root loses a power or a port below 1024, and no pod made non-root has volumes without fsGroup."""
    files = _fixtures()
    assert len(files) > 150
    assert _losses(files) == {}


def test_proof_over_the_real_world_corpus() -> None:
    if not REAL_WORLD.is_dir():
        pytest.skip(f"{REAL_WORLD} is not beside this clone (the corpus is shared, not shipped)")
    files = []
    for path in sorted(REAL_WORLD.rglob("*")):
        if path.is_file() and path.suffix in (".yaml", ".yml", ".json"):
            try:
                files.append((path.relative_to(REAL_WORLD).as_posix(), path.read_text(encoding="utf-8")))
            except UnicodeDecodeError:
                continue
    assert _losses(files) == {}


def test_the_proof_counts_what_the_old_fixes_did() -> None:
    """The counter is not blind: the removals the old fixes made are counted, kind by kind."""
    old = (
        NGINX.replace(
            "    ports:",
            "    securityContext:\n      privileged: true\n      capabilities: {add: [NET_ADMIN]}\n    ports:",
        )
        + "    volumeMounts:\n    - {name: t, mountPath: /tmp}\n  hostNetwork: true\n  volumes:\n  - name: t\n    emptyDir: {}\n"
        + "  - name: h\n    hostPath: {path: /srv}\n"
    )
    new = old.replace("privileged: true", "privileged: false").replace("add: [NET_ADMIN]", "drop: [ALL]")
    new = new.replace("hostNetwork: true", "hostNetwork: false").replace(
        "  - name: h\n    hostPath: {path: /srv}\n", ""
    )
    new = new.replace("spec:\n  containers:", "spec:\n  securityContext: {runAsUser: 10001}\n  containers:")
    assert dict(FUZZ.semantic_losses("pod.yaml", old, new)) == {
        "capability_add": 1,
        "privileged": 1,
        "host_namespace": 1,
        "host_path": 1,
        "low_port_unbindable": 1,
        "volume_without_fs_group": 1,
    }


def test_a_route_in_another_file_puts_the_whole_check_in_openshift_mode(tmp_path: Path) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)  # one repository
    (tmp_path / "route.yaml").write_text(
        "apiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {name: db}\nspec: {to: {kind: Service, name: db}}\n"
    )
    (tmp_path / "db.yaml").write_text(STATEFUL)

    def fixed_db(*extra: str) -> str:
        (tmp_path / "db.yaml").write_text(STATEFUL)
        run = subprocess.run(
            [sys.executable, "-m", "bot.cli", "fix", *extra, "."], cwd=tmp_path, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
        return (tmp_path / "db.yaml").read_text()

    with_route = pod_of(load(fixed_db()))["securityContext"]
    assert with_route["runAsNonRoot"] is True and not {"runAsUser", "runAsGroup", "fsGroup"} & set(with_route)
    (tmp_path / "route.yaml").unlink()
    assert "runAsUser" in pod_of(load(fixed_db()))["securityContext"]  # no Route: the usual fixed UID
    (tmp_path / "route.yaml").write_text(
        "apiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {name: db}\nspec: {to: {kind: Service, name: db}}\n"
    )
    shutil.rmtree(tmp_path / ".git")  # a folder of unrelated files: each file decides for itself
    assert "runAsUser" in pod_of(load(fixed_db()))["securityContext"]
