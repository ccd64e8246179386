"""Command line: `kohalint check|gate|rules|explain|...`.

`main(argv) -> int` so tests (and pre-commit) can drive it in-process. The
CLI only fills the Settings model; `.kohalint.yaml` keys behave the same way.
Exit codes: 0 clean, 1 findings, 2 usage/config/internal error.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from kohalint import __version__
from kohalint.errors import KohalintError

FORMATS = ("text", "json", "sarif", "github", "markdown")
SEVERITIES = ("low", "medium", "high", "critical")

# Sub-commands other modules contribute: name -> (configure parser, run)
EXTRA_COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None],
                                Callable[[argparse.Namespace], int]]] = {}
EXTRA_COMMAND_MODULES = ("kohalint.gate", "kohalint.baseline", "kohalint.fix", "kohalint.hooks_cli",
                         "kohalint.init_cmd")


# Sub-commands this module parses itself (the others' modules load only when used).
_CORE_COMMANDS = ("check", "rules", "explain")


def _csv(values: Optional[list[str]]) -> Optional[list[str]]:
    if values is None:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def add_scan_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="a directory to scan, or files (pre-commit mode); default: .")
    p.add_argument("--config", type=Path, help="configuration file (default: .kohalint.yaml at the root)")
    p.add_argument("--select", action="append", help="rule codes, prefixes or names (comma-separated)")
    p.add_argument("--extend-select", action="append", help="add to the selection")
    p.add_argument("--ignore", action="append", help="rule codes, prefixes or names to skip")
    p.add_argument("--severity-threshold", choices=SEVERITIES,
                   help="lowest severity that fails the run (default: low)")
    p.add_argument("--today", type=_date, help="today's date for date rules (YYYY-MM-DD)")
    p.add_argument("--all", action="store_true", dest="run_all",
                   help="with file PATHs: still run every repository-level rule")
    p.add_argument("--no-inline-suppressions", action="store_true",
                   help="ignore `# kohalint: ignore[...]` comments (audit mode)")
    p.add_argument("--baseline", type=Path, help="report only findings not in this baseline file")
    p.add_argument("-o", "--output", type=Path, help="write the report here instead of stdout")
    p.add_argument("--no-color", action="store_true", help="no ANSI colours (also: NO_COLOR)")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary line or notes")


def build_parser(extras: bool = True) -> argparse.ArgumentParser:
    """The command line. `extras=False` leaves out the sub-commands other
    modules contribute: `kohalint check` (every commit, through pre-commit)
    then does not import them."""
    parser = argparse.ArgumentParser(prog="kohalint", description="Go-live compliance scanner for "
                                     "dockerized Koha deployments.")
    parser.add_argument("--version", action="version", version=f"kohalint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chk = sub.add_parser("check", help="scan a repository (default command)")
    add_scan_options(chk)
    chk.add_argument("--format", choices=FORMATS, default="text")
    chk.add_argument("--statistics", action="store_true", help="count findings per rule")
    chk.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    chk.add_argument("--automation-id", help="SARIF automationDetails.id (several uploads per commit)")
    chk.add_argument("--fix", action="store_true", help="apply safe fixes, then report what is left")
    chk.add_argument("--diff", action="store_true", help="with --fix: print the diff, change nothing")
    rules = sub.add_parser("rules", help="list every rule")
    rules.add_argument("--format", choices=("text", "json"), default="text")
    exp = sub.add_parser("explain", help="show a rule's documentation")
    exp.add_argument("rule", help="code (KL402) or name")
    for name in EXTRA_COMMAND_MODULES if extras else ():
        try:
            __import__(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    for name, (configure, _run) in sorted(EXTRA_COMMANDS.items()) if extras else ():
        configure(sub.add_parser(name, help=(_run.__doc__ or "").strip().splitlines()[0]
                                 if _run.__doc__ else None))
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    known = {"check", "rules", "explain", "gate", "baseline", "fix", "install-hooks", "init",
             "-h", "--help", "--version"}
    if not args_list or args_list[0] not in known:
        args_list.insert(0, "check")  # `kohalint .` and `kohalint file.yml` mean check
    parser = build_parser(extras=args_list[0] not in _CORE_COMMANDS)
    args = parser.parse_args(args_list)
    try:
        if args.command == "check":
            return run_check(args)
        if args.command == "rules":
            return run_rules(args)
        if args.command == "explain":
            return run_explain(args)
        if args.command in EXTRA_COMMANDS:
            return EXTRA_COMMANDS[args.command][1](args)
    except KohalintError as exc:
        print(f"kohalint: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - last resort: fail closed, never a traceback
        return _internal_failure(exc)
    parser.print_help()
    return 2


def _internal_failure(exc: BaseException) -> int:
    """Exit 2 with one line naming the exception type and where in kohalint it
    was raised, never its message (it may quote a scanned file, even a secret);
    KOHALINT_DEBUG=1 prints the traceback."""
    import traceback

    if isinstance(exc, BrokenPipeError):  # `kohalint ... | head`: the reader left
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 2
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "kohalint" in f.filename]
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    print(f"kohalint: internal error: {type(exc).__name__}{where}; please report it "
          "(KOHALINT_DEBUG=1 shows the traceback)", file=sys.stderr)
    if os.environ.get("KOHALINT_DEBUG"):
        traceback.print_exception(exc)
    return 2


def scan_from_args(args: argparse.Namespace):
    """Settings from the config file and the flags, then the scan."""
    from kohalint.config import load_settings
    from kohalint.engine import run_scan
    from kohalint.errors import ConfigError

    paths = args.paths or ["."]
    dirs = [p for p in paths if Path(p).is_dir()]
    missing = [p for p in paths if not Path(p).exists() and not Path(p).is_symlink()]
    if missing:
        raise ConfigError(f"no such file or directory: {missing[0]}")
    if dirs and len(paths) > 1:
        raise ConfigError("give one directory, or only files")
    root = Path(dirs[0]) if dirs else Path(".")
    only = None if dirs else paths
    overrides: dict[str, Any] = {}
    for key in ("select", "extend_select", "ignore"):
        value = _csv(getattr(args, key, None))
        if value is not None:
            overrides[key] = value
    if getattr(args, "severity_threshold", None):
        overrides["severity_threshold"] = args.severity_threshold
    if getattr(args, "no_inline_suppressions", False):
        overrides["no_inline_suppressions"] = True
    settings = load_settings(root, args.config, overrides)
    report = run_scan(root, settings, only_files=only, run_all=args.run_all, today=args.today)
    if getattr(args, "baseline", None):
        from kohalint.baseline import apply_baseline
        apply_baseline(report, args.baseline)
    return report, settings


def run_check(args: argparse.Namespace) -> int:
    from kohalint.engine import exit_code
    from kohalint.reporters import render
    from kohalint.reporters.text import printable

    if getattr(args, "fix", False):
        from kohalint.fix import fix_from_args
        rc = fix_from_args(args)
        if args.diff:
            return rc
    report, settings = scan_from_args(args)
    color = (args.output is None and sys.stdout.isatty() and not args.no_color
             and not os.environ.get("NO_COLOR"))
    text = render(report, args.format, color=color, statistics=args.statistics, quiet=args.quiet,
                  automation_id=args.automation_id)
    _write(text, args.output)
    if args.format == "text" and not args.quiet:
        for note in report.notes:
            print(f"{printable(note.path)}: note: {printable(note.message)}", file=sys.stderr)
    if args.exit_zero and not report.internal_error:
        return 0
    return exit_code(report, settings.severity_threshold)


def _write(text: str, output: Optional[Path]) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")


def run_rules(args: argparse.Namespace) -> int:
    import json

    from kohalint.rules import registry

    rows = [(c.id, c.name, c.meta.severity.value, c.meta.area.value, c.meta.summary) for c in registry]
    if args.format == "json":
        print(json.dumps([dict(zip(("id", "name", "severity", "area", "summary"), r)) for r in rows],
                         indent=2))
        return 0
    for rid, name, sev, area, summary in rows:
        print(f"{rid}  {name:34s} {sev:8s} {area:13s} {summary}")
    return 0


def run_explain(args: argparse.Namespace) -> int:
    from kohalint.docs_gen import rule_markdown
    from kohalint.errors import ConfigError
    from kohalint.rules import registry

    chk = registry.get(args.rule)
    if chk is None:
        raise ConfigError(f"unknown rule {args.rule!r}; `kohalint rules` lists them")
    sys.stdout.write(rule_markdown(chk.meta))
    return 0
