"""Measure the chart analysis on real charts: renders, findings per rule, where they land, and whether the fixes hold.

For each chart (a folder with Chart.yaml under --charts, default ../shared/corpus/helm):
1. analyse it as `unroot check` does;
2. apply every fix, as `unroot fix` does, to a copy;
3. analyse the copy again, render it with every values file, and validate the output as Kubernetes.

A fix holds when its finding (rule, object, container) is gone after step 3, every values file still
renders, and the output validates. Exit 1 when any applied fix does not hold: `.ci/run` runs this.
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from bot.charts import read_chart
from bot.helm import renderer
from rules.fixes import apply
from rules.helm.chart import analyse_chart, ci_values_files, stays_as, template_of
from rules.helm.render import ChartSource, Renderer, RenderRequest
from rules.model import Finding, LineEdit, Severity

DEFAULT_CHARTS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "helm"
K8S_VERSION = "1.30"


@dataclass
class ChartResult:
    """What one chart gave."""

    name: str
    rendered: bool = True
    problem: str = ""
    findings: list[Finding] = field(default_factory=list)
    fixed: int = 0  # findings whose fix was applied
    held: int = 0  # of those, gone after the re-render
    render_failures: list[str] = field(default_factory=list)  # values files that no longer render
    invalid: list[str] = field(default_factory=list)  # validation errors of the fixed output

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR and f.rule != "UR001"]


def _key(finding: Finding) -> tuple[str, str, str, str | None]:
    """Rule, template, kind and container: what a fix must make go away (object names may be random)."""
    return stays_as(finding, template_of(finding))


def _fixed_copy(chart: Path, findings: list[Finding], workdir: Path) -> Path:
    """A copy of the chart with every fix applied."""
    copy = workdir / chart.name
    shutil.copytree(chart, copy, symlinks=True)
    edits: dict[str, list[LineEdit]] = {}
    for finding in findings:
        if finding.fix is not None:
            edits.setdefault(finding.path, []).extend(finding.fix.edits)
    for path, file_edits in edits.items():
        relative = Path(path).relative_to(chart.as_posix()) if path.startswith(chart.as_posix()) else Path(path)
        target = copy / relative
        target.write_text(apply(target.read_text(encoding="utf-8"), file_edits), encoding="utf-8")
    return copy


def _values_sets(source: ChartSource) -> list[tuple[str, tuple[str, ...]]]:
    """Each render the chart gets: values.yaml alone, then each ci/ values file, with its label."""
    return [("values.yaml", ()), *((name, (name,)) for name in ci_values_files(source.files))]


def _validate(source: ChartSource, helm: Renderer) -> tuple[dict[str, str], list[str]]:
    """Values files (label -> Helm's message) that fail to render, and validation errors of what renders."""
    import kubernetes_validate  # the measurement's own need: the analysis does not validate

    failures: dict[str, str] = {}
    invalid: list[str] = []
    for label, values_files in _values_sets(source):
        rendered = helm.render(source, RenderRequest(values_files=values_files))
        if rendered.failure is not None:
            failures[label] = rendered.message[:160]
            continue
        for template, text in rendered.manifests:
            try:
                documents = list(YAML(typ="safe", pure=True).load_all(io.StringIO(text)))
            except YAMLError as error:
                invalid.append(f"{label} {template}: {str(error).splitlines()[0]}")
                continue
            for document in documents:
                if not isinstance(document, dict) or "kind" not in document:
                    continue
                try:
                    kubernetes_validate.validate(document, K8S_VERSION, strict=False)
                except kubernetes_validate.ValidationError as error:
                    invalid.append(f"{label} {template} {document.get('kind')}: {str(error)[:160]}")
                except kubernetes_validate.SchemaNotFoundError:
                    pass  # a custom resource: no schema to hold it to
    return failures, invalid


def measure(chart: Path, helm: Renderer) -> ChartResult:
    """Analyse, fix, re-analyse and validate one chart."""
    result = ChartResult(chart.name)
    source = read_chart(chart)
    if isinstance(source, str):
        return ChartResult(chart.name, False, source)
    result.findings = analyse_chart(source, helm)
    notices = [f for f in result.findings if f.rule == "UR001" and "Helm could not render" in f.message]
    if notices and len(notices) == len(result.findings):
        result.rendered, result.problem = False, notices[0].message
        return result
    fixed = [f for f in result.findings if f.fix is not None]
    result.fixed = len(fixed)
    if not fixed:
        return result
    with tempfile.TemporaryDirectory(prefix="unroot-chart-") as temporary:
        copy = _fixed_copy(chart, result.findings, Path(temporary))
        again = read_chart(copy)
        assert not isinstance(again, str)
        after = {_key(f) for f in analyse_chart(again, helm)}
        result.held = sum(1 for f in fixed if _key(f) not in after)
        # Only what the fixes broke counts: a required value with no default, or output the schema
        # rejects as shipped (Bitnami's NetworkPolicy `port: null`), fails before any fix too.
        failed_before, invalid_before = _validate(source, helm)
        failed_after, invalid_after = _validate(again, helm)
        result.render_failures = [
            f"{label}: {why}" for label, why in failed_after.items() if label not in failed_before
        ]
        result.invalid = [problem for problem in invalid_after if problem not in invalid_before]
    return result


def report(results: Sequence[ChartResult]) -> str:
    """The table the closing note quotes."""
    lines = ["chart | rendered | findings | errors (with fix) | on values.yaml | on templates | fixes held"]
    rules: Counter[str] = Counter()
    total_values = total_templates = 0
    for r in results:
        on_values = sum(1 for f in r.findings if f.path.endswith("values.yaml") and f.rule != "UR001")
        on_templates = sum(1 for f in r.findings if "/templates/" in f.path and f.rule != "UR001")
        total_values += on_values
        total_templates += on_templates
        rules.update(f.rule for f in r.findings)
        with_fix = sum(1 for f in r.errors if f.fix is not None)
        held = f"{r.held}/{r.fixed}" if r.fixed else "-"
        lines.append(
            f"{r.name} | {'yes' if r.rendered else 'no: ' + r.problem[:80]} | {len(r.findings)} | "
            f"{len(r.errors)} ({with_fix}) | {on_values} | {on_templates} | {held}"
        )
        for failure in r.render_failures:
            lines.append(f"  NO LONGER RENDERS after the fixes: {failure}")
        for problem in r.invalid:
            lines.append(f"  INVALID after the fixes: {problem}")
    placed = total_values + total_templates
    share = f"{100 * total_values / placed:.0f}% on values.yaml" if placed else "no findings"
    lines.append(f"findings per rule: {', '.join(f'{rule} {n}' for rule, n in sorted(rules.items()))}")
    lines.append(f"placement: {total_values} on values.yaml, {total_templates} on templates ({share})")
    fixes = sum(r.fixed for r in results)
    holding = sum(r.held for r in results)
    lines.append(f"fixes: {holding}/{fixes} hold after re-rendering")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--charts", type=Path, default=DEFAULT_CHARTS, help="folder of chart folders")
    args = parser.parse_args(argv)
    charts = sorted(p.parent for p in args.charts.glob("*/Chart.yaml"))
    if not charts:
        print(f"no charts under {args.charts}", file=sys.stderr)
        return 2
    with renderer() as helm:
        results = [measure(chart, helm) for chart in charts]
    sys.stdout.write(report(results))
    broken = [r for r in results if r.held != r.fixed or r.render_failures or r.invalid]
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
