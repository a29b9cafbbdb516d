"""Dockerfile rules: who the final image runs as, and what gives root back."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from rules.dockerfile.parse import Dockerfile, Instruction, Stage, expand, parse, walk
from rules.images import WELL_KNOWN_USERS, DefaultUser, Distro, default_user, distro_of, parse_image
from rules.model import FileKind, Finding, Fix, FixAvailability, LineEdit, Options, Rule, Severity

ROOT_USER = Rule(
    "UR101",
    "dockerfile-root-user",
    FileKind.DOCKERFILE,
    Severity.ERROR,
    "The final stage runs as root",
    "The last USER of the image's final stage is root (or UID 0), so every process in the "
    "container runs as root: a breakout or a writable host mount is then root on the node.",
)
NO_USER = Rule(
    "UR102",
    "dockerfile-no-user",
    FileKind.DOCKERFILE,
    Severity.ERROR,
    "The final stage never sets USER and its base image runs as root",
    "Without USER an image runs as its base image's user, which is root for almost every "
    "public base image (and always for scratch).",
)
NON_NUMERIC_USER = Rule(
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
SUDO_SETUID = Rule(
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
PRIVILEGED_PORT = Rule(
    "UR105",
    "dockerfile-privileged-port",
    FileKind.DOCKERFILE,
    Severity.WARNING,
    "A non-root image exposes a port below 1024",
    "A process that is not root cannot bind a port below 1024 without NET_BIND_SERVICE; "
    "listen on an unprivileged port such as 8080 instead.",
    FixAvailability.NEVER,
    "The port the application listens on must change with it; only its author can do that.",
)

RULES: tuple[Rule, ...] = (ROOT_USER, NO_USER, NON_NUMERIC_USER, SUDO_SETUID, PRIVILEGED_PORT)

_USER_NAME = "appuser"
# `sudo` in command position: at a line start or after ; & | ( or a backtick.
# `[ \t]*`, not `\s*`: with MULTILINE, `\s*` would rescan every blank line after each line start.
_SUDO_COMMAND = re.compile(r"(?:^|(?<=[;&|(`]))([ \t]*)sudo(?:[ \t]+-[A-Za-z]+)*[ \t]+", re.MULTILINE)
# sudo that only runs the command (no -u/-g/-i/-s): dropping it changes nothing for root.
_SUDO_PLAIN = re.compile(r"^sudo(?:\s+-[EHnS]+)*$")
# Copying into these system paths is installing, not app files: never chgrp them.
_SYSTEM_PATHS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/var/lib", "/opt/conda")
_SUDO_INSTALL = re.compile(
    r"\b(?:apt-get|apt|yum|dnf|microdnf|apk|zypper|tdnf)\b[^;&|]*?\b(?:install|add)\b[^;&|]*?(?<![\w-])sudo(?![\w-])"
)
_CHMOD_SETID = re.compile(r"\bchmod\s+(?:-[A-Za-z]+\s+)*(?:[ugoa]*[+=][rwxXt]*s[rwxXt]*|0?[246][0-7]{3})(?=\s)")
_CREATE_USER = re.compile(r"\b(useradd|adduser|usermod)\b([^;&|]*)")
# A passwd line written by hand (`echo 'admin:x:0:0::/:/bin/sh' >> /etc/passwd`): name and UID.
_PASSWD_LINE = re.compile(r"(?<![\w.-])([A-Za-z_][\w.-]*):[^:\s]*:(\d+):")
_CREATE_GROUP = re.compile(r"\b(groupadd|addgroup)\b([^;&|]*)")
_DISTRO_HINTS = (
    (re.compile(r"\bapk\s+(add|update|upgrade)\b"), Distro.ALPINE),
    (re.compile(r"\b(apt-get|apt)\s+(install|update|upgrade)\b"), Distro.DEBIAN),
    (re.compile(r"\b(dnf|yum|microdnf)\s+(install|update|upgrade)\b"), Distro.RHEL),
    (re.compile(r"\bzypper\b"), Distro.SUSE),
)


@dataclass(frozen=True)
class _UserSetting:
    """The USER in effect and where it came from."""

    user: str  # the user part, expanded
    group: str | None
    instruction: Instruction | None  # None: the base image's default
    stage: Stage


def _split_user(spec: str) -> tuple[str, str | None]:
    user, sep, group = spec.strip().strip("\"'").partition(":")
    return user, (group if sep else None)


def _numeric(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts '➍' and '²', which int() and Docker refuse."""
    return text.isascii() and text.isdigit()


