"""Kustomizations read as repository knowledge: which files are patches, which are bases, which are overlays.

Pure: a caller hands over the texts of the kustomization files (`is_kustomization` picks them
out of a listing, and `rules.repository.mapping_paths` asks for them) and gets their patch
files as repository-relative POSIX paths. See rules/docs/kustomize.md.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

KUSTOMIZATION_NAMES = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})
KUSTOMIZATION_KINDS = frozenset({"Kustomization", "Component"})
# Keys that run code or fetch charts when kustomize builds: the CLI refuses to build such an overlay.
UNSAFE_KEYS = ("helmCharts", "helmChartInflationGenerator", "generators", "transformers", "validators")


@dataclass(frozen=True)
class Kustomization:
    """What one kustomization file names, each path from the repository root."""

    path: str
    patches: tuple[str, ...]  # patch files (strategic merge or JSON 6902, decided by content)
    bases: tuple[str, ...]  # resources and components that are directories: other kustomizations
    unsafe: tuple[str, ...]  # UNSAFE_KEYS it uses
    resources: tuple[str, ...] = ()  # resources that are files
    remote: bool = False  # it names a remote base or resource (a URL), which a build would fetch
    component: bool = False  # `kind: Component`: built only as part of a kustomization that names it

    @property
    def directory(self) -> str:
        """The directory kustomize builds, from the repository root ("" for the root)."""
        return posixpath.dirname(self.path)


def is_kustomization(path: str) -> bool:
    """A file kustomize reads as the kustomization of its directory, by name."""
    return posixpath.basename(path) in KUSTOMIZATION_NAMES


def _load(text: str) -> object:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe", pure=False).load(text)
    except (YAMLError, ValueError, TypeError, RecursionError):
        return None  # a kustomization we cannot read names nothing


def _join(directory: str, relative: str) -> str:
    """`relative` from `directory`, from the repository root; "" when it is remote or leaves the repository."""
    if "://" in relative or relative.startswith(("github.com/", "git@", "/")) or "?ref=" in relative:
        return ""
    joined = posixpath.normpath(posixpath.join(directory, relative))
    return "" if joined == ".." or joined.startswith("../") else joined.removeprefix("./")


def _file_reference(entry: object) -> str | None:
    """A path a patch entry names: a string, or a mapping's `path`; inline patch text is not a path."""
    if isinstance(entry, dict):
        entry = entry.get("path")
    if not isinstance(entry, str) or "\n" in entry or not entry.strip():
        return None
    return entry.strip()


def read(path: str, text: str) -> Kustomization | None:
    """The kustomization at `path`; None when its text is not one."""
    document = _load(text)
    if not isinstance(document, dict):
        return None
    kind = document.get("kind")
    if kind is not None and kind not in KUSTOMIZATION_KINDS:
        return None
    directory = posixpath.dirname(path)
    patches: list[str] = []
    for key in ("patchesStrategicMerge", "patches", "patchesJson6902"):
        entries = document.get(key)
        for entry in entries if isinstance(entries, list) else []:
            reference = _file_reference(entry)
            target = _join(directory, reference) if reference else ""
            if target:
                patches.append(target)
    bases: list[str] = []
    resources: list[str] = []
    remote = False
    for key in ("resources", "bases", "components"):
        entries = document.get(key)
        for entry in entries if isinstance(entries, list) else []:
            target = _join(directory, entry) if isinstance(entry, str) else ""
            remote = remote or (isinstance(entry, str) and not target and ("://" in entry or "github.com/" in entry))
            if target.endswith((".yaml", ".yml", ".json")):
                resources.append(target)
            elif target:
                bases.append(target)
    unsafe = tuple(key for key in UNSAFE_KEYS if document.get(key))
    return Kustomization(
        path,
        tuple(dict.fromkeys(patches)),
        tuple(dict.fromkeys(bases)),
        unsafe,
        tuple(dict.fromkeys(resources)),
        remote,
        kind == "Component",
    )


def kustomizations(texts: Mapping[str, str]) -> list[Kustomization]:
    """Every kustomization among `texts` (path -> text), by path."""
    found = (read(path, texts[path]) for path in sorted(texts) if is_kustomization(path))
    return [k for k in found if k is not None]


def patch_files(texts: Mapping[str, str]) -> frozenset[str]:
    """The files the kustomizations among `texts` use as patches, from the repository root."""
    return frozenset(patch for k in kustomizations(texts) for patch in k.patches)


def closure(top: Kustomization, found: Iterable[Kustomization]) -> list[Kustomization]:
    """`top` and every kustomization it builds on, through bases and components, each once."""
    by_directory = {k.directory: k for k in found}
    seen: dict[str, Kustomization] = {}
    pending = [top]
    while pending:
        current = pending.pop()
        if current.directory in seen:
            continue
        seen[current.directory] = current
        pending.extend(by_directory[base] for base in current.bases if base in by_directory)
    return list(seen.values())


def overlays(found: Iterable[Kustomization]) -> list[Kustomization]:
    """The kustomizations no other one uses as a base or component: the ones a person builds."""
    found = list(found)
    used = {base for k in found for base in k.bases}
    return [k for k in found if k.directory not in used and not k.component]
