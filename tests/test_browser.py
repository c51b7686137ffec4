"""The analyst's path in a real browser: JupyterLab served locally, driven by headless Chromium.

One JupyterLab server, one shared workspace (``$MHHS_WORKBENCH_WORKSPACE``), three notebooks:

1. ``profile_designer``: run it, change the annual kWh, switch archetypes with PV and EV overlays
   (and to unmetered street lighting, where overlays are switched off), see the plot redraw each
   time, then export a small data set from the export panel into the workspace;
2. ``explore_dataset`` with its defaults: it explores the newest data set of the workspace, the
   one just exported, and shows its path, tables and plots;
3. ``validate_messages`` with its defaults: it validates that same data set and says it is valid.

Every notebook must run to the end without error output. Screenshots of the designer, the export
panel and both notebooks go to ``test-artifacts/``; with ``MHHS_UPDATE_SCREENSHOT=1`` cropped,
code-hidden versions also refresh the documentation's ``docs/*.png``. After the browser closes,
the exported files are checked on disk.

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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from mhhs_workbench.codes.identifiers import GSP_GROUP_NAMES
from mhhs_workbench.notebook.evidence import VALID_TEXT
from mhhs_workbench.notebook.workspace import WORKSPACE_ENV
from mhhs_workbench.publish.manifest import verify
from mhhs_workbench.scenario import Scenario
from mhhs_workbench.validation.files import validate_files

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # minutes: outside the quick subset

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
DESIGNER, EXPLORE, VALIDATE = "profile_designer.ipynb", "explore_dataset.ipynb", "validate_messages.ipynb"
#: The scenario file loaded into the designer.
EXAMPLE = ROOT / "examples" / "demo.yaml"
#: GSP groups chosen in the data set form.
GROUPS = ("_A", "_P")
REFERENCE = ROOT.parent / "shared" / "reference"
ARTIFACTS = ROOT / "test-artifacts"
DOCS = ROOT / "docs"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
#: Browser window [px]: wide enough for the designer's three columns of controls.
VIEWPORT = {"width": 1600, "height": 1300}
#: Longest wait for one step in the page [ms]: kernel start, one redraw, the export.
STEP_MS = 120_000
#: Longest wait for a whole notebook to run [ms] (kernels start slowly on a busy machine).
RUN_MS = 240_000
#: Meters exported: enough for every table and plot, few enough to stay quick.
METERS = 4

#: The current JupyterLab tab in page scripts.
_CURRENT = "window.jupyterapp.shell.currentWidget"


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
def jupyter_lab(root: Path, home: Path, timeout: float = 90.0, *, notebook: str = DESIGNER,
                env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Serve ``root`` with JupyterLab on a free local port; yield the URL of ``notebook`` with the token.

    ``env`` adds variables to the server's environment (its kernels inherit them). The server is
    always stopped afterwards; a server that does not answer in time fails the test with its log.
    """
    port, token = _free_port(), secrets.token_hex(16)
    log_path = home / "jupyter.log"
    settings = home / "settings"
    _lab_settings(settings)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_DATA_DIR": str(home / "data"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTER_PLATFORM_DIRS": "1", **(env or {})}
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
        yield f"{url}/lab/tree/{notebook}?token={token}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --------------------------------------------------------------------------- notebooks


def _lab_ready(page: Any) -> None:
    """Wait until JupyterLab has loaded its plugins and restored its layout."""
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.commands.hasCommand('notebook:run-all-cells')",
        timeout=STEP_MS)
    page.evaluate("() => window.jupyterapp.restored.then(() => true)")


def _open_notebook(page: Any, name: str) -> Any:
    """Open (or bring forward) notebook ``name`` and wait for its kernel; return its panel."""
    if page.evaluate(f"() => {_CURRENT}?.context?.path ?? ''") != name:
        page.evaluate("name => { window.jupyterapp.commands.execute('docmanager:open', {path: name}); }", name)
    page.wait_for_function(
        f"name => {{ const w = {_CURRENT}; return w && w.context && w.context.path === name"
        " && w.sessionContext && w.sessionContext.isReady && w.sessionContext.session?.kernel?.status === 'idle'; }",
        arg=name, timeout=STEP_MS)
    return page.locator(f"[id='{page.evaluate(f'() => {_CURRENT}.id')}']")


