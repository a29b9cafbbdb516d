"""UR101 dockerfile-root-user: the final stage's last USER is root, UID 0, or a name given UID 0."""

from __future__ import annotations

from rules.dockerfile.start_hints import start_notes
from rules.dockerfile.user import FinalStage, is_root, stage_label
from rules.dockerfile.user_fix import root_fix
from rules.model import FileKind, Finding, FixAvailability, Rule, Severity

RULE = Rule(
    "UR101",
    "dockerfile-root-user",
    FileKind.DOCKERFILE,
    Severity.ERROR,
    "The final stage runs as root",
    "The last USER of the image's final stage is root (or UID 0), so every process in the "
    "container runs as root: a breakout or a writable host mount is then root on the node.",
    FixAvailability.SOMETIMES,
    "No fix when the entrypoint drops root itself (gosu, su-exec, setpriv, s6-overlay, official "
    "docker-entrypoint.sh) or the Dockerfile is a base other images extend: the message says what to do.",
)

MESSAGE = "The final {label} runs as {user}{where}; switch to a numeric non-root user before CMD/ENTRYPOINT."
INHERITED = " (set in {stage}, inherited)"
ROOT_ALIAS = ", a name this Dockerfile gives UID 0: root under another name"


def check(final: FinalStage) -> list[Finding]:
    """Reported at that USER; the fix creates a user and switches to it (see user_fix.root_fix)."""
    setting = final.setting
    if setting is None or not final.user_is_root:
        return []
    assert setting.instruction is not None
    where = "" if setting.stage is final.stage else INHERITED.format(stage=stage_label(setting.stage))
    if not is_root(setting.user):
        where += ROOT_ALIAS
    message = MESSAGE.format(label=final.label, user=setting.user, where=where) + start_notes(final)
    return [
        RULE.finding(
            final.path,
            setting.instruction.start_line,
            message,
            end_line=setting.instruction.end_line,
            fix=root_fix(final),
            subject=final.label,
        )
    ]
