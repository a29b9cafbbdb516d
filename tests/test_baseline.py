"""The baseline rules UR212-UR219 on shapes their spec cases do not show: paths, mounts, where
annotations live, user namespaces, and object-level findings in mixed files."""

from __future__ import annotations

import pytest

from rules.analyze import analyze
from rules.kubernetes.ur212_host_path import Ur212, normalised, why_root
from rules.kubernetes.ur214_proc_mount import Ur214
from rules.model import Finding, Severity

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: agent
{object_annotations}spec:
  selector:
    matchLabels:
      app: agent
  template:
    metadata:
      labels:
        app: agent
{template_annotations}    spec:
{spec}      containers:
        - name: agent
          image: ghcr.io/example/agent:1.0
{container}"""


def deployment(
    spec: str = "", container: str = "", object_annotations: str = "", template_annotations: str = ""
) -> str:
    return DEPLOYMENT.format(
        spec=spec, container=container, object_annotations=object_annotations, template_annotations=template_annotations
    )


def host_path(path: str, read_only: bool | None) -> str:
    """A Deployment with one hostPath volume, mounted read-only, writable, or (None) not at all."""
    volume = f"      volumes:\n        - name: host\n          hostPath:\n            path: {path}\n"
    mount = ""
    if read_only is not None:
        mount = "          volumeMounts:\n            - name: host\n              mountPath: /host\n"
        mount += "              readOnly: true\n" if read_only else ""
    return deployment(spec=volume, container=mount)


def of(rule: str, text: str, path: str = "deploy.yaml") -> list[Finding]:
    return [f for f in analyze(path, text) if f.rule == rule]


@pytest.mark.parametrize(
    ("raw", "resolved"),
    [("/var/run/", "/var/run"), ("//var//run", "/var/run"), ("/var/lib/../run/./docker.sock", "/var/run/docker.sock")],
)
def test_host_paths_are_judged_as_the_node_resolves_them(raw: str, resolved: str) -> None:
    assert normalised(raw) == resolved
    assert why_root(raw, writable=False) == why_root(resolved, writable=False)


@pytest.mark.parametrize(
    ("path", "writable", "root"),
    [
        ("/", False, True),  # contains everything below
        ("/var", False, True),  # contains /var/run/docker.sock and /var/lib/kubelet/pods
        ("/etc", False, True),  # contains /etc/kubernetes and /etc/shadow
        ("/etc/kubernetes/pki", False, True),  # below a credential directory
        ("/run/containerd/containerd.sock", False, True),
        ("/var/lib/kubelet", False, True),  # contains every pod's secrets
        ("/var/lib/kubelet/plugins_registry", False, False),  # only the drivers' registration sockets
        ("/run/host-containerd/containerd.sock", False, True),  # a runtime socket by its name
        ("/sys/fs/cgroup", True, True),  # a writable cgroup tree: a release agent runs as root
        ("/sys", False, False),  # read, mostly statistics (node exporters)
        ("/dev", False, True),
        ("/dev/null", True, False),  # one device node: the device cgroup decides
        ("/usr/lib/os-release", False, False),  # the node's programs, only read
        ("/usr/lib/os-release", True, True),  # ... and written
        ("/var/lib/docker/containers", False, False),  # logs, read by collectors
        ("/var/lib/docker/containers", True, True),
        ("/var/log", True, False),
        ("/etc/ssl/certs", True, False),
        ("/var/run/thing.sock", False, False),  # a socket, but not a runtime's
        ("relative/path", True, False),  # refused by Kubernetes: nothing of the node
        ("", True, False),
    ],
)
def test_what_is_root_equivalent(path: str, writable: bool, root: bool) -> None:
    assert (why_root(path, writable) is not None) is root


def test_a_read_only_socket_is_still_root_on_the_node() -> None:
    [finding] = of("UR212", host_path("/var/run/docker.sock", read_only=True))
    assert (finding.severity, finding.variant) == (Severity.ERROR, Ur212.ROOT_EQUIVALENT)
    assert "mounted by container 'agent' read-only" in finding.message
    assert finding.fix is None


def test_the_node_programs_are_root_only_when_some_container_writes_them() -> None:
    assert [f.severity for f in of("UR212", host_path("/lib/modules", read_only=True))] == [Severity.WARNING]
    assert [f.severity for f in of("UR212", host_path("/lib/modules", read_only=None))] == [Severity.WARNING]
    assert [f.severity for f in of("UR212", host_path("/lib/modules", read_only=False))] == [Severity.ERROR]


def test_a_host_path_no_container_mounts_is_still_reported() -> None:
    [finding] = of("UR212", host_path("/proc", read_only=None))
    assert finding.severity is Severity.ERROR
    assert "mounted by" not in finding.message


def test_a_null_host_path_is_no_host_path_volume() -> None:
    text = deployment(spec="      volumes:\n        - name: host\n          hostPath: null\n          emptyDir: {}\n")
    assert of("UR212", text) == []


def test_apparmor_annotations_count_on_the_pod_template_not_on_the_workload() -> None:
    annotation = "container.apparmor.security.beta.kubernetes.io/agent: unconfined\n"
    on_template = deployment(template_annotations="      annotations:\n        " + annotation)
    on_object = deployment(object_annotations="  annotations:\n    " + annotation)
    [finding] = of("UR216", on_template)
    assert finding.line == 14 and finding.subject == "container 'agent' in Deployment/agent"
    assert of("UR216", on_object) == []  # Kubernetes copies nothing from the Deployment's metadata to its pods


def test_apparmor_fields_on_pod_and_container() -> None:
    pod_level = deployment(spec="      securityContext:\n        appArmorProfile:\n          type: Unconfined\n")
    container_level = deployment(
        container="          securityContext:\n            appArmorProfile: {type: Localhost}\n"
    )
    assert [f.line for f in of("UR216", pod_level)] == [15]
    assert of("UR216", container_level) == []


def test_sysctl_names_are_compared_as_written() -> None:
    spec = (
        "      securityContext:\n        sysctls:\n          - name: net/ipv4/tcp_syncookies\n            value: '1'\n"
    )
    [finding] = of("UR217", deployment(spec=spec))
    assert "net/ipv4/tcp_syncookies" in finding.message


def test_unmasked_proc_in_a_user_namespace_is_a_warning() -> None:
    container = "          securityContext:\n            procMount: Unmasked\n"
    shared = of("UR214", deployment(container=container))
    namespaced = of("UR214", deployment(spec="      hostUsers: false\n", container=container))
    assert [(f.severity, f.variant) for f in shared] == [(Severity.ERROR, Ur214.HOST_USERS)]
    assert [(f.severity, f.variant) for f in namespaced] == [(Severity.WARNING, Ur214.USER_NAMESPACE)]


def test_selinux_reports_each_offending_field() -> None:
    context = "          securityContext:\n            seLinuxOptions:\n              type: spc_t\n              role: sysadm_r\n              level: s0\n"
    assert [f.line for f in of("UR215", deployment(container=context))] == [19, 20]


PSP = """\
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: {name}
spec:
  privileged: {privileged}
  runAsUser:
    rule: RunAsAny
  seLinux:
    rule: RunAsAny
  supplementalGroups:
    rule: RunAsAny
  fsGroup:
    rule: RunAsAny
