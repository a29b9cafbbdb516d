"""Where pod specs live: Kubernetes' own workload kinds, a table of wrapper kinds, and a fallback.

Wrapper kinds (OpenShift Template, Argo Workflows, Tekton, ECK, Kubeflow, Ray, KServe) keep
pods in places of their own, and some keep the pod-level securityContext elsewhere or not
at all; each PodSpec found says so (see parse.PodSpec). Any other object is searched for a
mapping with a `containers` list of mappings with `image`: that mapping is a pod spec.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rules.kubernetes.nodes import as_str, get, is_null, path, value
from rules.kubernetes.parse import CONTAINER_LISTS, Container, PodSpec, refuse_duplicates_below

# Lists and Templates nest objects; deeper than this is not a real manifest.
MAX_NESTING = 5
# The fallback looks no deeper than this below an object's root.
MAX_FALLBACK_DEPTH = 40
# Kinds whose content is data, schemas or build configuration, never a pod to run.
NOT_WORKLOADS = frozenset(
    {"CustomResourceDefinition", "ConfigMap", "Secret", "Kustomization", "Component", "HelmRelease", "Application"}
)
ARGO_GROUP = "argoproj.io"
ARGO_WORKFLOW_KINDS = frozenset({"Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"})
TEKTON_GROUP = "tekton.dev"
TEKTON_KINDS = frozenset({"Task", "ClusterTask", "TaskRun", "Pipeline", "PipelineRun"})
# Placeholders of the wrapper kinds' own templating, which are not Helm's: OpenShift `${{PARAM}}`,
# and Argo's `{{inputs.parameters.x}}` / `{{=expression}}`.
_OPENSHIFT_PLACEHOLDER = re.compile(r"\$\{\{[^{}]*\}\}")
_ARGO_PLACEHOLDER = re.compile(r"\{\{\s*(?:=.*?|[A-Za-z_][^{}\s]*\s*)\}\}|\{\{=.*$")  # `{{=` may span lines
# KServe's serving runtimes name the model with `{{.Name}}` (and its labels and annotations).
_KSERVE_PLACEHOLDER = re.compile(r"\{\{\s*\.(?:Name|Labels|Annotations)\b[^{}]*\}\}")
KSERVE_RUNTIME_KINDS = frozenset({"ServingRuntime", "ClusterServingRuntime"})


@dataclass(frozen=True)
class Shape:
    """One place a kind keeps a pod, and how to read what is there."""

    at: tuple[str, ...]  # keys from the object's root; "*" is every item of a list or value of a mapping
    template: bool = True  # `at` is a pod template (metadata + spec); else it is the pod spec itself
    patch: bool = False  # the operator merges it into its own pod: containers without `image` are merged
    singles: tuple[str, ...] = ()  # keys of the pod spec that each hold one container (KServe `model`)
    pod_context: bool = True  # False: the kind's pod spec has no securityContext of its own


def _under(prefix: tuple[str, ...], shapes: tuple[Shape, ...]) -> tuple[Shape, ...]:
    return tuple(replace(shape, at=prefix + shape.at) for shape in shapes)


_ECK_POD_TEMPLATE = (Shape(("spec", "podTemplate"), patch=True),)
_ECK_BEAT = tuple(
    Shape(("spec", kind, "podTemplate"), patch=True) for kind in ("daemonSet", "deployment", "statefulSet")
)
_RAY_CLUSTER = (Shape(("headGroupSpec", "template")), Shape(("workerGroupSpecs", "*", "template")))
# KServe's framework and model keys: a container whose image the serving runtime supplies.
_KSERVE_PREDICTOR_CONTAINERS = (
    "model",
    "sklearn",
    "xgboost",
    "tensorflow",
    "pytorch",
    "triton",
    "onnx",
    "pmml",
    "lightgbm",
    "paddle",
    "huggingface",
)
_KSERVE_RUNTIME = (Shape(("spec",), template=False, pod_context=False),)
# An LLMInferenceService's pod specs are merged into the controller's ("main" is its container).
_KSERVE_LLM = tuple(
    Shape(("spec", *keys), template=False, patch=True)
    for keys in (
        ("template",),
        ("worker",),
        ("prefill", "template"),
        ("prefill", "worker"),
        ("router", "scheduler", "template"),
        ("router", "scheduler", "tokenizer", "template"),
    )
)


def _replica_specs(field: str) -> tuple[Shape, ...]:
    return (Shape(("spec", field, "*", "template")),)


# kind -> (API groups, or suffixes of them, separated by spaces; where its pods are). Kinds not
# here, or of another group, go to the fallback.
SHAPES: dict[str, tuple[str, tuple[Shape, ...]]] = {
    "Elasticsearch": ("k8s.elastic.co", (Shape(("spec", "nodeSets", "*", "podTemplate"), patch=True),)),
    "Kibana": ("k8s.elastic.co", _ECK_POD_TEMPLATE),
    "ApmServer": ("k8s.elastic.co", _ECK_POD_TEMPLATE),
    "EnterpriseSearch": ("k8s.elastic.co", _ECK_POD_TEMPLATE),
    "Logstash": ("k8s.elastic.co", _ECK_POD_TEMPLATE),
    "ElasticMapsServer": ("k8s.elastic.co", _ECK_POD_TEMPLATE),
    "PackageRegistry": ("k8s.elastic.co", _ECK_POD_TEMPLATE),
    "Beat": ("k8s.elastic.co", _ECK_BEAT),
    "Agent": ("k8s.elastic.co", _ECK_BEAT),
    "PyTorchJob": ("kubeflow.org", _replica_specs("pytorchReplicaSpecs")),
    "TFJob": ("kubeflow.org", _replica_specs("tfReplicaSpecs")),
    "MPIJob": ("kubeflow.org", _replica_specs("mpiReplicaSpecs")),
    "XGBoostJob": ("kubeflow.org", _replica_specs("xgbReplicaSpecs")),
    "PaddleJob": ("kubeflow.org", _replica_specs("paddleReplicaSpecs")),
    "MXJob": ("kubeflow.org", _replica_specs("mxReplicaSpecs")),
    "JAXJob": ("kubeflow.org", _replica_specs("jaxReplicaSpecs")),
    "RayCluster": ("ray.io", _under(("spec",), _RAY_CLUSTER)),
    "RayJob": ("ray.io", _under(("spec", "rayClusterSpec"), _RAY_CLUSTER) + (Shape(("spec", "submitterPodTemplate")),)),
    "RayService": ("ray.io", _under(("spec", "rayClusterConfig"), _RAY_CLUSTER)),
    "InferenceService": (
        "serving.kserve.io serving.kubeflow.org",  # KFServing's older group too
        (
            Shape(("spec", "predictor"), template=False, patch=True, singles=_KSERVE_PREDICTOR_CONTAINERS),
            Shape(("spec", "transformer"), template=False, patch=True),
            Shape(("spec", "explainer"), template=False, patch=True, singles=("alibi", "art")),
        ),
    ),
    "ServingRuntime": ("serving.kserve.io", _KSERVE_RUNTIME),
    "ClusterServingRuntime": ("serving.kserve.io", _KSERVE_RUNTIME),
    "LLMInferenceService": ("serving.kserve.io", _KSERVE_LLM),
    "LLMInferenceServiceConfig": ("serving.kserve.io", _KSERVE_LLM),
}


def foreign_placeholders_removed(kind: str | None, line: str) -> str:
    """A line without the placeholders of a wrapper kind's own templating, which are not Helm's."""
    line = _OPENSHIFT_PLACEHOLDER.sub("", line)
    if kind in KSERVE_RUNTIME_KINDS:
        return _KSERVE_PLACEHOLDER.sub("", line)
    if kind not in ARGO_WORKFLOW_KINDS:
        return line
    return "" if line.lstrip().startswith("#") else _ARGO_PLACEHOLDER.sub("", line)


def object_label(node: MappingNode) -> str:
    """How messages name an object: "Deployment/web"."""
    kind = as_str(value(node, "kind")) or "Object"
    name = as_str(path(node, "metadata", "name")) or as_str(path(node, "metadata", "generateName")) or "<unnamed>"
    return f"{kind}/{name}"


def _group(node: MappingNode) -> str:
    api_version = as_str(value(node, "apiVersion")) or ""
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


def _in_group(group: str, suffix: str) -> bool:
    return group == suffix or group.endswith("." + suffix)


def _has_image(item: Node) -> bool:
    return as_str(value(item, "image")) is not None


def _listed(
    holder: Node | None,
    list_names: tuple[str, ...],
    *,
    patch: bool = False,
    where: str = "",
    defaults: MappingNode | None = None,
) -> list[Container]:
    """The containers of `holder`'s lists; in a patch, those without `image` are merged ones."""
    found: list[Container] = []
    for list_name in list_names:
        pair = get(holder, list_name)
        if pair is None or not isinstance(pair[1], SequenceNode):
            continue
        for index, item in enumerate(pair[1].value):
            if isinstance(item, MappingNode):
                name = as_str(value(item, "name")) or f"#{index + 1}"
                merged = patch and not _has_image(item)
                found.append(Container(list_name, name, item, where, merged, defaults, (pair[0], pair[1])))
    return found


