"""Fuzz `unroot fix`: mutate seed files, fix them in-process, and check that no fix damages a file.

The property (issue 9 item 18): after `fix` the file parses, has the same stages or
pods and containers, has no new error-level finding and no error left where a fix was
offered, keeps its BOM and line endings, and a second `fix` changes nothing. Fixes
that take away a power the workload asked for (a capability add, `privileged`, a host
namespace, a hostPath), that make a container non-root which then cannot bind its port
below 1024, or that leave a pod's volumes without fsGroup are counted apart (issue 13's
"semantic changes"; `--real` reports them, and tests/test_fix_policy.py holds them at zero).

    python tools/fuzz_fixes.py --count 30000 --seed 1 --jobs 2
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from bot.cli import fixed_in_two_passes  # noqa: E402  (the very function `unroot fix` writes with)
from rules.analyze import analyze, file_kind  # noqa: E402
from rules.compose.parse import services  # noqa: E402
from rules.dockerfile.parse import parse as parse_dockerfile  # noqa: E402
from rules.fixes import EditConflict  # noqa: E402
from rules.kubernetes.discovery import pod_specs  # noqa: E402
from rules.kubernetes.nodes import as_bool, as_int, get, path, strings, value  # noqa: E402
from rules.kubernetes.parse import ManifestError, PodSpec, load_documents  # noqa: E402
from rules.kubernetes.powers import low_ports, root_powers, sets_port_sysctl, writable_volumes  # noqa: E402
from rules.model import FileKind, Finding, Options, Severity  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
BOM = "\ufeff"
MAX_SEED_BYTES = 200_000  # larger seeds cost time and add no new shapes
# The property's parts; each violation is a defect.
KINDS = (
    "crash",
    "conflict",
    "unparsable",
    "duplicate_keys",
    "shape",
    "new_error",
    "error_left",
    "not_idempotent",
    "bom",
    "line_endings",
)
# What a fix may not change about how the workload works (issue 13's policy, rules/docs/fix-policy.md).
POWERS = (
    "capability_add",
    "privileged",
    "host_namespace",
    "host_path",
    "low_port_unbindable",
    "volume_without_fs_group",
)

# Hand-written seeds for shapes the shipped files lack: aliases, one-line JSON, heredocs.
EXTRA_SEEDS: tuple[tuple[str, str], ...] = (
    (
        "alias/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n"
        "    image: x\n    securityContext: &sc\n      runAsNonRoot: false\n  - name: two\n    image: y\n"
        "    securityContext: *sc\n",
    ),
    (
        "alias/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n"
        "    spec:\n      containers:\n      - &c\n        name: app\n        image: x\n      initContainers:\n"
        "      - *c\n",
    ),
    (
        "json/pod.json",
        '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": {"containers": '
        '[{"name": "app", "image": "x"}, {"name": "two", "image": "y", "securityContext": {"privileged": true}}]}}\n',
    ),
    ("heredoc/Dockerfile", "FROM debian:12\nRUN <<EOF\napt-get update\nEOF\n"),
    ("from/Dockerfile", "FROM alpine:3.20 \\\n  AS final\n"),
)


@dataclass
class Tally:
    """What a batch of mutants showed."""

    mutants: int = 0
    fixed: int = 0  # mutants whose fix changed the file
    fixes: int = 0  # findings with a fix, over the fixed mutants
    violations: Counter[str] = field(default_factory=Counter)
    powers: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[dict[str, object]]] = field(default_factory=dict)

    def add(self, other: Tally) -> None:
        self.mutants += other.mutants
        self.fixed += other.fixed
        self.fixes += other.fixes
        self.violations.update(other.violations)
        self.powers.update(other.powers)
        for kind, items in other.examples.items():
            self.examples.setdefault(kind, []).extend(items)
            del self.examples[kind][3:]


# ---- seeds


def _case_seeds() -> list[tuple[str, str]]:
    """The texts of tests/rule_cases.py (loaded by path: tests/ is not a package)."""
    source = ROOT / "tests" / "rule_cases.py"
    spec = importlib.util.spec_from_file_location("_fuzz_rule_cases", source)
    if spec is None or spec.loader is None:
        return []
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return [(f"cases/{index}/{case.path}", case.text) for index, case in enumerate(module.CASES)]


def _file_seeds(root: Path) -> Iterator[tuple[str, str]]:
    for candidate in sorted(root.rglob("*")):
        if candidate.is_file() and not candidate.is_symlink() and file_kind(candidate.name) is not None:
            data = candidate.read_bytes()
            if len(data) <= MAX_SEED_BYTES:
                try:
                    yield candidate.relative_to(root.parent).as_posix(), data.decode("utf-8")
                except UnicodeDecodeError:
                    continue


def load_seeds(roots: Sequence[Path]) -> list[tuple[str, str]]:
    """Seed files that hold something to fix, from rule cases, extra shapes and `roots`."""
    found = list(EXTRA_SEEDS) + _case_seeds()
    for root in roots:
        if root.is_dir():
            found.extend(_file_seeds(root))
    return [(name, text) for name, text in found if any(f.fix is not None for f in _safe_analyze(name, text))]


# ---- mutations

Mutation = Callable[[random.Random, str], str | None]
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _bom(_rng: random.Random, text: str) -> str | None:
    return None if text.startswith(BOM) else BOM + text


def _crlf(_rng: random.Random, text: str) -> str | None:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _cr(_rng: random.Random, text: str) -> str | None:
    return text.replace("\r\n", "\n").replace("\n", "\r")


def _no_final_newline(_rng: random.Random, text: str) -> str | None:
    return text.rstrip("\r\n") or None


def _delete_line(rng: random.Random, text: str) -> str | None:
    lines = _lines(text)
    if len(lines) < 3:
        return None
    del lines[rng.randrange(len(lines))]
    return "\n".join(lines)


def _duplicate_line(rng: random.Random, text: str) -> str | None:
    lines = _lines(text)
    index = rng.randrange(len(lines))
    lines.insert(index, lines[index])
    return "\n".join(lines)


def _trailing_comment(rng: random.Random, text: str) -> str | None:
    return text.rstrip("\n") + "\n# trailing comment\n" + ("\n" if rng.random() < 0.5 else "")


def _heredoc_tail(rng: random.Random, text: str) -> str | None:
    body = rng.choice(("RUN <<EOF\necho hi\nEOF\n", "RUN <<-EOT\n\techo hi\n\tEOT\n", "COPY <<EOF /app/x\ndata\nEOF\n"))
    return text.rstrip("\n") + "\n" + body


def _continued_from(rng: random.Random, text: str) -> str | None:
    lines = _lines(text)
    froms = [i for i, line in enumerate(lines) if re.match(r"\s*FROM\s+\S+", line, re.IGNORECASE)]
    if not froms:
        return None
    index = froms[-1] if rng.random() < 0.7 else rng.choice(froms)
    head, _sep, rest = lines[index].rstrip().partition(" AS ")
    lines[index] = head + " \\\n  AS " + (rest or f"fuzz{rng.randrange(100)}")
    return "\n".join(lines)


def _user_root(rng: random.Random, text: str) -> str | None:
    lines = _lines(text)
    return "\n".join(lines[:-1] + [rng.choice(("USER root", "user 0", "USER root:root")), lines[-1]])


def _drop_cmd(_rng: random.Random, text: str) -> str | None:
    lines = [line for line in _lines(text) if not re.match(r"\s*(CMD|ENTRYPOINT)\b", line, re.IGNORECASE)]
    return "\n".join(lines)


def _sudo(_rng: random.Random, text: str) -> str | None:
    return text.rstrip("\n") + "\nRUN sudo apt-get update\n"


def _lowercase(_rng: random.Random, text: str) -> str | None:
    return re.sub(r"^(\s*)([A-Z]+)\b", lambda m: m.group(1) + m.group(2).lower(), text, flags=re.MULTILINE)


def _null_sc_item(rng: random.Random, text: str) -> str | None:
    items = list(re.finditer(r"^([ \t]*)- name:", text, re.MULTILINE))
    if not items:
        return None
    match = rng.choice(items)
    null = rng.choice(("", " ~", " null"))
    return (
        text[: match.start()]
        + f"{match.group(1)}- securityContext:{null}\n{match.group(1)}  name:"
        + text[match.end() :]
    )


def _powers(rng: random.Random, text: str) -> str | None:
    images = list(re.finditer(r"^([ \t]*)image:[^\n]*\n", text, re.MULTILINE))
    if not images:
        return None
    match = rng.choice(images)
    indent = match.group(1)
    add = rng.choice(
        (
            "{privileged: true}",
            "{capabilities: {add: [SYS_ADMIN, NET_BIND_SERVICE]}}",
            "\n" + indent + "  capabilities:\n" + indent + "    add:\n" + indent + "    - NET_ADMIN",
        )
    )
    return text[: match.end()] + f"{indent}securityContext: {add}\n".replace(": \n", ":\n") + text[match.end() :]


def _host(rng: random.Random, text: str) -> str | None:
    match = re.search(r"^([ \t]*)containers:", text, re.MULTILINE)
    if match is None:
        return None
    name = rng.choice(("hostNetwork", "hostPID", "hostIPC"))
    return text[: match.start()] + f"{match.group(1)}{name}: true\n" + text[match.start() :]


def _as_json(rng: random.Random, text: str) -> str | None:
    try:
        documents = [d for d in YAML(typ="safe", pure=True).load_all(text) if isinstance(d, dict)]
    except Exception:  # any YAML error: the mutant is just not made
        return None
    if not documents:
        return None
    try:
        return json.dumps(documents[0], indent=rng.choice((None, 2))) + "\n"
    except (TypeError, ValueError):
        return None


def _append_dockerfile(rng: random.Random, text: str) -> str | None:
    tail = rng.choice(
        (
            "USER root # needs root\n",
            "USER \\\n  root\n",
            "ARG U=root\nUSER ${U}\n",
            "USER ${NOPE:-0}\n",
            "USER nobody\n",
            "USER app:app\n",
            'ENTRYPOINT ["/app"]\n',
            "CMD echo \\\n  hi\n",
            "ONBUILD USER root\n",
            "RUN useradd -u 1000 app\nUSER app\n",
            "EXPOSE 80\n",
            "# unroot: ignore=UR102 reason\n",
            "RUN echo a \\\n  # a comment in a continuation\n  && echo b\n",
        )
    )
    return text.rstrip("\n") + "\n" + tail


def _chain_stage(rng: random.Random, text: str) -> str | None:
    lines = _lines(text)
    froms = [i for i, line in enumerate(lines) if re.match(r"\s*FROM\s+\S+\s*$", line, re.IGNORECASE)]
    if not froms:
        return None
    index = rng.choice(froms)
    lines[index] = lines[index].rstrip() + " AS fuzzbase"
    return "\n".join(lines).rstrip("\n") + "\nFROM fuzzbase\n" + rng.choice(("", 'CMD ["x"]\n'))


def _block_child(text: str, match: re.Match[str]) -> str:
    """The indentation of the children of the block key that `match` ends on."""
    rest = text[match.end() :].split("\n", 2)
    following = rest[1] if len(rest) > 1 else ""
    indent = following[: len(following) - len(following.lstrip(" "))]
    return indent if len(indent) > len(match.group(1)) else match.group(1) + "  "


def _sc_field(rng: random.Random, text: str) -> str | None:
    keys = list(re.finditer(r"^([ \t]*(?:- )?)securityContext:[ \t]*$", text, re.MULTILINE))
    if not keys:
        return None
    match = rng.choice(keys)
    child = _block_child(text, match).replace("-", " ")
    entry = rng.choice(
        (
            "runAsUser: 0",
            "runAsNonRoot: false",
            "allowPrivilegeEscalation: true",
            "seccompProfile: {type: Unconfined}",
            "capabilities: {drop: [all]}",
            "readOnlyRootFilesystem: false",
            "privileged: true",
            "runAsGroup: 0",
            "capabilities:\n" + child + "  add: [NET_RAW]",
            "seccompProfile:\n" + child + "  type: Unconfined",
            "# a comment",
            "capabilities: {}",
            "capabilities: null",
            "seccompProfile: null",
        )
    )
    return text[: match.end()] + "\n" + child + entry + text[match.end() :]


def _pod_sc(rng: random.Random, text: str) -> str | None:
    match = re.search(r"^([ \t]*)containers:", text, re.MULTILINE)
    if match is None:
        return None
    indent = match.group(1)
    body = rng.choice(
        (
            "{runAsUser: 0}",
            "\n" + indent + "  runAsNonRoot: false",
            "\n" + indent + "  privileged: true",
            "\n" + indent + "  seccompProfile:\n" + indent + "    type: Unconfined",
            "{}",
            "null",
            "\n" + indent + "  runAsUser: 1000\n" + indent + "  # comment\n" + indent + "  fsGroup: 0",
        )
    )
    return text[: match.start()] + f"{indent}securityContext: {body}\n".replace(": \n", ":\n") + text[match.start() :]


def _anchor_alias(rng: random.Random, text: str) -> str | None:
    images = list(re.finditer(r"^([ \t]*)image:[^\n]*\n", text, re.MULTILINE))
    if len(images) < 2:
        return None
    first, second = sorted(rng.sample(images, 2), key=lambda m: m.start())
    value = rng.choice(("{runAsUser: 0}", "{}", "\n" + first.group(1) + "  runAsNonRoot: false"))
    anchored = (
        f"{first.group(1)}securityContext: &fz {value}\n".replace(" \n", "\n", 1)
        if value.startswith("\n")
        else f"{first.group(1)}securityContext: &fz {value}\n"
    )
    return (
        text[: first.end()]
        + anchored
        + text[first.end() : second.end()]
        + f"{second.group(1)}securityContext: *fz\n"
        + text[second.end() :]
    )


def _comment(rng: random.Random, text: str) -> str | None:
    lines = _lines(text)
    index = rng.randrange(len(lines))
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    lines.insert(index, indent + "# fuzz comment")
    return "\n".join(lines)


def _init_containers(_rng: random.Random, text: str) -> str | None:
    return re.sub(r"^([ \t]*)containers:", r"\1initContainers:", text, count=1, flags=re.MULTILINE)


GENERIC: tuple[Mutation, ...] = (_bom, _crlf, _cr, _no_final_newline, _delete_line, _duplicate_line, _trailing_comment)
DOCKERFILE: tuple[Mutation, ...] = (
    _heredoc_tail,
    _continued_from,
    _user_root,
    _drop_cmd,
    _sudo,
    _lowercase,
    _append_dockerfile,
    _chain_stage,
)
MANIFEST: tuple[Mutation, ...] = (
    _null_sc_item,
    _powers,
    _host,
    _as_json,
    _sc_field,
    _pod_sc,
    _anchor_alias,
    _comment,
    _init_containers,
)


def mutate(rng: random.Random, name: str, text: str) -> tuple[str, str, list[str]]:
    """A mutant of one seed: (path, text, names of the mutations applied)."""
    kind = file_kind(name)
    pool = GENERIC + (DOCKERFILE if kind is FileKind.DOCKERFILE else MANIFEST)
    applied: list[str] = []
    for mutation in rng.sample(pool, rng.randint(1, 3)):
        changed = mutation(rng, text)
        if changed is not None and changed != text:
            if mutation is _as_json:
                name = re.sub(r"\.ya?ml$", ".json", name)
            text = changed
            applied.append(mutation.__name__.lstrip("_"))
    return name, text, applied


# ---- the property


def _safe_analyze(name: str, text: str) -> list[Finding]:
    try:
        return analyze(name, text)
    except RecursionError:
        return []


def _errors(findings: list[Finding]) -> Counter[tuple[str, str]]:
    return Counter((f.rule, f.subject) for f in findings if f.severity is Severity.ERROR)


def _fix(name: str, text: str) -> tuple[str, list[Finding]]:
    """What `unroot fix` makes of the file: its fixes, then those that waited for them (see rules.model.Deferred)."""
    findings = analyze(name, text)
    return fixed_in_two_passes(name, text, findings, Options()), findings


def _shape(name: str, text: str) -> tuple[object, ...] | None:
    """Stages of a Dockerfile, services of a compose file, or (object, container count) per pod of a
    manifest; None: unparsable."""
    body = text[1:] if text.startswith(BOM) else text
    if file_kind(name) is FileKind.DOCKERFILE:
        return tuple((s.base, s.alias) for s in parse_dockerfile(body).stages)
    if file_kind(name) is FileKind.COMPOSE:
        try:
            found = services(body, require_shape=False)
        except ManifestError:
            return None
        return tuple(sorted(service.name for service in found or []))
    try:
        pods = [pod for document in load_documents(body) for pod in pod_specs(document)]
    except ManifestError:
        return None
    return tuple(sorted((pod.object_label, len(pod.containers)) for pod in pods))


def _fixed_error_left(before: list[Finding], errors_after: Counter[tuple[str, str]]) -> bool:
    """An error that had a fix is still there: more errors of a (rule, subject) that had a fix remain than
    had none (two containers of one name may differ: one fixed, one keeping a power it asked for)."""
    offered = {(f.rule, f.subject) for f in before if f.fix is not None and f.severity is Severity.ERROR}
    unfixed = Counter((f.rule, f.subject) for f in before if f.fix is None and f.severity is Severity.ERROR)
    return any(errors_after[key] > unfixed[key] for key in offered)


def _strict_loads(text: str) -> bool:
    try:
        list(YAML(typ="safe", pure=True).load_all(text[1:] if text.startswith(BOM) else text))
    except Exception:  # duplicate keys and every other refusal alike
        return False
    return True


def _endings(text: str) -> set[str]:
    return set(_LINE_BREAK.findall(text)) or {"\n"}


def _power_counts(name: str, text: str) -> Counter[str]:
    """How many powers the manifest's pods ask for by name."""
    counts: Counter[str] = Counter()
    if file_kind(name) is not FileKind.KUBERNETES:
        return counts
    try:
        pods = [pod for document in load_documents(text.lstrip(BOM)) for pod in pod_specs(document)]
    except ManifestError:
        return counts
    for pod in pods:
        for key in ("hostPID", "hostIPC", "hostNetwork"):
            counts["host_namespace"] += as_bool(value(pod.spec, key)) is True
        volumes = value(pod.spec, "volumes")
        for volume in volumes.value if volumes is not None and isinstance(volumes.value, list) else []:
            counts["host_path"] += isinstance(volume, MappingNode) and get(volume, "hostPath") is not None
        for container in pod.containers:
            sc = value(container.node, "securityContext")
            counts["privileged"] += as_bool(value(sc, "privileged")) is True
            counts["capability_add"] += len(strings(path(sc, "capabilities", "add")))
    return counts


