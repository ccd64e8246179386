"""kohalint: the go-live compliance scanner for dockerized Koha deployments.

The public API is what this module exports; everything else may move.

    import kohalint
    report = kohalint.scan("path/to/repo", select=["KL4"])
    for f in report.findings:
        print(f.rule_id, f.location.path, f.location.line)
    kohalint.to_sarif(report)          # a dict, valid SARIF 2.1.0
"""

from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any, Iterable, Optional, Union

if TYPE_CHECKING:  # keep `import kohalint` cheap: pre-commit pays it on every commit
    import datetime
    from os import PathLike

    from kohalint.config import Settings
    from kohalint.models import Finding, Location, Report, Severity

__all__ = ["__version__", "scan", "to_sarif", "Settings", "Report", "Finding", "Location",
           "Severity", "check"]


def scan(path: Union[str, "PathLike[str]"] = ".", *, select: Optional[Iterable[str]] = None,
         ignore: Optional[Iterable[str]] = None, config: Union[None, dict, "Settings", str] = None,
         files: Optional[Iterable[str]] = None, today: Optional["datetime.date"] = None,
         inline_suppressions: bool = True) -> "Report":
    """Scan the repository at `path` and return a typed `Report`.

    `config` is a Settings object, a mapping shaped like `.kohalint.yaml`, or a
    path to such a file; None reads `.kohalint.yaml` at `path` if present.
    `files` limits per-file rules to those files (pre-commit mode).
    """
    from pathlib import Path

    from kohalint.config import Settings, load_settings, settings_from_mapping
    from kohalint.engine import run_scan

    root = Path(path)
    overrides: dict[str, Any] = {}
    if select is not None:
        overrides["select"] = list(select)
    if ignore is not None:
        overrides["ignore"] = list(ignore)
    if isinstance(config, Settings):
        settings = config.model_copy(update={k.replace("-", "_"): v for k, v in overrides.items()})
    elif isinstance(config, dict):
        settings = settings_from_mapping({**config, **overrides}, "config")
    else:
        settings = load_settings(root, Path(config) if config else None, overrides)
    return run_scan(root, settings, only_files=files, today=today,
                    inline_suppressions=inline_suppressions)


def to_sarif(report: "Report", automation_id: Optional[str] = None) -> dict:
    """The report as a SARIF 2.1.0 log (a dict ready for json.dump)."""
    from kohalint.reporters.sarif import to_sarif as _to_sarif

    return _to_sarif(report, automation_id=automation_id)


def __getattr__(name: str) -> Any:
    # Lazy re-exports: pydantic models cost ~70 ms to import.
    if name in ("Report", "Finding", "Location", "Severity"):
        from kohalint import models
        return getattr(models, name)
    if name == "Settings":
        from kohalint.config import Settings
        return Settings
    if name == "check":
        from kohalint.rules import check
        return check
    raise AttributeError(name)
