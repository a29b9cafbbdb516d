"""The `unroot` command: check and fix files locally, review a branch as the App would, run the App."""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from bot import formats
from bot.config import CONFIG_PATH, FAIL_ON, ConfigError, RepoConfig, parse_config
from bot.discovery import Located, group_paths
from bot.limits import DEFAULT_INLINE_COMMENTS
from bot.markdown import plural
from bot.style import COLOR_CHOICES
from rules.analyze import analyze, decode, deferred_edits, file_kind, skipped
from rules.fixes import EditConflict, apply
from rules.model import FileKind, Finding, LineEdit, Options, Severity
from rules.ur001_file_skipped import too_large

if TYPE_CHECKING:
    from bot.review_local import Review

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


def _load_config(located: Located) -> RepoConfig:
    """The config a path's discovery found (defaults when none), rooted at its repository for `ignore:`."""
    root = str(located.root)
    if located.config is None:
        return RepoConfig(root=root)
    shown = _shown(located.config)
    try:
        config = parse_config(located.config.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read config {shown}: {error.strerror}") from None
    except (ConfigError, UnicodeDecodeError) as error:
        raise UsageError(f"{shown}: {error}") from None
    return replace(config, root=root)


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the cwd when below it."""
    relative = os.path.relpath(path.absolute())
    return path.as_posix() if relative.startswith("..") else Path(relative).as_posix()


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
    config = _with_openshift(config, files)
    from bot.knowledge import for_files

    knowledge = for_files([path for path in files if not config.ignored(path.as_posix())], paths)
    if not knowledge.known:
        return config, files
    return replace(config, options=replace(config.options, knowledge=knowledge)), files


def _with_openshift(config: RepoConfig, files: list[Path]) -> RepoConfig:
    """OpenShift mode for every file when any checked manifest of one git repository is a
    DeploymentConfig or Route (the repository deploys to OpenShift), as `fix: {openshift: true}` asks."""
    if config.options.openshift:
        return config
    from bot.knowledge import repository_root
    from rules.kubernetes.family import declares_openshift

    root = repository_root([str(path) for path in files])
    if root is None or not (root / ".git").exists():
        return config  # not one repository (a folder of unrelated files): each file decides for itself

    for path in files:
        if file_kind(path.name) is not FileKind.KUBERNETES or config.ignored(path.as_posix()):
            continue
        try:
            if path.stat().st_size <= config.options.max_bytes and declares_openshift(
                path.read_text(encoding="utf-8", errors="replace")
            ):
                return replace(config, options=replace(config.options, openshift=True))
        except OSError:
            continue
    return config


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


STDIN = "-"
_DOCKERFILE_START = ("FROM", "ARG")


@dataclass(frozen=True)
class StdinFile:
    """Standard input as a file: the name its analyser is chosen by, and the path its findings show."""

    analysed_as: str
    display: str

    def shown(self, finding: Finding) -> Finding:
        """`finding` (of the text analysed as `analysed_as`) at the path the user sees."""
        subject = self.display if finding.subject == self.analysed_as else finding.subject
        return replace(finding, path=self.display, subject=subject)


def _split_stdin(paths: Sequence[str], stdin_filename: str | None) -> tuple[list[str], StdinFile | None]:
    """The paths on disk, and standard input when `-` is among them."""
    files = [path for path in paths if path != STDIN]
    if len(files) == len(paths):
        if stdin_filename is not None:
            raise UsageError("--stdin-filename names standard input: give `-` as a PATH too")
        return files, None
    if stdin_filename is None:
        return files, StdinFile("", STDIN)  # the analyser is guessed from the text once it is read
    if file_kind(stdin_filename) is None:
        raise UsageError(
            f"--stdin-filename {stdin_filename}: not a Dockerfile (Dockerfile, Containerfile, *.dockerfile) "
            "or manifest (.yaml, .yml, .json) by name"
        )
    return files, StdinFile(stdin_filename, stdin_filename)


def _guess_name(text: str) -> str:
    """A name that picks the analyser for unnamed input: a Dockerfile when its first instruction is
    FROM or ARG (after comments and parser directives), else a manifest (`helm template` output)."""
    for line in text.lstrip("\ufeff").splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return "Dockerfile" if stripped.split(None, 1)[0].upper() in _DOCKERFILE_START else "stdin.yaml"
    return "stdin.yaml"


def _read_stdin(stdin: StdinFile, config: RepoConfig) -> tuple[StdinFile, str | None, list[Finding]]:
    """Standard input with its analyser chosen, its text and its findings (at `analysed_as`);
    at most max_bytes are read."""
    limit = config.options.max_bytes
    data = sys.stdin.buffer.read(limit + 1)
    name = stdin.analysed_as or "stdin.yaml"
    if len(data) > limit:
        return (
            replace(stdin, analysed_as=name),
            None,
            [skipped(name, f"over the {limit:,}-byte limit")],
        )
    decoded = decode(name, data, config.options)
    if isinstance(decoded, Finding):
        return replace(stdin, analysed_as=name), None, [decoded]
    stdin = replace(stdin, analysed_as=stdin.analysed_as or _guess_name(decoded))
    return stdin, decoded, analyze(stdin.analysed_as, decoded, config.options)


_Checked = tuple[list[Finding], dict[str, str], int]


def _check(args: argparse.Namespace) -> int:
    if args.format != "text" and (args.quiet or args.statistics):
        raise UsageError(f"--quiet and --statistics shape the text report, not --format {args.format}")
    output = _output_path(args.output)
    paths, stdin = _split_stdin(args.paths, args.stdin_filename)
    findings: list[Finding] = []
    texts: dict[str, str] = {}
    count = 0
    roots: list[Path] = []
    recorded: list[tuple[Finding, str, Path]] = []  # for --write-baseline: finding, fingerprint, repository
    baselined: dict[str, int] = {}  # baseline file as shown -> findings it left out
    accepted: dict[Path, Counter[str]] = {}  # baseline file -> the fingerprints it holds
    failing = False
    for located, group in group_paths(paths, args.config):
        config = _config_for(located, args)
        baseline = _baseline_file(args.baseline, config)
        keep_text = args.format == "sarif" or baseline is not None or args.write_baseline is not None
        found, group_texts, group_count = _check_group(args, config, group, keep_text)
        if baseline is not None or args.write_baseline is not None:
            from bot import baseline as baselines

            prints = baselines.fingerprints(found, group_texts, located.repository)
            recorded += [(f, fp, located.repository) for f, fp in zip(found, prints)]
            if baseline is not None:
                if baseline not in accepted:  # read once, however many configs name it
                    accepted[baseline] = _read_baseline(baseline)
                fresh = baselines.new_findings(found, prints, accepted[baseline])
                shown = args.baseline or _shown(baseline)
                baselined[shown] = baselined.get(shown, 0) + len(found) - len(fresh)
                found = fresh
        # Each path's own config decides what fails (a flag given decides for all).
        failing = failing or _fails(found, args.fail_on or config.fail_on)
        findings += found
        texts.update(group_texts)
        count += group_count
        roots.append(located.repository)
    if stdin is not None:
        found, stdin_texts, root, fail_on = _check_stdin(args, stdin)
        failing = failing or _fails(found, fail_on)
        findings += found
        texts.update(stdin_texts)
        count += 1
        roots = roots or [root]
    if args.write_baseline is not None:
        _write_baseline(Path(args.write_baseline), recorded)
    for shown, left_out in baselined.items():
        if left_out:
            verb = "is" if left_out == 1 else "are"
            print(f"unroot: {plural(left_out, 'finding')} in the baseline {shown} {verb} not shown", file=sys.stderr)
    _report(args, output, findings, texts, count, roots)
    if args.write_baseline is not None:
        return EXIT_OK  # what was recorded is accepted: the next check with --baseline judges what is new
    return EXIT_FINDINGS if failing else EXIT_OK


def _config_for(located: Located, args: argparse.Namespace) -> RepoConfig:
    """The config that governs a group of paths, with the command line's --select and --ignore on top."""
    return _with_rule_selection(_load_config(located), args.select, args.ignore)


def _stdin_config(args: argparse.Namespace) -> tuple[Located, RepoConfig]:
    """Standard input has no place on disk: the current directory's config governs it."""
    [(located, _)] = group_paths([os.curdir], args.config)
    return located, _config_for(located, args)


def _check_stdin(args: argparse.Namespace, stdin: StdinFile) -> tuple[list[Finding], dict[str, str], Path, str]:
    """Standard input's findings (at the path shown), its text, its repository, and its fail-on;
    the cwd's config governs it."""
    located, config = _stdin_config(args)
    if args.max_bytes is not None:
        config = replace(config, options=replace(config.options, max_bytes=args.max_bytes))
    stdin, text, found = _read_stdin(stdin, config)
    texts = {stdin.display: text} if text is not None else {}
    return [stdin.shown(f) for f in found], texts, located.repository, args.fail_on or config.fail_on


def _report(
    args: argparse.Namespace,
    output: Path | None,
    findings: list[Finding],
    texts: dict[str, str],
    count: int,
    roots: list[Path],
) -> None:
    """The report in the format asked for, on stdout or in the --output file."""
    # By file, as ruff and hadolint print (charts, checked first, among the rest); each file's own order kept.
    findings = sorted(findings, key=lambda finding: finding.path)
    if args.format == "json":
        report = formats.as_json(findings)
    elif args.format == "sarif":
        report = formats.sarif(findings, texts, _common_root(roots))
    else:
        from bot.style import wants_color

        color = output is None and wants_color(args.color, sys.stdout, os.environ)
        report = formats.text(findings, count, color=color, quiet=args.quiet, statistics=args.statistics)
    if output is None:
        sys.stdout.write(report)
        return
    try:
        _write_atomically(output, report)
    except OSError as error:
        raise UsageError(f"--output {output}: cannot write: {error.strerror or error}") from None


@dataclass(frozen=True)
class _Analysed:
    """What `check` and `fix` both learn of the paths one config governs."""

    config: RepoConfig  # with what the repository knows of its images and patches
    files: list[Path]  # the files checked one by one (a chart's are judged through the chart)
    chart_findings: list[Finding]
    findings: list[Finding]  # of the files one by one
    texts: dict[str, str]  # of the files and the charts' files, as kept
    count: int  # files checked, charts' included


def _analyse(
    config: RepoConfig, paths: list[str], repository: bool, jobs: int = 1, keep_text: bool = True
) -> _Analysed:
    """The charts among `paths` judged through Helm, the other files one by one (in `jobs` processes)."""
    config, files = _with_knowledge(config, paths, repository)
    files, chart_findings, chart_texts, chart_files = _charts(paths, config, files)
    findings, texts, count = _collect(paths, config, jobs, keep_text=keep_text, files=files)
    texts.update(chart_texts)
    return _Analysed(config, files, chart_findings, findings, texts, count + chart_files)


def _check_group(args: argparse.Namespace, config: RepoConfig, paths: list[str], keep_text: bool) -> _Checked:
    """The findings of the paths one config governs, the texts kept, and how many files were checked."""
    if args.max_bytes is not None:
        config = replace(config, options=replace(config.options, max_bytes=args.max_bytes))
    jobs = args.jobs or min(_available_cpus(), 8)
    found = _analyse(config, paths, not args.no_repository, jobs, keep_text)
    findings = found.findings
    if not (args.no_repository or args.no_build):
        from bot.kustomize import overlay_findings  # only when kustomizations are checked

        built = overlay_findings(paths, found.files, found.config.options, findings)
        findings = findings + [f for f in built.findings if not found.config.ignored(f.path)]
    return found.chart_findings + findings, found.texts, found.count


def _fails(findings: Sequence[Finding], fail_on: str) -> bool:
    """Whether a finding is at or above `fail_on` (error, warning, notice); `never`: none is."""
    if fail_on == "never":
        return False
    threshold = Severity(fail_on).rank
    return any(f.severity.rank >= threshold for f in findings)


def _output_path(option: str | None) -> Path | None:
    """The `--output` file, refused before any work when it cannot be written."""
    if option is None or option == STDIN:
        return None  # `-o -`: standard output, as `-` is standard input for a PATH
    path = Path(option)
    if path.is_dir():
        raise UsageError(f"--output {option}: is a directory")
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(f"--output {option}: no such directory: {parent}")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"--output {option}: permission denied")
    return path


