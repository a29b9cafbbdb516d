"""How much a Helm render may use before it is stopped: address space, CPU, wall-clock time, output."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HelmLimits:
    """Limits on the child process that renders charts; each render gets the CPU and time allowance anew."""

    # RLIMIT_AS of the child. Go's runtime reserves address space far beyond what it touches: a render
    # that recurses or allocates in a loop dies with 1-1.5 GB although its resident memory stays under
    # 150 MB, and renders fine at 2 GB (measured with helm-python-sdk 0.2.2).
    address_space_mb: int = 2048
    cpu_seconds: int = 20  # RLIMIT_CPU per render: SIGXCPU ends the child
    wall_seconds: float = 20.0  # the parent kills the child's process group after this long
    output_mb: int = 32  # rendered text one render may return
    start_seconds: float = 30.0  # for the child to import Helm and say it is ready
