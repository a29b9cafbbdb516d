"""A Helm chart judged on what Helm renders, each finding and fix placed on the values or template line a person edits.

1. Render the chart with its values.yaml, then with each `ci/*-values.yaml` and configured file.
2. Run the Kubernetes rules on the output.
3. Learn which value feeds each rendered securityContext (rules.helm.probe).
4. Move every finding to its source: the value's key in values.yaml, or the template line that
   emits the object; turn each rendered fix into an edit of that source (the values key gets the
   settings the fix adds; a template without any securityContext gets one inserted).
5. Render again with the edits and keep only the fixes whose findings are gone, with every
   values file still rendering.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from rules.fixes import EditConflict, apply, merge_edits
from rules.helm import values_edit
from rules.helm.dependencies import missing, without_missing
from rules.helm.placement import Alignment, align
from rules.helm.probe import Provenance, ValuePath, load_values, lookup, provenance
from rules.helm.render import ChartSource, Rendered, Renderer, RenderFailure, RenderRequest
from rules.helm.rendered import POD, Context, Place, contexts
from rules.kubernetes.checker import DEFERRED_NOTE
from rules.model import Deferred, Finding, Fix, LineEdit, Options
from rules.ur001_file_skipped import skipped

VALUES = "values.yaml"
_NO_FIX_PREFIX = "(No fix offered: "
# The securityContext fields each rule reads: a finding of theirs belongs on the value that sets one
# of them, or on the value that feeds the context where it is missing.
_CONTAINER_ONLY = frozenset({"UR204", "UR205", "UR206", "UR211", "UR214"})
_RULE_KEYS: dict[str, tuple[str, ...]] = {
    "UR201": ("runAsNonRoot", "runAsUser"),
    "UR202": ("runAsUser",),
    "UR203": ("runAsNonRoot",),
    "UR204": ("privileged",),
    "UR205": ("allowPrivilegeEscalation",),
    "UR206": ("capabilities",),
    "UR208": ("runAsGroup", "runAsUser"),
    "UR209": ("seccompProfile",),
    "UR210": ("allowPrivilegeEscalation", "capabilities", "privileged", "readOnlyRootFilesystem", "procMount"),
    "UR211": ("readOnlyRootFilesystem",),
    "UR214": ("procMount",),
    "UR215": ("seLinuxOptions",),
    "UR216": ("appArmorProfile",),
    "UR217": ("sysctls",),
    "UR218": ("windowsOptions",),
    "UR220": ("runAsUser", "runAsNonRoot"),
}


def ci_values_files(files: Mapping[str, bytes]) -> tuple[str, ...]:
    """chart-testing's extra values files: `ci/*-values.yaml` (and .yml), in name order."""
    return tuple(
        sorted(
            path for path in files if posixpath.dirname(path) == "ci" and path.endswith(("-values.yaml", "-values.yml"))
        )
    )


def _text(files: Mapping[str, bytes], path: str) -> str:
    data = files.get(path)
    return data.decode("utf-8", errors="replace").lstrip("\ufeff") if data is not None else ""


@dataclass
class _Rendered:
    """One rendered template's findings, with what each finding's fix changes in it."""

    template: str
    text: str
    findings: list[Finding]
    before: dict[Place, Context]
    alignment: Alignment | None = None


@dataclass
class _Chart:
    """What the analysis of one chart builds up."""

    source: ChartSource
    renderer: Renderer
    options: Options
    values_text: str
    values: object = None  # values.yaml as data, read once
    # the values files of the render findings and fixes are judged on: none (values.yaml alone), or the
    # first ci/ file that renders when the defaults leave a `required` value out
    base_values: tuple[str, ...] = ()
    provenance: Provenance = field(default_factory=lambda: Provenance({}, frozenset()))
    # the settings each fed value must hold, merged over every finding that changes it
    values_wanted: dict[ValuePath, dict[str, object]] = field(default_factory=dict)
    # the securityContext each (template, place) without one must get
    template_wanted: dict[tuple[str, Place], dict[str, object]] = field(default_factory=dict)
    # rendered templates already analysed: most values files change only a few of a chart's templates
    analysed: dict[tuple[str, str], _Rendered] = field(default_factory=dict)

    def repo_path(self, relative: str) -> str:
        return posixpath.join(self.source.root, relative) if self.source.root else relative


