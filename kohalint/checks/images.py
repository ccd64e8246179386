"""KL208: the images a deployment runs must be immutable references.

Compose `image:` values are judged after interpolation defaults (the default
in place, then the env template). A value that stays unknown is a deploy-time
decision: it gets a `low` note, since that very value is what the rule is
about. Deploy workflows and deploy scripts are read too: the images their
commands pull or run (`docker pull`, `docker run`, `docker service update
--image`, `kubectl set image`) and the values they give the variables that
compose files use in `image:` (`KOHA_TAG=latest docker compose up`).
"""

from __future__ import annotations

import re
from typing import Iterator

from kohalint.checks.deploy_units import deploy_units
from kohalint.checks.docker_cli import ImageRef, deployed_images, parse_image
from kohalint.context import Context
from kohalint.models import Finding, Severity
from kohalint.rules import check

_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def image_variables(raw: str) -> dict[str, str]:
    """Variables of a compose `image:` and what they hold: image, tag, digest."""
    out: dict[str, str] = {}
    for m in _REF.finditer(raw):
        name = m.group(1) or m.group(2)
        before = raw[m.start() - 1] if m.start() > 0 else ""
        if m.start() == 0 and m.end() == len(raw):
            out[name] = "image"
        elif before == ":":
            out[name] = "tag"
        elif before == "@":
            out[name] = "digest"
    return out


def _unknown(text: str) -> bool:
    return "$" in text or "{{" in text


@check("KL208", "mutable-image-reference", target="repository", reads={"compose", "workflow", "shell", "dotenv"})
def mutable_image_reference(ctx: Context) -> Iterator[Finding]:
    pattern = ctx.settings.runtime.immutable_tag_pattern
    roles: dict[str, str] = {}
    for project in ctx.docs.compose_projects():
        for svc in project.services.values():
            img = svc.image
            if img is None or not img.text().strip():
                continue
            raw = img.raw if img.raw is not None else img.text()
            for name, role in image_variables(raw).items():
                roles.setdefault(name, role)
            if svc.builds and "/" not in (img.text().split("@", 1)[0]):
                continue  # a local name for an image built here; its FROM is KL410's
            if img.unknown:
                yield ctx.at(img, f"service '{svc.name}' image `{raw}` is set at deploy time (no "
                             "default here or in the env template): kohalint cannot tell whether it "
                             "is immutable; make the deployment set a digest or an immutable tag",
                             severity=Severity.low, identity=f"compose|{svc.name}|unknown")
                continue
            ref = parse_image(img.text())
            if ref.immutable(pattern):
                continue
            shown = f"`{img.text()}`" + (f" (from `{raw}`)" if raw != img.text() else "")
            yield ctx.at(img, f"service '{svc.name}' image {shown} {ref.problem()}: what runs can "
                         f"change without a commit; pin `@sha256:<digest>` or an immutable tag "
                         f"(`{pattern}`)", identity=f"compose|{svc.name}")
    for unit in deploy_units(ctx):
        for cmd in unit.commands:
            for image in deployed_images(cmd.argv) or []:
                if not image or _unknown(image):
                    continue
                ref = parse_image(image)
                if ref.immutable(pattern):
                    continue
                yield ctx.finding(unit.path, cmd.line, f"{unit.label} deploys `{image}`, which "
                                  f"{ref.problem()}: deploy by digest (`@sha256:...`) or an immutable "
                                  f"tag (`{pattern}`)", column=cmd.column, identity=f"cmd|{image}")
        for a in unit.assignments:
            role = roles.get(a.name)
            if role not in ("image", "tag") or not a.value or _unknown(a.value):
                continue
            ref = parse_image(a.value) if role == "image" else ImageRef(a.value, "", a.value, None)
            if ref.immutable(pattern):
                continue
            kind = "a movable tag" if ref.tag not in (None, "latest") else f"`{ref.tag or 'latest'}`"
            yield ctx.finding(a.path, a.line, f"{unit.label} sets `{a.name}={a.value}`, the image {role} "
                              f"of a compose service, to {kind}: use a digest or an immutable tag "
                              f"(`{pattern}`)", column=a.column, identity=f"var|{a.name}")
