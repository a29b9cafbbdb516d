"""What a Dockerfile says about how its image starts: entrypoints that drop root themselves,
Docker socket clients, and base images meant to be extended."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rules.dockerfile.parse import Stage
from rules.dockerfile.user import FinalStage
from rules.images import app_user, parse_image

_DROPPER = re.compile(r"\b(gosu|su-exec|setpriv|chroot\s+--userspec|s6-overlay|s6-setuidgid|runuser)\b")
_S6_INIT = re.compile(r"""^\[?\s*["']?/init["']?\s*(\]|$)""")
# Official images whose docker-entrypoint.sh starts as root, fixes data ownership, then
# `exec gosu` (or su-exec) to their user; each also starts directly as that user.
_GOSU_ENTRYPOINT_IMAGES = re.compile(
    r"^((docker\.io/)?(library/)?)?(postgres|mysql|mariadb|redis|mongo|rabbitmq|cassandra|couchdb|influxdb)$"
)
_DOCKER_CLIENT = re.compile(
    r"/var/run/docker\.sock|/run/docker\.sock|\b(docker-ce-cli|docker\.io|docker-cli|moby-cli)\b"
    r"|\bapk\s+add\b[^;&|\n]*\sdocker\b|--from=docker(:\S*)?\s|/usr/local/bin/docker\b"
)
_BASE_NAME = re.compile(r"(^|/)([^/]*-base(/|\.|$)|base/Dockerfile$|Dockerfile\.base$|base\.Dockerfile$)")


@dataclass(frozen=True)
class Dropper:
    """An entrypoint that starts as root and switches user itself."""

    how: str  # "gosu in ENTRYPOINT", "the postgres image's docker-entrypoint.sh (gosu)"
    user: str | None  # the image's own user, "999:999", when known


def _texts(chain: list[Stage], keywords: tuple[str, ...]) -> list[str]:
    return ["\n".join((i.value, *i.heredocs)) for stage in chain for i in stage.instructions if i.keyword in keywords]


def _entrypoint(chain: list[Stage]) -> str | None:
    """The last ENTRYPOINT along the chain, None when the base image's is in effect."""
    values = _texts(chain, ("ENTRYPOINT",))
    return values[-1] if values else None


def privilege_dropper(final: FinalStage) -> Dropper | None:
    """The entrypoint drops root itself: gosu/su-exec/setpriv/chroot --userspec/s6 in ENTRYPOINT or CMD,
    s6-overlay's /init, or an official image's docker-entrypoint.sh left in effect."""
    image = parse_image(final.chain[0].base)
    shipped = app_user(image)
    user = f"{shipped.uid}:{shipped.gid}" if shipped is not None else None
    entrypoint = _entrypoint(final.chain)
    for text in _texts(final.chain, ("ENTRYPOINT", "CMD")):
        found = _DROPPER.search(text)
        if found:
            return Dropper(f"{found.group(1).split()[0]} in its start command", user)
    if entrypoint is not None and _S6_INIT.match(entrypoint.strip()):
        return Dropper("s6-overlay's /init", user)
    installs = " ".join(_texts(final.chain, ("RUN", "ADD", "COPY")))
    if entrypoint is not None and "entrypoint" in entrypoint.lower():
        found = _DROPPER.search(installs)
        if found:
            return Dropper(f"an entrypoint script, with {found.group(1).split()[0]} installed", user)
    if entrypoint is None and _GOSU_ENTRYPOINT_IMAGES.match(image.repository):
        return Dropper(f"the {image.name} image's docker-entrypoint.sh (exec gosu)", user)
    return None


def docker_socket_client(final: FinalStage) -> bool:
    """The image installs the Docker CLI or names the Docker socket."""
    return any(_DOCKER_CLIENT.search(text) for text in _texts(final.chain, ("RUN", "COPY", "ADD", "ENV", "VOLUME")))


def extension_base(final: FinalStage) -> str | None:
    """Why the Dockerfile looks like a base for other images, or None: a `*-base` name, or an image
    the repository builds with no CMD/ENTRYPOINT of its own."""
    path = final.path.replace("\\", "/")
    if _BASE_NAME.search(path):
        return f"{path} is named as a base image"
    starts = _texts([final.stage], ("CMD", "ENTRYPOINT"))
    knowledge = final.options.knowledge
    if not starts and knowledge is not None:
        for image in knowledge.images:
            if path == image.dockerfile or path.endswith("/" + image.dockerfile):
                return f"the repository builds {image.image} from it and it has no CMD or ENTRYPOINT"
    return None


DROPPER_NOTE = (
    " Its entrypoint drops root itself ({how}): the container starts as root and switches user, which "
    "runAsNonRoot rejects. To start non-root from the beginning, set USER {user} and have the paths it "
    "writes (its data volume) owned by that user. No fix offered: the volume's owner decides whether that works."
)
BASE_NOTE = (
    " This looks like a base image ({why}): images built FROM it inherit its USER, so their "
    "`RUN apt-get`/`pip install` steps need `USER root` before them and the non-root USER after. "
    "No fix offered here: fix the application images built FROM it."
)
SOCKET_NOTE = (
    " It talks to the Docker socket: a non-root user needs the socket's group (`--group-add` the GID "
    "of /var/run/docker.sock, or supplementalGroups), and socket access is root on the host anyway."
)


def start_notes(final: FinalStage) -> str:
    """What a UR101/UR102 message adds about how the image starts and is used."""
    notes = ""
    dropper = privilege_dropper(final)
    if dropper is not None:
        notes += DROPPER_NOTE.format(how=dropper.how, user=dropper.user or "<its user's UID:GID>")
    base = extension_base(final)
    if base is not None:
        notes += BASE_NOTE.format(why=base)
    if docker_socket_client(final):
        notes += SOCKET_NOTE
    return notes
