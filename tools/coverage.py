"""Measure the share of workload definitions unroot reads in checked-out repositories, by kind.

Usage: python -m tools.coverage DIR... [--jobs N] [--samples N] [--tsv FILE]

Definitions are found by a lenient reading of our own (each YAML document composed on its own,
failures counted, not fatal) and an independent table of kinds (tools/workload_kinds.py). A
definition counts as read when unroot's analysis of its file says something about it: a pod spec
inside its lines, a finding on its lines, or a UR001 notice for the whole file. Files below a
directory holding Chart.yaml are Helm chart templates, and the services of docker-compose files
(by name: compose.yaml, docker-compose.override.yml, …) are containers too: both are counted
apart, outside the target.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode

from rules.analyze import analyze_bytes, file_kind
from rules.kubernetes.discovery import pod_specs
from rules.kubernetes.parse import ManifestError, load_documents
from rules.model import FileKind, Finding
from tools.repo_files import relative, walk
from tools.workload_kinds import COMPOSE_SERVICE, KINDS, Definition, compose_services, find, line_span

_DOCUMENT_START = re.compile(r"^---(?:[ \t].*)?$", re.MULTILINE)
_KIND_LINE = re.compile(r"^kind:[ \t]*[\"']?([A-Za-z]+)", re.MULTILINE)
# Kinds a document that fails to parse is still counted as, from its `kind:` line alone (not
# `Service`: without its apiVersion a Knative Service cannot be told from a core one).
_TABLE_KINDS = {kind: label for (_suffix, kind), (label, _f) in reversed(KINDS.items()) if kind != "Service"}
HELM = "Helm"
# docker-compose files by name, as Docker Compose looks for them (plus the `-override`/`.dev` variants).
_COMPOSE_NAME = re.compile(r"^(?:.*[-_.])?compose(?:[-_.].*)?\.ya?ml$", re.IGNORECASE)
UNPARSED = " (unparsed)"


@dataclass(frozen=True)
class Chunk:
    """One YAML document's text and the 0-based line it starts on in its file."""

    text: str
    first_line: int


def chunks(text: str, is_json: bool) -> list[Chunk]:
    """The documents of a stream, split at `---` lines so one bad document spoils only itself."""
    if is_json:
        return [Chunk(text, 0)]
    starts = [0] + [match.start() for match in _DOCUMENT_START.finditer(text) if match.start() > 0]
    pieces: list[Chunk] = []
    for begin, end in zip(starts, starts[1:] + [len(text)]):
        pieces.append(Chunk(text[begin:end], text.count("\n", 0, begin)))
    return pieces


@dataclass
class FileDefinitions:
    """What the lenient reading found in one file."""

    definitions: list[Definition] = field(default_factory=list)
    empty_workloads: list[str] = field(default_factory=list)
    failed_documents: int = 0


def _shift(definition: Definition, lines: int) -> Definition:
    return replace(definition, start_line=definition.start_line + lines, end_line=definition.end_line + lines)


def _unparsed(chunk: Chunk) -> Definition | None:
    """A document that does not parse but plainly names a workload kind still defines one."""
    match = _KIND_LINE.search(chunk.text)
    if match is None or match.group(1) not in _TABLE_KINDS:
        return None
    lines = chunk.text.count("\n")
    return Definition(_TABLE_KINDS[match.group(1)] + UNPARSED, "?", chunk.first_line + 1, chunk.first_line + lines + 1)


def read_definitions(text: str, is_json: bool, compose: bool = False) -> FileDefinitions:
    """Every workload definition of a file's text (compose services for a compose file), documents
    that fail to parse counted and skipped."""
    result = FileDefinitions()
    loader = YAML(typ="safe", pure=False)
    for chunk in chunks(text, is_json):
        try:
            documents = [d for d in loader.compose_all(chunk.text) if isinstance(d, MappingNode)]
        except (YAMLError, RecursionError, ValueError):
            result.failed_documents += 1
            unparsed = _unparsed(chunk)
            if unparsed is not None:
                result.definitions.append(unparsed)
            continue
        for document in documents:
            if compose:
                result.definitions.extend(_shift(d, chunk.first_line) for d in compose_services(document))
                continue
            found = find(document)
            result.definitions.extend(_shift(d, chunk.first_line) for d in found.definitions)
            result.empty_workloads.extend(found.empty_workloads)
    return result