"""


def test_a_pod_security_policy_in_a_file_with_workloads() -> None:
    text = PSP.format(name="old", privileged="true") + "---\n" + deployment()
    findings = analyze("deploy.yaml", text)
    [psp] = [f for f in findings if f.rule == "UR219"]
    assert (psp.line, psp.severity, psp.workload) == (2, Severity.WARNING, "PodSecurityPolicy/old")
    assert "pod-security.kubernetes.io/enforce: restricted" in psp.message
    assert any(f.rule == "UR201" and f.workload == "Deployment/agent" for f in findings)


def test_a_pod_security_policy_of_any_policy_version_is_reported() -> None:
    text = PSP.format(name="sidecar", privileged="false").replace("policy/v1beta1", "policy/v1")
    assert [f.line for f in of("UR219", text, "psp.yaml")] == [2]


def test_every_pod_security_policy_of_a_file_is_reported() -> None:
    text = PSP.format(name="a", privileged="false") + "---\n" + PSP.format(name="b", privileged="true")
    assert [f.subject for f in of("UR219", text, "psp.yaml")] == ["PodSecurityPolicy/a", "PodSecurityPolicy/b"]


def test_a_broken_file_without_workloads_gets_no_notice_for_the_object_rules() -> None:
    assert analyze("psp.yaml", "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nspec: [\n") == []


def test_a_templated_pod_security_policy_is_skipped_as_a_template() -> None:
    text = PSP.format(name='"{{ .Release.Name }}"', privileged="false")
    assert [f.rule for f in analyze("psp.yaml", text)] == ["UR001"]


def test_a_disabled_object_rule_reports_nothing() -> None:
    from rules.model import Options

    text = PSP.format(name="old", privileged="false")
    assert analyze("psp.yaml", text, Options(disabled=frozenset({"UR219"}))) == []