def _with_rule_selection(config: RepoConfig, select: list[str] | None, ignore: list[str] | None) -> RepoConfig:
    """The config with the rules `--select` leaves out and `--ignore` names switched off too
    (both take IDs or prefixes, comma-separated); UR001 (a skipped file) stays whatever is selected."""
    if not select and not ignore:
        return config
    from rules.registry import RULES, SKIPPED  # every rule's module: only a selection needs the catalogue

    known = [rule.id for rule in RULES]

    def matching(option: str, values: list[str]) -> set[str]:
        chosen: set[str] = set()
        for token in (t.strip().upper() for value in values for t in value.split(",")):
            if not token:
                continue
            found = {rule_id for rule_id in known if rule_id.startswith(token)}
            if not found:
                raise UsageError(f"{option}: no rule is {token} or starts with it (see `unroot rules`)")
            chosen |= found
        return chosen

    disabled = set(config.options.disabled)
    if select:
        chosen = matching("--select", select)
        if not chosen:
            # `--select "$RULES"` with RULES unset would otherwise check nothing and pass.
            raise UsageError("--select names no rule: give IDs or prefixes (see `unroot rules`)")
        disabled |= set(known) - chosen - {SKIPPED.id}
    if ignore:
        chosen = matching("--ignore", ignore)
        if chosen and chosen <= {SKIPPED.id}:
            raise UsageError(f"--ignore: {SKIPPED.id} (a file that could not be checked) always reports")
        disabled |= chosen - {SKIPPED.id}
    return replace(config, options=replace(config.options, disabled=frozenset(disabled)))