def _run_notebook(page: Any, name: str) -> Any:
    """Open notebook ``name``, run all its cells and wait until the last one has run.

    Returns the notebook's panel (a locator), so later checks look at this notebook only. Fails
    with the error output when a cell raised (JupyterLab then stops running the others).
    """
    panel = _open_notebook(page, name)
    # the command's promise settles when every cell has run (false when one raised)
    page.evaluate(
        "name => { window.mhhsRuns = window.mhhsRuns || {}; window.mhhsRuns[name] = null;"
        " window.jupyterapp.commands.execute('notebook:run-all-cells').then("
        "   ok => { window.mhhsRuns[name] = ok === false ? 'a cell failed' : 'done'; },"
        "   err => { window.mhhsRuns[name] = String(err); }); }", name)
    page.wait_for_function("name => window.mhhsRuns[name] !== null", arg=name, timeout=RUN_MS)
    outcome = page.evaluate("name => window.mhhsRuns[name]", name)
    if outcome != "done":
        _assert_no_error_output(page, panel)
        pytest.fail(f"{name}: running all cells ended with {outcome!r}")
    prompts = panel.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
    not_run = [p for p in prompts if not p.strip().strip("[]:").isdigit()]
    assert prompts and not not_run, f"{name}: cells not run to the end: {prompts}"
    return panel


def _assert_no_error_output(page: Any, scope: Any = None) -> None:
    """No output of the current notebook (or under ``scope``, a part of the page) is an error.

    JupyterLab 4 renders a raised exception like anything written to standard error, as an
    output with ``data-mime-type="application/vnd.jupyter.stderr"``, the traceback in it; the
    notebook's model still knows it as an output of type ``error``. Both are checked (the page
    also holds what widgets show, the model what cells printed). Warnings the package shows as
    ``Note: ...`` go to standard output and are fine.
    """
    where = scope if scope is not None else page
    stderr = where.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    shown = [t for t in stderr.all_inner_texts() if "Traceback" in t or "Error" in t]
    assert not shown, "error output in the page:\n" + "\n---\n".join(t[-2000:] for t in shown)
    held = page.evaluate(
        f"() => {_CURRENT}.content.widgets.filter(c => c.model.type === 'code').flatMap(c => {{"
        " const o = c.model.outputs, out = [];"
        " for (let i = 0; i < o.length; i++) { const m = o.get(i);"
        "   if (m.type === 'error') out.push(JSON.stringify(m.toJSON()).slice(0, 2000)); }"
        " return out; })")
    assert not held, "error output in the notebook:\n" + "\n".join(held)


def _hide_code(page: Any) -> None:
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:hide-all-cell-code')")


def _screenshot(page: Any, target: Any, name: str, *, scroll_to: Any = None, until: Any = None) -> None:
    """Save ``target`` as ``test-artifacts/<name>``; with ``MHHS_UPDATE_SCREENSHOT=1`` also as
    ``docs/<name>``, with the notebook's code hidden.

    ``scroll_to`` (default ``target``) is scrolled to the top of the notebook first; ``until``
    ends the picture at that element's bottom instead of ``target``'s.
    """
    ARTIFACTS.mkdir(exist_ok=True)
    _shoot(page, target, ARTIFACTS / name, scroll_to, until)
    if os.environ.get("MHHS_UPDATE_SCREENSHOT") == "1":
        _hide_code(page)
        DOCS.mkdir(exist_ok=True)
        _shoot(page, target, DOCS / name, scroll_to, until)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:show-all-cell-code')")


def _shoot(page: Any, target: Any, path: Path, scroll_to: Any, until: Any) -> None:
    _scroll_to_top(scroll_to if scroll_to is not None else target)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")  # no focus ring
    page.mouse.move(0, 0)  # nor hover marks
    if until is None:
        target.screenshot(path=str(path))
        return
    box, end = target.bounding_box(), until.bounding_box()
    assert box and end, "nothing to take a picture of"
    page.screenshot(path=str(path), clip={"x": box["x"], "y": box["y"], "width": box["width"],
                                          "height": end["y"] + end["height"] - box["y"]})


def _scroll_to_top(locator: Any) -> None:
    locator.evaluate("e => e.scrollIntoView({block: 'start'})")
    locator.page.wait_for_timeout(300)  # let the page settle after the scroll


def _heading(panel: Any, text: str) -> Any:
    """The markdown cell of a notebook whose heading says ``text``."""
    return panel.locator(".jp-MarkdownCell", has=panel.page.get_by_role("heading", name=text)).first


# --------------------------------------------------------------------------- designer


def _plot_src(page: Any) -> str:
    return page.locator(".mhhs-plot img").first.get_attribute("src") or ""


def _wait_for_new_plot(page: Any, before: str) -> str:
    """Wait for the designer to show a plot other than ``before``; fail with its status line
    when it does not (it clears the plot and says why when drawing fails)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            "before => { const i = document.querySelector('.mhhs-plot img'); return i && i.src !== before; }",
            arg=before, timeout=STEP_MS)
    except PlaywrightTimeout:
        pytest.fail(f"the plot was not redrawn; status: {page.locator('.mhhs-designer-status').inner_text()!r}")
    return _plot_src(page)


def _set_text(page: Any, selector: str, value: str) -> None:
    """Type into a text widget and commit it (text widgets sync on Enter)."""
    field = page.locator(f"{selector} input").first
    field.fill(value)
    field.press("Enter")


def _set_slider(page: Any, selector: str, value: str) -> None:
    """Type a value into a slider's editable readout and commit it."""
    readout = page.locator(f"{selector} .widget-readout").first
    readout.click()
    readout.press("ControlOrMeta+a")
    readout.type(value)
    readout.press("Enter")