def _single(holder: Node | None, key: str, name: str, *, patch: bool = False, where: str = "") -> list[Container]:
    """The one container a key holds (Argo `container:`, KServe `model:`), named `name`."""
    item = value(holder, key)
    if not isinstance(item, MappingNode):
        return []
    return [Container(key, name, item, where, patch and not _has_image(item))]


def _at(node: Node | None, keys: tuple[str, ...], where: str = "") -> Iterator[tuple[MappingNode, str]]:
    """The mappings at a Shape path, with the path as messages write it: "spec.nodeSets[0].podTemplate"."""
    if not keys:
        if isinstance(node, MappingNode):
            yield node, where
        return
    key, rest = keys[0], keys[1:]
    if key != "*":
        yield from _at(value(node, key), rest, f"{where}.{key}" if where else key)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            yield from _at(item, rest, f"{where}[{index}]")
    elif isinstance(node, MappingNode):
        for key_node, item in node.value:
            if isinstance(key_node, ScalarNode):
                yield from _at(item, rest, f"{where}.{key_node.value}")


def _shaped(document: MappingNode, shapes: tuple[Shape, ...], base: PodSpec) -> list[PodSpec]:
    found: list[PodSpec] = []
    for shape in shapes:
        for holder, where in _at(document, shape.at):
            spec = value(holder, "spec") if shape.template else holder
            if not isinstance(spec, MappingNode):
                continue
            containers = _listed(spec, CONTAINER_LISTS, patch=shape.patch)
            for key in shape.singles:
                containers += _single(spec, key, key, patch=shape.patch)
            if not containers and not shape.patch:
                continue
            found.append(
                replace(
                    base,
                    template_node=holder if shape.template else None,
                    spec=spec,
                    containers=tuple(containers),
                    where=where,
                    context_elsewhere=not shape.pod_context,
                    patch=shape.patch,
                )
            )
    return found