def unroot_pod_lines(text: str) -> list[tuple[int, int]]:
    """The 1-based line spans of the pod specs unroot's own parser yields for the text."""
    try:
        documents = load_documents(text)
        specs = [pod.spec for document in documents for pod in pod_specs(document)]
    except ManifestError:
        return []
    return [line_span(spec) for spec in specs]


def is_read(definition: Definition, findings: Sequence[Finding], pod_lines: Iterable[tuple[int, int]]) -> bool:
    """Whether unroot said anything about this definition (see the module docstring)."""
    if any(f.rule == "UR001" for f in findings):
        return True
    inside = range(definition.start_line, definition.end_line + 1)
    if any(start in inside and end in inside for start, end in pod_lines):
        return True
    return any(f.line in inside for f in findings)


@dataclass(frozen=True)
class Outcome:
    """One definition and whether unroot read it."""

    path: str
    definition: Definition
    scope: str  # "target", or one of the kinds measured apart: "helm", "compose"
    read: bool


@dataclass
class FileResult:
    """Everything measured of one file."""

    outcomes: list[Outcome] = field(default_factory=list)
    empty_workloads: list[str] = field(default_factory=list)
    failed_documents: int = 0
    crashed: str | None = None  # an exception unroot raised on the file (a bug to report)


def measure_file(job: tuple[str, str, str]) -> FileResult:
    """Definitions of one file and which of them unroot read (a worker-process entry point)."""
    path, display, scope = job
    data = Path(path).read_bytes()
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    found = read_definitions(text, path.lower().endswith(".json"), compose=scope == "compose")
    result = FileResult([], found.empty_workloads, found.failed_documents)
    if not found.definitions:
        return result
    try:
        findings = analyze_bytes(display, data)
        pod_lines = unroot_pod_lines(text)
    except Exception as error:  # a crash is a measured result, not the end of the run
        result.crashed = f"{type(error).__name__}: {error}"
        findings, pod_lines = [], []
    for definition in found.definitions:
        kind = f"{HELM} {definition.kind}" if scope == "helm" else definition.kind
        result.outcomes.append(
            Outcome(display, replace(definition, kind=kind), scope, is_read(definition, findings, pod_lines))
        )
    return result


def chart_directories(files: Iterable[Path]) -> set[Path]:
    """Directories holding a Chart.yaml: everything below them is a Helm chart."""
    return {path.parent for path in files if path.name == "Chart.yaml"}


def in_chart(path: Path, charts: set[Path]) -> bool:
    """Whether the file sits below a chart directory."""
    return any(parent in charts for parent in path.parents)


def scope_of(path: Path, charts: set[Path]) -> str:
    """Which table a file's definitions go to: compose files and Helm charts are measured apart."""
    if _COMPOSE_NAME.match(path.name):
        return "compose"
    return "helm" if in_chart(path, charts) else "target"


def jobs_for(roots: Sequence[Path]) -> list[tuple[str, str, str]]:
    """(path, display path, scope) for every manifest-named file of the repositories."""
    jobs: list[tuple[str, str, str]] = []
    for root in roots:
        files = list(walk(root))
        charts = chart_directories(files)
        for path in files:
            if file_kind(path.name) in (FileKind.KUBERNETES, FileKind.COMPOSE):
                jobs.append((str(path), relative(path, root), scope_of(path, charts)))
    return jobs


@dataclass
class Tally:
    """Counts by kind."""

    defined: Counter[str] = field(default_factory=Counter)
    read: Counter[str] = field(default_factory=Counter)
    empty: Counter[str] = field(default_factory=Counter)
    unread_files: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_repo: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    failed_documents: int = 0
    crashes: list[tuple[str, str]] = field(default_factory=list)

    def add(self, display: str, result: FileResult) -> None:
        """Fold one file's result in."""
        self.failed_documents += result.failed_documents
        self.empty.update(result.empty_workloads)
        if result.crashed:
            self.crashes.append((display, result.crashed))
        repo = display.split("/", 1)[0]
        for outcome in result.outcomes:
            kind = outcome.definition.kind
            self.defined[kind] += 1
            scope = outcome.scope
            self.by_repo[repo][f"{scope} defined"] += 1
            if outcome.read:
                self.read[kind] += 1
                self.by_repo[repo][f"{scope} read"] += 1
            else:
                self.unread_files[kind][outcome.path] += 1


