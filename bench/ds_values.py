"""Run inside detect-secrets' own virtualenv: what `detect-secrets scan` finds
in the current directory, with the values, as JSON lines on stdout.

`detect-secrets scan` prints only SHA-1 digests; comparing with KL101 (whose
identity is a value's SHA-256) and sorting the differences into placeholders,
encrypted values, checksums and UUIDs needs the values themselves. They stay
in `bench/out/` (gitignored); the report shows only counts.

Same files (git-tracked), same default plugins and filters as the command.
"""

from __future__ import annotations

import json
import sys

from detect_secrets.core.secrets_collection import SecretsCollection
from detect_secrets.core.scan import get_files_to_scan
from detect_secrets.settings import default_settings


def main() -> int:
    with default_settings():
        collection = SecretsCollection(root=".")
        collection.scan_files(*get_files_to_scan(".", should_scan_all_files=False, root="."))
        for filename, secrets in sorted(collection.data.items()):
            for s in sorted(secrets, key=lambda s: (s.line_number, s.type)):
                sys.stdout.write(json.dumps({"file": filename, "line": s.line_number, "type": s.type,
                                             "value": s.secret_value}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
