"""Every parser and model, on arbitrary input: a model or the one documented
error (ParseError; ValueError for the schedule module), nothing else, and
within a time bound. Budgets: tests/hostile/conftest.py (HYPOTHESIS_PROFILE)."""

from __future__ import annotations

import datetime
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kohalint.errors import ParseError
from tests.hostile import strategies as S
from tests.hostile.clitools import bounded, parse_or_error

pytestmark = pytest.mark.slow

# -- YAML ------------------------------------------------------------------------

def _walk_everything(node) -> None:
    from kohalint.documents.yamldoc import YMap, YScalar, walk

    for n in walk(node):
        assert n.line >= 1 and n.column >= 1
        if isinstance(n, YScalar):
            n.text()
        elif isinstance(n, YMap):
            for k in n.keys():
                n.key_node(k), n.get_text(k)
    node.plain()


@S.budget()
@given(st.one_of(S.soup(S.YAML_TOKENS), st.text(max_size=200)))
def test_yaml_text_loads_or_is_a_parse_error(text):
    from kohalint.documents.yamldoc import load_yaml

    node = parse_or_error(load_yaml, text, "compose.yaml")
    if node is not None:
        bounded(_walk_everything, node)


@S.budget()
@given(S.yaml_text(S.values()))
def test_yaml_written_from_data_reads_back_the_same_data(text):
    from kohalint.documents.yamldoc import load_yaml

    from ruamel.yaml import YAML

    expected = YAML(typ="safe", pure=True).load(text)
    node = bounded(load_yaml, text, "x.yaml")
    assert (node.plain() if node is not None else None) == expected


def _true_flow_depth(text: str) -> int:
    from ruamel.yaml import YAML

    depth = deepest = 0
    for tok in YAML(typ="rt").scan(io.StringIO(text)):
        name = type(tok).__name__
        if name in ("FlowSequenceStartToken", "FlowMappingStartToken"):
            depth += 1
            deepest = max(deepest, depth)
        elif name in ("FlowSequenceEndToken", "FlowMappingEndToken"):
            depth -= 1
    return deepest


@S.budget()
@given(S.yaml_text(S.compose_doc()) | S.yaml_text(S.workflow_doc()), st.integers(0, 4))
def test_nesting_prescan_never_refuses_what_ruamel_nests_within_the_limit(text, limit):
    from kohalint.documents.yamldoc import _flow_too_deep

    padded = text + "# " + "[{" * 300 + "\n"  # past the fast path: the scanner itself runs
    if _true_flow_depth(text) <= limit:
        assert _flow_too_deep(padded, limit) is None


# -- compose -----------------------------------------------------------------------

def _exercise_project(project) -> None:
    _ = project.name, project.directory, dict(project.volumes)
    for svc in project.services.values():
        _ = svc.path, svc.line, svc.image, svc.builds, svc.build_context()
        for key in S.SERVICE_KEYS:
            svc.text(key), svc.key_line(key)
        for port in svc.ports():
            _ = port.loopback, port.host_ports, port.line
        for mount in svc.mounts():
            _ = mount.source, mount.target


def _build(files: dict[str, str], env: dict[str, str]):
    from kohalint.documents.compose import ProjectBuilder, discover_projects
    from kohalint.documents.yamldoc import load_yaml

    def load(path):
        return load_yaml(files[path], path) if path in files else None

    builder = ProjectBuilder(load, lambda _p: env)
    for group in discover_projects(sorted(files)):
        project = parse_or_error(builder.build, group)
        if project is not None:
            _exercise_project(project)


@S.budget(2)
@given(st.lists(S.yaml_text(S.compose_doc()), min_size=1, max_size=3),
       st.dictionaries(st.sampled_from(["X", "VAR", "TAG"]), st.text(max_size=10), max_size=3))
def test_compose_projects_build_or_are_a_parse_error(texts, env):
    names = ["compose.yaml", "compose.override.yaml", "docker-compose.prod.yml"]
    files = dict(zip(names, texts))
    files.setdefault("other.yaml", "include: [compose.yaml]\nservices: {o: {image: x}}\n")
    try:
        bounded(_build, files, env)
    except ParseError:
        pass  # a file that does not load


@S.budget()
@given(S.soup(S.YAML_TOKENS))
def test_compose_from_raw_text(text):
    try:
        bounded(_build, {"compose.yaml": text, "compose.override.yaml": "services:\n  a:\n    <<: {}\n"}, {})
    except ParseError:
        pass


@S.budget()
@given(st.text(max_size=60), st.dictionaries(st.sampled_from(["A", "B", "C"]), st.text(max_size=8)))
def test_interpolation_and_env_templates(text, env):
    from kohalint.documents.interpolate import interpolate, parse_env_template

    value, unknown = bounded(interpolate, text, env)
    assert isinstance(value, str) and isinstance(unknown, bool)
    bounded(parse_env_template, text)


# -- workflows ----------------------------------------------------------------------

def _exercise_workflow(wf) -> None:
    wf.schedules(), wf.is_deploy(), wf.has_trigger("push")
    for job in wf.jobs:
        _ = job.line, wf.job(job.id)
        for step in job.steps:
            _ = step.action, step.scripts(), step.input_text("script"), wf.step_env(job, step)
            for node in step.scripts():
                wf.script_offset(node)
    for job, step, cmd in wf.commands():
        assert cmd.line >= 1