def _is_root(user: str) -> bool:
    return user == "root" or (_numeric(user) and int(user) == 0)


def _stage_label(stage: Stage) -> str:
    return f"stage '{stage.alias}'" if stage.alias else f"stage {stage.index + 1} (FROM {stage.base})"


def _user_steps(chain: list[Stage]) -> tuple[_UserSetting | None, dict[int, str | None]]:
    """One pass over the chain: the last USER, and the user part in effect before each RUN
    (keyed by the RUN's start line; None when it depends on a build argument)."""
    found: _UserSetting | None = None
    before_run: dict[int, str | None] = {}
    current: str | None = "root"
    for stage in chain:
        for instruction, variables in walk(stage):
            if instruction.keyword == "RUN":
                before_run[instruction.start_line] = current
            elif instruction.keyword == "USER":
                expanded = expand(instruction.value.strip(), variables)
                if expanded is None:
                    user, group = "", None  # depends on a build argument we cannot know
                else:
                    user, group = _split_user(expanded)
                found = _UserSetting(user, group, instruction, stage)
                current = user or None
    return found, before_run


def _run_texts(stage: Stage) -> list[tuple[Instruction, str]]:
    """Each RUN with its command text, heredoc bodies included."""
    return [
        (i, "\n".join((i.value, *i.heredocs)))
        for i in stage.instructions
        if i.keyword == "RUN"
    ]


def _distro(chain: list[Stage]) -> Distro:
    distro = distro_of(parse_image(chain[0].base))
    if distro is not Distro.UNKNOWN:
        return distro
    for stage in chain:
        for _instruction, text in _run_texts(stage):
            for pattern, hinted in _DISTRO_HINTS:
                if pattern.search(text):
                    return hinted
    return Distro.UNKNOWN


def _option_value(args: list[str], short: str, long: str) -> str | None:
    for index, arg in enumerate(args):
        if arg in (short, long) and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(long + "="):
            return arg.split("=", 1)[1]
        if short and arg.startswith(short) and len(arg) > len(short) and _numeric(arg[len(short)]):
            return arg[len(short) :]
    return None


def _known_ids(chain: list[Stage]) -> tuple[dict[str, int], dict[str, int]]:
    """User and group names the Dockerfile creates with an explicit numeric ID."""
    users: dict[str, int] = {}
    groups: dict[str, int] = {}
    for stage in chain:
        for _instruction, text in _run_texts(stage):
            for pattern, table in ((_CREATE_USER, users), (_CREATE_GROUP, groups)):
                for match in pattern.finditer(text):
                    try:
                        args = shlex.split(match.group(2).replace("\\\n", " "))
                    except ValueError:
                        continue
                    names = [a for a in args if not a.startswith("-")]
                    number = _option_value(args, "-u", "--uid") if table is users else _option_value(args, "-g", "--gid")
                    if number and _numeric(number) and names:
                        # The name is the last positional; a preceding positional is an option's value.
                        table[names[-1]] = int(number)
            if "/etc/passwd" in text:
                for name, number in _PASSWD_LINE.findall(text):
                    users[name] = int(number)
    return users, groups


def _root_alias(chain: list[Stage], user: str) -> bool:
    """True when `user` is a name the Dockerfile itself gives UID 0 (`useradd -o -u 0 admin`)."""
    return not _numeric(user) and _known_ids(chain)[0].get(user) == 0


def _copy_destinations(stage: Stage, before_line: int) -> list[str]:
    """Absolute destinations of COPY/ADD in `stage` before `before_line`."""
    destinations: list[str] = []
    workdir = "/"
    for instruction in stage.instructions:
        if instruction.start_line >= before_line:
            break
        if instruction.keyword == "WORKDIR":
            target = instruction.value.strip().strip("\"'")
            workdir = target if target.startswith("/") else workdir.rstrip("/") + "/" + target
        elif instruction.keyword in ("COPY", "ADD") and not instruction.heredocs:
            value = instruction.value.strip()
            if "--from" in value:
                continue  # build artifacts, usually installed into system paths
            if value.startswith("["):
                tokens = [t.strip().strip("\"'") for t in value.strip("[]").split(",")]
            else:
                tokens = [t for t in value.split() if not t.startswith("--")]
            if len(tokens) < 2 or "$" in tokens[-1]:
                continue
            dest = tokens[-1]
            if not dest.startswith("/"):
                dest = workdir.rstrip("/") + "/" + (dest if dest not in (".", "./") else "")
            dest = dest.rstrip("/") or "/"
            system = any(dest == p or dest.startswith(p + "/") for p in _SYSTEM_PATHS)
            if dest != "/" and not system and dest not in destinations:
                destinations.append(dest)
    return destinations


