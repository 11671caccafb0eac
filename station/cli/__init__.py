"""``station``: the command line, one module per verb family."""
