"""UR301 compose-root-user: a service whose `user:` is root (`root`, `0`, `0:0`, `root:group`)."""

from __future__ import annotations

from ruamel.yaml.nodes import ScalarNode, SequenceNode

from rules.compose.checker import ALIASED, FileContext, inherited_from, interpolate, scalar
from rules.compose.edit import as_fix, delete_entry, quoted, replace_value
from rules.compose.parse import Service
from rules.images import default_user, parse_image
from rules.kubernetes.nodes import Rewriter
from rules.model import FileKind, Finding, Fix, FixAvailability, Rule, Severity, Variant

RULE = Rule(
    "UR301",
    "compose-root-user",
    FileKind.COMPOSE,
    Severity.ERROR,
    "The service runs as root",
    "`user: root` (or UID 0) makes the service's processes root: a breakout from the container, "
    "or a writable host mount, is then root on the host.",
    FixAvailability.SOMETIMES,
    "A service that mounts volumes may need root to write them, and a value from an environment "
    "variable or a YAML anchor is not the service's own line to change: those get no fix.",
)


class Ur301(Variant):
    """Which case of UR301 a finding is."""

    ROOT = "root"  # `user:` is root as written
    ROOT_BY_DEFAULT = "root-by-default"  # `user:` is root when its variable is unset


MESSAGES = {
    Ur301.ROOT: "{label} runs as root (user: {user}){inherited}.",
    Ur301.ROOT_BY_DEFAULT: "{label} runs as root unless {variables} is set (user: {user} defaults to {value}).",
}
NO_FIX_VOLUMES = (
    " No fix offered: it mounts volumes, and what root wrote there may not be writable by another user;"
    " give the files to a non-root UID (chown) and set user: to it."
)
NO_FIX_VARIABLE = (
    " No fix offered: the value comes from the environment; give the variable a non-root default"
    " ({example}) where it is used, and a non-root value where it is set."
)
NO_FIX_LAYOUT = " No fix offered: the key shares its line with others; remove it by hand."
FIX_NUMERIC = 'Run as user "{uid}:{gid}" (the image must work as an arbitrary non-root user)'
FIX_IMAGE_USER = "Remove user: {user}, so the image's own non-root user ({image_user}) applies"
FIX_BUILT = "Remove user: {user}, so the USER of the Dockerfile it builds applies (unroot checks it there)"


def is_root(user: str) -> bool:
    """True for `root`, `0` and either as the user part of `user:group`."""
    name = user.strip().split(":", 1)[0].strip()
    return name == "root" or (name.isdigit() and int(name) == 0)


def check(context: FileContext, service: Service) -> list[Finding]:
    """One finding when the service's user is root; its fix depends on what else the service says."""
    entry = service.get("user")
    written = scalar(entry.value) if entry else None
    if entry is None or written is None:
        return []
    resolved = interpolate(written)
    if resolved.text is None or not is_root(resolved.text):
        return []
    line = context.line_of(service, entry)
    if resolved.variables:
        example = "${" + resolved.variables[0] + ":-" + f"{context.options.uid}:{context.options.gid}" + "}"
        message = MESSAGES[Ur301.ROOT_BY_DEFAULT].format(
            label=service.label, variables=", ".join(resolved.variables), user=written, value=resolved.text
        )
        return [
            RULE.finding(
                context.path,
                line,
                message + NO_FIX_VARIABLE.format(example=example),
                subject=service.label,
                variant=Ur301.ROOT_BY_DEFAULT,
                container=service.name,
            )
        ]
    message = MESSAGES[Ur301.ROOT].format(label=service.label, user=written, inherited=inherited_from(entry))
    fix: Fix | None = None
    if not service.editable(entry):
        message += ALIASED
    elif _mounts_volumes(service):
        message += NO_FIX_VOLUMES
    else:
        fix = _fix(context, service)
        if fix is None:
            message += NO_FIX_LAYOUT
    return [
        RULE.finding(
            context.path, line, message, fix=fix, subject=service.label, variant=Ur301.ROOT, container=service.name
        )
    ]


def fix_writes_numeric_user(context: FileContext, service: Service) -> bool:
    """True when this rule's fix for the service writes the numeric non-root `user:` (so other
    rules' fixes may count on it: fixing twice must change nothing the second time)."""
    findings = check(context, service)
    return bool(findings) and findings[0].fix is not None and findings[0].fix.summary.startswith("Run as user")


def _mounts_volumes(service: Service) -> bool:
    """True when the service lists any volume (named, bind or anonymous)."""
    entry = service.get("volumes")
    return entry is not None and isinstance(entry.value, SequenceNode) and bool(entry.value.value)


def _fix(context: FileContext, service: Service) -> Fix | None:
    """Hand the choice back to the image where it has one; otherwise a numeric non-root user."""
    entry = service.get("user")
    assert entry is not None
    user = scalar(entry.value)
    rewriter = Rewriter(context.lines)
    if service.get("build") is not None:
        return as_fix(rewriter, FIX_BUILT.format(user=user)) if delete_entry(rewriter, service, entry) else None
    image_entry = service.get("image")
    image = scalar(image_entry.value) if image_entry else None
    if image and interpolate(image).text == image:
        known = default_user(parse_image(image))
        if known.uid and delete_entry(rewriter, service, entry):
            return as_fix(rewriter, FIX_IMAGE_USER.format(user=user, image_user=f"{known.user}, UID {known.uid}"))
    uid, gid = context.options.uid, context.options.gid
    like = entry.value if isinstance(entry.value, ScalarNode) else None
    replace_value(rewriter, entry, quoted(f"{uid}:{gid}", like))
    return as_fix(rewriter, FIX_NUMERIC.format(uid=uid, gid=gid))
