"""Script-wide facts derived from parsed commands: shell flags, parsed
command-line options and wrapper functions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from kohalint.documents.shell_raw import RawCase
from kohalint.documents.shell_resolve import basename
from kohalint.documents.shell_words import split_words, unquote

if TYPE_CHECKING:
    from kohalint.documents.shell import Command

# bash `set -o` long names and their single-letter twins (bash manual, The Set
# Builtin). Both spellings are reported so rules may ask either way.
_LONG_TO_SHORT = {
    "allexport": "a", "notify": "b", "noclobber": "C", "errexit": "e",
    "errtrace": "E", "noglob": "f", "hashall": "h", "histexpand": "H",
    "keyword": "k", "monitor": "m", "noexec": "n", "privileged": "p",
    "physical": "P", "onecmd": "t", "functrace": "T", "nounset": "u",
    "verbose": "v", "xtrace": "x", "braceexpand": "B",
}  # fmt: skip
_SHORT_TO_LONG = {v: k for k, v in _LONG_TO_SHORT.items()}

_POSITIONAL = re.compile(r"^\$(?:[1-9]|\{[1-9](?:[:#%/^,][^}]*)?\})$")
_OPTION = re.compile(r"^--?[A-Za-z0-9][A-Za-z0-9_.-]*$")
_WRAPPER_ARGS = re.compile(r"^\$(?:[@*]|\{[@*]\}|\{@:(\d+)\})$")


def _add_flag(flags: set[str], flag: str) -> None:
    flags.add(flag)
    twin = _LONG_TO_SHORT.get(flag) or _SHORT_TO_LONG.get(flag)
    if twin:
        flags.add(twin)


def flags_from_set_args(args: Sequence[str]) -> set[str]:
    """Flags switched on by `set ARGS` (only `-`; `+` switches off)."""
    flags: set[str] = set()
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-", "--") or len(a) < 2 or a[0] not in "-+":
            break  # positional parameters follow
        if a.startswith("--"):
            i += 1
            continue
        names = args[i + 1 : i + 1 + a.count("o")]
        if a[0] == "-":
            for ch in a[1:]:
                if ch != "o":
                    _add_flag(flags, ch)
            for name in names:
                _add_flag(flags, name)
        i += 1 + a.count("o")
    return flags


def flags_from_shebang(text: str) -> set[str]:
    """`#!/bin/bash -eu` and `#!/usr/bin/env -S bash -e` style shebangs."""
    if not text.startswith("#!"):
        return set()
    words = split_words(text[2:].split("\n", 1)[0])
    if not words:
        return set()
    rest = words[1:]
    if basename(words[0]) == "env":
        while rest and rest[0].startswith("-"):
            rest = rest[1:]  # env's own options, -S included
        rest = rest[1:]  # the interpreter
    return flags_from_set_args([w for w in rest if not w.startswith("--")])


def set_flags(commands: Iterable[Command], shebang_text: str) -> set[str]:
    flags = flags_from_shebang(shebang_text)
    for cmd in commands:
        # `sh -c 'set -e'` or `$(set -e)` change another shell, not this one.
        same_shell = cmd.via in ("", "eval") or cmd.via.startswith("function:")
        if cmd.name == "set" and same_shell:
            flags |= flags_from_set_args(cmd.args)
    return flags


# -- options ------------------------------------------------------------------------
def option_from_pattern(pattern: str) -> str | None:
    """`--to=*` -> `--to`; `-n` -> `-n`; globs and `--` itself -> None."""
    name = pattern.strip().split("=", 1)[0]
    if name in ("-", "--") or not _OPTION.match(name):
        return None
    return name


def _getopts(optstring: str) -> set[str]:
    return {f"-{ch}" for ch in optstring if ch.isalnum()}


_GETOPT_VALUED = frozenset(
    {"-o", "--options", "-l", "--long", "--longoptions", "-n", "--name", "-s", "--shell"}
)


def _getopt(args: Sequence[str]) -> set[str]:
    """util-linux `getopt -o ab: --long alpha,beta: -- "$@"` (and the old form)."""
    shorts: list[str] = []
    longs: list[str] = []
    i = 0
    while i < len(args):
        key, value, step = args[i], "", 1
        if key == "--":
            break
        if key.startswith("--") and "=" in key:
            key, value = key.split("=", 1)
        elif len(key) > 2 and key[:2] in ("-o", "-l", "-n", "-s"):
            key, value = key[:2], key[2:]
        elif key in _GETOPT_VALUED:
            value, step = (args[i + 1] if i + 1 < len(args) else ""), 2
        elif not key.startswith("-"):
            if not shorts and not longs:
                shorts.append(key)  # old form: getopt OPTSTRING ARGS
            break
        i += step
        if key in ("-o", "--options"):
            shorts.append(value)
        elif key in ("-l", "--long", "--longoptions"):
            longs.extend(value.split(","))
    found = {f"--{n.strip().rstrip(':')}" for n in longs if n.strip().rstrip(":")}
    for optstring in shorts:
        found |= _getopts(optstring.lstrip("+-"))
    return found


def _from_test(argv: Sequence[str]) -> set[str]:
    """`[ "$1" = "--help" ]` and `[[ $1 == --to=* ]]`."""
    found: set[str] = set()
    for k in range(1, len(argv) - 1):
        if argv[k] not in ("=", "==", "!="):
            continue
        left, right = argv[k - 1], argv[k + 1]
        for var, lit in ((left, right), (right, left)):
            opt = option_from_pattern(lit) if _POSITIONAL.match(var) else None
            if opt and not opt.lstrip("-").isdigit():
                found.add(opt)
    return found


def options(commands: Iterable[Command], cases: Iterable[RawCase]) -> set[str]:
    found: set[str] = set()
    for cmd in commands:
        if cmd.name == "getopts" and cmd.args:
            found |= _getopts(cmd.args[0])
        elif cmd.basename == "getopt":
            found |= _getopt(cmd.args)
        elif cmd.name in ("[", "[[", "test"):
            found |= _from_test(cmd.argv)
    for case in cases:
        # Any `case $x in -a|--all)` is option parsing; plain words such as
        # `start|stop)` are sub-commands and never start with a dash.
        if case.subject is None or "$" not in case.subject.text:
            continue
        for pattern in case.patterns:
            opt = option_from_pattern(unquote(pattern.text))
            if opt:
                found.add(opt)
    return found


# -- wrappers -------------------------------------------------------------------------
def wrappers(functions: dict[str, list[Command]]) -> dict[str, int]:
    """Functions that run their arguments as a command -> arguments to skip.

    `run() { echo "+ $*"; "$@"; }` skips 0; `retry() { n=$1; shift; "$@"; }`
    skips 1 because each `shift` drops an argument before `"$@"` runs.
    """
    found: dict[str, int] = {}
    for name, body in functions.items():
        shifted = 0
        for cmd in body:
            if cmd.name == "shift":
                shifted += int(cmd.args[0]) if cmd.args and cmd.args[0].isdigit() else 1
                continue
            m = _WRAPPER_ARGS.match(cmd.name)
            if m:
                found[name] = int(m.group(1)) - 1 if m.group(1) else shifted
                break
    return found
