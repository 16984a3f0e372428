"""End to end in a real browser: `streamlit run app.py` on 127.0.0.1 driven by Playwright in
Debian's chromium. Screenshots go to tests/artifacts/ (not committed).

Skipped, with the reason shown, when chromium is not installed (`.ci/run` installs it).

One server and one browser per module; each test opens its own browser context (a new
Streamlit session, nothing carried over from another test) and sets up the panel and
molecule it needs, so the tests pass alone and in any order.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser_harness import CHROMIUM, launch_chromium, running_app, upload_file

from .conftest import ROOT

ARTIFACTS = ROOT / "tests" / "artifacts"
pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="browser tests skipped: Debian chromium is not installed (apt-get install chromium)"),
              pytest.mark.slow]

TAMOXIFEN = "CCC(=C(c1ccccc1)c1ccc(OCCN(C)C)cc1)c1ccccc1"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


@pytest.fixture(scope="module")
def app_url():
    with running_app(health_seconds=60) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, app_url):
    """A fresh session on the Predict page with the default panel and molecule."""
    context = browser.new_context(viewport={"width": 1400, "height": 3000})
    page = context.new_page()
    page.goto(app_url, timeout=120_000)  # every test's session loads the app cold: give a loaded machine time
    wait_idle(page, timeout=180_000)
    yield page
    context.close()


def paste(page, smiles: str) -> None:
    box = page.get_by_label("SMILES", exact=True)
    box.fill(smiles)
    box.press("Enter")
    wait_idle(page)


def choose_panel(page, *words: str) -> None:
    """Pick the first sidebar panel whose title has every one of `words`."""
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first.click()
    options = page.get_by_role("option")
    for word in words:
        options = options.filter(has_text=word)
    options.first.click()
    wait_idle(page)


def wait_idle(page, timeout: float = 60_000) -> None:
    page.wait_for_timeout(300)  # let a rerun start before waiting for it to finish
    page.wait_for_selector(IDLE, timeout=timeout)


def compare_maps(page, option: str, plots: int, screenshot: str) -> None:
    """On the Map page: pick `option` under "Compare with", wait for `plots` maps, no error."""
    page.locator("[data-testid='stSelectbox']").filter(has_text="Compare with").click()
    page.get_by_role("option").filter(has_text=option).first.click()
    wait_idle(page)
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length == {plots}", timeout=60_000)
    page.wait_for_timeout(1500)
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)


def test_paste_predict_and_attention(page):
    paste(page, TAMOXIFEN)
    page.get_by_text("Predictions", exact=True).wait_for()
    main = page.locator("[data-testid='stMain']")
    # the rerun for the pasted molecule may still be drawing after the default molecule's page
    main.get_by_text("CCC(=C(c1ccccc1)c1ccc(OCCN(C)C)cc1)c1ccccc1").first.wait_for(timeout=60_000)
    assert "Cannot predict" not in main.inner_text()
    # the molecule card plus the two attention depictions
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stImage\"] img').length >= 3")
    viewer = page.frame_locator("iframe[data-testid='stIFrame']").first
    viewer.locator("canvas").first.wait_for(state="visible", timeout=30_000)
    # the default panel's GraphMem reads descriptors: which of them moved the prediction
    main.get_by_text("Whole-molecule descriptors", exact=False).first.wait_for(timeout=60_000)
    main.get_by_text("contribution (logit of the probability)", exact=True).first.wait_for(timeout=30_000)  # the chart's axis
    page.wait_for_timeout(1500)  # WebGL draws after the canvas appears
    page.screenshot(path=str(ARTIFACTS / "predict.png"), full_page=True)


def test_editor_round_trips_smiles(page):
    paste(page, TAMOXIFEN)  # the editor opens on the molecule last shown
    page.get_by_text("Draw", exact=True).click()
    wait_idle(page)
    page.wait_for_selector("[id^=jsme_inner_]", timeout=30_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "editor.png"), full_page=True)
    page.locator("#jsme_apply_btn").click()
    wait_idle(page)
    page.get_by_text("drawn", exact=True).wait_for(timeout=30_000)
    # the editor's SMILES came back: the same molecule (JSME adds the E/Z it drew)
    shown = page.locator("[data-testid='stMain'] [data-testid='stCode'] code").first.inner_text()
    assert shown.replace("/", "").replace("\\", "") == TAMOXIFEN


def test_bad_smiles_shows_message(page):
    paste(page, "C1CC")
    alert = page.locator("[data-testid='stAlert']").filter(has_text="Cannot predict")
    alert.wait_for()
    assert "unclosed ring" in alert.inner_text()
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(ARTIFACTS / "bad-smiles.png"), full_page=True)


def test_models_page(page, app_url):
    page.goto(f"{app_url}/models")
    wait_idle(page)
    page.get_by_text("Leaderboard", exact=True).first.wait_for()
    page.get_by_text("On its test split", exact=True).first.wait_for()
    # plotly draws after the script has run: on a loaded machine, seconds after
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stPlotlyChart\"]').length >= 3", timeout=60_000)
    assert page.locator("[data-testid='stPlotlyChart']").count() == 3
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(ARTIFACTS / "models.png"), full_page=True)


def test_a_fresh_servers_first_visit_to_a_page_address_gets_the_apps_navigation(browser):
    """Streamlit runs a page file alone, under file-name navigation ("app", "predict", …), when
    a fresh server's first request is a page's address; the page hands over to app.py's."""
    with running_app(health_seconds=60) as url:  # its own server: the first request must be this one
        context = browser.new_context(viewport={"width": 1400, "height": 1200})
        page = context.new_page()
        page.goto(f"{url}/triage", timeout=120_000)
        page.get_by_role("heading", name="Triage").first.wait_for(timeout=180_000)
        wait_idle(page, timeout=180_000)
        links = [link.inner_text().split("\n")[-1] for link in page.locator("[data-testid='stSidebarNav'] a").all()]
        assert links == ["Predict & explain", "Triage", "Embedding map", "Models", "Papers", "Train"] and page.url.endswith("/triage")
        context.close()


