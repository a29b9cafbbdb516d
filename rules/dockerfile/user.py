"""Who a Dockerfile's final stage runs as: the USER steps along its FROM chain, and the IDs it creates."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, replace

from rules.dockerfile.parse import Dockerfile, Instruction, Stage, expand, walk
from rules.images import DefaultUser, Distro, default_user, distro_of, parse_image
from rules.model import Options

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
class UserSetting:
    """The USER in effect and where it came from."""

    user: str  # the user part, expanded ("" when it depends on a build argument)
    group: str | None
    instruction: Instruction | None  # None: the base image's default
    stage: Stage


def split_user(spec: str) -> tuple[str, str | None]:
    """`user[:group]` as (user, group or None)."""
    user, sep, group = spec.strip().strip("\"'").partition(":")
    return user, (group if sep else None)


def numeric(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts '➍' and '²', which int() and Docker refuse."""
    return text.isascii() and text.isdigit()


def is_root(user: str) -> bool:
    """`root`, or UID 0 however it is written (`0`, `00`)."""
    return user == "root" or (numeric(user) and int(user) == 0)


def stage_label(stage: Stage) -> str:
    """How messages name a stage: "stage 'runtime'" or "stage 2 (FROM debian)"."""
    return f"stage '{stage.alias}'" if stage.alias else f"stage {stage.index + 1} (FROM {stage.base})"


def user_steps(chain: list[Stage]) -> tuple[UserSetting | None, dict[int, str | None]]:
    """One pass over the chain: the last USER, and the user part in effect before each RUN
    (keyed by the RUN's start line; None when it depends on a build argument)."""
    found: UserSetting | None = None
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
                    user, group = split_user(expanded)
                found = UserSetting(user, group, instruction, stage)
                current = user or None
    return found, before_run


def run_texts(stage: Stage) -> list[tuple[Instruction, str]]:
    """Each RUN with its command text, heredoc bodies included."""
    return [(i, "\n".join((i.value, *i.heredocs))) for i in stage.instructions if i.keyword == "RUN"]


def distro(chain: list[Stage]) -> Distro:
    """The base image's distribution, else the one its package manager commands give away."""
    found = distro_of(parse_image(chain[0].base))
    if found is not Distro.UNKNOWN:
        return found
    for stage in chain:
        for _instruction, text in run_texts(stage):
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
        if short and arg.startswith(short) and len(arg) > len(short) and numeric(arg[len(short)]):
            return arg[len(short) :]
    return None


def known_ids(chain: list[Stage]) -> tuple[dict[str, int], dict[str, int]]:
    """User and group names the Dockerfile creates with an explicit numeric ID."""
    users: dict[str, int] = {}
    groups: dict[str, int] = {}
    for stage in chain:
        for _instruction, text in run_texts(stage):
            for pattern, table in ((_CREATE_USER, users), (_CREATE_GROUP, groups)):
                for match in pattern.finditer(text):
                    try:
                        args = shlex.split(match.group(2).replace("\\\n", " "))
                    except ValueError:
                        continue
                    names = [a for a in args if not a.startswith("-")]
                    number = (
                        _option_value(args, "-u", "--uid") if table is users else _option_value(args, "-g", "--gid")
                    )
                    if number and numeric(number) and names:
                        # The name is the last positional; a preceding positional is an option's value.
                        table[names[-1]] = int(number)
            if "/etc/passwd" in text:
                for name, number in _PASSWD_LINE.findall(text):
                    users[name] = int(number)
    return users, groups


def root_alias(chain: list[Stage], user: str) -> bool:
    """True when `user` is a name the Dockerfile itself gives UID 0 (`useradd -o -u 0 admin`)."""
    return not numeric(user) and known_ids(chain)[0].get(user) == 0


@dataclass(frozen=True)
class FinalStage:
    """What every Dockerfile rule reads, computed once: the final stage, its chain, who it runs as."""

    path: str
    df: Dockerfile
    options: Options
    stage: Stage
    chain: list[Stage]  # the stages it is built FROM, base first, ending with itself
    setting: UserSetting | None  # the last USER along the chain; None: the base image's user
    users_before_run: dict[int, str | None]  # by RUN start line, as user_steps gives them
    base_user: DefaultUser  # what the base image runs as without a USER
    user_is_root: bool  # the last USER is root, or a name the Dockerfile gives UID 0
    runs_non_root: bool  # the image's user is known not to be root
    base_built_by: str | None = None  # the repository's Dockerfile that builds the base image, if one does

    @property
    def label(self) -> str:
        """How messages name the final stage."""
        return stage_label(self.stage)


def final_stage(path: str, df: Dockerfile, options: Options) -> FinalStage | None:
    """The facts of the stage the image is built from; None for a Dockerfile without stages."""
    final = df.final
    if final is None:
        return None
    chain = df.chain(final)
    built = options.knowledge.find(chain[0].base) if options.knowledge is not None else None
    if built is not None and (path == built.dockerfile or path.endswith("/" + built.dockerfile)):
        built = None  # the Dockerfile that builds this very image: its FROM is the public image it customises
    if built is not None and built.env:
        # Docker expands `USER ${NB_UID}` with the ENV of the base image too.
        env = dict(built.env)
        chain = [replace(stage, global_args={**env, **stage.global_args}) for stage in chain]
        final = chain[-1]
    setting, users_before_run = user_steps(chain)
    if built is not None:
        base_user = DefaultUser(built.user, built.uid)
        base_built_by = built.dockerfile
    else:
        base_user = default_user(parse_image(chain[0].base))
        base_built_by = None
    if setting is None:
        user_is_root = False
        if built is not None:
            runs_non_root = built.non_root
        else:
            runs_non_root = not (base_user.uid == 0 or base_user.uid is None)
    else:
        user_is_root = bool(setting.user) and (is_root(setting.user) or root_alias(chain, setting.user))
        runs_non_root = bool(setting.user) and not user_is_root
    return FinalStage(
        path,
        df,
        options,
        final,
        chain,
        setting,
        users_before_run,
        base_user,
        user_is_root,
        runs_non_root,
        base_built_by,
    )
