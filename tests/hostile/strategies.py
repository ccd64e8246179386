"""Hypothesis strategies for hostile input: token soups that hit each format's
syntax far more often than random text does, and structure-aware documents
(compose projects, workflows) built as data and written as YAML."""

from __future__ import annotations

import io
import json

from hypothesis import strategies as st

# -- raw text ----------------------------------------------------------------------

ODD_CHARS = ["\x00", "\r", "\r\n", "\t", "\ufeff", "\u2028", "\x85", "\udcff", "\U0001f600", "\\", "\x1b[31m",
             "é", "\u202e", "\v", "\f"]


def soup(tokens: list[str], max_size: int = 60) -> st.SearchStrategy[str]:
    """Text made of format tokens, odd characters and free text."""
    piece = st.one_of(st.sampled_from(tokens), st.sampled_from(ODD_CHARS),
                      st.text(max_size=8), st.integers(-5, 10 ** 6).map(str))
    return st.lists(piece, max_size=max_size).map("".join)


YAML_TOKENS = [
    ": ", ":", "- ", "-", "[", "]", "{", "}", ", ", ",", "&a ", "*a", "&b ", "*b", "<<: ", "<<: *a",
    "!reset ", "!override ", "!!str ", "!!binary ", "!!python/object ", "|", "|-", ">+", "\"", "'", "# c",
    "\n", "\n  ", "\n    ", "\n- ", "  ", "---\n", "...\n", "? ", "%YAML 1.2\n", "%TAG ! tag:x,2000:\n",
    "~", "null", "true", "no", "0x1F", "0o17", "1_000", ".inf", "-.nan", "2026-01-01", "12:30:45",
    "${VAR}", "${VAR:-d}", "${VAR:?err}", "$$", "${", "services", "image", "ports", "environment",
    "volumes", "build", "extends", "include", "x-", "on", "jobs", "steps", "run", "uses",
]
SHELL_TOKENS = [
    " ", "\n", ";", "&&", "||", "|", "&", "$(", ")", "`", "'", "\"", "\\", "<<EOF\n", "\nEOF\n",
    "<<-'X'\n", "\nX\n", "${", "}", "${x:-y}", "$((1+", "))", "[[ ", " ]]", "if ", " then ", " fi",
    "case x in a) ;; esac", "for i in ", "do ", " done", "f() { ", "function g { ", "sh -c ", "bash -c ",
    "eval ", "trap ", "exec ", "sudo ", "env A=1 ", "xargs ", "find . -exec ", " {} \\;",
    "docker exec c ", "docker run ", "curl http://x | sh", "mysqldump ", "set -euo pipefail",
    "# c", "2>&1", ">", ">>", "<", "<(", "x=1 ", "export ", "!", "((", "{a,b}", "*", "~", "#!/bin/sh\n",
]
DOCKERFILE_TOKENS = [
    "FROM ", "FROM --platform=$X ", " AS ", "RUN ", "RUN --mount=type=secret,id=x ", "CMD ", "ENV ",
    "ARG ", "ADD ", "ADD --checksum=sha256:0 ", "COPY ", "COPY --from=0 ", "USER ", "WORKDIR ",
    "EXPOSE ", "HEALTHCHECK ", "HEALTHCHECK NONE", "SHELL [\"/bin/sh\"]", "ONBUILD ", "LABEL ",
    "ENTRYPOINT ", "VOLUME ", "STOPSIGNAL ", "MAINTAINER ", "BOGUS ", "\n", " \\\n", "\\\n", "<<EOF\n",
    "\nEOF\n", "<<-\"E\"\n", "# syntax=docker/dockerfile:1\n", "# escape=`\n", "# escape=\\\n", "`\n",
    "#", "${X}", "${X:-debian}", "$X", "debian:12", "@sha256:", "[\"a\", \"b\"]", "[", "\"", "'", "=", " ",
]
CNF_TOKENS = [
    "[mysqld]", "[mariadb]", "[mariadb-11.4]", "[client-server]", "[", "]", "\n", "!include ", "!includedir ",
    "!include", "/etc/mysql/conf.d/", "log_bin", "log-bin", "=", " = ", "binlog_expire_logs_seconds",
    "expire_logs_days", "skip-log-bin", "loose-", "maximum-", "disable-", "enable-", "\"", "'", "\\",
    "#", ";", " ", "\x00", "datadir=/var/lib/mysql", "1", "0", "ON", "-1", "1e308", "99999999999999999999",
]
CODEOWNERS_TOKENS = [
    "*", "**", "/", "?", "[a-z]", "!", "\\#", "#", " ", "\t", "\n", "@org/team", "@user", "a@b.co", "@",
    "docs/", "/docs", "docs/**", "**/", "*.yml", ".github/workflows/", "\\ ", "\x01",
]
DOCKERIGNORE_TOKENS = [
    "*", "**", "/", "?", "[", "]", "[^a]", "[a-", "\\", "!", "#", " ", "\t", "\n", ".env", ".env.*", ".git",
    "..", ".", "**/*.env", "!.env.example", "a/**/b", "\ufeff", "\r",
]
CRON_TOKENS = ["*", "*/", "/", "-", ",", " ", "\t", "0", "1", "7", "12", "31", "59", "60", "99999999999",
               "jan", "sun", "MON", "@daily", "@reboot", "@every", "?", "L", "W", "#"]
