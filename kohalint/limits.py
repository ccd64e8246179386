"""Limits that keep a scan bounded on hostile input, and the wall-time guard.

kohalint runs on pull requests from strangers, so every cost an input can
drive is capped, and reaching a cap is reported instead of hanging:

* file size (`max-file-bytes`): the file is not read, with a note;
* YAML node count after alias expansion and nesting depth
  (`limits.yaml-max-nodes`, `limits.yaml-max-depth`): KL001 at the node;
* parse time per YAML document (`limits.parse-timeout`): KL001;
* wall time a rule spends on one file, or on the repository for a
  repository-level rule (`limits.rule-timeout`): the rule is stopped, KL003
  names the file it was on, and the run fails closed (exit 2).

A deadline runs the guarded work in a worker thread and, when time is up,
raises `DeadlineExceeded` inside that thread (CPython's
`PyThreadState_SetAsyncExc`), where it lands at the next bytecode. Running
the work in its own thread keeps the caller out of reach of a late
exception. This stops runaway Python code (a parser or a check in a loop),
not one long call into C (a regular expression, a blocking read): the
parsers are written so that no such call grows with the input. Where the
interpreter has no such hook the caller still stops waiting and reports.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional

if TYPE_CHECKING:
    from kohalint.context import Context
    from kohalint.models import Finding
    from kohalint.rules import Check

# After raising DeadlineExceeded in a worker, how long to wait for it to unwind.
_UNWIND_SECONDS = 2.0


class DeadlineExceeded(SystemExit):
    """Raised inside work that overran its deadline: not an `Exception`, so
    the `except Exception` of a parser or a check cannot swallow it. A
    SystemExit so that a thread it reaches by mistake ends silently (CPython
    3.11 can deliver it to a thread the stopped one is starting), with exit
    status 2 should it ever reach the main thread."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*(args or (2,)))


def _async_exc_api() -> Any:
    try:
        import ctypes

        # An own prototype: `ctypes.pythonapi.PyThreadState_SetAsyncExc` is a
        # shared attribute that other modules use with their own argtypes.
        return ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)(
            ("PyThreadState_SetAsyncExc", ctypes.pythonapi))
    except (ImportError, AttributeError, OSError):  # not CPython
        return None


_SET_ASYNC_EXC = _async_exc_api()


