"""The dashboard: one page an operator looks at before reading logs or SQL.

Served by the reconciler beside its API, from files in this package (`static/`: hand-written HTML,
CSS and JavaScript, no build step, nothing fetched from elsewhere). The page is a shell that
holds no data; everything it shows comes from JSON endpoints under `/ui/data/`, behind the same
bearer token as the API (`routing`). `figures` answers the Now, Flow and Failures views,
`listing` the task table, `one_task` the page of one task.
"""
