"""Advice in the words of where it is read: flags on the command line, parameters in a notebook,
controls in a panel; written once per message."""

from __future__ import annotations

import doctest
import pickle
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import mhhs_workbench.codes.remedies as remedies
from mhhs_workbench.cli import main
from mhhs_workbench.codes.remedies import FRONTS, REMEDIES, Advice, worded
from mhhs_workbench.csv_input.reader import CsvInputError, read_csv_input
from mhhs_workbench.dataset import generate_dataset
from mhhs_workbench.notebook.notes import as_parameters
from mhhs_workbench.publish.budget import BudgetError, check_budget
from mhhs_workbench.publish.manifest import PublicationError
from mhhs_workbench.scenario import Scenario
from mhhs_workbench.ui.common import as_controls

FLAG = re.compile(r"--[a-z]")
SMALL = Scenario.from_dict({"meters": {"count": 2}, "start_date": "2025-01-06", "end_date": "2025-01-06",
                            "outputs": ["if021"]})


def test_every_remedy_has_words_for_every_front() -> None:
    for key, words in REMEDIES.items():
        assert len(words) == len(FRONTS) and all(words), key
        cli, notebook, panel = words
        assert FLAG.search(cli), key  # the command line names its flag
        assert not FLAG.search(notebook) and not FLAG.search(panel), key
    assert doctest.testmod(remedies).failed == 0


def test_advice_is_a_string_that_survives_pickling() -> None:
    advice = Advice("{target} already exists; {another_out} or {overwrite} to replace it", target=Path("d"))
    assert isinstance(advice, str) and advice == "d already exists; choose another --out or pass --overwrite to replace it"
    again = pickle.loads(pickle.dumps(advice))
    assert again == advice and again.worded("notebook") == advice.worded("notebook")
    with pytest.raises(ValueError, match="unknown front"):
        advice.worded("web")
    assert worded(ValueError("plain --text"), "panel") == "plain --text"  # no advice: as it is


def test_a_refused_publication_speaks_each_fronts_language(tmp_path: Path) -> None:
    out = tmp_path / "data"
    generate_dataset(SMALL, out, progress=False)
    with pytest.raises(PublicationError) as caught:
        generate_dataset(SMALL, out, progress=False)
    assert str(caught.value).endswith("choose another --out or pass --overwrite to replace it")
    assert as_parameters(caught.value).endswith("set `out` to another folder or set `overwrite = True` to replace it")
    assert as_controls(caught.value).endswith(
        'choose another Output folder or tick "Replace an existing data set" to replace it')
    # the command line prints its own words
    done = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert done.exit_code != 0 and "--overwrite" in done.output


def test_a_refused_budget_and_csv_speak_each_fronts_language(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MHHS_WORKBENCH_MAX_OUTPUT_GB", "0.000001")
    with pytest.raises(BudgetError) as caught:
        check_budget(SMALL, tmp_path / "x")
    assert "pass --allow-large" in str(caught.value)
    assert "set `allow_large = True`" in as_parameters(caught.value) and not FLAG.search(as_parameters(caught.value))
    assert not FLAG.search(as_controls(caught.value))

    gap = tmp_path / "gap.csv"
    gap.write_text("mpan,timestamp,kwh\n2000056535971,2025-06-01T00:30:00+00:00,0.1\n"
                   "2000056535971,2025-06-01T02:00:00+00:00,99999\n", encoding="utf-8")
    with pytest.raises(CsvInputError) as bad:
        read_csv_input(gap)
    assert "(max_kwh, --max-kwh)" in str(bad.value)
    shown = as_parameters(bad.value)
    assert "(`max_kwh`)" in shown and not FLAG.search(shown) and shown.splitlines()[0] == bad.value.summary