def _pods(name: str, text: str) -> list[PodSpec]:
    if file_kind(name) is not FileKind.KUBERNETES:
        return []
    try:
        return [pod for document in load_documents(text.lstrip(BOM)) for pod in pod_specs(document)]
    except ManifestError:
        return []


def _non_root(pod: PodSpec, container: MappingNode) -> bool:
    """The container runs as non-root: a non-zero UID or runAsNonRoot: true applies to it."""
    own, pod_sc = value(container, "securityContext"), value(pod.context_node or pod.spec, "securityContext")
    uid = as_int(value(own, "runAsUser")) if get(own, "runAsUser") else as_int(value(pod_sc, "runAsUser"))
    flag = value(own, "runAsNonRoot") if get(own, "runAsNonRoot") else value(pod_sc, "runAsNonRoot")
    return (uid is not None and uid != 0) or as_bool(flag) is True


def working_losses(name: str, text: str, fixed: str) -> Counter[str]:
    """Containers the fix made non-root that so lose their added capabilities or privileged mode, or cannot
    bind their port below 1024 (no port sysctl), and pods with fsGroup volumes it made non-root without an
    fsGroup."""
    losses: Counter[str] = Counter()
    before, after = _pods(name, text), _pods(name, fixed)
    if len(before) != len(after):
        return losses
    for old, new in zip(before, after):
        made = [
            c_new
            for c_old, c_new in zip(old.containers, new.containers)
            if not _non_root(old, c_old.node) and _non_root(new, c_new.node)
        ]
        pod_sc = value(new.context_node or new.spec, "securityContext")
        for container in made:
            # Made non-root, it holds none of its added capabilities (no ambient capabilities).
            powers = root_powers(value(container.node, "securityContext"))
            losses["capability_add"] += any(p.startswith("capabilities") for p in powers)
            losses["privileged"] += "privileged: true" in powers
            losses["low_port_unbindable"] += any(not sets_port_sysctl(pod_sc, p) for p in low_ports(container.node))
        # Only volumes that were there count: the fix's own are emptyDirs, which the kubelet creates
        # world-writable (0777, pkg/volume/emptydir), so they need no fsGroup.
        kept = set(writable_volumes(new.spec, new.object_node)) & set(writable_volumes(old.spec, old.object_node))
        if made and kept and get(pod_sc, "fsGroup") is None:
            losses["volume_without_fs_group"] += 1
    return losses


