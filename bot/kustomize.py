"""`unroot check` builds each kustomize overlay (when kustomize is installed) and reports what only the build shows.

The CLI only: the App never runs kustomize (its image has no binary, and a repository's
kustomizations are untrusted input). A build runs with a time limit, without network (no git
on PATH, proxies pointed at a closed port) and with `--load-restrictor LoadRestrictionsRootOnly`;
overlays that would run code or fetch charts (`helmCharts:`, `generators:`, `transformers:`) or
name remote bases are not built, with a notice saying so. See rules/docs/kustomize.md.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bot.knowledge import repository_root, tree_listing
from rules.analyze import analyze, skipped
from rules.kustomize import Kustomization, closure, is_kustomization, kustomizations, overlays
from rules.model import Finding, Options

BUILD_SECONDS = 30
MAX_OUTPUT_BYTES = 20_000_000
_CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens: a fetch fails at once
# `key: value` of a rendered line, `- item` of a rendered list.
_SETTING = re.compile(r"^\s*(?:-\s+)?(?P<key>[\w.$/-]+):\s*(?P<value>\S.*?)\s*$")
_ITEM = re.compile(r"^\s*-\s+(?P<value>[^\s:#]+)\s*$")


@dataclass(frozen=True)
class Builder:
    """How to run kustomize here: `kustomize build` or `kubectl kustomize`."""

    command: tuple[str, ...]

    def build(self, directory: Path, timeout: float = BUILD_SECONDS) -> str:
        """The overlay's output; raises BuildError with kustomize's reason."""
        with tempfile.TemporaryDirectory(prefix="unroot-kustomize-") as home:
            binary_dir = str(Path(self.command[0]).parent)
            environment = {
                "PATH": binary_dir,  # no git: remote bases cannot be cloned
                "HOME": home,
                "HTTP_PROXY": _CLOSED_PORT,
                "HTTPS_PROXY": _CLOSED_PORT,
                "NO_PROXY": "",
                "KUBECONFIG": os.devnull,
            }
            try:
                done = subprocess.run(
                    [*self.command, "--load-restrictor", "LoadRestrictionsRootOnly", str(directory)],
                    capture_output=True,
                    timeout=timeout,
                    env=environment,
                    cwd=home,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise BuildError(f"kustomize build took longer than {timeout:g} s") from None
            except OSError as error:
                raise BuildError(f"kustomize could not run: {error}") from None
        if done.returncode != 0:
            lines = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
            reason = lines[-1] if lines else f"exit {done.returncode}"
            # kubectl logs `E1202 ... run.go:72] "command failed" err="<kustomize's reason>"`.
            raise BuildError(f"kustomize build failed: {reason.split(' err=', 1)[-1].strip(chr(34))[:300]}")
        if len(done.stdout) > MAX_OUTPUT_BYTES:
            raise BuildError(f"kustomize build output over {MAX_OUTPUT_BYTES:,} bytes")
        return done.stdout.decode("utf-8", errors="replace")


class BuildError(RuntimeError):
    """An overlay that kustomize did not build; the message says why."""


def find_builder() -> Builder | None:
    """kustomize, else kubectl (which embeds it), from PATH; None when neither is installed."""
    kustomize = shutil.which("kustomize")
    if kustomize:
        return Builder((kustomize, "build"))
    kubectl = shutil.which("kubectl")
    return Builder((kubectl, "kustomize")) if kubectl else None


Shown = set[tuple[str, str, str, str, str]]


def _key(finding: Finding, path: str = "") -> tuple[str, str, str, str, str]:
    """What a finding is about, independent of line: rule, kind, name, container, and its file."""
    kind, _, name = (finding.workload or "").partition("/")
    return finding.rule, kind, name, finding.container or "", path


def _shown(finding: Finding, shown: Shown, built_from: set[str]) -> bool:
    """A source file already shows it: same rule, kind and container, in a file the overlay is built
    from or on an object whose name the rendered one ends with (a `namePrefix` only adds to it)."""
    rule, kind, name, container, _ = _key(finding)
    return any(
        (r, k, c) == (rule, kind, container) and (p in built_from or name.endswith(n)) for r, k, n, c, p in shown
    )


def _setting_at(text: str, line: int) -> tuple[str, str] | None:
    """The `key: value` the rendered line holds, if it is one."""
    lines = text.splitlines()
    if not 0 < line <= len(lines):
        return None
    match = _SETTING.match(lines[line - 1])
    if match and match.group("value") not in ("|", ">", "|-", ">-"):
        return match.group("key"), match.group("value").strip("\"'")
    return None


def _source_line(setting: tuple[str, str], files: Sequence[tuple[str, str]]) -> tuple[str, int] | None:
    """The first file (patches before bases) and line that writes `setting`, as YAML or JSON 6902."""
    key, wanted = setting
    for path, text in files:
        lines = text.splitlines()
        for number, line in enumerate(lines, 1):
            match = _SETTING.match(line)
            if not match:
                continue
            found_key, found = match.group("key").strip("\"'"), match.group("value").strip("\"',")
            if found_key == key and found == wanted:
                return path, number
            # JSON 6902: `path: .../<key>` followed (or preceded) by `value: <wanted>`.
            if found_key == "path" and found.rstrip("/").endswith("/" + key):
                for near in (number - 1, number + 1):
                    other = _SETTING.match(lines[near - 1]) if 0 < near <= len(lines) else None
                    if other and other.group("key") == "value" and other.group("value").strip("\"'") == wanted:
                        return path, near
    return None


@dataclass(frozen=True)
class OverlayReport:
    """What building the overlays gave: findings to add, and counts for the summary."""

    findings: tuple[Finding, ...]
    built: int
    refused: int
    unmapped: int


def _readable(root: Path, path: str) -> str | None:
    try:
        return (root / path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _overlay_findings(
    overlay: Kustomization,
    found: list[Kustomization],
    rendered: str,
    root: Path,
    options: Options,
    shown: Shown,
    name_of: dict[str, str],
) -> tuple[list[Finding], int]:
    """Findings of the built overlay that no source file shows, placed on the patch or base line that
    set the value, else on the overlay's kustomization file."""
    chain = closure(overlay, found)
    sources: list[tuple[str, str]] = []
    for kustomization in chain:  # patches first: a value they set wins over the base's
        sources += [(p, t) for p in kustomization.patches if (t := _readable(root, p)) is not None]
    for kustomization in chain:
        sources += [(kustomization.path, t) for t in [_readable(root, kustomization.path)] if t is not None]
        sources += [(p, t) for p in kustomization.resources if (t := _readable(root, p)) is not None]
    built = f"{overlay.directory or '.'} (kustomize build)"
    built_from = {path for path, _text in sources}
    findings: list[Finding] = []
    unmapped = 0
    for finding in analyze(f"{built}.yaml", rendered, replace(options, knowledge=None)):
        if finding.rule == "UR001" or _shown(finding, shown, built_from):
            continue
        setting = _setting_at(rendered, finding.line)
        place = _source_line(setting, sources) if setting else None
        if place is None:
            unmapped += 1
            place = (overlay.path, 1)
        path, line = place
        message = f"Built overlay {overlay.directory or '.'}: {finding.message}"
        findings.append(
            replace(finding, path=name_of.get(path, path), line=line, end_line=line, message=message, fix=None)
        )
    return findings, unmapped


