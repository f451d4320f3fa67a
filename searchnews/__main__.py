"""``python -m searchnews`` runs the CLI."""

from .cli import main

main()
