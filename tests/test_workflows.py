"""The workflow model and the workflow rules (KL201-KL204, KL207-KL209) beyond
the catalog examples."""

from __future__ import annotations

import textwrap

import pytest

import kohalint
from kohalint.checks.workflow_tools import command_checks, context_satisfies
from kohalint.documents.workflow import parse_workflow
from tests.conftest import triples

SHA = "0123456789abcdef0123456789abcdef01234567"
DIGEST = "sha256:" + "ab" * 32
WF = ".github/workflows/ci.yml"


def wf(text: str, path: str = WF):
    return parse_workflow(textwrap.dedent(text), path)


def lines(make_repo, files: dict[str, str], rule: str, name: str = "repo", **config) -> set[int]:
    root = make_repo({k: textwrap.dedent(v) for k, v in files.items()}, name=name)
    report = kohalint.scan(root, config={"select": [rule], **config})
    return {f.location.line for f in report.findings if f.rule_id == rule}


# -- the model -------------------------------------------------------------------------
@pytest.mark.parametrize("on,events", [
    ("on: push", {"push"}),
    ("on: [push, pull_request]", {"push", "pull_request"}),
    ("on:\n  push:\n    branches: [main]\n  pull_request:\n  schedule:\n    - cron: '0 3 * * *'",
     {"push", "pull_request", "schedule"}),
    ("'on': workflow_dispatch", {"workflow_dispatch"}),
    ("name: no trigger", set()),
])
def test_trigger_forms(on, events):
    w = wf(f"{on}\njobs: {{}}\n")
    assert set(w.triggers) == events
    assert all(w.has_trigger(e) for e in events)


def test_on_is_a_string_key_and_schedules_are_found():
    w = wf("""\
        name: nightly
        on:
          schedule:
            - cron: "0 3 * * *"
            - cron: "30 4 * * 1"
        jobs: {}
        """)
    assert w.on_line == 2
    assert [(c.text(), c.line) for c in w.schedules()] == [("0 3 * * *", 4), ("30 4 * * 1", 5)]


def test_jobs_steps_images_and_environment():
    w = wf("""\
        on: push
        jobs:
          test:
            runs-on: ubuntu-latest
            container: debian:bookworm
            services:
              db: {image: "mariadb:11"}
              cache:
                image: memcached:1.6
            environment: {name: production, url: https://x}
            needs: [build]
            steps:
              - id: co
                uses: actions/checkout@v4
                with: {fetch-depth: 0}
          call:
            uses: ./.github/workflows/reuse.yml
        """)
    test, call = w.jobs
    assert test.container_image.text() == "debian:bookworm"
    assert [i.text() for i in test.service_images] == ["mariadb:11", "memcached:1.6"]
    assert test.environment == "production" and test.needs == ["build"]
    step = test.steps[0]
    assert (step.id, step.action, step.line, step.input_text("fetch-depth")) == ("co", "actions/checkout", 13, "0")
    assert call.uses.text() == "./.github/workflows/reuse.yml" and call.steps == []
    assert w.is_deploy()


def test_commands_lines_block_plain_and_action_scripts():
    w = wf("""\
        on: push
        env:
          GITLEAKS_IMAGE: zricethezav/gitleaks@sha256:abc
        jobs:
          a:
            runs-on: ubuntu-latest
            steps:
              - run: docker run --rm "$GITLEAKS_IMAGE" detect
              - run: |
                  set -e

                  trivy image "${IMG}"
                env:
                  IMG: ghcr.io/acme/koha:sha-1234567
              - uses: appleboy/ssh-action@v1
                with:
                  script: |
                    cd /srv
                    docker compose pull
              - shell: python
                run: print("docker push x")
        """)
    got = [(c.line, c.column, c.argv[:4]) for _, _, c in w.commands() if c.via == ""]
    assert got == [
        (8, 14, ("docker", "run", "--rm", "zricethezav/gitleaks@sha256:abc")),
        (10, 11, ("set", "-e")),
        (12, 11, ("trivy", "image", "ghcr.io/acme/koha:sha-1234567")),
        (18, 13, ("cd", "/srv")),
        (19, 13, ("docker", "compose", "pull")),
    ]


