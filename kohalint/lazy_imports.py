"""Modules that are imported only when something really uses them.

detect-secrets imports `requests` at module level (its plugin base class,
ten plugins and a filter) only to verify secrets over the network, which
kohalint never does; `requests` with urllib3 and charset_normalizer costs
more to import than the rest of detect-secrets. `defer("requests")` puts a
placeholder in `sys.modules`, so detect-secrets' `import requests` binds it
without running anything; the real module runs, into that same object, the
first time an attribute is read from it (`requests.get`, `from requests
import x`, `import requests.adapters`), after which it is the ordinary module.

Why not `importlib.util.LazyLoader`: its placeholder loads on *any*
attribute read, and on Python 3.11 both `import requests` (the import
system reads `__spec__` of a module already in `sys.modules`) and
detect-secrets' plugin discovery (`inspect.isclass` on every module
attribute reads `__class__`) read one. The placeholder here keeps the
import metadata (`__spec__`, `__name__`, `__file__`, ...) as plain
attributes and loads only for a name it does not have; `__path__` is held
back so that importing a submodule loads the package first, as a normal
import would.

Two detect-secrets plugins annotate a module-level function with
`-> requests.Response`, which Python 3.11 evaluates when the module runs
and which would load `requests` at once. `postpone_annotations` imports
such modules with postponed evaluation of annotations (PEP 563, what
`from __future__ import annotations` does; annotations become strings that
`typing.get_type_hints` still resolves); nothing in detect-secrets reads
them.
"""

from __future__ import annotations

import __future__
import importlib.abc
import importlib.machinery
import importlib.util
import re
import sys
import threading
import types
from typing import Any, Optional, Sequence

_LOCK = threading.RLock()
_HELD_PATHS: dict[str, Any] = {}            # module name -> its __path__ until it is loaded
_LOADING: dict[str, int] = {}               # module name -> the thread running its code


class _Deferred(types.ModuleType):
    """A module whose code has not run yet."""

    def __getattr__(self, name: str) -> Any:
        # Only called for a name the module does not have (yet).
        _load(self)
        return getattr(self, name)


def _load(module: types.ModuleType) -> None:
    name = module.__spec__.name
    with _LOCK:
        if type(module) is not _Deferred:
            return
        if _LOADING.get(name) == threading.get_ident():
            # The module's own code reads a name it is still defining (or a
            # submodule it is importing): that is not a use, and the import
            # system falls back on importing the submodule.
            raise AttributeError(name)
        _LOADING[name] = threading.get_ident()
        spec = module.__spec__
        if name in _HELD_PATHS:
            module.__path__ = _HELD_PATHS[name]
        spec._initializing = True  # type: ignore[attr-defined]
        try:
            spec.loader.exec_module(module)  # type: ignore[union-attr]
            module.__class__ = types.ModuleType
            _HELD_PATHS.pop(name, None)
        finally:
            spec._initializing = False  # type: ignore[attr-defined]
            _LOADING.pop(name, None)


def defer(name: str) -> Optional[types.ModuleType]:
    """`sys.modules[name]`, as a placeholder whose code runs on first use if
    the module was not imported yet; None if it cannot be found (or is not
    Python source), and then the next `import` imports it as usual."""
    with _LOCK:
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.find_spec(name)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return None  # not found, or not plain Python source whose running can wait
        module = importlib.util.module_from_spec(spec)
        module.__class__ = _Deferred
        if spec.submodule_search_locations is not None:
            _HELD_PATHS[name] = module.__dict__.pop("__path__", spec.submodule_search_locations)
        sys.modules[name] = module
        return module


def is_loaded(name: str) -> bool:
    """The module is in `sys.modules` and its code has run."""
    module = sys.modules.get(name)
    return module is not None and type(module) is not _Deferred


class _PostponedLoader(importlib.machinery.SourceFileLoader):
    def get_code(self, fullname: str) -> types.CodeType:
        # Compiled here every time (a few hundred microseconds for these
        # small modules) rather than cached: the cached bytecode next to the
        # source is the ordinary compilation and must stay so.
        source = self.get_data(self.path)
        return compile(source, self.path, "exec", dont_inherit=True,
                       flags=__future__.annotations.compiler_flag)


class _PostponingFinder(importlib.abc.MetaPathFinder):
    def __init__(self, prefix: str, needle: re.Pattern[bytes]) -> None:
        self.prefix = prefix
        self.needle = needle

    def find_spec(self, fullname: str, path: Optional[Sequence[str]],
                  target: Optional[types.ModuleType] = None) -> Optional[importlib.machinery.ModuleSpec]:
        if not fullname.startswith(self.prefix):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or type(spec.loader) is not importlib.machinery.SourceFileLoader or not spec.origin:
            return spec
        try:
            source = spec.loader.get_data(spec.origin)
        except OSError:
            return spec
        if self.needle.search(source):
            spec.loader = _PostponedLoader(fullname, spec.origin)
        return spec


def postpone_annotations(prefix: str, needle: str) -> None:
    """Modules named `prefix…` whose source matches `needle` (bytes regex)
    are imported with postponed evaluation of annotations. Once per prefix."""
    with _LOCK:
        if any(isinstance(f, _PostponingFinder) and f.prefix == prefix for f in sys.meta_path):
            return
        sys.meta_path.insert(0, _PostponingFinder(prefix, re.compile(needle.encode())))
