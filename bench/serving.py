"""What the benchmarks' servers and load clients share: waiting for a server to answer, stopping
it, and running client threads together for a fixed time (so that every benchmark, and every
baseline it runs beside ours, is started, loaded and timed the same way)."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path


def wait_until_serving(proc: subprocess.Popen, probe: Callable[[], bool], seconds: float) -> bool:
    """True once ``probe()`` does (a connection refused counts as not yet); False if the process
    exits or ``seconds`` pass first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if probe():
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def stop(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate ``proc`` and wait for it; kill it if it has not gone after ``timeout`` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()


def run_clients(client: Callable[[int, Callable[[], bool]], None], clients: int, seconds: float,
                before: Callable[[], None] | None = None) -> float:
    """Run ``client(n, running)`` in ``clients`` threads, released together; each loops while
    ``running()``, which turns false ``seconds`` after the release. ``before`` runs once the threads
    are ready and just before the release (to read a CPU counter). Returns the elapsed seconds, from
    the release until the last thread has finished its last request."""
    stop_at = [0.0]
    barrier = threading.Barrier(clients + 1)

    def running() -> bool:
        return time.monotonic() < stop_at[0]

    def body(n: int) -> None:
        barrier.wait()
        client(n, running)

    threads = [threading.Thread(target=body, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    if before is not None:
        before()
    stop_at[0] = time.monotonic() + seconds
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def run_flows(browsers: list, one_order: Callable[[object, int], str | None], seconds: float, *, port: int,
              before: Callable[[], None] | None = None) -> tuple[list[float], list[str], float]:
    """Each browser (an object with a keep-alive ``conn``) in its own thread places orders with
    ``one_order(browser, i)`` — None when every step answered as a browser expects, else the
    problem — until ``seconds`` have passed. Returns (the seconds of each whole order, the problems,
    the elapsed seconds). A connection that breaks counts as a problem and is opened again."""
    flows: list[float] = []
    problems: list[str] = []
    lock = threading.Lock()

    def client(n: int, running: Callable[[], bool]) -> None:
        browser, i = browsers[n], n
        while running():
            i += 1
            t = time.perf_counter()
            try:
                problem = one_order(browser, i)
            except (OSError, http.client.HTTPException) as exc:
                problem = repr(exc)
                browser.conn.close()
                browser.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            with lock:
                if problem is None:
                    flows.append(time.perf_counter() - t)
                else:
                    problems.append(problem)

    elapsed = run_clients(client, len(browsers), seconds, before)
    return flows, problems, elapsed


def ensure_venv(venv: Path, stamp: Path, requirements: list[str], stamp_text: str, *, name: str, log=print,
                check: Callable[[], None] | None = None) -> None:
    """A baseline's own virtualenv at ``venv`` with ``requirements`` installed by pip, once: kept while
    ``stamp`` holds ``stamp_text`` (what was asked for). ``check`` runs after an install, before the stamp."""
    if (venv / "bin" / "gunicorn").exists() and stamp.exists() and stamp.read_text() == stamp_text:
        return
    log(f"# {name}: installing its requirements into {venv} (once)")
    t0 = time.monotonic()
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements],
                   check=True)
    if check is not None:
        check()
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(stamp_text)
    log(f"# {name}: installed in {time.monotonic() - t0:.0f} s")


def clean_env(venv: Path, state: Path, settings_module: str, **variables: str) -> dict:
    """The environment a baseline's server runs in: its own virtualenv first on the PATH, its own
    settings module (kept in ``state``), none of our variables (no REDIS_URL, no DATABASE_URL of
    our bench), and ``variables``."""
    return {
        "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(state),
        "PYTHONPYCACHEPREFIX": str(state / "pycache"),  # compiled files kept, outside the source
        "DJANGO_SETTINGS_MODULE": settings_module,
        **variables,
    }
