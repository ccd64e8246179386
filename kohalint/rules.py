"""Rule registry: which check function implements which catalog record.

Checks register with the `@check` decorator in `kohalint/checks/*.py`; other
packages add rules through the `kohalint.rules` entry point group (the entry
point names a module to import; its checks pass their own `RuleRecord`).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional

from kohalint.rule_catalog import RuleHeader, RuleRecord, load_header, load_record
from kohalint.errors import ConfigError
from kohalint.models import Area

# What a check receives: "repository" checks get only the context; the others
# get one parsed document of that kind first.
TARGETS = ("repository", "compose", "dockerfile", "workflow", "shell", "text", "engine")



@dataclass(frozen=True)
class Check:
    id: str
    name: str
    target: str
    func: Optional[Callable]
    # File kinds (see repository.classify) a repository-level check reads: in
    # pre-commit mode it runs only when one of the passed files is of a kind here.
    reads: frozenset[str] = frozenset()
    record: Optional[RuleRecord] = field(default=None, compare=False)

    @property
    def meta(self) -> RuleRecord:
        return self.record if self.record is not None else load_record(self.id)

    @property
    def header(self) -> RuleHeader:
        """id, name, area, severity, confidence: cheap, for every finding."""
        return RuleHeader.of(self.record) if self.record is not None else load_header(self.id)

    @property
    def area(self) -> Area:
        return self.header.area


class Registry:
    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}
        self._by_name: dict[str, str] = {}
        self._loaded = False

    def add(self, chk: Check) -> None:
        if chk.target not in TARGETS:
            raise ValueError(f"{chk.id}: unknown target {chk.target!r}")
        old = self._checks.get(chk.id)
        if old is not None and old.func is not chk.func and old.name != chk.name:
            raise ValueError(f"rule {chk.id} registered twice")
        self._checks[chk.id] = chk
        self._by_name[chk.name] = chk.id

    def remove(self, rule_id: str) -> None:
        chk = self._checks.pop(rule_id, None)
        if chk:
            self._by_name.pop(chk.name, None)

    def load(self) -> "Registry":
        if not self._loaded:
            self._loaded = True
            import kohalint.checks  # the engine rules

            # Every module in kohalint/checks registers its checks on import;
            # a family adds a module, never an entry in a shared list. Check
            # modules import their heavy parsers lazily, so this stays cheap.
            for info in sorted(pkgutil.iter_modules(kohalint.checks.__path__), key=lambda i: i.name):
                importlib.import_module(f"kohalint.checks.{info.name}")
            _load_entry_points()
        return self

    def __iter__(self) -> Iterator[Check]:
        self.load()
        return iter(sorted(self._checks.values(), key=lambda c: c.id))

    def __len__(self) -> int:
        self.load()
        return len(self._checks)

    def get(self, key: str) -> Optional[Check]:
        self.load()
        rid = self._by_name.get(key) or key.upper()
        return self._checks.get(rid)

    def resolve(self, selectors: Iterable[str]) -> set[str]:
        """Rule ids named by codes, prefixes (`KL4`), names or `ALL`."""
        self.load()
        out: set[str] = set()
        for sel in selectors:
            s = sel.strip()
            if not s:
                continue
            if s.upper() == "ALL":
                out.update(self._checks)
                continue
            if s in self._by_name:
                out.add(self._by_name[s])
                continue
            matched = {rid for rid in self._checks if rid.startswith(s.upper())}
            if not matched:
                raise ConfigError(f"unknown rule selector {s!r} (use a code such as KL402, "
                                  f"a prefix such as KL4, a rule name, or ALL)")
            out.update(matched)
        return out


registry = Registry()


def check(rule_id: str, name: str, *, target: str, reads: Iterable[str] = (),
          record: Optional[RuleRecord] = None) -> Callable[[Callable], Callable]:
    """Register `func` as the check for `rule_id`."""

    def deco(func: Callable) -> Callable:
        registry.add(Check(rule_id, name, target, func, frozenset(reads), record))
        return func

    return deco


def _load_entry_points() -> None:
    try:
        from importlib.metadata import entry_points

        eps = entry_points(group="kohalint.rules")
    except Exception:  # a broken third-party install must not stop a scan
        return
    for ep in eps:
        try:
            ep.load()
        except Exception as exc:
            raise ConfigError(f"plugin {ep.name!r} failed to load: {type(exc).__name__}: {exc}") from None
