"""Load test: N browser sessions use one app server at the same time. Each pastes its own
molecule on Predict & explain and checks the page and its CSV download show that molecule.
Then it uploads its own list of M molecules to Triage, with a few bad rows among them. It
scores the list, waits for the table and downloads the CSV export. The script counts
errors shown on the page (Streamlit exception boxes, the error boundary's message, checks
that failed), timeouts, and cross-talk (another session's molecule or ID on this session's
page or export). Every session uses different molecules, so cross-talk shows up. A
psutil sampler records the peak RSS of the server and all its child processes every
0.5 s. After the load, the same code, run alone, re-scores a sample of each session's
rows: scores that differ count as wrong. Results go to bench/results/load-test.json.

    .venv/bin/python bench/load_test.py [--sessions 10] [--molecules 500] [--panel TITLE_OR_CHECKPOINT]
                                        [--timeout 900] [--results-dir bench/results]

The browser (one headless chromium, one context per session) runs on the same machine as
the server, so the figures include its load. Needs Debian's chromium and the playwright
package; `playwright install` is not used.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import random
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The one place this script takes the browser-test harness from (starting the app, chromium's
# path and flags): it may move out of the package into tests/, so only this line would change.
from tests.browser_harness import CHROMIUM, free_port, launch_chromium, start_app, wait_until_healthy  # noqa: E402
from molapp.app.panels import list_panels  # noqa: E402
from molapp.chem.standardize import standardize  # noqa: E402
from molapp.data.registry import csv_path  # noqa: E402
from molapp.evaluation.provenance import provenance  # noqa: E402

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
MAIN = "[data-testid='stMain']"
ERROR_BOUNDARY_TEXT = "Something went wrong"  # molapp/app/errors.py: an unexpected exception, with an error id
SLOT_WAIT_TEXT = "Waiting for a free slot"  # molapp/app/resources.py: all of the server's scoring slots are busy
SUMMARY = re.compile(r"([\d,]+) of ([\d,]+) rows\s*pass the filters · ([\d,]+) input rows could not be used")
# Bad rows, one of each kind, put among every session's molecules. `tag` (a run of C's, a
# different length for each session) makes each bad row differ between sessions. None of
# them starts with =, +, - or @, which the CSV export would quote as text.
BAD_ROW_KINDS = {
    "unclosed ring": lambda tag: f"C1CC{tag}",
    "unclosed branch": lambda tag: f"C(C{tag}",
    "unknown element": lambda tag: f"[Xx]{tag}",
    "non-ASCII text (issue 27's lost-file SMILES)": lambda tag: "C(" + "é" * 20 + tag,
    "empty SMILES": lambda tag: "",
}
# Notes in the page when the script starts running, so a wait can tell "the rerun I asked
# for has finished" from "the previous run had finished".
RERUN_WATCH = """() => {
  window.__loadTestRerunSeen = false;
  const app = document.querySelector("[data-testid='stApp']");
  new MutationObserver(() => {
    if (app.getAttribute("data-test-script-state") === "running") window.__loadTestRerunSeen = true;
  }).observe(app, {attributes: true, attributeFilter: ["data-test-script-state"]});
}"""
SCORE_TOLERANCE = 1e-3  # float32 scores, batched differently in the server and here


@dataclass
class SessionPlan:
    """What one session sends: its Predict molecule and its Triage rows (ids and SMILES)."""

    index: int
    predict_smiles: str
    predict_canonical: str
    ids: list[str]
    smiles: list[str]
    bad_rows: set[int]  # positions in ids/smiles that are meant to come back flagged

    @property
    def name(self) -> str:
        return f"s{self.index:02d}"

    def csv_text(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["smiles", "id"])
        writer.writerows(zip(self.smiles, self.ids))
        return buffer.getvalue()


@dataclass
class SessionResult:
    session: str
    status: str = "not started"  # "held" (every check passed), "failed", "timed out"
    wall_seconds: float = 0.0
    phase_seconds: dict = field(default_factory=dict)
    waited_for_slot: bool = False
    errors: list[str] = field(default_factory=list)  # exception boxes, error-boundary messages, failed checks
    timeouts: list[str] = field(default_factory=list)
    cross_talk: int = 0  # observations of another session's molecule or ID
    checks: int = 0
    triage_rows_back: int | None = None
    triage_rows_flagged: int | None = None
    export_rows: int | None = None
    # kept for the check against a run without load, not written to the results file
    predict_values: dict = field(default_factory=dict, repr=False)
    triage_values: dict = field(default_factory=dict, repr=False)
    unexpected_status: dict = field(default_factory=dict, repr=False)

    def check(self, passed: bool, failure: str) -> bool:
        self.checks += 1
        if not passed:
            self.errors.append(failure)
        return passed


# ---------------------------------------------------------------- inputs


def session_plans(sessions: int, molecules: int, data_dir: str | None, seed: int) -> list[SessionPlan]:
    """Distinct molecules for every session, from MoleculeNet HIV (41k molecules, mostly not
    in the panels' training data), shuffled with `seed`. Only molecules the app's
    standardizer accepts are taken as good rows. No canonical SMILES is used twice, so
    any molecule seen on a page has exactly one owner."""
    bad_count = min(len(BAD_ROW_KINDS), molecules // 4)
    good_per_session = molecules - bad_count
    with open(csv_path("hiv", data_dir, download=False), newline="") as handle:
        pool = [record["smiles"] for record in csv.DictReader(handle)]
    random.Random(seed).shuffle(pool)
    needed, taken, seen = sessions * (good_per_session + 1), [], set()
    for smiles in tqdm(pool, desc="choosing molecules", unit="mol", leave=False):
        record = standardize(smiles)
        if record.ok and not record.changes and record.canonical_smiles not in seen:
            seen.add(record.canonical_smiles)
            taken.append((smiles, record.canonical_smiles))
            if len(taken) == needed:
                break
    if len(taken) < needed:
        raise SystemExit(f"only {len(taken)} usable distinct HIV molecules; {needed} needed")
    plans = []
    for s in range(sessions):
        chunk = taken[s * (good_per_session + 1) : (s + 1) * (good_per_session + 1)]
        (predict_smiles, predict_canonical), good = chunk[0], [smiles for smiles, _ in chunk[1:]]
        bad_positions = [round((k + 1) * molecules / (bad_count + 1)) for k in range(bad_count)]
        bad_smiles = iter(make(f"C{'C' * s}") for make in list(BAD_ROW_KINDS.values())[:bad_count])
        good_smiles = iter(good)
        smiles = [next(bad_smiles) if i in bad_positions else next(good_smiles) for i in range(molecules)]
        ids = [f"s{s:02d}-{i:04d}" for i in range(molecules)]
        plans.append(SessionPlan(s, predict_smiles, predict_canonical, ids, smiles, set(bad_positions)))
    return plans


# ---------------------------------------------------------------- server memory


class ProcessTreeSampler(threading.Thread):
    """Sums the RSS of a process and all its descendants every `interval` seconds; keeps the
    peak, the peak number of processes and a coarse timeline. RSS counts pages shared
    between forked workers once per process, so the sum over-states the memory actually
    used; it is the figure `ps` and the issue report."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_bytes = 0
        self.peak_processes = 0
        self.latest_bytes = 0
        self.timeline: list[tuple[float, int]] = []  # (seconds since start, MB) every 5 s
        self.samples = 0
        self._stopping = threading.Event()

    def sample(self) -> int:
        try:
            processes = [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0
        total = 0
        for process in processes:
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:  # a worker that ended between the listing and now
                continue
        self.peak_processes = max(self.peak_processes, len(processes))
        return total

    def run(self) -> None:
        start = time.perf_counter()
        while not self._stopping.is_set():
            self.latest_bytes = self.sample()
            self.peak_bytes = max(self.peak_bytes, self.latest_bytes)
            if self.samples % 10 == 0:
                self.timeline.append((round(time.perf_counter() - start, 1), round(self.latest_bytes / 2**20)))
            self.samples += 1
            self._stopping.wait(self.interval)

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=5)


def wait_healthy(url: str, seconds: float = 120) -> None:
    if not wait_until_healthy(url, seconds):
        raise SystemExit(f"streamlit did not answer its health check within {seconds:.0f} s")


# ---------------------------------------------------------------- one session


class SessionTimeout(Exception):
    pass


class Session:
    """Drives one browser context through Predict and Triage and records what it saw."""

    def __init__(self, plan: SessionPlan, plans: list[SessionPlan], context, url: str, panel_title: str | None,
                 tasks: list[str], deadline: float, workdir: Path, progress: tqdm) -> None:
        self.plan, self.context, self.url, self.panel_title = plan, context, url, panel_title
        self.tasks, self.deadline, self.workdir, self.progress = tasks, deadline, workdir, progress
        self.result = SessionResult(plan.name)
        # Whose is what: every other session's molecules and IDs, to recognise cross-talk.
        self.owner = {}
        for other in plans:
            if other.index != plan.index:
                self.owner[other.predict_canonical] = other.name
                self.owner.update({s: other.name for s in other.smiles if s})
                self.owner.update({i: other.name for i in other.ids})

    def remaining_ms(self) -> float:
        left = self.deadline - time.perf_counter()
        if left <= 0:
            raise SessionTimeout("the session's time limit ran out")
        return left * 1000

    async def wait_idle(self, page) -> None:
        await page.wait_for_timeout(300)  # let a rerun start before waiting for it to finish
        await page.wait_for_selector(IDLE, timeout=self.remaining_ms())

    async def rerun_and_wait(self, page, action) -> None:
        """Do `action` (a click that reruns the script) and wait until that rerun has ended.
        Waiting for the idle state alone races: on a loaded server the rerun may not have
        started yet, and the page still shows the previous run's widgets."""
        await page.evaluate(RERUN_WATCH)
        await action()
        await page.wait_for_function(f"window.__loadTestRerunSeen && document.querySelector({IDLE!r}) !== null",
                                     timeout=self.remaining_ms(), polling=250)

    async def page_errors(self, page, phase: str) -> None:
        """Exception boxes and the error boundary's message, each counted as an error."""
        for box in await page.locator("[data-testid='stException']").all():
            self.result.errors.append(f"{phase}: exception box: {(await box.inner_text())[:300]}")
        for message in await page.locator(MAIN).get_by_text(ERROR_BOUNDARY_TEXT).all():
            self.result.errors.append(f"{phase}: {(await message.inner_text())[:300]}")

    async def download(self, page, button) -> str:
        async with page.expect_download(timeout=self.remaining_ms()) as info:
            await button.click()
        download = await info.value
        failure = await download.failure()
        if failure:
            raise RuntimeError(f"download failed: {failure}")
        return Path(await download.path()).read_text(encoding="utf-8")

    def note_cross_talk(self, seen: str, where: str) -> bool:
        owner = self.owner.get(seen)
        if owner:
            self.result.cross_talk += 1
            self.result.errors.append(f"cross-talk: {where} shows {owner}'s {seen!r}")
        return bool(owner)

    async def run(self) -> SessionResult:
        start = time.perf_counter()
        phase = "open"
        page = await self.context.new_page()
        try:
            await page.goto(self.url, timeout=self.remaining_ms())
            await self.wait_idle(page)
            if self.panel_title:
                await page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first.click()
                await page.get_by_role("option").filter(has_text=self.panel_title).first.click()
                await self.wait_idle(page)
            await self.page_errors(page, phase)
            self.result.phase_seconds[phase] = round(time.perf_counter() - start, 1)
            phase = "predict"
            await self.predict(page)
            self.progress.update(1)
            phase = "triage"
            await self.triage(page)
            self.progress.update(1)
            self.result.status = "held" if not self.result.errors else "failed"
        except (SessionTimeout, PlaywrightTimeoutError) as exc:
            self.result.timeouts.append(f"{phase}: {str(exc).splitlines()[0]}")
            self.result.status = "timed out"
        except Exception as exc:  # noqa: BLE001 - anything else the page did is an error of this session, not of the run
            self.result.errors.append(f"{phase}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            self.result.status = "failed"
        finally:
            self.result.wall_seconds = round(time.perf_counter() - start, 1)
            try:
                await page.screenshot(path=str(self.workdir / f"{self.plan.name}-end.png"), timeout=30_000)
            except Exception:  # noqa: BLE001 - a screenshot is for looking at afterwards, not a figure
                pass
        tqdm.write(f"{self.plan.name}: {self.result.status} in {self.result.wall_seconds:.0f} s"
                   + (f" ({len(self.result.errors)} errors, {len(self.result.timeouts)} timeouts)" if self.result.status != "held" else ""))
        return self.result

    async def predict(self, page) -> None:
        """Paste this session's molecule; the card, the predictions and the CSV must be its own."""
        plan, result, started = self.plan, self.result, time.perf_counter()
        box = page.get_by_label("SMILES", exact=True)
        await box.fill(plan.predict_smiles)
        await box.press("Enter")
        main = page.locator(MAIN)
        await main.get_by_text("pasted", exact=True).wait_for(timeout=self.remaining_ms())
        await self.wait_idle(page)
        await main.get_by_text("Predictions", exact=True).wait_for(timeout=self.remaining_ms())
        await self.page_errors(page, "predict")
        card = (await main.locator("[data-testid='stCode'] code").first.inner_text()).strip()
        if not self.note_cross_talk(card, "the Predict card"):
            result.check(card == plan.predict_canonical, f"predict: the card shows {card!r}, not {plan.predict_canonical!r}")
        exported = list(csv.DictReader(io.StringIO(await self.download(page, page.get_by_role("button", name="Download results (CSV)")))))
        await self.wait_idle(page)  # this download button reruns the page
        result.check(len(exported) == len(self.tasks), f"predict: the CSV has {len(exported)} rows for {len(self.tasks)} tasks")
        for row in exported:
            for column, expected in (("input_smiles", plan.predict_smiles), ("canonical_smiles", plan.predict_canonical)):
                if not self.note_cross_talk(row[column], f"the Predict CSV's {column}"):
                    result.check(row[column] == expected, f"predict: the CSV's {column} is {row[column]!r}, not {expected!r}")
            value = row.get("probability") or row.get("prediction")
            result.predict_values[row["task"]] = float(value) if value else float("nan")
        result.phase_seconds["predict"] = round(time.perf_counter() - started, 1)

    async def triage(self, page) -> None:
        """Upload this session's rows, score them, and check the table and the CSV export."""
        plan, result, started = self.plan, self.result, time.perf_counter()
        count = len(plan.smiles)
        await page.locator("[data-testid='stSidebarNav']").get_by_text("Triage").click()
        await self.wait_idle(page)
        upload = self.workdir / f"load-test-{plan.name}.csv"
        upload.write_text(plan.csv_text(), encoding="utf-8")
        # As a user does (click, choose): a file set on the input before Streamlit's lazily
        # loaded uploader is live is dropped (tests/browser_harness.py: upload_file).
        async with page.expect_file_chooser() as chooser:
            await page.get_by_test_id("stFileUploader").first.get_by_role("button", name="Upload", exact=True).click()
        await (await chooser.value).set_files(str(upload))
        await self.wait_idle(page)
        score_button = page.get_by_role("button", name=f"Score {count:,} molecules")
        await score_button.wait_for(timeout=self.remaining_ms())
        result.phase_seconds["triage_upload"] = round(time.perf_counter() - started, 1)

        clicked = time.perf_counter()
        await score_button.click()
        summary, first_progress = page.locator(MAIN).locator("[data-testid='stMarkdownContainer']").filter(has_text="pass the filters"), None
        # Poll rather than wait on one selector: the page may first say it is waiting for a
        # scoring slot, then show progress, then the table (or an error).
        while True:
            self.remaining_ms()
            if not result.waited_for_slot and await page.get_by_text(SLOT_WAIT_TEXT).count():
                result.waited_for_slot = True
            if first_progress is None and await page.locator("[data-testid='stProgress']").count():
                first_progress = time.perf_counter()
            if await summary.count() and await page.locator(IDLE).count():
                break
            if await page.locator("[data-testid='stException']").count() or await page.locator(MAIN).get_by_text(ERROR_BOUNDARY_TEXT).count():
                break
            await page.wait_for_timeout(1000)
        done = time.perf_counter()
        result.phase_seconds["triage_wait_for_slot"] = round((first_progress or done) - clicked, 1)
        result.phase_seconds["triage_score"] = round(done - (first_progress or clicked), 1)
        await self.page_errors(page, "triage")
        if not await summary.count():
            raise RuntimeError("the Triage page has no results table")
        shown = SUMMARY.search(await summary.first.inner_text())
        if result.check(shown is not None, "triage: the summary line did not read as expected"):
            passing, total, flagged = (int(g.replace(",", "")) for g in shown.groups())
            result.triage_rows_back, result.triage_rows_flagged = total, flagged
            result.check(total == count, f"triage: the page has {total} rows, {count} were sent")
            result.check(flagged == len(plan.bad_rows), f"triage: {flagged} rows flagged, {len(plan.bad_rows)} bad rows were sent")

        exporting = time.perf_counter()
        await self.rerun_and_wait(page, page.get_by_text("All rows", exact=True).click)
        text = await self.download(page, page.get_by_role("button", name=f"CSV ({count:,} rows)"))
        (self.workdir / f"export-{plan.name}.csv").write_text(text, encoding="utf-8")
        self.check_export(list(csv.DictReader(io.StringIO(text))))
        await self.page_errors(page, "triage export")
        result.phase_seconds["triage_export"] = round(time.perf_counter() - exporting, 1)

    def check_export(self, rows: list[dict]) -> None:
        """Every row back, in the order sent, this session's own, bad rows flagged; a few
        scores kept for the check without load."""
        plan, result = self.plan, self.result
        result.export_rows = len(rows)
        result.check(len(rows) == len(plan.smiles), f"triage: the CSV export has {len(rows)} rows, {len(plan.smiles)} were sent")
        position_sent = {row_id: position for position, row_id in enumerate(plan.ids)}
        wrong_order = 0
        for position, row in enumerate(rows):
            smiles, row_id = row["smiles"], row["id"]
            if self.note_cross_talk(row_id, "the Triage export") or (smiles and self.note_cross_talk(smiles, "the Triage export")):
                continue
            sent_at = position_sent.get(row_id)
            if not result.check(sent_at is not None and smiles == plan.smiles[sent_at], f"triage: exported row {row_id!r} {smiles!r} was not sent"):
                continue
            wrong_order += sent_at != position
            # by the position it was sent at: a row out of order is still judged as itself
            expected = "error" if sent_at in plan.bad_rows else "ok"
            if row["status"] != expected:
                result.unexpected_status[sent_at] = row["status"]
            elif expected == "error":
                result.check(bool(row["error"]), f"triage: bad row {row_id} is flagged without a reason")
            else:
                result.triage_values[sent_at] = [float(row[t]) for t in self.tasks]
        result.check(wrong_order == 0, f"triage: {wrong_order} exported rows are not in the order sent")
        bad_flagged_ok = [p for p, status in result.unexpected_status.items() if p in plan.bad_rows]
        result.check(not bad_flagged_ok, f"triage: bad rows {bad_flagged_ok} came back ok")


# ---------------------------------------------------------------- the run


async def show_server_memory(progress: tqdm, sampler: ProcessTreeSampler) -> None:
    while True:
        progress.set_postfix_str(f"server RSS {sampler.latest_bytes / 2**20:,.0f} MB, peak {sampler.peak_bytes / 2**20:,.0f} MB, "
                                 f"load {os.getloadavg()[0]:.1f}")
        await asyncio.sleep(5)


async def drive_sessions(url: str, plans: list[SessionPlan], panel_title: str | None, tasks: list[str], timeout: float,
                         workdir: Path, sampler: ProcessTreeSampler) -> list[SessionResult]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)  # the harness's launch: with the async API it returns a coroutine
        contexts = [await browser.new_context(viewport={"width": 1400, "height": 3000}, accept_downloads=True) for _ in plans]
        for context in contexts:  # every wait is bounded by the session's deadline, not playwright's 30 s default
            context.set_default_timeout(timeout * 1000)
        with tqdm(total=2 * len(plans), desc="session phases (predict, triage)", unit="phase") as progress:
            deadline = time.perf_counter() + timeout
            sessions = [Session(plan, plans, context, url, panel_title, tasks, deadline, workdir, progress)
                        for plan, context in zip(plans, contexts)]
            show_memory = asyncio.create_task(show_server_memory(progress, sampler))
            results = await asyncio.gather(*(session.run() for session in sessions))
            show_memory.cancel()
        for context in contexts:
            await context.close()
        await browser.close()
    return list(results)


def check_scores_without_load(results: list[SessionResult], plans: list[SessionPlan], checkpoint: Path, tasks: list[str],
                              sample: int, seed: int) -> dict:
    """Re-score in this process, alone, what the sessions saw: each Predict molecule (with
    the page's own function, `explain`) and `sample` ok rows per session plus every row
    whose status differed from what was expected (with `Predictor.predict`, as Triage
    scores). A difference is a wrong score, or a wrong status, under load."""
    from molapp.explain.explanation import explain
    from molapp.inference.predictor import Predictor

    predictor = Predictor.load(checkpoint, "auto")
    rng = random.Random(seed)
    wrong, compared = [], 0
    for result, plan in tqdm(list(zip(results, plans)), desc="re-scoring a sample without load", unit="session"):
        if result.predict_values:
            alone = explain(predictor, plan.predict_smiles, tasks)
            for task, value in zip(alone.tasks, alone.values):
                compared += 1
                if not abs(result.predict_values.get(task, float("nan")) - float(value)) <= SCORE_TOLERANCE:
                    wrong.append(f"{plan.name} predict {task}: page {result.predict_values.get(task)}, alone {float(value):.4f}")
        positions = rng.sample(sorted(result.triage_values), min(sample, len(result.triage_values)))
        positions += [p for p in result.unexpected_status if p not in plan.bad_rows]
        if not positions:
            continue
        alone = predictor.predict([plan.smiles[p] for p in positions], tasks)
        for position, status, values in zip(positions, alone.status, alone.values):
            compared += 1
            if position in result.unexpected_status:
                if status != result.unexpected_status[position]:
                    wrong.append(f"{plan.name} row {plan.ids[position]}: status {result.unexpected_status[position]} under load, {status} alone")
                continue
            differences = [abs(a - float(b)) for a, b in zip(result.triage_values[position], values)]
            if not max(differences) <= SCORE_TOLERANCE:
                wrong.append(f"{plan.name} row {plan.ids[position]}: scores differ from a run alone by up to {max(differences):.4f}")
        for message in wrong:
            if message.startswith(plan.name + " ") and message not in result.errors:
                result.errors.append("wrong score: " + message)
                result.status = "failed" if result.status == "held" else result.status
    return {"values_compared": compared, "wrong": len(wrong), "tolerance": SCORE_TOLERANCE, "examples": wrong[:20]}


def choose_panel(choice: str | None):
    """The sidebar's default panel (its first), or the one whose checkpoint folder is
    `choice` or whose title contains it."""
    panels = list_panels()
    if not choice:
        return panels[0], False
    matches = [p for p in panels if p.path.name == choice] or [p for p in panels if choice.lower() in p.title.lower()]
    if len(matches) != 1:
        raise SystemExit(f"--panel {choice!r} matches {len(matches)} panels; choose one of: " + "; ".join(p.path.name for p in panels))
    return matches[0], matches[0] is not panels[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=10, help="browser sessions at once (default 10)")
    parser.add_argument("--molecules", type=int, default=500, help="molecules per session's Triage list, bad rows included (default 500)")
    parser.add_argument("--panel", default=None, help="checkpoint folder or part of a panel title (default: the sidebar's default panel)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds a session may take, start to export, before it counts as timed out (default 900)")
    parser.add_argument("--verify-rows", type=int, default=10, help="ok rows per session re-scored without load (default 10)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None, help="folder with MoleculeNet's hiv.csv (default: $MOLAPP_DATA)")
    parser.add_argument("--results-dir", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--work-dir", default=None, help="uploads, exports and end-of-session screenshots (default: a temporary folder)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found: install Debian's chromium (apt-get install --no-install-recommends chromium)")

    # Killed (timeout, kill PID): exit through the `finally` blocks, which stop the server and the browser.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    wall_start = time.perf_counter()
    panel, pick_panel = choose_panel(args.panel)
    tasks = list(panel.card.tasks)  # the sidebar selects every task of a panel by default
    plans = session_plans(args.sessions, args.molecules, args.data_dir, args.seed)
    workdir = Path(args.work_dir or tempfile.mkdtemp(prefix="molapp-load-test-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"{args.sessions} sessions × {args.molecules} molecules ({len(plans[0].bad_rows)} bad rows each) on {panel.title}; "
          f"uploads, exports and screenshots in {workdir}")

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    load_at_start = os.getloadavg()
    server = start_app(port)
    try:
        wait_healthy(url)
        sampler = ProcessTreeSampler(server.pid)
        sampler.start()
        time.sleep(1.0)
        rss_before_sessions = sampler.latest_bytes
        sessions_start = time.perf_counter()
        try:
            results = asyncio.run(drive_sessions(url, plans, panel.title if pick_panel else None, tasks, args.timeout, workdir, sampler))
        finally:
            sessions_seconds = time.perf_counter() - sessions_start
            sampler.stop()
        load_at_end = os.getloadavg()
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except Exception:  # noqa: BLE001 - it would not stop: make sure it does not outlive the run
            server.kill()

    verification = check_scores_without_load(results, plans, panel.path, tasks, args.verify_rows, args.seed)
    from molapp.app.resources import SCORING_SLOTS  # the server ran with this process's environment

    walls = [r.wall_seconds for r in results]
    record = {
        "sessions": args.sessions,
        "molecules_per_session": args.molecules,
        "bad_rows_per_session": len(plans[0].bad_rows),
        "bad_row_kinds": list(BAD_ROW_KINDS)[: len(plans[0].bad_rows)],
        "molecules_from": "MoleculeNet HIV, shuffled with --seed, distinct canonical SMILES across all sessions",
        "panel": panel.title,
        "checkpoint": str(panel.path.relative_to(ROOT)) if panel.path.is_relative_to(ROOT) else str(panel.path),
        "timeout_seconds": args.timeout,
        "sessions_held": sum(r.status == "held" for r in results),
        "sessions_failed": sum(r.status == "failed" for r in results),
        "sessions_timed_out": sum(r.status == "timed out" for r in results),
        "errors": sum(len(r.errors) for r in results),
        "timeouts": sum(len(r.timeouts) for r in results),
        "cross_talk": sum(r.cross_talk for r in results),
        "checks": sum(r.checks for r in results),
        "scores_checked_without_load": verification,
        "scoring_slots": SCORING_SLOTS,
        "sessions_that_waited_for_a_slot": sum(r.waited_for_slot for r in results),
        "peak_rss_mb": round(sampler.peak_bytes / 2**20),
        "rss_before_sessions_mb": round(rss_before_sessions / 2**20),
        "peak_server_processes": sampler.peak_processes,
        "rss_measure": "sum of RSS over the streamlit process and all its children, sampled every 0.5 s "
                       "(pages shared between forked processes counted once per process)",
        "rss_timeline_mb": sampler.timeline,
        "cpu_count": os.cpu_count(),
        "load_average_1min_at_start": round(load_at_start[0], 2),
        "load_average_1min_at_end": round(load_at_end[0], 2),
        "client": "one headless chromium on the same machine, one browser context per session",
        "sessions_seconds": round(sessions_seconds, 1),
        "session_wall_seconds": {"median": round(statistics.median(walls), 1), "max": max(walls)},
        "per_session": [{k: v for k, v in vars(r).items() if k not in ("predict_values", "triage_values", "unexpected_status")}
                        for r in results],
        "provenance": provenance(time.perf_counter() - wall_start),
    }
    results_dir = Path(args.results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    out = results_dir / "load-test.json"
    out.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    print(f"\n{record['sessions_held']} of {args.sessions} sessions held ({args.molecules} molecules each, {panel.path.name}); "
          f"errors {record['errors']}, timeouts {record['timeouts']}, cross-talk {record['cross_talk']} in {record['checks']} checks; "
          f"scores differing from a run without load: {verification['wrong']} of {verification['values_compared']}; "
          f"{record['sessions_that_waited_for_a_slot']} sessions waited for one of {SCORING_SLOTS} scoring slots; "
          f"peak server RSS {record['peak_rss_mb']:,} MB ({record['peak_server_processes']} processes, {record['rss_before_sessions_mb']} MB before); "
          f"sessions took {record['sessions_seconds']:.0f} s (slowest {record['session_wall_seconds']['max']:.0f} s) on {os.cpu_count()} CPUs, "
          f"load average {load_at_start[0]:.1f} at start. Written to {out}")
    return 0 if record["sessions_held"] == args.sessions else 1


if __name__ == "__main__":
    raise SystemExit(main())
