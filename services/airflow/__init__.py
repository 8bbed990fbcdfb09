"""The Airflow executor: Airflow's scheduler hands its task instances to podrunner.

Only this package imports Airflow, and only `shared` besides: it is an Airflow plug-in, installed
with the `podrunner[airflow]` extra, never a dependency of the services.
"""
