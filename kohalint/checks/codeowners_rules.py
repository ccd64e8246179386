"""CODEOWNERS rules (KL205, KL206), judged the way GitHub reads the file.

GitHub uses the first of `.github/CODEOWNERS`, `CODEOWNERS`, `docs/CODEOWNERS`
that exists (even an empty one), skips lines it cannot parse, and lets the
last matching line win, so an ownerless line further down removes ownership.
Coverage is checked for every critical file in the repository and for a new
file placed in each critical folder, because a rule like
`/.github/workflows/ci.yml @team` protects today's workflow but not the next one.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from typing import Iterator, Optional

from kohalint.context import Context
from kohalint.documents.codeowners import (CODEOWNERS_LOCATIONS, Codeowners, OwnerRule,
                                           choose_codeowners, is_loadable_size, parse_codeowners)
from kohalint.globs import glob_match
from kohalint.models import Finding
from kohalint.rules import check

_WILD = ("*", "?", "[")
_SHOWN = 3


def _active(ctx: Context) -> tuple[Optional[str], list[str], Optional[Codeowners]]:
    existing = [loc for loc in CODEOWNERS_LOCATIONS if ctx.repo.exists(loc)]
    active, dead = choose_codeowners(existing)
    if active is None:
        return None, [], None
    text = ctx.repo.read_text(active)
    return active, dead, parse_codeowners(text) if text is not None else None


@check("KL205", "codeowners-invalid", target="repository", reads={"codeowners"})
def codeowners_invalid(ctx: Context) -> Iterator[Finding]:
    active, dead, parsed = _active(ctx)
    if active is None:
        yield ctx.finding(".github/CODEOWNERS", 1, "no CODEOWNERS file (GitHub looks in .github/, the "
                          "repository root and docs/): add .github/CODEOWNERS so changes to workflows, "
                          "Dockerfiles and setup scripts need an owner's review", identity="missing")
        return
    if parsed is None:
        return  # unreadable (too large for kohalint, binary): a note says so
    text = ctx.repo.read_text(active) or ""
    if not is_loadable_size(len(text.encode("utf-8"))):
        yield ctx.finding(active, 1, f"{active} is 3 MB or larger: GitHub does not load it, so no "
                          "path has an owner", identity="too-large")
    if dead and not parsed.rules:
        yield ctx.finding(active, 1, f"{active} has no rules, but GitHub stops at the first CODEOWNERS "
                          f"file it finds: {', '.join(dead)} is ignored and nothing has an owner; move "
                          f"the rules here", identity="empty-shadow")
    for path in dead:
        yield ctx.finding(path, 1, f"GitHub uses {active} and ignores this file (it reads only the "
                          f"first of {', '.join(CODEOWNERS_LOCATIONS)}): merge its rules into {active} "
                          "and delete it", identity=f"dead|{path}")
    for problem in parsed.problems:
        yield ctx.finding(active, problem.line, problem.message, column=problem.column)


@check("KL206", "codeowners-coverage", target="repository",
       reads={"codeowners", "workflow", "dockerfile", "shell"})
def codeowners_coverage(ctx: Context) -> Iterator[Finding]:
    active, _dead, parsed = _active(ctx)
    if active is None or parsed is None:
        return  # KL205 reports the missing file
    globs = [g for g in ctx.settings.delivery.critical_paths if g.strip()]
    # (glob, responsible rule or None) -> (existing paths, new-file probes)
    gaps: dict[tuple[str, Optional[OwnerRule]], tuple[list[str], list[str]]] = {}
    claimed: set[str] = set()
    for glob in globs:
        matches = [p for p in ctx.repo.files if p not in claimed and glob_match(glob, p)]
        claimed.update(matches)
        probes = [p for p in probes_for(glob, matches, ctx.repo.files)
                  if p not in ctx.repo and p not in claimed]
        for path, is_probe in [(m, False) for m in matches] + [(p, True) for p in probes]:
            rule = parsed.owner_rule_for(path)
            if rule is not None and rule.owners:
                continue
            files, new = gaps.setdefault((glob, rule), ([], []))
            (new if is_probe else files).append(path)
    for (glob, rule), (files, new) in gaps.items():
        listing = _listing(files, new)
        if rule is not None:
            yield ctx.finding(active, rule.line, f"`{rule.pattern}` has no owners and is the last "
                              f"matching line for {listing} (critical: `{glob}`); GitHub's last match "
                              "wins, so nobody has to review changes there: give the line owners or "
                              "remove it", column=rule.column, identity=f"{glob}|{rule.pattern}")
        else:
            yield ctx.finding(active, 1, f"no line of {active} matches {listing} (critical: `{glob}`), "
                              f"so nobody has to review changes there: add e.g. `{_suggest(glob, files)} "
                              "@org/team`", identity=f"{glob}|unmatched")


def _listing(files: list[str], new: list[str]) -> str:
    parts = [f"`{f}`" for f in files[:_SHOWN]]
    if len(files) > _SHOWN:
        parts.append(f"{len(files) - _SHOWN} more")
    if new:
        parts.append(f"a new file such as `{new[0]}`")
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


def _suggest(glob: str, files: list[str]) -> str:
    if files and not any(w in glob for w in _WILD):
        return "/" + files[0]  # a literal name: point at the file itself
    body = glob.strip().lstrip("/")
    while body.startswith("**/"):
        body = body[3:]
    if body.endswith("/**"):
        return "/" + body[:-2]
    return ("/" + body) if "/" in body.rstrip("/") and not body.startswith("**") else body


def probes_for(glob: str, matches: list[str], files: list[str] = ()) -> list[str]:  # type: ignore[assignment]
    """New files a critical glob would cover: one at its base folder and one in
    each folder that already holds a match (`docker/Dockerfile-new`).

    Only where such files can land: the repository root, a folder that
    exists, or a folder that already holds a match."""
    segs = [s for s in glob.strip().lstrip("./").strip("/").split("/") if s]
    while segs and segs[0] == "**":
        segs.pop(0)
    if not segs or not any(w in s for s in segs for w in _WILD):
        return []  # a literal path: only the real file counts
    anchored = "/" in glob.strip().strip("/") and not glob.strip().lstrip("/").startswith("**")
    literal = "/".join(s for s in segs[:-1] if not any(w in s for w in _WILD) and s != "**")
    if literal and not matches and not any(f.startswith(literal + "/") for f in files):
        return []
    out: list[str] = []
    if segs[-1] == "**":
        base = "/".join(_fill(s) for s in segs[:-1] if s != "**")
        folders = {base} | {posixpath.dirname(m) for m in matches}
        for folder in sorted(folders):
            ext = _common_ext([m for m in matches if posixpath.dirname(m) == folder]) or (
                ".yml" if folder.endswith(".github/workflows") else "")
            out.append(posixpath.join(folder, "new-file" + ext))
    else:
        name = _fill(segs[-1])
        base = "/".join(_fill(s) for s in segs[:-1] if s != "**")
        folders = {base} if anchored else {base} | {posixpath.dirname(m) for m in matches}
        out = [posixpath.join(folder, name) for folder in sorted(folders)]
    return [p for p in dict.fromkeys(out) if glob_match(glob, p)]


def _fill(segment: str) -> str:
    if segment in ("*", "**"):
        return "new"
    out = segment.replace("*", "-new").replace("?", "x")
    return out.lstrip("-") or "new"


def _common_ext(paths: list[str]) -> str:
    exts = Counter(posixpath.splitext(p)[1] for p in paths if posixpath.splitext(p)[1])
    return exts.most_common(1)[0][0] if exts else ""
