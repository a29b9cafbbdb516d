"""The edits that make a Dockerfile's final stage run as a numeric non-root user."""

from __future__ import annotations

from rules.dockerfile.parse import Dockerfile, Stage, parse
from rules.dockerfile.root_steps import last_root_step
from rules.dockerfile.start_hints import extension_base, privilege_dropper
from rules.dockerfile.user import FinalStage, UserSetting, distro, known_ids, numeric
from rules.images import AppUser, Distro, app_user, parse_image, shipped_uid
from rules.model import Fix, LineEdit, Options

_USER_NAME = "appuser"
# Copying into these system paths is installing, not app files: never chgrp them.
_SYSTEM_PATHS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/var/lib", "/opt/conda")


def _absolute(path: str, workdir: str) -> str:
    path = path.strip().strip("\"'")
    if not path.startswith("/"):
        path = workdir.rstrip("/") + "/" + (path if path not in (".", "./") else "")
    return path.rstrip("/") or "/"


def _is_system(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in _SYSTEM_PATHS)


def _copy_destinations(stage: Stage, before_line: int) -> list[str]:
    """Where the app lives in `stage` before `before_line`: absolute COPY/ADD destinations and the
    WORKDIR in effect (apps write relative paths there), outermost only, system paths left out."""
    destinations: list[str] = []
    workdir = "/"
    for instruction in stage.instructions:
        if instruction.start_line >= before_line:
            break
        if instruction.keyword == "WORKDIR":
            workdir = _absolute(instruction.value, workdir)
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
            destinations.append(_absolute(tokens[-1], workdir))
    if workdir != "/" and "$" not in workdir:
        destinations.append(workdir)
    kept = [d for d in dict.fromkeys(destinations) if d != "/" and not _is_system(d)]
    # A path inside another kept path is covered by its `chown -R`.
    return [d for d in kept if not any(d.startswith(other + "/") for other in kept)]


def _create_user(distro: Distro, uid: int, gid: int) -> str | None:
    """The command that creates the user with the image's own tools; None where there are none."""
    name = _USER_NAME
    shadow = f"groupadd --system --gid {gid} {name} && useradd --system --uid {uid} --gid {gid} --no-create-home {name}"
    if distro in (Distro.DEBIAN, Distro.RHEL):
        return shadow
    if distro is Distro.RHEL_MINIMAL:
        # ubi-minimal ships microdnf but not shadow-utils, so useradd must be installed first.
        return f"microdnf install -y shadow-utils && microdnf clean all && {shadow}"
    if distro is Distro.ALPINE:
        return f"addgroup -S -g {gid} {name} && adduser -S -D -H -u {uid} -G {name} {name}"
    if distro is Distro.BUSYBOX:
        return f"addgroup -g {gid} {name} && adduser -D -H -u {uid} -G {name} {name}"
    if distro is Distro.SUSE:
        return f"zypper --non-interactive install --no-recommends shadow && {shadow}"
    return (
        None  # no shell or no tools (scratch, distroless, ubi-micro) or unknown: a numeric USER needs no passwd entry
    )


def switch_user_lines(
    distro: Distro, uid: int, gid: int, writable: list[str], shipped: AppUser | None = None
) -> list[str]:
    """Lines that switch to a non-root user: the image's own (`shipped`), else one created with the
    image's tools; the app files copied in become the user's, with group 0 given the same rights."""
    commands: list[str] = []
    has_shell = distro not in (Distro.NO_SHELL, Distro.RHEL_MICRO, Distro.UNKNOWN)
    if shipped is None:
        create = _create_user(distro, uid, gid)
        if create is not None:
            commands.append(create)
    if writable and has_shell:
        paths = " ".join(writable)
        # The user owns them, so it can write them; group 0 gets the owner's rights for
        # platforms such as OpenShift that run the image as an arbitrary UID in group 0.
        commands.append(f"chown -R {uid}:0 {paths} && chmod -R g=u {paths}")
    lines = ["RUN " + " \\\n    && ".join(commands)] if commands else []
    lines.append(f"USER {uid}:{gid}")
    return lines


def fix_user(final: FinalStage) -> tuple[int, int, AppUser | None]:
    """The UID:GID a fix switches to: the base image's own user when it ships one and the
    configuration keeps the default IDs, else the configured (default 10001:10001)."""
    options = final.options
    shipped = app_user(parse_image(final.chain[0].base))
    defaults = Options()
    if shipped is not None and (options.uid, options.gid) == (defaults.uid, defaults.gid):
        return shipped.uid, shipped.gid, shipped
    return options.uid, options.gid, None


def anchor(stage: Stage) -> tuple[int, bool]:
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
    line, before = anchor(stage)
    if not before or line < after:
        line, before = _stage_end(df, stage), False
        if not _appends_cleanly(df, line, block):
            return None
    original = df.lines[line - 1]
    text = "\n".join(block)
    replacement = f"{text}\n{original}\n" if before else f"{original}\n{text}\n"
    return Fix(summary, (LineEdit(line, line, replacement),))


def _switch_summary(uid: int, gid: int, block: list[str], shipped: AppUser | None) -> str:
    if shipped is not None:
        return f"Run as the image's own {shipped.name} user, UID {uid}:{gid}"
    created = " (user created with the image's own tools)" if "useradd" in block[0] or "adduser" in block[0] else ""
    return f"Run as UID {uid}:{gid}{created}"


def root_fix(final: FinalStage) -> Fix | None:
    """Switch to a non-root user: in place of a final `USER root`, else before CMD, but never above a
    RUN that needs root. None for images whose entrypoint drops root itself or that other images extend
    (start_hints), whose findings say what to do instead."""
    df, chain, stage, setting = final.df, final.chain, final.stage, final.setting
    if privilege_dropper(final) is not None or extension_base(final) is not None:
        return None
    found = distro(chain)
    uid, gid, shipped = fix_user(final)
    root_line = setting.instruction if setting is not None and setting.stage is stage else None
    # Replacing `USER root` is only safe when no RUN after it needs root.
    if root_line is not None and not any(
        i.keyword == "RUN" and i.start_line > root_line.start_line for i in stage.instructions
    ):
        block = switch_user_lines(found, uid, gid, _copy_destinations(stage, root_line.start_line), shipped)
        summary = _switch_summary(uid, gid, block, shipped)
        return Fix(summary, (LineEdit(root_line.start_line, root_line.end_line, "\n".join(block) + "\n"),))
    line, before = anchor(stage)
    # A `USER root`, or a RUN that needs root, after CMD must be followed, not preceded, by the switch.
    after = max(root_line.start_line if root_line is not None else 0, last_root_step(stage))
    if not before or line < after:
        line, before = _stage_end(df, stage), False
    block = switch_user_lines(found, uid, gid, _copy_destinations(stage, line if before else line + 1), shipped)
    return _insert_fix(df, stage, block, _switch_summary(uid, gid, block, shipped), after)


def numeric_fix(final: FinalStage, setting: UserSetting) -> Fix | None:
    """Write the number of a named user (and group), when the Dockerfile or the image tells it."""
    df, chain = final.df, final.chain
    users, groups = known_ids(chain)
    base_default = final.base_user
    uid = users.get(setting.user, shipped_uid(parse_image(chain[0].base), setting.user))
    if uid is None and base_default.user == setting.user and base_default.uid is not None:
        uid = base_default.uid
    if uid is None or uid == 0:
        return None  # never "fix" a name into root
    group = setting.group
    if group is not None and not numeric(group):
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