def test_memgnn_clusters(page):
    choose_panel(page, "ESOL", "MemGNN", "random split")
    paste(page, "CC(=O)Oc1ccccc1C(=O)O")
    page.get_by_text("Why: how MemGNN grouped the atoms", exact=True).wait_for()
    main = page.locator("[data-testid='stMain']")
    assert "log mol/L" in main.inner_text()
    assert page.locator("[data-testid='stException']").count() == 0
    # molecule card + cluster depiction, and the 3D view coloured by cluster
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stImage\"] img').length >= 2")
    viewer = page.frame_locator("iframe[data-testid='stIFrame']").first
    viewer.locator("canvas").first.wait_for(state="visible", timeout=30_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "clusters.png"), full_page=True)


def test_consensus_panel_says_whose_attention_it_shows(page):
    choose_panel(page, "Tox21", "Consensus")
    paste(page, "CC(C)(c1ccc(O)cc1)c1ccc(O)cc1")  # bisphenol A
    page.get_by_text("Why: where GraphMem looked", exact=True).wait_for(timeout=60_000)
    main = page.locator("[data-testid='stMain']")
    text = main.inner_text()
    assert "This panel is a consensus of GraphMem (ensemble of 3), MemGNN, a random forest on RDKit's whole descriptor list" in text
    assert "the consensus's GraphMem member's prediction was" in text and "Whole-molecule descriptors" not in text
    assert page.locator("[data-testid='stException']").count() == 0
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stImage\"] img').length >= 2")
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "consensus.png"), full_page=True)


