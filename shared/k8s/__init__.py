"""Kubernetes helpers; only this package imports the official client."""
