-- Runs once, when the postgres container starts on an empty data volume
-- (/docker-entrypoint-initdb.d). The entrypoint has already created the role `chainwatch`
-- (POSTGRES_USER) and its database `chainwatch` (POSTGRES_DB); MLflow's backend store gets a
-- database of its own, as in the local services profile (settings.postgres.mlflow_database).
CREATE DATABASE mlflow OWNER chainwatch;
