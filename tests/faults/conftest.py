"""The harness of the fault tests: faults injected into the real services, never into the shared ones.

- Redis: each test runs a redis-server of its own on a free port, which it stops and starts again at will; the
  machine's shared Redis is never touched.
- Celery: real worker processes (``celery worker``) against the test database, killed with SIGKILL at will.
- PostgreSQL: only the test's own backend is terminated (``pg_terminate_backend`` from a second connection).
- Webhook receivers: ``http.server`` threads on free ports that answer fast, slowly or with an error.

These tests need PostgreSQL (a worker process must see the test's committed rows) and ``redis-server``: on a laptop
without them they skip, saying why; in CI (``PORTAL_REQUIRE_SERVICES=1``) their absence is a failure.
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app
from core import broker
from core.queues import queue_name, queues
from tests.conftest import needs

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def report(title: str, figures: dict) -> str:
    """One line of figures, printed (``pytest -s`` shows it) and returned for assertion messages."""
    line = f"[faults] {title}: " + ", ".join(f"{key}={value}" for key, value in figures.items())
    print(line)
    return line


def database_url() -> str:
    """The test database, for the worker processes (pytest-django renamed it ``test_<name>``)."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


# --- Redis of the test's own ------------------------------------------------------------------------------------


class RedisServer:
    """A redis-server of the test's own on a free port, which ``stop()`` and ``start()`` take down and bring back."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.workdir / "redis.log").open("a")
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            + ["--daemonize", "no", "--dir", str(self.workdir)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        assert wait_for(self.ping, timeout=10), "redis-server did not start: " + (self.workdir / "redis.log").read_text()[-2000:]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        assert not self.ping(), "redis-server still answers after being stopped"

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5)


@pytest.fixture
def own_redis(tmp_path):
    needs(
        connection.vendor == "postgresql",
        "DATABASE_URL is not PostgreSQL: worker processes must see the test's committed rows in a shared database",
    )
    needs(bool(shutil.which("redis-server")), "redis-server is not installed: the Redis fault tests run a Redis of their own")
    workdir = tmp_path / "redis"
    workdir.mkdir()
    server = RedisServer(workdir)
    server.start()
    try:
        yield server
    finally:
        if server.process and server.process.poll() is None:
            server.process.terminate()
            server.process.wait(timeout=10)


def _reset_producer() -> None:
    app._pool = None
    app.amqp._producer_pool = None


@contextlib.contextmanager
def celery_sends_to(url: str, queue: str):
    """Point this process's Celery (the web process, in production) at ``url``/``queue`` and stop running tasks
    in-process, as with ``REDIS_URL`` set in production."""
    saved = (app.conf.broker_url, app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.broker_url, app.conf.task_always_eager, app.conf.task_default_queue = url, False, queue
    _reset_producer()
    broker.reset()
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager, app.conf.task_default_queue = saved
        _reset_producer()
        broker.reset()


# --- Celery workers ---------------------------------------------------------------------------------------------


class Worker:
    """One ``celery worker`` process against the test database and the given broker, logging to a file."""

    def __init__(
        self, *, name, broker_url, queue, tmp_path: Path, pool="prefork", concurrency=2, env=None, app_module="config", kinds=None
    ):
        """``queue``: the default queue of the test's family; the worker consumes every queue of it, or only those of
        ``kinds`` (core/queues.py: "rollups", "webhooks"..., None for the default queue itself)."""
        self.name = name
        self.log_path = tmp_path / f"worker-{name}.log"
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir(exist_ok=True)
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": broker_url,
            "CELERY_QUEUE": queue,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            "ROLLUP_COALESCE_SECONDS": "0",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.argv = [sys.executable, "-m", "celery", "-A", app_module, "worker", f"--pool={pool}", "--loglevel=INFO"]
        if pool == "prefork":
            self.argv.append(f"--concurrency={concurrency}")
        # No gossip, mingle or heartbeat: one worker per queue, and a second saved at start-up.
        consumed = queues(queue) if kinds is None else [queue_name(kind, queue) for kind in kinds]
        self.argv += ["-Q", ",".join(consumed), "-n", f"{name}-{queue}@%h"]
        self.argv += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        self.process: subprocess.Popen | None = None

    def start(self, *, wait_ready: bool = True) -> "Worker":
        log = self.log_path.open("a")
        # A session (process group) of its own, so that kill() takes the pool processes down with the main one.
        self.process = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        if wait_ready:
            assert wait_for(lambda: " ready." in self.log() or self.process.poll() is not None, timeout=60, interval=0.2)
            assert self.process.poll() is None, f"worker {self.name} exited at start-up:\n{self.log()[-4000:]}"
        return self

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL to the worker and its pool processes (a machine or container lost): no warm shutdown, nothing
        acknowledged or handed back to the broker."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def mails(self) -> list[str]:
        """The Message-IDs of the e-mails the worker sent (Django's file backend may append several to one file)."""
        return [
            line.split(":", 1)[1].strip()
            for path in sorted(self.mail_dir.iterdir())
            for line in path.read_text().splitlines()
            if line.startswith("Message-ID:")
        ]


@pytest.fixture
def workers():
    """Start workers with ``workers.append(Worker(...).start())``; whatever still runs is killed at the end (their
    broker is the test's own Redis, which goes too: a warm shutdown would only cost time)."""
    started: list[Worker] = []
    yield started
    for worker in started:
        if worker.process is not None and worker.process.poll() is None:
            worker.kill()


@pytest.fixture
def queue():
    return f"faults-{uuid.uuid4().hex[:8]}"


# --- webhook receivers ------------------------------------------------------------------------------------------


class Receiver:
    """A local webhook receiver: records every POST (delivery id, arrival time, signature valid), waits ``delay``
    seconds, then answers ``status``. Both can change while it runs (a receiver that recovers)."""

    def __init__(self, name: str, *, secret: str, delay: float = 0.0, status: int = 200):
        self.name, self.secret, self.delay, self.status = name, secret, delay, status
        self.hits: list[dict] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                from notifications.webhooks import verify

                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                delay, status = receiver.delay, receiver.status
                with receiver._lock:
                    receiver.hits.append(
                        {
                            "delivery": self.headers.get("X-Portal-Delivery"),
                            "event": json.loads(body)["id"],
                            "at": time.monotonic(),
                            "wall": time.time(),
                            "signed": verify(receiver.secret, body, self.headers.get("X-Portal-Signature", "")),
                            "answered": status,
                            "delay": delay,
                        }
                    )
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # the portal hung up on a slow answer: expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, name=f"receiver-{name}", daemon=True)
        self.thread.start()

    def deliveries(self) -> list[str]:
        with self._lock:
            return [hit["delivery"] for hit in self.hits]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    """``receivers.append(Receiver(...))``; all are shut down at the end."""
    made: list[Receiver] = []
    yield made
    for receiver in made:
        receiver.close()