def semantic_losses(name: str, text: str, fixed: str) -> Counter[str]:
    """Every change of issue 13's policy that the fix from `text` to `fixed` makes, by kind."""
    return (_power_counts(name, text) - _power_counts(name, fixed)) + working_losses(name, text, fixed)


def violations(name: str, text: str) -> tuple[list[str], list[str], int]:
    """The property's broken parts for one file, the powers its fix removes, and its fix count."""
    try:
        fixed, before = _fix(name, text)
    except EditConflict:
        return ["conflict"], [], 0
    if fixed == text:
        return [], [], 0
    try:
        again, after = _fix(name, fixed)
    except EditConflict:
        return ["conflict"], [], 0
    broken: list[str] = []
    shape = _shape(name, text)
    fixed_shape = _shape(name, fixed)
    if shape is not None and fixed_shape is None:
        broken.append("unparsable")
    elif shape != fixed_shape:
        broken.append("shape")
    if file_kind(name) in (FileKind.KUBERNETES, FileKind.COMPOSE) and _strict_loads(text) and not _strict_loads(fixed):
        broken.append("duplicate_keys")
    errors_before, errors_after = _errors(before), _errors(after)
    if errors_after - errors_before:
        broken.append("new_error")
    if _fixed_error_left(before, errors_after):
        broken.append("error_left")
    if again != fixed:
        broken.append("not_idempotent")
    if fixed.startswith(BOM) != text.startswith(BOM) or fixed.startswith(BOM * 2) != text.startswith(BOM * 2):
        broken.append("bom")
    if not _endings(fixed) <= _endings(text):
        broken.append("line_endings")
    lost = semantic_losses(name, text, fixed)
    return broken, sorted(lost.elements()), sum(f.fix is not None for f in before)


