"""Estimates in generated data sets follow the DI-083 hierarchy and never invent energy.

Two data sets: the demo and a year-long small fleet with a large PV share and many
imperfections. Their IF-021 half hours as first sent (a day re-sent later, when a fault is
recovered, counts in its first version) are compared with the fleet's true consumption and PV
generation, rebuilt from the same scenario.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mhhs_workbench.codes.messages import ADS_ONLY_CODES, allowed_quality_codes
from mhhs_workbench.dataset import generate_dataset
from mhhs_workbench.model.chunk import DatasetFrame
from mhhs_workbench.model.estimation import shaped_spread
from mhhs_workbench.model.population import build_population
from mhhs_workbench.model.profiles.model import consumption_components
from mhhs_workbench.notebook.message_frames import if021_frame, if041_frame
from mhhs_workbench.pipeline.chunks import generate_chunk
from mhhs_workbench.scenario import DataQuality, MeterMix, Scenario, demo_scenario
from mhhs_workbench.validation.files import validate_files

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
SPEC_2_2_1 = REFERENCE / "dip-api-2.2.1" / "api-spec-2.2.1-resolved.json"
SINGLE, DAILY, HISTORY = ("E0", "EA1"), ("E1", "EA2"), ("E4", "EA5")
SHAPED = DAILY + HISTORY


def year_scenario() -> Scenario:
    """A small fleet over a whole year: PV on most sites, frequent gaps and faults."""
    return Scenario(
        name="estimation-year",
        seed=11,
        start_date=dt.date(2025, 1, 1),
        end_date=dt.date(2025, 12, 31),
        meters=MeterMix(count=16, pv_share=0.6, ev_share=0.3, heat_pump_share=0.2),
        data_quality=DataQuality(missing_share=0.02, comms_fault_share=0.5, deenergised_share=0.2,
                                 comms_fault_days=[1, 3], deenergised_days=[1, 3]),
    )


@dataclass
class Sent:
    """One data set's sent half hours as ``(series, half hour)`` arrays, beside the truth."""

    folder: Path
    keys: pd.DataFrame  # meter_index, mqid, mpan, data_service_role, connection_type per series
    value: np.ndarray  # [Wh]
    quality: np.ndarray  # q text
    reason: np.ndarray  # e text, "" for null
    true: np.ndarray  # what the meter measured [Wh]
    generation: np.ndarray  # the site's PV generation [Wh]

    def estimated(self, codes: tuple[str, ...]) -> np.ndarray:
        return np.isin(self.quality, codes)


