"""CODEOWNERS: GitHub's documented examples, precedence, invalid lines, location."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kohalint.documents.codeowners import (
    CODEOWNERS_LOCATIONS,
    Codeowners,
    OwnerRule,
    choose_codeowners,
    is_loadable_size,
    parse_codeowners,
    pattern_matches,
)

# (pattern, path, expected). Paths ending in "/" are directories.
GITHUB_EXAMPLES = [
    # "*": default owners for everything.
    ("*", "README.md", True),
    ("*", "a/b/c.txt", True),
    ("*", ".github/workflows/ci.yml", True),
    # "*.js", "*.go": by extension, at any depth.
    ("*.js", "app.js", True),
    ("*.js", "src/deep/app.js", True),
    ("*.js", "app.jsx", False),
    ("*.go", "cmd/tool/main.go", True),
    ("*.yml", "a/b/c.yml", True),
    ("*.yml", "a/b/c.yaml", False),
    # "/build/logs/": that root directory and its subdirectories.
    ("/build/logs/", "build/logs/today.log", True),
    ("/build/logs/", "build/logs/old/2020.log", True),
    ("/build/logs/", "src/build/logs/today.log", False),
    ("/build/logs/", "build/logs", False),  # a file, not the directory
    ("/build/logs/", "build/logs/", True),
    # "docs/*": direct children only (GitHub's own example).
    ("docs/*", "docs/getting-started.md", True),
    ("docs/*", "docs/build-app/troubleshooting.md", False),
    ("docs/*", "docs/build-app/", True),
    ("docs/*", "docs", False),
    ("docs/*", "other/docs/x.md", False),
    # "apps/": any apps directory anywhere.
    ("apps/", "apps/web/index.ts", True),
    ("apps/", "src/apps/web/index.ts", True),
    ("apps/", "apps", False),
    ("apps/", "myapps/x", False),
    # "/docs/" and "/scripts/": anchored subtrees.
    ("/docs/", "docs/a/b/c.md", True),
    ("/docs/", "src/docs/a.md", False),
    ("/scripts/", "scripts/setup.sh", True),
    ("/scripts/", "tools/scripts/setup.sh", False),
    # "**/logs": a logs directory (or file) anywhere.
    ("**/logs", "logs", True),
    ("**/logs", "build/logs/x.txt", True),
    ("**/logs", "deeply/nested/logs/y", True),
    ("**/logs", "scripts/logs", True),
    ("**/logs", "catalogs/x", False),
    # "/.github/workflows/" and ".github/workflows/": the whole subtree.
    ("/.github/workflows/", ".github/workflows/ci.yml", True),
    ("/.github/workflows/", ".github/workflows/sub/x.yml", True),
    (".github/workflows/", ".github/workflows/ci.yml", True),
    (".github/workflows/", "sub/.github/workflows/ci.yml", False),  # middle slash anchors
    # ".github/workflows/*": direct children only.
    (".github/workflows/*", ".github/workflows/ci.yml", True),
    (".github/workflows/*", ".github/workflows/sub/x.yml", False),
    # "Dockerfile*": every Dockerfile variant at any depth.
    ("Dockerfile*", "Dockerfile", True),
    ("Dockerfile*", "build/Dockerfile.koha", True),
    ("Dockerfile*", "build/koha.Dockerfile", False),
    # A directory named without a trailing slash owns its subtree.
    ("/docs", "docs/a/b.md", True),
    ("/docs", "docs", True),
    ("/docs", "x/docs/a.md", False),
    ("/apps/github", "apps/github/x.rb", True),
    # "**" forms.
    ("docs/**/x.md", "docs/x.md", True),
    ("docs/**/x.md", "docs/a/b/x.md", True),
    ("docs/**/x.md", "docs/a/b/y.md", False),
    ("/a/**", "a/b", True),
    ("/a/**", "a/b/c/d", True),
    ("/a/**", "a", False),
    ("/a/**", "b/a/c", False),
    ("**", "anything/at/all", True),
    ("/a/**/", "a/b.txt", True),
    ("/a/**/", "a", False),
    # "*" and "?" never cross "/".
    ("/src/*.py", "src/a.py", True),
    ("/src/*.py", "src/pkg/a.py", False),
    ("/f?o", "foo", True),
    ("/f?o", "f/o", False),
    ("/f?o", "fooo", False),
    # Case-sensitive.
    ("*.MD", "README.md", False),
    ("/Docs/", "docs/a.md", False),
    # Setup scripts (KL206 critical paths).
    ("setup*.sh", "setup.sh", True),
    ("setup*.sh", "tools/setup-koha.sh", True),
    ("/scripts/setup*", "scripts/setup-db.sh", True),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), GITHUB_EXAMPLES)
def test_pattern_matches_github_semantics(pattern: str, path: str, expected: bool) -> None:
    assert pattern_matches(pattern, path) is expected


def test_pattern_matches_edge_inputs() -> None:
    assert pattern_matches("/", "a") is False
    assert pattern_matches("*", "") is False
    assert pattern_matches("f\\*o", "f*o") is True
    assert pattern_matches("f\\*o", "foo") is False


GITHUB_SAMPLE = """\
# This is a comment.
*       @global-owner1 @global-owner2
*.js    @js-owner #This is an inline comment.
*.go docs@example.com
*.txt @octo-org/octocats
/build/logs/ @doctocat
docs/*  docs@example.com
apps/ @octocat
/docs/ @doctocat
/scripts/ @doctocat @octocat
**/logs @octocat
/apps/ @octocat
/apps/github
"""


def test_github_sample_parses_without_problems() -> None:
    owners = parse_codeowners(GITHUB_SAMPLE)
    assert owners.problems == []
    assert len(owners.rules) == 12
    assert owners.rules[1] == OwnerRule("*.js", ("@js-owner",), 3, 1)
    assert owners.rules[-1] == OwnerRule("/apps/github", (), 13, 1)


@pytest.mark.parametrize(
    ("path", "owners"),
    [
        ("README.md", ("@global-owner1", "@global-owner2")),
        ("src/app.js", ("@js-owner",)),
        ("main.go", ("docs@example.com",)),
        ("notes.txt", ("@octo-org/octocats",)),
        ("docs/getting-started.md", ("@doctocat",)),  # /docs/ comes after docs/*
        ("build/logs/a.log", ("@octocat",)),  # **/logs is later than /build/logs/
        ("scripts/run.sh", ("@doctocat", "@octocat")),
        ("apps/web/x.ts", ("@octocat",)),
        ("apps/github/x.rb", ()),  # the ownerless last line removes ownership
    ],
)
def test_last_match_wins(path: str, owners: tuple[str, ...]) -> None:
    assert parse_codeowners(GITHUB_SAMPLE).owners_for(path) == owners


def test_ownerless_line_returns_rule_with_no_owners() -> None:
    parsed = parse_codeowners("* @a\n/secrets/\n")
    rule = parsed.owner_rule_for("secrets/key")
    assert rule is not None and rule.owners == () and rule.line == 2
    assert parsed.owners_for("other") == ("@a",)


def test_no_rule_matches() -> None:
    parsed = parse_codeowners("/docs/ @a\n")
    assert parsed.owner_rule_for("src/x.py") is None
    assert parsed.owners_for("src/x.py") == ()
    assert Codeowners().owners_for("x") == ()


@pytest.mark.parametrize(
    ("text", "kind", "column"),
    [
        ("!*.js @a\n", "negation", 1),
        ("  !docs/ @a\n", "negation", 3),
        ("*.[ch] @a\n", "character-range", 1),
        ("src/[abc]/x @a\n", "character-range", 1),
        ("\\#notes @a\n", "escaped-hash", 1),
        ("*.py user-without-at\n", "invalid-owner", 6),
        ("*.py @a @-bad\n", "invalid-owner", 9),
        ("*.py @bad-\n", "invalid-owner", 6),
        ("*.py @a--b\n", "invalid-owner", 6),
        ("*.py @" + "a" * 40 + "\n", "invalid-owner", 6),
        ("*.py @org/\n", "invalid-owner", 6),
        ("*.py @org/team/extra\n", "invalid-owner", 6),
        ("*.py not-an@email\n", "invalid-owner", 6),
        ("foo\\ @a\n", "invalid-pattern", 1),
    ],
)
def test_invalid_lines_are_reported_and_skipped(text: str, kind: str, column: int) -> None:
    parsed = parse_codeowners("* @fallback\n" + text)
    assert [(p.line, p.column, p.kind) for p in parsed.problems] == [(2, column, kind)]
    assert [rule.line for rule in parsed.rules] == [1]


def test_invalid_line_does_not_match() -> None:
    parsed = parse_codeowners("* @a\n!secret.txt @b\n")
    assert parsed.owners_for("secret.txt") == ("@a",)


def test_each_bad_owner_gets_its_own_column_and_a_safe_message() -> None:
    parsed = parse_codeowners("*.py bad1 @ok bad\x07two\n")
    assert [(p.column, p.token) for p in parsed.problems] == [(6, "bad1"), (15, "bad?two")]
    assert all(p.message.isprintable() for p in parsed.problems)
    assert parsed.rules == []


def test_long_owner_token_is_truncated_in_message() -> None:
    parsed = parse_codeowners("* x" + "y" * 500 + "\n")
    assert len(parsed.problems[0].message) < 200


@pytest.mark.parametrize(
    "owner",
    ["@octocat", "@a", "@a-b-c", "@" + "a" * 39, "@octo-org/octocats", "@org/team_name",
     "@Org/Team-1", "docs@example.com", "first.last+tag@sub.example.org"],
)
def test_valid_owners(owner: str) -> None:
    parsed = parse_codeowners(f"* {owner}\n")
    assert parsed.problems == []
    assert parsed.rules[0].owners == (owner,)


def test_comments_blank_lines_and_crlf() -> None:
    text = "\ufeff# header\r\n\r\n   \r\n*.md @docs # trailing note\r\n  # indented comment\r\n"
    parsed = parse_codeowners(text)
    assert parsed.problems == []
    assert parsed.rules == [OwnerRule("*.md", ("@docs",), 4, 1)]


def test_hash_inside_a_token_is_not_a_comment() -> None:
    parsed = parse_codeowners("notes#1.md @a\n")
    assert parsed.rules[0].pattern == "notes#1.md"


def test_tabs_separate_owners() -> None:
    assert parse_codeowners("*.py\t@a\t@b\n").rules[0].owners == ("@a", "@b")


@pytest.mark.parametrize(
    ("existing", "active", "dead"),
    [
        ([], None, []),
        (["CODEOWNERS"], "CODEOWNERS", []),
        (["docs/CODEOWNERS", "CODEOWNERS"], "CODEOWNERS", ["docs/CODEOWNERS"]),
        # An empty .github/CODEOWNERS still shadows the others: existence is enough.
        (["CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS"], ".github/CODEOWNERS",
         ["CODEOWNERS", "docs/CODEOWNERS"]),
        (["src/CODEOWNERS", ".github/codeowners"], None, []),
    ],
)
def test_choose_codeowners(existing: list[str], active: str | None, dead: list[str]) -> None:
    assert choose_codeowners(iter(existing)) == (active, dead)


def test_locations_and_size_limit() -> None:
    assert CODEOWNERS_LOCATIONS == (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
    assert is_loadable_size(10_000)
    assert not is_loadable_size(3 * 1024 * 1024)


def test_empty_file_has_no_rules() -> None:
    parsed = parse_codeowners("")
    assert parsed.rules == [] and parsed.problems == []
    assert parsed.owner_rule_for("a") is None


_PATTERN_CHARS = st.sampled_from(list("ab*?/\\!#[]@. \t-_"))


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_parse_never_raises(text: str) -> None:
    parsed = parse_codeowners(text)
    for rule in parsed.rules:
        parsed.owners_for("a/b.txt")
        assert rule.line >= 1 and rule.column >= 1


@settings(max_examples=150, deadline=None)
@given(st.text(_PATTERN_CHARS, max_size=60), st.text(st.sampled_from(list("ab/.*")), max_size=60))
def test_pattern_matches_never_raises(pattern: str, path: str) -> None:
    assert pattern_matches(pattern, path) in (True, False)


def test_no_catastrophic_backtracking() -> None:
    pattern = "/".join(["**"] * 40) + "/x*y*z*q"
    path = "/".join(["a*b"] * 60) + "/xyzz"
    star_pattern = "*a" * 40 + "b"
    start = time.perf_counter()
    assert pattern_matches(pattern, path) is False
    assert pattern_matches(star_pattern, "a" * 2000) is False
    assert time.perf_counter() - start < 1.0
