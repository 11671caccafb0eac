"""Factory keys: files and PKCS#11 tokens, secrets sealed to the escrow key."""
