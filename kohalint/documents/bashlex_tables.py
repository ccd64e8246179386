"""Import bashlex without rebuilding its parse tables every time.

`bashlex.parser` calls its vendored PLY `yacc.yacc()` at import, and that PLY
rebuilds the LALR tables on every call (about 125 ms; the shipped
`parsetab.py` is never read). The tables depend only on the grammar, the
table builder and the interpreter, so they are kept in a JSON file in the
user cache directory and reused while all three are unchanged.

The seam is `yacc.LRTable`, not `yacc.yacc`: yacc() finds the grammar in its
caller's frame (`get_caller_module_dict(2)`), so a wrapper around it would
have to redo its reflection and validation. yacc() still collects the grammar
(ParserReflect), validates it, binds the rule functions and builds the
LRParser; only the table construction it hands the finished Grammar to, which
is almost all of the cost, is answered from the cache.

The file is trusted as far as a file the user owns can be: JSON (loading it
runs no code), a SHA-256 over the body against corruption, a signature over
everything the tables depend on, and a shape and range check. Anything odd
means building the tables as bashlex would; nothing here raises or prints.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import stat
import sys
import tempfile
from types import ModuleType
from typing import Any

_FORMAT = "kohalint-bashlex-tables/1"
_MAX_BYTES = 4 << 20  # the real file is ~120 KB; refuse to read a huge one

# How the last import got its tables: "cache", "build", or "" when bashlex
# was imported without this module. Diagnostics and tests read it.
outcome = ""


def cache_dir() -> str | None:
    """Where the tables go: $KOHALINT_CACHE_DIR, else the XDG cache directory."""
    explicit = os.environ.get("KOHALINT_CACHE_DIR")
    if explicit:
        return explicit
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):  # the XDG spec says to ignore a relative one
        return os.path.join(xdg, "kohalint")
    home = os.path.expanduser("~")
    return os.path.join(home, ".cache", "kohalint") if os.path.isabs(home) else None


def cache_file(directory: str) -> str:
    # One file per interpreter, so two Pythons sharing a cache do not evict
    # each other on every run; the signature inside covers the rest.
    tag = sys.implementation.cache_tag or "python"
    return os.path.join(directory, f"bashlex-tables-{tag}.json")


def import_bashlex() -> ModuleType:
    """`import bashlex`, with the LALR tables read from the cache when possible.

    Raises only what a plain `import bashlex` raises.
    """
    global outcome
    if "bashlex" in sys.modules:  # already imported (or being imported): hands off
        import bashlex  # noqa: PLC0415

        return bashlex
    directory = cache_dir()
    hook = _Hook(directory) if directory else None
    if hook is not None:
        sys.meta_path.insert(0, hook)
    try:
        import bashlex  # noqa: PLC0415
    except Exception:
        if hook is None or not hook.patched:
            raise
        # The cached path broke the import (a bashlex release whose LRParser
        # wants more from its table, say): forget the half-imported package
        # and import it the ordinary way.
        hook.close()
        for name in ("bashlex.parser", "bashlex"):
            sys.modules.pop(name, None)
        outcome = "build"
        import bashlex  # noqa: PLC0415
    finally:
        if hook is not None:
            hook.close()
    return bashlex


class _Hook:
    """A meta path finder that only watches for `bashlex.parser` being looked
    up: bashlex/__init__ is running then, and yacc() has not been called yet.
    It patches `bashlex.yacc.LRTable` and otherwise finds nothing."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.yacc: ModuleType | None = None
        self.real: Any = None
        self.patched = False

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "bashlex.parser" and self.yacc is None and "bashlex.parser" not in sys.modules:
            try:
                self._patch()
            except Exception:  # noqa: BLE001 - the import goes on unpatched
                pass
        return None

    def _patch(self) -> None:
        yacc = importlib.import_module("bashlex.yacc")
        self.yacc = yacc
        real = getattr(yacc, "LRTable", None)
        if not isinstance(real, type) or not hasattr(yacc, "NullLogger"):
            return  # not the PLY we know
        self.real = real
        yacc.LRTable = _CachedTables(real, yacc, cache_file(self.directory))
        self.patched = True

    def close(self) -> None:
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        if self.yacc is not None and isinstance(getattr(self.yacc, "LRTable", None), _CachedTables):
            self.yacc.LRTable = self.real


