"""alembic migrations, shipped inside the package so an installed podrunner can migrate."""
