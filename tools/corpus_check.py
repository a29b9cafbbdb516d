"""Score unroot's rules against the labelled external corpus (../shared/corpus/labels.tsv)."""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rules.analyze import analyze_bytes, file_kind
from rules.kubernetes.discovery import object_label, pod_specs
from rules.kubernetes.family import PARTIAL_WORKLOAD_KINDS
from rules.kubernetes.nodes import as_str, value
from rules.kubernetes.parse import ManifestError, load_documents
from rules.kubernetes.ur206_capabilities import Ur206
from rules.kubernetes.ur207_host_namespaces import Ur207
from rules.kubernetes.ur212_host_path import Ur212
from rules.model import FileKind, Finding, Severity, Variant

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
LABEL_COLUMNS = ("source", "path", "object", "upstream_check", "expected", "note")
SOURCE_ORDER = ("psa", "polaris", "checkov", "kube-linter", "kube-score", "kubeaudit", "trivy-checks")

ROOT_USER = frozenset({"UR201", "UR202", "UR203"})  # who the process runs as


@dataclass(frozen=True)
class Aspect:
    """The cases of a rule an upstream check corresponds to: findings of these variants only."""

    name: str  # how the report names it, e.g. "adds capabilities"
    variants: frozenset[Variant]


ADDS = Aspect("adds capabilities", frozenset({Ur206.ADDS_DANGEROUS, Ur206.ADDS_BASELINE}))  # a capability is added
NO_DROP = Aspect("does not drop ALL", frozenset({Ur206.DROP_MISSING_ALL}))  # drop lacks exactly 'ALL'
HOST_PID = Aspect("hostPID", frozenset({Ur207.HOST_PID}))
HOST_IPC = Aspect("hostIPC", frozenset({Ur207.HOST_IPC}))
HOST_NETWORK = Aspect("hostNetwork", frozenset({Ur207.HOST_NETWORK}))
ROOT_HOST_PATH = Aspect("root-equivalent hostPath", frozenset({Ur212.ROOT_EQUIVALENT}))  # socket, /proc, /etc...
_TRIVY_KEY = re.compile(r"^(?P<framework>[\w-]+)\.(?P<verdict>good|bad)\[(?P<index>\d+)\]$")
_DOC_SUFFIX = re.compile(r"^(?P<label>.+)#doc(?P<number>\d+)$")


@dataclass(frozen=True)
class Mapping:
    """One upstream check seen through our rules: which rules, from which severity up."""

    rules: frozenset[str]
    threshold: Severity
    aspect: Aspect | None = None  # only findings of these variants count (e.g. hostPID)
    category: str = "root"  # "root" (root/privilege) or "hardening"

    def describe(self) -> str:
        """E.g. "UR206>=warning[adds capabilities]"."""
        rules = "/".join(sorted(self.rules))
        aspect = f"[{self.aspect.name}]" if self.aspect else ""
        return f"{rules}>={self.threshold.value}{aspect}"


@dataclass(frozen=True)
class NotScored:
    """An upstream check we do not compare, with the reason."""

    reason: str


def _m(rules: str, threshold: Severity, aspect: Aspect | None = None, category: str = "root") -> Mapping:
    return Mapping(frozenset(rules.split()), threshold, aspect, category)


E, W, N = Severity.ERROR, Severity.WARNING, Severity.NOTICE
ROOT = "UR201 UR202 UR203"

# Pod Security Admission controls (the authority). The level is not needed: each control
# name already says which level's rule it is (e.g. capabilities_baseline vs _restricted).
PSA_CONTROLS: dict[str, Mapping] = {
    "runAsNonRoot": _m("UR201", W),
    "runAsUser": _m("UR202", E),
    "privileged": _m("UR204", E),
    "allowPrivilegeEscalation": _m("UR205", W),
    "capabilities_baseline": _m("UR206", E),
    "capabilities_restricted": _m("UR206", W),
    "seccompProfile_baseline": _m("UR209", E),
    "seccompProfile_restricted": _m("UR209", W),
    "hostNamespaces": _m("UR207", E),
    # Baseline controls that give no power over the node are warnings (any hostPath is at least one).
    "hostPathVolumes": _m("UR212", W),
    "hostPorts": _m("UR213", W),
    # Unmasked /proc is an error where the pod shares the node's users; in a user namespace only
    # the restricted level forbids it (PSA 1.35+), and unroot says so with a warning.
    "procMount": _m("UR214", E),
    "procMount_restricted": _m("UR214", W),
    "seLinuxOptions": _m("UR215", E),
    "appArmorProfile": _m("UR216", E),
    "sysctls": _m("UR217", E),
    "windowsHostProcess": _m("UR218", E),
}
PSA_OTHER = "not a control unroot checks (volume types other than hostPath, host probes and lifecycle hooks)"

