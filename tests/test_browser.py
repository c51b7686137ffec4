"""The profile designer in a real browser: JupyterLab served locally, driven by headless Chromium.

Opens the designer notebook, runs it, changes a control and sees the plot change, exports a data
set from the export panel and checks the files on disk. Saves a screenshot to
``test-artifacts/designer.png``; with ``MHHS_UPDATE_SCREENSHOT=1`` also refreshes the
documentation's ``docs/designer.png``.

Needs Debian's Chromium (``apt-get install chromium``). Outside CI the test skips when Chromium
is missing; in CI (``CI`` set) that is a failure, since the test script installs it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mhhs_workbench.export import verify
from mhhs_workbench.validation import validate_files

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "profile_designer.ipynb"
REFERENCE_PROFILES = ROOT.parent / "shared" / "reference" / "profiles"
ARTIFACTS = ROOT / "test-artifacts"
DOC_SCREENSHOT = ROOT / "docs" / "designer.png"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
#: Longest wait for one step in the page [ms]: kernel start, generation, export.
STEP_MS = 90_000


def _missing(what: str) -> None:
    """Fail in CI, where everything must be installed; skip elsewhere, saying why."""
    if os.environ.get("CI"):
        pytest.fail(f"{what}; CI must provide it (scripts/test.sh installs Chromium)")
    print(f"skipping the browser test: {what}")
    pytest.skip(what)


def _chromium() -> Path:
    found = shutil.which("chromium")
    path = Path(found) if found else CHROMIUM
    if not path.is_file():
        _missing(f"Chromium not found at {CHROMIUM} or on PATH (apt-get install chromium)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lab_settings(folder: Path) -> None:
    """JupyterLab settings for a quiet, fully rendered page: no news or update checks, and
    every cell in the page (windowing would leave the export panel out of the DOM)."""
    for plugin, values in {
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }.items():
        path = folder.joinpath(*plugin.split("/")[:-1]) / f"{plugin.split('/')[-1]}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@contextmanager
def jupyter_lab(root: Path, home: Path, timeout: float = 90.0) -> Iterator[str]:
    """Serve ``root`` with JupyterLab on a free local port; yield its URL with the token.

    The server is always stopped afterwards; a server that does not answer in time fails the
    test with its log.
    """
    port, token = _free_port(), secrets.token_hex(16)
    log_path = home / "jupyter.log"
    settings = home / "settings"
    _lab_settings(settings)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_DATA_DIR": str(home / "data"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTER_PLATFORM_DIRS": "1"}
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={settings}",
           f"--LabApp.workspaces_dir={home / 'workspaces'}", "--LabApp.expose_app_in_browser=True",
           "--LabApp.extension_manager=readonly", "--ServerApp.terminals_enabled=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI containers run as root
    with log_path.open("wb") as log:
        server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                pytest.fail(f"jupyter lab exited with {server.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not answer on {url} within {timeout:.0f} s:\n{log_path.read_text()}")
            time.sleep(0.5)
        yield f"{url}/lab/tree/{NOTEBOOK.name}?token={token}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _plot_src(page) -> str:
    return page.locator(".mhhs-plot img").first.get_attribute("src") or ""


def _wait_for_new_plot(page, before: str) -> str:
    page.wait_for_function(
        "before => { const i = document.querySelector('.mhhs-plot img'); return i && i.src !== before; }",
        arg=before, timeout=STEP_MS)
    return _plot_src(page)


def _set_text(page, selector: str, value: str) -> None:
    """Type into a text widget and commit it (text widgets sync on Enter)."""
    field = page.locator(f"{selector} input").first
    field.fill(value)
    field.press("Enter")


def test_designer_and_export_in_a_browser(tmp_path: Path) -> None:
    chromium = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[browser]')")

    root, home, out = tmp_path / "lab", tmp_path / "home", tmp_path / "exported"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    if REFERENCE_PROFILES.is_dir():  # a short path relative to the kernel's folder
        (root / "elexon-profiles").symlink_to(REFERENCE_PROFILES, target_is_directory=True)
    with jupyter_lab(root, home) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1300})
            page.goto(url, timeout=STEP_MS)
            page.wait_for_function(
                "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                " && window.jupyterapp.shell.currentWidget.sessionContext"
                " && window.jupyterapp.shell.currentWidget.sessionContext.isReady",
                timeout=STEP_MS)
            page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")

            # the designer draws its first plot
            page.locator(".mhhs-plot img").first.wait_for(state="visible", timeout=STEP_MS)
            first = _plot_src(page)
            assert first.startswith("data:image/png;base64,")

            # a control changes the plot
            _set_text(page, ".mhhs-annual-kwh", "6000")
            changed = _wait_for_new_plot(page, first)
            page.locator(".mhhs-designer-status", has_text="6,000 kWh/yr").wait_for(timeout=STEP_MS)
            page.locator(".mhhs-archetype select").select_option(label="domestic economy7")
            changed = _wait_for_new_plot(page, changed)
            page.locator(".mhhs-designer-status", has_text="domestic economy7").wait_for(timeout=STEP_MS)
            if REFERENCE_PROFILES.is_dir():  # compare with Elexon's class average too
                _set_text(page, ".mhhs-reference-dir", "elexon-profiles")
                _wait_for_new_plot(page, changed)

            # the export panel writes a data set
            _set_text(page, ".mhhs-export-folder", str(out))
            _set_text(page, ".mhhs-export-meters", "4")
            page.locator("button.mhhs-export-button").click()
            page.locator(".mhhs-export-summary", has_text="Validation OK").wait_for(timeout=STEP_MS)

            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "designer.png"))
            if os.environ.get("MHHS_UPDATE_SCREENSHOT") == "1":
                page.evaluate("() => window.jupyterapp.commands.execute('notebook:hide-all-cell-code')")
                designer = page.locator(".mhhs-designer").first
                designer.scroll_into_view_if_needed()
                DOC_SCREENSHOT.parent.mkdir(exist_ok=True)
                designer.screenshot(path=str(DOC_SCREENSHOT))
        finally:
            browser.close()

    report = validate_files([out / "messages"])
    assert report.ok and report.messages > 0
    assert verify(out) == []
    scenario = json.loads((out / "manifest.json").read_text())["scenario"]
    assert scenario["meters"]["archetypes"] == {"domestic_economy7": 1.0}
    assert scenario["meters"]["count"] == 4
