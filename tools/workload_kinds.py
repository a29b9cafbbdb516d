"""An independent table of where each Kubernetes kind defines pods, for measuring what unroot reads.

Deliberately written apart from rules/kubernetes/parse.py: a measurement that reused the discovery
code it measures would always find that it reads everything it finds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode


@dataclass(frozen=True)
class Definition:
    """One pod a document defines: its kind (as the report counts it), where it sits, and its lines."""

    kind: str  # "Deployment", "Template>DeploymentConfig", "Workflow template", …
    name: str  # the object's metadata.name plus the part inside it ("etl/templates[2]")
    start_line: int  # 1-based, inclusive: the part of the document that defines this pod
    end_line: int


# A located part: (label inside the object, the node whose lines define the pod).
Part = tuple[str, Node]


def _get(node: Node | None, key: str) -> Node | None:
    """The value for `key` in a mapping node (the last one, as Kubernetes reads duplicates)."""
    found: Node | None = None
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == key:
                found = value_node
    return found


def _dig(node: Node | None, *keys: str) -> Node | None:
    for key in keys:
        node = _get(node, key)
    return node


def _text(node: Node | None) -> str:
    return str(node.value) if isinstance(node, ScalarNode) else ""


def _items(node: Node | None) -> list[Node]:
    return list(node.value) if isinstance(node, SequenceNode) else []


def _listing(label: str, node: Node | None, key: str) -> list[Part]:
    """The part `(label, node)` when the node holds a list under `key` (`containers`, `steps`)."""
    return [(label, node)] if node is not None and isinstance(_get(node, key), SequenceNode) else []


def line_span(node: Node) -> tuple[int, int]:
    """1-based first and last line of a node's own text.

    A block collection's end mark sits where the next token starts (the next item's line), so
    the last line is taken from its last descendant instead.
    """
    last = node
    while isinstance(last, (MappingNode, SequenceNode)) and last.value and last.flow_style is not True:
        last = last.value[-1][1] if isinstance(last, MappingNode) else last.value[-1]
    end = last.end_mark.line + (0 if last.end_mark.column else -1)
    return node.start_mark.line + 1, max(node.start_mark.line + 1, end + 1)


def _pod_template(template: Node | None, label: str) -> list[Part]:
    """A pod template (`{metadata, spec: {containers}}`) defines a pod when its spec lists containers."""
    return _listing(label, _get(template, "spec"), "containers")


def _plain(document: MappingNode) -> list[Part]:
    return _pod_template(_dig(document, "spec", "template"), "spec.template")


def _pod(document: MappingNode) -> list[Part]:
    return _listing("spec", _get(document, "spec"), "containers")


def _pod_template_object(document: MappingNode) -> list[Part]:
    return _pod_template(_get(document, "template"), "template")


def _cron_job(document: MappingNode) -> list[Part]:
    return _pod_template(_dig(document, "spec", "jobTemplate", "spec", "template"), "spec.jobTemplate")


def _argo_templates(templates: Node | None, prefix: str) -> list[Part]:
    """Argo templates that run something: `container`, `script` or `containerSet`."""
    found: list[Part] = []
    for index, template in enumerate(_items(templates)):
        if any(isinstance(_get(template, key), MappingNode) for key in ("container", "script", "containerSet")):
            found.append((f"{prefix}templates[{index}]", template))
    return found


def _argo_workflow(document: MappingNode) -> list[Part]:
    return _argo_templates(_dig(document, "spec", "templates"), "spec.")


def _argo_cron_workflow(document: MappingNode) -> list[Part]:
    return _argo_templates(_dig(document, "spec", "workflowSpec", "templates"), "spec.workflowSpec.")


def _eck_pod_template(holder: Node | None, label: str) -> list[Part]:
    """ECK's `podTemplate` is a pod template the operator merges into its own; any spec counts."""
    spec = _dig(holder, "podTemplate", "spec")
    return [(f"{label}podTemplate", spec)] if isinstance(spec, MappingNode) else []


def _eck_single(document: MappingNode) -> list[Part]:
    return _eck_pod_template(_get(document, "spec"), "spec.")


def _eck_elasticsearch(document: MappingNode) -> list[Part]:
    found: list[Part] = []
    for index, node_set in enumerate(_items(_dig(document, "spec", "nodeSets"))):
        found += _eck_pod_template(node_set, f"spec.nodeSets[{index}].")
    return found


def _eck_beat(document: MappingNode) -> list[Part]:
    found: list[Part] = []
    for workload in ("daemonSet", "deployment", "statefulSet"):
        found += _eck_pod_template(_dig(document, "spec", workload), f"spec.{workload}.")
    return found


def _tekton_task_spec(spec: Node | None, label: str) -> list[Part]:
    return _listing(label, spec, "steps")