PEER_CHECKS: dict[str, Mapping | NotScored] = {
    # FairwindsOps/polaris
    "polaris:runAsRootAllowed": _m(ROOT, E),
    "polaris:runAsPrivileged": _m("UR204", E),
    "polaris:privilegeEscalationAllowed": _m("UR205", W),
    "polaris:insecureCapabilities": _m("UR206", W, NO_DROP),
    "polaris:dangerousCapabilities": _m("UR206", E, ADDS),
    "polaris:hostIPCSet": _m("UR207", E, HOST_IPC),
    "polaris:hostPIDSet": _m("UR207", E, HOST_PID),
    "polaris:hostNetworkSet": _m("UR207", E, HOST_NETWORK),
    "polaris:notReadOnlyRootFilesystem": _m("UR211", N, category="hardening"),
    "polaris:linuxHardening": NotScored(
        "passes on any one of seccomp, SELinux, AppArmor or a capability drop; no rule of ours is that disjunction"
    ),
    # bridgecrewio/checkov
    "checkov:CKV_K8S_16": _m("UR204", E),
    "checkov:CKV_K8S_17": _m("UR207", E, HOST_PID),
    "checkov:CKV_K8S_18": _m("UR207", E, HOST_IPC),
    "checkov:CKV_K8S_19": _m("UR207", E, HOST_NETWORK),
    "checkov:CKV_K8S_20": _m("UR205", W),
    "checkov:CKV_K8S_22": _m("UR211", N, category="hardening"),
    "checkov:CKV_K8S_23": _m(ROOT, E),
    "checkov:CKV_K8S_25": _m("UR206", E, ADDS),
    "checkov:CKV_K8S_27": _m("UR212", E, ROOT_HOST_PATH),
    "checkov:CKV_K8S_28": _m("UR206", W),
    "checkov:CKV_K8S_29": NotScored("presence of a pod securityContext, not a root control"),
    "checkov:CKV_K8S_30": NotScored("presence of a container securityContext, not a root control"),
    "checkov:CKV_K8S_31": _m("UR209", W),
    "checkov:CKV_K8S_37": _m("UR206", W, NO_DROP),
    "checkov:CKV_K8S_39": _m("UR206", E, ADDS),
    "checkov:CKV_K8S_40": _m(ROOT, E),
    "checkov:CKV_DOCKER_3": _m("UR101 UR102", E),
    "checkov:CKV_DOCKER_8": _m("UR101 UR102", E),
    "checkov:CKV2_DOCKER_1": _m("UR104", W),
    # stackrox/kube-linter
    "kube-linter:run-as-non-root": _m(ROOT, E),
    "kube-linter:privilege-escalation-container": _m("UR205", E),
    "kube-linter:privileged-container": _m("UR204", E),
    "kube-linter:drop-net-raw-capability": _m("UR206", W),
    "kube-linter:host-ipc": _m("UR207", E, HOST_IPC),
    "kube-linter:host-pid": _m("UR207", E, HOST_PID),
    "kube-linter:host-network": _m("UR207", E, HOST_NETWORK),
    "kube-linter:no-read-only-root-fs": _m("UR211", N, category="hardening"),
    "kube-linter:docker-sock": _m("UR212", E, ROOT_HOST_PATH),
    "kube-linter:sensitive-host-mounts": _m("UR212", E, ROOT_HOST_PATH),
    "kube-linter:writable-host-mount": _m("UR212", W, category="hardening"),  # any writable hostPath
    "kube-linter:unsafe-proc-mount": _m("UR214", E),
    "kube-linter:privileged-ports": NotScored("container ports are not judged in manifests (UR105 is Dockerfile-only)"),
    "kube-linter:scc-deny-privileged-container": NotScored("OpenShift SCC is a policy object, not a workload"),
    # zegl/kube-score
    "kube-score:container-security-context-user-group-id": _m(ROOT, E),
    "kube-score:container-security-context-privileged": _m("UR204", E),
    "kube-score:container-security-context-readonlyrootfilesystem": _m("UR211", N, category="hardening"),
    "kube-score:container-seccomp-profile": _m("UR209", W),
    # Shopify/kubeaudit
    "kubeaudit:nonroot": _m(ROOT, E),
    "kubeaudit:privesc": _m("UR205", W),
    "kubeaudit:privileged": _m("UR204", E),
    "kubeaudit:capabilities": _m("UR206", W),
    "kubeaudit:hostns": _m("UR207", E),
    "kubeaudit:seccomp": _m("UR209", W),
    "kubeaudit:rootfs": _m("UR211", N, category="hardening"),
    "kubeaudit:mounts": _m("UR212", E, ROOT_HOST_PATH),
    # aquasecurity/trivy-checks
    "trivy:DS-0002": _m("UR101 UR102", E),
    "trivy:DS-0010": _m("UR104", W),
    "trivy:KSV-0001": _m("UR205", W),
    "trivy:KSV-0003": _m("UR206", W, NO_DROP),
    "trivy:KSV-0005": _m("UR206", E, ADDS),
    "trivy:KSV-0006": _m("UR212", E, ROOT_HOST_PATH),
    "trivy:KSV-0008": _m("UR207", E, HOST_IPC),
    "trivy:KSV-0009": _m("UR207", E, HOST_NETWORK),
    "trivy:KSV-0010": _m("UR207", E, HOST_PID),
    "trivy:KSV-0012": _m(ROOT, E),
    "trivy:KSV-0014": _m("UR211", N, category="hardening"),
    "trivy:KSV-0017": _m("UR204", E),
    "trivy:KSV-0020": _m(ROOT, E),
    "trivy:KSV-0021": NotScored("GID-magnitude policy (runAsGroup > 10000); we only flag group 0 (UR208)"),
    "trivy:KSV-0022": _m("UR206", W, ADDS),
    "trivy:KSV-0030": _m("UR209", W),
}