_HOST_FIELDS = ("hostNetwork", "hostPID", "hostIPC")


def _argo_containers(template: MappingNode, where: str) -> list[Container]:
    """An Argo template's containers: `container` or `script` (which Argo names 'main'), its
    container set, init containers and sidecars."""
    return (
        _listed(template, ("initContainers",), where=where)
        + _single(template, "container", "main", where=where)
        + _single(template, "script", "main", where=where)
        + _listed(value(template, "containerSet"), ("containers",), where=where)
        + _listed(template, ("sidecars",), where=where)
    )


def _argo(spec: MappingNode, base: PodSpec, spec_path: str) -> list[PodSpec]:
    """An Argo workflow spec: a pod per template. A template's own securityContext replaces the
    workflow's (workflowpod.go); templates without one share the workflow's, and are checked as
    one pod whose pod level is the workflow spec, so a fix to it is written once. hostNetwork
    exists only at workflow level."""
    templates = value(spec, "templates")
    sharing: list[Container] = []
    found: list[PodSpec] = []
    if isinstance(templates, SequenceNode):
        for index, template in enumerate(templates.value):
            if not isinstance(template, MappingNode):
                continue
            name = as_str(value(template, "name")) or f"#{index + 1}"
            where = f"{spec_path}templates[{index}] '{name}'"
            if is_null(value(template, "securityContext")):
                sharing += _argo_containers(template, where)
                continue
            containers = tuple(_argo_containers(template, ""))
            if containers:
                found.append(
                    replace(
                        base,
                        template_node=template,
                        spec=template,
                        containers=containers,
                        where=where,
                        context_node=template,
                        context_elsewhere=True,
                    )
                )
    if sharing or any(get(spec, field) for field in _HOST_FIELDS):
        found.insert(0, replace(base, spec=spec, containers=tuple(sharing)))
    return found


