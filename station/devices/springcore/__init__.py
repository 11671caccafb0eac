"""SpringCard readers (SpringCore firmware) through the SpringCard Companion Service REST API.

Example::

    from station.devices.springcore.configdata import parse_config
    from station.devices.springcore.client import CompanionClient
    from station.devices.springcore.waiting import wait_until_back

    profile = parse_config(reader_profile_table)           # at start-up: ConfigDataError names the register
    client = CompanionClient(session, "http://127.0.0.1:3998")
    config_id = client.put_config(device_id, profile, specific="preserve")
    wait_until_back(client, device_id, within=10.0, cancel=stop_event)

Modules, each with its public API in its docstring:

- ``registers.py`` — the register table (sizes, device-specific, secret), the one place sizes live;
- ``values.py`` — ``ADDR[.modifier]`` keys and the bytes a value means;
- ``configdata.py`` — body validation (flat and CONFIG-DATA forms) into a frozen ``ConfigData`` with its
  canonical JSON and SHA-256; pure, shared by the Companion simulator (422s) and the station;
- ``client.py`` — ``CompanionClient``: typed calls, errors mapped onto ``springcore.errors.ReaderError``;
- ``replies.py`` — the DEVICE object and the other replies, strictly parsed;
- ``errors.py`` — ``ReaderError`` and its subclasses; ``failures.py`` — error statuses to them;
- ``waiting.py`` — wait for a restarted reader.

The behaviour follows ``docs/reference/springcard-companion-api.md`` and its binding decisions §11;
our further decisions are in ``docs/companion.md``.
"""
