"""UR306 compose-hardening: a service that keeps Docker's default capabilities or can gain privileges."""

from __future__ import annotations

from ruamel.yaml.nodes import SequenceNode

from rules.compose.checker import ALIASED, FileContext, interpolate, scalar
from rules.compose.edit import add_entries, add_item, as_fix
from rules.compose.parse import Entry, Service
from rules.compose.ur301_root_user import fix_writes_numeric_user, is_root
from rules.kubernetes.nodes import Rewriter
from rules.model import FileKind, Finding, Fix, FixAvailability, Rule, Severity

RULE = Rule(
    "UR306",
    "compose-hardening",
    FileKind.COMPOSE,
    Severity.NOTICE,
    "The service does not drop capabilities or forbid privilege escalation",
    "Without `cap_drop: [ALL]` the service keeps Docker's default capabilities, and without "
    "`security_opt: [no-new-privileges:true]` a setuid binary can make any of its processes root.",
    FixAvailability.SOMETIMES,
    "`cap_drop: [ALL]` is added only for a service that runs as a non-root user (or that UR301's fix "
    "gives one): a root entrypoint "
    "(one that chowns files or switches user) needs some of the default capabilities.",
)

MESSAGE = "{label} does not set {missing}: hardening beyond Docker's defaults.{notes}"
NO_CAP_DROP_FIX = (
    " cap_drop: [ALL] is not added for you: the service does not set a non-root user:, and a root"
    " process usually needs some default capabilities; drop ALL and cap_add back the ones it uses."
)
NNP_OFF = " It sets no-new-privileges:false, so no fix turns it on; remove that if nothing needs setuid."
NO_FIX_LAYOUT = " No fix offered: the service is written in a layout unroot cannot edit safely; add them by hand."
CAP_DROP = "cap_drop: [ALL]"
NO_NEW_PRIVILEGES = "security_opt: [no-new-privileges:true]"
_NNP_ON = frozenset({"no-new-privileges", "no-new-privileges:true", "no-new-privileges=true"})


def _options(entry: Entry | None) -> list[str] | None:
    """The scalar items of a list entry, resolved; None when there is no such list."""
    if entry is None or not isinstance(entry.value, SequenceNode):
        return None
    items = [scalar(item) for item in entry.value.value]
    return [(interpolate(text).text or text).strip() for text in items if text is not None]


def _runs_as_non_root(service: Service) -> bool:
    """True when the service's own `user:` names a user that is not root (as far as the text tells)."""
    entry = service.get("user")
    text = scalar(entry.value) if entry else None
    resolved = interpolate(text).text if text is not None else None
    return bool(resolved) and not is_root(resolved or "")


def check(context: FileContext, service: Service) -> list[Finding]:
    """One notice per service lacking either setting; a service built by `extends` is left to its base."""
    if service.get("extends") is not None:
        return []  # what it inherits may live in another file
    security_opt, cap_drop = service.get("security_opt"), service.get("cap_drop")
    options, drops = _options(security_opt), _options(cap_drop)
    lacks_nnp = not any(option.lower() in _NNP_ON for option in options or [])
    lacks_drop = "ALL" not in [name.upper() for name in drops or []]
    if not (lacks_nnp or lacks_drop):
        return []
    missing = [text for text, lacking in ((CAP_DROP, lacks_drop), (NO_NEW_PRIVILEGES, lacks_nnp)) if lacking]
    notes = ""
    wanted: list[tuple[str, Entry | None, str]] = []  # (what, the list to extend or None to add it, item)
    # Counting UR301's new numeric user in keeps `unroot fix` idempotent: a second run would add it.
    if lacks_drop and (_runs_as_non_root(service) or fix_writes_numeric_user(context, service)):
        wanted.append((CAP_DROP, cap_drop, "ALL"))
    elif lacks_drop:
        notes += NO_CAP_DROP_FIX
    if lacks_nnp and any(option.lower().replace("=", ":") == "no-new-privileges:false" for option in options or []):
        notes += NNP_OFF
    elif lacks_nnp:
        wanted.append((NO_NEW_PRIVILEGES, security_opt, '"no-new-privileges:true"'))
    fix = _fix(context, service, wanted) if wanted else None
    if wanted and fix is None:
        notes += ALIASED if _aliased(service, wanted) else NO_FIX_LAYOUT
    message = MESSAGE.format(label=service.label, missing=" or ".join(missing), notes=notes)
    return [
        RULE.finding(
            context.path,
            context.line_of(service, None),
            message,
            fix=fix,
            subject=service.label,
            container=service.name,
        )
    ]


def _aliased(service: Service, wanted: list[tuple[str, Entry | None, str]]) -> bool:
    """True when an edit would land in text that other services share."""
    return not service.own_node or any(entry is not None and not service.editable(entry) for _, entry, _ in wanted)


def _fix(context: FileContext, service: Service, wanted: list[tuple[str, Entry | None, str]]) -> Fix | None:
    """One edit adding each wanted setting: a new key, or a first item of the list already there."""
    if _aliased(service, wanted):
        return None
    rewriter = Rewriter(context.lines)
    new_entries: list[tuple[str, str]] = []
    for _what, entry, item in wanted:
        if entry is None:
            new_entries.append((item_key(item), f"[{item}]"))
        elif not add_item(rewriter, entry, item):
            return None
    if new_entries and not add_entries(rewriter, service, new_entries):
        return None
    return as_fix(rewriter, "Add " + " and ".join(what for what, _, _ in wanted))


def item_key(item: str) -> str:
    """Which list an item belongs in."""
    return "cap_drop" if item == "ALL" else "security_opt"