def _baseline_file(option: str | None, config: RepoConfig) -> Path | None:
    """`--baseline FILE` (relative to the cwd), else the config's `baseline:` (relative to its repository)."""
    if option is not None:
        return Path(option)
    if config.baseline is not None and config.root is not None:
        return Path(config.root) / config.baseline
    return None


def _read_baseline(source: Path) -> Counter[str]:
    from bot.baseline import BaselineError, read

    try:
        return read(source)
    except BaselineError as error:
        raise UsageError(str(error)) from None


def _write_baseline(target: Path, rows: list[tuple[Finding, str, Path]]) -> None:
    from bot.baseline import write

    try:
        write(target, rows)
    except OSError as error:
        raise UsageError(f"cannot write the baseline {target}: {error.strerror}") from None
    print(f"unroot: wrote {len(rows)} findings to the baseline {target}", file=sys.stderr)


def _common_root(roots: list[Path]) -> Path:
    """The directory SARIF's %SRCROOT% names: the git repositories' common folder."""
    return Path(os.path.commonpath([str(root) for root in roots])) if roots else Path.cwd()


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
    and gets the old file's permission bits before it takes the old file's place (a new file,
    as `check --output` makes, gets what the umask leaves of 0o666, as `>` would give it).
    """
    import tempfile  # only `unroot fix` and `check --output` write; 10 ms of start-up that `check` does not pay

    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
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
    paths, stdin = _split_stdin(args.paths, args.stdin_filename)
    findings: list[Finding] = []
    texts: dict[str, str] = {}
    options: dict[str, Options] = {}  # each file's, for the fixes that wait for others
    for located, group in group_paths(paths, args.config):
        analysed = _analyse(_config_for(located, args), group, not args.no_repository)
        findings += analysed.chart_findings + analysed.findings
        texts.update(analysed.texts)
        options.update(dict.fromkeys(analysed.texts, analysed.config.options))
    changed = 0
    if stdin is not None:
        _located, config = _stdin_config(args)
        stdin, text, found = _read_stdin(stdin, config)
        findings += [stdin.shown(f) for f in found]
        changed += _fix_stdin(stdin, text, found, config.options, args.diff)
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    refused = 0
    for path, found in by_path.items():
        edits = [edit for f in found if f.fix is not None for edit in f.fix.edits]
        if not edits or path not in texts or (stdin is not None and path == stdin.display):
            continue
        original = texts[path]
        try:
            fixed = fixed_in_two_passes(path, original, found, options[path])
        except EditConflict as error:
            print(f"{path}: fixes not applied: {error}", file=sys.stderr)
            continue
        if fixed == original:
            continue
        if args.diff:
            changed += 1
            _print_diff(original, fixed, path)
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
        need = "needs" if len(remaining) == 1 else "need"
        print(
            f"{plural(changed, 'file')} fixed; {plural(len(remaining), 'error')} {need} a hand-made fix",
            file=sys.stderr,
        )
    return EXIT_USAGE if refused else EXIT_OK


def _print_diff(original: str, fixed: str, path: str) -> None:
    """`unroot fix --diff`: a unified diff with git's a/ and b/ labels (an absolute path keeps one slash)."""
    import difflib  # only for --diff

    label = path.lstrip("/")
    sys.stdout.writelines(
        difflib.unified_diff(
            original.splitlines(keepends=True), fixed.splitlines(keepends=True), f"a/{label}", f"b/{label}"
        )
    )


