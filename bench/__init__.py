"""The benchmark scripts; ``python -m bench`` runs them all and prints one table."""
