"""Repository configuration (`.github/unroot.yml`): rules on/off, severities, ignored paths, fix IDs."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from rules.model import Options, Severity
from rules.registry import by_id

CONFIG_PATH = ".github/unroot.yml"
_OFF = {"off", "false", "disabled", "ignore"}


class ConfigError(ValueError):
    """The configuration file is wrong; the message says where and how."""


@dataclass(frozen=True)
class RepoConfig:
    """What a repository asks of unroot."""

    options: Options = field(default_factory=Options)
    ignore: tuple[str, ...] = ()
    request_changes: bool = False

    def ignored(self, path: str) -> bool:
        """True when `path` matches an `ignore:` glob (`*` also crosses `/`)."""
        return any(fnmatch.fnmatchcase(path, pattern) or path.startswith(pattern.rstrip("/") + "/") for pattern in self.ignore)


def _int(raw: object, name: str, low: int, high: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not {raw!r}")
    return raw


def parse_config(text: str) -> RepoConfig:
    """Parse the YAML text of a config file; raises ConfigError with a clear message."""
    try:
        data = YAML(typ="safe", pure=True).load(text) if text.strip() else {}
    except YAMLError as error:
        raise ConfigError(f"{CONFIG_PATH} is not valid YAML: {str(error).splitlines()[0]}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{CONFIG_PATH} must be a mapping")
    known_rules = by_id()
    disabled: set[str] = set()
    overrides: list[tuple[str, Severity]] = []
    rules = data.get("rules") or {}
    if not isinstance(rules, dict):
        raise ConfigError("rules: must map rule IDs to off, error, warning or notice")
    for rule_id, setting in rules.items():
        rule_id = str(rule_id).upper()
        if rule_id not in known_rules:
            raise ConfigError(f"rules: unknown rule {rule_id} (known: {', '.join(sorted(known_rules))})")
        word = str(setting).lower() if setting is not False else "off"
        if word in _OFF:
            disabled.add(rule_id)
        elif word in ("error", "warning", "notice"):
            overrides.append((rule_id, Severity(word)))
        else:
            raise ConfigError(f"rules.{rule_id}: use off, error, warning or notice, not {setting!r}")
    ignore = data.get("ignore") or []
    if not isinstance(ignore, list) or not all(isinstance(p, str) for p in ignore):
        raise ConfigError("ignore: must be a list of path globs")
    fix = data.get("fix") or {}
    if not isinstance(fix, dict):
        raise ConfigError("fix: must be a mapping with uid and gid")
    uid = _int(fix.get("uid", 10001), "fix.uid", 1, 2**31 - 1)
    gid = _int(fix.get("gid", uid if "uid" in fix else 10001), "fix.gid", 1, 2**31 - 1)
    max_bytes = _int(data.get("max_bytes", 1_000_000), "max_bytes", 1, 100_000_000)
    review = data.get("review") or {}
    event = str(review.get("event", "COMMENT")).upper() if isinstance(review, dict) else "COMMENT"
    if event not in ("COMMENT", "REQUEST_CHANGES"):
        raise ConfigError("review.event: use COMMENT or REQUEST_CHANGES")
    options = Options(uid=uid, gid=gid, max_bytes=max_bytes, disabled=frozenset(disabled), severity_overrides=tuple(overrides))
    return RepoConfig(options, tuple(ignore), event == "REQUEST_CHANGES")