def switch_user_lines(distro: Distro, uid: int, gid: int, writable: list[str]) -> list[str]:
    """Lines that create a non-root user with the image's own tools and switch to it."""
    name = _USER_NAME
    create: str | None
    if distro in (Distro.DEBIAN, Distro.RHEL):
        create = f"groupadd --system --gid {gid} {name} && useradd --system --uid {uid} --gid {gid} --no-create-home {name}"
    elif distro is Distro.ALPINE:
        create = f"addgroup -S -g {gid} {name} && adduser -S -D -H -u {uid} -G {name} {name}"
    elif distro is Distro.SUSE:
        create = (
            "zypper --non-interactive install --no-recommends shadow && "
            f"groupadd --system --gid {gid} {name} && useradd --system --uid {uid} --gid {gid} --no-create-home {name}"
        )
    else:
        create = None  # no shell (scratch, distroless) or unknown: a numeric USER needs no passwd entry
    lines: list[str] = []
    if create is not None:
        commands = [create]
        if writable:
            paths = " ".join(writable)
            # OpenShift runs images as an arbitrary UID in group 0: let group 0 write the app files.
            commands.append(f"chgrp -R 0 {paths} && chmod -R g=u {paths}")
        lines.append("RUN " + " \\\n    && ".join(commands))
    lines.append(f"USER {uid}:{gid}")
    return lines


def _anchor(stage: Stage) -> tuple[int, bool]:
    """Line to put a USER switch at: (line, before) — before CMD/ENTRYPOINT, else after the stage's end."""
    for instruction in stage.instructions:
        if instruction.keyword in ("CMD", "ENTRYPOINT"):
            return instruction.start_line, True
    last = stage.instructions[-1].end_line if stage.instructions else stage.from_line
    return last, False


def _stage_end(df: Dockerfile, stage: Stage) -> int:
    """The last line a final stage owns: the file's last non-blank line.

    An instruction's end_line stops before a heredoc body, and a stage without
    instructions ends where its FROM starts even when the FROM continues with `\\`;
    the final stage runs to the end of the file, so that is where to append.
    """
    for index in range(len(df.lines), 0, -1):
        if df.lines[index - 1].strip():
            return index
    return stage.from_line


def _appends_cleanly(df: Dockerfile, line: int, block: list[str]) -> bool:
    """True when `block` put after `line` is read back as the final stage's last instructions.

    It is not when the file ends inside a `\\` continuation or an unterminated heredoc
    (whose delimiter is case-sensitive): the lines would become part of what is open.
    """
    reparsed = parse("\n".join((*df.lines[:line], *block)) + "\n")
    final = reparsed.final
    if final is None or len(reparsed.stages) != len(df.stages) or len(final.instructions) < len(block):
        return False
    tail = final.instructions[-len(block) :]
    start = line + 1
    for instruction, text in zip(tail, block):
        if instruction.keyword != text.split(None, 1)[0] or instruction.start_line != start:
            return False
        start += text.count("\n") + 1  # a block line may continue with `\\` onto more lines
    return True


def _insert_fix(df: Dockerfile, stage: Stage, block: list[str], summary: str, after: int = 0) -> Fix | None:
    """Put `block` before the stage's CMD/ENTRYPOINT, or at its end when there is none
    or when an instruction it must follow (line `after`) comes later."""
    line, before = _anchor(stage)
    if not before or line < after:
        line, before = _stage_end(df, stage), False
        if not _appends_cleanly(df, line, block):
            return None
    original = df.lines[line - 1]
    text = "\n".join(block)
    replacement = f"{text}\n{original}\n" if before else f"{original}\n{text}\n"
    return Fix(summary, (LineEdit(line, line, replacement),))