def _quiet_unraisable(previous: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def hook(unraisable: Any) -> None:
        # A DeadlineExceeded that reached a finalizer: the deadline did its job
        # (or tries again); it is not an error to print with a traceback.
        if not isinstance(unraisable.exc_value, DeadlineExceeded):
            previous(unraisable)
    hook.kohalint_quiet = True  # type: ignore[attr-defined]
    return hook


if not getattr(sys.unraisablehook, "kohalint_quiet", False):
    sys.unraisablehook = _quiet_unraisable(sys.unraisablehook)


_local = threading.local()  # .job: the _Job whose work runs in this thread


def _noop() -> None:
    """A call, so that an exception raised in this thread just before is delivered here."""


class _Job:
    """Work run in its own thread that may be stopped from outside.

    `DeadlineExceeded` is raised in the worker only while it is `armed`
    (inside `fn`, checked under `lock`): a thread that has ended can never
    receive it, even when a new thread reuses its id.
    """

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.lock = threading.Lock()
        self.armed = False
        self.ident = 0
        self.child: Optional["_Job"] = None  # the job this worker waits for, if any
        self.value: Any = None
        self.error: Optional[BaseException] = None
        self.expired = False

    def run(self) -> None:
        try:
            self._body()
        except BaseException:  # noqa: BLE001 - only DeadlineExceeded can arrive here
            self.expired = True
        while True:  # disarm, even when a DeadlineExceeded arrives meanwhile
            try:
                with self.lock:
                    self.armed = False
                _noop()
                return
            except DeadlineExceeded:
                self.expired = True

    def _body(self) -> None:
        with self.lock:
            self.ident = threading.get_ident()
            self.armed = True
        _local.job = self
        try:
            self.value = self.fn()
            _noop()
        except DeadlineExceeded:
            self.expired = True
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            self.error = exc

    def stop(self) -> None:
        if _SET_ASYNC_EXC is None or not self.lock.acquire(timeout=1.0):
            return
        try:
            if self.armed:
                _SET_ASYNC_EXC(self.ident, DeadlineExceeded)
        finally:
            self.lock.release()


def run_with_deadline(fn: Callable[[], Any], seconds: Optional[float], *,
                      since: Optional[Callable[[], float]] = None) -> tuple[bool, Any]:
    """(expired, result) of `fn()` run for at most `seconds` (None or <= 0: no
    limit, run inline). An exception `fn` raises is raised here.

    With `since` (a `time.monotonic()` reading that `fn` moves forward as it
    finishes each unit of work), the limit is per unit: `fn` is stopped once
    `seconds` have passed since `since()`."""
    if not seconds or seconds <= 0:
        return False, fn()
    job = _Job(fn)
    parent: Optional[_Job] = getattr(_local, "job", None)
    worker = threading.Thread(target=job.run, name="kohalint-deadline", daemon=True)
    if parent is not None:
        parent.child = job  # stopping the parent stops this job first
    try:
        if parent is not None:
            # CPython 3.11 gives a thread being created its creator's id until
            # it runs, so an exception meant for the parent could land in it:
            # the parent is not stopped while it starts a thread.
            with parent.lock:
                worker.start()
        else:
            worker.start()
        if since is None:
            worker.join(seconds)
        else:
            while True:
                remaining = since() + seconds - time.monotonic()
                if remaining <= 0 or not worker.is_alive():
                    break
                worker.join(remaining)
    finally:
        if parent is not None:
            parent.child = None
    if worker.is_alive():
        chain: list[_Job] = []
        j: Optional[_Job] = job
        while j is not None and j not in chain:
            chain.append(j)
            j = j.child
        for attempt in range(2):
            for j in reversed(chain):  # innermost first: a thread blocked in join sees it only afterwards
                j.stop()
            # once more if it is still running: a finalizer (`__del__`) that ran
            # just then swallowed the exception (it is "unraisable" there)
            worker.join(_UNWIND_SECONDS / 4 if attempt == 0 else _UNWIND_SECONDS)
            if not worker.is_alive():
                break
        return True, None
    if job.error is not None:
        raise job.error
    return job.expired, job.value


# -- settings ------------------------------------------------------------------------

def apply_limits(settings: Any) -> None:
    """Put the configured limits where the parsers read them (module level:
    parsers are called without settings). The engine calls this per scan."""
    from kohalint.documents import yamldoc

    opts = getattr(settings, "limits", None)
    if opts is None:
        return
    yamldoc.set_limits(max_nodes=opts.yaml_max_nodes, max_depth=opts.yaml_max_depth,
                       parse_timeout=opts.parse_timeout)


# -- one rule over all its targets, guarded ------------------------------------------------

def run_rule_by_target(ctx: "Context", chk: "Check", targets: Iterator[tuple[str, Any]],
                       call: Callable[["Check", Any, "Context"], list],
                       internal_error: Callable[..., "Finding"],
                       seconds: Optional[float], where: Optional[dict[str, str]] = None,
                       ) -> tuple[list[tuple[str, list["Finding"]]], bool]:
    """([(target path, its findings)], failed) of one rule over its targets.

    An exception in the rule on one target is KL003 for that target (via
    `internal_error`) and the rule goes on with the next; an exception while
    finding or parsing the next target, or running past `seconds`, stops the
    rule with KL003. Findings made before that are kept; `failed` means the
    run must exit 2. `seconds` is per target (finding and parsing it, then
    checking it): a large repository takes longer, not a stuck rule. The
    whole rule runs in one guarded thread: a thread per rule, not per file.
    `where["path"]`, when the targets iterator keeps it, names the file being
    parsed when the rule is stopped between two targets.
    """
    out: list[tuple[str, list["Finding"]]] = []
    state: dict[str, Any] = {"failed": False, "current": "", "since": time.monotonic()}

    def body() -> None:
        while True:
            state["since"] = time.monotonic()
            try:
                item = next(targets, None)
            except Exception as exc:  # noqa: BLE001 - a parser bug: fail closed
                state["failed"] = True
                out.append((state["current"], [internal_error(ctx, chk, state["current"], exc)]))
                return
            if item is None:
                return
            path, doc = item
            state["current"] = path
            try:
                found = list(call(chk, doc, ctx))
            except Exception as exc:  # noqa: BLE001 - fail closed, keep scanning
                state["failed"] = True
                found = [internal_error(ctx, chk, path, exc)]
            out.append((path, found))
            state["current"] = ""  # finding (and parsing) the next target: no file to name yet

    expired, _ = run_with_deadline(body, seconds, since=lambda: state["since"])
    result = list(out)  # a copy: a stopped thread may still be unwinding
    if expired:
        path = state["current"] or (where or {}).get("path", "")
        result.append((path, [timeout_finding(ctx, chk, path, seconds)]))
    return result, expired or state["failed"]


def timeout_finding(ctx: "Context", chk: "Check", path: str, seconds: Optional[float]) -> "Finding":
    on = " on this file" if path else ""
    return ctx.finding(path or ".", 1, f"rule {chk.id} did not finish within {seconds or 0:g} s "
                       f"(limits.rule-timeout) and was stopped{on}: its findings are incomplete",
                       rule_id="KL003")
