"""``station keys export|init``, ``ca export``, ``secrets open``, ``firmware add|list``: the station's keys.

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

from station.cli.options import (
    DEFAULT_CONFIG,
    Subparsers,
    config_argument,
    optional_config,
    station_data,
    store_arguments,
)
from station.core.errors import ConfigError, ProtocolError, RecordError, StationError

if TYPE_CHECKING:
    from station.core.config import StationConfig
    from station.factory.keys.keystore import PublicKey
    from station.factory.release import ReleaseKey


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
    _add_firmware_parser(commands)


def _add_firmware_parser(commands: Subparsers) -> None:
    firmware = commands.add_parser("firmware", help="firmware images and their signed manifest")
    verbs = firmware.add_subparsers(title="firmware commands")
    add = verbs.add_parser(
        "add", help="copy an image into the firmware folder, enter it, re-sign the manifest"
    )
    add.add_argument("file", help="the image file, exactly as Encedo ships it")
    add.add_argument("--version", required=True, help="the fwv a unit reports after installing it")
    add.add_argument("--fws", help="the fws a unit reports after installing it (base64), where known")
    add.add_argument("--name", help="file name in the firmware folder (default: the file's own)")
    add.add_argument(
        "--key", metavar="URI", help="release key file:<path>.pem or pkcs11: (default [keys] release)"
    )
    listing = verbs.add_parser("list", help="the manifest's entries and whether its signature verifies")
    for verb in (add, listing):
        config_argument(verb)
        verb.add_argument("--dir", help="firmware folder (default [firmware] dir, else ./firmware_images)")
    add.set_defaults(handler=_firmware_add)
    listing.set_defaults(handler=_firmware_list)


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

    data = station_data(args)
    certificate = data.ca_certificate()
    if certificate is None and data.remote:  # nothing is made on a first start: the CA is the service's
        raise ConfigError(
            "the backend is remote, so its factory CA certificate is the PEM file ca_certificate names "
            "(relative to this file), else the one the service answers to GET /ca, which only a running "
            "station asks for: set ca_certificate (Encedo's service has no GET /ca) to export it here",
            path=args.config or DEFAULT_CONFIG,
            key="backend.ca_certificate",
        )
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


def _firmware_add(args: argparse.Namespace) -> int:
    """Enter an image, re-sign the manifest with the release key (one the station trusts, if it names one)."""
    from station.factory.release import add_image, key_id, public_key_text

    config = optional_config(args.config)
    folder = _firmware_folder(args, config)
    key = _release_key(args, config)
    public = public_key_text(key)
    trusted = config.firmware.release_key if config is not None else None
    if trusted is not None and _trusted_key(trusted) != key.public_key().public_bytes_raw():
        raise ConfigError(
            f"the release key {public} is not the one the station trusts ({trusted}); nothing was written",
            path=config.path if config is not None else None,
            key="firmware.release_key",
        )
    image = add_image(folder, Path(args.file), args.version, args.fws, key, name=args.name)
    print(f"added {folder / image.file}: {image.fwv}, {image.size} bytes, SHA-256 {image.sha256}")
    print(f"signed {folder / 'manifest.json'} with release key {key_id(key)}", file=sys.stderr)
    if trusted is None:
        print(f'station.toml: [firmware] release_key = "{public}"', file=sys.stderr)
    return 0


def _firmware_list(args: argparse.Namespace) -> int:
    """The entries, the signature's verdict, the files ignored; 1 when the station would refuse to start."""
    from station.factory.firmware import (
        MANIFEST,
        check_file,
        parse_manifest,
        release_key_id,
        unlisted_files,
        verified_entries,
    )

    config = optional_config(args.config)
    folder = _firmware_folder(args, config)
    if not folder.is_dir():
        raise StationError(f"firmware folder {folder} does not exist")
    images = (
        parse_manifest((folder / MANIFEST).read_bytes(), folder / MANIFEST)
        if (folder / MANIFEST).exists()
        else ()
    )
    problems: list[str] = []
    for image in images:
        print(f"{image.file}  {image.size} bytes  {image.fwv}  sha256 {image.sha256}  fws {image.fws or '-'}")
        try:
            check_file(folder, image)
        except ConfigError as exc:
            problems.append(str(exc))
    text = config.firmware.release_key if config is not None else None
    if text is None:
        problems.append("no [firmware] release_key configured: the signature cannot be checked")
    else:
        public = _trusted_key(text)
        try:
            verified_entries(folder, public)
            print(f"signature: verifies with release key {release_key_id(public)}")
        except ConfigError as exc:
            problems.append(str(exc))
    for name in unlisted_files(folder, tuple(images)):
        print(f"ignored (not in the manifest): {name}")
    for problem in problems:
        print(f"problem: {problem}")
    return 1 if problems else 0


def _trusted_key(text: str) -> bytes:
    """``[firmware] release_key`` as raw bytes; ConfigError naming the setting."""
    from station.factory.firmware import release_public_key

    try:
        return release_public_key(text)
    except ProtocolError as exc:
        raise ConfigError(f"the release key {exc}", key="firmware.release_key") from None


def _firmware_folder(args: argparse.Namespace, config: StationConfig | None) -> Path:
    if args.dir:
        return Path(args.dir)
    return config.resolve(config.firmware.dir) if config is not None else Path("firmware_images")


def _release_key(args: argparse.Namespace, config: StationConfig | None) -> ReleaseKey:
    """``--key`` (a file relative to here) or ``[keys] release`` (relative to the data directory)."""
    from station.factory.keys.keystore import KeyRef, open_key, token_access
    from station.factory.keys.pkcs11uri import is_pkcs11_uri

    if args.key is not None:
        uri, data_dir, setting = args.key, Path.cwd(), "--key"
    elif config is not None and config.keys.release is not None:
        uri, data_dir, setting = config.keys.release, config.resolve(config.station.data_dir), "keys.release"
    else:
        raise StationError("firmware add needs the release key: --key file:<path>.pem or [keys] release")
    access = None
    if not is_pkcs11_uri(uri) and not uri.endswith(".pem"):
        raise ConfigError("the release key is an Ed25519 key: file:<path>.pem or pkcs11:...", key=setting)
    if is_pkcs11_uri(uri):
        if config is None:
            raise StationError("a pkcs11: release key needs a configuration with [keys] pkcs11_module")
        access = token_access(config.keys, base_dir=config.base_dir, environ=os.environ)
    ref = open_key(uri, data_dir, setting=setting, token=access)
    if isinstance(ref, KeyRef) and not ref.sibling(".pem").exists():
        print(f"created a new release key {ref.sibling('.pem')}", file=sys.stderr)
    return ref.ed25519()
