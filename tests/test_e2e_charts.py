"""End to end for Helm charts: the real app over HTTP, the fake GitHub, real git repositories, Helm's own engine."""

from __future__ import annotations

import io
import tarfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.app import make_app
from bot.config import AppSettings
from bot.github import RetryPolicy
from bot.helm import HOW_TO_ENABLE, UnavailableRenderer, renderer
from bot.helm.limits import HelmLimits
from bot.status import RUNTIME
from rules.helm.discover import MAX_CHART_BYTES, MAX_CHART_FILES
from rules.helm.render import ChartSource, Rendered, Renderer, RenderRequest
from tests.fakegithub import FakeGitHub, PullRequest
from tests.test_e2e import SECRET, Bot, apply_suggestions, completed_runs, pr_payload

WEB_CHART = Path(__file__).parent / "data" / "charts" / "web"
SECURITY_KEYS = (
    "podSecurityContext: {}\n  # fsGroup: 2000\n\n"
    "securityContext: {}\n  # capabilities:\n  #   drop:\n  #   - ALL\n  # readOnlyRootFilesystem: true\n"
    "  # runAsNonRoot: true\n  # runAsUser: 1000\n\n"
)


def web_chart(root: str) -> dict[str, str]:
    """The `helm create` chart under ROOT, without its test hook (a template of its own, with its
    own root container: a values.yaml fix cannot turn that check green)."""
    files = {}
    for path in sorted(WEB_CHART.rglob("*")):
        relative = path.relative_to(WEB_CHART).as_posix()
        if path.is_file() and not relative.startswith("templates/tests/"):
            files[f"{root}/{relative}"] = path.read_text()
    return files


def values_without_security_keys() -> str:
    """values.yaml as an older scaffold wrote it: no podSecurityContext / securityContext keys."""
    values = (WEB_CHART / "values.yaml").read_text()
    assert SECURITY_KEYS in values
    return values.replace(SECURITY_KEYS, "")


class CountingRenderer:
    """A real Helm renderer that counts the renders of each chart root (for 'only changed charts render')."""

    def __init__(self, inner: Renderer, counts: dict[str, int], lock: threading.Lock) -> None:
        self.inner = inner
        self.counts = counts
        self.lock = lock

    def render(self, chart: ChartSource, request: RenderRequest) -> Rendered:
        with self.lock:
            self.counts[chart.root] = self.counts.get(chart.root, 0) + 1
        return self.inner.render(chart, request)

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()


def counting(make: Callable[[], Renderer]) -> tuple[Callable[[], Renderer], dict[str, int]]:
    counts: dict[str, int] = {}
    lock = threading.Lock()
    return (lambda: CountingRenderer(make(), counts, lock)), counts


async def start_bot(fake: FakeGitHub, **settings: object) -> tuple[TestServer, aiohttp.ClientSession, Bot]:
    app = make_app(
        AppSettings(
            app_id=fake.app.app_id,
            private_key=fake.app.private_pem,
            webhook_secret=SECRET,
            api_url=fake.base_url,
            workers=4,
            **settings,  # type: ignore[arg-type]
        )
    )
    app[RUNTIME].retry = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    session = aiohttp.ClientSession()
    return server, session, Bot(server, session, fake)


@pytest.fixture
async def bot(fake_github: FakeGitHub) -> AsyncIterator[Bot]:
    server, session, running = await start_bot(fake_github)
    try:
        yield running
    finally:
        await session.close()
        await server.close()


def use_renderer(bot: Bot, make: Callable[[], Renderer]) -> None:
    bot.server.app[RUNTIME].make_renderer = make


async def review(bot: Bot, pr: PullRequest, action: str = "opened") -> PullRequest:
    """Deliver the pull request's event and wait for the job; the PR as the fake has it now."""
    pr = bot.fake.pull(pr.repo, pr.number)
    response = await bot.deliver("pull_request", pr_payload(bot.fake, pr, action))
    assert response.status == 202
    await bot.idle()
    return pr


