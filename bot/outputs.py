"""What the bot posts, as data: review comments, annotations, check outputs, and the plan that holds them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rules.model import Finding, LineEdit

CHECK_NAME = "unroot"  # the check run's name, which a protected branch requires
RERUN_IDENTIFIER = "rerun"  # the Re-run button's identifier, sent back in a requested_action event

Conclusion = Literal["success", "failure", "cancelled"]
ReviewEvent = Literal["COMMENT", "REQUEST_CHANGES"]
AnnotationLevel = Literal["notice", "warning", "failure"]


@dataclass(frozen=True)
class ReviewComment:
    """One inline review comment, anchored on the RIGHT side of the diff."""

    path: str
    line: int  # last line of the range
    start_line: int | None  # only for multi-line comments: < line, same hunk, start_side RIGHT
    body: str  # Markdown, ending with the hidden fingerprint marker(s)
    fingerprints: tuple[str, ...]


@dataclass(frozen=True)
class Annotation:
    """One check run annotation."""

    path: str
    start_line: int
    end_line: int
    annotation_level: AnnotationLevel
    title: str
    message: str
    raw_details: str | None


@dataclass(frozen=True)
class Plan:
    """Everything the bot will say about one head commit."""

    comments: tuple[ReviewComment, ...]
    review_body: str  # "" when there is nothing new to say (then no review is posted)
    review_event: ReviewEvent
    annotations: tuple[Annotation, ...]
    conclusion: Conclusion
    title: str
    summary: str
    fingerprints: frozenset[str]  # of every current finding


@dataclass(frozen=True)
class Button:
    """The check run's Re-run button (GitHub's "requested action", identified by RERUN_IDENTIFIER)."""

    label: str  # at most 20 characters
    description: str  # at most 40 characters


@dataclass(frozen=True)
class CheckOutput:
    """A check run's title and summary, and its Re-run button if it has one."""

    title: str
    summary: str
    button: Button | None = None


@dataclass(frozen=True)
class Group:
    """Findings that one comment covers: those whose fixes touch overlapping lines, or a single finding."""

    path: str
    findings: tuple[Finding, ...]
    fingerprints: tuple[str, ...]
    edits: tuple[LineEdit, ...]

    @property
    def rank(self) -> int:
        return max(f.severity.rank for f in self.findings)

    @property
    def summaries(self) -> list[str]:
        return list(dict.fromkeys(f.fix.summary for f in self.findings if f.fix is not None))

    @property
    def line(self) -> int:
        return min(max(f.line, 1) for f in self.findings)
