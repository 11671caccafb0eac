"""At most one 600 000-round key derivation per CPU core at a time, across every slot and mode of the process.

>>> import hashlib
>>> with KDF_SLOTS:                       # around each derive_user_private_key(passphrase, eid)
...     hashlib.pbkdf2_hmac("sha256", b"passphrase", b"eid", 1000).hex()[:16]
'b07aac706007f86a'
"""

from __future__ import annotations

import os
import threading

KDF_SLOTS = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