def _tekton_task(task_spec: Node | None, where: str = "") -> list[Container]:
    """A Tekton TaskSpec's steps (over its stepTemplate's defaults) and sidecars; a step without
    `image` takes it, and maybe more, from a StepAction it refers to, so it is judged as merged."""
    defaults = value(task_spec, "stepTemplate")
    return _listed(
        task_spec, ("steps",), patch=True, where=where, defaults=defaults if isinstance(defaults, MappingNode) else None
    ) + _listed(task_spec, ("sidecars",), patch=True, where=where)


def _tekton(document: MappingNode, kind: str, base: PodSpec) -> list[PodSpec]:
    """Tekton: a Task has no pod level (that is the TaskRun's `podTemplate`), so what the pod's
    securityContext would get goes into each step. Pipelines' inline task specs are gathered
    into one pod per object, as they share one pod template."""
    spec = value(document, "spec")
    if not isinstance(spec, MappingNode):
        return []
    pod_template: Node | None = None
    if kind in ("Task", "ClusterTask"):
        containers = _tekton_task(spec)
    elif kind == "TaskRun":
        containers = _tekton_task(value(spec, "taskSpec"), "spec.taskSpec")
        pod_template = value(spec, "podTemplate")
    else:
        pipeline = spec if kind == "Pipeline" else value(spec, "pipelineSpec")
        prefix = "spec." if kind == "Pipeline" else "spec.pipelineSpec."
        containers = []
        for list_name in ("tasks", "finally"):
            tasks = value(pipeline, list_name)
            for index, task in enumerate(tasks.value if isinstance(tasks, SequenceNode) else []):
                name = as_str(value(task, "name")) or f"#{index + 1}"
                containers += _tekton_task(value(task, "taskSpec"), f"{prefix}{list_name}[{index}] '{name}'")
        pod_template = path(spec, "taskRunTemplate", "podTemplate") or value(spec, "podTemplate")
    if not containers:
        return []
    if isinstance(pod_template, MappingNode):
        return [
            replace(
                base, spec=pod_template, containers=tuple(containers), context_node=pod_template, context_elsewhere=True
            )
        ]
    return [replace(base, spec=spec, containers=tuple(containers), context_elsewhere=True)]


def _holds_pod(node: MappingNode) -> bool:
    items = value(node, "containers")
    return isinstance(items, SequenceNode) and any(isinstance(i, MappingNode) and _has_image(i) for i in items.value)


def _fallback(document: MappingNode, base: PodSpec) -> list[PodSpec]:
    """Any mapping with a `containers` list of mappings with `image` is a pod spec; its parent is
    its template when it holds `metadata`. A found pod spec is not searched further."""
    found: list[PodSpec] = []
    stack: list[tuple[Node, str, MappingNode | None, str, int]] = [(document, "", None, "", 0)]
    while stack:
        node, where, parent, parent_where, depth = stack.pop()
        if isinstance(node, MappingNode) and depth and _holds_pod(node):
            template = parent if parent is not None and isinstance(value(parent, "metadata"), MappingNode) else None
            containers = tuple(_listed(node, CONTAINER_LISTS))
            found.append(
                replace(
                    base,
                    template_node=template,
                    spec=node,
                    containers=containers,
                    where=parent_where if template else where,
                )
            )
            continue
        if depth >= MAX_FALLBACK_DEPTH:
            continue
        if isinstance(node, MappingNode):
            for key, item in reversed(node.value):
                if isinstance(key, ScalarNode) and key.value not in ("metadata", "status"):
                    stack.append((item, f"{where}.{key.value}" if where else str(key.value), node, where, depth + 1))
        elif isinstance(node, SequenceNode):
            for index in reversed(range(len(node.value))):
                stack.append((node.value[index], f"{where}[{index}]", None, where, depth + 1))
    return found


