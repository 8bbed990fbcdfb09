"""watcher: watches our pods and publishes their phase events, never losing or inventing one.

One active watcher per namespace (a Redis lease; standbys wait to take over) lists, then watches
from the list's resourceVersion with bookmarks, decodes each raw line into a small typed struct,
publishes transitions to `pod-events:<namespace>`, and only then checkpoints the resourceVersion,
so a restart resumes exactly where publishing stopped. A 410 re-lists; a dropped stream
reconnects with backoff; nothing but a bad configuration stops the process.
"""
