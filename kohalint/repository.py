"""The repository view: which files exist, what kind each is, their text.

This is the only module that touches the scanned file system (besides `git`
calls it makes). It lists git-tracked plus untracked-but-not-ignored files
(what `git add .` would commit) when the target is inside a git work tree, and
every regular file otherwise; it never follows a symlink out of the root and
reads each file at most once.
"""

from __future__ import annotations

import bisect
import os
import stat
import subprocess
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Iterable, Optional

from kohalint.globs import GlobSet
from kohalint.models import Note

DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024
_SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", ".tox"}

COMPOSE_BASE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


def classify(path: str) -> frozenset[str]:
    """The document kinds a path holds, judged from its name alone."""
    p = PurePosixPath(path)
    name = p.name
    lower = name.lower()
    parts = p.parts
    kinds: set[str] = set()
    if lower.endswith((".yml", ".yaml")):
        kinds.add("yaml")
        if _is_compose_name(lower):
            kinds.add("compose")
        if len(parts) >= 3 and parts[-3] == ".github" and parts[-2] == "workflows":
            kinds.add("workflow")
    if _is_dockerfile_name(lower):
        kinds.add("dockerfile")
    if lower.endswith((".sh", ".bash")):
        kinds.add("shell")
    if lower.endswith((".cnf", ".ini")) and ("mysql" in path.lower() or "maria" in path.lower()
                                              or lower.endswith(".cnf")):
        kinds.add("optionfile")
    if name == "CODEOWNERS":
        kinds.add("codeowners")
    if lower.endswith(".dockerignore"):
        kinds.add("dockerignore")
    if lower == ".gitignore":
        kinds.add("gitignore")
    if lower == ".env" or lower.startswith(".env.") or lower.endswith(".env"):
        kinds.add("dotenv")
    if lower.endswith(".json"):
        kinds.add("json")
    if lower.endswith((".conf", ".caddyfile")) or lower == "caddyfile":
        kinds.add("proxyconf")
    if lower.endswith(".timer") or "cron" in path.lower():
        kinds.add("schedule")
    return frozenset(kinds)


# `Dockerfile.koha` is a Dockerfile; `dockerfile.py` or `Dockerfile.j2` is not
# (source code and templates would only produce KL001 noise).
_NOT_DOCKERFILE_SUFFIXES = {"py", "md", "txt", "rst", "json", "yml", "yaml", "sh", "j2", "jinja",
                            "jinja2", "tmpl", "tpl", "template", "dockerignore", "orig", "bak", "go",
                            "js", "ts", "rs", "html", "lock", "toml", "cfg", "ini"}


def _is_dockerfile_name(lower: str) -> bool:
    if lower in ("dockerfile", "containerfile"):
        return True
    for stem in ("dockerfile.", "containerfile."):
        if lower.startswith(stem):
            return lower.rsplit(".", 1)[-1] not in _NOT_DOCKERFILE_SUFFIXES
    return lower.endswith((".dockerfile", ".containerfile"))


def _is_compose_name(lower: str) -> bool:
    if lower in COMPOSE_BASE_NAMES:
        return True
    for stem in ("compose.", "docker-compose."):
        if lower.startswith(stem) and lower.endswith((".yml", ".yaml")):
            return True
    return False


