"""launcher: consumes task jobs, renders their pods and creates them.

The only path from a job to a pod. Jobs arrive on the kombu queue of each namespace; each is
checked (schema, namespace), rendered, judged by pod security on the rendered pod, given an
active-pod slot, and created with bounded concurrency under a token-bucket rate limit. The
outcome (created, exists, rejected) is published to the launches stream before the job is
acknowledged, so a job is never lost and, thanks to deterministic pod names, never makes a second
pod.
"""