def analyse_chart(
    chart: ChartSource, renderer: Renderer, options: Options | None = None, values_files: tuple[str, ...] = ()
) -> list[Finding]:
    """Findings for a whole chart, placed on its values.yaml and templates (one UR001 notice when it cannot be rendered)."""
    options = options or Options()
    values_text = _text(chart.files, VALUES)
    state = _Chart(chart, renderer, options, values_text, load_values(values_text))
    chart_yaml = state.repo_path("Chart.yaml")
    extra = tuple(dict.fromkeys((*ci_values_files(chart.files), *values_files)))
    notices: list[Finding] = []
    base = renderer.render(chart, RenderRequest())
    if base.failure is RenderFailure.MISSING_DEPENDENCY:
        # Judge the chart's own templates without what is not vendored, and name what was left out.
        stripped = without_missing(chart.files)
        if stripped is not None:
            renderer = state.renderer = _WithFiles(renderer, {"Chart.yaml": stripped})
            attempt = renderer.render(chart, RenderRequest())
            if attempt.failure is None:
                names = ", ".join(missing(chart.files))
                notices.append(
                    skipped(chart_yaml, f"{_render_problem(base, 'its values.yaml')} (rendered without {names})")
                )
                base = attempt
    if base.failure is RenderFailure.REQUIRED and extra:
        # The chart needs a value its defaults leave out; chart-testing's values files give one.
        notices.append(skipped(chart_yaml, _render_problem(base, "its values.yaml")))
        for candidate in extra:
            attempt = renderer.render(chart, RenderRequest(values_files=(candidate,)))
            if attempt.failure is None:
                state.base_values, base = (candidate,), attempt
                extra = tuple(name for name in extra if name != candidate)
                break
    if base.failure is not None:
        return [skipped(chart_yaml, _render_problem(base, "its values.yaml"))]
    state.provenance = provenance(chart, renderer, state.values, state.base_values)
    rendered = [_analyse_template(state, template, text) for template, text in base.manifests]
    findings = _place_all(state, rendered)
    seen = {_same_source(f) for f in findings}
    for values_file in extra:
        more = renderer.render(chart, RenderRequest(values_files=(values_file,)))
        if more.failure is not None:
            notices.append(skipped(chart_yaml, _render_problem(more, values_file)))
            continue
        for found in _extra_context(state, values_file, more):
            key = _same_source(found)
            if key not in seen:
                seen.add(key)
                findings.append(found)
    findings = _verified(state, findings, extra)
    return sorted(findings + notices, key=lambda f: (f.path, f.line, f.rule))


@dataclass(frozen=True)
class _WithFiles:
    """A renderer that renders the chart with some of its files replaced (Chart.yaml without the
    dependencies that are not vendored), under whatever a request replaces itself."""

    inner: Renderer
    files: Mapping[str, bytes]

    def render(self, chart: ChartSource, request: RenderRequest) -> Rendered:
        return self.inner.render(chart, replace(request, replace={**self.files, **request.replace}))


def _same_source(finding: Finding) -> tuple[str, str, int, str | None]:
    """What makes two findings one for the person editing the chart: another values file may rename
    the objects (`fullnameOverride`), but the same rule at the same source line for the same container is
    the same finding."""
    return (finding.rule, finding.path, finding.line, finding.container)


def _render_problem(rendered: Rendered, values: str) -> str:
    """The notice's reason for a chart Helm would not render."""
    message = rendered.message.rstrip(".")
    if rendered.failure is RenderFailure.REQUIRED:
        return (
            f"Helm could not render the chart with {values}: {message}; add a ci/<name>-values.yaml "
            "that sets it (chart-testing's convention) and the chart is checked with it"
        )
    if rendered.failure is RenderFailure.MISSING_DEPENDENCY:
        return (
            f"Helm could not render the chart: {message}; vendor the dependency under charts/ (helm dependency build)"
        )
    if rendered.failure is RenderFailure.UNAVAILABLE:
        return message
    return f"Helm could not render the chart with {values}: {message}"


def _analyse_template(state: _Chart, template: str, text: str) -> _Rendered:
    from rules.analyze import analyze  # the entry point imports the families lazily; so does this

    known = state.analysed.get((template, text))
    if known is not None:
        return known
    found = analyze(state.repo_path(template), text, state.options)
    before = {c.place: c for c in contexts(template, text)}
    item = _Rendered(template, text, [f for f in found if f.rule != "UR001"], before)
    state.analysed[(template, text)] = item
    return item


