"""One entry point: (path, bytes or text) -> findings, choosing the analyser by file name."""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace

from rules.dockerfile import family as dockerfile_family
from rules.fixes import reconcile
from rules.kubernetes import family as kubernetes_family
from rules.kubernetes.nodes import first_line, last_line, shared_nodes
from rules.kubernetes.parse import YAML_ONLY_BREAKS, ManifestError, load_documents, looks_like_template, pod_specs
from rules.model import FileKind, Finding, Fix, Options
from rules.ur001_file_skipped import skipped as skipped  # UR001's notice, re-exported: callers reach it here

_DOCKERFILE = re.compile(r"^(?:(?:docker|container)file(?:\..+)?|.+\.(?:docker|container)file)$", re.IGNORECASE)
_MANIFEST = re.compile(r"\.(?:ya?ml|json)$", re.IGNORECASE)
_BOM = "\ufeff"
_NO_FIX_BREAKS = (
    "(No fix offered: the file contains Unicode line separators (U+0085, U+2028 or U+2029), which "
    "YAML counts as line breaks and editors do not; edit it by hand.)"
)
_TEMPLATE = "a template with {{ }} placeholders (Helm or similar); render it and check the output instead"


def file_kind(path: str) -> FileKind | None:
    """Which analyser reads `path`, from its name alone; None for files we do not read."""
    name = posixpath.basename(path.replace("\\", "/"))
    if _DOCKERFILE.match(name):
        return FileKind.DOCKERFILE
    if _MANIFEST.search(name):
        return FileKind.KUBERNETES
    return None


def decode(path: str, data: bytes, options: Options) -> str | Finding:
    """The file's text, or the notice that says why it cannot be read."""
    if len(data) > options.max_bytes:
        return skipped(path, f"{len(data):,} bytes is over the {options.max_bytes:,}-byte limit")
    if b"\x00" in data[:8192]:
        return skipped(path, "binary file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return skipped(path, f"not valid UTF-8 (byte {error.start})")
    return text


def analyze_bytes(path: str, data: bytes, options: Options | None = None) -> list[Finding]:
    """Analyse raw file content as read from disk or from GitHub."""
    options = options or Options()
    if file_kind(path) is None:
        return []
    text = decode(path, data, options)
    if isinstance(text, Finding):
        return [text]
    return analyze(path, text, options)


def _manifest_findings(path: str, text: str, options: Options) -> list[Finding]:
    if "apiVersion" not in text or "containers" not in text:
        return []  # cannot hold a workload; skip the parse
    try:
        documents = load_documents(text)
        pods = [pod for document in documents for pod in pod_specs(document)]
    except ManifestError as error:
        if looks_like_template(text):
            return [skipped(path, _TEMPLATE)]
        return [skipped(path, str(error))]
    if not pods:
        return []
    lines = tuple(re.split(r"\r\n|\r|\n", text))
    for pod in pods:
        node = pod.object_node
        if any("{{" in line for line in lines[first_line(node) - 1 : last_line(node)]):
            # Placeholders inside a workload (`name: web-{{uid}}`) mean a template, not a manifest.
            return [skipped(path, _TEMPLATE)]
    # Aliases need an anchor (&) and a reference (*); without both no node is shared.
    shared = shared_nodes(list(documents)) if "&" in text and "*" in text else frozenset()
    findings = kubernetes_family.check(path, pods, lines, options, shared)
    if any(char in text for char in YAML_ONLY_BREAKS):
        # A node after such a break sits at one column for YAML and another for an editor:
        # an inserted block could land at the wrong depth, so no edit is offered.
        return [replace(f, fix=None, message=f"{f.message} {_NO_FIX_BREAKS}") if f.fix else f for f in findings]
    return findings


def analyze(path: str, text: str, options: Options | None = None) -> list[Finding]:
    """Findings for one file's text, with config applied, sorted by line."""
    options = options or Options()
    kind = file_kind(path)
    if kind is None:
        return []
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:  # lone surrogates: not text any parser can read
        return [skipped(path, f"not valid Unicode text (character {error.start})")]
    if text.startswith(_BOM):
        text = text[1:]
    if kind is FileKind.DOCKERFILE:
        findings = dockerfile_family.analyze(path, text, options)
    elif kind is FileKind.KUBERNETES:
        findings = _manifest_findings(path, text, options)
    else:
        return []
    overrides = dict(options.severity_overrides)
    result = [
        replace(f, severity=overrides[f.rule]) if f.rule in overrides else f
        for f in findings
        if f.rule not in options.disabled
    ]
    return sorted(_consistent_fixes(text, result), key=lambda f: (f.line, f.rule))


def _consistent_fixes(text: str, findings: list[Finding]) -> list[Finding]:
    """Fixes whose edits overlap are composed, so that applying all of a file's fixes works."""
    fixes = [f.fix.edits for f in findings if f.fix is not None]
    mapping = reconcile(text, fixes)
    if all(mapping[edit] == edit for edits in fixes for edit in edits):
        return findings
    result: list[Finding] = []
    for finding in findings:
        if finding.fix is None:
            result.append(finding)
            continue
        composed = [mapping[edit] for edit in finding.fix.edits]
        if any(edit is None for edit in composed):
            result.append(replace(finding, fix=None))
            continue
        unique = tuple(dict.fromkeys(edit for edit in composed if edit is not None))
        result.append(replace(finding, fix=Fix(finding.fix.summary, unique)))
    return result
