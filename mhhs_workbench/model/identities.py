"""Keyed identities of a fleet: MPAN cores and meter serials as keyed bijections of meter numbers.

The formats and check digits are :mod:`mhhs_workbench.codes.identifiers`; here the numbers are
drawn, from the package's one keyed hash, so every meter keeps its identity whatever the chunk.
"""

from __future__ import annotations

import numpy as np

from mhhs_workbench.codes.identifiers import (
    _SERIAL_MAKERS,
    DISTRIBUTOR_BY_GSP_GROUP,
    GSP_GROUPS,
    METER_SERIALS,
    MPAN_CHECK_WEIGHTS,
    MPANS_PER_GSP_GROUP,
    IdentifierError,
)
from mhhs_workbench.model.randomness import hash_counter, meter_keys


def keyed_permutation(index: np.ndarray, modulus: int, key: int) -> np.ndarray:
    """A keyed pseudo-random bijection of ``0 .. modulus - 1`` onto itself.

    A four-round Feistel network over the smallest even number of bits that holds ``modulus``,
    with cycle walking (values that land outside the range are permuted again), so distinct inputs
    always give distinct outputs and neighbouring inputs give unrelated ones.

    Parameters
    ----------
    index : array of int
        Values in ``[0, modulus)``.
    modulus : int
        Size of the range, at most ``2**62``.
    key : int
        Non-negative integer choosing the permutation.
    """

    half = max(1, ((int(modulus) - 1).bit_length() + 1) // 2)
    mask = np.uint64((1 << half) - 1)
    round_keys = meter_keys(key, np.arange(4), 0)
    x = np.asarray(index, dtype=np.int64).astype(np.uint64)
    todo = np.ones(x.shape, dtype=bool)
    while todo.any():
        left, right = x[todo] >> np.uint64(half), x[todo] & mask
        for k in round_keys:
            left, right = right, left ^ (hash_counter(np.full(right.shape, k, dtype=np.uint64), right) & mask)
        x[todo] = (left << np.uint64(half)) | right
        todo = x >= np.uint64(modulus)
    return x.astype(np.int64)


def indexed_mpans(gsp_group: str, index: np.ndarray, key: int, pick: np.ndarray) -> np.ndarray:
    """Valid MPAN cores as a keyed bijection of meter numbers within a GSP group.

    Meter number ``k`` maps to nine body digits through :func:`keyed_permutation`, followed by
    one last digit chosen among those that give an unambiguous check digit; distinct numbers therefore always give distinct cores, and a
    meter's core does not depend on how many meters there are.

    Parameters
    ----------
    gsp_group : str
        GSP group ID such as ``'_A'``; the core starts with its host distributor's ID.
    index : array of int
        Meter numbers within the GSP group, ``0 <= index <`` :data:`MPANS_PER_GSP_GROUP`.
    key : int
        Non-negative integer choosing the permutation (e.g. a hash of seed and GSP group).
    pick : array of float
        Uniform (0, 1) draw per meter choosing its last body digit.

    Returns
    -------
    numpy.ndarray of str
        13-digit MPAN cores, dtype ``<U13``; every single-digit change of one fails the check.
    """
    if gsp_group not in DISTRIBUTOR_BY_GSP_GROUP:
        raise IdentifierError(f"unknown GSP group {gsp_group!r}; expected one of {', '.join(GSP_GROUPS)}")
    index = np.asarray(index, dtype=np.int64)
    if index.size and (index.min() < 0 or index.max() >= MPANS_PER_GSP_GROUP):
        raise IdentifierError(f"at most {MPANS_PER_GSP_GROUP:,} MPANs per GSP group")
    body9 = 10**8 + keyed_permutation(index, MPANS_PER_GSP_GROUP, key)
    distributor = int(DISTRIBUTOR_BY_GSP_GROUP[gsp_group])
    # weighted sum of digits 1-11; digit 12 (weight 43) picks a residue of 1-9: residues 0 and 10
    # both give check digit 0, so a single-digit typo could turn one such core into another
    digits = np.stack([np.full(index.shape, distributor // 10), np.full(index.shape, distributor % 10)]
                      + [(body9 // 10 ** (8 - i)) % 10 for i in range(9)], axis=-1)
    partial = digits @ MPAN_CHECK_WEIGHTS[:11]
    residues = (partial[..., None] + MPAN_CHECK_WEIGHTS[11] * np.arange(10)) % 11
    allowed = (residues >= 1) & (residues <= 9)
    choice = (np.asarray(pick) * allowed.sum(axis=-1)).astype(np.int64)
    last = np.argmax(np.cumsum(allowed, axis=-1) > choice[..., None], axis=-1)
    check = np.take_along_axis(residues, last[..., None], axis=-1)[..., 0]
    number = (distributor * 10**9 + body9) * 100 + last * 10 + check
    return number.astype("U13")


def indexed_export_mpans(gsp_group: str, index: np.ndarray, key: int, pick: np.ndarray) -> np.ndarray:
    """Valid export MPAN cores, distinct from every import core :func:`indexed_mpans` makes.

    A metering point has one energy direction (DI-035), so an exporting site has a second MPAN.
    Export number ``k`` takes permutation input ``MPANS_PER_GSP_GROUP - 1 - k``: import numbers
    count up from 0 and export numbers down from the top of the same keyed bijection, so with the
    same ``key`` the two never collide while fewer than half the range is used by each.

    Parameters
    ----------
    gsp_group : str
        GSP group ID; the core starts with its host distributor's ID, as the import core does.
    index : array of int
        Site numbers within the GSP group, ``0 <= index < MPANS_PER_GSP_GROUP // 2``.
    key : int
        The key :func:`indexed_mpans` uses for the group's import cores.
    pick : array of float
        Uniform (0, 1) draw per site choosing the last body digit.

    Returns
    -------
    numpy.ndarray of str
        13-digit MPAN cores, dtype ``<U13``.
    """
    index = np.asarray(index, dtype=np.int64)
    if index.size and (index.min() < 0 or index.max() >= MPANS_PER_GSP_GROUP // 2):
        raise IdentifierError(f"at most {MPANS_PER_GSP_GROUP // 2:,} export MPANs per GSP group")
    return indexed_mpans(gsp_group, MPANS_PER_GSP_GROUP - 1 - index, key, pick)


def indexed_meter_serials(index: np.ndarray, key: int, *, year: int = 24) -> np.ndarray:
    """Distinct smart-meter style serials as a keyed bijection of meter numbers.

    Layout as :func:`random_meter_serials`: two-digit year, a manufacturer letter, seven digits.

    Parameters
    ----------
    index : array of int
        Meter numbers, ``0 <= index <`` :data:`METER_SERIALS`.
    key : int
        Non-negative integer choosing the permutation.
    """
    index = np.asarray(index, dtype=np.int64)
    if index.size and (index.min() < 0 or index.max() >= METER_SERIALS):
        raise IdentifierError(f"at most {METER_SERIALS:,} distinct meter serials")
    x = keyed_permutation(index, METER_SERIALS, key)
    makers = _SERIAL_MAKERS[x // 10**7]
    return np.char.add(np.char.add(f"{year % 100:02d}", makers), np.char.zfill((x % 10**7).astype("U7"), 7))