def _status(page: Any, text: str) -> None:
    """Wait for the designer's status line to say ``text``; it never says it could not draw."""
    page.locator(".mhhs-designer-status", has_text=text).wait_for(timeout=STEP_MS)
    status = page.locator(".mhhs-designer-status").inner_text()
    assert "Could not draw" not in status, status


def _design(page: Any) -> str:
    """Drive the designer through archetypes and overlays; return the archetype left chosen."""
    page.locator(".mhhs-plot img").first.wait_for(state="visible", timeout=STEP_MS)
    plot = _plot_src(page)
    assert plot.startswith("data:image/png;base64,")

    _set_text(page, ".mhhs-annual-kwh", "6000")
    plot = _wait_for_new_plot(page, plot)
    _status(page, "6,000 kWh/yr")

    # a maximum-demand site with PV and an EV charger
    page.locator(".mhhs-archetype select").select_option(label="maximum demand pc5")
    plot = _wait_for_new_plot(page, plot)
    _status(page, "maximum demand pc5")
    _set_slider(page, ".mhhs-pv-kwp", "20")
    plot = _wait_for_new_plot(page, plot)
    _status(page, "export")
    page.locator(".mhhs-ev-kw select").select_option(label="22 kW")
    plot = _wait_for_new_plot(page, plot)
    _status(page, "maximum demand pc5")

    # street lighting has no meter to carry overlays: they are switched off, not an error
    page.locator(".mhhs-archetype select").select_option(label="unmetered street lighting")
    plot = _wait_for_new_plot(page, plot)
    _status(page, "unmetered street lighting")
    assert "export" not in page.locator(".mhhs-designer-status").inner_text()
    page.locator(".mhhs-overlay-note", has_text="Overlays are off").wait_for(timeout=STEP_MS)
    assert page.locator(".mhhs-ev-kw select").is_disabled()
    assert page.locator(".mhhs-pv-kwp .widget-readout").get_attribute("contenteditable") == "false"

    # back to a home, with PV
    page.locator(".mhhs-archetype select").select_option(label="domestic economy7")
    plot = _wait_for_new_plot(page, plot)
    _status(page, "domestic economy7")
    assert page.locator(".mhhs-ev-kw select").is_enabled()
    _set_slider(page, ".mhhs-pv-kwp", "3")
    _wait_for_new_plot(page, plot)
    _status(page, "export")
    return "domestic_economy7"


def _load_and_edit_data_set(page: Any) -> dict[str, Any]:
    """Load the example scenario into the designer, then change its fleet's GSP groups, one
    archetype's share and the environment in the data set form; return what the export must hold."""
    form_status = page.locator(".mhhs-form-status")
    form_status.filter(has_text="100 % domestic economy7").wait_for(timeout=STEP_MS)  # follows the design
    plot = _plot_src(page)
    _set_text(page, ".mhhs-scenario-path", EXAMPLE.name)  # relative to the kernel's folder
    page.locator("button.mhhs-load-scenario").click()
    page.locator(".mhhs-save-status", has_text="Loaded").wait_for(timeout=STEP_MS)
    _wait_for_new_plot(page, plot)
    _status(page, "domestic unrestricted")
    example = Scenario.from_yaml(EXAMPLE)
    assert page.locator(".mhhs-archetype select").input_value() == "domestic unrestricted"  # its label
    assert page.locator(".mhhs-export-meters input").first.input_value() == str(example.meters.count)
    form_status.filter(has_text="55 % domestic unrestricted").wait_for(timeout=STEP_MS)

    page.locator(".mhhs-fleet-gsp-groups select").select_option(
        label=[f"{g} {GSP_GROUP_NAMES[g]}" for g in GROUPS])
    _set_text(page, ".mhhs-fleet-share-maximum-demand-pc5", "0.2")
    page.locator(".mhhs-form-tabs .lm-TabBar-tab", has_text="Participants").click()
    page.locator(".mhhs-environment-tag select").select_option("UIT")
    form_status.filter(has_text=", ".join(GROUPS)).filter(has_text="environment UIT").wait_for(timeout=STEP_MS)
    assert "Not a valid data set" not in form_status.inner_text()
    page.locator(".mhhs-form-tabs .lm-TabBar-tab", has_text="Fleet").click()
    return {**example.meters.archetypes, "maximum_demand_pc5": 0.2}


