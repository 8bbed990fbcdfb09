"""watcher: watches our pods and publishes their phase events."""