def _root_fix(df: Dockerfile, chain: list[Stage], setting: _UserSetting | None, options: Options) -> Fix | None:
    """Create a non-root user and switch to it: in place of a final `USER root`, else before CMD."""
    final = chain[-1]
    distro = _distro(chain)
    uid, gid = options.uid, options.gid
    root_line = setting.instruction if setting is not None and setting.stage is final else None
    # Replacing `USER root` is only safe when no RUN after it needs root.
    if root_line is not None and not any(
        i.keyword == "RUN" and i.start_line > root_line.start_line for i in final.instructions
    ):
        block = switch_user_lines(distro, uid, gid, _copy_destinations(final, root_line.start_line))
        summary = _switch_summary(uid, gid, block)
        return Fix(summary, (LineEdit(root_line.start_line, root_line.end_line, "\n".join(block) + "\n"),))
    line, before = _anchor(final)
    # A `USER root` after CMD must be followed, not preceded, by the switch.
    after = root_line.start_line if root_line is not None else 0
    if not before or line < after:
        line, before = _stage_end(df, final), False
    block = switch_user_lines(distro, uid, gid, _copy_destinations(final, line if before else line + 1))
    return _insert_fix(df, final, block, _switch_summary(uid, gid, block), after)


def _switch_summary(uid: int, gid: int, block: list[str]) -> str:
    created = " (user created with the image's own tools)" if len(block) > 1 else ""
    return f"Run as UID {uid}:{gid}{created}"


def _numeric_fix(df: Dockerfile, chain: list[Stage], setting: _UserSetting) -> Fix | None:
    users, groups = _known_ids(chain)
    base_default = default_user(parse_image(chain[0].base))
    uid = users.get(setting.user, WELL_KNOWN_USERS.get(setting.user))
    if uid is None and base_default.user == setting.user and base_default.uid is not None:
        uid = base_default.uid
    if uid is None or uid == 0:
        return None  # never "fix" a name into root
    group = setting.group
    if group is not None and not _numeric(group):
        group = str(groups[group]) if group in groups else group
    elif group is None and setting.user in groups:
        group = str(groups[setting.user])
    spec = f"{uid}:{group}" if group is not None else str(uid)
    summary = f"Use the numeric user {spec}"
    if setting.instruction is None:
        return _insert_fix(df, chain[-1], [f"USER {spec}"], summary)
    instruction = setting.instruction
    if instruction.start_line != instruction.end_line:
        return None
    line = df.lines[instruction.start_line - 1]
    prefix = line[: len(line) - len(line.lstrip())] + line.lstrip().split(None, 1)[0]
    trailing = " #" + line.split(" #", 1)[1] if " #" in line else ""
    return Fix(summary, (LineEdit(instruction.start_line, instruction.start_line, f"{prefix} {spec}{trailing}\n"),))


def _sudo_findings(df: Dockerfile, chain: list[Stage], path: str, users: dict[int, str | None]) -> list[Finding]:
    findings: list[Finding] = []
    for stage in chain:
        for instruction, text in _run_texts(stage):
            label = _stage_label(stage)
            reasons: list[str] = []
            if _SUDO_INSTALL.search(text):
                reasons.append("installs sudo")
            uses_sudo = bool(_SUDO_COMMAND.search(text))
            if uses_sudo:
                reasons.append("runs a command with sudo")
            if _CHMOD_SETID.search(text):
                reasons.append("sets a setuid/setgid bit with chmod")
            if not reasons:
                continue
            fix: Fix | None = None
            user = users.get(instruction.start_line)
            plain = all(_SUDO_PLAIN.match(m.group(0).strip()) for m in _SUDO_COMMAND.finditer(text))
            if reasons == ["runs a command with sudo"] and plain and user is not None and _is_root(user) and not instruction.heredocs:
                # The build already runs as root here, so sudo does nothing but add a binary.
                lines = df.lines[instruction.start_line - 1 : instruction.end_line]
                keyword = re.match(r"\s*\S+\s+", lines[0])
                cut = keyword.end() if keyword else 0
                fixed = [lines[0][:cut] + _SUDO_COMMAND.sub(r"\1", lines[0][cut:])]
                fixed += [_SUDO_COMMAND.sub(r"\1", line) for line in lines[1:]]
                fix = Fix("Drop sudo: this step already runs as root", (
                    LineEdit(instruction.start_line, instruction.end_line, "\n".join(fixed) + "\n"),
                ))
            findings.append(
                Finding(
                    SUDO_SETUID.id,
                    SUDO_SETUID.severity,
                    path,
                    instruction.start_line,
                    instruction.end_line,
                    f"RUN in {label} {' and '.join(reasons)}; a non-root process could use it to regain root.",
                    fix,
                    label,
                )
            )
    return findings