def _load(scenario: Scenario, folder: Path) -> Sent:
    """The data set's half hours as first sent (a re-sent day's first version), with the truth."""
    periods = if021_frame([folder / "messages"]).sort_values("reference", kind="stable")
    periods = periods.drop_duplicates(["mpan", "mqid", "sp"], keep="first")
    meters = pd.read_parquet(folder / "tables" / "meters.parquet",
                             columns=["mpan", "meter_index", "data_service_role", "connection_type"])
    periods = periods.merge(meters, on="mpan").sort_values(["meter_index", "mqid", "sp"])
    frame = DatasetFrame(scenario)
    t = frame.n_days * 48
    keys = periods.drop_duplicates(["meter_index", "mqid"])[
        ["meter_index", "mqid", "mpan", "data_service_role", "connection_type"]].reset_index(drop=True)
    # a meter installed inside the data set sends nothing before its install day: "" there
    row = periods.groupby(["meter_index", "mqid"], sort=True).ngroup().to_numpy()
    col = ((periods["sp"] - pd.Timestamp(frame.days[0], tz="UTC")) // pd.Timedelta(minutes=30)).to_numpy() - 1

    def grid(column: str, fill: object) -> np.ndarray:
        out = np.full((len(keys), t), fill, dtype=object)
        out[row, col] = periods[column].to_numpy()
        return out

    fleet = build_population(scenario, 0, scenario.meters.count)
    comp = consumption_components(fleet, frame.days, scenario.seed)
    by_mqid = {"AI": comp.result.import_wh, "AE": comp.result.export_wh,
               "RI": comp.result.reactive_import_varh, "RE": comp.result.reactive_export_varh}
    index = keys["meter_index"].to_numpy()
    true = np.stack([by_mqid[m][i] for i, m in zip(index, keys["mqid"], strict=True)])
    periods["reason"] = periods["reason"].fillna("")
    return Sent(folder, keys, grid("value_wh", 0).astype(np.int64), grid("quality", "").astype(str),
                grid("reason", "").astype(str), true, comp.generation_wh[index])


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Sent:
    out = tmp_path_factory.mktemp("estimation") / "demo"
    generate_dataset(demo_scenario(), out, progress=False)
    return _load(demo_scenario(), out)


@pytest.fixture(scope="module")
def year(tmp_path_factory) -> Sent:
    out = tmp_path_factory.mktemp("estimation") / "year"
    generate_dataset(year_scenario(), out, progress=False, chunk_size=7)
    return _load(year_scenario(), out)


@pytest.fixture(params=["demo", "year"])
def sent(request) -> Sent:
    return request.getfixturevalue(request.param)


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(series, first, length)`` of each run of consecutive True half hours."""
    padded = np.pad(mask, ((0, 0), (1, 1))).astype(np.int8)
    edges = np.diff(padded, axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, stops = np.nonzero(edges == -1)
    return rows, starts, stops - starts


@pytest.mark.slow
def test_data_sets_validate_against_both_releases_with_zero_findings(sent, official_spec_dir):
    interfaces = [sent.folder / "messages" / name for name in ("IF-021", "IF-041")]
    assert all(folder.is_dir() for folder in interfaces)
    for spec in (official_spec_dir, SPEC_2_2_1):
        report = validate_files(interfaces, spec, business_rules=True)
        assert report.ok, report
        assert report.messages > 100


def test_single_missing_periods_are_e0_between_their_actual_neighbours(sent):
    single = sent.estimated(SINGLE)
    rows, cols = np.nonzero(single)
    assert rows.size > 50
    left, right = sent.value[rows, cols - 1], sent.value[rows, cols + 1]
    assert (sent.quality[rows, cols - 1] == "A").all() and (sent.quality[rows, cols + 1] == "A").all()
    v = sent.value[rows, cols]
    assert ((np.minimum(left, right) <= v) & (v <= np.maximum(left, right))).all()
    # lone gaps are by far the most common, and none of them is coded as a longer one
    gaps = np.isin(sent.reason, ("2", "3"))
    assert single.sum() > 0.9 * gaps.sum()
    r, first, length = _runs(gaps)
    lone = length == 1
    lone &= (first > 0) & (first + 1 < gaps.shape[1])
    lone &= (sent.quality[r, np.maximum(first - 1, 0)] == "A")
    lone &= (sent.quality[r, np.minimum(first + 1, gaps.shape[1] - 1)] == "A")
    assert np.isin(sent.quality[r[lone], first[lone]], SINGLE).all()


def test_longer_gaps_keep_the_actual_daily_advance(year):
    daily = year.estimated(DAILY)
    rows, days = np.nonzero(daily.reshape(len(year.keys), -1, 48).any(axis=2))
    assert rows.size > 20
    # on days where nothing else is estimated, the day sums to its actual advance exactly
    q = year.quality.reshape(len(year.keys), -1, 48)[rows, days]
    clean = np.isin(q, ("A",) + DAILY).all(axis=1)
    assert clean.sum() > 10
    sent_day = year.value.reshape(len(year.keys), -1, 48)[rows, days].sum(axis=1)
    true_day = year.true.reshape(len(year.keys), -1, 48)[rows, days].sum(axis=1)
    np.testing.assert_array_equal(sent_day[clean], true_day[clean])
    # and every E1 period belongs to a gap of two or more, or one without two actual neighbours
    r, first, length = _runs(np.isin(year.reason, ("2", "3")))
    e1_runs = np.isin(year.quality[r, first], DAILY)
    lone = e1_runs & (length == 1) & (first > 0) & (first + 1 < year.value.shape[1])
    neighbours_actual = (year.quality[r[lone], first[lone] - 1] == "A") & (year.quality[r[lone], first[lone] + 1] == "A")
    assert not neighbours_actual.any()


def test_comms_faults_are_whole_days_from_register_read_history(sent):
    history = sent.estimated(HISTORY)
    assert history.any()
    by_day = history.reshape(len(sent.keys), -1, 48)
    assert (by_day.all(axis=2) == by_day.any(axis=2)).all()  # whole UTC days only
    assert (sent.reason[history] == "4").all()
    # the advance over each fault is the one between the reads around it
    rows, first, length = _runs(history)
    for r, f, n in zip(rows, first, length, strict=True):
        assert sent.value[r, f : f + n].sum() == sent.true[r, f : f + n].sum()


def test_no_estimated_export_in_darkness(year):
    export = (year.keys["mqid"] == "AE").to_numpy()
    estimated = year.estimated(SINGLE + SHAPED)[export]
    dark = year.generation[export] == 0
    assert (estimated & dark).sum() > 100  # plenty of estimates fall at night ...
    assert (year.value[export][estimated & dark] == 0).all()  # ... and all of them are zero
    assert (year.value[export][estimated & ~dark] > 0).sum() > 100


def _recent_max(sent: Sent) -> np.ndarray:
    """Per series and day, the largest actual value from 7 days before to the day after [Wh]."""
    n = len(sent.keys)
    daily = np.where(sent.quality == "A", sent.value, 0).reshape(n, -1, 48).max(axis=2)
    padded = np.pad(daily, ((0, 0), (7, 1)))
    return np.stack([padded[:, k : k + daily.shape[1]] for k in range(9)]).max(axis=0)


def test_no_estimated_import_spike_above_the_meters_recent_maximum(sent):
    imports = sent.keys["mqid"].isin(["AI", "RI"]).to_numpy()
    cap = np.repeat(_recent_max(sent), 48, axis=1)[imports]
    lone_or_daily = sent.estimated(SINGLE + DAILY)[imports]
    assert lone_or_daily.sum() > 50
    assert (sent.value[imports][lone_or_daily] <= cap[lone_or_daily]).all()
    # a fault's estimate stays under the largest actual value in the week before or the day after
    values, quality = sent.value[imports], sent.quality[imports]
    rows, first, length = _runs(np.isin(quality, HISTORY))
    for r, f, n in zip(rows, first, length, strict=True):
        window = slice(max(f - 7 * 48, 0), f + n + 48)
        actual = values[r, window][quality[r, window] == "A"]
        assert values[r, f : f + n].max() <= actual.max()


def test_advanced_meters_send_only_ads_codes_and_others_never_do(sent):
    seen: dict[str, set[str]] = {}
    for path in sorted((sent.folder / "messages" / "IF-021").rglob("*.json")):
        items = orjson.loads(path.read_bytes())
        for item in items:
            payload = item["payload"]
            if payload["CommonBlock"]["S0"]["interfaceID"] != "IF-021":
                continue
            role = payload["CommonBlock"]["S1"]["senderRoleID"]
            custom = payload["CustomBlock"]
            connection = custom["B067"]["connectionTypeIndicator"]
            codes = {c["q"] for d in custom["B900"]["settlementDayConsumptionPeriods"] for c in d["consumptionPeriods"]}
            assert codes <= set(allowed_quality_codes(role)), (path.name, role, codes)
            assert (role == "ADS") == (connection in ("L", "H", "E")), (path.name, role, connection)
            seen.setdefault(role, set()).update(codes)
    assert seen["ADS"] & set(ADS_ONLY_CODES)  # the ADS does estimate, with its own methods
    assert {"E0", "E4"} <= seen["SDS"]


def test_reason_codes_match_the_cause(sent):
    expected = {"A": {""}, "E": {"10"}, "ZE": {"7"}, "": {""}}  # "": before a meter's install
    expected |= {q: {"2", "3"} for q in SINGLE + DAILY} | {q: {"4"} for q in HISTORY}
    for q in np.unique(sent.quality):
        assert set(np.unique(sent.reason[sent.quality == q])) <= expected[q], q
    gaps = sent.estimated(SINGLE + DAILY)
    assert {"2", "3"} <= set(np.unique(sent.reason[gaps]))
    # de-energised half hours carry nothing
    assert (sent.value[sent.quality == "ZE"] == 0).all()


def test_register_reads_reconcile_to_the_wh_with_the_sent_values(year):
    """The cumulative register advances by exactly the energy sent between two reads: import on
    an import MPAN, export on an export MPAN."""
    frame = DatasetFrame(year_scenario())
    start = pd.Timestamp(frame.days[0], tz="UTC")
    reads = if041_frame([year.folder / "messages"]).drop_duplicates(["mpan", "register_id", "read_datetime"])
    reads = reads[reads["register_id"] == "C"]
    # reads follow each half hour's latest sent value, which the consumption table holds
    meters = pd.read_parquet(year.folder / "tables" / "meters.parquet").set_index("mpan")
    table = pd.read_parquet(year.folder / "tables" / "consumption.parquet",
                            columns=["mpan", "mqid", "utc_period_end", "value_wh"])
    # an import MPAN's register counts its AI, an export MPAN's its AE
    direction = table["mpan"].map(meters["energy_direction"]).map({"I": "AI", "E": "AE"})
    table = table[table["mqid"] == direction].reset_index(drop=True)
    column = ((table["utc_period_end"] - start) // pd.Timedelta(minutes=30)).to_numpy() - 1
    checked = 0
    for mpan, group in reads.groupby("mpan"):
        rows = table.index[table["mpan"] == mpan]
        sent_import = np.zeros(frame.n_days * 48, dtype=np.int64)  # nothing before a meter's install
        sent_import[column[table.index.get_indexer(rows)]] = table.loc[rows, "value_wh"].to_numpy()
        cumulative = np.concatenate([[0], np.cumsum(sent_import)])
        group = group.sort_values("read_datetime")
        at = ((group["read_datetime"] - start) // pd.Timedelta(minutes=30)).to_numpy()
        capacity = 10 ** (int(meters.loc[mpan, "register_digits"]) + 3)
        advance = np.diff(group["reading_wh"].to_numpy().astype(np.int64)) % capacity
        np.testing.assert_array_equal(advance, np.diff(cumulative[at]) % capacity)
        checked += advance.size
    assert checked > 1000


def test_estimates_are_identical_whatever_the_chunk_size():
    frame = DatasetFrame(year_scenario())
    whole = generate_chunk(frame, 0, 0, 16, with_reads=False)
    parts = [generate_chunk(frame, i, a, b, with_reads=False) for i, (a, b) in enumerate([(0, 5), (5, 6), (6, 16)])]
    for name in ("values", "quality", "reasons"):
        np.testing.assert_array_equal(getattr(whole, name), np.concatenate([getattr(p, name) for p in parts]))


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 200_000), st.lists(st.integers(0, 5_000), min_size=1, max_size=96), st.integers(0, 20_000))
def test_shaped_spread_is_exact_keeps_zeros_and_respects_the_cap(total, weights, cap):
    w = np.array([weights], dtype=np.int64)
    slots = np.ones_like(w, dtype=bool)
    out = shaped_spread(np.array([total]), w, slots, np.array([cap]))[0]
    assert out.sum() == total and (out >= 0).all()
    shaped = w[0] > 0
    if shaped.any():
        assert (out[~shaped] == 0).all()  # nothing where the shape is zero
        if cap * shaped.sum() >= total:
            assert out.max() <= cap  # no spike when the shaped periods can hold the total
        else:
            assert out.max() <= -(-total // shaped.sum())  # the least spike that holds it
    else:
        assert out.max() - out.min() <= 1  # no shape at all: shared equally