def overlay_findings(
    paths: Sequence[str], files: Iterable[Path], options: Options, shown_by_files: Iterable[Finding]
) -> OverlayReport:
    """Build every overlay among `files` (kustomizations no other one uses as a base) and report the
    findings that only the build shows; none when kustomize is not installed."""
    builder = find_builder()
    root = repository_root(paths)
    files = list(files)
    if builder is None or root is None or not any(is_kustomization(f.name) for f in files):
        return OverlayReport((), 0, 0, 0)
    name_of: dict[str, str] = {}
    for file in files:
        try:
            name_of[file.resolve().relative_to(root).as_posix()] = file.as_posix()
        except ValueError:
            continue
    texts = {p: t for p in tree_listing(root) if is_kustomization(p) and (t := _readable(root, p)) is not None}
    found = kustomizations(texts)
    relative = {shown_as: path for path, shown_as in name_of.items()}
    shown = {_key(f, relative.get(f.path, f.path)) for f in shown_by_files if f.rule != "UR001"}
    result: list[Finding] = []
    built = refused = unmapped = 0
    for overlay in overlays(found):
        if overlay.path not in name_of:
            continue  # not among the files checked
        shown_path = name_of[overlay.path]
        if overlay.unsafe or any(k.unsafe or k.remote for k in closure(overlay, found)):
            refused += 1
            result.append(
                skipped(
                    shown_path,
                    "overlay not built: it uses helm charts, plugins or remote bases, which unroot does not run",
                )
            )
            continue
        try:
            rendered = builder.build(root / (overlay.directory or "."))
        except BuildError as error:
            refused += 1
            result.append(skipped(shown_path, f"overlay not built: {error}"))
            continue
        built += 1
        findings, missed = _overlay_findings(overlay, found, rendered, root, options, shown, name_of)
        unmapped += missed
        result.extend(findings)
    unique = {(f.path, f.line, f.rule, f.subject): f for f in result}
    return OverlayReport(tuple(unique.values()), built, refused, unmapped)
