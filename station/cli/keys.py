"""``station keys export|init``, ``station ca export`` and ``station secrets open``: the station's keys.

>>> import tempfile; from station.cli.main import main
>>> with tempfile.TemporaryDirectory() as folder:           # a new station: the key it will sign with
...     _ = Path(folder, "station.toml").write_text('station = {id = "st01"}')
...     main(["keys", "export", "--config", f"{folder}/station.toml"])      # public PEM only, no PIN
-----BEGIN PUBLIC KEY-----...-----END PUBLIC KEY-----
0
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from station.cli.options import DEFAULT_CONFIG, Subparsers, optional_config, station_data, store_arguments
from station.core.errors import ConfigError, RecordError, StationError

if TYPE_CHECKING:
    from station.factory.keys.keystore import PublicKey


def add_parser(commands: Subparsers) -> None:
    keys = commands.add_parser("keys", help="station keys").add_subparsers(title="keys commands")
    keys_export = keys.add_parser("export", help="print the station's record-signing public key (PEM)")
    store_arguments(keys_export)
    keys_export.add_argument("--pkcs11", metavar="URI", help="print this token key's public key instead")
    keys_export.set_defaults(handler=_keys_export)
    keys_init = keys.add_parser("init", help="create a key pair in a PKCS#11 token (PIN: [keys] pin_*)")
    keys_init.add_argument("--config", help=f"station configuration (default ./{DEFAULT_CONFIG})")
    keys_init.add_argument("--data", help="station data directory")
    keys_init.add_argument("--pkcs11", metavar="URI", required=True, help="pkcs11:token=...;object=...")
    keys_init.add_argument("--type", choices=("p256", "ed25519"), help="default: from the URI's [keys] role")
    keys_init.set_defaults(handler=_keys_init)

    ca = commands.add_parser("ca", help="factory CA").add_subparsers(title="ca commands")
    ca_export = ca.add_parser("export", help="print the factory CA certificate (PEM)")
    store_arguments(ca_export)
    ca_export.set_defaults(handler=_ca_export)

    secrets = commands.add_parser("secrets", help="escrowed unit secrets").add_subparsers(title="secrets")
    secrets_open = secrets.add_parser("open", help="decrypt a record's sealed secrets with the escrow key")
    store_arguments(secrets_open)
    secrets_open.add_argument("record", help="record id")
    secrets_open.add_argument("--escrow-key", required=True, help="file with the escrow X25519 private key")
    secrets_open.set_defaults(handler=_secrets_open)


def _keys_export(args: argparse.Namespace) -> int:
    """The signing public key (PEM), or that of the token key ``--pkcs11``; never needs a PIN."""
    from station.factory.keys.keystore import TokenKeyRef, open_key, token_access

    data = station_data(args)
    if args.pkcs11 is None:
        public: PublicKey = data.signing_public_key()
    else:
        ref = open_key(args.pkcs11, data.data_dir, setting="--pkcs11", token=token_access(data.keys))
        if not isinstance(ref, TokenKeyRef):
            raise ConfigError("--pkcs11 needs a pkcs11: URI")
        public = ref.public_key()
    _print_public(public)
    return 0


def _keys_init(args: argparse.Namespace) -> int:
    """Create a key pair in a token (PIN from [keys] pin_file/pin_env); print its public key and id."""
    from station.factory.keys.keystore import init_token_key, key_id

    config = optional_config(args.config)
    if config is None:
        raise StationError(f"keys init needs a station configuration (--config or ./{DEFAULT_CONFIG})")
    data = Path(args.data) if args.data else config.resolve(config.station.data_dir)
    public = init_token_key(
        config.keys, args.pkcs11, args.type, data, base_dir=config.base_dir, environ=os.environ
    )
    print(f"created {args.pkcs11} (key id {key_id(public)})", file=sys.stderr)
    _print_public(public)
    return 0


def _print_public(public: PublicKey) -> None:
    from cryptography.hazmat.primitives import serialization

    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    sys.stdout.write(pem.decode("ascii"))


def _ca_export(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives import serialization

    certificate = station_data(args).ca_certificate()
    if certificate is None:
        raise ConfigError("no factory CA certificate yet (it is created on the station's first start)")
    sys.stdout.write(certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"))
    return 0


def _secrets_open(args: argparse.Namespace) -> int:
    """Print a record's escrowed secrets (customer hand-over); the escrow key stays in its file."""
    from station.factory.escrow import open_sealed
    from station.factory.keys.keystore import open_file_key

    data = station_data(args)
    stored = data.store().get(args.record)
    if stored is None:
        raise RecordError(f"no record {args.record} in {data.store_path}")
    personalization = stored.payload.get("personalization") or {}
    sealed = personalization.get("sealed_secrets")
    if sealed is None:
        raise RecordError(
            f"record {args.record} has no sealed secrets (batch key policy, or not personalised)"
        )
    escrow = Path(args.escrow_key).resolve()
    private = open_file_key(f"file:{escrow}", data.data_dir, setting="--escrow-key").x25519()
    json.dump(open_sealed(sealed, private), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
