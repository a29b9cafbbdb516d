"""Knowledge of base images: who they run as by default and which distro they are.

Each entry is a documented fact about a published image family; when nothing here
matches, an image is assumed to run as root (the Docker default) and the distro is
unknown, so fixes fall back to a numeric USER that needs no tools in the image.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class Distro(enum.Enum):
    """How a user is created in an image, if at all."""

    DEBIAN = "debian"  # Debian, Ubuntu and images built on them: groupadd/useradd
    ALPINE = "alpine"  # BusyBox: addgroup -S / adduser -S
    RHEL = "rhel"  # UBI, CentOS, Fedora, Rocky, Alma, Amazon Linux: groupadd/useradd
    SUSE = "suse"  # openSUSE/SLE: useradd lives in the `shadow` package
    BUSYBOX = "busybox"  # the busybox image: BusyBox applets without Alpine's apk (adduser -D)
    RHEL_MINIMAL = "rhel-minimal"  # ubi-minimal: microdnf, but no shadow-utils (no useradd)
    RHEL_MICRO = "rhel-micro"  # ubi-micro: no package manager: a numeric USER only
    NO_SHELL = "no-shell"  # scratch, distroless, Chainguard static: no RUN possible
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference: `registry/path/name:tag@digest`, lower-cased."""

    repository: str  # everything before the tag, e.g. "gcr.io/distroless/static"
    tag: str

    @property
    def name(self) -> str:
        """The last path segment of the repository ("static", "python")."""
        return self.repository.rsplit("/", 1)[-1]


def parse_image(reference: str) -> ImageRef:
    """Split an image reference into repository and tag ("latest" when absent)."""
    ref = reference.strip().lower().split("@", 1)[0]
    last_slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > last_slash:
        return ImageRef(ref[:colon], ref[colon + 1 :] or "latest")
    return ImageRef(ref, "latest")


@dataclass(frozen=True)
class DefaultUser:
    """The user an image runs as when a Dockerfile sets none."""

    user: str
    uid: int | None  # None: root or not known


@dataclass(frozen=True)
class _NonRootImage:
    """A documented image family whose default user is not root."""

    pattern: re.Pattern[str]  # matched against "repository:tag"
    user: str  # as the image config states it
    uid: int
    source: str


# Image families that run as a non-root user by default. Keep each row sourced.
NON_ROOT_IMAGES: tuple[_NonRootImage, ...] = (
    _NonRootImage(
        re.compile(r"^(gcr\.io|[a-z0-9-]+\.pkg\.dev)/distroless/[^:]+:(.*-)?nonroot$"),
        "65532",  # the image config sets the number (distroless builds `user = "%d" % NONROOT`)
        65532,
        "distroless README and build files: the :nonroot tags run as uid 65532 (user nonroot)",
    ),
    _NonRootImage(
        re.compile(r"^cgr\.dev/chainguard/[^:]+:(?!.*-root).*$"),
        "65532",
        65532,
        "Chainguard images run as uid 65532 unless documented otherwise",
    ),
    _NonRootImage(
        re.compile(r"^((docker\.io|registry-1\.docker\.io|public\.ecr\.aws)/)?bitnami(legacy)?/[^:]+:.*$"),
        "1001",
        1001,
        "Bitnami non-root containers (bitnami/*, and bitnamilegacy/* where old tags moved) run as uid 1001",
    ),
    _NonRootImage(
        re.compile(r"^(.*/)?nginx-unprivileged:.*$"),
        "101",
        101,
        "nginxinc/nginx-unprivileged runs as the nginx user, uid 101",
    ),
    _NonRootImage(
        re.compile(r"^(.*/)?[a-z0-9.-]+-unprivileged:.*$"),
        "1001",
        1001,
        "*-unprivileged images run as a non-root user by convention",
    ),
    _NonRootImage(
        re.compile(
            r"^(registry\.access\.redhat\.com|registry\.redhat\.io)/ubi\d+/"
            r"(python|nodejs|ruby|php|perl|go-toolset|dotnet|s2i-[a-z-]+)[^:]*:.*$"
        ),
        "1001",
        1001,
        "Red Hat UBI language (s2i) images run as uid 1001",
    ),
    _NonRootImage(
        re.compile(r"^(registry\.access\.redhat\.com|registry\.redhat\.io)/ubi\d+/openjdk-\d+[^:]*:.*$"),
        "185",
        185,
        "Red Hat UBI OpenJDK images run as the jboss user, uid 185",
    ),
    _NonRootImage(
        re.compile(r"^((quay\.io|docker\.io)/)?jupyter/[^:]+:.*$"),
        "1000",
        1000,
        "Jupyter Docker Stacks end with USER ${NB_UID}, NB_UID=1000 (user jovyan)",
    ),
    _NonRootImage(
        re.compile(r"^((quay\.io|docker\.io)/)?(prom|prometheus)/[^:]+:.*$"),
        "nobody",  # their Dockerfiles say `USER nobody`: a name the kubelet cannot verify
        65534,
        "Prometheus project images (prometheus, alertmanager, exporters) set USER nobody, uid 65534",
    ),
    _NonRootImage(
        re.compile(r"^((docker\.io)/)?rayproject/ray(-ml|-llm)?:.*$"),
        "1000",
        1000,
        "Ray's images end with USER $RAY_UID, RAY_UID=1000 (user ray)",
    ),
    _NonRootImage(
        re.compile(r"^((docker\.io)/)?grafana/grafana(-oss|-enterprise)?:.*$"),
        "472",
        472,
        "Grafana's image runs as uid 472 (GF_UID)",
    ),
    _NonRootImage(
        re.compile(r"^mcr\.microsoft\.com/dotnet/(runtime-deps|runtime|aspnet):[^:]*(chiseled|distroless)[^:]*$"),
        "1654",
        1654,
        ".NET chiseled images run as the app user, uid 1654 (APP_UID)",
    ),
)