def _fix_stdin(stdin: StdinFile, text: str | None, found: list[Finding], options: Options, diff: bool) -> int:
    """`unroot fix -`: the fixed text on stdout (the text as it came when nothing is fixed, so a
    pipe never loses it), or with --diff its diff; 1 when it changed. Unreadable input is left out."""
    if text is None:
        return 0
    try:
        fixed = fixed_in_two_passes(stdin.analysed_as, text, found, options)
    except EditConflict as error:
        print(f"{stdin.display}: fixes not applied: {error}", file=sys.stderr)
        fixed = text
    if diff:
        _print_diff(text, fixed, stdin.display)
    else:
        sys.stdout.write(fixed)
    return int(fixed != text)


def _review(args: argparse.Namespace) -> int:
    from bot.review_formats import FORMATS
    from bot.review_local import ReviewError, choose_refs, open_repository, review

    if args.max_comments is not None and args.max_comments < 0:
        raise UsageError("--max-comments must be 0 or more")
    try:
        if args.sample:
            if args.base or args.head or args.repo != ".":
                raise UsageError("--sample makes its own repository: it takes no --base, --head or --repo")
            found = _review_sample(args.max_comments)
        else:
            git = open_repository(Path(args.repo))
            refs = choose_refs(git, args.base, args.head)
            if args.head is None and git.text("status", "--porcelain", "--untracked-files=no").strip():
                print("unroot: uncommitted changes are not reviewed (a pull request holds commits)", file=sys.stderr)
            found = review(git, refs, args.max_comments)
    except ReviewError as error:
        raise UsageError(str(error)) from None
    sys.stdout.write(FORMATS[args.format](found))
    return EXIT_FINDINGS if found.plan.conclusion == "failure" else EXIT_OK


