"""How settings map to environment variables: ``CHAINWATCH_`` prefix, ``__`` between levels."""

ENV_PREFIX = "CHAINWATCH_"
ENV_NESTED_DELIMITER = "__"