DURATION_TOKENS = ["1", "0", "15", "d", "h", "m", "s", "M", " ", "99999999999999999999", "-", "."]
TIMER_TOKENS = ["[Timer]", "[Unit]", "\n", "OnCalendar=", "OnUnitActiveSec=", "OnBootSec=", "RandomizedDelaySec=",
                "FixedRandomDelay=true", "daily", "weekly", "Mon..Fri", "*-*-* 02:00:00", "*-*-01", "UTC",
                "Europe/Oslo", "~", "..", ",", "/", "1h 30min", "90", "1e9", "\\\n", "#", ";", " "]


# -- structure-aware YAML ------------------------------------------------------------

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-2 ** 40, 2 ** 40), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20), st.sampled_from(["${X}", "${X:-a}", "0.0.0.0:3306:3306", "127.0.0.1:80:80",
                                           "3306", "80-90:80-90", "./data:/var/lib/mysql", "db_data:/x:ro",
                                           "mariadb:11", "nginx@sha256:" + "a" * 64, "latest", "unless-stopped",
                                           "no-new-privileges:true", "ALL", "json-file", "1g", "0.5"]),
)


def values(depth: int = 3) -> st.SearchStrategy:
    return st.recursive(SCALARS, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
        max_leaves=12)


SERVICE_KEYS = ["image", "build", "ports", "expose", "volumes", "environment", "env_file", "command",
                "entrypoint", "user", "privileged", "cap_add", "cap_drop", "security_opt", "read_only",
                "restart", "healthcheck", "logging", "deploy", "mem_limit", "cpus", "pids_limit",
                "networks", "network_mode", "depends_on", "extends", "labels", "secrets", "configs",
                "profiles", "tmpfs", "ulimits", "x-extra", "container_name", "stop_signal"]
TOP_KEYS = ["services", "volumes", "networks", "secrets", "configs", "include", "name", "version", "x-common"]


def service() -> st.SearchStrategy[dict]:
    known = st.dictionaries(st.sampled_from(SERVICE_KEYS), values(), max_size=8)
    return st.one_of(known, st.dictionaries(st.text(max_size=6), values(), max_size=3))


def compose_doc() -> st.SearchStrategy:
    services = st.dictionaries(st.sampled_from(["db", "koha", "web", "mq", "es", "x", ""]) | st.text(max_size=5),
                               service() | values(), max_size=4)
    top = st.fixed_dictionaries({"services": services},
                                optional={k: values() for k in TOP_KEYS if k != "services"})
    return st.one_of(top, values())


STEP_KEYS = ["uses", "run", "with", "env", "name", "id", "shell", "if", "continue-on-error", "working-directory"]
JOB_KEYS = ["runs-on", "steps", "permissions", "env", "needs", "environment", "container", "services",
            "uses", "with", "secrets", "strategy", "if", "concurrency", "defaults", "timeout-minutes"]
ACTIONS = ["actions/checkout@v4", "actions/checkout@" + "b" * 40, "appleboy/ssh-action@v1",
           "docker://alpine:3", "./.github/actions/x", "gitleaks/gitleaks-action@v2",
           "org/repo/.github/workflows/x.yml@main", "", "@", "a/b/c/d@"]


def step() -> st.SearchStrategy[dict]:
    special = {"uses": st.sampled_from(ACTIONS) | st.text(max_size=10),
               "run": st.text(max_size=40) | soup(SHELL_TOKENS, 15),
               "with": st.dictionaries(st.sampled_from(["script", "command", "args", "image"]),
                                       st.text(max_size=30) | soup(SHELL_TOKENS, 10), max_size=3)}
    return st.fixed_dictionaries({}, optional={k: special.get(k, values()) for k in STEP_KEYS})


def workflow_doc() -> st.SearchStrategy:
    job = st.fixed_dictionaries({}, optional={k: (st.lists(step() | values(), max_size=4) if k == "steps"
                                                  else values()) for k in JOB_KEYS})
    on = st.one_of(st.sampled_from(["push", "pull_request", "pull_request_target", "workflow_dispatch"]),
                   st.lists(st.sampled_from(["push", "pull_request", "schedule"]), max_size=3),
                   st.fixed_dictionaries({}, optional={
                       "push": values(), "pull_request": values(),
                       "schedule": st.lists(st.fixed_dictionaries({"cron": soup(CRON_TOKENS, 12)}), max_size=2)}),
                   values())
    top = st.fixed_dictionaries({"on": on, "jobs": st.dictionaries(st.text(min_size=1, max_size=6), job | values(),
                                                                  max_size=3)},
                                optional={"name": values(), "permissions": values(), "env": values(),
                                          "concurrency": values(), "defaults": values()})
    return st.one_of(top, values())


