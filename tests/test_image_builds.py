"""Fixed Dockerfiles built for real with podman: the new user can read the app and write where it writes.

Each case is a Dockerfile FROM a local Debian base (`.ci/base-image` makes it with mmdebstrap;
no registry). `unroot fix` is applied, then a smoke `RUN` is appended: in a chroot build it runs
as the image's final USER, so the build succeeds only when that user can do what the app does.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from rules.analyze import analyze
from rules.fixes import apply

BASE = "localhost/debian:bookworm"
PODMAN = shutil.which("podman")
BUILD_TIMEOUT = 300


def _base_present() -> bool:
    if PODMAN is None:
        return False
    return subprocess.run([PODMAN, "image", "exists", BASE], check=False, timeout=60).returncode == 0


pytestmark = [
    pytest.mark.skipif(PODMAN is None, reason="podman is not installed (.ci/base-image installs it)"),
    pytest.mark.skipif(PODMAN is not None and not _base_present(), reason=f"{BASE} missing: run .ci/base-image"),
]

APP_FILES = {"app.sh": "#!/bin/sh\necho hello\n", "conf/settings.ini": "[app]\nmode=prod\n"}
# As the final user: the app's files are readable (and the script runs), and the app can write
# its directory and a data directory under it, as servers writing caches, uploads or sqlite do.
SMOKE = (
    'RUN test "$(id -u):$(id -g)" = "{ids}" && sh /app/app.sh && cat /app/conf/settings.ini'
    " && touch /app/written && mkdir -p /app/data/new && echo ok > /app/conf/settings.ini"
)


def fix(text: str) -> str:
    findings = analyze("Dockerfile", text)
    return apply(text, [e for f in findings if f.fix for e in f.fix.edits])


def build(tmp_path: Path, dockerfile: str) -> subprocess.CompletedProcess[str]:
    """`podman build --isolation=chroot` of `dockerfile` with APP_FILES as the context."""
    assert PODMAN is not None
    for name, body in APP_FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body)
    (tmp_path / "Dockerfile").write_text(dockerfile)
    tag = f"localhost/unroot-test-{uuid.uuid4().hex[:12]}"
    try:
        return subprocess.run(
            [PODMAN, "build", "--isolation=chroot", "--pull=never", "-q", "-t", tag, str(tmp_path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=BUILD_TIMEOUT,
        )
    finally:
        subprocess.run([PODMAN, "rmi", "-f", tag], capture_output=True, check=False, timeout=60)


def assert_builds(tmp_path: Path, dockerfile: str) -> None:
    result = build(tmp_path, dockerfile)
    assert result.returncode == 0, f"build failed:\n{dockerfile}\n--- stderr\n{result.stderr[-3000:]}"


NO_USER = f'FROM {BASE}\nWORKDIR /app\nCOPY app.sh .\nCOPY conf conf\nCMD ["sh", "/app/app.sh"]\n'
# Files copied one by one into the WORKDIR: the directory itself must become writable too.
FILE_BY_FILE = (
    f'FROM {BASE}\nWORKDIR /app\nCOPY app.sh /app/app.sh\nCOPY conf/settings.ini /app/conf/\nCMD ["/app/app.sh"]\n'
)
USER_ROOT = f'FROM {BASE}\nUSER root\nRUN mkdir -p /etc/app\nCOPY . /app\nUSER root\nENTRYPOINT ["/app/app.sh"]\n'
# Root work after CMD (Docker allows it): the switch must come below it, or the build fails.
ROOT_AFTER_CMD = f'FROM {BASE}\nCOPY . /app\nCMD ["sh", "/app/app.sh"]\nRUN echo app > /etc/app-release && chmod 644 /etc/app-release\n'


@pytest.mark.parametrize(
    "dockerfile",
    [NO_USER, FILE_BY_FILE, USER_ROOT, ROOT_AFTER_CMD],
    ids=["no-user", "file-by-file", "user-root", "root-after-cmd"],
)
def test_fixed_image_builds_and_its_user_reads_and_writes_the_app(tmp_path: Path, dockerfile: str) -> None:
    fixed = fix(dockerfile)
    assert "USER 10001:10001" in fixed
    assert_builds(tmp_path, fixed + SMOKE.format(ids="10001:10001") + "\n")


def test_arbitrary_uid_in_group_0_can_write_the_app_too(tmp_path: Path) -> None:
    """OpenShift runs an image as a UID from the namespace's range in group 0: g=u covers it."""
    fixed = fix(NO_USER)
    assert_builds(tmp_path, fixed + "USER 1000650000:0\n" + SMOKE.format(ids="1000650000:0") + "\n")


def test_the_old_group_0_scheme_left_the_app_unwritable(tmp_path: Path) -> None:
    """The defect this fix replaces: files handed to group 0 only, and the user in group 10001."""
    old = fix(NO_USER).replace("chown -R 10001:0", "chgrp -R 0")
    assert "chgrp -R 0 /app && chmod -R g=u /app" in old
    result = build(tmp_path, old + SMOKE.format(ids="10001:10001") + "\n")
    assert result.returncode != 0
    assert "Permission denied" in result.stderr


def test_the_created_user_exists_by_name(tmp_path: Path) -> None:
    fixed = fix(NO_USER)
    assert_builds(tmp_path, fixed + 'RUN test "$(id -un)" = appuser && test "$(id -gn)" = appuser\n')


def test_a_switch_above_root_work_breaks_the_build(tmp_path: Path) -> None:
    """Why the fix goes below a RUN that needs root: the same switch placed before CMD fails to build."""
    root_run = ROOT_AFTER_CMD.splitlines()[-1]
    fixed = fix(ROOT_AFTER_CMD)
    assert fixed.index("USER 10001:10001") > fixed.index(root_run)
    above = fixed.replace(root_run + "\n", "") + root_run + "\n"
    result = build(tmp_path, above)
    assert result.returncode != 0
    assert "Permission denied" in result.stderr
