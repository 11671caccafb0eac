"""Verifying records: a chain's signatures and links, a whole store with its indexes.

>>> from station.records.check.chain import verify_chain
>>> verify_chain(["not.a.record"], trusted_keys={}).first.reason      # every problem named, none raised
'malformed JWS: ...'
"""
