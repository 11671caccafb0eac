"""PPA Provisioning Station: provisions, personalises and records Encedo PPA units on a factory line."""

__version__ = "0.1.0"
