"""Operator tools, run from a source checkout as `python -m scripts.<tool>`; not in the image."""
