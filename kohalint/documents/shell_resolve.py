"""Which program a command line really runs.

Three questions, answered from argv alone (nothing is executed):
* which leading words are transparent (`sudo -u x`, `env A=1`, `timeout 5`)
  so the command is named after the program they start;
* which commands carry a script as a string (`sh -c`, `eval`, `trap`, `su -c`);
* which commands start another program from their arguments (`xargs`,
  `find -exec`, `docker exec`, `kubectl exec --`).
"""

from __future__ import annotations

from dataclasses import dataclass

from kohalint.documents.shell_words import is_assignment, split_words

SHELLS = frozenset({"sh", "bash", "dash", "ash", "ksh", "mksh", "zsh"})


@dataclass(frozen=True)
class _Prefix:
    short_arg: str = ""  # short options that take a value
    long_arg: frozenset[str] = frozenset()
    positionals: int = 0  # words between the options and the command
    blockers: str = ""  # short options after which no command follows
    assignments: bool = False  # NAME=value words allowed before the command
    requires: str = ""  # short option that must be present (runuser -u)


_PREFIXES: dict[str, _Prefix] = {
    "sudo": _Prefix(
        "ugCDpRrTtU",
        frozenset({"user", "group", "close-from", "chdir", "prompt", "role", "type",
                   "other-user", "command-timeout", "host", "chroot"}),
        blockers="elvVK",
        assignments=True,
    ),
    "doas": _Prefix("uC", blockers="C"),
    "env": _Prefix("uC", frozenset({"unset", "chdir"}), assignments=True),
    "exec": _Prefix("a"),
    "time": _Prefix("fo", frozenset({"format", "output"})),
    "nohup": _Prefix(),
    "command": _Prefix(blockers="vV"),
    "builtin": _Prefix(),
    "nice": _Prefix("n", frozenset({"adjustment"})),
    "ionice": _Prefix("cn", frozenset({"class", "classdata"}), blockers="pPu"),
    "timeout": _Prefix("sk", frozenset({"signal", "kill-after"}), positionals=1),
    "stdbuf": _Prefix("ioe", frozenset({"input", "output", "error"})),
    "setsid": _Prefix(),
    "chronic": _Prefix(),
    "unbuffer": _Prefix(),
    "chroot": _Prefix("", frozenset({"userspec", "groups"}), positionals=1),
    "runuser": _Prefix("ugG", frozenset({"user", "group", "supp-group"}),
                       blockers="cl", requires="u"),
}  # fmt: skip
# Prefixes are peeled repeatedly (`sudo env A=1 nice cmd`); the cap only
# guards against silly input.
_MAX_PREFIXES = 8


def basename(word: str) -> str:
    return word.rstrip("/").rsplit("/", 1)[-1] if "/" in word else word


def skip_options(
    words: list[str], i: int, short_arg: str = "", long_arg: frozenset[str] = frozenset()
) -> tuple[int, set[str]]:
    """Index of the first operand from `i`, and the short flags seen."""
    seen: set[str] = set()
    while i < len(words):
        w = words[i]
        if w == "--":
            return i + 1, seen
        if w.startswith("--"):
            takes = "=" not in w and w[2:] in long_arg
            seen.add(w)
            i += 2 if takes else 1
            continue
        if len(w) < 2 or w[0] != "-":
            break
        step = 1
        for j, ch in enumerate(w[1:], start=1):
            seen.add(ch)
            if ch in short_arg:
                step = 2 if j == len(w) - 1 else 1  # value attached or next word
                break
        i += step
    return i, seen


def _peel(words: list[str]) -> int | None:
    """Length of the transparent prefix at the start of `words`, if any."""
    spec = _PREFIXES.get(basename(words[0]))
    if spec is None:
        return None
    i, seen = skip_options(words, 1, spec.short_arg, spec.long_arg)
    if seen & set(spec.blockers) or (spec.requires and spec.requires not in seen):
        return None
    i += spec.positionals
    while spec.assignments and i < len(words) and is_assignment(words[i]):
        i += 1
    return i if i < len(words) else None


def _split_env_string(words: list[str]) -> list[str]:
    """`env -S 'bash -e'` carries its command in one word: splice it in."""
    for k, w in enumerate(words[1:], start=1):
        if w in ("-S", "--split-string") and k + 1 < len(words):
            return words[:k] + split_words(words[k + 1]) + words[k + 2 :]
        if w.startswith("--split-string="):
            return words[:k] + split_words(w.split("=", 1)[1]) + words[k + 1 :]
        if w.startswith("-S") and len(w) > 2:
            return words[:k] + split_words(w[2:]) + words[k + 1 :]
        if not w.startswith("-"):
            break
    return words


