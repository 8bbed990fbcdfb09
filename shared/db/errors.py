"""The database's failures, sorted by what a caller does about them.

Callers outside `shared.db` decide two things on a failure: is Postgres out of reach (retry the
whole batch later), or did this statement fail (its rows are at fault)? They ask here instead of
knowing SQLAlchemy's exception tree.
"""

from __future__ import annotations

from sqlalchemy import exc

#: Any failure of the database or of talking to it.
DatabaseError = exc.SQLAlchemyError
#: A failure the driver reported: a refused statement or a lost connection.
DriverError = exc.DBAPIError
#: Postgres could not be reached, or the connection broke.
Unreachable = exc.OperationalError

_OUT_OF_REACH = (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError)


def is_out_of_reach(error: BaseException) -> bool:
    """Whether `error` says Postgres is out of reach, rather than that a statement failed."""
    if isinstance(error, _OUT_OF_REACH):
        return True
    return isinstance(error, exc.DBAPIError) and error.connection_invalidated


def cause_of(error: BaseException) -> BaseException:
    """The driver's own error behind a database error (without the statement and parameters);
    any other error as it is."""
    if isinstance(error, exc.DBAPIError) and error.orig is not None:
        return error.orig
    return error