@dataclass(frozen=True)
class Label:
    """One row of labels.tsv."""

    source: str
    path: str
    object: str
    check: str
    expected: str
    note: str


@dataclass(frozen=True)
class Assertion:
    """What must hold of our findings on the labelled object for us to agree."""

    mapping: Mapping | None  # None: any rule (the whole-pod check)
    must_fire: bool

    def describe(self) -> str:
        """Human text of the expectation."""
        what = self.mapping.describe() if self.mapping else "any rule>=warning on the pod"
        return ("" if self.must_fire else "no ") + what


@dataclass
class RowResult:
    """One label row and our verdict on it."""

    label: Label
    assertions: tuple[Assertion, ...] = ()
    not_scored: str | None = None
    agree: bool = True
    said: str = ""
    root_related: bool = False

    @property
    def scored(self) -> bool:
        return self.not_scored is None


@dataclass
class Report:
    """Everything main() prints, as data (the tests read it)."""

    rows: list[RowResult] = field(default_factory=list)
    non_workload_files: int = 0
    non_workload_objects: int = 0
    non_workload_errors: list[Finding] = field(default_factory=list)
    real_world_files: int = 0
    real_world_findings: Counter[tuple[str, str]] = field(default_factory=Counter)
    real_world_skipped: list[Finding] = field(default_factory=list)

    def scored(self, source: str | None = None, root_only: bool = False) -> list[RowResult]:
        """Scored rows, optionally of one source and only root/privilege-related ones."""
        return [
            r
            for r in self.rows
            if r.scored and (source is None or r.label.source == source) and (r.root_related or not root_only)
        ]

    @property
    def psa_agreement(self) -> float:
        """Percentage of PSA root-related rows where we agree (100.0 when none are scored)."""
        rows = self.scored("psa", root_only=True)
        return 100.0 * sum(r.agree for r in rows) / len(rows) if rows else 100.0

    @property
    def ok(self) -> bool:
        """The exit criterion: PSA root-related agreement 100% and no error on a non-workload."""
        return self.psa_agreement == 100.0 and not self.non_workload_errors


