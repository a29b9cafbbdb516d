"""What a repository knows about the images it builds: which Dockerfile makes an image, and its final user.

Pure: a caller lists the repository's paths, hands over the texts of the files asked for
(`mapping_paths`, then `dockerfiles_needed` until it is empty) and gets a `RepoKnowledge`,
a frozen value that travels inside `Options` to the rules.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from rules.analyze import file_kind
from rules.dockerfile.parse import Stage, image_env, parse
from rules.dockerfile.user import is_root, known_ids, numeric, root_alias, user_steps
from rules.images import WELL_KNOWN_USERS, default_user, parse_image
from rules.kustomize import is_kustomization, patch_files
from rules.model import FileKind

_SKAFFOLD = re.compile(r"^skaffold[\w.-]*\.ya?ml$", re.IGNORECASE)
_COMPOSE = re.compile(r"^(docker-)?compose[\w.-]*\.ya?ml$", re.IGNORECASE)
_WORKFLOW = re.compile(r"^\.github/workflows/[^/]+\.ya?ml$", re.IGNORECASE)
_PLAIN_DOCKERFILE = frozenset({"dockerfile", "containerfile"})
# `Dockerfile.api` / `Containerfile.api` and `api.Dockerfile`, lower-cased: the suffix or prefix names the image.
_NAMED_DOCKERFILE = re.compile(
    r"^(?:(?:docker|container)file\.(?P<a>[a-z0-9][a-z0-9_.-]*)|(?P<b>[a-z0-9][a-z0-9_.-]*)\.(?:docker|container)file)$"
)
_STEP_OUTPUT = re.compile(r"^\$\{\{\s*steps\.([\w-]+)\.outputs\.tags\s*\}\}$")
_CREATE_USER = re.compile(r"\b(useradd|adduser)\b([^;&|\n]*)")
# `image: x`, `"image": "x"`, `{image: x}`: a manifest's image references, without parsing it.
_IMAGE_KEY = re.compile(r"""(?<![\w-])["']?image["']?[ \t]*:[ \t]*["']?([^\s"'#,}\]]+)""")
MAX_BASE_DEPTH = 8  # FROM chains through the repository's own images longer than this are not followed
DIRECTORY_NAME = "directory name"  # the source of a mapping found by name alone


@dataclass(frozen=True)
class BuildMapping:
    """An image the repository builds, and the Dockerfile it is built from."""

    image: str  # the repository part of the reference, normalised (`normal_repository`)
    dockerfile: str  # path from the repository root
    source: str  # where the mapping is written: "skaffold.yaml", ".github/workflows/ci.yml", DIRECTORY_NAME


@dataclass(frozen=True)
class ImageIndex:
    """Every mapping the repository states, plus the directories a name match may find."""

    mappings: tuple[BuildMapping, ...]
    by_directory: tuple[
        tuple[str, str], ...
    ]  # directory or Dockerfile-suffix name -> its Dockerfile, names held once only

    def locate(self, reference: str) -> BuildMapping | None:
        """The Dockerfile that builds `reference`; None when none does, or more than one might."""
        if not reference or "$" in reference or "{{" in reference:
            return None
        repository = normal_repository(reference)
        stated = {m.dockerfile: m for m in self.mappings if _same_image(m.image, repository)}
        if len(stated) == 1:
            return next(iter(stated.values()))
        if stated:
            return None  # two Dockerfiles are said to build it: ambiguous
        if "/" not in repository:
            return None  # an official image ("mysql", "nginx"): a `mysql/` directory customises it, not builds it
        found = dict(self.by_directory).get(repository.rsplit("/", 1)[-1])
        return BuildMapping(repository, found, DIRECTORY_NAME) if found else None


@dataclass(frozen=True)
class ImageUser:
    """Who an image built in the repository runs as, as its Dockerfile (and its bases) say."""

    image: str  # normalised repository
    dockerfile: str
    source: str
    user: str  # the final user as written, expanded; "" when a build argument decides it
    uid: int | None  # its number when known
    created: bool  # a name the Dockerfiles create with useradd/adduser (never root)
    env: tuple[tuple[str, str], ...]  # the image's ENV, for Dockerfiles built FROM it
    users: tuple[tuple[str, int], ...]  # names the Dockerfiles give explicit UIDs

    @property
    def non_root(self) -> bool:
        """Known not to run as root: a non-zero UID, or a name the Dockerfiles create."""
        if self.uid is not None:
            return self.uid != 0
        return self.created

    @property
    def numeric(self) -> bool:
        """The image's user is a number, which the kubelet can check against runAsNonRoot."""
        return numeric(self.user)

    @property
    def described(self) -> str:
        """How messages cite it: "images/app/Dockerfile runs it as USER app (UID 1000)"."""
        number = f" (UID {self.uid})" if self.uid is not None and not self.numeric else ""
        return f"{self.dockerfile} runs it as USER {self.user}{number}"


def published_image_user(reference: str) -> ImageUser | None:
    """Who a published image runs as when rules/images.py documents it as non-root (distroless
    :nonroot, Bitnami, Ray...), as if a Dockerfile said so; None for root or unknown images."""
    image = parse_image(reference)
    default = default_user(image)
    if not default.uid:
        return None
    return ImageUser(
        image=image.repository,
        dockerfile=f"the published {image.repository} image",
        source="known image",
        user=default.user,
        uid=default.uid,
        created=True,
        env=(),
        users=(),
    )


@dataclass(frozen=True)
class RepoKnowledge:
    """The images of one repository that rules may judge by their Dockerfiles."""

    images: tuple[ImageUser, ...] = ()
    # Files kustomizations use as patches (rules.kustomize), as the caller names files to the analyser.
    patches: frozenset[str] = frozenset()

    def is_patch(self, path: str) -> bool:
        """A kustomization uses the file at `path` as a patch: judged on what it sets (rules/docs/kustomize.md)."""
        return bool(self.patches) and path.replace("\\", "/").removeprefix("./") in self.patches

    @property
    def known(self) -> bool:
        """Anything at all is known: worth carrying to the rules."""
        return bool(self.images or self.patches)

    def find(self, reference: str | None) -> ImageUser | None:
        """What the repository knows of the image `reference` names, if it builds it."""
        if not reference or "$" in reference or "{{" in reference:
            return None
        repository = normal_repository(reference)
        stated = [i for i in self.images if i.source != DIRECTORY_NAME and _same_image(i.image, repository)]
        if stated:
            return stated[0]
        by_name = [i for i in self.images if i.source == DIRECTORY_NAME and i.image == repository]
        return by_name[0] if by_name else None


def normal_repository(reference: str) -> str:
    """The repository of an image reference as Docker resolves it: "docker.io/library/x" is "x"."""
    repository = parse_image(reference).repository
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/"):
        if repository.startswith(prefix):
            return repository[len(prefix) :]
    return repository.removeprefix("library/")


def _same_image(stated: str, repository: str) -> bool:
    """Equal, or a short name (skaffold's `image: web`, pushed under a default repo) ending the other."""
    if stated == repository:
        return True
    return "/" not in stated and repository.rsplit("/", 1)[-1] == stated


# ---- which files to read


def is_mapping_file(path: str) -> bool:
    """A skaffold config, a compose file or a GitHub workflow: files that say which Dockerfile builds
    what; or a kustomization, which says which files are patches."""
    name = posixpath.basename(path)
    return bool(_SKAFFOLD.match(name) or _COMPOSE.match(name) or _WORKFLOW.match(path) or is_kustomization(path))


def mapping_paths(tree: Iterable[str]) -> list[str]:
    """The paths of the repository listing whose texts `build_index` reads."""
    return sorted(p for p in tree if is_mapping_file(p))


def _named_for(path: str) -> str | None:
    """The image name a Dockerfile's place names: `services/api/Dockerfile` (its directory),
    `docker/Dockerfile.api` or `docker/api.Dockerfile` (its own name, as istio's and kserve's are)."""
    base = posixpath.basename(path)
    if base.lower() in _PLAIN_DOCKERFILE:
        directory = posixpath.basename(posixpath.dirname(path))
        return directory.lower() or None
    if file_kind(path) is not FileKind.DOCKERFILE:
        return None
    match = _NAMED_DOCKERFILE.match(base.lower())
    return (match.group("a") or match.group("b")) if match else None


def build_index(tree: Sequence[str], texts: Mapping[str, str], complete: bool = True) -> ImageIndex:
    """The mappings stated by the mapping files in `texts`, and the name-match table of `tree`.

    A listing that is not `complete` (GitHub cut it short) can prove neither that a stated
    Dockerfile is missing nor that a directory name is unique: stated mappings are kept as
    they are, and nothing is matched by name."""
    files = frozenset(tree)
    mappings: list[BuildMapping] = []
    for path in sorted(texts):
        if is_mapping_file(path):
            mappings.extend(m for m in _mappings_of(path, texts[path]) if m.dockerfile in files or not complete)
    if not complete:
        return ImageIndex(tuple(dict.fromkeys(mappings)), ())
    names: dict[str, list[str]] = {}  # an image's last path segment -> the Dockerfiles that name it
    for path in tree:
        name = _named_for(path)
        if name:
            names.setdefault(name, []).append(path)
    unique = tuple(sorted((name, paths[0]) for name, paths in names.items() if len(paths) == 1))
    return ImageIndex(tuple(dict.fromkeys(mappings)), unique)


def _load(text: str) -> list[object]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return [d for d in YAML(typ="safe", pure=False).load_all(text) if d is not None]
    except (YAMLError, ValueError, TypeError, RecursionError):
        return []  # a mapping file we cannot read states nothing


def _mappings_of(path: str, text: str) -> list[BuildMapping]:
    name = posixpath.basename(path)
    base = posixpath.dirname(path)
    # Parsed only when it can state a mapping: YAML parsing is most of the cost, and most
    # workflows build no image.
    if _SKAFFOLD.match(name):
        return [m for doc in _load(text) for m in _skaffold(path, base, doc)] if "artifacts" in text else []
    if _COMPOSE.match(name):
        return [m for doc in _load(text) for m in _compose(path, base, doc)] if "build" in text else []
    if is_kustomization(path):
        return []  # states patches, not images (rules.kustomize)
    if "docker/build-push-action" not in text:
        return []
    return [m for doc in _load(text) for m in _workflow(path, doc)]


def _join(*parts: str) -> str:
    """A path from the repository root; "" when it leaves the repository."""
    joined = posixpath.normpath(posixpath.join(*parts))
    return "" if joined.startswith("..") or joined.startswith("/") else joined


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _skaffold(path: str, base: str, document: object) -> list[BuildMapping]:
    """skaffold.yaml `build.artifacts[]` (also under `profiles[]`): image, context, docker.dockerfile."""
    if not isinstance(document, dict):
        return []
    builds = [document.get("build")]
    profiles = document.get("profiles")
    if isinstance(profiles, list):
        builds.extend(p.get("build") for p in profiles if isinstance(p, dict))
    found: list[BuildMapping] = []
    for build in builds:
        artifacts = build.get("artifacts") if isinstance(build, dict) else None
        for artifact in artifacts if isinstance(artifacts, list) else []:
            if not isinstance(artifact, dict) or _text(artifact.get("image")) is None:
                continue
            if any(key in artifact for key in ("jib", "bazel", "ko", "buildpacks", "custom")):
                continue  # not built from a Dockerfile
            docker = artifact.get("docker")
            dockerfile = (_text(docker.get("dockerfile")) if isinstance(docker, dict) else None) or "Dockerfile"
            context = _text(artifact.get("context")) or "."
            target = _join(base, context, dockerfile)
            if target:
                found.append(BuildMapping(normal_repository(str(artifact["image"])), target, path))
    return found


def _compose(path: str, base: str, document: object) -> list[BuildMapping]:
    """compose `services.<name>` with `build:` (a context, or context and dockerfile) and `image:`."""
    services = document.get("services") if isinstance(document, dict) else None
    found: list[BuildMapping] = []
    for service in services.values() if isinstance(services, dict) else []:
        if not isinstance(service, dict) or _text(service.get("image")) is None:
            continue  # without image: compose names it after the project, which no manifest uses
        build = service.get("build")
        if isinstance(build, str):
            context, dockerfile = build, "Dockerfile"
        elif isinstance(build, dict):
            context = _text(build.get("context")) or "."
            dockerfile = _text(build.get("dockerfile")) or "Dockerfile"
        else:
            continue
        if "://" in context or context.startswith("git@"):
            continue  # a remote context is another repository
        target = _join(base, context, dockerfile)
        if target:
            found.append(BuildMapping(normal_repository(str(service["image"])), target, path))
    return found


def _workflow(path: str, document: object) -> list[BuildMapping]:
    """Steps that use docker/build-push-action: `with.context`, `with.file`, `with.tags` (or the
    `images` of the docker/metadata-action step whose outputs.tags they take)."""
    jobs = document.get("jobs") if isinstance(document, dict) else None
    found: list[BuildMapping] = []
    for job in jobs.values() if isinstance(jobs, dict) else []:
        steps = job.get("steps") if isinstance(job, dict) else None
        steps = [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []
        metadata = {str(s["id"]): s.get("with") for s in steps if "id" in s and _uses(s, "docker/metadata-action")}
        for step in steps:
            if not _uses(step, "docker/build-push-action"):
                continue
            given = step.get("with")
            given = given if isinstance(given, dict) else {}
            context = _text(given.get("context")) or "."
            if "${{" in context or "://" in context:
                continue
            # The action's docs: `file` defaults to {context}/Dockerfile and is a path from the workspace.
            dockerfile = _text(given.get("file"))
            target = _join(dockerfile) if dockerfile else _join(context, "Dockerfile")
            if not target or "${{" in target:
                continue
            for image in _tags(given.get("tags"), metadata):
                found.append(BuildMapping(image, target, path))
    return found


def _uses(step: Mapping[object, object], action: str) -> bool:
    uses = step.get("uses")
    return isinstance(uses, str) and uses.split("@", 1)[0].lower() == action


def _list(value: object) -> list[str]:
    """An action input list: newline- or comma-separated (a YAML list accepted too)."""
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if not isinstance(value, str):
        return []
    return [item.strip() for line in value.splitlines() for item in line.split(",") if item.strip()]


def _tags(value: object, metadata: Mapping[str, object]) -> list[str]:
    """Image repositories named by build-push-action's `tags` input."""
    if isinstance(value, str):
        step = _STEP_OUTPUT.match(value.strip())
        if step:
            given = metadata.get(step.group(1))
            images = _list(given.get("images")) if isinstance(given, dict) else []
            # metadata-action image entries may carry attributes: `name=ghcr.io/x/y,enable=true`.
            return [normal_repository(i.removeprefix("name=")) for i in images if "=" not in i.removeprefix("name=")]
    repositories: list[str] = []
    for tag in _list(value):
        if "${{" in tag:
            head = tag.split("${{", 1)[0]
            if not head.endswith(":") or "/" not in head:
                continue  # the repository itself is an expression
            tag = head + "expression"
        repositories.append(normal_repository(tag))
    return repositories


# ---- reading the Dockerfiles


def references(path: str, text: str) -> set[str]:
    """Image references a file names (manifests' `image:`, Dockerfiles' FROM), found cheaply."""
    if file_kind(path) is FileKind.DOCKERFILE:
        df = parse(text)
        return {stage.base for stage in df.stages if stage.parent is None and stage.base}
    return {match.group(1) for match in _IMAGE_KEY.finditer(text)}


def dockerfiles_needed(index: ImageIndex, wanted: Iterable[str], texts: Mapping[str, str]) -> list[str]:
    """Dockerfiles still to read: those building `wanted` images, then the repository's own base images
    of the ones read (call again with the new texts until nothing is needed)."""
    needed: set[str] = set()
    seen: set[str] = set()
    pending = [m.dockerfile for m in (index.locate(r) for r in wanted) if m is not None]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        if path not in texts:
            needed.add(path)
            continue
        base = _base_mapping(index, texts[path])
        if base is not None:
            pending.append(base.dockerfile)
    return sorted(needed)


def _base_mapping(index: ImageIndex, text: str) -> BuildMapping | None:
    df = parse(text)
    final = df.final
    return index.locate(df.chain(final)[0].base) if final is not None else None


def knowledge(index: ImageIndex, wanted: Iterable[str], texts: Mapping[str, str]) -> RepoKnowledge:
    """What the Dockerfiles in `texts` say of each `wanted` image the repository builds."""
    resolved: dict[str, ImageUser | None] = {}
    images: dict[str, ImageUser] = {}
    for reference in sorted(set(wanted)):
        mapping = index.locate(reference)
        if mapping is None:
            continue
        built = _resolve(index, mapping, texts, resolved, 0)
        if built is not None:
            images.setdefault(f"{built.source}\0{built.image}", built)
    return RepoKnowledge(tuple(images.values()))


def _resolve(
    index: ImageIndex, mapping: BuildMapping, texts: Mapping[str, str], memo: dict[str, ImageUser | None], depth: int
) -> ImageUser | None:
    """The final user of the image `mapping` builds, following FROM into the repository's own images."""
    key = f"{mapping.source}\0{mapping.image}\0{mapping.dockerfile}"
    if key in memo:
        return memo[key]
    memo[key] = None  # a FROM cycle resolves to unknown
    text = texts.get(mapping.dockerfile)
    if text is None or depth > MAX_BASE_DEPTH:
        return None
    df = parse(text)
    if df.final is None:
        return None
    chain = df.chain(df.final)
    base_mapping = index.locate(chain[0].base)
    if base_mapping is not None and base_mapping.dockerfile == mapping.dockerfile:
        base_mapping = None  # `FROM x` in the Dockerfile that builds x: the public x it customises
    base = _resolve(index, base_mapping, texts, memo, depth + 1) if base_mapping else None
    chain = inherit(chain, base)
    setting, _ = user_steps(chain)
    own_ids, _groups = known_ids(chain)
    ids = {**(dict(base.users) if base else {}), **own_ids}
    created = _created_names(chain) | (({base.user} if base.created else set()) if base else set())
    if setting is None:
        if base is not None:
            user, uid, made = base.user, base.uid, base.created
        else:
            default = default_user(parse_image(chain[0].base))
            user, uid, made = default.user, default.uid, False
    else:
        user = setting.user
        uid, made = _uid_of(chain, user, ids, created)
    result = ImageUser(
        mapping.image,
        mapping.dockerfile,
        mapping.source,
        user,
        uid,
        made,
        tuple(sorted(image_env(chain, dict(base.env) if base else None).items())),
        tuple(sorted(ids.items())),
    )
    memo[key] = result
    return result


def _uid_of(chain: list[Stage], user: str, ids: Mapping[str, int], created: set[str]) -> tuple[int | None, bool]:
    """The UID of the final user and whether it is a name the Dockerfiles create."""
    if not user:
        return None, False
    if is_root(user) or root_alias(chain, user):
        return 0, False
    if numeric(user):
        return int(user), False
    uid = ids.get(user, WELL_KNOWN_USERS.get(user))
    return uid, user in created


def _created_names(chain: list[Stage]) -> set[str]:
    """User names the chain's RUN steps create (useradd/adduser), with or without an explicit UID."""
    names: set[str] = set()
    for stage in chain:
        for instruction in stage.instructions:
            if instruction.keyword != "RUN":
                continue
            for match in _CREATE_USER.finditer("\n".join((instruction.value, *instruction.heredocs))):
                words = [w for w in match.group(2).replace("\\\n", " ").split() if not w.startswith("-")]
                if words:
                    names.add(words[-1].strip("\"'"))
    return names


def inherit(chain: list[Stage], base: ImageUser | None) -> list[Stage]:
    """The chain with the ENV of a base image built in the repository visible to its instructions
    (`USER ${NB_UID}` where the base sets `ENV NB_UID=1000`)."""
    if base is None or not base.env:
        return chain
    env = dict(base.env)
    return [replace(stage, global_args={**env, **stage.global_args}) for stage in chain]


def gather(tree: Sequence[str], read: Callable[[list[str]], Mapping[str, str]], wanted: Iterable[str]) -> RepoKnowledge:
    """The whole exchange: `read` is handed the paths to read (mapping files, then Dockerfiles, then
    their bases) and gives back the texts it could read; what it cannot read is simply not known."""
    texts: dict[str, str] = dict(read(mapping_paths(tree)))
    patches = patch_files(texts)
    index = build_index(tree, texts)
    wanted = sorted(set(wanted))
    for _round in range(MAX_BASE_DEPTH + 1):
        needed = [p for p in dockerfiles_needed(index, wanted, texts) if p not in texts]
        if not needed:
            break
        got = read(needed)
        texts.update(got)
        if not got:
            break
        for path in needed:
            texts.setdefault(path, "")  # unreadable: asked for once only
    return replace(knowledge(index, wanted, texts), patches=patches)


def from_texts(files: Mapping[str, str], wanted: Iterable[str]) -> RepoKnowledge:
    """Knowledge of a repository given whole as path -> text (tests, documentation examples)."""
    return gather(sorted(files), lambda paths: {p: files[p] for p in paths if p in files}, wanted)
