"""The directories known published images write at run time, which a read-only root filesystem must leave writable.

Each row is a documented fact about one image family, with its source; an image that matches
no row gets /tmp only, and the fix says the app may write elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from rules.images import parse_image

TMP = "/tmp"


@dataclass(frozen=True)
class WrittenPaths:
    """What one image family writes outside its volumes, and where that is documented."""

    repositories: tuple[str, ...]  # normalised repository names ("nginx", "nginxinc/nginx-unprivileged")
    paths: tuple[str, ...]
    source: str


KNOWN_IMAGES: tuple[WrittenPaths, ...] = (
    WrittenPaths(
        ("nginxinc/nginx-unprivileged", "nginx/nginx-unprivileged"),
        (TMP,),
        # nginxinc/docker-nginx-unprivileged mainline/debian/Dockerfile: `sed` moves the pid file to
        # /tmp/nginx.pid and every *_temp_path to /tmp/*_temp.
        "nginxinc/docker-nginx-unprivileged Dockerfile (pid and temp paths moved to /tmp)",
    ),
    WrittenPaths(
        ("nginx",),
        ("/var/cache/nginx", "/var/run", TMP),
        # nginxinc/docker-nginx mainline/debian/Dockerfile and its nginx.conf: `pid /var/run/nginx.pid;`,
        # the package's --http-client-body-temp-path=/var/cache/nginx/client_temp (and proxy, fastcgi,
        # uwsgi, scgi temp dirs there).
        "nginxinc/docker-nginx Dockerfile and nginx.conf (pid /var/run/nginx.pid, temp paths in /var/cache/nginx)",
    ),
    WrittenPaths(
        ("redis",),
        ("/data", TMP),
        # docker-library/redis Dockerfile: `VOLUME /data`, `WORKDIR /data` (RDB/AOF files are written there).
        "docker-library/redis Dockerfile (VOLUME /data, WORKDIR /data)",
    ),
    WrittenPaths(
        ("postgres",),
        ("/var/run/postgresql", "/var/lib/postgresql", TMP),
        # docker-library/postgres Dockerfile: `mkdir -p /var/run/postgresql && chmod 2777` (the socket and
        # lock), PGDATA=/var/lib/postgresql/data up to 17, /var/lib/postgresql/18/docker from 18
        # (`VOLUME /var/lib/postgresql`): mounting /var/lib/postgresql covers both.
        "docker-library/postgres Dockerfile (/var/run/postgresql socket dir, PGDATA under /var/lib/postgresql)",
    ),
)

_REGISTRY_PREFIXES = ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/", "library/")


def _repository(reference: str) -> str:
    repository = parse_image(reference).repository
    for prefix in _REGISTRY_PREFIXES:
        if repository.startswith(prefix):
            return repository[len(prefix) :]
    return repository


def known_written_paths(reference: str | None) -> WrittenPaths | None:
    """The row for the published image `reference` names, or None for an image this table does not know."""
    if not reference or "$" in reference or "{{" in reference:
        return None
    repository = _repository(reference)
    return next((row for row in KNOWN_IMAGES if repository in row.repositories), None)
