"""End to end in a real browser (issue 30): on the Train page upload a small labelled CSV,
train a GraphMem with a tiny budget in the background, wait for it, see the new panel in
the sidebar, predict a molecule with it, and delete it. Screenshots go to tests/artifacts/.

Skipped, with the reason shown, when chromium is not installed (`.ci/run` installs it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .browser_harness import CHROMIUM, launch_chromium, running_app, upload_file

from .conftest import FIXTURES, ROOT

ARTIFACTS = ROOT / "tests" / "artifacts"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
PANEL = "browser-assay"
pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="browser tests skipped: Debian chromium is not installed (apt-get install chromium)"),
              pytest.mark.slow]


@pytest.fixture(scope="module")
def app_url():
    with running_app(health_seconds=90) as url:
        yield url


def wait_idle(page, timeout: float = 120_000) -> None:
    page.wait_for_timeout(300)  # let a rerun start before waiting for it to finish
    page.wait_for_selector(IDLE, timeout=timeout)


def test_upload_train_predict_and_delete(app_url):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        page.set_default_navigation_timeout(300_000)  # a loaded machine serves the first page slowly
        page.set_default_timeout(180_000)  # each rerun, on a machine shared with training jobs
        page.goto(f"{app_url}/train")
        expect(page.get_by_text("Train a panel on your data")).to_be_visible(timeout=300_000)  # a cold server
        wait_idle(page)

        upload_file(page, FIXTURES / "user_assay.csv")
        wait_idle(page)
        targets = page.locator("[data-testid='stMultiSelect']").filter(has_text="Targets")
        expect(targets).to_be_visible(timeout=60_000)  # the upload was read: its columns are offered (slowly on a loaded machine)
        targets.click()
        page.get_by_role("option", name="activity").click()
        page.keyboard.press("Escape")
        wait_idle(page)
        expect(page.get_by_text("80 molecules ready from 80 rows")).to_be_visible(timeout=60_000)

        page.get_by_text("quick", exact=True).click()
        wait_idle(page)
        page.get_by_text("Advanced", exact=True).click()
        for label, value in (("Max epochs", "2"), ("Hidden size", "16"), ("Hops (GraphMem)", "2")):
            box = page.get_by_label(label, exact=True)
            box.fill(value)
            box.press("Enter")
            wait_idle(page)
        name = page.get_by_label("Panel name")
        name.fill(PANEL)
        name.press("Enter")
        wait_idle(page)
        page.screenshot(path=str(ARTIFACTS / "train-form.png"), full_page=True)

        page.get_by_role("button", name="Train").click()
        # the job runs in its own process; the page follows it and reruns when it is done
        expect(page.get_by_text(f"Panel {PANEL} is ready")).to_be_visible(timeout=300_000)
        wait_idle(page)
        assert page.locator("[data-testid='stException']").count() == 0
        page.screenshot(path=str(ARTIFACTS / "train-done.png"), full_page=True)
        home = Path(os.environ["MOLAPP_HOME"])
        assert (home / "panels" / PANEL / "map.safetensors").exists()

        # the new panel is in the sidebar of every page: open Predict with it and score a molecule
        page.get_by_role("button", name="Predict").first.click()
        wait_idle(page)
        sidebar = page.locator("[data-testid='stSidebar']")
        expect(sidebar.get_by_text(f"Checkpoint {PANEL}")).to_be_visible(timeout=60_000)  # the sidebar's panel is the new one
        box = page.get_by_label("SMILES", exact=True)
        box.fill("CCN(CC)CC")
        box.press("Enter")
        wait_idle(page)
        expect(page.get_by_text("activity").first).to_be_visible(timeout=60_000)
        assert page.locator("[data-testid='stException']").count() == 0
        assert page.get_by_text("Something went wrong").count() == 0
        page.screenshot(path=str(ARTIFACTS / "train-predict.png"), full_page=True)

        # delete it on the Train page: gone from disk and from the sidebar
        page.goto(f"{app_url}/train")
        wait_idle(page)
        page.get_by_role("button", name="Delete").first.click()
        page.get_by_role("button", name="Delete for good").click()
        wait_idle(page)
        expect(page.get_by_text("None yet: train one above")).to_be_visible(timeout=60_000)
        assert not (home / "panels" / PANEL).exists()
        page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first.click()
        options = page.get_by_role("option")
        expect(options.first).to_be_visible()
        assert not any(PANEL in text for text in options.all_inner_texts())
        page.keyboard.press("Escape")
        browser.close()