def registry_doc() -> st.SearchStrategy:
    entry = st.fixed_dictionaries({}, optional={
        "name": st.text(max_size=10), "category": st.sampled_from(["database", "smtp", "x"]) | values(),
        "owner": st.sampled_from(["@org/team", "a@b.co", "@"]) | st.text(max_size=6),
        "rotation_period_days": st.integers(-5, 10 ** 12) | values(), "last_rotated": values(),
        "store": values(), "compromised": values(), "compromised_on": values()})
    return st.fixed_dictionaries({}, optional={"version": st.sampled_from([1, 2, "1"]) | values(),
                                               "rotation_runbook": values(),
                                               "secrets": st.lists(entry | values(), max_size=3) | values()})


def policy_doc() -> st.SearchStrategy:
    dur = st.sampled_from(["15m", "1h10m", "24h", "0", "1d12h", "5", "0 3 * * *", "@daily"]) | st.text(max_size=8)
    return st.fixed_dictionaries({}, optional={
        "version": st.sampled_from([1, 2]) | values(), "rpo": dur | values(), "rto": dur | values(),
        "backup": st.fixed_dictionaries({}, optional={"schedule": dur | values(), "retention_days": values(),
                                                      "script": values()}) | values(),
        "restore_test": st.fixed_dictionaries({}, optional={"max_interval_days": values(), "log": values(),
                                                            "script": values()}) | values()})


def restore_log_doc() -> st.SearchStrategy:
    run = st.fixed_dictionaries({}, optional={
        "date": st.sampled_from(["2026-11-01", "2026-02-30", "x"]) | values(),
        "kind": st.sampled_from(["full", "pitr", "x"]), "result": st.sampled_from(["pass", "fail", "x"]),
        "target_time": values(), "measured_rto": values(), "measured_rpo": values(), "evidence": values()})
    return st.lists(run | values(), max_size=4) | values()


# -- writing data as YAML ------------------------------------------------------------

def to_yaml(data: object, style: str) -> str:
    """`data` written as YAML: block style, flow style (JSON, which is YAML), or
    block style with anchors and a merge key thrown in."""
    if style == "flow":
        return json.dumps(data, default=str, allow_nan=False) + "\n"
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    buf = io.StringIO()
    try:
        yaml.dump(data, buf)
    except Exception:  # noqa: BLE001 - a value ruamel will not write: JSON is YAML too
        return json.dumps(data, default=str, allow_nan=False) + "\n"
    text = buf.getvalue()
    if style == "anchors" and isinstance(data, dict) and data:
        text = "x-base: &base\n  restart: always\n  labels: [a]\n" + text.replace(
            "services:\n", "services:\n  anchored:\n    <<: *base\n", 1)
    return text


def yaml_text(doc: st.SearchStrategy) -> st.SearchStrategy[str]:
    return st.tuples(doc, st.sampled_from(["block", "flow", "anchors"])).map(lambda t: to_yaml(*t))


# -- budgets -----------------------------------------------------------------------

PROFILES = {"ci": 100, "nightly": 2000, "dev": 20}


def register_profiles() -> None:
    """`hostile-ci` (the default) is fixed and derandomized: the same examples on
    every run, so a red build is reproducible and the suite keeps its time
    budget. `hostile-nightly` searches twenty times wider with fresh randomness
    on each run; `hostile-dev` is a quick look while editing a parser."""
    from hypothesis import HealthCheck, settings

    common = dict(deadline=None, database=None, print_blob=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                         HealthCheck.filter_too_much])
    for name, examples in PROFILES.items():
        settings.register_profile(f"hostile-{name}", max_examples=examples, derandomize=name == "ci", **common)


def budget(share: int = 1):
    """The hostile profile named by HYPOTHESIS_PROFILE (ci, nightly or dev;
    default ci), with 1/`share` of its examples for costly properties."""
    import os

    from hypothesis import settings

    name = os.environ.get("HYPOTHESIS_PROFILE", "ci").removeprefix("hostile-")
    try:
        base = settings.get_profile(f"hostile-{name if name in PROFILES else 'ci'}")
    except Exception:  # noqa: BLE001 - imported outside pytest: conftest.py did not run
        register_profiles()
        base = settings.get_profile(f"hostile-{name if name in PROFILES else 'ci'}")
    return settings(base, max_examples=max(10, base.max_examples // share))
