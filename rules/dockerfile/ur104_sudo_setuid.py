"""UR104 dockerfile-sudo-setuid: a RUN that installs or uses sudo, or sets a setuid/setgid bit."""

from __future__ import annotations

import enum
import re

from rules.dockerfile.user import FinalStage, is_root, run_texts, stage_label
from rules.model import FileKind, Finding, Fix, FixAvailability, LineEdit, Rule, Severity

RULE = Rule(
    "UR104",
    "dockerfile-sudo-setuid",
    FileKind.DOCKERFILE,
    Severity.WARNING,
    "sudo or setuid binaries in the image",
    "sudo and setuid binaries let a non-root process become root again inside the "
    "container, which undoes the USER switch.",
    FixAvailability.SOMETIMES,
    "Only a plain `sudo` prefix on a step that already runs as root is dropped; installing sudo, "
    "sudoers entries and setuid bits need the author.",
)

# `sudo` in command position: at a line start or after ; & | ( or a backtick.
# `[ \t]*`, not `\s*`: with MULTILINE, `\s*` would rescan every blank line after each line start.
_SUDO_COMMAND = re.compile(r"(?:^|(?<=[;&|(`]))([ \t]*)sudo(?:[ \t]+-[A-Za-z]+)*[ \t]+", re.MULTILINE)
# sudo that only runs the command (no -u/-g/-i/-s): dropping it changes nothing for root.
_SUDO_PLAIN = re.compile(r"^sudo(?:\s+-[EHnS]+)*$")
_SUDO_INSTALL = re.compile(
    r"\b(?:apt-get|apt|yum|dnf|microdnf|apk|zypper|tdnf)\b[^;&|]*?\b(?:install|add)\b[^;&|]*?(?<![\w-])sudo(?![\w-])"
)
_CHMOD_SETID = re.compile(r"\bchmod\s+(?:-[A-Za-z]+\s+)*(?:[ugoa]*[+=][rwxXt]*s[rwxXt]*|0?[246][0-7]{3})(?=\s)")


class Reason(enum.Enum):
    """What a RUN does that gives root back; one finding names every reason its RUN has."""

    INSTALLS_SUDO = "installs sudo"
    RUNS_SUDO = "runs a command with sudo"
    SETS_SETUID = "sets a setuid/setgid bit with chmod"


MESSAGE = "RUN in {label} {reasons}; a non-root process could use it to regain root."
FIX_SUMMARY = "Drop sudo: this step already runs as root"


def _reasons(text: str) -> list[Reason]:
    found: list[Reason] = []
    if _SUDO_INSTALL.search(text):
        found.append(Reason.INSTALLS_SUDO)
    if _SUDO_COMMAND.search(text):
        found.append(Reason.RUNS_SUDO)
    if _CHMOD_SETID.search(text):
        found.append(Reason.SETS_SETUID)
    return found


def check(final: FinalStage) -> list[Finding]:
    """Every RUN of the final stage and the stages it is built FROM (not other builder stages)."""
    findings: list[Finding] = []
    for stage in final.chain:
        for instruction, text in run_texts(stage):
            label = stage_label(stage)
            reasons = _reasons(text)
            if not reasons:
                continue
            fix: Fix | None = None
            user = final.users_before_run.get(instruction.start_line)
            plain = all(_SUDO_PLAIN.match(m.group(0).strip()) for m in _SUDO_COMMAND.finditer(text))
            if (
                reasons == [Reason.RUNS_SUDO]
                and plain
                and user is not None
                and is_root(user)
                and not instruction.heredocs
            ):
                # The build already runs as root here, so sudo does nothing but add a binary.
                lines = final.df.lines[instruction.start_line - 1 : instruction.end_line]
                keyword = re.match(r"\s*\S+\s+", lines[0])
                cut = keyword.end() if keyword else 0
                fixed = [lines[0][:cut] + _SUDO_COMMAND.sub(r"\1", lines[0][cut:])]
                fixed += [_SUDO_COMMAND.sub(r"\1", line) for line in lines[1:]]
                edit = LineEdit(instruction.start_line, instruction.end_line, "\n".join(fixed) + "\n")
                fix = Fix(FIX_SUMMARY, (edit,))
            message = MESSAGE.format(label=label, reasons=" and ".join(reason.value for reason in reasons))
            findings.append(
                RULE.finding(
                    final.path, instruction.start_line, message, end_line=instruction.end_line, fix=fix, subject=label
                )
            )
    return findings