def strip_prefixes(words: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(prefix words, argv of the program they start)."""
    prefix: list[str] = []
    for _ in range(_MAX_PREFIXES):
        if not words:
            break
        if basename(words[0]) == "env":
            words = _split_env_string(words)
        cut = _peel(words)
        if cut is None:
            break
        prefix.extend(words[:cut])
        words = words[cut:]
    return tuple(prefix), tuple(words)


def normalize(
    pairs: list[tuple[str, str]],
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(assignments, prefix, argv) from (raw, unquoted) word pairs."""
    i = 0
    while i < len(pairs) and is_assignment(pairs[i][0]):
        i += 1
    prefix, argv = strip_prefixes([value for _, value in pairs[i:]])
    return tuple(value for _, value in pairs[:i]), prefix, argv


# -- scripts carried in a string ----------------------------------------------------
def _shell_operands(args: tuple[str, ...]) -> tuple[bool, bool, int]:
    """(has -c, has -s, index of first operand) for a shell's arguments."""
    has_c = has_s = False
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("--", "-"):
            return has_c, has_s, i + 1
        if a.startswith("--"):
            i += 2 if a in ("--rcfile", "--init-file") else 1
            continue
        if len(a) < 2 or a[0] not in "-+":
            break
        letters = a[1:]
        has_c = has_c or (a[0] == "-" and "c" in letters)
        has_s = has_s or (a[0] == "-" and "s" in letters)
        i += 1 + letters.count("o") + letters.count("O")  # -o NAME / -O shopt
    return has_c, has_s, i


def inline_script(argv: tuple[str, ...]) -> tuple[str, str] | None:
    """(script text, via) when the command runs a script given as a string."""
    name, args = basename(argv[0]), argv[1:]
    if name in SHELLS:
        has_c, _, i = _shell_operands(args)
        return (args[i], "sh -c") if has_c and i < len(args) else None
    if name in ("su", "runuser"):
        for k, a in enumerate(args):
            if a in ("-c", "--command") and k + 1 < len(args):
                return args[k + 1], "sh -c"
            if a.startswith("--command="):
                return a.split("=", 1)[1], "sh -c"
        return None
    if name == "eval" and args:
        return " ".join(args), "eval"
    if name == "trap":
        rest = args[1:] if args[:1] == ("--",) else args
        if len(rest) >= 2 and rest[0] and not rest[0].startswith("-"):
            return rest[0], "trap"
    return None


def reads_script_from_stdin(argv: tuple[str, ...]) -> bool:
    """`bash <<EOF` / `sh -s`: the heredoc body is shell code."""
    if basename(argv[0]) not in SHELLS:
        return False
    has_c, has_s, i = _shell_operands(argv[1:])
    return not has_c and (has_s or i >= len(argv) - 1)


# -- programs started from arguments ------------------------------------------------
_XARGS_ARG = "adEILnPs"
_XARGS_LONG = frozenset({"arg-file", "delimiter", "max-args", "max-procs", "max-chars",
                         "process-slot-var"})  # fmt: skip
_DOCKER_GLOBAL = ("cHl", frozenset({"context", "host", "config", "log-level",
                                    "tlscacert", "tlscert", "tlskey"}))  # fmt: skip
_DOCKER_EXEC = ("euw", frozenset({"env", "env-file", "user", "workdir", "detach-keys",
                                  "index"}))  # fmt: skip
_DOCKER_RUN = ("acehlmpuvw", frozenset({
    "attach", "add-host", "cap-add", "cap-drop", "cidfile", "cpus", "cpu-shares",
    "device", "dns", "entrypoint", "env", "env-file", "expose", "gpus", "hostname",
    "health-cmd", "health-interval", "health-retries", "health-timeout", "ip", "ipc",
    "label", "label-file", "link", "log-driver", "log-opt", "memory", "memory-swap",
    "mount", "name", "network", "net", "network-alias", "pid", "platform", "publish",
    "pull", "restart", "runtime", "security-opt", "shm-size", "stop-signal",
    "stop-timeout", "sysctl", "tmpfs", "user", "ulimit", "volume", "volumes-from",
    "workdir", "userns", "group-add", "storage-opt", "service-ports"}))  # fmt: skip
_COMPOSE_GLOBAL = ("fp", frozenset({"file", "project-name", "env-file", "profile",
                                    "project-directory", "ansi", "progress",
                                    "parallel"}))  # fmt: skip


def _after_target(args: list[str], i: int, opts: tuple[str, frozenset[str]]) -> list[str]:
    """Skip options, then the container/service/image operand; return the rest."""
    i, _ = skip_options(args, i, *opts)
    return args[i + 1 :]


def _compose(args: list[str], i: int) -> list[str]:
    i, _ = skip_options(args, i, *_COMPOSE_GLOBAL)
    sub = args[i] if i < len(args) else ""
    if sub == "exec":
        return _after_target(args, i + 1, _DOCKER_EXEC)
    if sub == "run":
        return _after_target(args, i + 1, _DOCKER_RUN)
    return []


def _container(argv: tuple[str, ...]) -> list[str]:
    name, args = basename(argv[0]), list(argv[1:])
    if name in ("docker-compose", "podman-compose"):
        return _compose(args, 0)
    if name in ("kubectl", "oc"):
        if "exec" in args and "--" in args[args.index("exec") :]:
            return args[args.index("--", args.index("exec")) + 1 :]
        return []
    if name not in ("docker", "podman", "nerdctl"):
        return []
    i, _ = skip_options(args, 0, *_DOCKER_GLOBAL)
    if args[i : i + 1] == ["container"]:
        i += 1
    sub = args[i] if i < len(args) else ""
    if sub == "compose":
        return _compose(args, i + 1)
    if sub == "exec":
        return _after_target(args, i + 1, _DOCKER_EXEC)
    if sub == "run":
        return _after_target(args, i + 1, _DOCKER_RUN)
    return []


def _find_exec(args: tuple[str, ...]) -> list[list[str]]:
    found: list[list[str]] = []
    k = 0
    while k < len(args):
        if args[k] in ("-exec", "-execdir", "-ok", "-okdir"):
            end = k + 1
            while end < len(args) and args[end] not in (";", "+"):
                end += 1
            if end > k + 1:
                found.append(list(args[k + 1 : end]))
            k = end
        k += 1
    return found


def launched(argv: tuple[str, ...]) -> list[tuple[list[str], str]]:
    """Programs this command starts from its own arguments: (argv, via)."""
    name = basename(argv[0])
    if name == "xargs":
        i, _ = skip_options(list(argv), 1, _XARGS_ARG, _XARGS_LONG)
        return [(list(argv[i:]), "xargs")] if i < len(argv) else []
    if name == "find":
        return [(words, "find -exec") for words in _find_exec(argv[1:])]
    inner = _container(argv)
    return [(inner, "container")] if inner else []
