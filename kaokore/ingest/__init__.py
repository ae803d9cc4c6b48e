"""Harvesting: read change feeds, curations, manifests and image services, and fetch face crops."""
