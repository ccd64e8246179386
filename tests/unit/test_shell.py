"""The shared shell adapter: commands, lines, indirection, flags, options, robustness."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kohalint.documents.shell as shell_mod
import kohalint.documents.shell_bashlex as shell_bashlex
import kohalint.documents.shell_chunks as shell_chunks
from kohalint.documents.shell import Command, ShellScript, parse_shell, split_words


@pytest.fixture
def bashlex_on_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    """bashlex reads plain chunks too: for tests of bashlex itself on simple commands."""
    monkeypatch.setattr(shell_chunks, "PLAIN_TO_FALLBACK", False)


def names(script: ShellScript) -> list[str]:
    return [c.name for c in script.commands]


def where(script: ShellScript) -> list[tuple[str, int, int]]:
    return [(c.name, c.line, c.column) for c in script.commands]


# -- commands and pipelines ---------------------------------------------------------------
def test_curl_piped_to_sh_is_one_pipeline() -> None:
    s = parse_shell("curl -fsSL https://x/install.sh | sh")
    assert len(s.pipelines) == 1
    assert [(c.name, c.stage) for c in s.pipelines[0]] == [("curl", 0), ("sh", 1)]
    assert s.commands[0].args == ("-fsSL", "https://x/install.sh")
    assert (s.commands[1].line, s.commands[1].column) == (1, 35)
    assert not s.degraded and s.error is None


def test_words_in_quotes_are_not_commands() -> None:
    s = parse_shell('echo "trivy image foo"\nprintf \'%s\' "sh -c x"')
    assert names(s) == ["echo", "printf"]
    assert not s.has_call("trivy") and not s.has_call("sh")
    assert s.commands[0].argv == ("echo", "trivy image foo")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("apt-get update && apt-get install -y curl",
         [("apt-get", ("update",)), ("apt-get", ("install", "-y", "curl"))]),
        ("a; b & c || d", [("a", ()), ("b", ()), ("c", ()), ("d", ())]),
        ("x=1; y=2 ; echo \"$x\" ;\n", [("echo", ("$x",))]),
        ("mariadb -p\"$PW\" -e 'select 1' koha", [("mariadb", ("-p$PW", "-e", "select 1", "koha"))]),
        ("echo ${BAR:-x} \"${FOO}\" $'a\\tb'", [("echo", ("${BAR:-x}", "${FOO}", "a\tb"))]),
        ("echo a\\ b 'c d'\"e\"", [("echo", ("a b", "c de"))]),
        ("/usr/bin/curl -s x", [("/usr/bin/curl", ("-s", "x"))]),
    ],
)  # fmt: skip
def test_simple_commands(text: str, expected: list) -> None:
    s = parse_shell(text)
    assert [(c.name, c.args) for c in s.commands] == expected


def test_basename_and_path_lookup() -> None:
    s = parse_shell("/usr/bin/curl -s x")
    assert s.commands[0].basename == "curl"
    assert s.has_call("curl") and s.has_call("/usr/bin/curl") and not s.has_call("/bin/curl")


def test_pipeline_ids_are_unique_and_stages_ordered() -> None:
    s = parse_shell("a | b | c\nd | e\nf")
    assert [[(c.name, c.stage) for c in p] for p in s.pipelines] == [
        [("a", 0), ("b", 1), ("c", 2)], [("d", 0), ("e", 1)], [("f", 0)]]
    assert [c.pipeline for c in s.commands] == [0, 0, 0, 1, 1, 2]


def test_redirects_are_not_arguments() -> None:
    s = parse_shell("mariadb-dump koha 2>/dev/null > dump.sql < in.txt")
    cmd = s.commands[0]
    assert cmd.argv == ("mariadb-dump", "koha")
    assert cmd.redirects == (("2>", "/dev/null"), (">", "dump.sql"), ("<", "in.txt"))


# -- transparent prefixes -----------------------------------------------------------------
@pytest.mark.parametrize(
    "text, name, argv, prefix, assignments",
    [
        ("sudo -u postgres pg_dump -Fc db", "pg_dump", ("pg_dump", "-Fc", "db"),
         ("sudo", "-u", "postgres"), ()),
        ("FOO=1 BAR=2 cmd x", "cmd", ("cmd", "x"), (), ("FOO=1", "BAR=2")),
        ("env X=1 cmd", "cmd", ("cmd",), ("env", "X=1"), ()),
        ("exec cmd --flag", "cmd", ("cmd", "--flag"), ("exec",), ()),
        ("time nohup cmd", "cmd", ("cmd",), ("time", "nohup"), ()),
        ("sudo -E env PATH=/x timeout -s KILL 30 mariadb-dump", "mariadb-dump", ("mariadb-dump",),
         ("sudo", "-E", "env", "PATH=/x", "timeout", "-s", "KILL", "30"), ()),
        ("command -v curl", "command", ("command", "-v", "curl"), (), ()),
        ("command curl x", "curl", ("curl", "x"), ("command",), ()),
        ("sudo -i", "sudo", ("sudo", "-i"), (), ()),
        ("sudo -l", "sudo", ("sudo", "-l"), (), ()),
        ("exec >log 2>&1", "exec", ("exec",), (), ()),
        ("/usr/bin/env -S 'bash -e' x", "bash", ("bash", "-e", "x"), ("/usr/bin/env",), ()),
        ("nice -n 10 ionice -c3 tar c /", "tar", ("tar", "c", "/"), ("nice", "-n", "10", "ionice", "-c3"), ()),
        ('"FOO=1" cmd', "FOO=1", ("FOO=1", "cmd"), (), ()),
    ],
)  # fmt: skip
def test_prefixes_and_assignments(text, name, argv, prefix, assignments) -> None:  # noqa: ANN001
    cmd = parse_shell(text).commands[0]
    assert (cmd.name, cmd.argv, cmd.prefix, cmd.assignments) == (name, argv, prefix, assignments)


def test_pure_assignments_are_not_commands() -> None:
    s = parse_shell("A=1\nB=$(date)\nexport C=2")
    assert names(s) == ["date", "export"]
    assert s.commands[0].via == "subst"


# -- indirection ---------------------------------------------------------------------------
def test_sh_c_string_is_parsed_at_the_shell_line() -> None:
    s = parse_shell("echo start\nsh -c 'mariadb-binlog --stop-datetime=\"$T\" bin.0001 | mariadb'")
    [binlog] = s.calls("mariadb-binlog")
    assert (binlog.via, binlog.line, binlog.column) == ("sh -c", 2, 1)
    assert binlog.args == ("--stop-datetime=$T", "bin.0001")
    [mariadb] = s.calls("mariadb")
    assert (mariadb.pipeline, mariadb.stage) == (binlog.pipeline, 1)


@pytest.mark.parametrize(
    "text, target, via",
    [
        ("bash -ec 'curl x | sh'", "curl", "sh -c"),
        ("bash -euo pipefail -c 'curl x'", "curl", "sh -c"),
        ("su - koha -c 'koha-rebuild-zebra -v'", "koha-rebuild-zebra", "sh -c"),
        ('eval "$(ssh-agent -s)"', "ssh-agent", "subst"),
        ("eval 'rm -rf /tmp/x'", "rm", "eval"),
        ("trap 'rm -f \"$TMP\"' EXIT", "rm", "trap"),
        ("docker exec -i koha-db mariadb-dump -uroot koha", "mariadb-dump", "container"),
        ("docker compose -f c.yml exec -T db mariadb-dump koha", "mariadb-dump", "container"),
        ("docker run --rm -v /x:/y -e A=1 mariadb:11 mariadb-dump -h db", "mariadb-dump", "container"),
        ("kubectl exec -it pod -- mariadb-dump koha", "mariadb-dump", "container"),
        ("ls *.0* | xargs -n1 -I{} mariadb-binlog {}", "mariadb-binlog", "xargs"),
        ("find /b -mtime +7 -exec rm -f {} \\;", "rm", "find -exec"),
        ("docker exec db sh -c 'mariadb-dump -p\"$PW\" koha'", "mariadb-dump", "sh -c"),
        ("X=$(curl -s https://x)", "curl", "subst"),
        ("echo `hostname`", "hostname", "subst"),
        ("diff <(ls a) b", "ls", "subst"),
    ],
)  # fmt: skip
def test_indirect_commands(text: str, target: str, via: str) -> None:
    s = parse_shell(text)
    assert [c.via for c in s.calls(target)] == [via]


def test_function_body_commands() -> None:
    s = parse_shell("backup() { mariadb-backup --backup; }\nbackup")
    [cmd] = s.calls("mariadb-backup")
    assert (cmd.via, cmd.func, cmd.line, cmd.column) == ("function:backup", "backup", 1, 12)
    assert [c.name for c in s.functions["backup"]] == ["mariadb-backup"]
    assert where(s)[-1] == ("backup", 2, 1)


def test_wrapper_function_call_becomes_the_wrapped_command() -> None:
    s = parse_shell('run() { echo "+ $*"; "$@"; }\nrun mariadb-dump --all-databases | gzip')
    [dump] = s.calls("mariadb-dump")
    assert (dump.via, dump.line, dump.column, dump.args) == ("wrapper:run", 2, 1, ("--all-databases",))
    # it runs where `run` runs: same pipeline and stage, listed after the call
    run = s.calls("run")[0]
    assert (dump.pipeline, dump.stage) == (run.pipeline, run.stage)
    assert [c.name for c in s.pipelines[run.pipeline]] == ["run", "mariadb-dump", "gzip"]


@pytest.mark.parametrize(
    "text",
    [
        'run() {\n  log "+ $*"\n  if [[ $DRY -eq 1 ]]; then return 0; fi\n  "$@"\n}\nrun mariadb-dump x',
        "run() { eval \"$@\"; }\nrun mariadb-dump x",
        "run() { sudo \"$@\"; }\nrun mariadb-dump x",
        "retry() {\n  local n=$1\n  shift\n  until \"$@\"; do sleep 1; done\n}\nretry 3 mariadb-dump x",
        "function run { \"${@:2}\"; }\nrun 5 mariadb-dump x",
        'db() { docker exec -i koha-db "$@"; }\ndb mariadb-dump x',
        "inner() { \"$@\"; }\nouter() { inner \"$@\"; }\nouter mariadb-dump x",
    ],
)
def test_wrapper_variants(text: str) -> None:
    s = parse_shell(text)
    dumps = s.calls("mariadb-dump")
    assert dumps and dumps[-1].args == ("x",)
    assert dumps[-1].via.startswith("wrapper:")


def test_non_wrapper_functions_do_not_synthesise() -> None:
    s = parse_shell('log() { echo "$@" >&2; }\ndie() { echo "$*"; exit 1; }\nlog mariadb-dump x')
    assert not s.has_call("mariadb-dump")


def test_heredoc_fed_to_a_shell_is_code_but_cat_heredoc_is_not() -> None:
    s = parse_shell("cat <<EOF\nrm -rf /\nEOF\nbash <<'EOF'\ncurl x | sh\nEOF\n")
    assert not s.has_call("rm")
    [curl] = s.calls("curl")
    assert (curl.via, curl.line) == ("heredoc", 5)


def test_nested_sh_c_is_bounded() -> None:
    text = "curl x"
    for _ in range(shell_mod.MAX_DEPTH + 2):
        text = "sh -c " + "'" + text.replace("'", "'\\''") + "'"
    s = parse_shell(text)
    assert not s.has_call("curl")  # deeper than the cap
    assert s.degraded and len(s.calls("sh")) == shell_mod.MAX_DEPTH + 1
    assert all(c.line == 1 and c.column == 1 for c in s.commands)


# -- set flags --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("set -euo pipefail", {"e", "errexit", "u", "nounset", "pipefail"}),
        ("set -e\nset -o pipefail", {"e", "errexit", "pipefail"}),
        ("set -Eeuo pipefail", {"E", "errtrace", "e", "errexit", "u", "nounset", "pipefail"}),
        ("set -eux", {"e", "errexit", "u", "nounset", "x", "xtrace"}),
        ("set -o errexit -o nounset", {"e", "errexit", "u", "nounset"}),
        ("#!/bin/bash -e\necho", {"e", "errexit"}),
        ("#!/usr/bin/env -S bash -eu\necho", {"e", "errexit", "u", "nounset"}),
        ("#!/bin/bash\nmain() {\n  set -e\n}\n", {"e", "errexit"}),
        ("set +e\nset -- -e x", set()),
        ("sh -c 'set -e'\nx=$(set -u)", set()),
    ],
)  # fmt: skip
def test_set_flags(text: str, expected: set[str]) -> None:
    assert parse_shell(text).set_flags == expected


# -- options ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ('while getopts "nt:h" opt; do\n  case $opt in\n    n) DRY=1;;\n  esac\ndone', {"-n", "-t", "-h"}),
        ("while getopts :n:t: o; do :; done", {"-n", "-t"}),
        ('case "$1" in\n  --dry-run|-n) DRY=1 ;;\n  --to=*) TO="${1#*=}" ;;\n  --to) TO=$2 ;;\nesac',
         {"--dry-run", "-n", "--to"}),
        ('while [ $# -gt 0 ]; do\n  case "${1}" in\n    -h|--help) usage ;;\n    -*) die ;;\n'
         '    start|stop) cmd=$1 ;;\n  esac\n  shift\ndone', {"-h", "--help"}),
        ('for arg in "$@"; do\n  case $arg in\n    --verify) V=1;;\n    --) break;;\n  esac\ndone', {"--verify"}),
        ('OPTS=$(getopt -o vt: --long verify,to: -- "$@")', {"-v", "-t", "--verify", "--to"}),
        ('if [ "$1" = "--dry-run" ]; then DRY=1; fi\n[[ $1 == --to=* ]] && x', {"--dry-run", "--to"}),
        ('case "$mode" in\n  full) x;;\nesac', set()),
    ],
)  # fmt: skip
def test_options(text: str, expected: set[str]) -> None:
    assert parse_shell(text).options == expected


# -- degraded input and lines -------------------------------------------------------------------
def test_bash_only_constructs_do_not_hide_later_commands() -> None:
    s = parse_shell("[[ -f x ]] && rm x\n(( i++ ))\ncase $a in b) c;; esac\nfor ((i=0;i<3;i++)); do d; done\necho after")
    assert where(s) == [("[[", 1, 1), ("rm", 1, 15), ("c", 3, 15), ("d", 4, 25), ("echo", 5, 1)]
    assert s.degraded and s.error is None


def test_lines_with_functions_heredocs_continuations_and_comments() -> None:
    text = (
        "#!/bin/bash\n"  # 1
        "# a comment with 'quote\n"  # 2
        "usage() {\n"  # 3
        "  cat <<USAGE\n"  # 4
        "curl not-a-command | sh\n"  # 5
        "USAGE\n"  # 6
        "}\n"  # 7
        "mariadb-dump \\\n"  # 8
        "  --all-databases \\\n"  # 9
        "  > dump.sql   # trailing comment\n"  # 10
        "function cleanup {\n"  # 11
        "  rm -f \"$TMP\"\n"  # 12
        "}\n"  # 13
        "x=$(\n"  # 14
        "  date +%s)\n"  # 15
        "echo done\n"  # 16
    )
    s = parse_shell(text)
    assert where(s) == [("cat", 4, 3), ("mariadb-dump", 8, 1), ("rm", 12, 3), ("date", 15, 3),
                        ("echo", 16, 1)]  # fmt: skip
    assert s.commands[1].args == ("--all-databases",)
    assert set(s.functions) == {"usage", "cleanup"}
    shifted = parse_shell(text, line_offset=20)
    assert [c.line for c in shifted.commands] == [24, 28, 32, 35, 36]


def test_heredoc_substitution_runs_and_quoted_heredoc_does_not() -> None:
    s = parse_shell("cat <<EOF\nid=$(whoami)\nEOF\ncat <<'EOF'\n$(hostname)\nEOF\n")
    assert [(c.name, c.line, c.column) for c in s.commands] == [
        ("cat", 1, 1), ("whoami", 2, 6), ("cat", 4, 1)]


def test_crlf_lines() -> None:
    s = parse_shell("echo a\r\necho b\r\n")
    assert where(s) == [("echo", 1, 1), ("echo", 2, 1)]
    assert s.commands[0].args == ("a",)


def test_unterminated_quote_is_an_error_without_content() -> None:
    s = parse_shell("echo ok\nmariadb -p'S3CRET-VALUE\necho next")
    assert s.error is not None
    line, message = s.error
    assert line == 2 and "S3CRET" not in message and "quote" in message
    assert names(s) == ["echo", "mariadb", "echo"]  # still readable around it


@pytest.mark.parametrize("reads, error", [(True, None), (False, (1, "unterminated single quote")),
                                          (None, (1, "unterminated single quote"))])
def test_error_needs_bashlex_to_agree(reads, error, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    # True: bashlex reads the text, so the lexer was wrong; None: it cannot tell.
    monkeypatch.setattr(shell_chunks, "bashlex_reads", lambda text: reads)
    assert parse_shell("echo 'abc").error == error


@pytest.mark.parametrize("text", ["echo $(date", "echo \"abc", "echo `x", "echo ${x"])
def test_unterminated_constructs(text: str) -> None:
    s = parse_shell(text, line_offset=4)
    assert s.error is not None and s.error[0] == 5


@pytest.mark.parametrize("text", ["", "   \n\n", "# only a comment", "fi", ";;", ")", "}"])
def test_empty_or_stray_input(text: str) -> None:
    s = parse_shell(text)
    assert s.commands == [] and s.error is None


def test_bashlex_infinite_loop_input_is_screened() -> None:
    # bashlex 0.18 spins forever on a word holding `${` without a later `}`;
    # the screen keeps it from bashlex, so the watchdog deadline is not needed.
    text = "echo x'${'\nrm -f a"
    assert shell_bashlex.bashlex_hazards(text) == [7]
    start = time.perf_counter()
    s = parse_shell(text)
    assert time.perf_counter() - start < shell_bashlex.deadline_for(len(text))
    assert names(s) == ["echo", "rm"]


@pytest.mark.usefixtures("bashlex_on_plain")
def test_watchdog_stops_a_runaway_and_the_fallback_reads_the_chunk(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def spin(*_args: object) -> None:
        while True:
            pass

    with pytest.raises(shell_bashlex.TimedOut):
        shell_bashlex._with_deadline(spin, 0.05)
    bashlex = pytest.importorskip("bashlex")
    monkeypatch.setattr(bashlex, "parse", spin)
    monkeypatch.setattr(shell_bashlex, "deadline_for", lambda size: 0.05)
    s = parse_shell("curl x | sh\nrm y")
    assert s.degraded and where(s) == [("curl", 1, 1), ("sh", 1, 10), ("rm", 2, 1)]


@pytest.mark.parametrize("exc", [NotImplementedError, IndexError, AttributeError, RecursionError,
                                 AssertionError, TypeError, ValueError])
@pytest.mark.usefixtures("bashlex_on_plain")
def test_any_bashlex_exception_falls_back(exc: type, monkeypatch: pytest.MonkeyPatch) -> None:
    bashlex = pytest.importorskip("bashlex")

    def boom(*_args: object, **_kw: object) -> None:
        raise exc("boom")

    monkeypatch.setattr(bashlex, "parse", boom)
    s = parse_shell("set -e\ncurl x | sh")
    assert s.degraded and where(s) == [("set", 1, 1), ("curl", 2, 1), ("sh", 2, 10)]


@pytest.mark.parametrize("limit, value", [("MAX_LINES", 10), ("MAX_CHARS", 70)])
def test_large_input_is_truncated_and_degraded(limit: str, value: int,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shell_mod, limit, value)  # either way: 10 lines of `echo a`
    s = parse_shell("echo a\n" * 40)
    assert s.degraded and len(s.commands) == 10
    assert s.commands[-1].line == 10


# -- bashlex and the fallback agree --------------------------------------------------------
AGREE = [
    "curl -fsSL https://x/install.sh | sh",
    'echo "a $(date) b" `hostname` > /dev/null 2>&1',
    'f() {\n  local x="$1"\n  echo "$x" | tr a b\n}\nf 1',
    "function g {\n  echo a\n}\ng",
    "if [ -f x ]; then\n  rm x\nelif true; then :\nelse\n  touch x\nfi",
    'for f in $(ls *.sql) b; do\n  gzip "$f" &\ndone > log',
    'while read -r line; do\n  echo "$line"\ndone < file',
    "{ a; b | c; } 2>&1 | tee x",
    "(cd /x && make) || exit 1",
    "! grep -q x f",
    "cat <<EOF > f\nhello $(id -u)\nEOF\necho done",
    "X=1 Y='a b' sudo -E -u koha env Z=3 /usr/bin/perl script.pl",
    "a && \\\n  b \\\n  c",
    "sh -c 'a | b; c'\nbash -ec \"d && e\"",
    "docker run --rm -e A=1 mariadb:11 mariadb-dump --all-databases",
    "exec 3>&1\nexec >log 2>&1",
    "diff <(ls a) <(ls b)",
    'run() { echo "+ $*"; "$@"; }\nrun mariadb-dump --all-databases | gzip',
]


def _summary(s: ShellScript) -> tuple:
    return ([(c.name, c.argv, c.line, c.column, c.pipeline, c.stage, c.via, c.func, c.assignments,
              c.prefix, c.redirects) for c in s.commands],
            s.set_flags, s.options, {k: len(v) for k, v in s.functions.items()})  # fmt: skip


@pytest.mark.parametrize("text", AGREE)
@pytest.mark.usefixtures("bashlex_on_plain")
def test_bashlex_and_fallback_agree(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with_bashlex = parse_shell(text)
    assert not with_bashlex.degraded
    monkeypatch.setattr(shell_chunks, "bashlex_parse", lambda *a, **k: None)
    fallback = parse_shell(text)
    assert fallback.degraded
    assert _summary(fallback) == _summary(with_bashlex)


# -- split_words -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("a 'b c' \"d $E\" f\\ g", ["a", "b c", "d $E", "f g"]),
        ("  ", []),
        ("x|y ;z", ["x|y", ";z"]),
        ("'unterminated", ["unterminated"]),
    ],
)
def test_split_words(text: str, expected: list[str]) -> None:
    assert split_words(text) == expected


# -- robustness --------------------------------------------------------------------------------
def test_bashlex_is_not_imported_with_the_module() -> None:
    code = "import sys, kohalint.documents.shell; print('bashlex' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=root)
    assert out.stdout.strip() == "False"


def _check_invariants(s: ShellScript, text: str, offset: int) -> None:
    last_line = text.replace("\r\n", "\n").count("\n") + 1 + offset
    for c in s.commands:
        assert isinstance(c, Command) and c.argv and c.name == c.argv[0]
        assert 1 + offset <= c.line <= last_line and c.column >= 1
    assert sum(len(p) for p in s.pipelines) == len(s.commands)
    for pid, group in enumerate(s.pipelines):
        assert all(c.pipeline == pid for c in group)
        assert [c.stage for c in group] == sorted(c.stage for c in group)
    if s.error is not None:
        assert 1 + offset <= s.error[0] <= last_line


def _parse_strict(text: str, offset: int = 0) -> ShellScript:
    # parse_shell hides internal exceptions; the builder shows them to the test.
    return shell_mod._Builder(text, offset).run()


SHELLISH = st.sampled_from([
    "if", "then", "fi", "else", "for", "in", "do", "done", "while", "case", "esac", ";;", ")",
    "(", "{", "}", "[[", "]]", "((", "))", "$(", "`", "'", '"', "\\", "\n", "|", "||", "&&", ";",
    "&", "<<EOF", "EOF", "<<-X", "$", "${", "#", "a=(", "f()", "function", "sh", "-c", "eval",
    "trap", "run", '"$@"', "sudo", "-u", "env", "X=1", "docker", "exec", "xargs", "find",
    "-exec", "\\;", "echo", "curl", "set", "-euo", "pipefail", "getopts", "$1", "--to=*", "2>&1",
    ">", "<", "<(", "$((", " ", "\t", "\r\n", "x'${'", "coproc", "time", "!",
])  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.integers(0, 50))
def test_any_text_parses(text: str, offset: int) -> None:
    _check_invariants(_parse_strict(text, offset), text, offset)
    assert isinstance(parse_shell(text), ShellScript)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(SHELLISH, st.sampled_from(["", " "])), max_size=40))
def test_shellish_token_soup_parses(parts: list[tuple[str, str]]) -> None:
    text = "".join(a + b for a, b in parts)
    _check_invariants(_parse_strict(text), text, 0)


@pytest.mark.parametrize(
    "text",
    [
        "$(" * 3000 + ")" * 3000,
        "echo " + "$(" * 400 + "x" + ")" * 400,
        "(" * 2000 + "a" + ")" * 2000,
        "{ " * 1500 + "a;" + " }" * 1500,
        "if a; then " * 500 + "b" + "; fi" * 500,
        '"' + "${x:-" * 500 + "}" * 500 + '"',
        "echo `" * 300,
        "a" * 200_000,
        "echo 'x' " * 3_000,
        "<<EOF " * 2000 + "\n",
        "\\" * 10_001,
    ],
    ids=lambda text: f"{text[:12]!r}x{len(text)}",
)
def test_pathological_input_is_bounded(text: str) -> None:
    start = time.perf_counter()
    s = _parse_strict(text)
    assert time.perf_counter() - start < 4  # generous: shared CI machines
    _check_invariants(s, text, 0)


def _hazards_by_definition(text: str) -> list[int]:
    # Every `${` whose first word stop after it is not `}` (quadratic on purpose).
    stops = set("}|&;()<>`")
    found = []
    for i in range(len(text) - 1):
        if text.startswith("${", i):
            rest = (c for c in text[i + 2:] if c in stops or c.isspace())
            if next(rest, None) != "}":
                found.append(i)
    return found


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="${}x \t\n|&;()<>`'\"", max_size=60))
def test_bashlex_hazards_match_their_definition(text: str) -> None:
    assert shell_bashlex.bashlex_hazards(text) == _hazards_by_definition(text)


# One long line of a construct that opens and does not close, each sized so
# that parse_shell takes about a tenth of the 5 s bound on a quiet machine
# (backticks pair up into empty substitutions, each read on its own).
LONG_LINES = {"${": 200_000, "${x:-": 200_000, "x'${'": 200_000, "$(": 200_000, "<(": 200_000,
              "'": 200_000, '"': 200_000, "<<": 200_000, "\\": 200_000, "`": 30_000}


@pytest.mark.parametrize("piece", list(LONG_LINES))
def test_one_long_line_reads_like_a_short_one(piece: str) -> None:
    def text(count: int) -> str:
        return "echo " + piece * count + "\nrm -f x"

    count = LONG_LINES[piece] // len(piece) // 2 * 2  # even, like the short one: quotes pair
    short, long = text(4), text(count)
    start = time.perf_counter()
    hazards = shell_bashlex.bashlex_hazards(long)
    assert time.perf_counter() - start < 1  # was minutes for `${` (quadratic)
    assert len(hazards) == len(shell_bashlex.bashlex_hazards(short)) * count // 4
    start = time.perf_counter()
    s = parse_shell(long)
    assert time.perf_counter() - start < 5
    expected = parse_shell(short)
    assert (s.commands[0].name, s.commands[-1].name) == ("echo", "rm")
    assert (expected.commands[0].name, expected.commands[-1].name) == ("echo", "rm")
    assert (s.error is None) == (expected.error is None)


@pytest.mark.usefixtures("bashlex_on_plain")
def test_many_tiny_substitutions_do_not_each_cost_a_bashlex_call(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Each call has a fixed cost (thread, parser setup) that the character
    # budget has to count, or 20,000 `$(a)` on a line take seconds.
    calls = []
    real = shell_chunks.bashlex_parse

    def counting(*args: object) -> object:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(shell_chunks, "bashlex_parse", counting)
    s = parse_shell("echo " + "$(a) " * 2_000)
    assert len(s.commands) == 2_001 and s.degraded
    assert len(calls) <= shell_chunks.BASHLEX_BUDGET // shell_chunks.BASHLEX_CALL_COST


@pytest.mark.parametrize("opener, closer", [('sh -c "', '"'), ('eval "', '"'), ("trap \"", '" EXIT')])
def test_long_script_string_full_of_substitutions(opener: str, closer: str) -> None:
    # Each command of the string used to copy every substitution the outer
    # shell ran (quadratic: 157 KB took 31 s for `eval`, now ~3 s).
    n = 600
    text = (opener + "".join(f"$(a{i})" for i in range(n)) + "; "
            + "; ".join(f"b $(c{i})" for i in range(n)) + closer)
    start = time.perf_counter()
    s = parse_shell(text)
    assert time.perf_counter() - start < 5
    ran = [c for c in s.commands if c.via == "subst"]
    assert sorted(c.name for c in ran) == sorted([f"a{i}" for i in range(n)]
                                                 + [f"c{i}" for i in range(n)])  # once each
    assert sum(c.name == "b" for c in s.commands) == n
