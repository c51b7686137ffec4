"""Identifiers: MPAN check digits, GSP groups, DIP IDs, serials and sender references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mhhs_workbench.codes import identifiers as ids
from mhhs_workbench.model import identities


def test_known_mpans():
    assert ids.is_valid_mpan("2000056535971")
    assert not ids.is_valid_mpan("2000056535972")
    assert not ids.is_valid_mpan("200005653597")
    assert "check digit" in ids.mpan_problem("2000056535972")
    assert "13 digits" in ids.mpan_problem("20000565359a1")


def test_fourteen_gsp_groups_map_both_ways():
    assert len(ids.GSP_GROUPS) == 14
    assert "_I" not in ids.GSP_GROUPS and "_O" not in ids.GSP_GROUPS
    for dist, gsp in ids.GSP_GROUP_BY_DISTRIBUTOR.items():
        assert ids.DISTRIBUTOR_BY_GSP_GROUP[gsp] == dist
    assert ids.GSP_GROUP_BY_DISTRIBUTOR["17"] == "_P" and ids.GSP_GROUP_BY_DISTRIBUTOR["20"] == "_H"


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ids.GSP_GROUPS), st.integers(0, 2**62), st.integers(0, ids.MPANS_PER_GSP_GROUP - 1),
       st.floats(0.0, 0.999), st.integers(0, 11), st.integers(1, 9))
def test_generated_mpans_pass_and_any_single_digit_change_fails(gsp, key, index, pick, position, delta):
    mpan = str(identities.indexed_mpans(gsp, np.array([index]), key, np.array([pick]))[0])
    assert ids.is_valid_mpan(mpan)
    assert ids.gsp_group_of_mpan(mpan) == gsp
    for pos in (position, 12):  # a body digit and the check digit itself
        changed = mpan[:pos] + str((int(mpan[pos]) + delta) % 10) + mpan[pos + 1 :]
        assert not ids.is_valid_mpan(changed), (mpan, changed)


def test_check_digit_zero_is_ambiguous_for_arbitrary_cores():
    # residues 0 and 10 both give check digit 0: why generated cores avoid them
    valid = ""
    for n in range(10**6, 10**6 + 2000):
        core12 = f"10{n:010d}"
        if int(ids.mpan_check_digit(core12)) == 0 and ids._weighted_sum(core12)[0] % 11 == 0:
            valid = core12 + "0"
            break
    assert ids.is_valid_mpan(valid)
    twins = [
        valid[:i] + str(d) + valid[i + 1 :]
        for i in range(12)
        for d in range(10)
        if str(d) != valid[i] and ids.is_valid_mpan(valid[:i] + str(d) + valid[i + 1 :])
    ]
    assert twins, "some single-digit change of a residue-0 core keeps check digit 0"


def test_indexed_mpans_are_distinct_and_valid_in_bulk():
    for i, gsp in enumerate(ids.GSP_GROUPS):
        m = identities.indexed_mpans(gsp, np.arange(500), 7 + i, np.linspace(0, 0.999, 500))
        assert len(set(m.tolist())) == 500
        assert all(ids.is_valid_mpan(x) and ids.gsp_group_of_mpan(x) == gsp for x in m)


def test_export_mpans_are_valid_in_the_same_area_and_never_an_import_mpan():
    index = np.arange(20_000)
    pick = np.linspace(0.001, 0.999, index.size)
    for gsp in ("_A", "_P"):
        imports = identities.indexed_mpans(gsp, index, 4242, pick)
        exports = identities.indexed_export_mpans(gsp, index, 4242, pick[::-1])
        assert len(set(exports.tolist())) == index.size
        assert not set(exports.tolist()) & set(imports.tolist())
        assert all(ids.is_valid_mpan(x) and ids.gsp_group_of_mpan(x) == gsp for x in exports[::97])
    # keyed by the site number alone: a slice gives the same cores as the whole
    whole = identities.indexed_export_mpans("_C", index[:50], 9, pick[:50])
    assert (identities.indexed_export_mpans("_C", index[20:30], 9, pick[20:30]) == whole[20:30]).all()
    with pytest.raises(ids.IdentifierError, match="export MPANs per GSP group"):
        identities.indexed_export_mpans("_A", np.array([ids.MPANS_PER_GSP_GROUP // 2]), 0, np.array([0.5]))


def test_unknown_gsp_group_and_out_of_range_numbers_are_refused():
    with pytest.raises(ids.IdentifierError, match="_I"):
        identities.indexed_mpans("_I", np.array([0]), 0, np.array([0.5]))
    with pytest.raises(ids.IdentifierError, match="per GSP group"):
        identities.indexed_mpans("_A", np.array([ids.MPANS_PER_GSP_GROUP]), 0, np.array([0.5]))
    with pytest.raises(ids.IdentifierError, match="distinct meter serials"):
        identities.indexed_meter_serials(np.array([-1]), 0)


def test_dip_ids_are_ten_characters_and_distinct_per_role():
    made = {ids.dip_id(role, i) for role in ids.ROLE_IDS for i in range(5)}
    assert len(made) == len(ids.ROLE_IDS) * 5
    assert all(ids.is_valid_dip_id(x) for x in made)


def test_meter_serials_fit_the_ten_character_limit():
    serials = identities.indexed_meter_serials(np.arange(1000), 3)
    assert len(set(serials.tolist())) == 1000
    assert all(1 <= len(s) <= 10 for s in serials)


def test_sender_references_match_elexons_pattern_and_are_unique():
    refs = ids.sender_unique_references("IF-021", "1400000001", "SDS", "20250330", range(1000))
    assert len(set(refs)) == 1000
    assert all(ids.SENDER_UNIQUE_REFERENCE_PATTERN.match(r) for r in refs)
    with pytest.raises(ids.IdentifierError):
        ids.sender_unique_references("IF-021", "14000000ZZ", "SDS", "20250330", [1])