def test_not_a_mapping_is_a_parse_error(make_repo):
    root = make_repo({WF: "- just\n- a list\n"})
    report = kohalint.scan(root, select=["KL001", "KL201"])
    assert triples(report) == {("KL001", WF, 1)}


# -- KL201 -----------------------------------------------------------------------------
@pytest.mark.parametrize("uses,flagged", [
    ("actions/checkout@v4", True),
    (f"actions/checkout@{SHA}", False),
    ("actions/checkout@0123456", True),           # short SHA
    ("actions/checkout", True),                   # no ref at all
    ("github/codeql-action/upload-sarif@v3", True),
    (f"github/codeql-action/upload-sarif@{SHA}", False),
    ("./.github/actions/setup", False),
    ("docker://alpine:3.20", True),
    ("docker://alpine", True),
    (f"docker://alpine:3.20@{DIGEST}", False),
])
def test_kl201_step_uses(make_repo, uses, flagged):
    text = f"on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: {uses}\n"
    assert lines(make_repo, {WF: text}, "KL201") == ({6} if flagged else set())


@pytest.mark.parametrize("uses,flagged", [
    ("acme/ci/.github/workflows/lint.yml@main", True),
    (f"acme/ci/.github/workflows/lint.yml@{SHA}", False),
    ("./.github/workflows/lint.yml", False),
])
def test_kl201_job_level_reusable_workflows(make_repo, uses, flagged):
    text = f"on: push\njobs:\n  lint:\n    uses: {uses}\n"
    assert lines(make_repo, {WF: text}, "KL201") == ({4} if flagged else set())


def test_kl201_message_keeps_the_tag_as_comment(make_repo):
    root = make_repo({WF: "on: push\njobs:\n  a:\n    steps:\n      - uses: actions/checkout@v4\n"})
    [f] = kohalint.scan(root, select=["KL201"]).findings
    assert "`uses: actions/checkout@<sha> # v4`" in f.message


def test_kl201_job_images_need_a_digest_but_expressions_are_skipped(make_repo):
    text = """\
        on: push
        jobs:
          a:
            runs-on: x
            container:
              image: ${{ matrix.image }}
            services:
              db:
                image: mariadb:11.4
              ok:
                image: redis@sha256:%s
        """ % ("ab" * 32)
    assert lines(make_repo, {WF: text}, "KL201") == {9}


# -- KL202 -----------------------------------------------------------------------------
@pytest.mark.parametrize("perms,expected", [
    ("permissions: {}", set()),
    ("permissions: read-all", set()),
    ("permissions:\n  contents: read\n  pull-requests: read", set()),
    ("permissions: write-all", {2}),
    ("permissions:\n  contents: read\n  packages: write", {4}),
    ("", {1}),
])
def test_kl202_top_level_permissions(make_repo, perms, expected):
    text = f"on: push\n{perms}\njobs:\n  a:\n    runs-on: x\n    permissions:\n      packages: write\n"
    assert lines(make_repo, {WF: text}, "KL202") == expected


# -- KL203 -----------------------------------------------------------------------------
@pytest.mark.parametrize("name,env,cancel,flagged", [
    ("Deploy", "", "true", True),
    ("CI", "production", "true", True),
    ("CI", "", "true", False),
    ("Deploy", "", "false", False),
    ("Deploy", "", "${{ github.event_name == 'push' }}", False),
])
def test_kl203_deploy_cancel_in_progress(make_repo, name, env, cancel, flagged):
    environment = f"\n    environment: {env}" if env else ""
    text = (f"name: {name}\non: push\nconcurrency:\n  group: g\n  cancel-in-progress: {cancel}\n"
            f"jobs:\n  a:\n    runs-on: x{environment}\n    steps:\n      - run: make\n")
    assert lines(make_repo, {WF: text}, "KL203") == ({5} if flagged else set())


