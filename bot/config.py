"""Configuration: the App's settings from the environment, and a repository's `.github/unroot.yml`."""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from bot.limits import DEFAULT_INLINE_COMMENTS
from rules.model import Options, Severity

CONFIG_PATH = ".github/unroot.yml"
SEVERITIES = tuple(severity.value for severity in Severity)  # error, warning, notice
# What makes `unroot check` exit 1: findings at or above this severity ("never": none do).
FAIL_ON = (*SEVERITIES, "never")
ReviewEventName = Literal["COMMENT", "REQUEST_CHANGES"]
# Where each rule's page lives ({id} is the rule ID): linked from the CLI's SARIF and the bot's posts.
DOCS_URL = "https://github.com/unroot-dev/unroot/blob/main/rules/docs/{id}.md"
if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

    from bot.helm.limits import HelmLimits

_OFF = {"off", "false", "disabled", "ignore"}


class ConfigError(ValueError):
    """The configuration file is wrong; the message says where and how."""


MAX_CONFIG_BYTES = 64 * 1024  # a config file is a few lines; a bigger one is refused unread
MAX_CONFIG_DEPTH = 20
MAX_IGNORE_PATTERNS = 1000


@dataclass(frozen=True)
class ReviewSettings:
    """The `review:` section: what goes inline in a pull request, how much, and the review's event."""

    # Findings below this severity never get an inline comment (notices go to annotations only).
    min_severity: Severity = Severity.WARNING
    max_inline: int = DEFAULT_INLINE_COMMENTS
    event: ReviewEventName = "COMMENT"


@dataclass(frozen=True)
class RepoConfig:
    """What a repository asks of unroot."""

    options: Options = field(default_factory=Options)
    ignore: tuple[str, ...] = ()
    review: ReviewSettings = field(default_factory=ReviewSettings)
    fail_on: str = "error"  # one of FAIL_ON
    baseline: str | None = None  # the baseline file, relative to the config's repository root
    # chart directory (repository-relative, "" for the root) -> extra values files to render it with
    helm_values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The CLI's: the absolute directory of the config's repository (holding `.github/` or `unroot.yml`),
    # which `ignore:` patterns and `baseline:` are relative to. None in the App: paths are repository-relative.
    root: str | None = None

    @property
    def request_changes(self) -> bool:
        """Whether a review with errors is posted as REQUEST_CHANGES (`review.event`)."""
        return self.review.event == "REQUEST_CHANGES"

    def chart_values(self, chart_root: str) -> tuple[str, ...]:
        """The values files `helm.charts.<root>.values` names for a chart, chart-relative."""
        return tuple(self.helm_values.get(chart_root.strip("/"), ()))

    @functools.cached_property
    def _ignore_spec(self) -> GitIgnoreSpec | None:
        """Every `ignore:` pattern compiled once, with gitignore's meaning."""
        if not self.ignore:
            return None
        from pathspec import GitIgnoreSpec  # only a config with `ignore:` needs it

        return GitIgnoreSpec.from_lines(self.ignore)

    def ignored(self, path: str) -> bool:
        """True when `path` matches the `ignore:` patterns as a .gitignore at the repository root would
        (`*` stays within a folder, `**` crosses them, a listed folder covers what is below, `!` re-includes).

        `path` is repository-relative (the App), or, when the config has a `root` (the CLI), a path
        on disk: made relative to that root first; a file outside the root is never ignored."""
        spec = self._ignore_spec
        if spec is None:
            return False
        if self.root is not None:
            relative = os.path.relpath(os.path.abspath(path), self.root)
            if relative == ".." or relative.startswith("../") or os.path.isabs(relative):
                return False
            path = Path(relative).as_posix()
        return spec.match_file(path)


