"""Fuzz the analysers: mutated and generated Dockerfiles and manifests, counting crashes and slow inputs.

    python tools/fuzz_analysers.py --count 100000 [--seed 1] [--corpus ../shared/corpus] [--out DIR]

Inputs are derived deterministically from (seed, analyser, index), so any finding is
reproducible by its index. The analysis runs in child processes under a CPU-time limit: a
hang is reported (and its input saved) instead of stopping the run. For each analyser it
prints the inputs run, exceptions, inputs under 64 KB that took more than 2 s, and the
slowest input; exit 1 when any exception, hang or slow input was found.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANALYSERS = {"dockerfile": "Dockerfile", "yaml": "pod.yaml", "json": "pod.json"}
SMALL = 64 * 1024  # inputs under this size must finish within SLOW seconds
SLOW = 2.0
CHILD_CPU = 60  # seconds of CPU a child may use on one input before it counts as a hang
BATCH = 2000  # inputs per child process

Mutator = Callable[[random.Random, str, list[str]], str]


def _seeds(kind: str, corpus: Path | None) -> list[str]:
    """Seed texts: the rule cases and examples shipped in the repository, plus the corpus when given."""
    sys.path.insert(0, str(ROOT))
    from tests.rule_cases import CASES  # the fuzz tool reads the suite's own spec

    def wanted(name: str) -> bool:
        if kind == "dockerfile":
            return "ockerfile" in name or name.endswith("file")
        return name.endswith(".json") if kind == "json" else name.endswith((".yaml", ".yml"))

    texts = [case.text for case in CASES if wanted(case.path)]
    kept = len(texts)
    roots = [ROOT / "examples"] + ([corpus] if corpus is not None else [])
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink() and wanted(path.name) and path.stat().st_size < 200_000:
                try:
                    texts.append(path.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError):
                    continue
    if kind != "dockerfile":  # files that hold no workload only exercise the parser
        texts = texts[:kept] + [t for t in texts[kept:] if "containers" in t]
    if kind == "json" and len(texts) < 5:
        texts += [json.dumps(_generated_pod(random.Random(n)), indent=n % 3) for n in range(20)]
    return texts or [""]


def _generated_pod(rng: random.Random) -> dict[str, object]:
    sc: dict[str, object] = {
        key: rng.choice([True, False, 0, 1000, "x", None, [], {}])
        for key in rng.sample(["runAsUser", "runAsNonRoot", "privileged", "allowPrivilegeEscalation", "runAsGroup"], 3)
    }
    container = {"name": "c", "image": "x", "securityContext": sc}
    return {
        "apiVersion": "v1",
        "kind": rng.choice(["Pod", "List"]),
        "metadata": {"name": "p"},
        "spec": {"containers": [container] * rng.randint(0, 3), "hostPID": rng.choice([True, "yes", None])},
    }


# ---------------------------------------------------------------- mutations

_TOKENS = [
    "\n",
    "\r\n",
    "\r",
    "\t",
    " ",
    "\x85",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\x00",
    "\\",
    "\\\n",
    "'",
    '"',
    "#",
    "&a ",
    "*a",
    "<<: *a",
    "!!binary ",
    "!tag ",
    "? ",
    "- ",
    ": ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "|",
    ">",
    "|-",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "${",
    "${A:-",
    "${A:+",
    "}",
    "$A",
    "$",
    "<<EOF\n",
    "EOF\n",
    "<<-'X'\n",
    "FROM ",
    "USER ",
    "USER root",
    "USER 0:0",
    "RUN ",
    "ARG ",
    "ENV ",
    "ONBUILD ",
    "# unroot: ignore=",
    "# escape=`\n",
    "sudo ",
    "useradd -u 0 ",
    "securityContext:",
    "runAsUser: 0",
    "privileged: true",
    "containers:",
    "initContainers:",
    "apiVersion: v1",
    "kind: Pod",
    "kind: List",
    "items:",
    "spec:",
    "template:",
    "{{ .Values.x }}",
    "null",
    "~",
    "0x0",
    "0o0",
    "-0",
    "1e400",
    "9" * 40,
    "é",
    "😀",
    "\udcff".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
]


def _flip(rng: random.Random, text: str, _pool: list[str]) -> str:
    if not text:
        return rng.choice(_TOKENS)
    at = rng.randrange(len(text))
    return (
        text[:at]
        + chr(rng.choice([rng.randrange(32, 127), rng.randrange(0, 32), rng.randrange(128, 0x3000)]))
        + text[at + 1 :]
    )


def _insert_token(rng: random.Random, text: str, _pool: list[str]) -> str:
    at = rng.randrange(len(text) + 1)
    return text[:at] + rng.choice(_TOKENS) + text[at:]


def _delete(rng: random.Random, text: str, _pool: list[str]) -> str:
    if not text:
        return text
    at = rng.randrange(len(text))
    return text[:at] + text[at + rng.randint(1, 40) :]


def _splice(rng: random.Random, text: str, pool: list[str]) -> str:
    other = rng.choice(pool)
    a, b = rng.randrange(len(text) + 1), rng.randrange(len(other) + 1)
    return text[:a] + other[b : b + rng.randint(1, 400)] + text[a:]


def _duplicate_lines(rng: random.Random, text: str, _pool: list[str]) -> str:
    lines = text.split("\n")
    if not lines:
        return text
    at = rng.randrange(len(lines))
    span = lines[at : at + rng.randint(1, 8)]
    return "\n".join(lines[:at] + span * rng.randint(2, 50) + lines[at:])


def _reindent(rng: random.Random, text: str, _pool: list[str]) -> str:
    lines = text.split("\n")
    if not lines:
        return text
    at = rng.randrange(len(lines))
    lines[at] = " " * rng.randint(0, 12) + lines[at].lstrip() if rng.random() < 0.7 else "\t" + lines[at]
    return "\n".join(lines)


def _anchor_alias(rng: random.Random, text: str, _pool: list[str]) -> str:
    lines = text.split("\n")
    keyed = [i for i, line in enumerate(lines) if line.rstrip().endswith(":") or ": " in line]
    if len(keyed) < 2:
        return text + "\nx: &a [*a]\n"
    first, second = sorted(rng.sample(keyed, 2))
    key, sep, rest = lines[first].partition(":")
    lines[first] = f"{key}{sep} &a{rng.randint(0, 3)}{rest}"
    key, sep, _rest = lines[second].partition(":")
    lines[second] = f"{key}{sep} *a{rng.randint(0, 3)}"
    return "\n".join(lines)


def _nest(rng: random.Random, text: str, _pool: list[str]) -> str:
    depth = rng.choice([10, 100, 1000, 5000])
    shape = rng.choice(
        [
            "[" * depth + "]" * depth,
            "{a: " * depth + "}" * depth,
            "- " * depth + "x",
            "${A:-" * depth + "x" + "}" * depth,
            "${A:-" * depth,
            "\\\n" * depth,
        ]
    )
    at = rng.randrange(len(text) + 1)
    return text[:at] + shape + text[at:]


def _line_endings(rng: random.Random, text: str, _pool: list[str]) -> str:
    ending = rng.choice(["\r\n", "\r", "\x85", "\u2028", "\u2029"])
    return (rng.choice(["", "\ufeff"])) + text.replace("\n", ending)


def _long_line(rng: random.Random, text: str, _pool: list[str]) -> str:
    at = rng.randrange(len(text) + 1)
    return text[:at] + rng.choice(["a", " ", "$", "{", "-", "'"]) * rng.choice([1000, 20_000, 60_000]) + text[at:]


_VALUES = [
    "0",
    "1000",
    "-1",
    "true",
    "false",
    "yes",
    "~",
    "null",
    "''",
    '""',
    "[]",
    "{}",
    "[ALL]",
    "[SYS_ADMIN]",
    "{type: Unconfined}",
    "0x0",
    "0o0",
    "00",
    "1e400",
    "9" * 30,
    "*a",
    "&a x",
    "!!str 0",
    "|\n  0",
    "root",
    "\u2028",
]
_KEYS = [
    "runAsUser",
    "runAsNonRoot",
    "runAsGroup",
    "privileged",
    "allowPrivilegeEscalation",
    "hostPID",
    "hostNetwork",
    "hostIPC",
    "capabilities",
    "add",
    "drop",
    "seccompProfile",
    "type",
    "securityContext",
    "readOnlyRootFilesystem",
    "containers",
    "initContainers",
    "ephemeralContainers",
    "name",
    "image",
    "template",
    "spec",
    "kind",
    "items",
]


def _set_value(rng: random.Random, text: str, _pool: list[str]) -> str:
    """Keep the structure, change one scalar: the mutation that reaches the rules, not just the parser."""
    lines = text.split("\n")
    keyed = [i for i, line in enumerate(lines) if ": " in line or line.rstrip().endswith(":")]
    if not keyed:
        return text
    at = rng.choice(keyed)
    key = lines[at].split(":", 1)[0]
    lines[at] = f"{key}: {rng.choice(_VALUES)}"
    return "\n".join(lines)


def _add_key(rng: random.Random, text: str, _pool: list[str]) -> str:
    lines = text.split("\n")
    keyed = [i for i, line in enumerate(lines) if ":" in line]
    if not keyed:
        return text
    at = rng.choice(keyed)
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip(" -"))].replace("-", " ")
    extra = f"{indent}{rng.choice(_KEYS)}: {rng.choice(_VALUES)}"
    if rng.random() < 0.4:
        extra = f"{indent}{rng.choice(_KEYS)}:\n{indent}  {rng.choice(_KEYS)}: {rng.choice(_VALUES)}"
    return "\n".join(lines[: at + 1] + [extra] + lines[at + 1 :])


def _docker_line(rng: random.Random, text: str, _pool: list[str]) -> str:
    lines = text.split("\n")
    instruction = rng.choice(["USER", "FROM", "RUN", "ARG", "ENV", "COPY", "CMD", "EXPOSE", "WORKDIR"])
    argument = rng.choice(
        [
            "root",
            "0",
            "0:0",
            "${A}",
            "${A:-0}",
            "$A",
            "app",
            "1000:1000",
            "debian AS b",
            "b",
            "sudo apt-get install x",
            "useradd -u 0 x",
            "A=${A:-${B}}",
            "<<EOF",
            '["x"]',
            "80",
            "x \\",
        ]
    )
    at = rng.randrange(len(lines) + 1)
    return "\n".join(lines[:at] + [f"{instruction} {argument}"] + lines[at:])


MUTATORS: list[Mutator] = [
    _set_value,
    _set_value,
    _set_value,
    _add_key,
    _add_key,
    _docker_line,
    _docker_line,
    _flip,
    _insert_token,
    _insert_token,
    _delete,
    _splice,
    _duplicate_lines,
    _reindent,
    _anchor_alias,
    _nest,
    _line_endings,
    _long_line,
]


def make_input(seeds: list[str], seed: int, kind: str, index: int) -> str:
    """The index-th input for an analyser: a seed with one to six mutations."""
    rng = random.Random(f"{seed}:{kind}:{index}")
    text = rng.choice(seeds)
    for _ in range(rng.choice([1, 1, 2, 2, 3, 6])):
        text = rng.choice(MUTATORS)(rng, text, seeds)
    return text[:1_000_000]


# ---------------------------------------------------------------- child: run a batch


def _child(kind: str, seed: int, start: int, stop: int, corpus: str) -> None:
    """Analyse inputs start..stop, one JSON line each (written before and after, so a hang is attributable)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.path.insert(0, str(ROOT))
    from rules.analyze import analyze

    seeds = _seeds(kind, Path(corpus) if corpus else None)
    path = ANALYSERS[kind]
    out = sys.stdout
    for index in range(start, stop):
        text = make_input(seeds, seed, kind, index)
        out.write(json.dumps({"start": index}) + "\n")
        out.flush()
        began = time.process_time()
        # The CPU limit counts the whole process: give each input its own CHILD_CPU seconds.
        resource.setrlimit(resource.RLIMIT_CPU, (int(began) + CHILD_CPU, resource.RLIM_INFINITY))
        error = None
        judged = False
        try:
            judged = all(finding.rule != "UR001" for finding in analyze(path, text))
        except Exception:  # counting every kind of crash is the point
            error = traceback.format_exc(limit=6)
        out.write(
            json.dumps(
                {
                    "done": index,
                    "cpu": time.process_time() - began,
                    "size": len(text.encode("utf-8", "surrogatepass")),
                    "error": error,
                    "judged": judged,
                }
            )
            + "\n"
        )
        out.flush()


