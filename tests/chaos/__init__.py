"""The chaos suite: real processes, random faults, and an account of every task at the end.

Two of each service, a redis-server of the run's own, a scratch database and kubesim run as
processes; tasks go in through the API and straight onto the queue while services are killed
with SIGKILL, Redis restarts empty, database connections are cut and the API server answers
errors. Then every task is accounted for: lost, wrong, run twice, or anything left behind.
`make chaos` runs the full version; `test_short_chaos_run.py` a short one in the suite.
"""
