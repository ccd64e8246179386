"""What a docker / podman / compose command line does, read from its argv.

Shared by the delivery and supply-chain rules: which image a `docker run`
starts, whether a command pushes an image or pulls/deploys one. Only argv is
read; nothing is executed. Image references are parsed here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional


DOCKER_LIKE = ("docker", "podman", "nerdctl")
COMPOSE_LIKE = ("docker-compose", "podman-compose")
_DIGEST = re.compile(r"@sha256:[0-9a-fA-F]{64}$")
_SERVICE_OPTS = ("ceglmpuw", frozenset({
    "config", "constraint", "container-label", "dns", "endpoint-mode", "entrypoint", "env",
    "env-file", "generic-resource", "group", "health-cmd", "host", "hostname", "image",
    "label", "limit-cpu", "limit-memory", "log-driver", "log-opt", "mode", "mount", "name",
    "network", "placement-pref", "publish", "replicas", "reserve-cpu", "reserve-memory",
    "restart-condition", "secret", "stop-signal", "update-delay", "update-order", "user",
    "workdir", "args", "rollback-order", "update-parallelism", "update-failure-action"}))


@dataclass(frozen=True)
class ImageRef:
    text: str
    name: str
    tag: Optional[str]
    digest: Optional[str]

    @property
    def unknown(self) -> bool:
        """Holds a variable or an expression only known when it runs."""
        return "$" in self.text or "{{" in self.text

    def immutable(self, tag_pattern: str) -> bool:
        if self.digest:
            return True
        return bool(self.tag) and re.fullmatch(tag_pattern, self.tag or "") is not None

    def problem(self) -> str:
        """Why the reference is mutable, for a message."""
        if self.tag is None:
            return "has no tag (that means :latest)"
        if self.tag == "latest":
            return "uses :latest"
        return f"uses the movable tag :{self.tag}"


def parse_image(text: str) -> ImageRef:
    ref = text.strip()
    if ref.startswith("docker://"):
        ref = ref[len("docker://"):]
    digest = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
    last = ref.rsplit("/", 1)
    tag = None
    if ":" in last[-1]:
        name_part, tag = last[-1].rsplit(":", 1)
        ref = (last[0] + "/" + name_part) if len(last) == 2 else name_part
    return ImageRef(text.strip(), ref, tag or None, digest)


def has_digest(text: str) -> bool:
    return bool(_DIGEST.search(text.strip()))


def image_basename(text: str) -> str:
    """`ghcr.io/gitleaks/gitleaks:v8@sha256:..` -> `gitleaks/gitleaks` (last two parts)."""
    name = parse_image(text).name.lower()
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    return "/".join(parts[-2:]) if len(parts) >= 2 else "library/" + parts[0]


def docker_sub(argv: tuple[str, ...]) -> tuple[str, list[str]]:
    """(`run` | `push` | `compose up` | `buildx build` | ..., the words after it).

    '' when the command is not a docker-like CLI.
    """
    # The shell adapter's option tables (which options take a value); imported
    # here so loading the check modules stays cheap for a compose-only run.
    from kohalint.documents.shell_resolve import _DOCKER_GLOBAL, skip_options

    if not argv:
        return "", []
    name = argv[0].rsplit("/", 1)[-1]
    args = list(argv[1:])
    if name in COMPOSE_LIKE:
        return _compose_sub(args, 0)
    if name not in DOCKER_LIKE:
        return "", []
    i, _ = skip_options(args, 0, *_DOCKER_GLOBAL)
    if i >= len(args):
        return "", []
    sub = args[i]
    if sub in ("container", "image", "service", "stack", "buildx", "builder", "manifest") \
            and i + 1 < len(args):
        second = args[i + 1]
        if sub in ("container", "image"):
            return second, args[i + 2:]
        return f"{sub} {second}", args[i + 2:]
    if sub == "compose":
        return _compose_sub(args, i + 1)
    return sub, args[i + 1:]


def _compose_sub(args: list[str], i: int) -> tuple[str, list[str]]:
    from kohalint.documents.shell_resolve import _COMPOSE_GLOBAL, skip_options

    i, _ = skip_options(args, i, *_COMPOSE_GLOBAL)
    if i >= len(args):
        return "compose", []
    return f"compose {args[i]}", args[i + 1:]


def run_image(argv: tuple[str, ...]) -> Optional[tuple[str, list[str]]]:
    """(image, its arguments) for `docker run` / `docker create`."""
    from kohalint.documents.shell_resolve import _DOCKER_RUN, skip_options

    sub, rest = docker_sub(argv)
    if sub not in ("run", "create"):
        return None
    i, _ = skip_options(rest, 0, *_DOCKER_RUN)
    if i >= len(rest):
        return None
    return rest[i], rest[i + 1:]


def deployed_images(argv: tuple[str, ...]) -> Optional[list[str]]:
    """Images a command pulls or starts; None when it does not deploy anything.

    `docker compose pull/up` deploys the images named in compose files: it
    returns [] (the images are judged where compose names them).
    """
    sub, rest = docker_sub(argv)
    if sub == "pull":
        from kohalint.documents.shell_resolve import skip_options

        i, _ = skip_options(rest, 0, "", frozenset({"platform"}))
        return rest[i:i + 1]
    if sub in ("run", "create"):
        found = run_image(argv)
        return [found[0]] if found else []
    if sub in ("service create", "service update"):
        images = [rest[k + 1] for k, w in enumerate(rest[:-1]) if w == "--image"]
        images += [w.split("=", 1)[1] for w in rest if w.startswith("--image=")]
        if sub == "service create":
            from kohalint.documents.shell_resolve import skip_options

            i, _ = skip_options(rest, 0, *_SERVICE_OPTS)
            if i < len(rest):
                images.append(rest[i])
        return images
    if sub in ("stack deploy", "compose pull", "compose up", "compose create", "compose run"):
        return []
    name = argv[0].rsplit("/", 1)[-1] if argv else ""
    if name in ("kubectl", "oc") and argv[1:3] == ("set", "image"):
        return [w.split("=", 1)[1] for w in argv[3:] if "=" in w and not w.startswith("-")]
    return None


_PUSH_OUTPUT = re.compile(r"(?:^|,)(?:type=registry|push=true)(?:,|$)")


def pushes(argv: tuple[str, ...]) -> bool:
    """The command publishes an image to a registry."""
    if not argv:
        return False
    name = argv[0].rsplit("/", 1)[-1]
    if name in ("buildah",) and argv[1:2] == ("push",):
        return True
    if name == "crane" and argv[1:2] in (("push",), ("copy",), ("cp",)):
        return True
    if name == "skopeo" and argv[1:2] == ("copy",):
        return True
    if name == "ko" and argv[1:2] in (("build",), ("publish",), ("resolve",), ("apply",)):
        return "--push=false" not in argv
    sub, rest = docker_sub(argv)
    if sub in ("push", "compose push", "manifest push"):
        return True
    if sub in ("build", "buildx build", "builder build", "buildx bake"):
        for k, w in enumerate(rest):
            if w == "--push" or w == "--push=true":
                return True
            value = None
            if w in ("-o", "--output") and k + 1 < len(rest):
                value = rest[k + 1]
            elif w.startswith("--output="):
                value = w.split("=", 1)[1]
            elif w.startswith("-o") and len(w) > 2:
                value = w[2:]
            if value and _PUSH_OUTPUT.search(value):
                return True
    return False


def option_values(words: list[str], *names: str) -> list[str]:
    """Values of `--name value` / `--name=value` options among `words`."""
    out = []
    for k, w in enumerate(words):
        for n in names:
            if w == n and k + 1 < len(words):
                out.append(words[k + 1])
            elif w.startswith(n + "="):
                out.append(w.split("=", 1)[1])
    return out