def _port_findings(chain: list[Stage], path: str) -> list[Finding]:
    findings: list[Finding] = []
    for stage in chain:
        for instruction, variables in walk(stage):
            if instruction.keyword != "EXPOSE":
                continue
            ports = []
            for token in instruction.value.split():
                expanded = expand(token, variables) or ""
                number = expanded.split("/", 1)[0].split("-", 1)[0]
                if _numeric(number) and 0 < int(number) < 1024:
                    ports.append(number)
            if ports:
                findings.append(
                    Finding(
                        PRIVILEGED_PORT.id,
                        PRIVILEGED_PORT.severity,
                        path,
                        instruction.start_line,
                        instruction.end_line,
                        f"{_stage_label(stage)} runs as a non-root user but exposes port {', '.join(ports)}: "
                        "the process cannot bind it without NET_BIND_SERVICE; listen on a port such as 8080 instead.",
                        None,
                        _stage_label(stage),
                    )
                )
    return findings


def check(path: str, df: Dockerfile, options: Options) -> list[Finding]:
    """All findings for a parsed Dockerfile, evaluating the final stage as built."""
    final = df.final
    if final is None:
        return []
    chain = df.chain(final)
    label = _stage_label(final)
    setting, users_before_run = _user_steps(chain)
    findings: list[Finding] = []
    base = parse_image(chain[0].base)
    runs_non_root = False

    if setting is None:
        default: DefaultUser = default_user(base)
        if default.uid == 0 or default.uid is None:
            line, _ = _anchor(final)
            findings.append(
                Finding(
                    NO_USER.id,
                    NO_USER.severity,
                    path,
                    line,
                    line,
                    f"The final {label} never sets USER, so it runs as the base image's user, "
                    f"root for {chain[0].base or 'this image'}.",
                    _root_fix(df, chain, None, options),
                    label,
                )
            )
        else:
            runs_non_root = True
            if not _numeric(default.user):
                setting_default = _UserSetting(default.user, None, None, final)
                line, _ = _anchor(final)
                findings.append(
                    Finding(
                        NON_NUMERIC_USER.id,
                        NON_NUMERIC_USER.severity,
                        path,
                        line,
                        line,
                        f"The final {label} runs as user '{default.user}' from {chain[0].base}, a name: Kubernetes "
                        "runAsNonRoot cannot verify it; set USER to the numeric UID.",
                        _numeric_fix(df, chain, setting_default),
                        label,
                    )
                )
    elif setting.user and (_is_root(setting.user) or _root_alias(chain, setting.user)):
        assert setting.instruction is not None
        where = "" if setting.stage is final else f" (set in {_stage_label(setting.stage)}, inherited)"
        if not _is_root(setting.user):
            where += ", a name this Dockerfile gives UID 0: root under another name"
        findings.append(
            Finding(
                ROOT_USER.id,
                ROOT_USER.severity,
                path,
                setting.instruction.start_line,
                setting.instruction.end_line,
                f"The final {label} runs as {setting.user}{where}; switch to a numeric non-root user "
                "before CMD/ENTRYPOINT.",
                _root_fix(df, chain, setting, options),
                label,
            )
        )
    elif setting.user:
        runs_non_root = True
        if not _numeric(setting.user):
            assert setting.instruction is not None
            findings.append(
                Finding(
                    NON_NUMERIC_USER.id,
                    NON_NUMERIC_USER.severity,
                    path,
                    setting.instruction.start_line,
                    setting.instruction.end_line,
                    f"The final {label} runs as user '{setting.user}', a name: Kubernetes runAsNonRoot cannot "
                    "verify it (\"image has non-numeric user\"); use the numeric UID.",
                    _numeric_fix(df, chain, setting),
                    label,
                )
            )

    findings.extend(_sudo_findings(df, chain, path, users_before_run))
    if runs_non_root:
        findings.extend(_port_findings(chain, path))
    return [f for f in findings if not _suppressed(df, final, f)]


def _suppressed(df: Dockerfile, final: Stage, finding: Finding) -> bool:
    for line in (finding.line, final.from_line):
        if finding.rule in df.suppressions.get(line, frozenset()):
            return True
    return False


def analyze(path: str, text: str, options: Options) -> list[Finding]:
    """Parse and check one Dockerfile."""
    return check(path, parse(text), options)
