"""Starting the app on a local port and a headless chromium to drive it: shared by the
browser tests and the latency benchmark (bench/app_latency.py). Test code, so it lives
here and not in the shipped package."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/lib/chromium/chromium"  # Debian's binary (/usr/bin/chromium is a wrapper script)
# As root chromium needs --no-sandbox; the rest keep it off this machine's closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int) -> subprocess.Popen:
    """`streamlit run app.py` on 127.0.0.1:port, in the background."""
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def wait_until_healthy(url: str, seconds: float) -> bool:
    """Poll the app's health endpoint until it answers "ok" (True) or `seconds` pass (False)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return True
        except OSError:
            time.sleep(0.5)
    return False


@contextlib.contextmanager
def running_app(health_seconds: float) -> Iterator[str]:
    """The app on a free local port, healthy, as its URL; stopped on exit."""
    port = free_port()
    server = start_app(port)
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_healthy(url, health_seconds):
            raise RuntimeError(f"streamlit did not answer its health check within {health_seconds:.0f} s")
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def upload_file(page, path: Path, uploader=None) -> None:
    """Choose `path` in a file uploader (the first on the page unless `uploader` is given) as a
    user does: click its Upload button and pick the file. Streamlit loads its uploader lazily,
    and a file set on the input before the uploader is live is dropped without a trace; a
    click that opens the file chooser proves it is live. Waits until the file is listed."""
    from playwright.sync_api import expect

    uploader = uploader if uploader is not None else page.get_by_test_id("stFileUploader").first
    with page.expect_file_chooser() as chooser:
        uploader.get_by_role("button", name="Upload", exact=True).click()
    chooser.value.set_files(str(path))
    expect(uploader.get_by_test_id("stFileChipName").filter(has_text=path.name)).to_be_visible()
