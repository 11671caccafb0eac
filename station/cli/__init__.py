"""``station``: the command line, one module per verb family.

>>> from station.cli.main import VERB_MODULES
>>> [family.__name__.rsplit(".", 1)[1] for family in VERB_MODULES]      # in the order ``--help`` lists them
['sim', 'run', 'records', 'line', 'keys', 'gui', 'users', 'audit', 'doctor']
"""