def run_batch(job: tuple[list[tuple[str, str]], int, int, int]) -> Tally:
    """Mutants start..stop of one run (each mutant's randomness depends only on seed and index)."""
    seeds, seed, start, stop = job
    tally = Tally()
    for index in range(start, stop):
        rng = random.Random(f"{seed}:{index}")
        seed_name, seed_text = seeds[rng.randrange(len(seeds))]
        name, text, applied = mutate(rng, seed_name, seed_text)
        tally.mutants += 1
        try:
            broken, lost, fixes = violations(name, text)
        except Exception as error:  # a crash is a finding of the fuzzer, not its end
            broken, lost, fixes = ["crash"], [], 0
            applied.append(f"{type(error).__name__}: {error}")
        if fixes:
            tally.fixed += 1
            tally.fixes += fixes
        tally.powers.update(lost)
        for kind in broken:
            tally.violations[kind] += 1
            examples = tally.examples.setdefault(kind, [])
            if len(examples) < 3:
                examples.append({"index": index, "seed": seed_name, "mutations": applied, "text": text})
    return tally


def fuzz(seeds: list[tuple[str, str]], count: int, seed: int, jobs: int, batch: int = 200) -> Tally:
    """Mutate until `count` mutants had a fix applied (or 4 x count mutants were tried)."""
    total = Tally()
    start = 0
    with ProcessPoolExecutor(max_workers=jobs) if jobs > 1 else _Inline() as pool:
        while total.fixed < count and start < 4 * count:
            wave = [(seeds, seed, s, s + batch) for s in range(start, start + batch * max(jobs, 1) * 2, batch)]
            start = wave[-1][3]
            for tally in pool.map(run_batch, wave):
                total.add(tally)
    return total


