""".dockerignore: Docker's documented examples and patternmatcher behaviour."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kohalint.documents.dockerignore import (
    DockerIgnore,
    IgnorePattern,
    excludes_sensitive,
    go_clean,
    ignore_file_for,
    parse_dockerignore,
)


def excluded(text: str, path: str) -> bool:
    return parse_dockerignore(text).is_excluded(path)


# (ignore file, path, excluded?) from docs.docker.com "Build context" examples
# and moby/patternmatcher's matching rules.
CASES = [
    # "*/temp*": names starting with temp in any immediate subdirectory.
    ("*/temp*", "somedir/temporary.txt", True),
    ("*/temp*", "somedir/temp", True),
    ("*/temp*", "somedir/temp/inner.txt", True),  # parent directory matches
    ("*/temp*", "temporary.txt", False),
    ("*/temp*", "a/b/temp.txt", False),
    # "*/*/temp*": two levels below the root.
    ("*/*/temp*", "somedir/subdir/temporary.txt", True),
    ("*/*/temp*", "somedir/temporary.txt", False),
    # "temp?": one-character extension of temp, at the root.
    ("temp?", "tempa", True),
    ("temp?", "tempb", True),
    ("temp?", "temp", False),
    ("temp?", "tempab", False),
    ("temp?", "dir/tempa", False),
    # "**" spans any number of directories, including none.
    ("**/*.go", "main.go", True),
    ("**/*.go", "a/b/c.go", True),
    ("**/*.go", "a/b/c.gox", False),
    ("a/**/b", "a/b", True),
    ("a/**/b", "a/x/y/b", True),
    ("a/**/b", "x/a/b", False),
    ("foo/**", "foo/bar/baz", True),
    ("**", "anything/at/all", True),
    # A pattern without "/" is NOT matched at every depth (unlike gitignore).
    ("*.env", "prod.env", True),
    ("*.env", "config/prod.env", False),
    ("**/*.env", "config/prod.env", True),
    ("node_modules", "node_modules/x/index.js", True),
    ("node_modules", "web/node_modules/x/index.js", False),
    # "*" and "?" never cross "/".
    ("*", "top.txt", True),
    ("*", "dir/inner.txt", True),  # through the parent "dir"
    ("src/*", "src/pkg/a.py", True),  # through the parent "src/pkg"
    ("src/*.py", "src/pkg/a.py", False),
    ("src/*.py", "src/a.py", True),
    ("src/?.py", "src/ab.py", False),
    # Leading "/" and "./", trailing "/", ".." are cleaned away.
    ("/foo/bar", "foo/bar", True),
    ("/foo/bar", "foo/bar/baz.txt", True),
    ("/foo/bar", "x/foo/bar", False),
    ("./foo", "foo", True),
    ("foo/", "foo/x", True),
    ("a/../b", "b", True),
    ("a/../b", "a/b", False),
    # "." is ignored; nothing can exclude the context root.
    (".", "x", False),
    ("*", ".", False),
    # Character classes (Go filepath.Match), with "^" negation.
    ("file[0-9].txt", "file7.txt", True),
    ("file[0-9].txt", "filex.txt", False),
    ("file[^0-9].txt", "filex.txt", True),
    ("file[^0-9].txt", "file7.txt", False),
    ("file[!0-9].txt", "file!.txt", True),  # "!" is a literal in a class
    ("file[!0-9].txt", "filex.txt", False),
    ("f\\*o", "f*o", True),
    ("f\\*o", "foo", False),
    # Comments only in column 1; whitespace is trimmed.
    ("# .env", ".env", False),
    (" # .env", "# .env", True),
    ("  .env  ", ".env", True),
    # Case-sensitive.
    ("README.md", "readme.md", False),
    # Faithful quirks of patternmatcher's fast paths.
    ("**.env", "sub/prod.env", True),  # suffix match on ".env"
    ("foo**", "foobar/x", True),  # prefix match on "foo"
    ("x^y", "x^y", True),  # exact match compares literally
    ("x^y*", "x^yz", False),  # Docker's regexp reads "^" as an anchor
]


@pytest.mark.parametrize(("text", "path", "expected"), CASES)
def test_is_excluded(text: str, path: str, expected: bool) -> None:
    assert excluded(text, path) is expected


MD_EXCEPT_README = "*.md\n!README*.md\nREADME-secret.md\n"
MD_README_LAST = "*.md\nREADME-secret.md\n!README*.md\n"


@pytest.mark.parametrize(
    ("text", "path", "expected"),
    [
        ("*.md\n!README.md\n", "notes.md", True),
        ("*.md\n!README.md\n", "README.md", False),
        (MD_EXCEPT_README, "README.md", False),
        (MD_EXCEPT_README, "README-secret.md", True),
        (MD_EXCEPT_README, "CHANGES.md", True),
        (MD_README_LAST, "README-secret.md", False),  # the middle line has no effect
        (MD_README_LAST, "CHANGES.md", True),
        # An exception re-includes a file inside an excluded directory.
        (".git\n!.git/HEAD\n", ".git/HEAD", False),
        (".git\n!.git/HEAD\n", ".git/config", True),
        ("*\n!src\n", "src/app.py", False),
        ("*\n!src\n", "docs/a.md", True),
        ("!keep\n", "keep", False),
    ],
)
def test_last_matching_line_decides(text: str, path: str, expected: bool) -> None:
    assert excluded(text, path) is expected


def test_parsed_patterns_keep_lines_and_cleaning() -> None:
    parsed = parse_dockerignore("\ufeff# c\n\n/a/b/\n! ./c\r\n  d\n")
    assert parsed.patterns == [
        IgnorePattern("a/b", False, 3, 1),
        IgnorePattern("c", True, 4, 1),
        IgnorePattern("d", False, 5, 3),
    ]
    assert parsed.problems == []


@pytest.mark.parametrize(
    ("line", "kind"),
    [("!", "empty-exception"), ("! ", "empty-exception"), ("file[0-9", "bad-pattern"),
     ("file[]", "bad-pattern"), ("x[a-]", "bad-pattern"), ("x[z-a]", "bad-pattern"),
     ("foo\\", "bad-pattern"),
     # Passes filepath.Match but Go's regexp rejects the reversed "l-O" range.
     ("[Local-Only]/", "bad-pattern")],
)
def test_invalid_lines_are_problems_and_never_match(line: str, kind: str) -> None:
    parsed = parse_dockerignore(f"other\n{line}\n")
    assert [(p.line, p.kind) for p in parsed.problems] == [(2, kind)]
    assert [p.valid for p in parsed.patterns] == [True, False]
    assert not parsed.is_excluded("file[0-9")
    # Messages never quote the file's content.
    if len(line.strip()) > 1:
        assert all(line.strip() not in p.message for p in parsed.problems)


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("", [".env", ".env.*", ".git"]),
        (".env\n.env.*\n.git\n", []),
        (".env*\n.git/\n", []),
        ("/.env\n/.env.*\n/.git\n", []),
        ("**/.env\n**/.env.*\n**/.git\n", []),
        ("**/.env\n", [".env.*", ".git"]),
        ("*.env\n.git\n", [".env.*"]),
        (".git/*\n.env\n.env.*\n", []),
        ("*\n!src\n", []),
        (".env\n.env.*\n.git\n!.env\n", [".env"]),
        (".env\n.env.*\n.git\n!.git/config\n", [".git"]),
        (".env\n.env.local\n.git\n", [".env.*"]),
        ("# .env\n.git\n", [".env", ".env.*"]),
        ("config/.env\n.git\n", [".env", ".env.*"]),
        (".env\n.env.*\n.git\n!.env.example\n", []),
    ],
)
def test_excludes_sensitive(text: str, missing: list[str]) -> None:
    assert excludes_sensitive(parse_dockerignore(text)) == missing


def test_invalid_line_does_not_count_as_excluding() -> None:
    assert excludes_sensitive(parse_dockerignore(".env[\n.env.*\n.git\n")) == [".env"]


@pytest.mark.parametrize(
    ("context", "dockerfile", "files", "expected"),
    [
        (".", None, {".dockerignore"}, ".dockerignore"),
        (".", None, {"Dockerfile.dockerignore", ".dockerignore"}, "Dockerfile.dockerignore"),
        (".", "build/Dockerfile.koha", {"build/Dockerfile.koha.dockerignore", ".dockerignore"},
         "build/Dockerfile.koha.dockerignore"),
        (".", "build/Dockerfile.koha", {".dockerignore"}, ".dockerignore"),
        ("app", "app/Dockerfile", {".dockerignore"}, None),  # the root file is not the context's
        ("./app/", None, {"app/.dockerignore"}, "app/.dockerignore"),
        ("", None, set(), None),
    ],
)
def test_ignore_file_for(context: str, dockerfile: str | None, files: set[str],
                         expected: str | None) -> None:
    assert ignore_file_for(context, dockerfile, files.__contains__) == expected


@pytest.mark.parametrize(
    ("path", "clean"),
    [("", "."), ("/", "/"), ("a//b/./c/", "a/b/c"), ("a/..", "."), ("../a", "../a"),
     ("/../a", "/a"), ("a/../../b", "../b")],
)
def test_go_clean(path: str, clean: str) -> None:
    assert go_clean(path) == clean


def test_direct_construction() -> None:
    ignore = DockerIgnore([IgnorePattern(".env", False, 1)])
    assert ignore.is_excluded(".env") and not ignore.is_excluded("x")


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300), st.text(max_size=40))
def test_never_raises(text: str, path: str) -> None:
    parsed = parse_dockerignore(text)
    assert parsed.is_excluded(path) in (True, False)
    excludes_sensitive(parsed)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(st.sampled_from(list("ab*?/\\![]^-.")), max_size=25), max_size=8),
       st.text(st.sampled_from(list("ab/.")), max_size=40))
def test_pattern_soup_never_raises(lines: list[str], path: str) -> None:
    assert parse_dockerignore("\n".join(lines)).is_excluded(path) in (True, False)


def test_no_catastrophic_backtracking() -> None:
    text = "/".join(["**"] * 40) + "/x*y*z*q\n" + "*a" * 40 + "b\n"
    path = "/".join(["ab"] * 60) + "/xyzz"
    start = time.perf_counter()
    assert parse_dockerignore(text).is_excluded(path) is False
    assert parse_dockerignore("*a" * 40 + "b").is_excluded("a" * 2000) is False
    assert time.perf_counter() - start < 2.0