def test_kl203_deploy_from_file_name_and_job_level_concurrency(make_repo):
    text = ("on: workflow_dispatch\njobs:\n  a:\n    runs-on: x\n    concurrency:\n      group: g\n"
            "      cancel-in-progress: true\n")
    assert lines(make_repo, {".github/workflows/prod-rollout.yml": text}, "KL203") == {7}
    assert lines(make_repo, {".github/workflows/tests.yml": text}, "KL203", name="other") == set()


@pytest.mark.parametrize("on,flagged", [("push", True), ("[pull_request]", True),
                                        ("workflow_dispatch", True), ("schedule:\n  - cron: '0 1 * * *'", False),
                                        ("release", False)])
def test_kl203_missing_concurrency_by_trigger(make_repo, on, flagged):
    text = f"name: X\non: {on}\njobs:\n  a:\n    runs-on: x\n"
    assert lines(make_repo, {WF: text}, "KL203") == ({1} if flagged else set())


# -- KL204 -----------------------------------------------------------------------------
ALL_CHECKS = """\
    on: {on}
    jobs:
      a:
        runs-on: x
        steps:
          - run: hadolint Dockerfile && shellcheck *.sh && trivy config . && trivy image k:1 && gitleaks detect
    """


@pytest.mark.parametrize("on,missing", [
    ("pull_request", 0),
    ("[push, pull_request]", 0),
    ("{pull_request: {branches: [main]}}", 0),
    ("push", 5),
    ("pull_request_target", 5),
])
def test_kl204_only_pull_request_workflows_count(make_repo, on, missing):
    root = make_repo({WF: textwrap.dedent(ALL_CHECKS.format(on=on))})
    report = kohalint.scan(root, select=["KL204"])
    assert len(report.findings) == missing


@pytest.mark.parametrize("argv,checks", [
    ("hadolint --failure-threshold warning Dockerfile", {"hadolint"}),
    ("docker run --rm -i hadolint/hadolint:v2.12.0", {"hadolint"}),
    ("docker run --rm -v $PWD:/mnt koalaman/shellcheck:stable scripts/a.sh", {"shellcheck"}),
    ("trivy --quiet config .", {"trivy-config"}),
    ("trivy fs --scanners vuln,misconfig .", {"trivy-config"}),
    ("trivy fs --scanners vuln .", set()),
    ("trivy image --exit-code 1 koha:pr", {"trivy-image"}),
    ("docker run --rm aquasec/trivy:0.56.2 image koha:pr", {"trivy-image"}),
    (f"docker run ghcr.io/gitleaks/gitleaks@{DIGEST} detect", {"secret-scan"}),
    ("detect-secrets-hook --baseline .secrets.baseline", {"secret-scan"}),
    ("kohalint check --select KL4", set()),
    ("kohalint check --ignore KL101", set()),
    ("echo trivy image", set()),
])
def test_kl204_checks_from_commands(argv, checks):
    assert command_checks(tuple(argv.split())) == checks


def test_kl204_trivy_action_scan_types_and_super_linter(make_repo):
    text = f"""\
        on: pull_request
        jobs:
          a:
            runs-on: x
            steps:
              - uses: aquasecurity/trivy-action@{SHA}
                with: {{image-ref: "koha:pr"}}
              - uses: aquasecurity/trivy-action@{SHA}
                with: {{scan-type: fs, scanners: "vuln,misconfig"}}
              - uses: super-linter/super-linter@{SHA}
                env:
                  VALIDATE_ALL_CODEBASE: false
                  VALIDATE_BASH: false
        """
    root = make_repo({WF: textwrap.dedent(text)})
    report = kohalint.scan(root, select=["KL204"])
    assert sorted(f.identity for f in report.findings) == ["missing|shellcheck"]


