"""The recovery policy, the restore-test schedule and the restore-test log
(KL601, KL606, KL607)."""

from __future__ import annotations

import datetime
import posixpath
from typing import Iterator, Optional

from kohalint.checks.recovery_common import ScheduledJob, deployment_role, runs_restore_test, scheduled_jobs
from kohalint.context import Context
from kohalint.models import Finding
from kohalint.recovery_policy import (DEFAULT_MAX_INTERVAL_DAYS, RecoveryPolicy, RestoreRun, load_policy,
                                      load_restore_log, policy_path)
from kohalint.rules import check
from kohalint.schedule import format_duration

DEFAULT_CRONTAB = "ops/crontab"


@check("KL601", "recovery-policy-invalid", target="repository", reads={"yaml", "compose"})
def recovery_policy_invalid(ctx: Context) -> Iterator[Finding]:
    path = policy_path(ctx)
    if not ctx.reports_on(path):
        return  # pre-commit without the policy file: it reports only there
    loaded = load_policy(ctx)
    if loaded is None:
        if deployment_role(ctx):
            yield ctx.finding(path, 1, f"no recovery policy: add {path} with the RPO, RTO, backup schedule "
                              "and restore-test interval the other recovery rules check against",
                              identity="absent")
        return
    for issue in loaded.issues:
        yield ctx.finding(path, issue.line, f"recovery policy: {issue.message}", column=issue.column,
                          identity=issue.key)
    policy: Optional[RecoveryPolicy] = loaded.model
    if policy is None:
        return
    for key, what in (("rpo", "RPO (how much data may be lost, e.g. 15m)"),
                      ("rto", "RTO (how long a restore may take, e.g. 4h)")):
        if getattr(policy, key) is None:
            yield ctx.finding(path, loaded.line_of(key), f"recovery policy: `{key}` is not set; state the "
                              f"{what}", identity=f"{key}-unset")


def _max_interval(policy: Optional[RecoveryPolicy]) -> int:
    return policy.restore.max_interval_days if policy is not None else DEFAULT_MAX_INTERVAL_DAYS


@check("KL606", "restore-test-not-scheduled", target="repository", reads={"yaml", "schedule", "workflow"})
def restore_test_not_scheduled(ctx: Context) -> Iterator[Finding]:
    if ctx.only is not None and DEFAULT_CRONTAB not in ctx.only and not any(
            ctx.repo.kinds(p) & {"schedule", "workflow"} for p in ctx.only):
        return  # pre-commit: it reports on a schedule (crontab, timer, workflow) only
    loaded = load_policy(ctx)
    policy = loaded.model if loaded is not None else None
    days = _max_interval(policy)
    limit = datetime.timedelta(days=days)
    jobs = [job for job in scheduled_jobs(ctx) if runs_restore_test(job)]
    if not jobs:
        if deployment_role(ctx):
            crontabs = sorted({j.path for j in scheduled_jobs(ctx) if j.source == "crontab"})
            target = crontabs[0] if crontabs else DEFAULT_CRONTAB
            yield ctx.finding(target, 1, "no schedule runs the restore test (no crontab entry, systemd timer "
                              "or scheduled workflow runs the restore script or a restore test): schedule "
                              f"one at least every {days} days", identity="absent")
        return
    best = min(jobs, key=_gap_key)
    if best.gap is not None and best.gap <= limit:
        return
    how = (f"can go {format_duration(best.gap)} without running (the longest gap of its schedule)"
           if best.gap is not None else "runs on no repeating schedule")
    yield ctx.finding(best.path, best.line, f"the restore test {how}, but the recovery policy wants "
                      f"one at least every {days} days", identity=f"{best.source}|{posixpath.basename(best.path)}")


def _gap_key(job: ScheduledJob) -> datetime.timedelta:
    return job.gap if job.gap is not None else datetime.timedelta.max


@check("KL607", "restore-test-stale", target="repository", reads={"yaml"})
def restore_test_stale(ctx: Context) -> Iterator[Finding]:
    loaded_policy = load_policy(ctx)
    policy = loaded_policy.model if loaded_policy is not None else None
    if policy is None:
        return  # KL601 reports the missing or invalid policy
    log_path = policy.restore.log
    if not ctx.reports_on(log_path):
        return  # pre-commit without the restore-test log: it reports only there
    log = load_restore_log(ctx, policy)
    if log is None:
        if deployment_role(ctx):
            yield ctx.finding(log_path, 1, f"no restore-test log at {log_path}: no restore test is on record; "
                              "run a PITR restore test and record it there", identity="absent")
        return
    for issue in log.issues:
        yield ctx.finding(log_path, issue.line, f"restore-test log: {issue.message}", column=issue.column,
                          identity=issue.key)
    runs: list[RestoreRun] = log.model or []
    nodes = log.run_nodes if len(log.run_nodes) == len(runs) else [None] * len(runs)
    days = policy.restore.max_interval_days
    passing = [(run, node) for run, node in zip(runs, nodes) if run.result == "pass"]
    pitr = [(run, node) for run, node in passing if run.kind == "pitr"]
    latest_pitr = max(pitr, key=lambda item: item[0].date, default=None)
    if latest_pitr is None:
        yield ctx.finding(log_path, 1, "no passing point-in-time (`kind: pitr`) restore test is on record; "
                          f"the policy wants one at least every {days} days", identity="no-pitr")
    else:
        age = (ctx.today - latest_pitr[0].date).days
        if age > days:
            yield ctx.finding(log_path, _line(latest_pitr[1], "date"), f"the last passing PITR restore test "
                              f"({latest_pitr[0].date.isoformat()}) is {age} days old; the policy wants one at "
                              f"least every {days} days", identity="stale")
    latest = _latest(passing)
    if latest is None:
        return
    run, node = latest
    for key, limit in (("rto", policy.rto), ("rpo", policy.rpo)):
        measured = getattr(run, f"measured_{key}")
        if limit is None or measured is None or measured <= limit:
            continue
        yield ctx.finding(log_path, _line(node, f"measured_{key}"), f"the latest passing restore test "
                          f"({run.date.isoformat()}) measured {key.upper()} {format_duration(measured)}, over the "
                          f"policy's {format_duration(limit)}", identity=f"{key}-exceeded")


def _latest(passing: list) -> Optional[tuple]:
    best = None
    for run, node in passing:  # a later row wins a tie: it was written later
        if best is None or run.date >= best[0].date:
            best = (run, node)
    return best


def _line(node, key: str) -> int:
    from kohalint.documents.yamldoc import YMap

    if isinstance(node, YMap):
        key_node = node.key_node(key)
        if key_node is not None:
            return key_node.line
        return node.line
    return 1