def _int(raw: object, name: str, low: int, high: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not {raw!r}")
    return raw


# The keys each section takes, in the documented (hyphen) spelling; `max_bytes` and `fail_on` work too.
_KEYS = {
    "": ("baseline", "fail-on", "fix", "helm", "ignore", "max-bytes", "review", "rules"),
    "fix": ("gid", "openshift", "uid"),
    "review": ("event", "max-inline", "min-severity"),
    "helm": ("charts",),
    "helm.charts.*": ("values",),
}
MAX_INLINE_LIMIT = 100  # GitHub's review API times out on reviews with many more comments


def prefix_of(where: str) -> str:
    """`where.` for a key inside a section, nothing at the top."""
    return f"{where}." if where else ""


def _section(raw: object, where: str, kind: str, shape: str) -> dict[str, Any]:
    """A mapping's keys in the hyphen spelling; ConfigError for a non-mapping or an unknown key,
    naming the key and, when one is close, the key meant."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a mapping with {shape}, not {type(raw).__name__}")
    known = _KEYS[kind]
    result: dict[str, Any] = {}
    for key, value in raw.items():
        name = str(key).replace("_", "-")
        if name not in known:
            import difflib  # only for a misspelt key

            prefix = prefix_of(where)
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean '{prefix}{close[0]}'?" if close else ""
            raise ConfigError(f"unknown key '{prefix}{key}' (known: {', '.join(known)}){hint}")
        if name in result:
            raise ConfigError(f"'{prefix_of(where)}{name}' is given twice (spelt with - and with _)")
        result[name] = value
    return result


def parse_config(text: str) -> RepoConfig:
    """Parse the YAML text of a config file; raises ConfigError naming the key that is wrong."""
    data = _section(_load(text), "", "", ", ".join(_KEYS[""]))
    disabled, overrides = _rule_settings(data.get("rules") or {})
    ignore = data.get("ignore") or []
    if not isinstance(ignore, list) or not all(isinstance(p, str) for p in ignore):
        raise ConfigError("ignore: must be a list of gitignore-style patterns")
    if len(ignore) > MAX_IGNORE_PATTERNS:
        raise ConfigError(f"ignore: lists {len(ignore):,} globs; the limit is {MAX_IGNORE_PATTERNS:,}")
    fix = _section(data.get("fix"), "fix", "fix", "uid, gid and openshift")
    openshift = fix.get("openshift", False)
    if not isinstance(openshift, bool):
        raise ConfigError(f"fix.openshift must be true or false, not {openshift!r}")
    uid = _int(fix.get("uid", 10001), "fix.uid", 1, 2**31 - 1)
    gid = _int(fix.get("gid", uid if "uid" in fix else 10001), "fix.gid", 1, 2**31 - 1)
    max_bytes = _int(data.get("max-bytes", 1_000_000), "max-bytes", 1, 100_000_000)
    fail_on = data.get("fail-on", "error")
    if fail_on not in FAIL_ON:
        raise ConfigError(f"fail-on: use {', '.join(FAIL_ON)}, not {fail_on!r}")
    baseline = data.get("baseline")
    if baseline is not None and (not isinstance(baseline, str) or not baseline.strip()):
        raise ConfigError(f"baseline: must be a file name relative to the repository, not {baseline!r}")
    options = Options(
        uid=uid,
        gid=gid,
        max_bytes=max_bytes,
        disabled=frozenset(disabled),
        severity_overrides=tuple(overrides),
        openshift=openshift,
    )
    return RepoConfig(
        options,
        tuple(ignore),
        _review_settings(data.get("review")),
        fail_on=fail_on,
        baseline=baseline,
        helm_values=_helm_settings(data.get("helm")),
    )


def _review_settings(raw: object) -> ReviewSettings:
    """The `review:` section: `{min-severity: warning, max-inline: 30, event: COMMENT}`."""
    review = _section(raw, "review", "review", "min-severity, max-inline and event")
    severity = review.get("min-severity", ReviewSettings.min_severity.value)
    if not isinstance(severity, str) or severity.lower() not in SEVERITIES:
        raise ConfigError(f"review.min-severity: use error, warning or notice, not {severity!r}")
    max_inline = _int(review.get("max-inline", DEFAULT_INLINE_COMMENTS), "review.max-inline", 0, MAX_INLINE_LIMIT)
    event = review.get("event", "COMMENT")
    upper = event.upper() if isinstance(event, str) else ""
    if upper not in ("COMMENT", "REQUEST_CHANGES"):
        raise ConfigError(f"review.event: use COMMENT or REQUEST_CHANGES, not {event!r}")
    return ReviewSettings(
        min_severity=Severity(severity.lower()),
        max_inline=max_inline,
        event="REQUEST_CHANGES" if upper == "REQUEST_CHANGES" else "COMMENT",
    )


def _helm_settings(helm: object) -> dict[str, tuple[str, ...]]:
    """The `helm:` section: `charts: {deploy/chart: {values: [values-prod.yaml]}}`."""
    shape = "charts: {CHART_DIR: {values: [FILE, ...]}}"
    charts = _section(helm, "helm", "helm", shape).get("charts") or {}
    if not isinstance(charts, dict):
        raise ConfigError("helm.charts: must map chart directories to {values: [FILE, ...]}")
    result: dict[str, tuple[str, ...]] = {}
    for root, raw in charts.items():
        where = f"helm.charts.{root}"
        settings = _section(raw, where, "helm.charts.*", "values: [FILE, ...]")
        files = settings.get("values") or []
        if not isinstance(files, list) or not all(isinstance(f, str) and f for f in files):
            raise ConfigError(f"{where}.values: must be a list of values files, relative to the chart")
        bad = [f for f in files if f.startswith("/") or ".." in f.split("/")]
        if bad:
            raise ConfigError(f"{where}.values: {bad[0]!r} is outside the chart; name files inside it")
        result[str(root).strip("/")] = tuple(files)
    return result


def _load(text: str) -> dict[Any, Any]:
    """The config file as a mapping, refused before parsing when too big or too deep."""
    # Imported here: `unroot check` on Dockerfiles, with no config file, never needs YAML.
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    from rules.kubernetes.parse import nesting_bound

    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{CONFIG_PATH} is {len(text):,} characters; the limit is {MAX_CONFIG_BYTES:,}")
    if nesting_bound(text) > MAX_CONFIG_DEPTH:
        raise ConfigError(f"{CONFIG_PATH} is nested more than {MAX_CONFIG_DEPTH} levels deep")

    try:
        data = YAML(typ="safe", pure=True).load(text) if text.strip() else {}
    except YAMLError as error:
        raise ConfigError(f"{CONFIG_PATH} is not valid YAML: {str(error).splitlines()[0]}") from None
    except RecursionError:
        raise ConfigError(f"{CONFIG_PATH} is nested too deeply") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{CONFIG_PATH} must be a mapping")
    return data


def _rule_settings(rules: object) -> tuple[set[str], list[tuple[str, Severity]]]:
    """The `rules:` section: the IDs switched off, and the severities overridden."""
    if not isinstance(rules, dict):
        raise ConfigError("rules: must map rule IDs to off, error, warning or notice")
    from rules.registry import by_id  # every rule's module: only a config that names rules needs them

    known_rules = by_id()
    disabled: set[str] = set()
    overrides: list[tuple[str, Severity]] = []
    for rule_id, setting in rules.items():
        rule_id = str(rule_id).upper()
        if rule_id not in known_rules:
            raise ConfigError(f"rules: unknown rule {rule_id} (known: {', '.join(sorted(known_rules))})")
        word = str(setting).lower() if setting is not False else "off"
        if word in _OFF:
            disabled.add(rule_id)
        elif word in SEVERITIES:
            overrides.append((rule_id, Severity(word)))
        else:
            raise ConfigError(f"rules.{rule_id}: use off, error, warning or notice, not {setting!r}")
    return disabled, overrides


class SettingsError(ValueError):
    """The environment does not describe a runnable App; the message says what to set."""


@dataclass(frozen=True)
class AppSettings:
    """How the App server runs, read once from the environment at start-up."""

    app_id: int
    private_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    api_url: str = "https://api.github.com"
    host: str = "0.0.0.0"
    port: int = 8080
    workers: int = 4
    max_body_bytes: int = 25 * 1024 * 1024
    shutdown_grace: float = 25.0  # seconds running jobs may finish after SIGTERM
    secondary_limit_floor: float = 60.0  # seconds to wait on a secondary rate limit without retry-after
    docs_url: str = DOCS_URL
    redis_url: str = field(default="", repr=False)  # set: jobs, deliveries and tokens are shared through Redis
    run_jobs: bool = True  # with Redis: whether `serve` also runs jobs (UNROOT_RUN_JOBS / --run-jobs)
    installation_jobs: int = 8  # with Redis: jobs of one installation running at once, fleet-wide
    lease_seconds: float = 30.0  # with Redis: a dead worker's job is taken again after this long
    job_attempts: int = 3  # with Redis: attempts cut short (worker killed) before the run is failed
    job_timeout: float = 900.0  # with Redis: a job running longer completes its run as failed
    redis_wait: float = 30.0  # with Redis: seconds to wait for it at start-up before giving up
    retry_delay: float = 30.0  # first wait before a job whose run GitHub would not let us complete runs again
    retry_for: float = 24 * 3600.0  # how long such a job keeps being retried (the wait doubles, up to 10 min)
    analysis_workers: int = 2  # processes that analyse files (off the event loop)
    analysis_cpu_seconds: int = 30  # CPU one file's analysis may use before it is stopped with a notice
    analysis_memory_mb: int = 1024  # address space of an analysis process
    helm_seconds: float = 20.0  # wall-clock time (and CPU seconds) one Helm render of a chart may take
    helm_memory_mb: int = 2048  # address space of the Helm child (Go reserves far more than it touches)

    @property
    def helm_limits(self) -> HelmLimits:
        """The limits of each chart render's Helm child; its CPU allowance is its wall-clock time, rounded up."""
        from bot.helm.limits import HelmLimits  # the CLI reads this module too: bot.helm only when asked

        return HelmLimits(
            address_space_mb=self.helm_memory_mb,
            cpu_seconds=max(1, math.ceil(self.helm_seconds)),
            wall_seconds=self.helm_seconds,
        )

    @property
    def graphql_url(self) -> str:
        """GraphQL endpoint: https://api.github.com/graphql, or https://HOST/api/graphql on GHES."""
        base = self.api_url.rstrip("/")
        if base.endswith("/api/v3"):
            return base[: -len("/v3")] + "/graphql"
        return base + "/graphql"

    @classmethod
    def from_env(cls, env: Mapping[str, str], insecure_no_secret: bool = False) -> AppSettings:
        """Settings from environment variables; raises SettingsError naming what is missing.

        Without a webhook secret the server refuses to start unless `insecure_no_secret`
        (the `--insecure-no-secret` flag, for local experiments; a worker, which takes no
        webhooks, passes it too) says otherwise."""
        required = ("GITHUB_APP_ID",) if insecure_no_secret else ("GITHUB_APP_ID", "GITHUB_WEBHOOK_SECRET")
        missing = [name for name in required if not env.get(name)]
        key = env.get("GITHUB_PRIVATE_KEY", "")
        key_path = env.get("GITHUB_PRIVATE_KEY_PATH", "")
        if not key and not key_path:
            missing.append("GITHUB_PRIVATE_KEY (PEM text) or GITHUB_PRIVATE_KEY_PATH")
        if missing:
            raise SettingsError("missing environment: " + ", ".join(missing))
        if not key:
            try:
                key = Path(key_path).read_text(encoding="utf-8")
            except OSError as error:
                raise SettingsError(f"cannot read GITHUB_PRIVATE_KEY_PATH {key_path}: {error.strerror}") from None
        key = key.replace("\\n", "\n")  # keys pasted into one-line env vars
        # Imported here: `unroot check` reads this module too, and cryptography costs it 70 ms.
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        try:
            load_pem_private_key(key.encode("utf-8"), password=None)
        except (ValueError, TypeError) as error:
            raise SettingsError(f"the GitHub App private key does not parse as a PEM RSA key: {error}") from None
        app_id = env["GITHUB_APP_ID"].strip()
        if not (app_id.isascii() and app_id.isdigit() and int(app_id) > 0):
            raise SettingsError(f"GITHUB_APP_ID must be the App's numeric ID (a positive whole number), not {app_id!r}")
        port = _env_int(env, "PORT", 8080, 1, 65535)
        workers = _env_int(env, "UNROOT_WORKERS", 4, 1)
        floor = _env_float(env, "UNROOT_SECONDARY_LIMIT_FLOOR", 60.0, 0.0)
        grace = _env_float(env, "UNROOT_SHUTDOWN_GRACE", 25.0, 0.0)
        installation_jobs = _env_int(env, "UNROOT_INSTALLATION_JOBS", 8, 1)
        lease = _env_float(env, "UNROOT_LEASE_SECONDS", 30.0, 1.0)
        attempts = _env_int(env, "UNROOT_JOB_ATTEMPTS", 3, 1)
        job_timeout = _env_float(env, "UNROOT_JOB_TIMEOUT", 900.0, 10.0)
        redis_wait = _env_float(env, "UNROOT_REDIS_WAIT", 30.0, 0.0)
        retry_delay = _env_float(env, "UNROOT_RETRY_DELAY", 30.0, 0.01)
        retry_for = _env_float(env, "UNROOT_RETRY_FOR", 24 * 3600.0, 0.0)
        analysis_workers = _env_int(env, "UNROOT_ANALYSIS_WORKERS", 2, 1)
        analysis_cpu = _env_int(env, "UNROOT_ANALYSIS_CPU_SECONDS", 30, 1)
        analysis_memory = _env_int(env, "UNROOT_ANALYSIS_MEMORY_MB", 1024, 256)
        helm_seconds = _env_float(env, "UNROOT_HELM_SECONDS", 20.0, 1.0)
        helm_memory = _env_int(env, "UNROOT_HELM_MEMORY_MB", 2048, 512)
        redis_url = env.get("REDIS_URL", "")
        if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("REDIS_URL must start with redis://, rediss:// or unix://")
        run_jobs = env.get("UNROOT_RUN_JOBS", "").lower() in ("1", "true", "yes")
        return cls(
            app_id=int(app_id),
            private_key=key,
            webhook_secret=env.get("GITHUB_WEBHOOK_SECRET", ""),
            api_url=env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"),
            host=env.get("HOST", "0.0.0.0"),
            port=port,
            workers=workers,
            secondary_limit_floor=floor,
            shutdown_grace=grace,
            docs_url=env.get("UNROOT_DOCS_URL", cls.docs_url),
            redis_url=redis_url,
            run_jobs=run_jobs or not redis_url,  # without Redis the server always runs its jobs
            installation_jobs=installation_jobs,
            lease_seconds=lease,
            job_attempts=attempts,
            job_timeout=job_timeout,
            redis_wait=redis_wait,
            retry_delay=retry_delay,
            retry_for=retry_for,
            analysis_workers=analysis_workers,
            analysis_cpu_seconds=analysis_cpu,
            analysis_memory_mb=analysis_memory,
            helm_seconds=helm_seconds,
            helm_memory_mb=helm_memory,
        )


def _env_int(env: Mapping[str, str], name: str, default: int, low: int, high: int | None = None) -> int:
    """A whole-number setting; SettingsError names the variable when it is not one, or out of range."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.lstrip("-").isdigit()):
        raise SettingsError(f"{name} must be a whole number, not {raw!r}")
    number = int(raw)
    if number < low or (high is not None and number > high):
        raise SettingsError(
            f"{name} must be {'from ' + str(low) + ' to ' + str(high) if high is not None else 'at least ' + str(low)}, not {number}"
        )
    return number


def _env_float(env: Mapping[str, str], name: str, default: float, low: float) -> float:
    """A number of seconds; SettingsError names the variable when it is not a finite number >= low."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        number = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not math.isfinite(number) or number < low:
        raise SettingsError(f"{name} must be a number of seconds of at least {low:g}, not {raw!r}")
    return number
