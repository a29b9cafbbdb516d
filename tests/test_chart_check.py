"""tools/chart_check counts only what the fixes broke: not a values file or output that failed as shipped."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.helm import renderer
from rules.helm.render import Renderer
from tools.chart_check import measure

WEB = Path(__file__).parent / "data" / "charts" / "web"
REQUIRED_HOST = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-host
data:
  host: {{ required "host must be set" .Values.host | quote }}
"""


@pytest.fixture
def helm() -> Iterator[Renderer]:
    with renderer() as live:
        yield live


def test_a_required_value_missing_before_the_fixes_is_not_a_render_the_fixes_broke(
    tmp_path: Path, helm: Renderer
) -> None:
    chart = tmp_path / "web"
    shutil.copytree(WEB, chart)
    (chart / "templates" / "configmap.yaml").write_text(REQUIRED_HOST, encoding="utf-8")
    (chart / "ci").mkdir()
    (chart / "ci" / "host-values.yaml").write_text("host: web.example\n", encoding="utf-8")

    result = measure(chart, helm)

    assert result.rendered
    assert result.fixed > 0 and result.held == result.fixed
    assert result.render_failures == []
    assert result.invalid == []


def test_output_the_schema_rejects_as_shipped_is_not_blamed_on_the_fixes(tmp_path: Path, helm: Renderer) -> None:
    chart = tmp_path / "web"
    shutil.copytree(WEB, chart)
    # ConfigMap data must be strings: invalid before any fix, and untouched by the fixes.
    (chart / "templates" / "configmap.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-count\ndata:\n  count: 5\n",
        encoding="utf-8",
    )

    result = measure(chart, helm)

    assert result.fixed > 0 and result.held == result.fixed
    assert result.invalid == []
