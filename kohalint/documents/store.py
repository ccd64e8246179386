"""Parsed documents, built lazily, once per file, shared by every check.

A parse failure is remembered here and reported once as KL001 by the engine;
checks simply get `None` for that file and move on.
"""

from __future__ import annotations

import posixpath
from typing import Any, Callable, Optional

from kohalint.config import Settings
from kohalint.errors import ParseError
from kohalint.repository import Repository

# kind -> parser(text, path, documents). Families add theirs at import time
# (e.g. "workflow" in kohalint/documents/workflow.py).
DOCUMENT_PARSERS: dict[str, Callable[[str, str, "Documents"], Any]] = {}


def register_parser(kind: str) -> Callable[[Callable], Callable]:
    def deco(func: Callable) -> Callable:
        DOCUMENT_PARSERS[kind] = func
        return func
    return deco


@register_parser("yaml")
def _parse_yaml(text: str, path: str, docs: "Documents") -> Any:
    from kohalint.documents.yamldoc import load_yaml
    return load_yaml(text, path)


@register_parser("dockerfile")
def _parse_dockerfile(text: str, path: str, docs: "Documents") -> Any:
    from kohalint.documents.dockerfile import parse_dockerfile
    return parse_dockerfile(text, path)


@register_parser("shell")
def _parse_shell(text: str, path: str, docs: "Documents") -> Any:
    from kohalint.documents.shell import parse_shell
    script = parse_shell(text)
    if script.error is not None:
        line, message = script.error
        raise ParseError(f"invalid shell script: {message}", line)
    return script


@register_parser("optionfile")
def _parse_option_file(text: str, path: str, docs: "Documents") -> Any:
    from kohalint.documents.mycnf import parse_option_file
    return parse_option_file(text, path)


class Documents:
    def __init__(self, repo: Repository, settings: Settings) -> None:
        self.repo = repo
        self.settings = settings
        self.errors: dict[str, ParseError] = {}
        self._cache: dict[tuple[str, str], Any] = {}
        # (kind, path) -> its parse error: what a parallel worker ships back
        self.key_errors: dict[tuple[str, str], ParseError] = {}
        # Parsed by a worker ahead of need (kohalint.workers): taken into
        # `_cache` (and its error into `errors`) only when a check asks,
        # so KL001 reports exactly what a sequential scan would.
        self._prefetched: dict[tuple[str, str], tuple[Any, Optional[ParseError], list]] = {}
        self._projects: Optional[list] = None
        self._env: Optional[dict[str, str]] = None

    def get(self, kind: str, path: str) -> Any:
        """The parsed document of `kind` for `path`, or None (missing, unreadable, invalid)."""
        key = (kind, path)
        if key in self._cache:
            return self._cache[key]
        if key in self._prefetched:
            result, error, notes = self._prefetched.pop(key)
            self.adopt(kind, path, result, error, notes)
            return result
        if kind == "yaml":
            # A workflow already parsed holds this very YAML tree: parse once.
            wf = self._cache.get(("workflow", path))
            if wf is not None and getattr(wf, "node", None) is not None:
                self._cache[key] = wf.node
                return wf.node
        result = None
        text = self.repo.read_text(path)
        if text is not None:
            try:
                result = DOCUMENT_PARSERS[kind](text, path, self)
            except ParseError as exc:
                self.key_errors[key] = exc
                self.errors.setdefault(path, exc)
        self._cache[key] = result
        return result

    def adopt(self, kind: str, path: str, result: Any, error: Optional[ParseError],
              notes: list = ()) -> None:
        """Take a document parsed elsewhere as if `get` had just parsed it."""
        key = (kind, path)
        if key in self._cache:
            return
        self._cache[key] = result
        if error is not None:
            self.key_errors[key] = error
            self.errors.setdefault(path, error)
        self.repo.notes.extend(notes)

    def prefetch(self, kind: str, path: str, result: Any, error: Optional[ParseError],
                 notes: list) -> None:
        """Keep a document parsed ahead of need, for `get` to adopt."""
        if (kind, path) not in self._cache:
            self._prefetched[(kind, path)] = (result, error, notes)

    def yaml(self, path: str) -> Any:
        return self.get("yaml", path)

    def dockerfile(self, path: str) -> Any:
        return self.get("dockerfile", path)

    def shell(self, path: str) -> Any:
        return self.get("shell", path)

    # -- compose -------------------------------------------------------------
    def env_template(self) -> dict[str, str]:
        """Variables from the repository's env templates (values are examples)."""
        if self._env is None:
            from kohalint.documents.interpolate import parse_env_template

            env: dict[str, str] = {}
            names = set(self.settings.env_templates)
            for path in self.repo.files:
                if posixpath.basename(path) in names or path in names:
                    text = self.repo.read_text(path)
                    if text:
                        for k, v in parse_env_template(text).items():
                            env.setdefault(k, v)
            self._env = env
        return self._env

    def compose_projects(self) -> list:
        if self._projects is None:
            self._projects = self._build_projects()
        return self._projects

    def _build_projects(self) -> list:
        from kohalint.documents.compose import ProjectBuilder, discover_projects

        files = self.repo.files_of_kind("compose")
        explicit = self.settings.compose_projects
        groups = discover_projects(files, explicit)

        def load(path: str) -> Any:
            if path not in self.repo:
                return None
            node = self.yaml(path)
            if path in self.errors:
                raise _Skip(path)
            return node

        env = self.env_template()
        builder = ProjectBuilder(load, lambda _p: env)
        projects = []
        for group in groups:
            try:
                projects.append(builder.build(group))
            except _Skip:
                continue  # a file of it does not parse: KL001 says so
            except ParseError as exc:
                self.errors.setdefault(exc.path or group[-1], exc)
        return projects


class _Skip(ParseError):
    def __init__(self, path: str) -> None:
        super().__init__("skipped", 1)
        self.path = path
