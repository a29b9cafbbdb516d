"""One-click registration: `unroot serve` without an App, its page in a real browser, GitHub's manifest flow (fake)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import env_file
from bot.manifest import new_app_url, packaged_manifest, web_url_for
from tests.fakegithub import FakeGitHub, running_fake
from tests.patience import PATIENCE, until
from tests.redisserver import free_port

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeGitHub]:
    async with running_fake(tmp_path / "github") as server:
        yield server
    assert server.internal_errors == []
    assert server.schema_errors == []


class Server:
    """An `unroot serve` process in its own directory, on its own port."""

    def __init__(self, workdir: Path, fake: FakeGitHub, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "UNROOT_", "REDIS_"))}
        env.update(GITHUB_API_URL=fake.base_url, GITHUB_WEB_URL=fake.base_url, LOG_FORMAT="text")
        command = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port), *extra]
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(command, cwd=workdir, env=env, stderr=self.stderr)

    async def get(self, path: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as session, session.get(self.url + path) as answer:
            return answer.status, await answer.text()

    async def up(self) -> None:
        async def answers() -> bool:
            try:
                await self.get("/healthz")
            except aiohttp.ClientConnectionError:
                assert self.process.poll() is None, self.log()
                return False
            return True

        await until(answers, "the server to listen")

    def stop(self) -> str:
        self.process.terminate()
        self.process.wait(PATIENCE)
        return self.log()

    def log(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")


@contextmanager
def serving(workdir: Path, fake: FakeGitHub, *extra: str) -> Iterator[Server]:
    server = Server(workdir, fake, *extra)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.stop()


async def _ping(server: Server, secret: str) -> tuple[int, str]:
    body = json.dumps({"zen": "Design for failure.", "hook_id": 1}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-GitHub-Event": "ping", "X-GitHub-Delivery": "setup-1", "X-Hub-Signature-256": signature}
    async with (
        aiohttp.ClientSession() as session,
        session.post(server.url + "/webhook", data=body, headers=headers) as answer,
    ):
        return answer.status, await answer.text()


def _register_in_browser(page_url: str, profile: Path) -> tuple[str, str, str]:
    """Open the setup page in chromium, press the button; the page GitHub sends back, and its install link."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*BROWSER_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        driver.set_page_load_timeout(PATIENCE)
        driver.get(page_url)
        title = driver.title
        driver.find_element(By.ID, "create").click()
        link = WebDriverWait(driver, PATIENCE).until(
            expected_conditions.presence_of_element_located((By.ID, "install"))
        )
        return title, driver.find_element(By.TAG_NAME, "body").text, str(link.get_attribute("href"))
    finally:
        driver.quit()


@pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs Debian's chromium and chromium-driver (.ci/run installs them)",
)
async def test_the_button_registers_the_app_and_the_server_then_verifies_its_deliveries(
    tmp_path: Path, fake: FakeGitHub
) -> None:
    workdir = tmp_path / "app"
    workdir.mkdir()
    with serving(workdir, fake) as server:
        await server.up()
        public = f"http://127.0.0.1:{server.port}"
        title, text, install = await asyncio.to_thread(_register_in_browser, public + "/", tmp_path / "profile")
        assert title == "Register unroot as a GitHub App"

        # What the browser posted to GitHub: the manifest of app.yml with this server's URLs.
        [post] = fake.manifests.posts
        expected = packaged_manifest()
        assert post.manifest["hook_attributes"] == {"url": public + "/webhook", "active": True}
        assert post.manifest["redirect_url"] == public + "/setup/callback"
        assert post.manifest["default_permissions"] == expected["default_permissions"]
        assert post.manifest["default_events"] == expected["default_events"]
        assert post.organization == "" and post.converted and len(post.state) >= 32

        # What the server kept: owner-only, the App GitHub created.
        dotenv = workdir / ".env"
        assert stat.S_IMODE(dotenv.stat().st_mode) == 0o600
        kept = env_file.read(dotenv)
        assert kept["GITHUB_APP_ID"] == str(fake.app.app_id)
        assert kept["GITHUB_PRIVATE_KEY"].replace("\\n", "\n") == fake.app.private_pem
        assert "is registered" in text
        assert install == "https://github.invalid/apps/unroot/installations/new"

        # From now on it is the App: no setup page, deliveries verified with the new secret.
        await until(lambda: _status_is(server, "/", 404), "the setup page to go away")
        assert await _ping(server, kept["GITHUB_WEBHOOK_SECRET"]) == (200, '{"msg": "pong"}')
        assert (await _ping(server, "not-the-secret"))[0] == 401
        log = server.stop()
    assert kept["GITHUB_WEBHOOK_SECRET"] not in log and "PRIVATE KEY" not in log, log

    # A restart in the same directory reads .env and runs as the App at once.
    with serving(workdir, fake) as again:
        await again.up()
        assert await _status_is(again, "/", 404)
        assert (await _ping(again, kept["GITHUB_WEBHOOK_SECRET"]))[0] == 200


