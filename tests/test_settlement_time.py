"""Settlement time: UTC days, local settlement days on clock changes, day types and seasons."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mhhs_workbench.time import periods as stime

ALL_DAYS_2020_2030 = stime.day_range("2020-01-01", "2030-12-31")


def test_utc_day_has_48_periods_from_0030_to_next_midnight_even_on_clock_changes():
    ends = stime.utc_period_ends(["2025-03-30", "2025-10-26", "2024-02-29"])
    assert ends.shape == (3, 48)
    text = stime.format_utc(ends)
    assert text[0, 0] == "2025-03-30T00:30:00+00:00"
    assert text[0, -1] == "2025-03-31T00:00:00+00:00"
    assert text[2, -1] == "2024-03-01T00:00:00+00:00"
    assert all(len(t) == 25 for t in text.ravel())


def test_local_period_counts_are_46_and_50_exactly_on_clock_change_days():
    counts = stime.local_period_counts(ALL_DAYS_2020_2030)
    spring, autumn = stime.clock_change_days(range(2020, 2031))
    assert set(ALL_DAYS_2020_2030[counts == 46]) == set(spring)
    assert set(ALL_DAYS_2020_2030[counts == 50]) == set(autumn)
    assert np.all(counts[~np.isin(ALL_DAYS_2020_2030, np.concatenate([spring, autumn]))] == 48)
    # 2025's changes are on 30 March and 26 October
    assert "2025-03-30" in spring.astype(str) and "2025-10-26" in autumn.astype(str)


def test_local_utc_round_trip_for_every_period_2020_to_2030():
    counts = stime.local_period_counts(ALL_DAYS_2020_2030)
    dates = np.repeat(ALL_DAYS_2020_2030, counts)
    periods = np.concatenate([np.arange(1, n + 1) for n in counts])
    utc = stime.local_to_utc(dates, periods)
    # the local view tiles UTC time exactly: consecutive, no gaps, no overlaps
    assert np.all(np.diff(utc) == stime.PERIOD)
    back_dates, back_periods = stime.utc_to_local(utc)
    np.testing.assert_array_equal(back_dates, dates)
    np.testing.assert_array_equal(back_periods, periods)


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=__import__("datetime").date(2020, 1, 1),
                max_value=__import__("datetime").date(2030, 12, 31)),
       st.integers(min_value=1, max_value=50))
def test_local_utc_round_trip_property(day, period):
    n = int(stime.local_period_counts([day])[0])
    if period > n:
        with pytest.raises(ValueError, match="does not exist"):
            stime.local_to_utc([day], [period])
        return
    utc = stime.local_to_utc([day], [period])
    d, p = stime.utc_to_local(utc)
    assert str(d[0]) == day.isoformat() and p[0] == period


def test_october_change_local_times_repeat_0100_hour_with_both_offsets():
    ends = stime.local_period_ends("2025-10-26")
    local = stime.format_local(ends)
    assert len(ends) == 50
    assert local[0] == "2025-10-26T00:30:00+01:00"
    assert local[2] == "2025-10-26T01:30:00+01:00"
    assert local[3] == "2025-10-26T01:00:00+00:00"
    assert local[-1] == "2025-10-27T00:00:00+00:00"


def test_march_change_skips_an_hour():
    ends = stime.local_period_ends("2025-03-30")
    local = stime.format_local(ends)
    assert len(ends) == 46
    # period 2 ends at 01:00 GMT, which the clock shows as 02:00 BST
    assert local[1] == "2025-03-30T02:00:00+01:00"
    assert local[2] == "2025-03-30T02:30:00+01:00"
    assert local[-1] == "2025-03-31T00:00:00+01:00"


def test_day_types_use_each_nations_bank_holidays():
    # 2 January is a Scottish bank holiday only; 17 March (St Patrick's) is Northern Irish only
    assert stime.day_types(["2026-01-02"], "SCT")[0] == stime.BANK_HOLIDAY
    assert stime.day_types(["2026-01-02"], "ENG")[0] == stime.WEEKDAY
    assert stime.day_types(["2025-03-17"], "NIR")[0] == stime.BANK_HOLIDAY
    assert stime.day_types(["2025-03-17"], "ENG")[0] == stime.WEEKDAY
    # Saturday, Sunday, and the August bank holiday differ between England and Scotland
    assert stime.day_types(["2025-03-29", "2025-03-30"]).tolist() == [stime.SATURDAY, stime.SUNDAY]
    assert stime.day_types(["2025-08-25"], "ENG")[0] == stime.BANK_HOLIDAY
    assert stime.day_types(["2025-08-04"], "SCT")[0] == stime.BANK_HOLIDAY
    assert stime.profile_day_types(["2025-12-25"]).tolist() == [stime.SUNDAY]


@pytest.mark.parametrize("year", range(2020, 2031))
def test_seasons_follow_elexon_definitions(year):
    days = stime.day_range(f"{year}-01-01", f"{year}-12-31")
    s = stime.seasons(days)
    abh = stime.august_bank_holiday(year)
    spring, autumn = stime.clock_change_days([year])
    by_code = {code: days[s == i] for i, code in enumerate(stime.SEASONS)}
    assert by_code["Spr"][0] == spring[0]
    summer = by_code["Smr"]
    assert len(summer) == 70 and stime.weekdays(summer[:1])[0] == 5  # 10 weeks from a Saturday
    hsr = by_code["Hsr"]
    assert stime.weekdays(hsr[:1])[0] == 5 and hsr[-1] == abh + 6  # to the Sunday after the BH
    assert (abh - hsr[0]) // 7 == 5  # the 6th Saturday before the bank holiday
    assert (abh - summer[0]) // 7 == 15  # the 16th Saturday before
    assert by_code["Aut"][0] == abh + 7 and by_code["Aut"][-1] == autumn[0] - 1
    wtr = by_code["Wtr"]
    assert wtr[-1] == days[-1] and np.datetime64(f"{year}-01-01") in wtr
    assert np.all(np.diff(s[s > 0]) >= 0)  # seasons come in order within the year
