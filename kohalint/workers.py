"""Per-file work spread over the machine's cores, for large repositories.

The per-file rules (targets `text`, `dockerfile`, `workflow`, `shell`) run in
forked worker processes, a batch of paths at a time; each worker also parses,
ahead of need, the documents the repository-level and compose rules will ask
for (YAML, workflows with their commands, Dockerfiles, shell scripts), because
shipping a parsed document back costs a fiftieth of parsing it again.

The scan's result does not depend on how the work was split:

* findings come back keyed by (rule, path) and the engine puts them back in
  the order a sequential scan produces them (rule by rule, path by path);
* a document parsed by a worker is only offered to the main process's
  `Documents`: its parse error (KL001) and its notes count only once a rule
  asks for it there, exactly as if it had been parsed then;
* an exception in a rule is KL003 as usual; a worker process that dies
  (a crash, the kernel's OOM killer) costs its batch a retry, path by path
  in a fresh process, and a path that kills a worker again gets KL003.

Small repositories are scanned in-process: forking costs more than it saves.
`KOHALINT_JOBS=1` turns this off; `KOHALINT_JOBS=N` sets the number of worker
processes (and forces them, whatever the repository's size).
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterator, Optional

from kohalint.context import Context
from kohalint.documents.store import Documents
from kohalint.limits import run_rule_by_target
from kohalint.models import Area, Finding, Location, Severity
from kohalint.rules import Check

PER_FILE_TARGETS = ("text", "dockerfile", "workflow", "shell")
# Below this weight (bytes, plus FILE_WEIGHT per file) a scan stays in-process:
# starting workers and shipping results back would cost more than they save.
MIN_WEIGHT = 2 * 1024 * 1024
FILE_WEIGHT = 4096
BATCH_WEIGHT = 512 * 1024
# Parsed ahead for the main process's compose and repository rules: file kind
# -> the documents it gets. A workflow comes first, as its tree is the YAML's.
# Other YAML files are left to the main process: its rules read few of them
# (an alert-rules file, the policy files), and parsing every translation file
# of a large repository on the off chance would cost more than it saves.
PREFETCH = (("workflow", "workflow"), ("workflow", "yaml"), ("compose", "yaml"),
            ("dockerfile", "dockerfile"), ("shell", "shell"))

FindingRow = tuple


class Results:
    """What the workers produced: findings by (rule, path), and whether a rule failed."""

    def __init__(self) -> None:
        self.findings: dict[tuple[str, str], list[Finding]] = {}
        self.internal_error = False
        # Files a worker read that hold no `kohalint:` comment: the main process
        # need not read them again to look for inline suppressions.
        self.unmarked: set[str] = set()

    def take(self, rule_id: str, path: str) -> list[Finding]:
        return self.findings.pop((rule_id, path), [])


def _jobs() -> tuple[int, bool]:
    """(worker processes, forced by KOHALINT_JOBS)."""
    env = os.environ.get("KOHALINT_JOBS", "").strip()
    if env.isdigit() and int(env) >= 1:
        return int(env), True
    try:
        return len(os.sched_getaffinity(0)), False
    except (AttributeError, OSError):
        return os.cpu_count() or 1, False


def run_per_file(ctx: Context, checks: list[Check], only: Optional[set[str]], run_all: bool,
                 call: Callable, internal_error: Callable) -> Optional[Results]:
    """Run the per-file rules in worker processes; None when this scan should
    stay in-process (small repository, one core, no `fork`)."""
    per_file = [c for c in checks if c.func is not None and c.target in PER_FILE_TARGETS]
    jobs, forced = _jobs()
    if not per_file or jobs < 2:
        return None
    repo = ctx.repo
    paths = [p for p in repo.files if only is None or run_all or p in only]
    if not forced and len(paths) * FILE_WEIGHT < MIN_WEIGHT and only is not None:
        return None  # pre-commit: a few files, not worth a stat each
    weights = {p: _size(repo, p) + FILE_WEIGHT for p in paths}
    if not forced and sum(weights.values()) < MIN_WEIGHT:
        return None
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return None  # workers must inherit the loaded rules and the file list
    global _STATE
    _STATE = _WorkerState(ctx, per_file, only, run_all, call, internal_error)
    # Nothing runs in the main process afterwards that would read them: no prefetch.
    _STATE.prefetch = any(c.func is not None and c.target in ("compose", "repository") for c in checks)
    try:
        return _run(ctx, _batches(paths, weights), jobs, multiprocessing.get_context("fork"))
    finally:
        _STATE = None


def _size(repo: Any, path: str) -> int:
    try:
        return os.lstat(os.path.join(repo._root_str, path)).st_size
    except OSError:
        return 0


def _batches(paths: list[str], weights: dict[str, int]) -> list[list[str]]:
    """Consecutive paths (a directory's files together) in batches of similar
    weight, heaviest first so that no worker is left with a big one at the end."""
    out: list[list[str]] = []
    cur: list[str] = []
    weight = 0
    for p in paths:
        cur.append(p)
        weight += weights[p]
        if weight >= BATCH_WEIGHT:
            out.append(cur)
            cur, weight = [], 0
    if cur:
        out.append(cur)
    out.sort(key=lambda b: -sum(weights[p] for p in b))
    return out


def _run(ctx: Context, batches: list[list[str]], jobs: int, mp: Any) -> Results:
    results = Results()
    lost = _pool(ctx, results, batches, jobs, mp)
    # A worker died: every batch it had not finished comes back. Each is
    # retried in a process of its own, then path by path where it dies again.
    for batch in lost:
        for again in _pool(ctx, results, [batch], 1, mp):
            for path in again:
                if _pool(ctx, results, [[path]], 1, mp):
                    _died(ctx, results, path)
    return results


def _pool(ctx: Context, results: Results, batches: list[list[str]], jobs: int, mp: Any) -> list[list[str]]:
    """Run `batches` in a pool of `jobs` processes; return those lost to a dead worker."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    lost = []
    with ProcessPoolExecutor(max_workers=min(jobs, len(batches)), mp_context=mp) as pool:
        futures = [(b, pool.submit(_work, b)) for b in batches]
        for batch, fut in futures:
            try:
                out = fut.result()
            except BrokenProcessPool:
                lost.append(batch)
                continue
            except Exception:  # noqa: BLE001 - e.g. a result that cannot be pickled
                out = _work(batch)  # in this process: same rules, same KL003s
            _merge(ctx, results, out)
    return lost


def _died(ctx: Context, results: Results, path: str) -> None:
    assert _STATE is not None
    results.internal_error = True
    # Which rule killed the process is unknown: name the first that reads the file.
    chk = next((c for c in _STATE.checks if _applies(c, ctx, path)), _STATE.checks[0])
    f = ctx.finding(path, 1, f"rule {chk.id} failed on this file: the worker process scanning it "
                    "died; please report it", rule_id="KL003")
    results.findings.setdefault((chk.id, path), []).append(f)


def _merge(ctx: Context, results: Results, out: dict) -> None:
    docs = ctx.docs
    for (rule_id, path), rows in out["findings"].items():
        results.findings[(rule_id, path)] = [_from_row(r) for r in rows]
    results.internal_error |= out["internal_error"]
    results.unmarked.update(out["unmarked"])
    ctx.repo.notes.extend(out["notes"])
    for kind, path, result, error, notes, requested in out["docs"]:
        if requested:
            docs.adopt(kind, path, result, error, notes)
        else:
            docs.prefetch(kind, path, result, error, notes)


# -- in the worker ----------------------------------------------------------------

class _WorkerState:
    def __init__(self, ctx: Context, checks: list[Check], only: Optional[set[str]], run_all: bool,
                 call: Callable, internal_error: Callable) -> None:
        self.ctx = ctx
        self.checks = checks
        self.only = only
        self.run_all = run_all
        self.call = call
        self.internal_error = internal_error
        self.pid = os.getpid()
        self.prefetch = True


_STATE: Optional[_WorkerState] = None


def _applies(chk: Check, ctx: Context, path: str) -> bool:
    return chk.target == "text" or chk.target in ctx.repo.kinds(path)


_CTX: Optional[Context] = None


def _worker_context(st: _WorkerState, docs: Documents) -> Context:
    """One Context per worker process (rules keep per-run state on it, such as
    KL101's baseline), with this batch's documents."""
    global _CTX
    if os.getpid() == st.pid:
        return Context(st.ctx.repo, docs, st.ctx.settings, st.ctx.today)
    if _CTX is None:
        _CTX = Context(st.ctx.repo, docs, st.ctx.settings, st.ctx.today)
    _CTX.docs = docs
    return _CTX


def _work(batch: list[str]) -> dict:
    """One batch: its per-file findings and its documents, parsed."""
    st = _STATE
    assert st is not None, "workers are forked from a scan"
    repo = st.ctx.repo
    if os.getpid() != st.pid:
        repo._texts.clear()  # a worker keeps one batch's texts, not every batch's
    first_note = len(repo.notes)
    docs = Documents(repo, st.ctx.settings)
    ctx = _worker_context(st, docs)
    findings: dict[tuple[str, str], list[FindingRow]] = {}
    internal = False
    paths = [p for p in batch if st.only is None or st.run_all or p in st.only]
    timeout = st.ctx.settings.limits.rule_timeout
    # Rule by rule over the batch, each guarded as in the main process: an
    # exception is KL003 for its file, a rule stuck on one file past
    # limits.rule-timeout is stopped with KL003 (one thread per rule and batch).
    for chk in st.checks:
        ctx.check = chk
        where: dict[str, str] = {}
        per_target, failed = run_rule_by_target(ctx, chk, _batch_targets(chk, ctx, docs, paths, where),
                                                st.call, st.internal_error, timeout, where)
        internal |= failed
        for path, found in per_target:
            findings.setdefault((chk.id, path), []).extend(_to_row(f) for f in found)
    requested = set(docs._cache)
    check_notes = repo.notes[first_note:]
    entries = []
    done = set()
    for path in batch if st.prefetch else ():
        kinds = repo.kinds(path)
        for file_kind, kind in PREFETCH:
            key = (kind, path)
            if file_kind not in kinds or key in done:
                continue
            before = len(repo.notes)
            doc = docs.get(kind, path)
            if kind == "workflow" and doc is not None:
                _warm(doc)
            asked = key in requested
            entries.append((kind, path, doc, docs.key_errors.get(key), [] if asked else repo.notes[before:],
                            asked))
            done.add(key)
    # What the rules asked for beyond that (another file's document): its
    # error counts in the main process too.
    for key in sorted(requested - done):
        entries.append((key[0], key[1], docs._cache[key], docs.key_errors.get(key), [], True))
    texts = repo._texts
    unmarked = [p for p in batch if isinstance(texts.get(p), str) and "kohalint:" not in texts[p]]
    return {"findings": findings, "internal_error": internal, "notes": check_notes, "docs": entries,
            "unmarked": unmarked}


def _batch_targets(chk: Check, ctx: Context, docs: Documents, paths: list[str],
                   where: dict[str, str]) -> Iterator[tuple[str, Any]]:
    for path in paths:
        if not _applies(chk, ctx, path):
            continue
        where["path"] = path  # parsing it: a rule stopped now was stopped on this file
        doc = path if chk.target == "text" else docs.get(chk.target, path)
        if doc is not None:
            yield path, doc


def _warm(workflow: Any) -> None:
    """A workflow's commands (its `run:` scripts parsed) travel with it."""
    commands = getattr(workflow, "commands", None)
    if callable(commands):
        try:
            commands()
        except Exception:  # noqa: BLE001 - the rule that asks will fail the same way
            pass


# -- the repository and compose rules, on two cores ------------------------------

def run_split(ctx: Context, checks: list[Check],
              run_one: Callable[[Check], tuple[list[Finding], bool]]) -> dict[str, tuple[list[Finding], bool]]:
    """Run `checks` in this process and one forked from it, each taking the
    next rule from a shared counter until none is left; {rule id: (its
    findings, failed)} for every rule, or {} when this scan stays in one
    process (the caller then runs them itself).

    After the per-file phase these rules ran on one core: a large
    repository's compose projects, option files and scripts are all in
    memory by then, so a fork shares them for nothing. Only the rules'
    findings, the notes and the parse errors they met come back (KL001
    counts a document a rule asked for); which process ran a rule does not
    show in the report. A forked process that dies leaves its rules to
    this one."""
    jobs, _ = _jobs()
    if len(checks) < 2 or jobs < 2:
        return {}
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return {}
    mp = multiprocessing.get_context("fork")
    if any(c.target == "compose" for c in checks):
        try:
            ctx.docs.compose_projects()  # most of these rules read them: built once, before the fork
        except Exception:  # noqa: BLE001 - the rules that ask fail the same way, as KL003
            pass
    counter = mp.Value("i", 0)
    receiving, sending = mp.Pipe(duplex=False)
    known = set(ctx.docs.key_errors)
    first_note = len(ctx.repo.notes)
    child = mp.Process(target=_split_child, args=(ctx, checks, run_one, counter, sending, known, first_note),
                       daemon=True)
    child.start()
    sending.close()  # this end is the child's: its exit without sending ends `recv` below
    ran = _take_turns(checks, run_one, counter)
    try:
        theirs = receiving.recv()
    except (EOFError, OSError):
        theirs = None
    finally:
        receiving.close()
        child.join()
    if theirs is None:
        return {c.id: run_one(c) if c.id not in ran else ran[c.id] for c in checks}
    for rule_id, (rows, failed) in theirs["checks"].items():
        ran[rule_id] = ([_from_row(r) for r in rows], failed)
    ctx.repo.notes.extend(theirs["notes"])
    for kind, path, error in theirs["errors"]:
        if (kind, path) not in ctx.docs.key_errors:
            ctx.docs.adopt(kind, path, None, error)
    return ran


def _take_turns(checks: list[Check], run_one: Callable, counter: Any) -> dict[str, tuple[list[Finding], bool]]:
    ran = {}
    while True:
        with counter.get_lock():
            i = counter.value
            counter.value = i + 1
        if i >= len(checks):
            return ran
        ran[checks[i].id] = run_one(checks[i])


def _split_child(ctx: Context, checks: list[Check], run_one: Callable, counter: Any, conn: Any,
                 known: set, first_note: int) -> None:
    try:
        ran = _take_turns(checks, run_one, counter)
        docs = ctx.docs
        conn.send({"checks": {rule_id: ([_to_row(f) for f in found], failed)
                              for rule_id, (found, failed) in ran.items()},
                   "notes": ctx.repo.notes[first_note:],
                   "errors": [(kind, path, err) for (kind, path), err in docs.key_errors.items()
                              if (kind, path) not in known]})
        conn.close()
    finally:
        os._exit(0)  # no atexit handlers or finalizers of the parent's objects


def _to_row(f: Finding) -> FindingRow:
    # Tuples pickle ten times faster than pydantic models.
    loc = f.location
    return (f.rule_id, f.rule_name, f.area.value, f.severity.value, f.message,
            (loc.path, loc.line, loc.column, loc.note),
            tuple((r.path, r.line, r.column, r.note) for r in f.related), f.identity)


def _from_row(row: FindingRow) -> Finding:
    rule_id, name, area, severity, message, loc, related, identity = row
    return Finding(rule_id=rule_id, rule_name=name, area=Area(area), severity=Severity(severity),
                   message=message, location=Location(path=loc[0], line=loc[1], column=loc[2], note=loc[3]),
                   related=[Location(path=r[0], line=r[1], column=r[2], note=r[3]) for r in related],
                   identity=identity)
