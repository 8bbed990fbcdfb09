"""Messaging; only this package imports redis and kombu. Every Redis name lives in `keys`."""