def _share(read: int, defined: int) -> str:
    return f"{100 * read / defined:5.1f}%" if defined else "    -"


def _table(tally: Tally, kinds: list[str], title: str) -> list[str]:
    lines = [f"{title:<44} {'defined':>8} {'read':>6} {'share':>7}"]
    for kind in kinds:
        lines.append(
            f"{kind:<44} {tally.defined[kind]:>8} {tally.read[kind]:>6} {_share(tally.read[kind], tally.defined[kind]):>7}"
        )
    defined = sum(tally.defined[k] for k in kinds)
    read = sum(tally.read[k] for k in kinds)
    lines.append(f"{'TOTAL':<44} {defined:>8} {read:>6} {_share(read, defined):>7}")
    return lines


def report(tally: Tally, samples: int) -> list[str]:
    """The printed report: the target table, the Helm table, per repository, then unread samples."""
    target = sorted((k for k in tally.defined if not k.startswith(HELM)), key=lambda k: (-tally.defined[k], k))
    helm = sorted((k for k in tally.defined if k.startswith(HELM)), key=lambda k: (-tally.defined[k], k))
    target = [k for k in target if k != COMPOSE_SERVICE]
    lines = ["== Workload definitions outside Helm charts (the target) ==", *_table(tally, target, "kind")]
    lines += ["", "== Helm chart templates (not in the target) ==", *_table(tally, helm, "kind")]
    lines += ["", "== docker-compose files (not in the target) ==", *_table(tally, [COMPOSE_SERVICE], "kind")]
    lines += ["", "== By repository: read/defined in the target, in Helm charts, in compose files =="]
    for repo, counts in sorted(tally.by_repo.items()):
        target_share = _share(counts["target read"], counts["target defined"])
        lines.append(
            f"{repo:<28} {counts['target read']:>5}/{counts['target defined']:<5} {target_share}"
            f"   helm {counts['helm read']:>4}/{counts['helm defined']:<4}"
            f"   compose {counts['compose read']:>3}/{counts['compose defined']}"
        )
    lines += [
        "",
        f"Objects of a workload kind that define no pod (patches, operator defaults): {sum(tally.empty.values())}",
    ]
    lines += [f"  {kind}: {count}" for kind, count in tally.empty.most_common()]
    lines += [f"YAML/JSON documents that failed the lenient reading (skipped): {tally.failed_documents}"]
    lines += [f"unroot raised on {len(tally.crashes)} files", *(f"  {path}: {error}" for path, error in tally.crashes)]
    lines += ["", "== Unread definitions outside Helm: files by kind (sample) =="]
    for kind in target:
        files = tally.unread_files.get(kind)
        if files:
            lines.append(f"{kind}: {sum(files.values())} definitions in {len(files)} files")
            lines += [f"  {path} ({count})" for path, count in sorted(files.items())[:samples]]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Print the coverage report for the repositories named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("roots", nargs="+", type=Path, help="checked-out repositories")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--samples", type=int, default=5, help="unread file paths listed per kind (default 5)")
    parser.add_argument("--tsv", type=Path, help="also write every definition as path, lines, kind, name, read")
    args = parser.parse_args(argv)
    jobs = jobs_for(args.roots)
    if args.jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(measure_file, jobs, chunksize=16))
    else:
        results = [measure_file(job) for job in jobs]
    tally = Tally()
    rows: list[str] = []
    for (_path, display, _scope), result in zip(jobs, results):
        tally.add(display, result)
        for o in result.outcomes:
            d = o.definition
            rows.append(f"{o.path}\t{d.start_line}-{d.end_line}\t{d.kind}\t{d.name}\t{'read' if o.read else 'unread'}")
    if args.tsv:
        args.tsv.write_text("".join(row + "\n" for row in sorted(rows)), encoding="utf-8")
    print("\n".join(report(tally, args.samples)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