def _export(page: Any, workspace: Path) -> Path:
    """Export :data:`METERS` meters into the panel's default folder; return that folder."""
    folder = Path(page.locator(".mhhs-export-folder input").first.input_value())
    assert folder.parent == workspace and not folder.exists(), folder
    _set_text(page, ".mhhs-export-meters", str(METERS))
    page.locator("button.mhhs-export-button").click()
    summary = page.locator(".mhhs-export-summary")
    summary.filter(has_text=VALID_TEXT).wait_for(timeout=STEP_MS)
    assert str(folder) in summary.inner_text()
    return folder


# --------------------------------------------------------------------------- the test


def test_analyst_path_in_a_browser(tmp_path: Path) -> None:
    chromium = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[browser]')")

    root, home, workspace = tmp_path / "lab", tmp_path / "home", tmp_path / "workspace"
    root.mkdir()
    home.mkdir()
    for name in (DESIGNER, EXPLORE, VALIDATE):
        shutil.copy(NOTEBOOKS / name, root / name)
    shutil.copy(EXAMPLE, root / EXAMPLE.name)
    env = {WORKSPACE_ENV: str(workspace)}
    if REFERENCE.is_dir():
        # Elexon's class averages and the household sample where the designer and the
        # exploration notebook look by default, ../shared/reference from the kernels' folder
        # (copied, so the pages name the test's own folder)
        for part in ("profiles", "households"):
            if (REFERENCE / part).is_dir():
                shutil.copytree(REFERENCE / part, tmp_path / "shared" / "reference" / part)
        env["MHHS_WORKBENCH_SPEC_PATH"] = str(REFERENCE)  # Elexon's releases, found by version
    with jupyter_lab(root, home, env=env) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(url, timeout=STEP_MS)
            _lab_ready(page)
            page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")

            designer = _run_notebook(page, DESIGNER)
            _design(page)
            _assert_no_error_output(page, designer)
            # the controls and the plot (the view of real homes below them is left out)
            page.set_viewport_size({**VIEWPORT, "height": 1600})
            _screenshot(page, page.locator(".mhhs-designer").first, "designer.png",
                        until=page.locator(".mhhs-plot").first)
            page.set_viewport_size(VIEWPORT)

            archetypes = _load_and_edit_data_set(page)
            _assert_no_error_output(page, designer)
            _screenshot(page, page.locator(".mhhs-scenario-form").first, "form.png")

            out = _export(page, workspace)
            _assert_no_error_output(page, designer)
            _screenshot(page, page.locator(".mhhs-export").first, "export.png")

            explore = _run_notebook(page, EXPLORE)
            _assert_no_error_output(page, explore)
            outputs = explore.locator(".jp-OutputArea-output")
            outputs.filter(has_text=f"Exploring the data set {out}").first.wait_for(timeout=STEP_MS)
            assert outputs.locator("img").count() >= 1
            assert outputs.locator("table").count() >= 1
            figure = explore.locator(".jp-CodeCell", has=page.locator(".jp-OutputArea-output img")).first
            _screenshot(page, explore, "explore.png", scroll_to=figure)

            validate = _run_notebook(page, VALIDATE)
            _assert_no_error_output(page, validate)
            outputs = validate.locator(".jp-OutputArea-output")
            outputs.filter(has_text=f"newest data set in the workspace, {out}").first.wait_for(timeout=STEP_MS)
            outputs.filter(has_text=VALID_TEXT).filter(has_text="every file matches the manifest").first.wait_for(
                timeout=STEP_MS)
            # JupyterLab shows an SVG output as an <img> of it
            chart = validate.locator('.jp-OutputArea-output[data-mime-type="image/svg+xml"]')
            assert chart.locator("img, svg").count() >= 1, chart.all_inner_texts()
            assert outputs.locator("img").count() >= 1
            _screenshot(page, validate, "validate.png", scroll_to=_heading(validate, "Validation"))
        finally:
            browser.close()

    report = validate_files([out / "messages"])
    assert report.ok and report.messages > 0
    assert verify(out) == []
    manifest = json.loads((out / "manifest.json").read_text())
    scenario = manifest["scenario"]
    example = Scenario.from_yaml(EXAMPLE).to_dict()
    assert scenario["meters"]["archetypes"] == archetypes
    assert scenario["meters"]["gsp_groups"] == list(GROUPS)
    assert scenario["meters"]["count"] == METERS
    assert scenario["environment_tag"] == "UIT"
    # everything the form did not change is the loaded file's
    assert scenario["events"] == example["events"] and scenario["participants"] == example["participants"]
    assert scenario["data_quality"] == example["data_quality"] and scenario["seed"] == example["seed"]
    assert manifest.get("validations"), "the validation notebook recorded its verdict in the manifest"
