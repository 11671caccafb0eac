"""The crypto a unit cannot be provisioned without, timed inside the run and by calling it N times.

Example::

    alone = standalone_crypto(bench.station, record_payload, CryptoRepeats())
    print(alone.total, alone.pbkdf2)

Per unit the station must derive the user key (PBKDF2-HMAC-SHA256, 600 000 rounds,
``protocol.derive_user_private_key``), issue the device certificate (ECDSA P-256, after the CSR and
``genuine`` checks the CA must make: ``LocalBackend.issue_device_certificate``) and sign the record
(Ed25519 compact JWS over canonical JSON: ``jws.sign``). Both ways time them by the calling thread's CPU
clock. ``bench.probes.CryptoProbe`` times them inside a run, under the very conditions the station's CPU
is measured in (on a shared virtual machine the same PBKDF2 took from 0.14 s to 0.23 s of CPU from one
minute to the next); ``standalone_crypto`` here calls each alone, N times, as the plain reference.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from station.app.station import Station
from station.core.codec import b64encode
from station.devices.ppa.protocol import derive_user_private_key, make_genuine
from station.factory.keys.keystore import open_key
from station.records import jws
from station.sim.ppa.identity import SE_CURVE, attestation_csr


@dataclass(frozen=True)
class CryptoRepeats:
    """How many times each operation is timed alone (PBKDF2 is slow; the signatures are fast and noisy)."""

    pbkdf2: int = 5
    signature: int = 200
    certificate: int = 50


@dataclass(frozen=True)
class CryptoCost:
    """CPU seconds per unit of each unavoidable operation."""

    pbkdf2: float
    certificate: float
    record_signature: float

    @property
    def total(self) -> float:
        return self.pbkdf2 + self.certificate + self.record_signature


def standalone_crypto(
    station: Station, record_payload: Mapping[str, Any], repeats: CryptoRepeats
) -> CryptoCost:
    """Median CPU of each operation called alone, with the station's own keys and a record of its run."""
    passphrase = b64encode(os.urandom(16))  # random: nothing here is a real unit's secret
    eid = b64encode(os.urandom(32))
    signing = open_key(station.config.keys.signing, station.data_dir, setting="keys.signing").ed25519()
    kid = jws.key_id(signing.public_key())
    csr, key_b64, genuine = _attestation()
    return CryptoCost(
        pbkdf2=_median_cpu(lambda: derive_user_private_key(passphrase, eid), repeats.pbkdf2),
        certificate=_median_cpu(
            lambda: station.backend.issue_device_certificate(csr, key_b64, genuine), repeats.certificate
        ),
        record_signature=_median_cpu(lambda: jws.sign(record_payload, signing, kid), repeats.signature),
    )


def _attestation() -> tuple[str, str, str]:
    """What a fresh secure element offers: CSR, public key (base64 SPKI) and a ``genuine`` made now."""
    se_key = ec.generate_private_key(SE_CURVE)
    spki = se_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    csr = attestation_csr(se_key, "0123" + os.urandom(7).hex())
    return csr, b64encode(spki), make_genuine(se_key, int(time.time()))


def _median_cpu(operation: Callable[[], object], repeats: int) -> float:
    """Median CPU seconds of this thread per call (after one warm-up call)."""
    operation()
    samples = []
    for _ in range(repeats):
        started = time.thread_time()
        operation()
        samples.append(time.thread_time() - started)
    return statistics.median(samples)
