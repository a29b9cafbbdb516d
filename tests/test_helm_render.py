"""bot.helm renders charts with real Helm (the SDK) in a real child process, within its limits."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
import tarfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from bot.helm import BINARY, HOW_TO_ENABLE, SDK, ChildRenderer, HelmLimits, UnavailableRenderer, renderer
from bot.helm.values import layered
from rules.helm.render import ChartSource, Rendered, RenderFailure, RenderRequest

WEB = Path(__file__).parent / "data" / "charts" / "web"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "helm"
WEB_MANIFESTS = [
    "templates/deployment.yaml",
    "templates/service.yaml",
    "templates/serviceaccount.yaml",
    "templates/tests/test-connection.yaml",
]
# Renders of nothing that loop: a billion-element list makes Go's runtime run out of memory; nested
# short lists allocate little and just take time (about 2 s per 6000 outer steps here).
OUT_OF_MEMORY = b"{{ range until 100000000 }}x{{ end }}\n"
SLOW = b"{{ range until 200000 }}{{ range until 3000 }}{{ end }}{{ end }}\n"


def files_of(directory: Path) -> dict[str, bytes]:
    """A chart directory as the protocol carries it: chart-relative POSIX path -> bytes."""
    return {
        path.relative_to(directory).as_posix(): path.read_bytes() for path in directory.rglob("*") if path.is_file()
    }


def web(extra: Mapping[str, bytes] | None = None) -> ChartSource:
    """The `helm create web` scaffold, with `extra` files added or replaced."""
    return ChartSource(root="deploy/web", files={**files_of(WEB), **(extra or {})})


def small_chart(template: bytes, chart_yaml: bytes | None = None, **files: bytes) -> ChartSource:
    """A chart named `tiny` with one template."""
    chart = chart_yaml or b"apiVersion: v2\nname: tiny\nversion: 0.1.0\n"
    return ChartSource(root="", files={"Chart.yaml": chart, "templates/x.yaml": template, **files})


def manifest(rendered: Rendered, path: str) -> str:
    found = dict(rendered.manifests)
    assert path in found, (rendered.failure, rendered.message, list(found))
    return found[path]


def gone(pid: int) -> bool:
    """The process no longer exists (it was killed and reaped, not left a zombie or an orphan)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture(scope="module")
def helm() -> Iterator[ChildRenderer]:
    """One SDK child for the renders that do not kill it (as one CLI run would use it)."""
    with ChildRenderer(SDK) as child_renderer:
        yield child_renderer


def test_the_scaffold_renders_with_chart_relative_paths_without_notes_or_empty_templates(helm: ChildRenderer) -> None:
    rendered = helm.render(web(), RenderRequest(release="shop", namespace="prod"))
    assert rendered.failure is None, rendered.message
    assert [path for path, _ in rendered.manifests] == WEB_MANIFESTS
    deployment = manifest(rendered, "templates/deployment.yaml")
    assert "name: shop-web" in deployment and "replicas: 1" in deployment
    assert "securityContext" not in deployment  # the scaffold's `podSecurityContext: {}` renders nothing


def test_values_files_layer_like_helm_f_later_wins_maps_merge_null_deletes(helm: ChildRenderer) -> None:
    hardened = b"replicaCount: 3\npodSecurityContext:\n  fsGroup: 2000\nsecurityContext:\n  runAsUser: 1000\n  runAsNonRoot: true\n"
    other_user = b"podSecurityContext: null\nsecurityContext:\n  runAsUser: 2000\n"
    chart = web({"ci/hardened-values.yaml": hardened, "ci/other-values.yaml": other_user})
    rendered = helm.render(chart, RenderRequest(values_files=("ci/hardened-values.yaml", "ci/other-values.yaml")))
    deployment = manifest(rendered, "templates/deployment.yaml")
    assert "replicas: 3" in deployment
    assert "runAsUser: 2000" in deployment and "runAsNonRoot: true" in deployment  # merged, later file wins
    assert "fsGroup" not in deployment  # null removed the pod securityContext the first file set
    reversed_order = helm.render(chart, RenderRequest(values_files=("ci/other-values.yaml", "ci/hardened-values.yaml")))
    assert "runAsUser: 1000" in manifest(reversed_order, "templates/deployment.yaml")
    assert "fsGroup: 2000" in manifest(reversed_order, "templates/deployment.yaml")


def test_request_values_merge_over_the_values_files(helm: ChildRenderer) -> None:
    chart = web({"ci/hardened-values.yaml": b"securityContext:\n  runAsUser: 1000\n  runAsNonRoot: true\n"})
    request = RenderRequest(values_files=("ci/hardened-values.yaml",), values={"securityContext": {"runAsUser": 3000}})
    deployment = manifest(helm.render(chart, request), "templates/deployment.yaml")
    assert "runAsUser: 3000" in deployment and "runAsNonRoot: true" in deployment


