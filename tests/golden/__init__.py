"""Golden files pinning the rankings: see regenerate.py."""
