"""RMA mode: wipe a returned unit, provision it again, link the new record."""
