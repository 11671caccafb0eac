"""Verifying records: a chain's signatures and links, a whole store with its indexes."""
