"""UR103 dockerfile-non-numeric-user: the final stage runs as a non-root user given by name."""

from __future__ import annotations

from rules.dockerfile.user import FinalStage, UserSetting, numeric
from rules.dockerfile.user_fix import anchor, numeric_fix
from rules.model import FileKind, Finding, FixAvailability, Rule, Severity, Variant

RULE = Rule(
    "UR103",
    "dockerfile-non-numeric-user",
    FileKind.DOCKERFILE,
    Severity.WARNING,
    "The final user is a name, not a number",
    "Kubernetes cannot check a user name against runAsNonRoot: the kubelet refuses to start "
    'the pod ("image has non-numeric user ... cannot verify user is non-root").',
    FixAvailability.SOMETIMES,
    "Only when the name's number is known: the Dockerfile creates it with an explicit ID, the name "
    "has the same ID in every image, or it is the base image's documented user.",
)


class Ur103(Variant):
    """Where the name comes from."""

    USER = "user"  # a USER instruction
    BASE_IMAGE = "base-image"  # no USER: the base image's configured user


MESSAGES = {
    Ur103.USER: (
        "The final {label} runs as user '{user}', a name: Kubernetes runAsNonRoot cannot "
        'verify it ("image has non-numeric user"); use the numeric UID.'
    ),
    Ur103.BASE_IMAGE: (
        "The final {label} runs as user '{user}' from {base}, a name: Kubernetes "
        "runAsNonRoot cannot verify it; set USER to the numeric UID."
    ),
}


def check(final: FinalStage) -> list[Finding]:
    """Reported at the USER line, or for a base image's user where the fix would add a USER."""
    if not final.runs_non_root:
        return []  # root is UR101's or UR102's; a user from a build argument cannot be judged
    setting = final.setting
    if setting is None:
        user = final.base_user.user
        if numeric(user):
            return []
        line, _ = anchor(final.stage)
        message = MESSAGES[Ur103.BASE_IMAGE].format(label=final.label, user=user, base=final.chain[0].base)
        fix = numeric_fix(final, UserSetting(user, None, None, final.stage))
        return [RULE.finding(final.path, line, message, fix=fix, subject=final.label, variant=Ur103.BASE_IMAGE)]
    if numeric(setting.user):
        return []
    assert setting.instruction is not None
    message = MESSAGES[Ur103.USER].format(label=final.label, user=setting.user)
    return [
        RULE.finding(
            final.path,
            setting.instruction.start_line,
            message,
            end_line=setting.instruction.end_line,
            fix=numeric_fix(final, setting),
            subject=final.label,
            variant=Ur103.USER,
        )
    ]