async def _status_is(server: Server, path: str, status: int) -> bool:
    return (await server.get(path))[0] == status


async def _code_from_fake(fake: FakeGitHub, state: str, redirect: str) -> str:
    """A code as GitHub issues it: post a manifest to the fake's form, read the redirect."""
    manifest = {**packaged_manifest(), "redirect_url": redirect}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            new_app_url(fake.base_url, state), data={"manifest": json.dumps(manifest)}, allow_redirects=False
        ) as answer,
    ):
        assert answer.status == 302
        found = re.search(r"code=(\w+)", answer.headers["Location"])
    assert found is not None
    return found.group(1)


async def test_an_unknown_or_replayed_code_and_a_foreign_state_get_error_pages(
    tmp_path: Path, fake: FakeGitHub
) -> None:
    with serving(tmp_path, fake, "--public-url", "https://unroot.example.org") as server:
        await server.up()
        status, page = await server.get("/")
        assert status == 200 and "https://unroot.example.org/webhook" in page
        found = re.search(r"state=([\w-]+)", page)
        assert found is not None
        state = found.group(1)

        status, page = await server.get(f"/setup/callback?code=0123abcd&state={state}")
        assert status == 400 and "not valid" in page and "used already" in page

        code = await _code_from_fake(fake, state, server.url + "/setup/callback")
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{fake.base_url}/app-manifests/{code}/conversions") as first:
                assert first.status == 201  # someone else used the code first
            status, page = await server.get(f"/setup/callback?code={code}&state={state}")
        assert status == 400 and "used already" in page

        status, page = await server.get("/setup/callback?code=0123abcd&state=forged")
        assert status == 400 and "did not start here" in page

        assert not (tmp_path / ".env").exists()
        assert (await server.get("/"))[0] == 200  # still unconfigured: the page stays
        log = server.stop()
    assert "Traceback" not in log, log


async def test_the_organization_page_posts_to_the_organization(tmp_path: Path, fake: FakeGitHub) -> None:
    with serving(tmp_path, fake, "--org", "acme") as server:
        await server.up()
        _status, page = await server.get("/")
    assert f'action="{fake.base_url}/organizations/acme/settings/apps/new?state=' in page


async def test_setup_refuses_to_overwrite_credentials(tmp_path: Path, fake: FakeGitHub) -> None:
    (tmp_path / ".env").write_text("GITHUB_APP_ID=1\n")
    with serving(tmp_path, fake, "--setup") as server:
        assert server.process.wait(PATIENCE) == 2
    assert ".env exists already" in server.log()
    with pytest.raises(env_file.EnvFileExists):
        env_file.write_new(tmp_path / ".env", {"GITHUB_APP_ID": "2"})
    assert (tmp_path / ".env").read_text() == "GITHUB_APP_ID=1\n"


@pytest.mark.parametrize(
    ("api", "web"),
    [
        ("https://api.github.com", "https://github.com"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com"),
        ("https://ghe.example.com/api/v3/", "https://ghe.example.com"),
    ],
)
def test_the_web_host_comes_from_the_api_url(api: str, web: str) -> None:
    assert web_url_for(api) == web


def test_a_converted_code_works_once(tmp_path: Path) -> None:
    async def twice() -> list[Any]:
        async with running_fake(tmp_path / "github") as github:
            code = await _code_from_fake(github, "s", "http://127.0.0.1:9/setup/callback")
            async with aiohttp.ClientSession() as session:
                statuses = []
                for _ in range(2):
                    async with session.post(f"{github.base_url}/app-manifests/{code}/conversions") as answer:
                        statuses.append(answer.status)
            assert github.schema_errors == []
            return statuses

    assert asyncio.run(twice()) == [201, 404]