def errors(run: object) -> list[dict[str, object]]:
    return [a for a in run.annotations if a["annotation_level"] == "failure"]  # type: ignore[attr-defined]


def refused(fake: FakeGitHub) -> list[object]:
    return [r for r in fake.requests if r.status >= 400 and not r.path.endswith("/.github/unroot.yml")]


async def test_a_values_only_pull_request_gets_a_values_suggestion_that_turns_the_check_green(bot: Bot) -> None:
    fake = bot.fake
    make, counts = counting(renderer)
    use_renderer(bot, make)
    base = web_chart("deploy/web")
    base["deploy/web/values.yaml"] = values_without_security_keys()
    head_values = (WEB_CHART / "values.yaml").read_text().replace("replicaCount: 1", "replicaCount: 2")
    pr = fake.setup_pull(base, {"deploy/web/values.yaml": head_values})
    pr = await review(bot, pr)

    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.status == "completed" and run.conclusion == "failure", run.output
    assert counts.get("deploy/web", 0) >= 1
    comments = fake.comments_for(pr.repo, pr.number)
    on_values = [c for c in comments if c.path == "deploy/web/values.yaml"]
    assert on_values and all("```suggestion" in c.body for c in on_values if "UR201" in c.body), comments
    assert {c.path for c in comments} == {"deploy/web/values.yaml"}  # nothing on the untouched templates
    assert not refused(fake)

    # The author commits the suggestions as GitHub's "Commit suggestion" does.
    fixed = apply_suggestions(head_values, on_values)
    assert fixed != head_values and "runAsNonRoot: true" in fixed
    assert "# fsGroup: 2000" in fixed and "# readOnlyRootFilesystem: true" in fixed  # the scaffold's hints stay
    fake.push_pull(pr.repo, pr.number, {"deploy/web/values.yaml": fixed}, "apply unroot's suggestions")
    pr = await review(bot, pr, "synchronize")
    (green,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert green.conclusion in ("success", "neutral"), green.output
    assert not errors(green)
    # The threads of the errors the suggestions fixed are resolved.
    fixed_ids = {c.id for c in on_values if "UR201" in c.body}
    threads = [t for t in fake.threads_for(pr.repo, pr.number) if fixed_ids & set(t.comment_ids)]
    assert threads and all(t.is_resolved for t in threads)


async def test_a_re_run_on_an_unchanged_chart_posts_nothing_twice(bot: Bot) -> None:
    fake = bot.fake
    base = web_chart("deploy/web")
    base["deploy/web/values.yaml"] = values_without_security_keys()
    pr = fake.setup_pull(base, {"deploy/web/values.yaml": (WEB_CHART / "values.yaml").read_text()})
    pr = await review(bot, pr)
    first = len(fake.comments_for(pr.repo, pr.number))
    assert first >= 1

    fake.push_pull(pr.repo, pr.number, {"README.md": "the chart of web\n"})
    pr = await review(bot, pr, "synchronize")
    assert len(fake.comments_for(pr.repo, pr.number)) == first
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.conclusion == "failure"  # the findings are still there, still in the annotations
    assert any(a["path"] == "deploy/web/values.yaml" for a in run.annotations)


async def test_a_template_only_pull_request_gets_its_finding_on_the_template(bot: Bot) -> None:
    fake = bot.fake
    base = web_chart("charts/web")
    deployment = base["charts/web/templates/deployment.yaml"]
    # The PR adds a sidecar written into the template: its securityContext can only come from there.
    sidecar = '        - name: sidecar\n          image: "busybox:1.36"\n          command: ["sleep", "infinity"]\n'
    head = deployment.replace("      {{- with .Values.volumes }}", sidecar + "      {{- with .Values.volumes }}")
    assert head != deployment
    pr = fake.setup_pull(base, {"charts/web/templates/deployment.yaml": head})
    pr = await review(bot, pr)

    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.conclusion == "failure"
    comments = fake.comments_for(pr.repo, pr.number)
    sidecar_line = head.splitlines().index("        - name: sidecar") + 1
    on_template = [c for c in comments if c.path == "charts/web/templates/deployment.yaml"]
    assert any("'sidecar'" in c.body for c in on_template), comments
    assert all((c.line or 0) >= sidecar_line for c in on_template if "'sidecar'" in c.body)
    # The web container's findings come from values.yaml, outside the diff: annotations name its lines.
    values_notes = [a for a in run.annotations if a["path"] == "charts/web/values.yaml"]
    assert values_notes and all(isinstance(a["start_line"], int) and a["start_line"] > 1 for a in values_notes)
    assert not [c for c in comments if c.path == "charts/web/values.yaml"]
    assert not refused(fake)


LOOP = "{{- range $i := until 100000 }}{{- range $j := until 100000 }}{{- end }}{{- end }}\n"


async def test_a_looping_template_gets_a_completed_run_with_a_notice_within_the_time_limit(
    fake_github: FakeGitHub,
) -> None:
    server, session, bot = await start_bot(fake_github, helm_seconds=3.0)
    try:
        base = web_chart("deploy/web")
        pr = fake_github.setup_pull(base, {"deploy/web/templates/loop.yaml": LOOP})
        started = time.monotonic()
        pr = await review(bot, pr)
        took = time.monotonic() - started
    finally:
        await session.close()
        await server.close()
    (run,) = completed_runs(fake_github, pr.repo, pr.head_sha)
    assert run.status == "completed" and "could not finish" not in run.output["title"], run.output
    notices = [a for a in run.annotations if "UR001" in (a.get("title") or "") + a["message"]]
    assert notices and notices[0]["path"] == "deploy/web/Chart.yaml", run.annotations
    assert "3 s" in notices[0]["message"] or "time" in notices[0]["message"], notices[0]
    # 3 s of Helm, the child's start and the job's own calls; a hung worker would take the job timeout.
    assert took < 3.0 + HelmLimits().start_seconds, took


async def test_a_chart_that_did_not_change_is_not_rendered(bot: Bot) -> None:
    fake = bot.fake
    make, counts = counting(renderer)
    use_renderer(bot, make)
    base = {**web_chart("charts/api"), **web_chart("charts/web"), **web_chart("charts/worker")}
    values = base["charts/web/values.yaml"].replace("replicaCount: 1", "replicaCount: 3")
    pr = fake.setup_pull(base, {"charts/web/values.yaml": values, "README.md": "three charts\n"})
    pr = await review(bot, pr)
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.conclusion == "failure"
    assert set(counts) == {"charts/web"} and counts["charts/web"] >= 1, counts
    assert {a["path"].split("/")[1] for a in run.annotations} == {"web"}


@pytest.mark.parametrize("oversize", ["files", "bytes"])
async def test_a_chart_over_the_size_limits_gets_a_notice_and_a_completed_run(bot: Bot, oversize: str) -> None:
    fake = bot.fake
    make, counts = counting(renderer)
    use_renderer(bot, make)
    base: dict[str, str | bytes] = dict(web_chart("deploy/web"))
    if oversize == "files":
        base.update({f"deploy/web/files/f{i:04}.txt": f"{i}\n" for i in range(MAX_CHART_FILES)})
    else:
        base["deploy/web/files/big.bin"] = bytes(MAX_CHART_BYTES + 1)
    pr = fake.setup_pull(base, {"deploy/web/values.yaml": values_without_security_keys()})
    pr = await review(bot, pr)
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.status == "completed" and "could not finish" not in run.output["title"], run.output
    (notice,) = [a for a in run.annotations if a["path"] == "deploy/web/Chart.yaml"]
    assert "limit" in notice["message"] and notice["annotation_level"] == "notice", notice
    assert counts == {}
    blob_reads = [r for r in fake.requests if "/git/blobs/" in r.path or "/contents/deploy/web/files" in r.path]
    assert not blob_reads  # judged from the listing's sizes: nothing of the chart was read


async def test_without_helm_the_run_completes_and_says_how_to_enable_chart_checks(bot: Bot) -> None:
    fake = bot.fake
    use_renderer(bot, UnavailableRenderer)
    pr = fake.setup_pull(web_chart("deploy/web"), {"deploy/web/values.yaml": values_without_security_keys()})
    pr = await review(bot, pr)
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.status == "completed" and "could not finish" not in run.output["title"], run.output
    (notice,) = [a for a in run.annotations if a["path"] == "deploy/web/Chart.yaml"]
    assert HOW_TO_ENABLE in notice["message"]
    assert "pip install 'unroot[helm]'" in run.output["summary"] or HOW_TO_ENABLE in notice["message"]


async def test_a_vendored_subchart_archive_is_read_and_rendered_with_its_parent(bot: Bot) -> None:
    fake = bot.fake
    sub = web_chart("sub")
    sub["sub/Chart.yaml"] = sub["sub/Chart.yaml"].replace("name: web", "name: sub")
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for path, text in sub.items():
            data = text.replace('"web.', '"sub.').encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    base: dict[str, str | bytes] = dict(web_chart("deploy/web"))
    base["deploy/web/charts/sub-0.1.0.tgz"] = archive.getvalue()
    pr = fake.setup_pull(base, {"deploy/web/values.yaml": values_without_security_keys()})
    pr = await review(bot, pr)
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert "could not finish" not in run.output["title"], run.output
    messages = " ".join(a["message"] for a in run.annotations)
    assert "Deployment/rel-sub" in messages, run.annotations  # the archive's chart rendered
    assert not refused(fake)


async def test_a_truncated_listing_still_reviews_the_changed_chart_whole(bot: Bot) -> None:
    fake = bot.fake
    make, counts = counting(renderer)
    use_renderer(bot, make)
    # The repository's listing (27 entries) is cut within deploy/other; deploy/web's own (12) is whole.
    fake.tree_entry_limit = 15
    base = {**web_chart("deploy/web"), **web_chart("deploy/other")}
    base["deploy/web/values.yaml"] = values_without_security_keys()
    head = {"deploy/web/values.yaml": (WEB_CHART / "values.yaml").read_text()}
    head["deploy/web/templates/service.yaml"] = base["deploy/web/templates/service.yaml"] + "# reviewed\n"
    pr = fake.setup_pull(base, head)
    pr = await review(bot, pr)
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.conclusion == "failure" and "could not finish" not in run.output["title"], run.output
    assert set(counts) == {"deploy/web"}
    skipped_templates = [a for a in run.annotations if "placeholders" in a["message"]]
    assert not skipped_templates, skipped_templates  # not judged file by file as unrenderable templates
    comments = fake.comments_for(pr.repo, pr.number)
    assert any(c.path == "deploy/web/values.yaml" and "```suggestion" in c.body for c in comments), comments
    assert not refused(fake)


async def test_a_chart_whose_own_listing_is_cut_short_gets_a_notice_not_silence(bot: Bot) -> None:
    fake = bot.fake
    make, counts = counting(renderer)
    use_renderer(bot, make)
    fake.tree_entry_limit = 5  # the chart's own listing (12 entries) is cut too
    pr = fake.setup_pull(web_chart("deploy/web"), {"deploy/web/values.yaml": values_without_security_keys()})
    pr = await review(bot, pr)
    (run,) = completed_runs(fake, pr.repo, pr.head_sha)
    assert run.status == "completed" and "could not finish" not in run.output["title"], run.output
    (notice,) = [a for a in run.annotations if a["path"] == "deploy/web/Chart.yaml"]
    assert "listing" in notice["message"] and notice["annotation_level"] == "notice"
    assert counts == {}