def _changes(rendered: _Rendered, fix: Fix) -> dict[Place, dict[str, object]]:
    """What a rendered fix changes, per securityContext: the settings it adds or alters (REMOVE for deleted ones)."""
    try:
        fixed = apply(rendered.text, fix.edits)
    except EditConflict:
        return {}
    if _outside_contexts(rendered.text) != _outside_contexts(fixed):
        # Volumes and mounts (the read-only root filesystem's emptyDirs), host settings: a values
        # key cannot add them, and half of such a fix would break the workload.
        return {}
    after = {c.place: c for c in contexts(rendered.template, fixed)}
    changes: dict[Place, dict[str, object]] = {}
    for place, context in after.items():
        earlier = rendered.before.get(place)
        delta = _delta(earlier.settings if earlier else {}, context.settings)
        if delta:
            changes[place] = delta
    return changes


def _outside_contexts(text: str) -> object:
    """A rendered template as plain data with every securityContext left out (None if it does not parse)."""
    try:
        documents = list(YAML(typ="safe", pure=False).load_all(text))
    except (YAMLError, RecursionError, ValueError):
        return None

    def strip(node: object) -> object:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "securityContext"}
        if isinstance(node, list):
            return [strip(item) for item in node]
        return node

    return [strip(document) for document in documents]