def _review_sample(max_comments: int | None) -> Review:
    """The review of the sample pull request, in a throw-away repository."""
    import tempfile

    from bot.review_local import Git, choose_refs, review
    from bot.review_sample import SAMPLE_BRANCH, make_sample_repository

    with tempfile.TemporaryDirectory(prefix="unroot-sample-") as folder:
        root = Path(folder)
        make_sample_repository(root)
        git = Git(root)
        return review(git, choose_refs(git, "main", SAMPLE_BRANCH), max_comments)


_APP_CREDENTIALS = ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH")


def _server_environment(env_path: Path) -> dict[str, str]:
    """The environment, over the App credentials the setup page kept in `env_path` (the environment wins)."""
    from bot import env_file

    if not env_path.is_file():
        return dict(os.environ)
    try:
        return {**env_file.read(env_path), **os.environ}
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {env_path}: {error}") from None


def _serve_setup(args: argparse.Namespace, env: dict[str, str]) -> int:
    """No App yet (or --setup): serve the registration page, then run as the App it registers."""
    from aiohttp import web

    from bot import setup_serve
    from bot.app import make_app
    from bot.config import AppSettings
    from bot.manifest import is_public_url, packaged_manifest, web_url_for
    from bot.observability import Redactor, configure_logging_from_env
    from bot.setup_page import SetupFlow
    from bot.status import RUNTIME

    env_path = Path(args.env_file)
    if env_path.exists() or env_path.is_symlink():
        raise UsageError(f"--setup: {env_path} exists already; move it away to register another App")
    if args.public_url and not is_public_url(args.public_url):
        raise UsageError(f"--public-url must be an http(s) URL without query, not {args.public_url!r}")
    api_url = env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    flow = SetupFlow(
        base_manifest=packaged_manifest(),
        api_url=api_url,
        web_url=env.get("GITHUB_WEB_URL", "").rstrip("/") or web_url_for(api_url),
        env_path=env_path.absolute(),
        environment=env,
        public_url=args.public_url or "",
        organization=args.org or "",
    )
    host = args.host or env.get("HOST", "0.0.0.0")
    port = args.port or int(env.get("PORT", "") or 8080)
    configure_logging_from_env(Redactor(), env)  # nothing secret exists before the App does

    def as_the_app(settings: AppSettings) -> web.Application:
        app = make_app(settings)
        configure_logging_from_env(app[RUNTIME].redactor, env)  # from now on the key and secret are redacted
        return app

    print(f"unroot: no GitHub App configured: open http://{host}:{port}/ to register one", file=sys.stderr)
    setup_serve.run_setup(flow, as_the_app, host, port)
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    from bot.config import AppSettings, SettingsError

    env = _server_environment(Path(args.env_file))
    if args.setup or not any(env.get(name) for name in _APP_CREDENTIALS):
        return _serve_setup(args, env)
    try:
        settings = AppSettings.from_env(env, insecure_no_secret=args.insecure_no_secret)
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

    configure_logging_from_env(app[RUNTIME].redactor, env)
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
_CONFIG_HELP = (
    f"configuration file for every path (default: the nearest {CONFIG_PATH}, else unroot.yml, "
    "from each path up to its repository root)"
)
_NO_BUILD = "do not build kustomize overlays, even when kustomize or kubectl is installed"


