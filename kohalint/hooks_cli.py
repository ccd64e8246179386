"""`kohalint install-hooks`: put the plain git hooks (`hooks/`) in place.

For people without the pre-commit framework. The hooks go where git looks for
them: `core.hooksPath` when set (relative to the work tree, as git reads it),
else the repository's hooks directory (`git rev-parse --git-path hooks`, which
also handles worktrees). A hook kohalint did not write is never replaced
without `--force`, and then it is kept next to ours as `<name>.before-kohalint`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Optional

from kohalint.errors import ConfigError

HOOKS = ("pre-commit", "pre-push")
MARKER = "kohalint-hook:"


def hook_source_dir() -> Optional[Path]:
    """Where this installation keeps the hook scripts."""
    here = Path(__file__).resolve().parent
    candidates = [here.parent / "hooks"]  # a source checkout
    # A wheel installs them as data files (setup.cfg [options.data_files]).
    for scheme in (None, "posix_user", "nt_user", "osx_framework_user"):
        try:
            data = sysconfig.get_path("data", scheme) if scheme else sysconfig.get_path("data")
        except KeyError:
            continue
        candidates.append(Path(data) / "share" / "kohalint" / "hooks")
    candidates.append(Path(sys.prefix) / "share" / "kohalint" / "hooks")
    for c in candidates:
        if all((c / h).is_file() for h in HOOKS):
            return c
    return None


def _git(cwd: Path, *args: str) -> str:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0")
    try:
        proc = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True,
                              timeout=30, env=env)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ConfigError(f"cannot run git ({type(exc).__name__})") from None
    if proc.returncode != 0:
        raise ConfigError(f"{cwd}: not inside a git work tree" if "rev-parse" in args
                          else f"git {' '.join(args)} failed")
    return proc.stdout.strip()


def hooks_dir(path: Path) -> Path:
    top = Path(_git(path, "rev-parse", "--show-toplevel"))
    configured = subprocess.run(["git", "-C", str(top), "config", "--get", "core.hooksPath"],
                                capture_output=True, text=True).stdout.strip()
    if configured:
        return (top / os.path.expanduser(configured)).resolve()
    return (top / _git(top, "rev-parse", "--git-path", "hooks")).resolve()


def install(path: Path, names: tuple[str, ...] = HOOKS, *, force: bool = False,
            out=None) -> int:
    """Install the named hooks; 0 when all are in place, 1 when one was refused."""
    out = out or sys.stderr
    src = hook_source_dir()
    if src is None:
        raise ConfigError("the kohalint git hooks are not installed with this copy of kohalint")
    dest_dir = hooks_dir(path)
    dest_dir.mkdir(parents=True, exist_ok=True)
    rc = 0
    for name in names:
        text = (src / name).read_text(encoding="utf-8")
        dest = dest_dir / name
        if dest.exists() or dest.is_symlink():
            try:
                current = dest.read_text(encoding="utf-8", errors="replace")
            except OSError:
                current = ""
            if current == text:
                print(f"kohalint: {dest} is up to date", file=out)
                continue
            if MARKER not in current:
                if not force:
                    print(f"kohalint: {dest} exists and was not written by kohalint; not replacing it "
                          f"(chain it by hand, or use --force to keep it as {name}.before-kohalint)",
                          file=out)
                    rc = 1
                    continue
                backup = dest_dir / f"{name}.before-kohalint"
                dest.replace(backup)
                print(f"kohalint: kept the previous hook as {backup}", file=out)
            else:
                dest.unlink()
        dest.write_text(text, encoding="utf-8")
        dest.chmod(0o755)
        print(f"kohalint: installed {dest}", file=out)
    return rc


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", nargs="?", default=".", type=Path, help="a path inside the repository (default: .)")
    p.add_argument("--hook", action="append", choices=HOOKS,
                   help="install only this hook (repeatable; default: pre-commit and pre-push)")
    p.add_argument("--force", action="store_true", help="replace a hook kohalint did not write (kept as a backup)")


def run(args: argparse.Namespace) -> int:
    """Install the plain git hooks (pre-commit, pre-push) into this repository."""
    return install(args.path, tuple(args.hook or HOOKS), force=args.force)


def _register() -> None:
    from kohalint.cli import EXTRA_COMMANDS

    EXTRA_COMMANDS["install-hooks"] = (configure, run)


_register()
