#!/usr/bin/env bash
# Run a command with the local services profile's settings (deploy/local/services.env).
# A variable already set in the environment wins over the file, so a person can override any.
# Usage: deploy/local/with-env.sh COMMAND [ARGS...]
set -euo pipefail
env_file="$(dirname "$0")/services.env"
while IFS='=' read -r name value; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  [[ -z "${!name+x}" ]] && export "$name=$value"
done < "$env_file"
exec "$@"
