"""App latency: warm predict + 2D attention render for one molecule, and app start to first
prediction in a real browser. Writes bench/results/app-latency.json.

    .venv/bin/python bench/app_latency.py [--checkpoint checkpoints/graphmem-tox21-scaffold]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from molapp.app.examples import EXAMPLES  # noqa: E402
from tests.browser_harness import CHROMIUM, free_port, launch_chromium, start_app  # noqa: E402
from molapp.explain.explanation import explain  # noqa: E402
from molapp.explain.depict import weights_svg  # noqa: E402
from molapp.inference.predictor import Predictor  # noqa: E402
from molapp.evaluation.provenance import provenance  # noqa: E402


def warm_latency(checkpoint: str) -> dict:
    predictor = Predictor.load(checkpoint, "auto")
    explain(predictor, EXAMPLES[0].smiles)  # warm-up
    seconds = []
    for example in EXAMPLES:
        start = time.perf_counter()
        result = explain(predictor, example.smiles)
        weights_svg(result.mol, result.attention_for(result.tasks[0]))
        seconds.append(time.perf_counter() - start)
    return {"molecules": len(seconds), "median_seconds": round(statistics.median(seconds), 4), "max_seconds": round(max(seconds), 4)}


def start_to_first_prediction() -> float | None:
    if not Path(CHROMIUM).exists():
        return None
    from playwright.sync_api import sync_playwright

    port = free_port()
    start = time.perf_counter()
    server = start_app(port)
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page()
            while True:
                try:
                    page.goto(f"http://127.0.0.1:{port}")
                    break
                except Exception:  # noqa: BLE001 - server not listening yet
                    time.sleep(0.2)
            page.get_by_text("Predictions", exact=True).wait_for(timeout=120_000)
            elapsed = time.perf_counter() - start
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default="checkpoints/graphmem-tox21-scaffold")
    args = parser.parse_args()
    started = time.time()
    result = {
        "checkpoint": args.checkpoint,
        "warm_predict_and_attention_render": warm_latency(args.checkpoint),
        "app_start_to_first_prediction_seconds": start_to_first_prediction(),
        "provenance": provenance(time.time() - started),
    }
    out = ROOT / "bench" / "results" / "app-latency.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
