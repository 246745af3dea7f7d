"""Maria: accounts, movie lists and watch-together rooms for Kinoway."""

__version__ = "0.1.0"
