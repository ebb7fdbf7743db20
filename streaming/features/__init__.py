"""Feature computation: pure window step functions, the feature table contract, and the stores."""