def _delta(before: Mapping[str, object], after: Mapping[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, new in after.items():
        old = before.get(key)
        if isinstance(new, dict) and isinstance(old, dict):
            nested = _delta(old, new)
            if nested:
                out[key] = nested
        elif key not in before or old != new:
            out[key] = new
    for key in before:
        if key not in after:
            out[key] = values_edit.REMOVE
    return out


def _merge_into(target: dict[str, object], wanted: Mapping[str, object]) -> None:
    """Deep-merge `wanted` into `target`; what is there first wins (two findings rarely disagree)."""
    for key, item in wanted.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(item, dict):
            _merge_into(current, item)
        elif key not in target:
            target[key] = dict(item) if isinstance(item, dict) else item


@dataclass(frozen=True)
class _Plan:
    """Where one rendered finding goes, before its fix is built."""

    finding: Finding
    rendered: _Rendered
    changes: dict[Place, dict[str, object]]


def _primary(finding: Finding, template: str) -> Place:
    return Place(template, finding.workload or "", finding.container or POD)


def _place_all(state: _Chart, rendered: list[_Rendered]) -> list[Finding]:
    plans: list[_Plan] = []
    for item in rendered:
        for finding in item.findings:
            changes = _changes(item, finding.fix) if finding.fix is not None else {}
            plans.append(_Plan(finding, item, changes))
            for place, delta in changes.items():
                source = state.provenance.source(place)
                if source is not None:
                    _merge_into(state.values_wanted.setdefault(source, {}), delta)
                elif not item.before.get(place, _EMPTY).settings:
                    _merge_into(state.template_wanted.setdefault((item.template, place), {}), delta)
    return [_placed(state, plan) for plan in plans]


_EMPTY = Context(Place("", "", ""), {}, 0)


def _provenance_note(state: _Chart, place: Place, source: ValuePath | None) -> str:
    where = f"{VALUES}: {'.'.join(source)}, " if source is not None else ""
    container = "" if place.container == POD else f", container '{place.container}'"
    return f" [{where}rendered by {place.template} into {place.workload}{container}]"


def _placed(state: _Chart, plan: _Plan, suffix: str = "") -> Finding:
    """The rendered finding moved to its source line, with its fix rewritten for that source."""
    finding, item = plan.finding, plan.rendered
    primary = _primary(finding, item.template)
    changed = list(plan.changes) or [primary]
    sources = [state.provenance.source(place) for place in changed]
    key: str | None = None
    if plan.changes:
        if primary in plan.changes:
            # The finding's own container (or pod) changes: where its securityContext comes from decides,
            # and a context the template writes literally is edited there.
            lead = state.provenance.source(primary)
        else:
            lead = next((s for s in sources if s is not None), None)
        note_place = changed[0]
    else:
        found = _context_source(state, finding, item)
        lead, note_place, key = (found[1], found[0], found[2]) if found else (None, primary, None)
        sources = [lead]
    subject = f"{finding.subject} [{item.template}]"
    message = finding.message + _provenance_note(state, note_place, lead) + suffix
    if lead is not None:
        line = values_edit.key_line(state.values_text, (*lead, key) if key else lead) or 1
        path = state.repo_path(VALUES)
    else:
        line = _template_line(state, item, finding.line)
        path = state.repo_path(item.template)
    fix: Fix | None = None
    reason = ""
    if finding.fix is not None and plan.changes:
        if all(s is not None for s in sources):
            fix, reason = _values_fix(state, finding.fix.summary, [s for s in sources if s is not None])
        elif all(s is None for s in sources):
            fix, reason = _template_fix(state, item, finding.fix.summary, changed)
        else:
            reason = "the fix needs edits to both values.yaml and a template; make them by hand"
    elif finding.fix is not None or finding.variant is Deferred.AFTER_OTHER_FIXES:
        # A fix that waits for a second pass adds emptyDir mounts: no more a chart fix than one offered now.
        message = message.replace(DEFERRED_NOTE, "")
        finding = replace(finding, variant=None)
        reason = (
            "the fix changes more than a securityContext (volumes and mounts, or host settings), which "
            "this chart cannot take as one edit of its values or templates; make it by hand"
        )
    if reason:
        message = f"{message} {_NO_FIX_PREFIX}{reason}.)"
    return replace(finding, path=path, line=line, end_line=line, fix=fix, subject=subject, message=message)


def _context_source(state: _Chart, finding: Finding, item: _Rendered) -> tuple[Place, ValuePath, str | None] | None:
    """For a finding without a fix: the fed securityContext it is about, and the key it reads there.

    A rule that reads securityContext fields is about the container's context, or the pod's, that
    sets one of its fields (a container inherits the pod's runAsUser); when neither sets one, about
    the container's when a value feeds it, else the pod's. Other findings (hostNetwork, a hostPath
    volume) are about the template that writes them."""
    keys = _RULE_KEYS.get(finding.rule)
    if keys is None:
        return None
    pod = Place(item.template, finding.workload or "", POD)
    places = [Place(item.template, finding.workload or "", finding.container), pod] if finding.container else [pod]
    if finding.rule in _CONTAINER_ONLY and finding.container:
        places = places[:1]  # fields the pod's securityContext does not have
    fed = [(place, source) for place in places if (source := state.provenance.source(place)) is not None]
    for place, source in fed:
        context = item.before.get(place)
        present = [k for k in keys if context is not None and k in context.settings]
        if present:
            return place, source, present[0]
    return (fed[0][0], fed[0][1], None) if fed else None


def _template_line(state: _Chart, item: _Rendered, rendered_line: int) -> int:
    if item.alignment is None:
        item.alignment = align(_text(state.source.files, item.template), item.text)
    return item.alignment.template_line(rendered_line) or 1


def _values_fix(state: _Chart, summary: str, sources: list[ValuePath]) -> tuple[Fix | None, str]:
    edits: list[LineEdit] = []
    for source in dict.fromkeys(sources):
        wanted = dict(state.values_wanted.get(source, {}))
        if _switched_off(state.values, source):
            wanted["enabled"] = True  # Bitnami's convention: the settings render only when enabled
        made = values_edit.set_values(state.values_text, source, wanted)
        if made is None:
            return (
                None,
                f"{'.'.join(source)} in values.yaml cannot be edited safely (an alias, a tag or a flow mapping)",
            )
        edits.extend(made)
    try:
        merge_edits(edits)
    except EditConflict:
        return None, "the values to change overlap in values.yaml"
    where = ", ".join(".".join(s) for s in dict.fromkeys(sources))
    return Fix(f"{summary} (in values.yaml: {where})", tuple(edits)), ""


def _switched_off(values: object, source: ValuePath) -> bool:
    """True for a securityContext value with `enabled: false` (Bitnami's podSecurityContext.enabled)."""
    node = lookup(values, source)
    return isinstance(node, dict) and node.get("enabled") is False


def _template_fix(state: _Chart, item: _Rendered, summary: str, places: list[Place]) -> tuple[Fix | None, str]:
    template_text = _text(state.source.files, item.template)
    lines = item.text.splitlines()
    edits: list[LineEdit] = []
    for place in dict.fromkeys(places):
        context = item.before.get(place)
        if context is None or context.settings:
            return None, f"the securityContext of {place.workload} comes from {item.template}; edit it there"
        anchor = _anchor(item, context, lines)
        if anchor is None:
            return None, f"{place.workload} is not written literally in {item.template} (an include or a loop)"
        template_line, indent = anchor
        wanted = state.template_wanted.get((item.template, place), {})
        edits.append(values_edit.insert_block(template_text, template_line, indent, "securityContext", wanted))
    return Fix(f"{summary} (in {item.template})", tuple(edits)), ""


def _anchor(item: _Rendered, context: Context, rendered_lines: list[str]) -> tuple[int, int] | None:
    """The template line after which a securityContext block goes, and its indentation.

    A container's block goes after the template line of its first key (`- name: …`); a pod's
    after its `spec:` line. Both must be matched literally, with the same indentation as rendered."""
    if item.alignment is None:
        return None
    if context.place.container == POD:
        key_line = context.line - 1  # the `spec:` key above the pod spec's first entry
        if key_line < 1 or rendered_lines[key_line - 1].strip() != "spec:":
            return None
    else:
        key_line = context.line
    if key_line not in item.alignment.exact:
        return None
    template_line = item.alignment.template_line(key_line)
    if template_line is None:
        return None
    rendered = rendered_lines[context.line - 1]
    indent = len(rendered) - len(rendered.lstrip(" -"))
    if context.place.container == POD:
        indent = len(rendered) - len(rendered.lstrip(" "))
    return template_line, indent


def _extra_context(state: _Chart, values_file: str, rendered: Rendered) -> list[Finding]:
    """Findings that only another values file shows: placed like the others, without fixes
    (a fix is checked against the chart's own values.yaml)."""
    found = provenance(state.source, state.renderer, state.values, (values_file,))
    saved = state.provenance
    state.provenance = found
    try:
        items = [_analyse_template(state, template, text) for template, text in rendered.manifests]
        out: list[Finding] = []
        for item in items:
            for finding in item.findings:
                changes = _changes(item, finding.fix) if finding.fix is not None else {}
                out.append(_placed(state, _Plan(replace(finding, fix=None), item, changes), f" (with {values_file})"))
        return out
    finally:
        state.provenance = saved


def _verified(state: _Chart, findings: list[Finding], extra: tuple[str, ...]) -> list[Finding]:
    """Keep the fixes that, applied together, leave their findings gone and every values file rendering."""
    for _attempt in range(2):
        fixed = [f for f in findings if f.fix is not None]
        if not fixed:
            return findings
        replaced: dict[str, bytes] = {}
        by_file: dict[str, list[LineEdit]] = {}
        for finding in fixed:
            assert finding.fix is not None
            by_file.setdefault(finding.path, []).extend(finding.fix.edits)
        try:
            for path, edits in by_file.items():
                relative = posixpath.relpath(path, state.source.root) if state.source.root else path
                original = _text(state.source.files, relative)
                replaced[relative] = apply(original, edits).encode("utf-8")
        except EditConflict:
            return [_without_fix(f, "the fixes of this chart conflict") for f in findings]
        remaining: set[tuple[str, str, str, str | None]] = set()
        for values_files in (state.base_values, *((name,) for name in extra)):
            again = state.renderer.render(state.source, RenderRequest(values_files=values_files, replace=replaced))
            if again.failure is not None:
                reason = f"the chart no longer renders with it ({again.message[:120]})"
                return [_without_fix(f, reason) if f.fix is not None else f for f in findings]
            if values_files != state.base_values:
                continue  # other values files must still render; their findings were reported without fixes
            for template, text in again.manifests:
                for after in _analyse_template(state, template, text).findings:
                    remaining.add(stays_as(after, template))
        failed = [f for f in fixed if stays_as(f, template_of(f)) in remaining]
        if not failed:
            return findings
        findings = [
            _without_fix(f, "Helm renders the chart so that the finding stays; change it by hand") if f in failed else f
            for f in findings
        ]
    return [
        _without_fix(f, "the fixes could not be checked by rendering") if f.fix is not None else f for f in findings
    ]


def stays_as(finding: Finding, template: str) -> tuple[str, str, str, str | None]:
    """What identifies a finding across renders: rule, template, kind and container. Not the object's
    name: a chart may name objects with `randAlpha` or the date, and a fix must not look as if it held
    because the finding's object got a new name (several same-kind objects of one template count as one,
    so a fix holds only when it holds for all of them)."""
    kind = (finding.workload or "").split("/", 1)[0]
    return (finding.rule, template, kind, finding.container)


def template_of(finding: Finding) -> str:
    """The rendered template a placed finding came from (its subject ends with "[templates/x.yaml]")."""
    start = finding.subject.rfind(" [")
    return finding.subject[start + 2 : -1] if start >= 0 and finding.subject.endswith("]") else ""


def _without_fix(finding: Finding, reason: str) -> Finding:
    if finding.fix is None:
        return finding
    return replace(finding, fix=None, message=f"{finding.message} {_NO_FIX_PREFIX}{reason}.)")