@dataclass(frozen=True)
class AppUser:
    """The non-root user an image ships for its application, by number."""

    name: str
    uid: int
    gid: int


@dataclass(frozen=True)
class _ShippedUser:
    """A user an image family creates without running as it, with its IDs in that family."""

    pattern: re.Pattern[str]  # matched against "repository:tag"
    user: AppUser
    source: str
    # Whether a fix switches to this user instead of creating one: the user is meant to run the
    # image's application. Not for users whose group differs from the fix's scheme (redis on
    # Alpine, group 1000) or images that already run as theirs (Jupyter).
    runs_the_app: bool = True


_OFFICIAL = r"^((docker\.io/)?(library/)?)?"

# One table for both uses: `USER name` on these bases turns into the number a fix can write,
# and `app_user` picks the user a fix switches to. The IDs differ between families (postgres is
# 999 on Debian, 70 on Alpine), so each row holds for its own pattern only; first match wins.
SHIPPED_USERS: tuple[_ShippedUser, ...] = (
    _ShippedUser(
        re.compile(_OFFICIAL + r"node:.*$"),
        AppUser("node", 1000, 1000),
        "official node images: groupadd --gid 1000 node && useradd --uid 1000 --gid node node",
    ),
    _ShippedUser(
        re.compile(_OFFICIAL + r"postgres:.*alpine.*$"),
        AppUser("postgres", 70, 70),
        "postgres Alpine images: addgroup -g 70 postgres, adduser -u 70",
    ),
    _ShippedUser(
        re.compile(_OFFICIAL + r"postgres:.*$"),
        AppUser("postgres", 999, 999),
        "postgres Debian images: groupadd -r --gid=999 postgres && useradd -r --uid=999 --gid=999",
    ),
    _ShippedUser(
        re.compile(_OFFICIAL + r"(mysql|mariadb):.*$"),
        AppUser("mysql", 999, 999),
        "official mysql and mariadb images: groupadd --gid 999 mysql, useradd --uid 999",
    ),
    _ShippedUser(
        re.compile(_OFFICIAL + r"redis:.*alpine.*$"),
        AppUser("redis", 999, 1000),
        "redis Alpine images: addgroup -S -g 1000 redis && adduser -S -G redis -u 999 redis",
        runs_the_app=False,
    ),
    _ShippedUser(
        re.compile(_OFFICIAL + r"redis:.*$"),
        AppUser("redis", 999, 999),
        "redis Debian images: groupadd -r -g 999 redis && useradd -r -g redis -u 999 redis",
    ),
    _ShippedUser(
        re.compile(_OFFICIAL + r"mongo:.*$"),
        AppUser("mongodb", 999, 999),
        "official mongo images: groupadd --gid 999 mongodb && useradd --uid 999 --gid mongodb",
    ),
    _ShippedUser(
        re.compile(_OFFICIAL + r"nginx:.*$"),
        AppUser("nginx", 101, 101),
        "official nginx images: the nginx user and group are 101 (Debian and Alpine)",
    ),
    _ShippedUser(
        re.compile(r"^((quay\.io|docker\.io)/)?jupyter/[^:]+:.*$"),
        AppUser("jovyan", 1000, 100),
        "Jupyter Docker Stacks: NB_USER jovyan, NB_UID 1000, NB_GID 100",
        runs_the_app=False,
    ),
    _ShippedUser(
        re.compile(_OFFICIAL + r"ubuntu:(2[4-9]\.|noble|oracular|plucky|questing).*$"),
        AppUser("ubuntu", 1000, 1000),
        "Ubuntu images from 23.04 ship the ubuntu user and group, 1000",
    ),
)


