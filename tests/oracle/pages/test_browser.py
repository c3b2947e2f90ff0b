"""Both pages in a real browser: Debian's Chromium, headless, driven by selenium through
Debian's chromedriver (`make test` installs both when it runs as root). The figures the
browser shows are the artifacts' and the chain's, the console stays free of errors, and a
screenshot of each page is saved with the test's files (and in $ZKORACLE_SCREENSHOTS when
set, which is how the README's pictures are made)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pages_stack import LiveDaemon

from oracle.cli import main

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1200,900",
)  # fmt: skip

# The daemon of pages_stack is shared with test_status_page: one xdist worker for both.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("pages-daemon")]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(
            "needs Debian's chromium and chromium-driver (/usr/bin/chromium, "
            "/usr/bin/chromedriver): `make test` installs them when run as root"
        )
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _screenshot(driver: Any, folder: Path, name: str) -> Path:
    """The whole page as a PNG (the window grown to the page's height)."""
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(1200, min(max(height + 160, 600), 6000))
    path = folder / f"{name}.png"
    assert driver.save_screenshot(str(path)), path
    extra = os.environ.get("ZKORACLE_SCREENSHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / path.name)
    driver.set_window_size(1200, 900)
    return path


def _console_errors(driver: Any) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def _text(driver: Any, css: str) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.CSS_SELECTOR, css).text)


def test_the_model_card_in_a_browser(browser: Any, model_dir: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    out = tmp_path / "card.html"
    assert main(["card", str(model_dir), "-o", str(out), "--n-samples", "48"]) == 0
    browser.get(out.as_uri())
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert browser.title == f"Model card: {manifest['source']}"
    assert _text(browser, "#error-count") == "48"
    shown_max = float(browser.find_element(By.ID, "error-max").get_attribute("data-value"))
    assert 0 < shown_max < 1e-4 and _text(browser, "#error-max") == f"{shown_max:.3g}"
    hashes = _text(browser, "#hashes")
    assert manifest["model"]["sha256"] in hashes and manifest["r1cs"]["sha256"] in hashes
    bars = browser.find_elements(By.CSS_SELECTOR, "#constraints-chart g")
    shown = [(b.get_attribute("data-label"), int(b.get_attribute("data-value"))) for b in bars]
    assert shown == [(f"{n['name']} ({n['op_type']})", n["constraints"]) for n in manifest["nodes"]]
    histogram = browser.find_element(By.ID, "error-histogram")
    assert histogram.size["width"] > 300 and histogram.find_elements(By.CSS_SELECTOR, "rect")
    pk = (model_dir / "proving_key.bin").stat().st_size
    assert int(browser.find_element(By.ID, "pk-size").get_attribute("data-bytes")) == pk
    assert not _console_errors(browser)
    assert _screenshot(browser, tmp_path, "model-card").stat().st_size > 10_000


@pytest.mark.anvil
def test_the_status_page_in_a_browser(
    browser: Any, live_daemon: LiveDaemon, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(live_daemon.url)
    assert browser.title == f"zkoracle status: chain {live_daemon.chain.chain_id}"
    counts = live_daemon.service.store.counts()
    for state, n in counts.items():
        tile = browser.find_element(By.CSS_SELECTOR, f'[data-state="{state.value}"] .v')
        assert tile.text == str(n), state
    rows = {r.get_attribute("data-tx"): r for r in
            browser.find_elements(By.CSS_SELECTOR, "#fulfilments tr[data-tx]")}  # fmt: skip
    for name in ("good1", "good2"):
        receipt = live_daemon.fulfil_receipt(live_daemon.requests[name])
        row = rows[receipt["transactionHash"].to_0x_hex()]
        assert f"request {live_daemon.requests[name]}" in row.text
        fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
        assert int(row.get_attribute("data-fee-wei")) == fee
        assert str(receipt["blockNumber"]) in row.text
        assert f"{receipt['gasUsed']:,}" in row.text
    assert "input_out_of_range" in _text(browser, "#failures")
    assert "fresh" in _text(browser, "#feeds")
    assert not _console_errors(browser)
    assert live_daemon.key.removeprefix("0x") not in browser.page_source.lower()
    assert _screenshot(browser, tmp_path, "status-page").stat().st_size > 10_000
