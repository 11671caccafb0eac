"""RMA mode: wipe a returned unit, provision it again, link the new record.

>>> from station.pipeline.modes.rma.flow import RmaPolicy
>>> RmaPolicy()                    # a unit no record knows is refused; without a passphrase, a backend wipe
RmaPolicy(unknown_unit='refuse', backend_wipe=True, wipe_grace=30.0)
"""
