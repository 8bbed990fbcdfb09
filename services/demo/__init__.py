"""`podrunner demo`: the whole system on one machine, running a set of real tasks end to end.

The demo starts Redis and Postgres (embedded ones unless URLs are given), kubesim in process mode
(each pod's command runs as a local subprocess), the three services as separate processes, submits
tasks with known outcomes through the reconciler's API, shows progress, and checks every result.
It imports only `shared`; the services run as the same `podrunner` processes a deployment runs.
"""