def _tekton_task(document: MappingNode) -> list[Part]:
    return _tekton_task_spec(_get(document, "spec"), "spec")


def _tekton_task_run(document: MappingNode) -> list[Part]:
    return _tekton_task_spec(_dig(document, "spec", "taskSpec"), "spec.taskSpec")


def _tekton_pipeline_spec(spec: Node | None, prefix: str) -> list[Part]:
    found: list[Part] = []
    for section in ("tasks", "finally"):
        for index, task in enumerate(_items(_get(spec, section))):
            found += _tekton_task_spec(_get(task, "taskSpec"), f"{prefix}{section}[{index}].taskSpec")
    return found


def _tekton_pipeline(document: MappingNode) -> list[Part]:
    return _tekton_pipeline_spec(_get(document, "spec"), "spec.")


def _tekton_pipeline_run(document: MappingNode) -> list[Part]:
    return _tekton_pipeline_spec(_dig(document, "spec", "pipelineSpec"), "spec.pipelineSpec.")


def _kubeflow_job(document: MappingNode) -> list[Part]:
    """`spec.pytorchReplicaSpecs.Master.template`, `tfReplicaSpecs`, `mpiReplicaSpecs`, … one pod per role."""
    found: list[Part] = []
    spec = _get(document, "spec")
    if not isinstance(spec, MappingNode):
        return found
    for key_node, replicas in spec.value:
        if not (isinstance(replicas, MappingNode) and _text(key_node).endswith("ReplicaSpecs")):
            continue
        for role, replica in replicas.value:
            found += _pod_template(_get(replica, "template"), f"spec.{_text(key_node)}.{_text(role)}")
    return found


def _ray_cluster_spec(spec: Node | None, prefix: str) -> list[Part]:
    found = _pod_template(_dig(spec, "headGroupSpec", "template"), f"{prefix}headGroupSpec")
    for index, group in enumerate(_items(_get(spec, "workerGroupSpecs"))):
        found += _pod_template(_get(group, "template"), f"{prefix}workerGroupSpecs[{index}]")
    return found


def _ray_cluster(document: MappingNode) -> list[Part]:
    return _ray_cluster_spec(_get(document, "spec"), "spec.")


def _ray_job(document: MappingNode) -> list[Part]:
    submitter = _pod_template(_dig(document, "spec", "submitterPodTemplate"), "spec.submitterPodTemplate")
    return _ray_cluster_spec(_dig(document, "spec", "rayClusterSpec"), "spec.rayClusterSpec.") + submitter


def _ray_service(document: MappingNode) -> list[Part]:
    return _ray_cluster_spec(_dig(document, "spec", "rayClusterConfig"), "spec.rayClusterConfig.")


def _kserve_inference_service(document: MappingNode) -> list[Part]:
    """Each component (predictor, transformer, explainer) is a pod, whether it names containers or a model."""
    found: list[Part] = []
    for component in ("predictor", "transformer", "explainer"):
        node = _dig(document, "spec", component)
        if isinstance(node, MappingNode):
            found.append((f"spec.{component}", node))
    return found


def _kserve_runtime(document: MappingNode) -> list[Part]:
    return _listing("spec", _get(document, "spec"), "containers")


Finder = Callable[[MappingNode], list[Part]]

# (apiVersion group suffix or "" for any, kind) -> (how the report names it, where its pods are).
_PLAIN_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job")
KINDS: dict[tuple[str, str], tuple[str, Finder]] = {
    **{("", kind): (kind, _plain) for kind in _PLAIN_KINDS},
    ("", "Pod"): ("Pod", _pod),
    ("", "PodTemplate"): ("PodTemplate", _pod_template_object),
    ("", "CronJob"): ("CronJob", _cron_job),
    ("openshift.io", "DeploymentConfig"): ("DeploymentConfig", _plain),
    ("", "DeploymentConfig"): ("DeploymentConfig", _plain),  # legacy `apiVersion: v1`
    ("argoproj.io", "Rollout"): ("Rollout", _plain),
    ("serving.knative.dev", "Service"): ("Knative Service", _plain),
    ("argoproj.io", "Workflow"): ("Argo Workflow template", _argo_workflow),
    ("argoproj.io", "WorkflowTemplate"): ("Argo WorkflowTemplate template", _argo_workflow),
    ("argoproj.io", "ClusterWorkflowTemplate"): ("Argo ClusterWorkflowTemplate template", _argo_workflow),
    ("argoproj.io", "CronWorkflow"): ("Argo CronWorkflow template", _argo_cron_workflow),
    ("k8s.elastic.co", "Elasticsearch"): ("ECK Elasticsearch nodeSet", _eck_elasticsearch),
    **{
        ("k8s.elastic.co", kind): (f"ECK {kind}", _eck_single)
        for kind in ("Kibana", "ApmServer", "EnterpriseSearch", "Logstash", "ElasticMapsServer")
    },
    ("k8s.elastic.co", "Beat"): ("ECK Beat", _eck_beat),
    ("k8s.elastic.co", "Agent"): ("ECK Agent", _eck_beat),
    ("tekton.dev", "Task"): ("Tekton Task", _tekton_task),
    ("tekton.dev", "ClusterTask"): ("Tekton ClusterTask", _tekton_task),
    ("tekton.dev", "Pipeline"): ("Tekton Pipeline taskSpec", _tekton_pipeline),
    ("tekton.dev", "TaskRun"): ("Tekton TaskRun taskSpec", _tekton_task_run),
    ("tekton.dev", "PipelineRun"): ("Tekton PipelineRun taskSpec", _tekton_pipeline_run),
    ("ray.io", "RayCluster"): ("RayCluster group", _ray_cluster),
    ("ray.io", "RayJob"): ("RayJob group", _ray_job),
    ("ray.io", "RayService"): ("RayService group", _ray_service),
    ("serving.kserve.io", "InferenceService"): ("KServe InferenceService component", _kserve_inference_service),
    ("serving.kserve.io", "ServingRuntime"): ("KServe ServingRuntime", _kserve_runtime),
    ("serving.kserve.io", "ClusterServingRuntime"): ("KServe ClusterServingRuntime", _kserve_runtime),
}
# Objects of these kinds that define no pod here (a kustomize patch, an operator CR left to its
# defaults) are counted apart: there is nothing in them to read.
WORKLOAD_KINDS = frozenset(label for label, _finder in KINDS.values())


