"""Who may do what at this station: accounts, roles, PIN login and the station audit log.

Example::

    store = SqliteStore(data_dir / DEFAULT_FILENAME)          # the station's one database file
    audit = AuditLog(store, signing_key)                      # signed with the record-signing key
    users = UserStore(audit)
    users.add("A0001", "Ada Admin", "admin", Pin("482913"), by=None)   # bootstrap: the first is an admin
    session = OperatorSession(users, audit)
    session.login("A0001", Pin("482913"))
    session.require("unit.wipe")                              # PermissionDenied, audited, if not allowed

The layer beside ``records/``: records say what happened to a unit, this package says who was at the
station and what they were allowed to do. It stores its tables (``users``, ``audit_log``, migration
0003) in the same SQLite file as the records, and signs audit entries the way records are signed
(JWS EdDSA over RFC 8785 canonical JSON, chained by SHA-256), so one key and one verifier habit cover
both. Modules: ``roles`` (the permission table), ``pins`` (scrypt PIN hashes), ``users`` (accounts,
login, lockout), ``audit`` (the chained log and its verifier), ``session`` (what the CLI and GUI hold).
Nothing here imports Qt.
"""
