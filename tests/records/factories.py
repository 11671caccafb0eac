"""Builders for record tests: keys, a small factory CA, device certificates and record drafts."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from station.core.operator import Operator
from station.devices.ppa.protocol import attestation_ski
from station.records import (
    Failure,
    FixtureRef,
    ProvisioningEvidence,
    RecordDraft,
    StepRecord,
    UnitIdentity,
)

T0 = datetime(2025, 3, 4, 10, 0, 0, tzinfo=UTC)
CONFIG_SHA256 = "ab" * 32


@dataclass(frozen=True)
class Ca:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


def make_ca(name: str = "Test Factory CA") -> Ca:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(T0 - timedelta(days=1))
        .not_valid_after(T0 + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Ca(key, certificate)


def issue_device_certificate(ca: Ca, device_key: ec.EllipticCurvePrivateKey, genuine_id: str) -> bytes:
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"#{genuine_id}")]))
        .issuer_name(ca.certificate.subject)
        .public_key(device_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(T0)
        .not_valid_after(T0 + timedelta(days=3 * 365))
        .sign(ca.key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.DER)


def random_unit() -> UnitIdentity:
    return UnitIdentity(
        devid=os.urandom(8).hex(),
        genuine_id=os.urandom(9).hex(),
        eid="eid-public-b64",
        eid_sign="eid-sign-public-b64",
        instanceid="0f8fad5b-d9cb-469f-a165-70867728950e",
        hwv="PPA rev1",
        fwv="Encedo nGINE FW v1.2.2",
        blv="BL 1.0",
    )


def evidence(ca: Ca, unit: UnitIdentity) -> ProvisioningEvidence:
    device_key = ec.generate_private_key(ec.SECP256R1())
    der = issue_device_certificate(ca, device_key, unit.genuine_id or "00")
    return ProvisioningEvidence.from_der(
        der, attestation_key_sha1=attestation_ski(device_key.public_key()).hex(), refusal_status=406
    )


def steps(*names: str, outcome: str = "pass") -> tuple[StepRecord, ...]:
    return tuple(
        StepRecord(
            name=name,
            outcome=outcome,
            started=T0 + timedelta(seconds=index),
            finished=T0 + timedelta(seconds=index, milliseconds=750),
            attempts=1,
            detail={"note": f"step {index}"},
        )
        for index, name in enumerate(names)
    )


def draft(
    ca: Ca | None = None,
    *,
    unit: UnitIdentity | None = None,
    outcome: str = "pass",
    mode: str = "production",
    personalization: dict[str, Any] | None = None,
) -> RecordDraft:
    """A draft like the production pipeline's; a failing one carries a failure and no certificate."""
    unit = unit or random_unit()
    passing = outcome == "pass"
    return RecordDraft(
        mode=mode,
        operator=Operator(id="op7", role="operator"),
        fixture=FixtureRef(slot="A1", port="1-1.2"),
        unit=unit,
        provisioning=evidence(ca, unit) if ca is not None and passing else None,
        personalization=personalization
        if personalization is not None
        else {"profile": "default", "hostname": "my.ence.do", "storage_mode": 0x51},
        steps=steps("detect", "identify", "provision", "verify"),
        outcome=outcome,
        failure=None if passing else Failure(step="provision", code="HTTP 500", message="device failed"),
        started=T0,
        finished=T0 + timedelta(seconds=5),
        simulated=True,
    )
