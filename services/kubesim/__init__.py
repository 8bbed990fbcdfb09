"""kubesim: a Kubernetes pod API simulator, a test double for tests and the demo."""
