"""Create the S3 buckets of deploy/docker-compose.yml on its moto endpoint (one-shot, idempotent).

Runs inside the motoserver/moto image, whose Python already has boto3. Bucket names come from
``BUCKETS`` (space-separated); the endpoint and credentials from the standard ``AWS_*``
variables (``AWS_ENDPOINT_URL`` points boto3 at the moto server).
"""

import os
import sys
import time

import boto3
from botocore.exceptions import ClientError, EndpointConnectionError


def main() -> int:
    """Create every bucket in ``BUCKETS`` that does not exist yet."""
    buckets = os.environ["BUCKETS"].split()
    s3 = boto3.client("s3")
    deadline = time.monotonic() + 60
    while True:
        try:
            existing = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
            break
        except EndpointConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
    for name in buckets:
        if name in existing:
            print(f"bucket {name}: exists")
            continue
        try:
            s3.create_bucket(Bucket=name)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                raise
        print(f"bucket {name}: created")
    return 0


if __name__ == "__main__":
    sys.exit(main())
