"""kohalint as a library: scan, read typed findings, add your own rule, emit SARIF.

    python examples/api_example.py [REPOSITORY]

Without an argument it scans the bundled non-compliant Koha deployment next to
this file. docs/api.md walks through it; a test runs it.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import kohalint
from kohalint.rule_catalog import Examples, RuleRecord

# -- 1. A house rule, registered like kohalint's own -------------------------------
# Outside this script, put it in a module and name that module in your package's
# `kohalint.rules` entry point group; kohalint imports it before every scan.
ACME001 = RuleRecord(
    id="ACME001",
    name="image-outside-house-registry",
    area="supply-chain",
    severity="medium",
    summary="A compose service runs an image that does not come from the house registry.",
    rationale="Images from our registry are scanned and signed in our pipeline; others are not.",
    remediation="Mirror the image into ghcr.io/fjordby-library and use that reference.",
    examples=Examples(
        bad=[{"files": {"compose.yaml": "services:\n  web:\n    image: nginx:1.27\n"}}],
        good=[{"files": {"compose.yaml": "services:\n  web:\n    image: ghcr.io/fjordby-library/nginx:1.27\n"}}],
    ),
)
HOUSE_REGISTRY = "ghcr.io/fjordby-library/"


@kohalint.check("ACME001", "image-outside-house-registry", target="compose", record=ACME001)
def image_outside_house_registry(project, ctx):
    """`target="compose"`: called once per merged compose project."""
    for service in project.services.values():
        image = service.image  # a position-keeping scalar, interpolation already applied
        if image is None or image.unknown or image.text().startswith(HOUSE_REGISTRY):
            continue
        yield ctx.at(image, f"service '{service.name}' runs `{image.text()}` from outside "
                     f"{HOUSE_REGISTRY}", identity=service.name)


def main(argv: list[str]) -> int:
    repo = Path(argv[0]) if argv else Path(__file__).resolve().parent / "noncompliant"

    # -- 2. Scan: the same engine, configuration and suppressions as the CLI ------
    report = kohalint.scan(repo, select=["KL4", "ACME001"])
    print(f"{len(report.active)} findings ({len(report.findings) - len(report.active)} suppressed) "
          f"from {len(report.rules_run)} rules over {report.files_scanned} files")

    # -- 3. Findings are pydantic models: filter, count, serialise ---------------
    by_severity = Counter(f.severity.value for f in report.active)
    print("by severity:", ", ".join(f"{sev} {n}" for sev, n in sorted(by_severity.items())))
    for f in report.active:
        if f.rule_id == "ACME001":
            print(f"  {f.location.path}:{f.location.line}: {f.rule_id} {f.message}")
    worst = max(report.active, key=lambda f: f.severity.rank, default=None)
    if worst is not None:
        print("most severe:", json.dumps(worst.model_dump(mode="json", include={"rule_id", "severity",
                                                                                  "location"})))

    # -- 4. SARIF 2.1.0, ready for GitHub code scanning ---------------------------
    sarif = kohalint.to_sarif(report, automation_id="kohalint/api-example")
    rules = [r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]]
    print(f"SARIF: {len(sarif['runs'][0]['results'])} results, rules {rules[0]}..{rules[-1]}")
    return 1 if report.active else 0


if __name__ == "__main__":
    # Exit like `kohalint check`: 1 when there are findings.
    sys.exit(main(sys.argv[1:]))