def app_user(image: ImageRef) -> AppUser | None:
    """The user `image` ships for its application, when its family documents one."""
    key = f"{image.repository}:{image.tag}"
    for entry in SHIPPED_USERS:
        if entry.pattern.match(key):
            return entry.user if entry.runs_the_app else None
    return None


# Users that images commonly ship, with their numeric IDs, used to turn `USER name`
# into a number Kubernetes can verify. Only IDs that are the same across the images
# that carry the name.
WELL_KNOWN_USERS: dict[str, int] = {
    "root": 0,
    "nobody": 65534,
    "nonroot": 65532,
    "node": 1000,  # official node images
    "jboss": 185,  # UBI OpenJDK
}

_NO_SHELL = re.compile(
    r"^(scratch|(.*/)?distroless/.*|cgr\.dev/chainguard/(static|go|rust|python|node|glibc-dynamic)(-[a-z]+)?)$"
)
_ALPINE = re.compile(r"alpine")
_BUSYBOX = re.compile(r"(^|/)busybox$")
_RHEL_MINIMAL = re.compile(r"(^|/)ubi\d*-minimal$")
_RHEL_MICRO = re.compile(r"(^|/)ubi\d*-micro$")
_SUSE = re.compile(r"(open)?suse|sles|bci/")
_RHEL = re.compile(
    r"(^|/)(ubi\d*(-[a-z]+)?|centos|fedora|rockylinux|almalinux|amazonlinux|oraclelinux|rhel\d*)$|/ubi\d+/"
)
_DEBIAN_TAG = re.compile(r"(bookworm|bullseye|buster|trixie|stretch|jammy|noble|focal|bionic|slim)")
# Official language and server images default to Debian unless the tag says otherwise.
_DEBIAN_NAMES = frozenset(
    "debian ubuntu python node golang ruby openjdk eclipse-temurin amazoncorretto maven gradle "
    "php rust perl nginx httpd postgres redis mysql mariadb mongo elixir erlang haskell "
    "julia r-base buildpack-deps gcc tomcat jetty wordpress ghost".split()
)


def default_user(image: ImageRef) -> DefaultUser:
    """Who `image` runs as when nothing sets USER; root unless documented otherwise."""
    key = f"{image.repository}:{image.tag}"
    for entry in NON_ROOT_IMAGES:
        if entry.pattern.match(key):
            return DefaultUser(entry.user, entry.uid)
    return DefaultUser("root", 0)


def shipped_uid(image: ImageRef, user: str) -> int | None:
    """The ID of `user` in `image` when the image family documents it, else the ID every image
    that ships the name gives it (WELL_KNOWN_USERS), else None."""
    key = f"{image.repository}:{image.tag}"
    for entry in SHIPPED_USERS:
        if entry.pattern.match(key):
            if entry.user.name == user:
                return entry.user.uid
            break  # the family's row: another name is not its user
    return WELL_KNOWN_USERS.get(user)


def distro_of(image: ImageRef) -> Distro:
    """The distro family of `image`, from its name and tag; UNKNOWN when unsure."""
    repo, tag = image.repository, image.tag
    if _NO_SHELL.match(repo) and not tag.endswith(("-dev", "debug", "debug-nonroot")):
        return Distro.NO_SHELL
    if _BUSYBOX.search(repo):
        return Distro.BUSYBOX
    if _RHEL_MICRO.search(repo):
        return Distro.RHEL_MICRO
    if _RHEL_MINIMAL.search(repo):
        return Distro.RHEL_MINIMAL
    if _ALPINE.search(repo) or "alpine" in tag:
        return Distro.ALPINE
    if _SUSE.search(repo):
        return Distro.SUSE
    if _RHEL.search(repo) or "ubi" in tag:
        return Distro.RHEL
    if image.name in ("debian", "ubuntu") or _DEBIAN_TAG.search(tag):
        return Distro.DEBIAN
    if image.name in _DEBIAN_NAMES:
        return Distro.DEBIAN
    return Distro.UNKNOWN
