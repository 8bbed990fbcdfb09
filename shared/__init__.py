"""What the services stand on: settings, messages, messaging, database, Kubernetes helpers."""
