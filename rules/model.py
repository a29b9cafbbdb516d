"""The analysis vocabulary: severities, rules, findings and fixes as frozen data."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rules.repository import RepoKnowledge


class Severity(enum.Enum):
    """How bad a finding is; every level means one thing (see rules/docs/severity.md)."""

    ERROR = "error"  # the container runs as root or with root-equivalent power
    WARNING = "warning"  # any other violation of the Pod Security "restricted" standard
    NOTICE = "notice"  # hardening beyond the standard, or a file that was skipped

    @property
    def rank(self) -> int:
        """Higher is worse; used for sorting and thresholds."""
        return {Severity.NOTICE: 0, Severity.WARNING: 1, Severity.ERROR: 2}[self]


class FileKind(enum.Enum):
    """Which analyser a rule belongs to."""

    DOCKERFILE = "dockerfile"
    KUBERNETES = "kubernetes"
    COMPOSE = "compose"
    ANY = "any"


class FixAvailability(enum.Enum):
    """Whether `unroot fix` repairs a rule's findings (ruff's FixAvailability)."""

    # Every finding carries a fix, short of files no edit can be trusted on (aliases, odd line breaks).
    ALWAYS = "always"
    SOMETIMES = "sometimes"  # only some cases have a safe edit; the rule's fix_reason says which
    NEVER = "never"  # no finding carries a fix; the rule's fix_reason says why


class Variant(enum.Enum):
    """Base of each rule's variants: which of its cases a finding is, so callers need not read messages.

    A rule module defines its own subclass (`class Ur206(Variant): ADDS_DANGEROUS = ...`).
    """


class Deferred(Variant):
    """A finding whose fix waits until the file's other fixes are applied (they edit the same lines first):
    `unroot fix` applies it in a second pass, the App offers it on the next push."""

    AFTER_OTHER_FIXES = "after-other-fixes"


@dataclass(frozen=True)
class Rule:
    """One check: a stable ID plus the text a user reads about it."""

    id: str
    name: str
    kind: FileKind
    severity: Severity
    title: str
    why: str
    fix_availability: FixAvailability = FixAvailability.ALWAYS
    # Why the fix is not always there; the catalogue test insists on one exactly when it is not.
    fix_reason: str | None = None

    def __post_init__(self) -> None:
        if (self.fix_availability is FixAvailability.ALWAYS) != (self.fix_reason is None):
            raise ValueError(f"{self.id}: a fix_reason is needed exactly when fixes are not always offered")

    @property
    def docs_path(self) -> str:
        """Path of the rule's docs page, relative to the repository root."""
        return f"rules/docs/{self.id}.md"

    def finding(
        self,
        path: str,
        line: int,
        message: str,
        *,
        end_line: int | None = None,
        fix: Fix | None = None,
        subject: str = "",
        severity: Severity | None = None,
        variant: Variant | None = None,
        workload: str | None = None,
        container: str | None = None,
    ) -> Finding:
        """A finding of this rule at `line` (through `end_line`), at the rule's severity unless given."""
        return Finding(
            self.id,
            severity or self.severity,
            path,
            line,
            line if end_line is None else end_line,
            message,
            fix,
            subject,
            variant,
            workload,
            container,
        )


@dataclass(frozen=True)
class LineEdit:
    """Replace lines start_line..end_line (1-based, inclusive) with `replacement`.

    `replacement` is the exact new text of those lines with "\\n" line endings (the
    applier converts them to the file's own); "" deletes the lines.
    """

    start_line: int
    end_line: int
    replacement: str


@dataclass(frozen=True)
class Fix:
    """A minimal change that resolves a finding, as data."""

    summary: str
    edits: tuple[LineEdit, ...]


@dataclass(frozen=True)
class Finding:
    """One problem at exact lines of one file."""

    rule: str
    severity: Severity
    path: str
    line: int
    end_line: int
    message: str
    fix: Fix | None = None
    # What the finding is about ("stage 'runtime'", "container 'app' in Deployment/web"): part of
    # its fingerprint, so two findings of one rule on the same lines stay apart.
    subject: str = ""
    # Structured facts for callers that must not parse the message (none of them is in the JSON):
    variant: Variant | None = None  # which case of its rule this is, for rules with several
    workload: str | None = None  # the Kubernetes object, "Deployment/web"
    container: str | None = None  # the container's name, for a finding about one container

    def to_json(self) -> dict[str, object]:
        """The stable JSON shape documented in DESIGN.md section 3."""
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "path": self.path,
            "line": self.line,
            "end_line": self.end_line,
            "message": self.message,
            "fix": None
            if self.fix is None
            else {
                "summary": self.fix.summary,
                "edits": [
                    {"start_line": e.start_line, "end_line": e.end_line, "replacement": e.replacement}
                    for e in self.fix.edits
                ],
            },
        }


@dataclass(frozen=True)
class Options:
    """What a caller may tune about the analysis; defaults are the documented ones."""

    uid: int = 10001
    gid: int = 10001
    max_bytes: int = 1_000_000
    disabled: frozenset[str] = field(default_factory=frozenset)
    severity_overrides: tuple[tuple[str, Severity], ...] = ()
    # The images the repository builds and who they run as (rules.repository); None: not known.
    knowledge: RepoKnowledge | None = None
    # OpenShift: fixes set runAsNonRoot: true and leave runAsUser, runAsGroup and fsGroup to the
    # restricted-v2 SCC, which assigns them from the namespace's range.
    openshift: bool = False
