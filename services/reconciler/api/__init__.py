"""The reconciler's face to clients: the HTTP API and the reads the CLI shares with it.

The rest of the reconciler applies events and sweeps; this package only answers people and
programs. `routing.make_router` builds the `/api/v1` router (jobs in `jobs`, task rows and logs in
`tasks`, reading rows in `rows`, who may call in `auth`, the wire shapes in `schemas`);
`reporting` and `waiting` are the same reads for `podrunner status` and `podrunner submit --wait`.
Nothing is imported here, so those commands do not load the web framework.
"""
