"""The `unroot` command: check and fix files locally."""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from bot import formats
from bot.config import CONFIG_PATH, ConfigError, RepoConfig, parse_config
from rules.analyze import analyze, decode, deferred_edits, file_kind, skipped
from rules.fixes import EditConflict, apply
from rules.model import Finding, LineEdit, Options, Severity
from rules.ur001_file_skipped import too_large

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
_BOM = "\ufeff"
_SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "__pycache__", ".tox"}


class UsageError(Exception):
    """The command line asks for something impossible; exit 2."""


def _walk(paths: Sequence[str]) -> Iterator[Path]:
    """Files to analyse: named files as given, directories walked for known file names."""
    for raw in paths:
        root = Path(raw)
        if root.is_file():
            yield root
        elif root.is_dir():
            for directory, subdirs, files in os.walk(root):
                subdirs[:] = sorted(d for d in subdirs if d not in _SKIP_DIRS)
                for name in sorted(files):
                    candidate = Path(directory) / name
                    # Symlinks are not followed: a repository's link may point anywhere.
                    if file_kind(name) is not None and not candidate.is_symlink():
                        yield candidate
        else:
            raise UsageError(f"no such file or directory: {raw}")


def _load_config(option: str | None) -> RepoConfig:
    candidate = option or (CONFIG_PATH if Path(CONFIG_PATH).is_file() else None)
    if candidate is None:
        return RepoConfig()
    try:
        return parse_config(Path(candidate).read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read config {candidate}: {error.strerror}") from None
    except ConfigError as error:
        raise UsageError(f"{candidate}: {error}") from None


def _read(path: Path, config: RepoConfig) -> tuple[str | None, list[Finding]]:
    """The file's text and its findings; an unreadable file gives a notice instead."""
    name = path.as_posix()
    limit = config.options.max_bytes
    try:
        size = path.stat().st_size
        if size > limit:
            # Decided from the size alone: a 50 MB file is never read.
            return None, [skipped(name, too_large(size, limit))]
        data = path.read_bytes()
    except OSError as error:
        return None, [skipped(name, f"cannot read: {error.strerror}")]
    decoded = decode(name, data, config.options)
    if isinstance(decoded, Finding):
        return None, [decoded]
    return decoded, analyze(name, decoded, config.options)


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _read_job(job: tuple[str, RepoConfig, bool]) -> tuple[str | None, list[Finding]]:
    """Worker-process entry: analyse one file; the text comes back only when asked for."""
    path, config, keep_text = job
    text, found = _read(Path(path), config)
    return (text if keep_text else None), found


def _collect(
    paths: Sequence[str], config: RepoConfig, jobs: int = 1, keep_text: bool = True, files: list[Path] | None = None
) -> tuple[list[Finding], dict[str, str], int]:
    """Analyse every file (`files`, when the walk is done already); with jobs > 1 and enough
    files, in that many processes (same order)."""
    findings: list[Finding] = []
    texts: dict[str, str] = {}
    queue: list[str] = []
    count = 0
    for path in _walk(paths) if files is None else files:
        if config.ignored(path.as_posix()):
            continue
        count += 1
        if file_kind(path.name) is None:
            findings.append(
                skipped(
                    path.as_posix(),
                    "not a Dockerfile (Dockerfile, Containerfile, *.dockerfile) or manifest (.yaml, .yml, .json) by name",
                )
            )
            continue
        queue.append(path.as_posix())
    work = [(path, config, keep_text) for path in queue]
    if jobs > 1 and len(work) >= 8:
        from concurrent.futures import ProcessPoolExecutor  # only when it is used: 30 ms of start-up

        with ProcessPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(_read_job, work, chunksize=max(1, len(work) // (jobs * 4))))
    else:
        results = [_read_job(item) for item in work]
    for name, (text, found) in zip(queue, results):
        if text is not None:
            texts[name] = text
        findings.extend(found)
    return findings, texts, count


def _with_knowledge(config: RepoConfig, paths: Sequence[str], enabled: bool) -> tuple[RepoConfig, list[Path]]:
    """The config with what the repository knows of the images it builds (its skaffold, compose
    and workflow files, and the Dockerfiles they name), so manifests are judged by their images;
    and the files to check, walked once for both."""
    files = list(_walk(paths))
    if not enabled:
        return config, files
    from bot.knowledge import for_files

    knowledge = for_files([path for path in files if not config.ignored(path.as_posix())], paths)
    if not knowledge.known:
        return config, files
    return replace(config, options=replace(config.options, knowledge=knowledge)), files


def _charts(
    paths: Sequence[str], config: RepoConfig, files: list[Path]
) -> tuple[list[Path], list[Finding], dict[str, str], int]:
    """The files left to check one by one, and the findings of the charts the paths hold
    (a chart's files are judged through what Helm renders, not each on its own)."""
    from bot.charts import check_charts, find_charts, in_charts

    charts = find_charts(paths)
    if not charts:
        return files, [], {}, 0
    from bot.helm import renderer

    with renderer() as helm:
        findings, texts, count = check_charts(charts, config, helm)
    return [f for f in files if not in_charts(f, charts)], findings, texts, count


def _check(args: argparse.Namespace) -> int:
    config = _load_config(args.config)
    if args.max_bytes is not None:
        config = replace(config, options=replace(config.options, max_bytes=args.max_bytes))
    config, files = _with_knowledge(config, args.paths, not args.no_repository)
    files, chart_findings, chart_texts, chart_files = _charts(args.paths, config, files)
    jobs = args.jobs or min(_available_cpus(), 8)
    findings, texts, count = _collect(args.paths, config, jobs, keep_text=args.format == "sarif", files=files)
    if not (args.no_repository or args.no_build):
        from bot.kustomize import overlay_findings  # only when kustomizations are checked

        built = overlay_findings(args.paths, files, config.options, findings)
        findings = findings + [f for f in built.findings if not config.ignored(f.path)]
    findings = chart_findings + findings
    texts.update(chart_texts)
    count += chart_files
    if args.format == "json":
        sys.stdout.write(formats.as_json(findings))
    elif args.format == "sarif":
        sys.stdout.write(formats.sarif(findings, texts))
    else:
        sys.stdout.write(formats.text(findings, count))
    return EXIT_FINDINGS if any(f.severity is Severity.ERROR for f in findings) else EXIT_OK


def fixed_text(original: str, edits: list[LineEdit]) -> str:
    """`original` with `edits` applied; a BOM stays the file's first character, once.

    The analysers see the text without its BOM, so the edits' lines count from there.
    """
    bom = _BOM if original.startswith(_BOM) else ""
    return bom + apply(original[len(bom) :], edits)


def fixed_in_two_passes(path: str, original: str, found: list[Finding], options: Options) -> str:
    """`original` with its findings' fixes applied, then with the fixes that waited for those (Deferred)."""
    edits = [edit for f in found if f.fix is not None for edit in f.fix.edits]
    fixed = fixed_text(original, edits) if edits else original
    bom = _BOM if fixed.startswith(_BOM) else ""
    later = deferred_edits(path, fixed[len(bom) :], options, found)
    return fixed_text(fixed, later) if later else fixed


def _write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a reader sees the old file or the new one, never half.

    The temporary file sits in the same directory (os.replace cannot cross file systems)
    and gets the old file's permission bits before it takes the old file's place.
    """
    import tempfile  # only `unroot fix` writes; 10 ms of start-up that `check` does not pay

    mode = stat.S_IMODE(path.stat().st_mode)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".unroot", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(text.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _fix(args: argparse.Namespace) -> int:
    config, files = _with_knowledge(_load_config(args.config), args.paths, not args.no_repository)
    files, chart_findings, chart_texts, _chart_files = _charts(args.paths, config, files)
    findings, texts, _count = _collect(args.paths, config, files=files)
    findings = chart_findings + findings
    texts.update(chart_texts)
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    changed = 0
    refused = 0
    for path, found in by_path.items():
        edits = [edit for f in found if f.fix is not None for edit in f.fix.edits]
        if not edits or path not in texts:
            continue
        original = texts[path]
        try:
            fixed = fixed_in_two_passes(path, original, found, config.options)
        except EditConflict as error:
            print(f"{path}: fixes not applied: {error}", file=sys.stderr)
            continue
        if fixed == original:
            continue
        if args.diff:
            import difflib  # only for --diff

            changed += 1
            sys.stdout.writelines(
                difflib.unified_diff(
                    original.splitlines(keepends=True), fixed.splitlines(keepends=True), f"a/{path}", f"b/{path}"
                )
            )
        elif Path(path).is_symlink():
            # Writing through a link named on the command line would change a file elsewhere
            # (maybe outside the repository); replacing the link would silently break it.
            refused += 1
            print(
                f"unroot: {path}: not fixed: it is a symbolic link; run fix on the file it points to", file=sys.stderr
            )
        else:
            try:
                _write_atomically(Path(path), fixed)
            except OSError as error:  # a read-only directory, a full disk: the file is left as it was
                refused += 1
                print(f"unroot: {path}: not fixed: {error.strerror or error}", file=sys.stderr)
                continue
            changed += 1
            print(f"fixed {path}", file=sys.stderr)
    remaining = [f for f in findings if f.severity is Severity.ERROR and f.fix is None]
    if not args.diff:
        print(f"{changed} files fixed; {len(remaining)} errors need a hand-made fix", file=sys.stderr)
    return EXIT_USAGE if refused else EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    from bot.config import AppSettings, SettingsError

    try:
        settings = AppSettings.from_env(os.environ, insecure_no_secret=args.insecure_no_secret)
    except SettingsError as error:
        raise UsageError(f"cannot start the server: {error}") from None
    if args.insecure_no_secret and not settings.webhook_secret:
        print(
            "unroot: WARNING: --insecure-no-secret: webhook signatures are NOT verified. Local experiments only.",
            file=sys.stderr,
        )
    if args.run_jobs:
        if not settings.redis_url:
            raise UsageError("--run-jobs is for REDIS_URL setups (without Redis the server always runs its jobs)")
        settings = replace(settings, run_jobs=True)
    from bot import server
    from bot.app import make_app
    from bot.observability import configure_logging_from_env
    from bot.status import RUNTIME

    app = make_app(settings)

    configure_logging_from_env(app[RUNTIME].redactor, os.environ)
    host = args.host or settings.host
    port = args.port or settings.port
    from bot.queue import QueueUnavailable

    try:
        server.run(app, host, port)
    except QueueUnavailable as error:
        raise UsageError(f"server stopped: {error}") from None
    return EXIT_OK


def _worker(args: argparse.Namespace) -> int:
    from bot.config import AppSettings, SettingsError

    try:
        settings = AppSettings.from_env(os.environ, insecure_no_secret=True)  # a worker takes no webhooks
    except SettingsError as error:
        raise UsageError(f"cannot start the worker: {error}") from None
    if not settings.redis_url:
        raise UsageError(
            "cannot start the worker: REDIS_URL is not set (without Redis, `unroot serve` runs the jobs itself)"
        )
    from bot import worker
    from bot.queue import QueueUnavailable

    try:
        worker.run(settings, args.status_port, args.host or settings.host)
    except QueueUnavailable as error:
        raise UsageError(f"worker stopped: {error}") from None
    return EXIT_OK


_NO_REPOSITORY = (
    "judge manifests without reading which Dockerfiles of the repository build their images "
    "(skaffold, compose, GitHub workflows, directory names) or which files kustomizations use as "
    "patches; builds no kustomize overlay"
)
_NO_BUILD = "do not build kustomize overlays, even when kustomize or kubectl is installed"


def build_parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    parser = argparse.ArgumentParser(prog="unroot", description="Keep containers from running as root.")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="report root usage in Dockerfiles and Kubernetes manifests")
    check.add_argument("paths", nargs="+", metavar="PATH", help="files or directories (walked)")
    check.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    check.add_argument("--config", help=f"configuration file (default: {CONFIG_PATH} if present)")
    check.add_argument("--max-bytes", type=int, help="skip files larger than this (default 1000000)")
    check.add_argument(
        "--jobs", type=int, default=0, metavar="N", help="processes to analyse files in (default: the CPUs available)"
    )
    check.add_argument("--no-repository", action="store_true", help=_NO_REPOSITORY)
    check.add_argument("--no-build", action="store_true", help=_NO_BUILD)
    check.set_defaults(run=_check)
    fix = commands.add_parser("fix", help="apply every available fix in place")
    fix.add_argument("paths", nargs="+", metavar="PATH")
    fix.add_argument("--diff", action="store_true", help="print a unified diff instead of writing files")
    fix.add_argument("--config", help=f"configuration file (default: {CONFIG_PATH} if present)")
    fix.add_argument("--no-repository", action="store_true", help=_NO_REPOSITORY)
    fix.set_defaults(run=_fix)
    serve = commands.add_parser("serve", help="run the GitHub App webhook server (settings from the environment)")
    serve.add_argument("--host", help="address to listen on (default: $HOST or 0.0.0.0)")
    serve.add_argument("--port", type=int, help="port (default: $PORT or 8080)")
    serve.add_argument(
        "--insecure-no-secret",
        action="store_true",
        help="start without GITHUB_WEBHOOK_SECRET (no signature check): local experiments only",
    )
    serve.add_argument(
        "--run-jobs",
        action="store_true",
        help="with REDIS_URL: also run queued jobs in this process (like UNROOT_RUN_JOBS=1); otherwise only acknowledge and enqueue",
    )
    serve.set_defaults(run=_serve)
    worker = commands.add_parser("worker", help="run queued jobs from Redis (REDIS_URL); settings from the environment")
    worker.add_argument("--status-port", type=int, help="serve /healthz and /metrics on this port (default: none)")
    worker.add_argument("--host", help="address for --status-port (default: $HOST or 0.0.0.0)")
    worker.set_defaults(run=_worker)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `unroot` console script."""
    args = build_parser().parse_args(argv)
    try:
        result: int = args.run(args)
    except UsageError as error:
        print(f"unroot: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    return result


if __name__ == "__main__":
    sys.exit(main())