def test_layering_keeps_null_for_helm_to_delete_and_replaces_non_maps() -> None:
    assert layered([{"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"b": None}, "d": [2]}, {"a": {"e": 3}}]) == {
        "a": {"b": None, "c": 2, "e": 3},
        "d": [2],
    }
    assert layered([{"a": None}, {"a": {"b": 1}}]) == {"a": {"b": 1}}
    assert layered([{"a": {"b": 1}}, {"a": "text"}]) == {"a": "text"}


def test_a_replaced_file_applies_to_that_render_only(helm: ChildRenderer) -> None:
    values = (WEB / "values.yaml").read_bytes().replace(b"replicaCount: 1", b"replicaCount: 5")
    fixed = helm.render(web(), RenderRequest(replace={"values.yaml": values}))
    assert "replicas: 5" in manifest(fixed, "templates/deployment.yaml")
    assert "replicas: 1" in manifest(helm.render(web(), RenderRequest()), "templates/deployment.yaml")


def _archive(name: str, files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, content in files.items():
            entry = tarfile.TarInfo(f"{name}/{path}")
            entry.size = len(content)
            archive.addfile(entry, io.BytesIO(content))
    return buffer.getvalue()


def test_vendored_subcharts_render_with_the_parent_as_directories_and_archives(helm: ChildRenderer) -> None:
    config_map = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\n"
    archived = _archive(
        "cache", {"Chart.yaml": b"apiVersion: v2\nname: cache\nversion: 1.0.0\n", "templates/cm.yaml": config_map}
    )
    chart = web(
        {
            "charts/sub/Chart.yaml": b"apiVersion: v2\nname: sub\nversion: 0.1.0\n",
            "charts/sub/templates/cm.yaml": config_map,
            "charts/cache-1.0.0.tgz": archived,
        }
    )
    rendered = helm.render(chart, RenderRequest())
    assert "name: rel-sub" in manifest(rendered, "charts/sub/templates/cm.yaml")
    assert "name: rel-cache" in manifest(rendered, "charts/cache/templates/cm.yaml")


def test_a_dependency_not_vendored_is_named(helm: ChildRenderer) -> None:
    declared = (WEB / "Chart.yaml").read_bytes() + (
        b"dependencies:\n  - name: postgresql\n    version: 15.x.x\n    repository: oci://registry-1.docker.io/bitnamicharts\n"
    )
    rendered = helm.render(web({"Chart.yaml": declared}), RenderRequest())
    assert rendered.failure is RenderFailure.MISSING_DEPENDENCY and rendered.manifests == ()
    assert "postgresql" in rendered.message
    vendored = {"charts/postgresql/Chart.yaml": b"apiVersion: v2\nname: postgresql\nversion: 15.1.0\n"}
    assert helm.render(web({"Chart.yaml": declared, **vendored}), RenderRequest()).failure is None


def test_a_required_value_keeps_helms_message_and_a_fail_is_a_template_error(helm: ChildRenderer) -> None:
    required = small_chart(
        b'image: {{ required "image.repository is required" .Values.image.repository }}\n',
        **{"values.yaml": b"image: {}\n"},
    )
    rendered = helm.render(required, RenderRequest())
    assert rendered.failure is RenderFailure.REQUIRED
    assert rendered.message == "execution error at (tiny/templates/x.yaml:1:10): image.repository is required"
    # A `fail` whose text says "required" is still the chart refusing, not a missing value.
    failing = helm.render(small_chart(b'{{ fail "a license key is required here" }}\n'), RenderRequest())
    assert failing.failure is RenderFailure.TEMPLATE
    assert failing.message == "execution error at (tiny/templates/x.yaml:1:3): a license key is required here"


def test_template_errors_and_schema_violations_are_template_failures_with_helms_words(helm: ChildRenderer) -> None:
    parse_error = helm.render(small_chart(b"{{ .Values.a | nosuchfunction }}\n"), RenderRequest())
    assert parse_error.failure is RenderFailure.TEMPLATE
    assert 'function "nosuchfunction" not defined' in parse_error.message
    schema = b'{"type": "object", "properties": {"replicas": {"type": "integer"}}}'
    typed = small_chart(b"a: 1\n", **{"values.schema.json": schema})
    violation = helm.render(typed, RenderRequest(values={"replicas": "three"}))
    assert violation.failure is RenderFailure.TEMPLATE
    assert "/replicas" in violation.message and "want integer" in violation.message


def test_paths_that_leave_the_chart_are_refused(helm: ChildRenderer, tmp_path: Path) -> None:
    for escaping in ("../escaped.yaml", "templates/../../escaped.yaml", str(tmp_path / "escaped.yaml")):
        rendered = helm.render(web({escaping: b"a: 1\n"}), RenderRequest())
        assert rendered.failure is RenderFailure.TEMPLATE and "leaves the chart directory" in rendered.message
        replaced = helm.render(web(), RenderRequest(replace={escaping: b"a: 1\n"}))
        assert replaced.failure is RenderFailure.TEMPLATE and "leaves the chart directory" in replaced.message
    assert not (tmp_path / "escaped.yaml").exists()
    outside = helm.render(web(), RenderRequest(values_files=("../../../../etc/passwd",)))
    assert outside.failure is RenderFailure.TEMPLATE and "leaves the chart directory" in outside.message
    absent = helm.render(web(), RenderRequest(values_files=("ci/none-values.yaml",)))
    assert absent.failure is RenderFailure.TEMPLATE and "ci/none-values.yaml" in absent.message


def test_a_template_that_allocates_without_end_is_stopped_as_resources_with_one_line() -> None:
    with ChildRenderer(SDK, HelmLimits(wall_seconds=60)) as helm:
        started = time.monotonic()
        rendered = helm.render(small_chart(OUT_OF_MEMORY), RenderRequest())
        assert time.monotonic() - started < 60
        assert rendered.failure is RenderFailure.RESOURCES
        assert rendered.message == "ran out of memory (2048 MB of address space) and was stopped"
        assert helm.child_pid is None


def test_a_render_past_its_cpu_limit_is_stopped_as_resources() -> None:
    with ChildRenderer(SDK, HelmLimits(cpu_seconds=1, wall_seconds=60)) as helm:
        rendered = helm.render(small_chart(SLOW), RenderRequest())
        assert (rendered.failure, rendered.message) == (
            RenderFailure.RESOURCES,
            "used more than 1 s of CPU and was stopped",
        )


def test_a_slow_render_times_out_its_child_is_killed_and_the_next_render_gets_a_new_one() -> None:
    with ChildRenderer(SDK, HelmLimits(wall_seconds=1.5)) as helm:
        assert helm.render(web(), RenderRequest()).failure is None
        first = helm.child_pid
        assert first is not None
        assert helm.render(web(), RenderRequest()).failure is None and helm.child_pid == first  # kept alive
        started = time.monotonic()
        rendered = helm.render(small_chart(SLOW), RenderRequest())
        assert time.monotonic() - started < 10
        assert (rendered.failure, rendered.message) == (RenderFailure.TIMEOUT, "took longer than 1.5 s and was stopped")
        assert helm.child_pid is None and gone(first)
        again = helm.render(web(), RenderRequest())
        assert again.failure is None and helm.child_pid not in (None, first)
        last = helm.child_pid
    assert last is not None and gone(last)  # close() stopped it


def test_without_helm_every_render_says_how_to_enable_chart_checks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no helm binary here
    with renderer(backends=(BINARY,)) as nothing:
        assert isinstance(nothing, UnavailableRenderer)
        rendered = nothing.render(web(), RenderRequest())
    assert rendered == Rendered(failure=RenderFailure.UNAVAILABLE, message=HOW_TO_ENABLE)
    assert (
        HOW_TO_ENABLE
        == "Helm charts are checked when Helm is installed: pip install 'unroot[helm]' (or put helm on PATH)"
    )


def test_the_sdk_is_preferred_and_never_loaded_in_this_process() -> None:
    with renderer() as chosen:
        assert chosen.backend == SDK
        assert chosen.render(web(), RenderRequest()).failure is None
    assert "helm_python" not in sys.modules


# The binary backend, against a stand-in `helm`: no helm binary is installed here, so these tests
# check only our side of the contract (the command line we build, how we split and classify what
# `helm template` prints), with output copied from Helm's format; the rendering itself is the SDK's,
# tested above.
FAKE_HELM = '''\
#!{python}
"""Stands in for `helm template`: records its arguments and environment, prints what helm would."""
import json, os, sys, time
record = {{"argv": sys.argv[1:], "env": dict(os.environ), "pid": os.getpid()}}
values = [sys.argv[i + 1] for i, a in enumerate(sys.argv) if a == "--values"]
record["values"] = [open(path).read() for path in values]
with open({record!r}, "w") as handle:
    json.dump(record, handle)
mode = open({mode!r}).read()
if mode == "sleep":
    time.sleep(600)
if mode == "required":
    sys.stderr.write("Error: execution error at (web/templates/x.yaml:1:10): image.repository is required\\n")
    sys.exit(1)
sys.stdout.write(
    "---\\n# Source: web/templates/serviceaccount.yaml\\napiVersion: v1\\nkind: ServiceAccount\\n"
    "---\\n# Source: web/templates/two.yaml\\napiVersion: v1\\nkind: Service\\n"
    "---\\n# Source: web/charts/sub/templates/cm.yaml\\napiVersion: v1\\nkind: ConfigMap\\n"
    "---\\n# Source: web/templates/two.yaml\\napiVersion: apps/v1\\nkind: Deployment\\n"
)
'''


@pytest.fixture
def fake_helm(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A `helm` script, the file it records into, and the file that picks its behaviour."""
    record, mode = tmp_path / "record.json", tmp_path / "mode"
    mode.write_text("render")
    script = tmp_path / "bin" / "helm"
    script.parent.mkdir()
    script.write_text(FAKE_HELM.format(python=sys.executable, record=str(record), mode=str(mode)))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, record, mode


def test_binary_backend_command_line_and_output_splitting(
    fake_helm: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    script, record, _ = fake_helm
    monkeypatch.setenv("KUBECONFIG", "/root/.kube/config")
    monkeypatch.setenv("HELM_REPOSITORY_CONFIG", "/root/repositories.yaml")
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    chart = web({"ci/a-values.yaml": b"replicaCount: 2\n"})
    with renderer(backends=(BINARY,)) as helm:
        assert helm.backend == BINARY
        rendered = helm.render(
            chart,
            RenderRequest(values_files=("ci/a-values.yaml",), values={"x": {"y": 1}}, release="shop", namespace="prod"),
        )
    assert rendered.failure is None, rendered.message
    assert rendered.manifests == (
        ("templates/serviceaccount.yaml", "apiVersion: v1\nkind: ServiceAccount\n"),
        ("templates/two.yaml", "apiVersion: v1\nkind: Service\n---\napiVersion: apps/v1\nkind: Deployment\n"),
        ("charts/sub/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\n"),
    )
    called = json.loads(record.read_text())
    template, release, chart_dir, namespace_flag, namespace, *values = called["argv"]
    assert (template, release, namespace_flag, namespace) == ("template", "shop", "--namespace", "prod")
    assert values[0::2] == ["--values", "--values"] and values[1] == f"{chart_dir}/ci/a-values.yaml"
    assert called["values"] == ["replicaCount: 2\n", '{"x": {"y": 1}}']
    environment = called["env"]
    assert "KUBECONFIG" not in environment and "HELM_REPOSITORY_CONFIG" not in environment
    home = environment["HOME"]
    assert chart_dir.startswith(home) and environment["HELM_CACHE_HOME"].startswith(home)
    assert not Path(home).exists()  # the child's private directory went with it


def test_binary_backend_classifies_helms_error_text(fake_helm: tuple[Path, Path, Path]) -> None:
    script, _, mode = fake_helm
    mode.write_text("required")
    chart = web(
        {"templates/x.yaml": b'image: {{ required "image.repository is required" .Values.image.repository }}\n'}
    )
    with ChildRenderer(BINARY, helm_binary=str(script)) as helm:
        rendered = helm.render(chart, RenderRequest())
    assert rendered.failure is RenderFailure.REQUIRED
    assert rendered.message == "execution error at (web/templates/x.yaml:1:10): image.repository is required"


def test_binary_backend_timeout_kills_helm_too(fake_helm: tuple[Path, Path, Path]) -> None:
    script, record, mode = fake_helm
    mode.write_text("sleep")
    with ChildRenderer(BINARY, HelmLimits(wall_seconds=2), helm_binary=str(script)) as helm:
        rendered = helm.render(web(), RenderRequest())
    assert rendered.failure is RenderFailure.TIMEOUT
    assert gone(json.loads(record.read_text())["pid"])  # no orphaned helm left sleeping


@pytest.mark.skipif(
    not CORPUS.is_dir(), reason="../shared/corpus/helm is not beside this clone (it is the lead's corpus)"
)
def test_every_corpus_chart_renders(helm: ChildRenderer) -> None:
    charts = sorted(path for path in CORPUS.iterdir() if (path / "Chart.yaml").is_file())
    assert len(charts) == 8
    for chart in charts:
        rendered = helm.render(ChartSource(root=chart.name, files=files_of(chart)), RenderRequest())
        assert rendered.failure is None, (chart.name, rendered.message)
        kinds = "".join(text for _, text in rendered.manifests)
        assert any(kind in kinds for kind in ("kind: Deployment", "kind: DaemonSet", "kind: StatefulSet")), chart.name