def test_kl204_local_reusable_and_composite_actions(make_repo):
    files = {
        WF: "on: pull_request\njobs:\n  lint:\n    uses: ./.github/workflows/lint.yml\n"
            "  scan:\n    runs-on: x\n    steps:\n      - uses: ./.github/actions/scan\n",
        ".github/workflows/lint.yml": "on: workflow_call\njobs:\n  l:\n    runs-on: x\n    steps:\n"
                                      "      - run: hadolint Dockerfile; shellcheck *.sh\n",
        ".github/actions/scan/action.yml": "runs:\n  using: composite\n  steps:\n"
                                           "    - run: trivy config . && trivy image x:1\n      shell: bash\n"
                                           "    - uses: gitleaks/gitleaks-action@v2\n",
    }
    assert lines(make_repo, files, "KL204") == set()


def test_kl204_remote_reusable_workflow_is_named_or_declared(make_repo):
    text = "on: pull_request\njobs:\n  lint:\n    uses: acme/ci/.github/workflows/all.yml@main\n"
    root = make_repo({WF: text})
    report = kohalint.scan(root, select=["KL204"])
    assert len(report.findings) == 5
    assert all("acme/ci/.github/workflows/all.yml@main" in f.message for f in report.findings)
    declared = {"delivery": {"reusable-workflow-checks": {
        "acme/ci/.github/workflows/all.yml": ["hadolint", "shellcheck", "trivy-config"]}}}
    report = kohalint.scan(root, config={"select": ["KL204"], **declared})
    assert sorted(f.identity for f in report.findings) == ["missing|secret-scan", "missing|trivy-image"]


def test_kl204_configured_list(make_repo):
    text = "on: pull_request\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: hadolint Dockerfile\n"
    assert lines(make_repo, {WF: text}, "KL204", delivery={"required-checks": ["hadolint"]}) == set()


# -- KL207 -----------------------------------------------------------------------------
@pytest.mark.parametrize("context,check,ok", [
    ("hadolint", "hadolint", True),
    ("CI / Hadolint (Dockerfile)", "hadolint", True),
    ("Trivy config scan", "trivy-config", True),
    ("trivy", "trivy-image", False),
    ("gitleaks", "secret-scan", True),
    ("lint", "hadolint", False),
])
def test_kl207_loose_context_names(context, check, ok):
    assert context_satisfies(context, check, []) is ok


@pytest.mark.parametrize("include,exclude,enforcement,applies", [
    (["~DEFAULT_BRANCH"], [], "active", True),
    (["refs/heads/main"], [], "active", True),
    (["refs/heads/ma*"], [], "active", True),
    (["~ALL"], ["refs/heads/main"], "active", False),
    (["refs/heads/release/*"], [], "active", False),
    (["~DEFAULT_BRANCH"], [], "disabled", False),
])
def test_kl207_ruleset_targets_the_default_branch(make_repo, include, exclude, enforcement, applies):
    import json

    ruleset = {"target": "branch", "enforcement": enforcement,
               "conditions": {"ref_name": {"include": include, "exclude": exclude}},
               "rules": [{"type": "non_fast_forward"},
                         {"type": "pull_request", "parameters": {"required_approving_review_count": 1}},
                         {"type": "required_status_checks", "parameters": {"required_status_checks": [
                             {"context": c} for c in ("hadolint", "shellcheck", "trivy-config",
                                                      "trivy-image", "secret-scan")]}}]}
    root = make_repo({".github/rulesets/main.json": json.dumps(ruleset, indent="\t")})
    report = kohalint.scan(root, select=["KL207"])
    assert (report.findings == []) is applies


def test_kl207_safe_settings_default_name_and_checks_list(make_repo):
    text = """\
        branches:
          - name: default
            protection:
              required_pull_request_reviews: {required_approving_review_count: 2}
              required_status_checks:
                strict: true
                checks:
                  - context: hadolint
                  - context: shellcheck
                  - context: trivy-config
                  - context: trivy-image
                  - context: secret-scan
        """
    assert lines(make_repo, {".github/settings.yml": text}, "KL207") == set()
    no_review = text.replace("required_pull_request_reviews: {required_approving_review_count: 2}",
                             "required_pull_request_reviews: null")
    assert lines(make_repo, {".github/settings.yml": no_review}, "KL207", name="other") == {3}