class _CachedTables:
    """Stands in for `yacc.LRTable(grammar, log)` during bashlex's import."""

    def __init__(self, real: type, yacc: ModuleType, path: str) -> None:
        self.real = real
        self.yacc = yacc
        self.path = path

    def __call__(self, grammar: Any, log: Any = None) -> Any:
        global outcome
        outcome = "build"
        # A debug build logs the construction and reports conflicts from the
        # table object: only the quiet build bashlex does is cached.
        if log is not None and type(log) is not self.yacc.NullLogger:
            return self.real(grammar, log)
        try:
            sig = signature(grammar, self.yacc)
            tables = load(self.path, sig, grammar) if sig else None
            if tables is not None:
                table = self._from_tables(grammar, log, *tables)
                outcome = "cache"
                return table
        except Exception:  # noqa: BLE001 - any surprise means building
            sig = None
        table = self.real(grammar, log)
        if sig:
            store(self.path, sig, table.lr_action, table.lr_goto)
        return table

    def _from_tables(self, grammar: Any, log: Any, action: dict, goto: dict) -> Any:
        # What yacc() and LRParser read from a built table. yacc() reads the
        # conflict lists only with debug=True, which bashlex never passes.
        table = self.real.__new__(self.real)
        table.grammar = grammar
        table.log = log if log is not None else self.yacc.NullLogger()
        table.lr_action = action
        table.lr_goto = goto
        table.lr_productions = grammar.Productions
        table.sr_conflict = table.rr_conflict = 0
        table.conflicts, table.sr_conflicts, table.rr_conflicts = [], [], []
        return table


def signature(grammar: Any, yacc: ModuleType) -> str | None:
    """A digest of everything the tables depend on; None if it cannot be known.

    The grammar is read from the Grammar yacc built (so a grammar patched at
    run time is covered too); the bashlex release is represented by the
    sources of its table builder and grammar module, which cost far less to
    hash than `importlib.metadata` costs to import.
    """
    parts = [
        _FORMAT,
        sys.version,
        sys.implementation.cache_tag,
        grammar.Start,
        sorted(grammar.Terminals),
        sorted(grammar.Precedence.items()),
        [[p.name, p.prod, p.prec, p.func] for p in grammar.Productions],
    ]
    digest = hashlib.sha256(json.dumps(parts).encode())
    parser = sys.modules.get("bashlex.parser")
    for module in (yacc, parser):
        source = getattr(module, "__file__", None)
        if not source:
            return None
        with open(source, "rb") as fh:
            digest.update(fh.read())
    return digest.hexdigest()


def store(path: str, sig: str, action: dict, goto: dict) -> None:
    """Write the tables atomically; a cache that cannot be written is skipped."""
    try:
        body = json.dumps(
            {"action": [action[s] for s in range(len(action))],
             "goto": [goto[s] for s in range(len(goto))]},
            separators=(",", ":"),
        ).encode()
        head = f"{_FORMAT} {sig} {hashlib.sha256(body).hexdigest()}\n".encode()
        directory = os.path.dirname(path)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".bashlex-tables-", suffix=".tmp", dir=directory)
    except Exception:  # noqa: BLE001 - no cache this time
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(head + body)
        os.replace(tmp, path)  # readers see the old file or the new, never half
    except Exception:  # noqa: BLE001
        try:
            os.unlink(tmp)
        except OSError:
            pass


def load(path: str, sig: str, grammar: Any) -> tuple[dict, dict] | None:
    """The (action, goto) tables stored under `sig`, or None."""
    data = _read(path)
    if data is None:
        return None
    head, sep, body = data.partition(b"\n")
    expected = f"{_FORMAT} {sig} {hashlib.sha256(body).hexdigest()}".encode()
    if not sep or head != expected:
        return None  # other grammar or interpreter, or damaged
    try:
        tables = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return _checked(tables, grammar)


def _read(path: str) -> bytes | None:
    # O_NONBLOCK: a FIFO planted at the path must not hang the import.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > _MAX_BYTES:
            return None
        # Only a file no one else could have written: ours, not group- or
        # world-writable (POSIX; elsewhere the directory's ACLs decide).
        if hasattr(os, "getuid") and (
            st.st_uid != os.getuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        ):
            return None
        with os.fdopen(fd, "rb") as fh:
            fd = -1
            return fh.read(_MAX_BYTES + 1)
    except OSError:
        return None
    finally:
        if fd >= 0:
            os.close(fd)


def _checked(tables: Any, grammar: Any) -> tuple[dict, dict] | None:
    """Rebuild the tables' dicts if every entry is one a built table could hold."""
    if type(tables) is not dict or tables.keys() != {"action", "goto"}:
        return None
    action, goto = tables["action"], tables["goto"]
    if type(action) is not list or type(goto) is not list or not action or len(action) != len(goto):
        return None
    states = len(action)
    productions = len(grammar.Productions)
    terminals = set(grammar.Terminals) | {"$end"}
    nonterminals = set(grammar.Nonterminals)
    for row in action:
        if type(row) is not dict or not row.keys() <= terminals:
            return None
        for value in row.values():
            # > 0 shift to a state, 0 accept, < 0 reduce by a production,
            # None an error entry (nonassoc precedence).
            if value is not None and (type(value) is not int or not -productions < value < states):
                return None
    for row in goto:
        if type(row) is not dict or not row.keys() <= nonterminals:
            return None
        for value in row.values():
            if type(value) is not int or not 0 <= value < states:
                return None
    return dict(enumerate(action)), dict(enumerate(goto))
