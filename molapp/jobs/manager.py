"""Training jobs in the background: each job runs `python -m molapp.train` in its own
process (`molapp.jobs.runner`), never in the Streamlit script, and keeps its state on disk
under `MOLAPP_HOME/jobs/<id>/`:

    job.json        what to run: the panel's name, the train command's arguments, a title
    state.json      status (queued, running, done, failed, cancelled), pid, times, reason, panel
    progress.jsonl  one JSON line per phase and per epoch (`molapp.jobs.progress`)
    log.txt         the process's output (the reason of a failure is its `error:` lines)
    data/           the uploaded file the job trains on
    out/            the checkpoint while it is written; moved to MOLAPP_HOME/panels/<name>
                    when the job succeeds, removed when it fails or is cancelled

Any `JobManager` reads the same files, so a page reload, a second browser or a restarted
server sees every job as it is. At most `max_running` jobs run at once (MOLAPP_TRAINING_SLOTS,
default 1); the others wait as "queued", oldest first, and start when a slot frees (a
finishing job starts the next itself, so the queue moves with no page open). A job
whose process is gone while it says "running" (the machine restarted) is marked failed.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from molapp.jobs.home import jobs_dir, molapp_home, panel_name_problem, panels_dir
from molapp.jobs.progress import read_progress

ROOT = Path(__file__).resolve().parents[2]
QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)
_children: list[subprocess.Popen] = []  # processes this server started, reaped as they end


def training_slots() -> int:
    return max(1, int(os.environ.get("MOLAPP_TRAINING_SLOTS", "1")))


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def _write_json(path: Path, value: dict) -> None:
    """Written whole or not at all: a reader never sees half a file."""
    partial = path.with_suffix(path.suffix + ".part")
    partial.write_text(json.dumps(value, indent=2), encoding="utf-8")
    partial.replace(path)


def process_alive(pid: int | None, marker: str) -> bool:
    """Whether process `pid` is alive and is the job's (its command line holds `marker`: a
    pid reused by another process after a restart does not count)."""
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if not cmdline:  # just started: the exec has not replaced the forked image yet (or a zombie)
            return not _is_zombie(pid)
    except OSError:
        return False
    return marker.encode() in cmdline


@dataclass
class Job:
    id: str
    directory: Path
    spec: dict
    state: dict

    @property
    def status(self) -> str:
        return self.state.get("status", QUEUED)

    @property
    def name(self) -> str:
        return self.spec["name"]

    @property
    def title(self) -> str:
        return self.spec.get("title", self.name)

    @property
    def reason(self) -> str:
        return self.state.get("reason", "")

    @property
    def out(self) -> Path:
        return self.directory / "out"

    def events(self) -> list[dict]:
        return read_progress(self.directory / "progress.jsonl")

    def epochs(self) -> list[dict]:
        return [e for e in self.events() if e.get("event") == "epoch"]

    def phase(self) -> str:
        phases = [e["phase"] for e in self.events() if e.get("event") == "phase"]
        return phases[-1] if phases else ""

    def metric(self) -> str | None:
        """The validation metric the progress reports (roc_auc, rmse), once training started."""
        return next((e.get("metric") for e in self.events() if e.get("phase") == "training"), None)

    def seconds_left(self) -> float | None:
        """At most this many seconds of training left: the epochs still allowed at the mean
        time per epoch so far (early stopping may end it sooner); None before the first epoch."""
        epochs = self.epochs()
        if self.status != RUNNING or not epochs:
            return None
        last = epochs[-1]
        per_epoch = last["seconds"] / max(1, last["epoch"])
        remaining = last["max_epochs"] - last["epoch"]
        patience_left = self.spec.get("patience")
        if patience_left:  # early stopping ends the run `patience` epochs after the best one at the latest
            remaining = min(remaining, max(0, last["best_epoch"] + patience_left - last["epoch"]))
        return remaining * per_epoch


class JobManager:
    def __init__(self, home: Path | None = None, max_running: int | None = None) -> None:
        self.home = Path(home) if home else molapp_home()
        self.root = jobs_dir(self.home)
        self.max_running = max_running or training_slots()
        self.root.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def _lock(self) -> Iterator[None]:
        """One scheduler at a time, across processes (pages of every session, runners)."""
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def job(self, job_id: str) -> Job | None:
        directory = self.root / job_id
        spec = _read_json(directory / "job.json")
        if not spec:
            return None
        return Job(job_id, directory, spec, _read_json(directory / "state.json") or {"status": QUEUED})

    def jobs(self) -> list[Job]:
        """Every job, newest first; running jobs whose process is gone are marked failed."""
        for child in list(_children):
            if child.poll() is not None:
                _children.remove(child)
        found = [j for j in (self.job(p.name) for p in self.root.iterdir() if p.is_dir()) if j is not None]
        for job in found:
            if job.status == RUNNING and not process_alive(job.state.get("pid"), job.id):
                job.state = self._read_state_after_exit(job)
        return sorted(found, key=lambda j: j.spec.get("created", 0), reverse=True)

    def _read_state_after_exit(self, job: Job) -> dict:
        """A running job's process is gone: its runner may have just written the final state;
        if not, it died without a word (killed, or the machine restarted)."""
        state = _read_json(job.directory / "state.json")
        if state.get("status") == RUNNING:
            state.update(status=FAILED, finished=time.time(),
                         reason="the training process stopped unexpectedly (the server or the machine restarted, or it ran out of memory)")
            _write_json(job.directory / "state.json", state)
            shutil.rmtree(job.out, ignore_errors=True)
        return state

    def queue_position(self, job: Job) -> int:
        """1 for the next job to start, 2 for the one after, …"""
        queued = sorted((j for j in self.jobs() if j.status == QUEUED), key=lambda j: j.spec.get("created", 0))
        return next((k + 1 for k, j in enumerate(queued) if j.id == job.id), 0)

    def names_in_use(self) -> set[str]:
        """Panel names taken: existing panels and jobs queued or running."""
        panels = {p.name for p in panels_dir(self.home).iterdir()} if panels_dir(self.home).exists() else set()
        return panels | {j.name for j in self.jobs() if j.status in (QUEUED, RUNNING)}

    def submit(self, name: str, train_args: list[str], data_file: Path | None = None, title: str = "",
               patience: int | None = None) -> Job:
        """Queue `python -m molapp.train TRAIN_ARGS` for a panel called `name`; `data_file` is
        copied into the job (and `{data}` in the arguments stands for the copy)."""
        problem = panel_name_problem(name)
        if problem:
            raise ValueError(problem)
        if name in self.names_in_use():
            raise ValueError(f"a panel or a queued job is already called {name!r}: choose another name")
        job_id = time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
        directory = self.root / job_id
        (directory / "data").mkdir(parents=True)
        args = list(train_args)
        if data_file is not None:
            copy = directory / "data" / Path(data_file).name
            shutil.copyfile(data_file, copy)
            args = [str(copy) if a == "{data}" else a for a in args]
        spec = {"name": name, "title": title or name, "train_args": args, "created": time.time(),
                **({"patience": patience} if patience else {})}
        _write_json(directory / "state.json", {"status": QUEUED})
        _write_json(directory / "job.json", spec)  # last: a job without it is not listed
        self.schedule()
        return self.job(job_id)

    def schedule(self) -> None:
        """Start queued jobs, oldest first, while fewer than `max_running` run."""
        with self._lock():
            jobs = self.jobs()
            running = sum(1 for j in jobs if j.status == RUNNING)
            for job in sorted((j for j in jobs if j.status == QUEUED), key=lambda j: j.spec.get("created", 0)):
                if running >= self.max_running:
                    break
                self._start(job)
                running += 1

    def _start(self, job: Job) -> None:
        log = open(job.directory / "log.txt", "ab")
        env = {**os.environ, "MOLAPP_HOME": str(self.home), "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        process = subprocess.Popen([sys.executable, "-m", "molapp.jobs.runner", str(job.directory)], cwd=ROOT, env=env,
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        _children.append(process)
        job.state = {"status": RUNNING, "pid": process.pid, "started": time.time()}
        _write_json(job.directory / "state.json", job.state)

    def cancel(self, job_id: str) -> None:
        """Stop a queued or running job: its process (and any worker it started) is killed,
        its partial checkpoint removed."""
        with self._lock():
            job = self.job(job_id)
            if job is None or job.status in FINISHED:
                return
            pid = job.state.get("pid") if job.status == RUNNING else None
            job.state.update(status=CANCELLED, finished=time.time(), reason="cancelled")
            _write_json(job.directory / "state.json", job.state)
            if pid and process_alive(pid, job.id):
                stop_process_group(pid)
            shutil.rmtree(job.out, ignore_errors=True)
        self.schedule()

    def remove(self, job_id: str) -> None:
        """Forget a finished job (its folder, data and log)."""
        job = self.job(job_id)
        if job is not None and job.status in FINISHED:
            shutil.rmtree(job.directory, ignore_errors=True)


def stop_process_group(pid: int, grace: float = 5.0) -> None:
    """SIGTERM the job's process group (the runner started its own session), then SIGKILL
    whatever is left after `grace` seconds."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.time() + grace
    while time.time() < deadline:
        for child in list(_children):
            if child.pid == pid and child.poll() is not None:
                _children.remove(child)
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
            return
        time.sleep(0.1)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return True
