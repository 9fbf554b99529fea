"""The demo's year generated in a process of its own, beside the servers'
start and the register's load: the generator is Python on one core, and the
demo's own process has work of its own meanwhile (the topics, then parsing the
register)."""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from registry.infrastructure.redact import error_trace
from registry.simulation.generator import generate

# The schedule's first operations, which need only what is written before the
# batches (`generate`'s `ready`).
BEFORE_THE_BATCHES = frozenset({"schools-load", "population-load"})


class GeneratorFailed(RuntimeError):
    """The generator's process failed; where, and the error's class, in the
    message (`REGISTRY_DEBUG=1` shows it)."""


class Generating:
    """`generate(seed, scale, out)` in a spawned process (no threads or
    connections of this one inherited)."""

    def __init__(self, seed: int, scale: str, out: Path) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._ready = ctx.Event()
        self._results, sending = ctx.Pipe(duplex=False)
        self._process = ctx.Process(
            target=_generate,
            args=(seed, scale, out, self._ready, sending),
            name="generator",
            daemon=True,
        )
        self._process.start()
        sending.close()  # the child's end: EOF here when it dies
        self._result: dict[str, Any] | None = None

    def wait_ready(self) -> None:
        """Until the schools, the register and the schedule are written."""
        while not self._ready.wait(0.2):
            if not self._process.is_alive():
                self.result()  # raises what stopped it

    def result(self) -> dict[str, Any]:
        """The expected outcome, once every file is written."""
        if self._result is None:
            try:
                outcome, value = self._results.recv()
            except EOFError:  # died without a word: killed
                outcome, value = "failed", None
            self._process.join()
            if outcome != "done":
                why = value or f"exit code {self._process.exitcode}"
                raise GeneratorFailed(f"generating the year failed: {why}")
            self._result = value
        return self._result

    def before(self, op: dict[str, Any]) -> None:
        """The play's gate: an operation past the first two waits for the
        batches."""
        if op["op"] not in BEFORE_THE_BATCHES:
            self.result()

    def stop(self) -> None:
        """On a demo that fails before its play ends."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=10)


def _generate(
    seed: int, scale: str, out: Path, ready: Event, results: Connection
) -> None:
    try:
        results.send(("done", generate(seed, scale, out, ready.set)))
    except BaseException as e:
        # Where and what, not the values (as the CLI shows an unforeseen error).
        results.send(("failed", error_trace(e)))
        raise SystemExit(1) from None  # told above; not printed twice
