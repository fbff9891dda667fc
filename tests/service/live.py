"""A real `labopt serve` process on a free port, for end-to-end tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    log_level = "warning"  # uvicorn's; "info" adds the access log to the output

    def __init__(self, database_url: str, workers: int | None = None, **env):
        """``workers``: server processes (``--workers``; default: labopt's); ``env``: LABOPT_*
        settings by lower-case name."""
        self.database_url = database_url
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # schemathesis and the access tests send many wrong keys: no brake on guessing here
        env = {"auth_failures_per_minute": 100_000, **env}
        self.env = {
            **os.environ,
            "LABOPT_DATABASE_URL": database_url,
            **{f"LABOPT_{k.upper()}": str(v) for k, v in env.items()},
        }
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> LiveServer:  # a loaded machine is slow
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "labopt.cli.main",
                "serve",
                "--port",
                str(self.port),
                "--log-level",
                self.log_level,
                *(["--workers", str(self.workers)] if self.workers else []),
            ],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # its own process group
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stdout.read().decode()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        self.kill()  # never left running behind a failed test
        raise RuntimeError(f"server did not start within {timeout:g} s")

    def _signal(self, sig) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)  # the server and its worker processes

    def kill(self) -> None:
        """SIGKILL to every process of the server: no chance to clean up."""
        if self.proc:
            self._signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        elif self.proc:
            self._signal(signal.SIGKILL)

    def cli(self, *args) -> dict:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "labopt.cli.main",
                *args,
                "--database-url",
                self.database_url,
                "--json",
            ],
            capture_output=True,
            check=False,
            text=True,
            env=self.env,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    def key(self, role: str, *scopes: str) -> dict:
        args = ["apikey", "create", "--role", role]
        for s in scopes:
            args += ["--scope", s]
        return {"Authorization": f"Bearer {self.cli(*args)['key']}"}


def local_only_page(browser, width: int = 1280, height: int = 900):
    """A browser page where every request that does not go to 127.0.0.1 (or a data: or blob:
    address) is aborted and remembered; console errors are remembered too. Returns (page,
    blocked addresses, errors)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    blocked: list[str] = []
    errors: list[str] = []

    def route(r):
        url = r.request.url
        if urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, blocked, errors