def add_review(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`unroot review`: the App's review of a branch, computed locally."""
    review = commands.add_parser(
        "review",
        help="show the review and check run the App would post on a pull request of this branch",
        description="Compare --head with its merge base with --base, as GitHub compares a pull request, "
        "and print what the App would post. Exits 1 when the check run fails, as `unroot check` does.",
    )
    review.add_argument(
        "--base", help="the branch the pull request goes to (default: origin/HEAD, else main, else master)"
    )
    review.add_argument(
        "--head", help="the pull request's last commit (default: HEAD; uncommitted changes are left out)"
    )
    review.add_argument("--repo", default=".", metavar="DIR", help="the git repository (default: the current folder)")
    review.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    review.add_argument(
        "--max-comments",
        type=int,
        default=None,
        metavar="N",
        help="inline comments before the rest go to the review body (default: the config's review.max-inline, "
        f"else {DEFAULT_INLINE_COMMENTS}, as the App)",
    )
    review.add_argument(
        "--sample",
        action="store_true",
        help="review the sample pull request the package ships (a Dockerfile and a Deployment that run as root)",
    )
    review.set_defaults(run=_review)


class _Version(argparse.Action):
    """`--version`: the installed package's version, looked up only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        version = formats.installed_version()
        print(f"unroot {version}" if version else "unroot (version unknown: not installed)")
        parser.exit()


def _rules(args: argparse.Namespace) -> int:
    from bot import catalogue

    sys.stdout.write(catalogue.as_json() if args.format == "json" else catalogue.as_text())
    return EXIT_OK


def _add_selection_and_stdin(command: argparse.ArgumentParser) -> None:
    """`--select`, `--ignore` and `--stdin-filename`, for `check` and `fix`."""
    command.add_argument(
        "--select",
        action="append",
        metavar="IDS",
        help="only these rules (IDs or prefixes such as UR2, comma-separated, repeatable); "
        "the config's `rules:` still apply, and UR001 (a skipped file) always reports",
    )
    command.add_argument(
        "--ignore", action="append", metavar="IDS", help="switch these rules off too (IDs or prefixes, as --select)"
    )
    command.add_argument(
        "--stdin-filename",
        metavar="NAME",
        help="for `-` (standard input): the name that chooses the analyser and is printed "
        "(default: `-`, a Dockerfile if it starts with FROM or ARG, else manifests)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    parser = argparse.ArgumentParser(prog="unroot", description="Keep containers from running as root.")
    parser.add_argument("-V", "--version", action=_Version)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="report root usage in Dockerfiles and Kubernetes manifests")
    check.add_argument("paths", nargs="+", metavar="PATH", help="files or directories (walked); `-` reads stdin")
    check.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    check.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        help="exit 1 when a finding at or above this severity is found; never: exit 0 "
        "(default: the config's fail-on, else error)",
    )
    check.add_argument(
        "--output", "-o", metavar="FILE", help="write the report to FILE (never coloured), not stdout (`-`: stdout)"
    )
    check.add_argument(
        "--color",
        choices=COLOR_CHOICES,
        default="auto",
        help="colour the text report (default auto: on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it)",
    )
    check.add_argument("--quiet", "-q", action="store_true", help="print the finding lines only")
    check.add_argument(
        "--statistics", action="store_true", help="print how many findings each rule has instead of the findings"
    )
    _add_selection_and_stdin(check)
    check.add_argument("--config", help=_CONFIG_HELP)
    check.add_argument(
        "--baseline", metavar="FILE", help="report only findings not in this baseline (default: the config's baseline:)"
    )
    check.add_argument(
        "--write-baseline", metavar="FILE", help="record today's findings in FILE (accepted: exit 0) for --baseline"
    )
    check.add_argument("--max-bytes", type=int, help="skip files larger than this (default 1000000)")
    check.add_argument(
        "--jobs", type=int, default=0, metavar="N", help="processes to analyse files in (default: the CPUs available)"
    )
    check.add_argument("--no-repository", action="store_true", help=_NO_REPOSITORY)
    check.add_argument("--no-build", action="store_true", help=_NO_BUILD)
    check.set_defaults(run=_check)
    fix = commands.add_parser("fix", help="apply every available fix in place")
    fix.add_argument("paths", nargs="+", metavar="PATH", help="`-` reads stdin and prints it fixed")
    fix.add_argument("--diff", action="store_true", help="print a unified diff instead of writing files")
    fix.add_argument("--config", help=_CONFIG_HELP)
    fix.add_argument("--no-repository", action="store_true", help=_NO_REPOSITORY)
    _add_selection_and_stdin(fix)
    fix.set_defaults(run=_fix)
    rules = commands.add_parser("rules", help="list every rule: ID, severity, fixable, title, docs link")
    rules.add_argument("--format", choices=("text", "json"), default="text")
    rules.set_defaults(run=_rules)
    add_review(commands)
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
    serve.add_argument(
        "--setup",
        action="store_true",
        help="serve the page that registers a new GitHub App (the default while no App credentials are set)",
    )
    serve.add_argument(
        "--public-url",
        help="the URL GitHub reaches this server at, for the new App's webhook and redirect (default: the page's host)",
    )
    serve.add_argument("--org", help="register the App for this organization (default: your personal account)")
    serve.add_argument(
        "--env-file",
        default=".env",
        help="where setup writes the App's credentials (mode 0600) and serve reads them (default: .env)",
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