def read_labels(corpus: Path) -> list[Label]:
    """labels.tsv as rows; the header must be the documented one."""
    with (corpus / "labels.tsv").open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = tuple(next(reader))
        if header != LABEL_COLUMNS:
            raise SystemExit(f"labels.tsv: unexpected header {header!r}")
        return [Label(*(row + [""] * (len(LABEL_COLUMNS) - len(row)))[: len(LABEL_COLUMNS)]) for row in reader if row]


def assertions_for(label: Label) -> tuple[tuple[Assertion, ...], str | None, bool]:
    """(assertions, reason not scored, root-related) for one row."""
    if label.expected not in ("pass", "fail"):
        return (), f"upstream gives no verdict ({label.expected})", False
    must_fire = label.expected == "fail"
    parts = label.check.split(":")
    if parts[0] == "psa" and len(parts) == 3:
        level, control = parts[1], parts[2]
        found: list[Assertion] = []
        mapping = PSA_CONTROLS.get(control)
        if mapping is not None:
            found.append(Assertion(mapping, must_fire))
        if level == "restricted" and not must_fire:
            found.append(Assertion(None, False))  # an admitted pod must be clean of errors and warnings
        if not found:
            return (), PSA_OTHER if control != "base" else "baseline base pod (runs as the image user)", False
        return tuple(found), None, True
    peer = PEER_CHECKS.get(label.check)
    if peer is None:
        return (), "no mapping for this upstream check", False
    if isinstance(peer, NotScored):
        return (), peer.reason, False
    return (Assertion(peer, must_fire),), None, peer.category == "root"


# --- attributing findings to labelled objects ---------------------------------------


def document_starts(text: str) -> list[int]:
    """1-based first line of each YAML document (document N is index N-1)."""
    loader = YAML(typ="safe", pure=False)
    starts: list[int] = []
    try:
        for node in loader.compose_all(text):
            starts.append(int(node.start_mark.line) + 1 if node is not None else 0)
    except YAMLError:
        pass
    return starts


def findings_for(label: Label, findings: list[Finding], text: str) -> list[Finding]:
    """The findings that are about the labelled object."""
    if label.object == "-" or _TRIVY_KEY.match(label.object):
        return list(findings)  # a Dockerfile, or one extracted example: the whole file
    wanted = label.object
    document: int | None = None
    doc_match = _DOC_SUFFIX.match(wanted)
    if doc_match:
        wanted, document = doc_match.group("label"), int(doc_match.group("number"))
    selected = [f for f in findings if f.workload == wanted]
    if document is not None:
        starts = document_starts(text)
        if 0 < document <= len(starts):
            low = starts[document - 1]
            high = starts[document] if document < len(starts) else 1 << 30
            selected = [f for f in selected if low <= f.line < high]
    return selected


def _of_aspect(finding: Finding, aspect: Aspect | None) -> bool:
    return aspect is None or finding.variant in aspect.variants


def _holds(assertion: Assertion, findings: list[Finding]) -> bool:
    mapping = assertion.mapping
    if mapping is None:
        return not any(f.severity.rank >= Severity.WARNING.rank for f in findings)
    fired = any(
        f.rule in mapping.rules and f.severity.rank >= mapping.threshold.rank and _of_aspect(f, mapping.aspect)
        for f in findings
    )
    return fired == assertion.must_fire


def _said(assertions: Iterable[Assertion], findings: list[Finding]) -> str:
    """What we reported that bears on the assertions (all findings >= warning for the pod check)."""
    relevant: list[str] = []
    for assertion in assertions:
        mapping = assertion.mapping
        for f in findings:
            hit = (
                f.severity.rank >= Severity.WARNING.rank
                if mapping is None
                else f.rule in mapping.rules and _of_aspect(f, mapping.aspect)
            )
            text = f"{f.rule}:{f.severity.value} line {f.line} ({f.message})"
            if hit and text not in relevant:
                relevant.append(text)
    if relevant:
        return "; ".join(relevant)
    others = sorted({f"{f.rule}:{f.severity.value}" for f in findings})
    return "nothing relevant" + (f" (other findings: {', '.join(others)})" if others else " (no findings)")


