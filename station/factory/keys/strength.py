"""A batch passphrase's strength: counted characters times log2(alphabet size), at least 60 bits.

>>> [round(estimated_bits(text)) for text in ("hunter2", "a" * 20, "correct horse battery staple")]
[36, 5, 135]
>>> weak_passphrase_problem("hunter2")
'is too weak: at least 60 bits are needed (characters counted times log2 of the alphabet size; docs/cli.md)'
"""

from __future__ import annotations

import math
import string

MIN_BITS = 60  # one batch passphrase guards every unit of the batch: well beyond an online or PBKDF2 guess
# The alphabet is the sum of the classes a passphrase uses.
CLASSES = (
    (frozenset(string.ascii_lowercase), 26),
    (frozenset(string.ascii_uppercase), 26),
    (frozenset(string.digits), 10),
    (frozenset(string.punctuation + " "), 33),
)
OTHER_CLASS = 100  # any character outside printable ASCII (letters with accents, other scripts)


def estimated_bits(passphrase: str) -> float:
    """Counted characters times log2(alphabet size); 0 for an empty passphrase.

    A character is not counted when it repeats the one before it or steps by one from it (``aa``, ``ab``,
    ``21``): runs and sequences add next to nothing to a guesser's work.
    """
    alphabet = sum(size for members, size in CLASSES if any(c in members for c in passphrase))
    if any(not any(c in members for members, _ in CLASSES) for c in passphrase):
        alphabet += OTHER_CLASS
    counted = sum(
        1
        for index, char in enumerate(passphrase)
        if index == 0 or abs(ord(char) - ord(passphrase[index - 1])) > 1
    )
    return counted * math.log2(alphabet) if counted else 0.0


def weak_passphrase_problem(passphrase: str) -> str | None:
    """Why ``passphrase`` may not be a batch passphrase (never quoting it), or None."""
    if estimated_bits(passphrase) >= MIN_BITS:
        return None
    return (
        f"is too weak: at least {MIN_BITS} bits are needed "
        "(characters counted times log2 of the alphabet size; docs/cli.md)"
    )
