"""One entry point: (path, bytes or text) -> findings, choosing the analyser by file name."""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace

from rules.fixes import reconcile
from rules.model import Deferred, FileKind, Finding, Fix, LineEdit, Options
from rules.ur001_file_skipped import BINARY, too_large
from rules.ur001_file_skipped import skipped as skipped  # UR001's notice, re-exported: callers reach it here

# `Dockerfile`, `Dockerfile.prod`, `Dockerfile-debug`, `Dockerfile_base`, `api.dockerfile`, and the
# same with `Containerfile`.
_DOCKERFILE = re.compile(r"^(?:(?:docker|container)file(?:[.\-_].+)?|.+\.(?:docker|container)file)$", re.IGNORECASE)
# Names that carry "Dockerfile" but are not one: generator inputs that a tool turns into the real
# file (`Dockerfile.template`, `Dockerfile.j2`), REUSE licence companions (`Dockerfile.license`),
# BuildKit's per-Dockerfile ignore list (`Dockerfile.dockerignore`), notes, backups and patches.
_NOT_DOCKERFILE = re.compile(
    r"\.(?:template|tmpl|tpl|j2|jinja2?|erb|mustache|hbs|gotmpl|in|license|dockerignore|md|txt|rst|"
    r"orig|rej|bak|swp|patch|diff|sh|py|json|ya?ml)$",
    re.IGNORECASE,
)
# compose.yaml, docker-compose.yml and their variants (docker-compose.override.yml, compose.prod.yaml).
_COMPOSE = re.compile(r"^(?:docker-)?compose(?:\.[^/]+)?\.ya?ml$", re.IGNORECASE)
_MANIFEST = re.compile(r"\.(?:ya?ml|json)$", re.IGNORECASE)
_BOM = "\ufeff"


def file_kind(path: str) -> FileKind | None:
    """Which analyser reads `path`, from its name alone; None for files we do not read."""
    name = posixpath.basename(path.replace("\\", "/"))
    if _DOCKERFILE.match(name) and not _NOT_DOCKERFILE.search(name):
        return FileKind.DOCKERFILE
    if _COMPOSE.match(name):
        return FileKind.COMPOSE
    if _MANIFEST.search(name):
        return FileKind.KUBERNETES
    return None


def decode(path: str, data: bytes, options: Options) -> str | Finding:
    """The file's text, or the notice that says why it cannot be read."""
    if len(data) > options.max_bytes:
        return skipped(path, too_large(len(data), options.max_bytes))
    if b"\x00" in data[:8192]:
        return skipped(path, BINARY)
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
    # Each family is imported when a file of its kind comes: an editor or pre-commit hook runs
    # `unroot check` once per file, and a Dockerfile need not pay for the YAML parser.
    if kind is FileKind.DOCKERFILE:
        from rules.dockerfile import family as dockerfile_family

        findings = dockerfile_family.analyze(path, text, options)
    elif kind is FileKind.COMPOSE:
        from rules.compose import family as compose_family

        findings = compose_family.analyze(path, text, options) or []
    elif kind is FileKind.KUBERNETES:
        findings = _manifest(path, text, options)
    else:
        return []
    overrides = dict(options.severity_overrides)
    result = [
        replace(f, severity=overrides[f.rule]) if f.rule in overrides else f
        for f in findings
        if f.rule not in options.disabled
    ]
    return sorted(_consistent_fixes(text, result), key=lambda f: (f.line, f.rule))


def _manifest(path: str, text: str, options: Options) -> list[Finding]:
    """A YAML or JSON file of any other name: a compose file if it has the shape of one, else Kubernetes."""
    if path.lower().endswith((".yaml", ".yml")):
        from rules.compose import family as compose_family
        from rules.compose.parse import may_be_compose

        if may_be_compose(text):
            found = compose_family.analyze(path, text, options, by_name=False)
            if found is not None:
                return found
    from rules.kubernetes import family as kubernetes_family

    return kubernetes_family.analyze(path, text, options)


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


def deferred_edits(path: str, fixed: str, options: Options | None, findings: list[Finding]) -> list[LineEdit]:
    """The second pass of a fix: the edits of the findings that waited for the first pass's (Deferred), found
    again in the `fixed` text. Nothing else is applied, so a finding fixed by the first pass stays fixed."""
    waiting = {(f.rule, f.subject) for f in findings if f.variant is Deferred.AFTER_OTHER_FIXES}
    if not waiting:
        return []
    again = analyze(path, fixed, options)
    return [edit for f in again if f.fix is not None and (f.rule, f.subject) in waiting for edit in f.fix.edits]
