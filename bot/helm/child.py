"""The process that runs Helm: `python -m bot.helm.child`, JSON lines in on stdin, one reply per line out.

The parent starts it with a scrubbed environment in a private directory and kills its process group
when a render runs too long; the limits the kernel enforces (address space, CPU, no core files) are
set here, first thing, before Helm's library is loaded."""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import sys
import tempfile
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from bot.helm import wire
from bot.helm.backends import Backend, BinaryBackend, SdkBackend
from bot.helm.chartdir import UnsafePath, checked, copy_with, write_files
from rules.helm.render import Rendered, RenderFailure

CHARTS_KEPT = 8  # chart directories a child keeps between renders (renders of one chart come together)


class ChartCache:
    """Chart directories written once per chart identity, the least recently used removed first."""

    def __init__(self, root: Path, capacity: int = CHARTS_KEPT) -> None:
        self._root = root
        self._capacity = capacity
        self._dirs: OrderedDict[str, Path] = OrderedDict()

    def get(self, chart_id: str) -> Path | None:
        """The directory of a chart already written, or None."""
        directory = self._dirs.get(chart_id)
        if directory is not None:
            self._dirs.move_to_end(chart_id)
        return directory

    def put(self, chart_id: str, files: Mapping[str, bytes]) -> Path:
        """Write the chart's files into a fresh directory (UnsafePath leaves nothing behind)."""
        directory = Path(tempfile.mkdtemp(prefix="chart-", dir=self._root))
        try:
            write_files(directory, files)
        except (UnsafePath, OSError):
            shutil.rmtree(directory, ignore_errors=True)
            raise
        self._dirs[chart_id] = directory
        while len(self._dirs) > self._capacity:
            _, evicted = self._dirs.popitem(last=False)
            shutil.rmtree(evicted, ignore_errors=True)
        return directory


class Child:
    """Serves render requests with one backend, within the limits."""

    def __init__(self, backend: Backend, workdir: Path, cpu_seconds: int, output_mb: int) -> None:
        self._backend = backend
        self._workdir = workdir
        self._cache = ChartCache(workdir)
        self._cpu_seconds = cpu_seconds
        self._output_bytes = output_mb * 2**20
        self._output_mb = output_mb

    def serve(self, message: Mapping[str, Any]) -> bytes:
        """The reply line to one request line."""
        chart_dir = self._cache.get(message["chart"])
        if chart_dir is None:
            if message["files"] is None:
                return wire.status_line(wire.NEED_FILES)
            try:
                chart_dir = self._cache.put(message["chart"], wire.decode_files(message["files"]))
            except (UnsafePath, OSError) as error:
                return wire.reply_line(Rendered(failure=RenderFailure.TEMPLATE, message=str(error)))
        return wire.reply_line(self._render(chart_dir, message))

    def _render(self, chart_dir: Path, message: Mapping[str, Any]) -> Rendered:
        """One render in a scratch directory removed afterwards; a replaced file makes a copy of the chart."""
        request = wire.parse_request(message)
        with tempfile.TemporaryDirectory(prefix="render-", dir=self._workdir) as scratch_name:
            scratch = Path(scratch_name)
            try:
                if request.replace:
                    copy_with(chart_dir, scratch / "chart", request.replace)
                    chart_dir = scratch / "chart"
                absent = [name for name in request.values_files if not chart_dir.joinpath(checked(name)).is_file()]
            except (UnsafePath, OSError) as error:
                return Rendered(failure=RenderFailure.TEMPLATE, message=str(error))
            if absent:
                return Rendered(
                    failure=RenderFailure.TEMPLATE, message=f"values file {absent[0]!r} is not in the chart"
                )
            allow_cpu(self._cpu_seconds)
            rendered = self._backend.render(chart_dir, request, scratch)
        if sum(len(text) for _, text in rendered.manifests) > self._output_bytes:
            return Rendered(failure=RenderFailure.RESOURCES, message=f"rendered more than {self._output_mb} MB")
        return rendered


def allow_cpu(seconds: int) -> None:
    """RLIMIT_CPU at what this process has used so far plus `seconds`: the limit is per render, not per child.

    Only the soft limit moves (SIGXCPU, which ends the child: neither Python nor Go's runtime in a
    shared library handles it); the hard limit stays as inherited, so it can be raised again."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime) + seconds
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def limit_process(address_space_mb: int) -> None:
    """No core files (a Go crash would write gigabytes) and a bounded address space."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    address_space = address_space_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.helm.child", description=__doc__)
    parser.add_argument("--backend", choices=("sdk", "binary"), required=True)
    parser.add_argument("--helm", help="the helm executable (binary backend)")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--address-space-mb", type=int, required=True)
    parser.add_argument("--cpu-seconds", type=int, required=True)
    parser.add_argument("--output-mb", type=int, required=True)
    return parser.parse_args(argv)


def serve_lines(child: Child, requests: BinaryIO, replies: BinaryIO) -> None:
    """Answer each request line until stdin closes: the parent closing it is how a child is told to stop."""
    replies.write(wire.status_line(wire.READY))
    replies.flush()
    for line in requests:
        replies.write(child.serve(json.loads(line)))
        replies.flush()


def main(argv: list[str] | None = None) -> int:
    """Set the limits, load the backend, serve."""
    arguments = _arguments(argv)
    limit_process(arguments.address_space_mb)
    replies = _replies_descriptor()
    backend: Backend
    if arguments.backend == "sdk":
        backend = SdkBackend()
    else:
        backend = BinaryBackend(arguments.helm, arguments.address_space_mb, arguments.cpu_seconds)
    child = Child(backend, arguments.workdir, arguments.cpu_seconds, arguments.output_mb)
    with os.fdopen(replies, "wb") as reply_stream:
        serve_lines(child, sys.stdin.buffer, reply_stream)
    return 0


def _replies_descriptor() -> int:
    """A private copy of stdout for the replies, with fd 1 pointed at stderr: whatever Helm's library or
    a template prints cannot corrupt the protocol."""
    replies = os.dup(1)
    os.dup2(2, 1)
    return replies


if __name__ == "__main__":
    sys.exit(main())