class Repository:
    """Files under `root`, relative posix paths, sorted."""

    def __init__(self, root: str | os.PathLike, *, exclude: Iterable[str] = (),
                 max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> None:
        self.root = Path(root).resolve()
        self._root_str = str(self.root)
        self.max_file_bytes = max_file_bytes
        self.notes: list[Note] = []
        self._texts: dict[str, Optional[str]] = {}
        self._exclude = GlobSet(exclude)
        self.git_root: Optional[Path] = _git_toplevel(self.root)
        if self.git_root is not None and not _inside(self._root_str, str(self.git_root.resolve())):
            # `core.worktree` set elsewhere: git would list another tree than this one
            self.git_root = None
        listed, tracked = self._list_files()
        self.files: list[str] = sorted(p for p in listed if not self._exclude.match(p))
        self.tracked: frozenset[str] = frozenset(tracked)
        self._fileset = frozenset(self.files)
        self._kinds: dict[str, frozenset[str]] = {}
        self._by_kind: Optional[dict[str, list[str]]] = None
        self._names_in: Optional[dict[str, set[str]]] = None
        self._named: Optional[dict[str, list[str]]] = None
        # directory (relative) -> its real path, or None when it lies outside the root
        self._real_dirs: dict[str, Optional[str]] = {"": self._root_str}

    # -- listing -------------------------------------------------------------
    @property
    def is_git(self) -> bool:
        return self.git_root is not None

    def _list_files(self) -> tuple[list[str], set[str]]:
        if self.git_root is not None:
            # One `git ls-files` for both lists: `-t` tags untracked files `?`.
            listed = _git_ls(self.root, "-t", "--cached", "--others", "--exclude-standard")
            if listed is not None:
                tracked = [p[2:] for p in listed if p[:1] != "?"]
                others = [p[2:] for p in listed if p[:1] == "?"]
                # a deleted-but-still-indexed file is listed by --cached
                present = [p for p in dict.fromkeys(tracked + others) if self._is_regular(p)]
                return present, set(tracked)
            self.git_root = None
        return self._walk(), set()

    def _walk(self) -> list[str]:
        out: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
            rel_dir = Path(dirpath).relative_to(self.root)
            for name in filenames:
                rel = (rel_dir / name).as_posix()
                if self._is_regular(rel):
                    out.append(rel)
        return out

    def _is_regular(self, rel: str) -> bool:
        """A regular file inside the root; symlinks count only when they stay inside."""
        try:
            st = os.lstat(os.path.join(self._root_str, rel))  # no Path objects: called per file
        except OSError:
            return False
        if stat.S_ISLNK(st.st_mode):
            return True  # listed (it is tracked); `read_text` decides whether to read it
        return stat.S_ISREG(st.st_mode)

    def __contains__(self, path: str) -> bool:
        return path in self._fileset

    def exists(self, path: str) -> bool:
        return path in self._fileset

    def kinds(self, path: str) -> frozenset[str]:
        kinds = self._kinds.get(path)
        if kinds is None:
            kinds = self._kinds[path] = classify(path)
        return kinds

    def files_of_kind(self, kind: str) -> list[str]:
        # Asked by many rules, each time for every file: classify once.
        if self._by_kind is None:
            by_kind: dict[str, list[str]] = {}
            for p in self.files:
                for k in self.kinds(p):
                    by_kind.setdefault(k, []).append(p)
            self._by_kind = by_kind
        return list(self._by_kind.get(kind, ()))

    # Rules ask these per service or per file: on a large repository a scan of
    # every path each time would make the whole run quadratic. `files` is
    # sorted, so a directory's files are one slice of it.
    def in_dir(self, directory: str) -> list[str]:
        prefix = "" if directory in ("", ".") else directory.rstrip("/") + "/"
        if not prefix:
            return list(self.files)
        # every path that starts with "a/b/" sorts between "a/b/" and "a/b0"
        lo = bisect.bisect_left(self.files, prefix)
        hi = bisect.bisect_left(self.files, prefix[:-1] + "0", lo)
        return self.files[lo:hi]

    def has_prefix(self, prefix: str) -> bool:
        """Whether some listed path starts with `prefix`."""
        i = bisect.bisect_left(self.files, prefix)
        return i < len(self.files) and self.files[i].startswith(prefix)

    def names_in(self, directory: str) -> set[str]:
        """The names of the files directly in `directory` ("" for the root)."""
        if self._names_in is None:
            index: dict[str, set[str]] = {}
            for p in self.files:
                folder, _, name = p.rpartition("/")
                index.setdefault(folder, set()).add(name)
            self._names_in = index
        return set(self._names_in.get(directory, ()))

    def named(self, name: str) -> list[str]:
        """The paths whose file name is `name`, sorted."""
        if self._named is None:
            index: dict[str, list[str]] = {}
            for p in self.files:
                index.setdefault(p.rpartition("/")[2], []).append(p)
            self._named = index
        return list(self._named.get(name, ()))

    # -- content -------------------------------------------------------------
    def read_text(self, path: str) -> Optional[str]:
        """The decoded text of a listed file, or None (binary, too large, outside)."""
        if path in self._texts:
            return self._texts[path]
        text = self._read(path)
        self._texts[path] = text
        return text

    def _read(self, path: str) -> Optional[str]:
        if path not in self._fileset:
            return None
        try:
            # Every component, not only the last: a listed `d/x.yml` may sit
            # under a directory symlink (a hostile index can list it).
            target = self._real_path(path)
            if target is None:
                self._note(path, "symlink points outside the scanned root: not read")
                return None
            # O_NONBLOCK: a FIFO swapped in after listing opens at once instead
            # of waiting for a writer; fstat then judges what was opened.
            fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "rb") as fh:
                st = os.fstat(fh.fileno())
                if not stat.S_ISREG(st.st_mode):
                    self._note(path, "not a regular file: not read")
                    return None
                if st.st_size > self.max_file_bytes:
                    self._note(path, f"larger than {self.max_file_bytes} bytes: not read")
                    return None
                data = fh.read(self.max_file_bytes + 1)
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop on older Pythons
            self._note(path, f"cannot be read ({getattr(exc, 'strerror', None) or type(exc).__name__})")
            return None
        return self._decode(path, data)

    def _real_path(self, path: str) -> Optional[str]:
        """The file's real path, or None when it resolves outside the root.

        Its directory is resolved once for all its files (a realpath costs
        an lstat per component: most of reading a small file); the name
        itself only when it is a symlink."""
        folder, _, name = path.rpartition("/")
        if folder in self._real_dirs:
            real_dir = self._real_dirs[folder]
        else:
            real_dir = os.path.realpath(os.path.join(self._root_str, folder))
            real_dir = self._real_dirs[folder] = real_dir if _inside(real_dir, self._root_str) else None
        if real_dir is None:
            return None
        full = os.path.join(real_dir, name)
        if os.path.islink(full):
            full = os.path.realpath(full)
            return full if _inside(full, self._root_str) else None
        return full

    def _decode(self, path: str, data: bytes) -> Optional[str]:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            try:
                return data.decode("utf-16").replace("\r\n", "\n")
            except UnicodeDecodeError:
                pass
        if b"\x00" in data[:8192]:
            self._note(path, "binary content: not read")
            return None
        text = data.decode("utf-8", errors="replace")
        if text.startswith("\ufeff"):
            text = text[1:]
        return text.replace("\r\n", "\n")

    def _note(self, path: str, message: str) -> None:
        self.notes.append(Note(path=path, message=message))

    # -- git questions -------------------------------------------------------
    def is_tracked(self, path: str) -> bool:
        return path in self.tracked

    def check_ignore(self, paths: Iterable[str]) -> set[str]:
        """Which of `paths` git would ignore (one batched `git check-ignore`)."""
        paths = list(paths)
        if not paths or self.git_root is None:
            return set()
        try:
            proc = subprocess.run(
                # only the repository's own rules decide, not this machine's global excludes
                ["git", *_SAFE_GIT, "-c", "core.excludesFile=/dev/null", "-C", str(self.root),
                 "check-ignore", "--no-index", "-z", "--stdin"],
                input=b"\0".join(p.encode() for p in paths) + b"\0",
                capture_output=True, timeout=30, env=_git_env(),
            )
        except (OSError, subprocess.SubprocessError):
            return set()
        return {p.decode("utf-8", "replace") for p in proc.stdout.split(b"\0") if p}

    @cached_property
    def has_gitignore_rules(self) -> bool:
        return any(p.endswith(".gitignore") for p in self.files)


def _inside(real: str, root: str) -> bool:
    """Whether the resolved path `real` is `root` or lies under it."""
    return real == root or real.startswith(root if root.endswith("/") else root + "/")


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    # The scanned repository must not be able to run anything through git
    # configuration (fsmonitor, pagers): kohalint only reads.
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat",
                "GIT_OPTIONAL_LOCKS": "0"})
    return env


_SAFE_GIT = ["-c", "core.fsmonitor=false", "-c", "core.quotepath=off"]


def _git_toplevel(root: Path) -> Optional[Path]:
    if not root.is_dir():
        return None
    try:
        proc = subprocess.run(["git", *_SAFE_GIT, "-C", str(root), "rev-parse", "--show-toplevel"],
                              capture_output=True, timeout=30, env=_git_env())
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return Path(proc.stdout.decode().strip())


def _git_ls(root: Path, *flags: str) -> Optional[list[str]]:
    try:
        proc = subprocess.run(["git", *_SAFE_GIT, "-C", str(root), "ls-files", "-z", *flags, "--", "."],
                              capture_output=True, timeout=60, env=_git_env())
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return [p.decode("utf-8", "surrogateescape") for p in proc.stdout.split(b"\0") if p]
