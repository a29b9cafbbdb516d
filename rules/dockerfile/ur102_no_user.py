"""UR102 dockerfile-no-user: the final stage never sets USER, and its base image runs as root."""

from __future__ import annotations

from rules.dockerfile.start_hints import start_notes
from rules.dockerfile.user import FinalStage
from rules.dockerfile.user_fix import anchor, root_fix
from rules.model import FileKind, Finding, FixAvailability, Rule, Severity

RULE = Rule(
    "UR102",
    "dockerfile-no-user",
    FileKind.DOCKERFILE,
    Severity.ERROR,
    "The final stage never sets USER and its base image runs as root",
    "Without USER an image runs as its base image's user, which is root for almost every "
    "public base image (and always for scratch).",
    FixAvailability.SOMETIMES,
    "No fix when the entrypoint drops root itself (gosu, su-exec, setpriv, s6-overlay, official "
    "docker-entrypoint.sh) or the Dockerfile is a base other images extend: the message says what to do.",
)

MESSAGE = "The final {label} never sets USER, so it runs as the base image's user, root for {base}."


def check(final: FinalStage) -> list[Finding]:
    """Reported at the first CMD/ENTRYPOINT (else the last instruction), where the fix adds the switch."""
    if final.setting is not None or final.runs_non_root:
        return []  # a base image whose user is unknown counts as root, as Docker runs it
    line, _ = anchor(final.stage)
    base = final.chain[0].base or "this image"
    if final.base_built_by is not None:
        base = f"{base} (built by {final.base_built_by})"
    message = MESSAGE.format(label=final.label, base=base) + start_notes(final)
    return [RULE.finding(final.path, line, message, fix=root_fix(final), subject=final.label)]
