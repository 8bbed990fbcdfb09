"""podrunner's services; each runs as its own process and imports only `shared`."""