COMPOSE_SERVICE = "compose service"


def compose_services(document: MappingNode) -> list[Definition]:
    """The services of a docker-compose file that run a container (`image` or `build`)."""
    found: list[Definition] = []
    services = _get(document, "services")
    if not isinstance(services, MappingNode):
        return found
    for name, service in services.value:
        if _get(service, "image") is not None or _get(service, "build") is not None:
            # From the service's name: that is the line a finding about the whole service points at.
            start, end = line_span(name)[0], line_span(service)[1]
            found.append(Definition(COMPOSE_SERVICE, _text(name), start, end))
    return found


def _group(api_version: str) -> str:
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


def _finder(api_version: str, kind: str) -> tuple[str, Finder] | None:
    group = _group(api_version)
    for (suffix, table_kind), entry in KINDS.items():
        if table_kind == kind and suffix and (group == suffix or group.endswith("." + suffix)):
            return entry
    if kind.endswith("Job") and (group == "kubeflow.org" or group.endswith(".kubeflow.org")):
        return (f"Kubeflow {kind} replica", _kubeflow_job)
    if kind == "Service" and group != "serving.knative.dev":
        return None  # a core Service is not a workload
    return KINDS.get(("", kind))


@dataclass(frozen=True)
class Found:
    """What one document holds: the pods it defines and the workload-kind objects with none."""

    definitions: list[Definition]
    empty_workloads: list[str]  # kinds of objects of a workload kind that define no pod


def _object_name(document: MappingNode) -> str:
    return _text(_dig(document, "metadata", "name")) or _text(_dig(document, "metadata", "generateName")) or "?"


def _inner_documents(document: MappingNode, kind: str) -> Iterator[tuple[str, MappingNode]]:
    """Objects wrapped in a `List` (`items`) or an OpenShift `Template` (`objects`), with a kind prefix."""
    if kind.endswith("List"):
        for item in _items(_get(document, "items")):
            if isinstance(item, MappingNode):
                yield "", item
    elif kind == "Template":
        for item in _items(_get(document, "objects")):
            if isinstance(item, MappingNode):
                yield "Template>", item


def find(document: MappingNode, depth: int = 0, prefix: str = "") -> Found:
    """Every pod definition a document holds, looking inside Lists and OpenShift Templates."""
    kind = _text(_get(document, "kind"))
    api_version = _text(_get(document, "apiVersion"))
    found = Found([], [])
    if not kind or not api_version:
        return found
    if depth < 4 and (kind.endswith("List") or kind == "Template"):
        for inner_prefix, item in _inner_documents(document, kind):
            inner = find(item, depth + 1, prefix + inner_prefix)
            found.definitions.extend(inner.definitions)
            found.empty_workloads.extend(inner.empty_workloads)
        return found
    entry = _finder(api_version, kind)
    if entry is None:
        return found
    label, finder = entry
    parts = finder(document)
    if not parts:
        found.empty_workloads.append(prefix + label)
    name = _object_name(document)
    whole_object = len(parts) == 1  # one pod: the whole object is its definition (findings on metadata count)
    for part_label, node in parts:
        start, end = line_span(document if whole_object else node)
        found.definitions.append(Definition(prefix + label, f"{kind}/{name} {part_label}", start, end))
    return found
