"""Factory keys: key files, key pairs in a PKCS#11 token, and per-unit secrets sealed to an escrow key.

>>> from station.factory.keys.keystore import key_id
>>> key_id(bytes(32))                        # how records name a key: 16 hex digits of its SHA-256
'66687aadf862bd77'
"""
