"""``python -m kaokore`` runs the CLI."""

from kaokore.cli import main

main()