# --- trivy-checks wrapper files -------------------------------------------------------


def trivy_example(wrapper: str, key: str) -> tuple[str, str] | None:
    """(file name to analyse it as, example text) for a key like kubernetes.good[0]."""
    match = _TRIVY_KEY.match(key)
    if match is None:
        return None
    try:
        root = YAML(typ="safe", pure=False).compose(wrapper)
    except YAMLError:
        return None
    framework = _mapping_value(root, match.group("framework"))
    examples = _mapping_value(framework, match.group("verdict"))
    index = int(match.group("index"))
    if not isinstance(examples, SequenceNode) or index >= len(examples.value):
        return None
    item = examples.value[index]
    if not isinstance(item, ScalarNode):
        return None
    name = "Dockerfile" if match.group("framework") == "dockerfile" else "example.yaml"
    return name, str(item.value)


def _mapping_value(node: Node | None, key: str) -> Node | None:
    if not isinstance(node, MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return value_node  # type: ignore[no-any-return]
    return None


# --- the runs ----------------------------------------------------------------------------


class _Cache:
    """Analyses each file (or extracted example) once."""

    def __init__(self, corpus: Path) -> None:
        self.corpus = corpus
        self.results: dict[tuple[str, str], tuple[str, list[Finding]]] = {}

    def analyse(self, label: Label) -> tuple[str, list[Finding]]:
        key = (label.path, label.object if _TRIVY_KEY.match(label.object) else "")
        if key not in self.results:
            data = (self.corpus / label.path).read_bytes()
            text = data.decode("utf-8", errors="replace")
            if key[1]:
                example = trivy_example(text, key[1])
                if example is None:
                    raise SystemExit(f"{label.path}: no example {key[1]}")
                name, text = example
                findings = analyze_bytes(f"{label.path}#{key[1]}/{name}", text.encode("utf-8"))
            else:
                findings = analyze_bytes(label.path, data)
            self.results[key] = (text, findings)
        return self.results[key]


def score(corpus: Path, labels: Sequence[Label]) -> list[RowResult]:
    """Our verdict on every label row."""
    cache = _Cache(corpus)
    results: list[RowResult] = []
    for label in labels:
        assertions, reason, root_related = assertions_for(label)
        result = RowResult(label, assertions, reason, root_related=root_related)
        text, findings = cache.analyse(label)  # n/a and unscored rows too: analysis must not crash
        if result.scored:
            mine = findings_for(label, findings, text)
            result.agree = all(_holds(a, mine) for a in assertions)
            result.said = _said(assertions, mine)
        results.append(result)
    return results


def corpus_files(corpus: Path) -> list[Path]:
    """Every data file of the corpus (not the three generated files)."""
    skip = {"SOURCES.md", "labels.tsv", "MANIFEST.tsv"}
    return sorted(p for p in corpus.rglob("*") if p.is_file() and p.relative_to(corpus).as_posix() not in skip)


def check_non_workloads(corpus: Path, report: Report) -> None:
    """No error-level finding may name an object that is not a workload, in any corpus file."""
    for file in corpus_files(corpus):
        rel = file.relative_to(corpus).as_posix()
        if file_kind(rel) is not FileKind.KUBERNETES:
            continue
        data = file.read_bytes()
        findings = analyze_bytes(rel, data)
        try:
            documents = load_documents(data.decode("utf-8"))
        except (ManifestError, UnicodeDecodeError):
            continue  # skipped with UR001; nothing to attribute
        workloads = {pod.object_label for doc in documents for pod in pod_specs(doc)}
        # A Deployment written without containers is a partial workload (a patch), judged on what it sets.
        workloads |= {
            object_label(doc)
            for doc in documents
            if isinstance(doc, MappingNode) and as_str(value(doc, "kind")) in PARTIAL_WORKLOAD_KINDS
        }
        others = len(documents) - sum(1 for doc in documents if pod_specs(doc))
        if not workloads:
            report.non_workload_files += 1
        report.non_workload_objects += others
        for finding in findings:
            if finding.severity is Severity.ERROR and finding.workload not in workloads:
                report.non_workload_errors.append(finding)


def check_real_world(corpus: Path, report: Report) -> None:
    """Run over real-world/ and tally findings by rule and severity."""
    root = corpus / "real-world"
    if not root.is_dir():
        return
    for file in corpus_files(root):
        rel = file.relative_to(corpus).as_posix()
        if file_kind(rel) is None:
            continue
        report.real_world_files += 1
        for finding in analyze_bytes(rel, file.read_bytes()):
            report.real_world_findings[(finding.rule, finding.severity.value)] += 1
            if finding.rule == "UR001":
                report.real_world_skipped.append(finding)


def build_report(corpus: Path) -> Report:
    """Run every part of the check over a corpus folder."""
    report = Report(rows=score(corpus, read_labels(corpus)))
    check_non_workloads(corpus, report)
    check_real_world(corpus, report)
    return report


# --- output -----------------------------------------------------------------------------


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "n/a"


def print_report(report: Report) -> None:
    """The human-readable summary."""
    sources = [s for s in SOURCE_ORDER if any(r.label.source == s for r in report.rows)]
    sources += sorted({r.label.source for r in report.rows} - set(sources))
    print("== Agreement with upstream labels (per source) ==")
    for source in sources:
        rows = [r for r in report.rows if r.label.source == source]
        scored = [r for r in rows if r.scored]
        agree = sum(r.agree for r in scored)
        print(
            f"{source}: {len(rows)} rows, {len(scored)} scored, {agree} agree, "
            f"{len(scored) - agree} disagree ({_pct(agree, len(scored))})"
        )
        for r in scored:
            if not r.agree:
                expected = "; ".join(a.describe() for a in r.assertions)
                print(
                    f"  DISAGREE {r.label.path} {r.label.object} {r.label.check}: upstream {r.label.expected} "
                    f"(we should have: {expected}); we said: {r.said}"
                )
    psa = report.scored("psa", root_only=True)
    psa_agree = sum(r.agree for r in psa)
    clean = [r for r in psa if any(a.mapping is None for a in r.assertions)]
    print(
        f"PSA root-related agreement: {psa_agree}/{len(psa)} = {_pct(psa_agree, len(psa))} "
        f"(includes {len(clean)} restricted pass pods that must have no error or warning: "
        f"{sum(r.agree for r in clean)} clean)"
    )
    peers = [r for r in report.rows if r.scored and r.label.source != "psa"]
    peer_root = [r for r in peers if r.root_related]
    print(
        f"Peers: {sum(r.agree for r in peers)}/{len(peers)} agree ({_pct(sum(r.agree for r in peers), len(peers))}); "
        f"root/privilege-related only: {sum(r.agree for r in peer_root)}/{len(peer_root)} "
        f"({_pct(sum(r.agree for r in peer_root), len(peer_root))})"
    )
    reasons = Counter(r.not_scored for r in report.rows if not r.scored)
    print(f"Not scored: {sum(reasons.values())} rows")
    for reason, count in reasons.most_common():
        print(f"  {count:4d}  {reason}")

    print("\n== Non-workloads ==")
    print(
        f"{report.non_workload_files} files without any workload and {report.non_workload_objects} "
        f"non-workload objects checked; error-level findings on them: {len(report.non_workload_errors)}"
    )
    for finding in report.non_workload_errors:
        print(f"  ERROR ON NON-WORKLOAD {finding.path}:{finding.line} {finding.rule} {finding.subject}")

    print("\n== real-world/ ==")
    total = sum(report.real_world_findings.values())
    print(f"{report.real_world_files} files, {total} findings")
    for (rule, severity), count in sorted(report.real_world_findings.items()):
        print(f"  {rule} {severity:8s} {count}")
    for finding in report.real_world_skipped:
        print(f"  UR001 {finding.path}: {finding.message}")


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 when PSA root-related agreement is 100% and no non-workload gets an error."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder (default: %(default)s)")
    args = parser.parse_args(argv)
    corpus: Path = args.corpus
    if not corpus.is_dir():
        print(f"corpus folder {corpus} does not exist; nothing to check")
        return 0
    report = build_report(corpus)
    print_report(report)
    print(f"\nRESULT: {'OK' if report.ok else 'FAIL'}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