def _standard(document: MappingNode, kind: str, base: PodSpec) -> list[PodSpec] | None:
    """Kubernetes' own places: Pod, PodTemplate, any `spec.template`, a CronJob's job template."""
    candidates: list[tuple[Node | None, Node | None]] = [
        (value(document, "spec") if kind == "Pod" else None, None),
        (path(document, "template", "spec"), value(document, "template")),  # PodTemplate
        (path(document, "spec", "template", "spec"), path(document, "spec", "template")),
        (
            path(document, "spec", "jobTemplate", "spec", "template", "spec"),
            path(document, "spec", "jobTemplate", "spec", "template"),
        ),
    ]
    for spec, template in candidates:
        if isinstance(spec, MappingNode) and isinstance(value(spec, "containers"), SequenceNode):
            containers = tuple(_listed(spec, CONTAINER_LISTS))
            return [
                replace(
                    base,
                    template_node=template if isinstance(template, MappingNode) else None,
                    spec=spec,
                    containers=containers,
                )
            ]
    return None


def _of_object(
    document: MappingNode, kind: str, outer: str, outer_nodes: tuple[MappingNode, ...], depth: int
) -> list[PodSpec]:
    if kind.endswith("List") or (kind == "Template" and _group(document) in ("", "template.openshift.io")):
        key = "items" if kind.endswith("List") else "objects"
        items = value(document, key)
        found: list[PodSpec] = []
        if depth < MAX_NESTING and isinstance(items, SequenceNode):
            for index, item in enumerate(items.value):
                if not isinstance(item, MappingNode):
                    continue
                if kind.endswith("List"):
                    found += pod_specs(item, depth + 1, outer, outer_nodes)
                else:
                    around = f"{outer} {object_label(document)} objects[{index}]".strip()
                    found += pod_specs(item, depth + 1, around, (*outer_nodes, document))
        return found
    base = PodSpec(object_label(document), document, None, document, (), outer=outer, outer_nodes=outer_nodes)
    group = _group(document)
    if kind in ARGO_WORKFLOW_KINDS and _in_group(group, ARGO_GROUP):
        if kind == "CronWorkflow":
            spec = path(document, "spec", "workflowSpec")
            return _argo(spec, base, "workflowSpec.") if isinstance(spec, MappingNode) else []
        spec = value(document, "spec")
        return _argo(spec, base, "") if isinstance(spec, MappingNode) else []
    if kind in TEKTON_KINDS and _in_group(group, TEKTON_GROUP):
        return _tekton(document, kind, base)
    shaped = SHAPES.get(kind)
    if shaped and any(_in_group(group, suffix) for suffix in shaped[0].split()):
        return _shaped(document, shaped[1], base)
    standard = _standard(document, kind, base)
    if standard is not None:
        return standard
    return [] if kind in NOT_WORKLOADS else _fallback(document, base)


def pod_specs(
    document: MappingNode, depth: int = 0, outer: str = "", outer_nodes: tuple[MappingNode, ...] = ()
) -> list[PodSpec]:
    """Every pod spec of an object (raises ManifestError on a duplicate key where rules read).

    A top-level document needs `apiVersion` and `kind`; an item of a List or Template needs a `kind`.
    """
    kind = as_str(value(document, "kind"))
    if kind is None or (depth == 0 and as_str(value(document, "apiVersion")) is None):
        return []
    found = _of_object(document, kind, outer, outer_nodes, depth)
    if depth == 0:  # nested objects' pods are among the top-level object's
        for pod in found:
            refuse_duplicates_below(pod)
    return found
