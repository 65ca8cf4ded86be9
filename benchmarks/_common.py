"""Helpers the HTTP benchmarks share: percentiles, a free port, their scratch database, manage.py."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def pct(samples: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of the samples."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of `url` if it is missing (keeps what is there)."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


class Server:
    """gunicorn as production runs it (DEBUG off from `env`), on a free loopback port."""

    def __init__(
        self,
        env: dict[str, str],
        workers: int,
        worker_class: str = "sync",
        threads: int = 1,
        app: str = "qingfeng.wsgi",
    ) -> None:
        self.port = free_port()
        gunicorn = str(Path(PY).parent / "gunicorn")
        cmd = [gunicorn, app, "-w", str(workers), "-k", worker_class, "--threads", str(threads)]
        if app != "qingfeng.wsgi":
            cmd += ["--pythonpath", str(ROOT / "benchmarks")]  # a benchmark's own WSGI module
        cmd += ["-b", f"127.0.0.1:{self.port}", "--log-level", "warning"]
        if os.environ.get("BENCH_ACCESS_LOG"):
            cmd += ["--access-logfile", "-"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise SystemExit("gunicorn did not start")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
