"""PPA Provisioning Station: provisions, personalises and records Encedo PPA units on a factory line.

One package per layer; dependencies point down only (docs/architecture.md):

>>> import pkgutil, station
>>> print(*(module.name for module in pkgutil.iter_modules(station.__path__)))
access app cli core dashboard devices factory fixtures gui labels pipeline records sim
"""

__version__ = "0.1.0"