class _Inline:
    """The executor's `map`, in this process (jobs=1: no pickling, easier to debug)."""

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def map(
        self,
        function: Callable[[tuple[list[tuple[str, str]], int, int, int]], Tally],
        items: list[tuple[list[tuple[str, str]], int, int, int]],
    ) -> Iterator[Tally]:
        return (function(item) for item in items)


def _snapshot(root: Path) -> dict[str, str]:
    texts: dict[str, str] = {}
    for candidate in sorted(root.rglob("*")):
        if candidate.is_file() and not candidate.is_symlink() and file_kind(candidate.name) is not None:
            try:
                texts[candidate.relative_to(root).as_posix()] = candidate.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                continue
    return texts


def real_check(corpus: Path) -> dict[str, object]:
    """`unroot fix` (the CLI, as a subprocess) twice on a copy of `corpus`: the property per file."""
    import shutil
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="unroot-fix-") as scratch:
        copy = Path(scratch) / "corpus"
        shutil.copytree(corpus, copy, symlinks=True)  # never edit the corpus itself
        before = _snapshot(copy)
        command = [sys.executable, "-m", "bot.cli", "fix", "."]
        subprocess.run(command, cwd=copy, capture_output=True, check=False, env={**_env(), "PYTHONPATH": str(ROOT)})
        once = _snapshot(copy)
        subprocess.run(command, cwd=copy, capture_output=True, check=False, env={**_env(), "PYTHONPATH": str(ROOT)})
        twice = _snapshot(copy)
    broken: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    changed = 0
    for name, text in before.items():
        fixed = once.get(name, "")
        if fixed == text:
            continue
        changed += 1
        kinds = _file_violations(name, text, fixed, twice.get(name, ""))
        broken.update(kinds)
        for kind in kinds:
            examples.setdefault(kind, []).append(name)
        losses = semantic_losses(name, text, fixed)
        lost.update(losses)
        for kind in losses:
            examples.setdefault(kind, []).append(name)
    return {
        "files": len(before),
        "fixed_files": changed,
        "violations": {kind: broken.get(kind, 0) for kind in KINDS},
        "powers_removed_issue_13": {kind: lost.get(kind, 0) for kind in POWERS},
        "examples": {kind: names[:5] for kind, names in examples.items()},
    }


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def _file_violations(name: str, text: str, fixed: str, again: str) -> list[str]:
    """The property for one file fixed on disk: `fixed` after one run, `again` after two."""
    before, after = analyze(name, text), analyze(name, fixed)
    broken: list[str] = []
    shape, fixed_shape = _shape(name, text), _shape(name, fixed)
    if shape is not None and fixed_shape is None:
        broken.append("unparsable")
    elif shape != fixed_shape:
        broken.append("shape")
    if file_kind(name) is FileKind.KUBERNETES and _strict_loads(text) and not _strict_loads(fixed):
        broken.append("duplicate_keys")
    if _errors(after) - _errors(before):
        broken.append("new_error")
    if _fixed_error_left(before, _errors(after)):
        broken.append("error_left")
    if again != fixed:
        broken.append("not_idempotent")
    if fixed.startswith(BOM) != text.startswith(BOM) or fixed.startswith(BOM * 2) != text.startswith(BOM * 2):
        broken.append("bom")
    if not _endings(fixed) <= _endings(text):
        broken.append("line_endings")
    return broken


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--count", type=int, default=2000, help="stop after this many mutants had a fix applied (default 2000)"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed: the same seed gives the same mutants")
    parser.add_argument("--jobs", type=int, default=1, help="processes (default 1)")
    parser.add_argument(
        "--corpus", type=Path, default=DEFAULT_CORPUS, help="extra seeds (default ../shared/corpus when present)"
    )
    parser.add_argument("--examples", type=Path, help="write up to 3 failing mutants per kind into this directory")
    parser.add_argument(
        "--real",
        action="store_true",
        help="instead of fuzzing: run `unroot fix` twice on a temporary copy of --corpus and check each file",
    )
    args = parser.parse_args(argv)
    began = time.monotonic()
    if args.real:
        result = real_check(args.corpus)
        result["seconds"] = round(time.monotonic() - began, 1)
        print(json.dumps(result, indent=2))
        counts = result["violations"]
        return 1 if isinstance(counts, dict) and any(counts.values()) else 0
    seeds = load_seeds([ROOT / "tests", ROOT / "examples", args.corpus])
    tally = fuzz(seeds, args.count, args.seed, args.jobs)
    report = {
        "seeds": len(seeds),
        "mutants": tally.mutants,
        "fixed_files": tally.fixed,
        "fixes_applied": tally.fixes,
        "violations": {kind: tally.violations.get(kind, 0) for kind in KINDS},
        "powers_removed_issue_13": {kind: tally.powers.get(kind, 0) for kind in POWERS},
        "seconds": round(time.monotonic() - began, 1),
    }
    print(json.dumps(report, indent=2))
    if args.examples is not None:
        args.examples.mkdir(parents=True, exist_ok=True)
        for kind, items in tally.examples.items():
            for number, item in enumerate(items):
                (args.examples / f"{kind}-{number}.json").write_text(json.dumps(item, indent=2))
    return 1 if any(tally.violations.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
