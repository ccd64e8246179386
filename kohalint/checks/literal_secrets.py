"""Literal secrets where configuration should only reference them:
compose `environment:` (KL105) and Dockerfile `ENV`/`ARG` (KL106).

A value is judged as written, before interpolation: `${DB_PASSWORD}` is a
reference even when the env template gives it an example value, but
`${DB_PASSWORD:-secret123}` writes a literal default into the file, which is
what runs whenever nobody sets the variable.
"""

from __future__ import annotations

import re
import shlex
import weakref
from typing import Iterator, Optional

from kohalint.context import Context
from kohalint.documents.compose import ComposeProject
from kohalint.documents.dockerfile import Dockerfile
from kohalint.documents.yamldoc import YMap, YScalar, walk
from kohalint.models import Finding, Severity
from kohalint.rules import check
from kohalint.secret_values import is_encrypted_value, is_placeholder, is_secret_name

_FLAGS = {"yes", "no", "true", "false", "on", "off", "0", "1", "y", "n"}
# ${NAME:-default} / ${NAME-default}: the default is written in the file.
_DEFAULT = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}")
_REF = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\$\$")

_ORIGINALS: "weakref.WeakKeyDictionary[Context, dict[str, dict[tuple[int, int], str]]]" = \
    weakref.WeakKeyDictionary()


def literal_part(raw: str) -> tuple[Optional[str], bool]:
    """(the literal secret a value writes, whether it is an interpolation default).

    None when the value is empty, a placeholder, a flag, encrypted or only
    references (`${X}`, `$X`, `${X:?err}`).
    """
    text = raw.strip()
    if not _REF.search(text):
        return (None if _not_secret(text) else text), False
    for default in _DEFAULT.findall(text):
        d = default.strip()
        if "$" not in d and not _not_secret(d):  # a nested `${OTHER}` is a reference
            return d, True
    return None, False


def _not_secret(text: str) -> bool:
    # short numbers are lengths, TTLs and ports (PASSWORD_MIN_LENGTH=12), not secrets
    return (not text or text.lower() in _FLAGS or (text.isdigit() and len(text) <= 6)
            or is_placeholder(text) or is_encrypted_value(text))


def _is_file_reference(key: str, value: str) -> bool:
    return key.upper().endswith("_FILE") and value.strip().startswith(("/", "./"))


def _originals(ctx: Context, path: str) -> dict[tuple[int, int], str]:
    """Scalar text before interpolation, by position (list-form items lose it)."""
    per_run = _ORIGINALS.setdefault(ctx, {})
    if path not in per_run:
        table: dict[tuple[int, int], str] = {}
        for node in walk(ctx.docs.yaml(path)):
            if isinstance(node, YScalar) and isinstance(node.value, str):
                table[(node.line, node.column)] = node.value
        per_run[path] = table
    return per_run[path]


def _written(ctx: Context, key: str, node: YScalar) -> str:
    if node.raw is not None:
        return node.raw
    original = _originals(ctx, node.path).get((node.line, node.column))
    if original is not None and original.lstrip().startswith(key) and "=" in original:
        return original.split("=", 1)[1]  # `- KEY=VALUE` list item
    return node.text()


@check("KL105", "literal-secret-in-compose", target="compose")
def literal_secret_in_compose(project: ComposeProject, ctx: Context) -> Iterator[Finding]:
    pattern = ctx.settings.secrets.name_pattern
    for svc in project.services.values():
        env = svc.get("environment")
        if not isinstance(env, YMap):
            continue
        for key, node in env.items():
            if not is_secret_name(key, pattern) or not isinstance(node, YScalar):
                continue
            if node.value is None or isinstance(node.value, (bool, int, float)):
                continue
            written = _written(ctx, key, node)
            if _is_file_reference(key, written):
                continue
            literal, is_default = literal_part(written)
            if literal is None:
                continue
            how = (f"has a literal default in `${{{key}:-…}}` ({len(literal)} chars)" if is_default
                   else f"is set to a literal value ({len(literal)} chars)")
            yield ctx.finding(node.path, node.line, f"service '{svc.name}': {key} {how} in the compose file: "
                              f"reference it as `${{{key}}}` from an untracked .env, or use a compose secret "
                              f"with {key}_FILE=/run/secrets/…", column=node.column,
                              identity=f"{svc.name}|{key}")


@check("KL106", "secret-in-dockerfile", target="dockerfile")
def secret_in_dockerfile(doc: Dockerfile, ctx: Context) -> Iterator[Finding]:
    pattern = ctx.settings.secrets.name_pattern
    args: set[str] = set()
    for ins in doc.instructions:
        if ins.keyword not in ("ENV", "ARG"):
            continue
        for name, value in _pairs(ins.keyword, ins.value):
            if ins.keyword == "ARG":
                args.add(name)
            if not is_secret_name(name, pattern) or value is None or _is_file_reference(name, value):
                continue
            literal, _ = literal_part(value)
            if literal is not None:
                yield ctx.finding(doc.path, ins.line, f"{ins.keyword} {name} has a literal value "
                                  f"({len(literal)} chars): it stays in the image history and metadata; "
                                  "pass it at run time, or use `RUN --mount=type=secret` while building",
                                  identity=f"{ins.keyword}|{name}")
            elif ins.keyword == "ENV" and _copies_arg(value, args):
                yield ctx.finding(doc.path, ins.line, f"ENV {name} copies a build argument into the image "
                                  "environment, where `docker inspect` shows it: use "
                                  "`RUN --mount=type=secret` for build-time secrets and set runtime ones "
                                  "when the container starts", severity=Severity.high,
                                  identity=f"ENV|{name}|arg")


def _copies_arg(value: str, args: set[str]) -> bool:
    m = re.fullmatch(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", value.strip())
    return bool(m and m.group(1) in args)


def _pairs(keyword: str, value: str) -> list[tuple[str, Optional[str]]]:
    """NAME/value pairs of `ENV A=1 B="x y"`, `ENV A value` (legacy) or `ARG A[=d]`."""
    text = value.strip()
    try:
        words = shlex.split(text, posix=True)
    except ValueError:
        words = text.split()
    if not words:
        return []
    if keyword == "ENV" and "=" not in words[0]:
        return [(words[0], text[len(words[0]):].strip().strip("\"'"))]
    out: list[tuple[str, Optional[str]]] = []
    for w in words:
        name, sep, val = w.partition("=")
        out.append((name, val if sep else None))
    return out
