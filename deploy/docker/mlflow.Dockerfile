# MLflow tracking server of deploy/docker-compose.yml: the official image plus the two
# drivers it lacks, psycopg2 (PostgreSQL backend store) and boto3 (S3 artifact store).
# Versions match requirements.lock, so the server speaks the same MLflow as the clients.
ARG MLFLOW_VERSION=3.17.2
FROM ghcr.io/mlflow/mlflow:v${MLFLOW_VERSION}
RUN pip install --no-cache-dir psycopg2-binary==2.9.13 boto3==1.43.117
