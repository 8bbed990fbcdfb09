"""The database: the `task_instance` model, engines, and migrations."""