def test_map_shows_the_molecule_among_known_compounds(page):
    choose_panel(page, "ESOL", "MemGNN", "random split")
    paste(page, "CC(=O)Oc1ccccc1C(=O)O")  # the molecule the map places among the panel's
    page.get_by_text("Why: how MemGNN grouped the atoms", exact=True).wait_for(timeout=60_000)
    page.locator("[data-testid='stSidebarNav']").get_by_text("Embedding map").click()
    wait_idle(page)
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator(".js-plotly-plot .legendtext").filter(has_text="your molecules").count() == 1
    assert page.locator(".js-plotly-plot .textpoint").filter(has_text="pasted").count() == 1  # the star is labelled
    page.screenshot(path=str(ARTIFACTS / "map.png"), full_page=True)
    # the same molecules under a second model, side by side
    compare_maps(page, "(GMN,", plots=2, screenshot="map-compare.png")


def test_triage_upload_and_score(page):
    page.locator("[data-testid='stSidebarNav']").get_by_text("Triage").click()
    wait_idle(page)
    upload_file(page, ROOT / "tests" / "fixtures" / "triage.csv")
    wait_idle(page)
    page.get_by_role("button", name="Score 10 molecules").click()
    wait_idle(page, timeout=120_000)
    page.get_by_text("Top 7 molecules").wait_for(timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0
    assert "10 of 10 rows" in page.locator("[data-testid='stMain']").inner_text()
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "triage.png"), full_page=True)


def test_graseq_fusion_gate_and_transfer_heatmap(page):
    choose_panel(page, "GraSeq")
    page.get_by_text("Why: graph or SMILES sequence", exact=True).wait_for(timeout=60_000)
    page.get_by_text("From the graph", exact=True).wait_for()
    page.locator("[data-testid='stPlotlyChart']").last.wait_for()
    assert page.locator("[data-testid='stException']").count() == 0
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "fusion.png"), full_page=True)
    # the paper's Fig. 4: graph-only, sequence-only and fused maps of the same molecules
    page.locator("[data-testid='stSidebarNav']").get_by_text("Embedding map").click()
    wait_idle(page)
    compare_maps(page, "GraSeq's graph-only", plots=3, screenshot="graseq-maps.png")
    page.locator("[data-testid='stSidebarNav']").get_by_text("Predict & explain").click()
    wait_idle(page)
    choose_panel(page, "task transfer")
    page.get_by_text("Why: which tasks this model learned from which", exact=True).wait_for(timeout=60_000)
    page.locator(".js-plotly-plot .heatmaplayer").first.wait_for(timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "task-transfer.png"), full_page=True)


def test_three_sessions_at_once_each_see_their_own_molecule(page, app_url):
    """Three browser sessions paste three molecules and the server runs the three reruns at
    once: each page ends on its own molecule's card and predictions, with no error."""
    molecules = {"Cn1c(=O)c2c(ncn2C)n(C)c1=O": "caffeine", "CC(=O)Oc1ccccc1C(=O)O": "aspirin", "Oc1ccc(Cl)cc1Cl": "dichlorophenol"}
    browser = page.context.browser
    contexts = [browser.new_context(viewport={"width": 1400, "height": 3000}) for _ in molecules]
    try:
        pages = [context.new_page() for context in contexts]
        for other in pages:
            other.goto(app_url)
        for other in pages:
            wait_idle(other, timeout=120_000)
        for other, smiles in zip(pages, molecules):  # submit all three before waiting for any
            box = other.get_by_label("SMILES", exact=True)
            box.fill(smiles)
            box.press("Enter")
        for other, smiles in zip(pages, molecules):
            main = other.locator("[data-testid='stMain']")
            main.get_by_text("pasted", exact=True).wait_for(timeout=120_000)
            wait_idle(other, timeout=120_000)
            card = main.locator("[data-testid='stCode'] code").first.inner_text()  # the molecule card's canonical SMILES
            assert card == smiles, f"a session showed {card} for {molecules[smiles]}"
            main.get_by_text("Predictions", exact=True).wait_for()
            assert other.locator("[data-testid='stException']").count() == 0
            assert "Something went wrong" not in main.inner_text()
    finally:
        for context in contexts:
            context.close()