def test_kl207_other_branch_only(make_repo):
    text = "branches:\n  - name: develop\n    protection:\n      enforce_admins: true\n"
    root = make_repo({".github/settings.yml": text})
    [f] = kohalint.scan(root, select=["KL207"]).findings
    assert (f.location.line, "reads only files" in f.message) == (1, True)


# -- KL209 -----------------------------------------------------------------------------
def _inject(make_repo, run_step: str, on: str = "issues") -> set[int]:
    text = (f"on:\n  {on}:\n  workflow_dispatch:\n    inputs:\n      tag: {{type: string}}\n"
            f"      flag: {{type: boolean}}\njobs:\n  a:\n    runs-on: x\n    steps:\n{run_step}")
    return lines(make_repo, {WF: text}, "KL209")


@pytest.mark.parametrize("step,expected", [
    ('      - run: echo "${{ github.event.issue.title }}"\n', {11}),
    ("      - run: echo \"${{ github.event['issue']['body'] }}\"\n", {11}),
    ('      - run: echo "${{ github.event.commits[0].message }}"\n', {11}),
    ('      - run: echo "${{ github.event.pull_request.labels.*.name }}"\n', {11}),
    ('      - run: echo "${{ github.event.head_commit.author.email }}"\n', {11}),
    ('      - run: echo "${{ toJSON(github.event) }}"\n', {11}),
    ('      - run: ./deploy.sh ${{ inputs.tag }}\n', {11}),
    ('      - run: ./deploy.sh ${{ github.event.inputs.tag }}\n', {11}),
    ('      - run: ./deploy.sh ${{ inputs.flag }}\n', set()),
    ('      - env:\n          TAG: ${{ inputs.tag }}\n        run: ./deploy.sh "$TAG"\n', set()),
    ('      - env:\n          T: ${{ github.event.issue.title }}\n        run: echo "$T"\n', set()),
    ('      - run: echo "${{ github.event.issue.number }} ${{ github.sha }} ${{ github.actor }}"\n', set()),
    ('      - run: |\n          ls\n          echo "${{ github.head_ref }}"\n', {13}),
    ('      - name: "${{ github.event.issue.title }}"\n        run: echo hi\n', set()),
])
def test_kl209_template_injection(make_repo, step, expected):
    assert _inject(make_repo, step) == expected


@pytest.mark.parametrize("trigger,ref,flagged", [
    ("pull_request_target", "${{ github.event.pull_request.head.sha }}", True),
    ("pull_request_target", "${{ github.event.pull_request.head.ref }}", True),
    ("pull_request_target", "${{ github.head_ref }}", True),
    ("pull_request_target", "refs/pull/${{ github.event.number }}/merge", True),
    ("workflow_run", "${{ github.event.workflow_run.head_sha }}", True),
    ("pull_request", "${{ github.event.pull_request.head.sha }}", False),
    ("pull_request_target", "${{ github.event.pull_request.base.sha }}", False),
])
def test_kl209_privileged_checkout(make_repo, trigger, ref, flagged):
    text = (f"on: {trigger}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@{SHA}\n"
            f"        with:\n          ref: {ref!r}\n")
    assert lines(make_repo, {WF: text}, "KL209") == ({8} if flagged else set())


def test_kl209_gh_pr_checkout_in_run(make_repo):
    text = "on: pull_request_target\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: gh pr checkout 1\n"
    assert lines(make_repo, {WF: text}, "KL209") == {6}


def test_kl202_reusable_workflow_takes_the_callers_permissions(make_repo):
    text = "on: workflow_call\njobs:\n  a:\n    runs-on: x\n"
    assert lines(make_repo, {WF: text}, "KL202") == set()
    text = "on: [workflow_call, push]\njobs:\n  a:\n    runs-on: x\n"
    assert lines(make_repo, {WF: text}, "KL202", name="other") == {1}
