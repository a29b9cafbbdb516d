"""Settings and repository config that are wrong are refused at once, naming what is wrong.

Each of these once started and failed later (every delivery answered 400), leaked a password,
or froze the loop for seconds on a hostile config file.
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import MAX_IGNORE_PATTERNS, ConfigError, RepoConfig, parse_config
from bot.observability import Redactor, configure_logging
from tests.patience import PATIENCE
from tests.test_cli import _app_env


def serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--port", "0", "--host", "127.0.0.1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        env={**_app_env(GITHUB_WEBHOOK_SECRET="s"), **env},
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GITHUB_APP_ID", "abc"),
        ("GITHUB_APP_ID", "0"),
        ("PORT", "http"),
        ("PORT", "70000"),
        ("UNROOT_WORKERS", "four"),
        ("UNROOT_WORKERS", "0"),
        ("UNROOT_LEASE_SECONDS", "nan"),
        ("UNROOT_JOB_TIMEOUT", "-5"),
        ("UNROOT_ANALYSIS_CPU_SECONDS", "1.5"),
        ("UNROOT_HELM_SECONDS", "0.5"),
        ("UNROOT_HELM_MEMORY_MB", "lots"),
    ],
)
def test_serve_refuses_a_bad_number_naming_the_variable(tmp_path: Path, name: str, value: str) -> None:
    result = serve(tmp_path, **{name: value})
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"cannot start the server: {name} must be" in result.stderr
    assert "Traceback" not in result.stderr


def test_helm_limits_come_from_the_environment_and_default_to_the_renderers_own() -> None:
    from bot.config import AppSettings
    from bot.helm.limits import HelmLimits

    default = AppSettings.from_env(_app_env(GITHUB_WEBHOOK_SECRET="s")).helm_limits
    assert default == HelmLimits()
    tight = AppSettings.from_env(
        _app_env(GITHUB_WEBHOOK_SECRET="s", UNROOT_HELM_SECONDS="2.5", UNROOT_HELM_MEMORY_MB="1024")
    ).helm_limits
    assert (tight.wall_seconds, tight.cpu_seconds, tight.address_space_mb) == (2.5, 3, 1024)


def test_a_redis_password_in_the_query_never_reaches_the_output(tmp_path: Path) -> None:
    from tests.redisserver import free_port

    url = f"redis://127.0.0.1:{free_port()}/0?password=correct-horse-battery&db=0"
    result = serve(tmp_path, REDIS_URL=url, UNROOT_REDIS_WAIT="1.5", LOG_FORMAT="json")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "cannot reach Redis at redis://127.0.0.1:" in result.stderr and "password=***" in result.stderr
    assert "correct-horse-battery" not in result.stderr + result.stdout


def test_secrets_in_extra_fields_are_redacted_in_json_logs() -> None:
    redactor = Redactor()
    redactor.add("ghs_0123456789abcdef0123")
    configure_logging("INFO", redactor, as_json=True)
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        logging.getLogger("t").info(
            "token %s", "ghs_0123456789abcdef0123", extra={"url": "https://x/?t=ghs_0123456789abcdef0123", "n": 3}
        )
    finally:
        logging.getLogger().handlers.clear()
    record = json.loads(stream.getvalue())
    assert "ghs_0123456789abcdef0123" not in stream.getvalue()
    assert record["message"] == "token [redacted]" and record["url"] == "https://x/?t=[redacted]" and record["n"] == 3


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("a:\n" + "".join(" " * (i + 1) + "b:\n" for i in range(300)), "nested more than"),
        ("rules: [" * 5000 + "]" * 5000, "nested more than"),
        ("# " + "x" * 70_000 + "\n", "the limit is 65,536"),
        ("ignore:\n" + "".join(f"- 'p{i}/*'\n" for i in range(MAX_IGNORE_PATTERNS + 1)), "the limit is 1,000"),
    ],
)
def test_hostile_config_files_are_refused_with_a_reason(text: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        parse_config(text)


def test_a_thousand_ignore_globs_keep_their_meaning() -> None:
    config = parse_config("ignore:\n" + "".join(f"- 'vendor{i}/*.yaml'\n" for i in range(999)) + "- deploy/old/\n")
    assert config.ignored("vendor998/x.yaml") and config.ignored("deploy/old/a/b.yaml")
    assert not config.ignored("vendor999/x.yaml") and not config.ignored("deploy/older/x.yaml")
    # gitignore's meaning: a pattern without `/` matches at any depth; `*` stays within one folder.
    assert RepoConfig(ignore=("*.tmpl.yaml",)).ignored("charts/a.tmpl.yaml")
    assert not RepoConfig(ignore=("charts/*.yaml",)).ignored("charts/a/b.yaml")
