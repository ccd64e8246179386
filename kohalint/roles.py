"""Which roles a repository plays, so absence rules fire only where they belong.

Teams often split a build repository (Dockerfile, build workflow) from a
deployment repository (compose, scripts, monitoring). "No metrics exporter" or
"no backup script" means nothing in the first, so rules about the absence of
runtime, observability or recovery pieces ask `plays_deployment_role` first.
A compose project is what makes a repository a deployment repository; the
`areas:` setting overrides that guess in both directions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Optional

from kohalint.models import Area
from kohalint.repository import classify

if TYPE_CHECKING:
    from kohalint.config import Settings
    from kohalint.context import Context

DEPLOYMENT_AREAS = frozenset({Area.runtime, Area.observability, Area.recovery})
BUILD_AREAS = frozenset({Area.security, Area.delivery, Area.supply_chain})


def has_compose_files(files: Iterable[str]) -> bool:
    return any("compose" in classify(p) for p in files)


def deployment_role(files: Iterable[str], settings: "Settings", area: Optional[Area] = None) -> bool:
    """Does a repository with these files play the deployment role (for `area`)?

    With `areas:` configured the answer is whether it lists `area` (or, without
    an area, any deployment area); otherwise whether there is a compose file.
    """
    if settings.areas is not None:
        wanted = {area} if area is not None else DEPLOYMENT_AREAS
        return bool(set(settings.areas) & wanted)
    return has_compose_files(files)


def plays_deployment_role(ctx: "Context", area: Optional[Area] = None) -> bool:
    """The check-side question: should an absence about `area` be reported here?"""
    return deployment_role(ctx.repo.files, ctx.settings, area)


def area_applies(area: Area, files: Iterable[str], settings: "Settings") -> tuple[bool, str]:
    """Whether the gate judges `area` for this repository, and why not when it does not.

    Build areas always apply. Runtime applies to a deployment repository and to
    any repository with a Dockerfile (its image rules); observability and
    recovery only to a deployment repository.
    """
    if settings.areas is not None:
        if area in settings.areas:
            return True, ""
        return False, "not in the configured `areas`"
    if area in BUILD_AREAS or area == Area.engine:
        return True, ""
    files = list(files)
    if has_compose_files(files):
        return True, ""
    if area == Area.runtime and any("dockerfile" in classify(p) for p in files):
        return True, ""
    return False, "no compose project: a build repository"