def _limit_child() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _batches(kind: str, seed: int, start: int, stop: int, corpus: str) -> Iterator[dict[str, object]]:
    """Run inputs in children; yields each result, and a `hang` result for an input that killed its child."""
    index = start
    while index < stop:
        end = min(stop, index + BATCH)
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", kind, str(seed), str(index), str(end), corpus],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            preexec_fn=_limit_child,
        )
        assert proc.stdout is not None
        current: int | None = None
        for line in proc.stdout:
            record = json.loads(line)
            if "start" in record:
                current = int(record["start"])
            else:
                current = None
                index = int(record["done"]) + 1
                yield record
        proc.wait()
        if current is not None:  # the child died on this input (CPU or memory limit)
            yield {
                "done": current,
                "cpu": float(CHILD_CPU),
                "size": -1,
                "error": f"child died ({proc.returncode}): hang or memory blow-up",
            }
            index = current + 1
        elif index < end:
            yield {
                "done": index,
                "cpu": 0.0,
                "size": -1,
                "error": f"child exited {proc.returncode} before input {index}",
            }
            index += 1


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "--child":
        _child(args[1], int(args[2]), int(args[3]), int(args[4]), args[5])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="inputs per analyser (default 2000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--corpus", default=str(ROOT.parent / "shared" / "corpus"), help="extra seeds (skipped if absent)"
    )
    parser.add_argument("--analyser", choices=sorted(ANALYSERS), action="append", help="only these (default all)")
    parser.add_argument("--out", type=Path, default=Path("fuzz-findings"), help="where reproducers are saved")
    parser.add_argument("--start", type=int, default=0, help="first input index (to replay one: --start N --count 1)")
    options = parser.parse_args(args)
    corpus = options.corpus if Path(options.corpus).is_dir() else ""
    failed = False
    for kind in options.analyser or sorted(ANALYSERS):
        began = time.monotonic()
        ran = errors = slow = judged = 0
        slowest = (0.0, -1, 0)
        for record in _batches(kind, options.seed, options.start, options.start + options.count, corpus):
            ran += 1
            judged += bool(record.get("judged"))
            cpu, size, index = float(str(record["cpu"])), int(str(record["size"])), int(str(record["done"]))
            if cpu > slowest[0]:
                slowest = (cpu, index, size)
            bad = record["error"] is not None or (0 <= size < SMALL and cpu > SLOW)
            if bad:
                errors += record["error"] is not None
                slow += record["error"] is None
                _save(options.out, kind, options.seed, index, corpus, str(record["error"] or f"{cpu:.2f} s CPU"))
        failed |= bool(errors or slow)
        print(
            f"{kind}: {ran} inputs ({judged} analysed, the rest skipped with a notice), {errors} exceptions or hangs, {slow} inputs under 64 KB over {SLOW:g} s CPU; "
            f"slowest {slowest[0]:.3f} s (input {slowest[1]}, {slowest[2]:,} bytes); {time.monotonic() - began:.0f} s wall",
            flush=True,
        )
    return 1 if failed else 0


def _save(out: Path, kind: str, seed: int, index: int, corpus: str, what: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    text = make_input(_seeds(kind, Path(corpus) if corpus else None), seed, kind, index)
    target = out / f"{kind}-{seed}-{index}"
    target.write_text(text, encoding="utf-8", errors="surrogatepass")
    (out / f"{kind}-{seed}-{index}.txt").write_text(what)
    print(f"  {kind} input {index}: {what.strip().splitlines()[-1][:200]} -> {target}", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
