"""`python -m molapp.jobs.runner JOB_DIR`: run one training job (started by
`molapp.jobs.manager.JobManager`, in its own session so it outlives the server that
started it): `python -m molapp.train` with the job's arguments, writing the checkpoint
into JOB_DIR/out and its progress into JOB_DIR/progress.jsonl; on success the checkpoint
becomes the panel MOLAPP_HOME/panels/<name>. The reason of a failure is what the train
command said (`error:` lines), or the exception's one-line message: the traceback goes to
the job's log only. Then it starts the next queued job.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import traceback
from pathlib import Path

from molapp.jobs.home import panels_dir
from molapp.jobs.manager import CANCELLED, DONE, FAILED, RUNNING, JobManager, _read_json, _write_json


def failure_reason(log: Path, code: int) -> str:
    """The `error:` lines the train command printed (e.g. the data checks'), else a plain line."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    errors = [line.removeprefix("error: ").strip() for line in lines if line.startswith("error: ")]
    if errors:
        return "; ".join(errors)
    usage = [line.split("error: ", 1)[1] for line in lines if line.startswith("python -m molapp.train: error: ")]
    if usage:
        return usage[-1]
    return f"training stopped (exit code {code}); the details are in the job's log"


def publish(out: Path, name: str, home: Path) -> Path:
    """Move the finished checkpoint to panels/<name> (name-2, name-3, … if taken meanwhile)."""
    root = panels_dir(home)
    root.mkdir(parents=True, exist_ok=True)
    target, k = root / name, 2
    while target.exists():
        target, k = root / f"{name}-{k}", k + 1
    shutil.move(str(out), str(target))
    return target


def run(job_dir: Path) -> int:
    from molapp.cli import train as train_cli
    from molapp.models.checkpoint import read_card

    home = job_dir.parent.parent
    spec = _read_json(job_dir / "job.json")
    state = _read_json(job_dir / "state.json")
    state.update(status=RUNNING, pid=os.getpid(), started=state.get("started", time.time()))
    _write_json(job_dir / "state.json", state)
    out = job_dir / "out"
    shutil.rmtree(out, ignore_errors=True)
    argv = [*spec["train_args"], "--out", str(out), "--progress", str(job_dir / "progress.jsonl")]
    print("python -m molapp.train " + " ".join(argv), flush=True)
    reason = ""
    try:
        code = train_cli.main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code if isinstance(exc.code, int) else 2
    except Exception as exc:  # noqa: BLE001 - the job fails with a reason; the traceback stays in the log
        traceback.print_exc()
        code = 1
        reason = f"training failed: {type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}"
    sys.stdout.flush()
    sys.stderr.flush()
    state = _read_json(job_dir / "state.json")
    if state.get("status") == CANCELLED:  # cancelled while finishing
        shutil.rmtree(out, ignore_errors=True)
        return 1
    state.pop("reason", None)  # this process's own outcome is the job's
    if code == 0:
        panel = publish(out, spec["name"], home)
        state.update(status=DONE, finished=time.time(), panel=panel.name, metrics=read_card(panel).metrics)
    else:
        shutil.rmtree(out, ignore_errors=True)
        state.update(status=FAILED, finished=time.time(), reason=reason or failure_reason(job_dir / "log.txt", code))
    _write_json(job_dir / "state.json", state)
    JobManager(home).schedule()  # the next queued job, if any
    return 0 if code == 0 else 1


if __name__ == "__main__":
    raise SystemExit(run(Path(sys.argv[1]).resolve()))
