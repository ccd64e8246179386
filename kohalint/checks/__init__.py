"""Check functions, grouped by the document they read.

`compose` checks get a merged `ComposeProject`, `dockerfile` checks a
`Dockerfile`, `workflow` checks a `Workflow`, `shell` checks a `ShellFile`,
`text` checks a `TextFile`, and `repository` checks only the `Context`.
The engine rules (KL001-KL003) are produced by the engine itself.
"""

from kohalint.rules import check

check("KL001", "parse-error", target="engine")(None)
check("KL002", "unused-suppression", target="engine")(None)
check("KL003", "internal-error", target="engine")(None)
