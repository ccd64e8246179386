"""`docs/rules/KLxxx.md` generated from the catalog (and `kohalint explain`).

Run `python -m kohalint.docs_gen` after editing `rules/`; a test fails when
the committed pages differ from what this writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kohalint.rule_catalog import RuleRecord, load_all


def rule_markdown(meta: RuleRecord) -> str:
    out = [f"# {meta.id} {meta.name}", "",
           f"**Area:** {meta.area.title} · **Severity:** {meta.severity.value} · "
           f"**Confidence:** {meta.confidence} · **Fixable:** {'yes' if meta.fixable else 'no'}", "",
           meta.summary.strip(), "", "## Why it matters", "", meta.rationale.strip(), "",
           "## How to fix", "", meta.remediation.strip(), ""]
    if meta.options:
        out += ["## Options (`.kohalint.yaml`)", ""]
        out += [f"- `{k}`: {v}" for k, v in sorted(meta.options.items())]
        out.append("")
    for kind, title in (("bad", "Flagged"), ("good", "Not flagged")):
        out += [f"## {title}", ""]
        for ex in getattr(meta.examples, kind):
            if ex.description:
                out += [ex.description.strip(), ""]
            for path, text in ex.files.items():
                out += [f"`{path}`", "", "```" + _lang(path), text.rstrip("\n"), "```", ""]
    if meta.references:
        out += ["## References", ""] + [f"- {r}" for r in meta.references] + [""]
    return "\n".join(out)


def _lang(path: str) -> str:
    name = Path(path).name.lower()
    if name.endswith((".yml", ".yaml")):
        return "yaml"
    if name.startswith("dockerfile"):
        return "dockerfile"
    if name.endswith(".sh"):
        return "sh"
    if name.endswith(".json"):
        return "json"
    if name.endswith((".cnf", ".ini")):
        return "ini"
    return ""


def index_markdown(records: list[RuleRecord]) -> str:
    out = ["# Rules", "", "Generated from `rules/` by `python -m kohalint.docs_gen`.", "",
           "| Code | Name | Area | Severity | Summary |", "|---|---|---|---|---|"]
    for r in records:
        out.append(f"| [{r.id}]({r.id}.md) | {r.name} | {r.area.title} | {r.severity.value} | {r.summary} |")
    return "\n".join(out) + "\n"


def expected_pages() -> dict[str, str]:
    records = load_all()
    pages = {f"{r.id}.md": rule_markdown(r) for r in records}
    pages["README.md"] = index_markdown(records)
    return pages


def main(out_dir: str = "docs/rules") -> int:
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    pages = expected_pages()
    for old in target.glob("*.md"):
        if old.name not in pages:
            old.unlink()
    for name, text in pages.items():
        (target / name).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
