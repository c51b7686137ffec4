"""Pseudonyms for MPANs and meter IDs, derived from the user's key.

Synthetic valid MPAN cores of the same distributors, and synthetic meter serials, replace the
real identifiers: the same key always gives the same pseudonyms, and none is a real identifier of
the input. The key comes from the environment (:data:`PSEUDONYMISE_KEY_ENV`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence

import numpy as np

from mhhs_workbench.codes.identifiers import METER_SERIALS, mpan_check_digit
from mhhs_workbench.model.identities import indexed_meter_serials, keyed_permutation
from mhhs_workbench.model.randomness import hash_counter, meter_keys

#: Environment variable holding the pseudonymisation key (never a notebook parameter).
PSEUDONYMISE_KEY_ENV = "MHHS_WORKBENCH_PSEUDONYMISE_KEY"


def pseudonymisation_key(pseudonymise: bool) -> str | None:
    """The key from :data:`PSEUDONYMISE_KEY_ENV` when ``pseudonymise`` is asked for, else ``None``.

    Raises
    ------
    ValueError
        Pseudonymisation is asked for and the variable is unset or empty.
    """
    if not pseudonymise:
        return None
    key = os.environ.get(PSEUDONYMISE_KEY_ENV, "")
    if not key:
        raise ValueError(f"pseudonymisation needs a key in the environment variable {PSEUDONYMISE_KEY_ENV}")
    return key


def _key_number(key: str, purpose: bytes) -> int:
    """A 63-bit number from the user's key (keyed: BLAKE2b with the purpose as personalisation)."""
    digest = hashlib.blake2b(str(key).encode("utf-8"), digest_size=8, person=purpose).digest()
    return int.from_bytes(digest, "little") >> 1


def pseudonymise_mpans(mpans: Sequence[str] | np.ndarray, key: str) -> np.ndarray:
    """Synthetic valid MPAN cores of the same distributors, one per real MPAN.

    Digits 3-12 of each core go through a keyed permutation of the 10**10 possible values
    (:func:`~mhhs_workbench.model.identities.keyed_permutation`, one key per distributor) and the
    check digit is recomputed: distinct MPANs get distinct pseudonyms, the same key always gives
    the same ones. A pseudonym that happens to be one of the real MPANs is replaced, in the order
    of the real MPANs, by a further permutation's, so no real MPAN is left in the output.

    Parameters
    ----------
    mpans : sequence of str
        Distinct valid 13-digit MPAN cores.
    key : str
        The pseudonymisation key.

    Returns
    -------
    numpy.ndarray of str
        The pseudonyms, in the order of ``mpans``.
    """
    real = np.asarray(mpans, dtype="U13")
    out = np.empty_like(real)
    base = _key_number(key, b"mhhs-mpan")
    for distributor in sorted(set(m[:2] for m in real.tolist())):
        sel = np.flatnonzero(np.char.startswith(real, distributor))
        body = real[sel].astype("U12").astype(np.int64) % 10**10  # digits 3-12
        out[sel] = _mpans_of(distributor, _permuted(body, base, int(distributor), 0))

    def again(i: int, attempt: int) -> str:
        body = np.array([int(real[i][2:12])], dtype=np.int64)
        return str(_mpans_of(real[i][:2], _permuted(body, base, int(real[i][:2]), attempt))[0])

    return _avoid(real, out, again)


def _permuted(body: np.ndarray, base: int, distributor: int, attempt: int) -> np.ndarray:
    key = int(hash_counter(meter_keys(base, np.array([distributor]), attempt), 0)[0]) >> 2
    return keyed_permutation(body, 10**10, key)


def _mpans_of(distributor: str, body: np.ndarray) -> np.ndarray:
    prefixes = np.char.add(distributor, np.char.zfill(body.astype("U10"), 10))
    return np.char.add(prefixes, mpan_check_digit(prefixes))


def _avoid(real: np.ndarray, out: np.ndarray, again: Callable[[int, int], str]) -> np.ndarray:
    """Replace pseudonyms that are real identifiers or repeat one, deterministically."""
    real_set = set(real.tolist())
    seen: set[str] = set()
    for i in np.argsort(real, kind="stable").tolist():
        attempt = 0
        while out[i] in real_set or out[i] in seen:
            attempt += 1
            out[i] = again(i, attempt)
        seen.add(str(out[i]))
    return out


def pseudonymise_meter_ids(meter_ids: Sequence[str] | np.ndarray, key: str) -> np.ndarray:
    """Synthetic meter serials (``24M0123456`` style), one per distinct real meter ID.

    Each ID's keyed hash picks a serial number, turned into a serial by the keyed bijection
    :func:`~mhhs_workbench.model.identities.indexed_meter_serials`; a serial already taken (or equal to a
    real ID) is rehashed with a counter, in the order of the real IDs.

    Parameters
    ----------
    meter_ids : sequence of str
        Distinct, non-empty meter IDs.
    key : str
        The pseudonymisation key.
    """
    real = np.asarray(meter_ids, dtype=object).astype(str)
    serial_key = _key_number(key, b"mhhs-serial")

    def serial(i: int, attempt: int) -> str:
        digest = hashlib.blake2b(f"{attempt}:{real[i]}".encode(), digest_size=8,
                                 key=str(key).encode("utf-8")[:64], person=b"mhhs-meter-id").digest()
        index = int.from_bytes(digest, "little") % METER_SERIALS
        return str(indexed_meter_serials(np.array([index]), serial_key)[0])

    out = np.array([serial(i, 0) for i in range(real.size)], dtype=object)
    return _avoid(real, out, serial).astype(str)
