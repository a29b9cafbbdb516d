"""Which RUN steps need root: package installs, user management, ownership changes, writes to system paths."""

from __future__ import annotations

import re

from rules.dockerfile.parse import Instruction, Stage
from rules.dockerfile.user import run_texts

_PACKAGE_INSTALL = re.compile(
    r"\b(apt-get|apt|aptitude|dpkg|apk|dnf|microdnf|yum|zypper|rpm|tdnf)\b[^;&|\n]*"
    r"\b(install|add|upgrade|update|-i|-U|--install|remove|del|purge|in)\b"
)
# pip writes to the interpreter's site-packages (a system path) unless told otherwise.
_PIP_INSTALL = re.compile(r"\bpip3?\b[^;&|\n]*\binstall\b(?![^;&|\n]*(--user|--target|--prefix|-t\s))")
_GLOBAL_INSTALL = re.compile(r"\b(npm|yarn|pnpm)\b[^;&|\n]*(\s(-g|--global)\b|\bglobal\b)|\bgem\s+install\b")
_USER_MANAGEMENT = re.compile(r"\b(useradd|adduser|groupadd|addgroup|usermod|groupmod|chpasswd|passwd)\b")
_OWNERSHIP = re.compile(r"\b(chown|chgrp|chmod|setcap|chattr)\b")
_SYSTEM_DIR = r"/(etc|usr|var|opt|bin|sbin|lib|lib64|root|srv|run)\b"
_SYSTEM_WRITE = re.compile(
    r"(>>?\s*|\btee\s+(-a\s+)?|\b(mkdir|touch|cp|mv|ln|install|rm|unzip|tar|curl|wget)\b[^;&|\n]*\s|\bsed\s+-i\S*\s[^;&|\n]*)"
    + _SYSTEM_DIR
)
_VENV = re.compile(r"\b(python3?\s+-m\s+venv|virtualenv|conda\s+create)\b")


def needs_root(text: str) -> bool:
    """True when a RUN command installs packages, manages users, changes ownership or writes system paths."""
    if _VENV.search(text):
        text = _PIP_INSTALL.sub("", text)  # pip into a fresh virtual environment writes no system path
    return any(
        p.search(text)
        for p in (_PACKAGE_INSTALL, _PIP_INSTALL, _GLOBAL_INSTALL, _USER_MANAGEMENT, _OWNERSHIP, _SYSTEM_WRITE)
    )


def root_steps(stage: Stage) -> list[Instruction]:
    """The RUN instructions of `stage` that need root, in order."""
    return [instruction for instruction, text in run_texts(stage) if needs_root(text)]


def last_root_step(stage: Stage) -> int:
    """The start line of the stage's last RUN that needs root; 0 when none does."""
    steps = root_steps(stage)
    return steps[-1].start_line if steps else 0
