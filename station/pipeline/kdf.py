"""At most one 600 000-round key derivation per CPU core at a time, across every slot and mode of the process.

Example::

    with KDF_SLOTS:
        user_key = derive_user_private_key(passphrase, eid)

PBKDF2 releases the GIL, so more derivations than cores only make each slot's personalisation (or QA
login, or RMA wipe) slower, and all of them finish late together (measured: 32 slots started at once,
parallel efficiency 0.76 → 0.85 with the limit). The semaphore is process-wide on purpose: a per-run one
limits nothing.
"""

from __future__ import annotations

import os
import threading

KDF_SLOTS = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