@S.budget(2)
@given(S.yaml_text(S.workflow_doc()) | S.soup(S.YAML_TOKENS + S.SHELL_TOKENS))
def test_workflows_parse_or_are_a_parse_error(text):
    from kohalint.documents.workflow import parse_workflow

    wf = parse_or_error(parse_workflow, text, ".github/workflows/ci.yml")
    if wf is not None:
        bounded(_exercise_workflow, wf)


# -- Dockerfiles and shell ------------------------------------------------------------

@S.budget()
@given(S.soup(S.DOCKERFILE_TOKENS, 80))
def test_dockerfiles_parse_or_are_a_parse_error(text):
    from kohalint.documents.dockerfile import parse_dockerfile

    df = parse_or_error(parse_dockerfile, text, "Dockerfile")
    if df is None:
        return
    _ = df.final_stage, df.stage_names()
    for ins in df.instructions:
        assert 1 <= ins.line <= ins.end_line
        _ = ins.flags, ins.body
    for stage in df.stages:
        _ = stage.base_resolved, stage.base_unknown


@S.budget()
@given(S.soup(S.SHELL_TOKENS, 80), st.integers(0, 500))
def test_shell_scripts_never_raise(text, offset):
    from kohalint.documents.shell import parse_shell

    script = bounded(parse_shell, text, line_offset=offset)
    for cmd in script.commands:
        assert cmd.line >= 1 + offset or script.degraded
        _ = cmd.basename, cmd.args
    script.calls("docker"), script.has_call("sh")


# -- option files, CODEOWNERS, .dockerignore --------------------------------------------

@S.budget()
@given(S.soup(S.CNF_TOKENS, 60), st.dictionaries(st.sampled_from(["/etc/my.cnf", "/etc/mysql/conf.d/a.cnf",
                                                                  "/a.cnf"]), S.soup(S.CNF_TOKENS, 20)))
def test_option_files_parse_or_are_a_parse_error(text, others):
    from kohalint.documents import mycnf

    parse_or_error(mycnf.parse_option_file, text, "my.cnf")
    files = {"/etc/mysql/my.cnf": text, **others}

    def listing(path):
        names = sorted(p.rsplit("/", 1)[1] for p in files if p.rsplit("/", 1)[0] == path.rstrip("/"))
        return names or None

    read, list_dir = mycnf.with_official_image(files.get, listing)
    opts = bounded(mycnf.resolve_server_options, "/etc/mysql/my.cnf", read, list_dir, version="11.4")
    for helper in (mycnf.is_binlog_on, mycnf.binlog_retention_seconds, mycnf.log_bin_basename,
                   mycnf.log_bin_index_path, mycnf.binlog_in_datadir, mycnf.datadir):
        bounded(helper, opts)


PATHS = st.lists(st.text(st.sampled_from(list("ab/.*?")), max_size=30), max_size=4)


@S.budget()
@given(S.soup(S.CODEOWNERS_TOKENS, 80), PATHS)
def test_codeowners_never_raise_and_match_in_bounded_time(text, paths):
    from kohalint.documents.codeowners import parse_codeowners, pattern_matches

    owners = bounded(parse_codeowners, text)
    for path in paths + ["a/" * 40 + "b"]:
        bounded(owners.owners_for, path)
        for rule in owners.rules[:5]:
            bounded(pattern_matches, rule.pattern, path)


@S.budget()
@given(S.soup(S.DOCKERIGNORE_TOKENS, 80), PATHS)
def test_dockerignore_never_raises_and_matches_in_bounded_time(text, paths):
    from kohalint.documents.dockerignore import excludes_sensitive, ignore_file_for, parse_dockerignore

    ignore = bounded(parse_dockerignore, text)
    bounded(excludes_sensitive, ignore)
    for path in paths + ["a/" * 40 + "b"]:
        bounded(ignore.is_excluded, path)
        bounded(ignore_file_for, path or ".", None, lambda p: p.endswith(".dockerignore"))


# -- schedules (documented error: ValueError) --------------------------------------------

@S.budget()
@given(S.soup(S.CRON_TOKENS, 12))
def test_cron_expressions(text):
    from kohalint.schedule import longest_gap, parse_cron

    expr = parse_or_error(parse_cron, text, error=ValueError)
    if expr is not None:
        gap = bounded(longest_gap, expr)
        assert gap is None or gap > datetime.timedelta(0)


@S.budget()
@given(S.soup(S.CRON_TOKENS + ["\n", "MAILTO=x\n", " root ", " /bin/true"], 40), st.booleans())
def test_crontabs_never_raise(text, system):
    from kohalint.schedule import parse_crontab

    tab = bounded(parse_crontab, text, system=system)
    assert all(entry.line >= 1 for entry in tab) and all(line >= 1 for line, _ in tab.errors)


@S.budget()
@given(S.soup(S.DURATION_TOKENS, 10))
def test_durations(text):
    from kohalint.schedule import format_duration, parse_duration

    td = parse_or_error(parse_duration, text, error=ValueError)
    if td is not None:
        assert bounded(parse_duration, format_duration(td)) == td


@S.budget()
@given(S.soup(S.TIMER_TOKENS, 40))
def test_systemd_timers_never_raise(text):
    from kohalint.schedule import parse_systemd_calendar, parse_timespan, timer_longest_gap

    bounded(timer_longest_gap, text)
    for line in text.split("\n")[:5]:
        bounded(parse_systemd_calendar, line)
        bounded(parse_timespan, line)
