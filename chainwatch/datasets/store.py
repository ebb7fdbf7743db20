"""The local store: the dataset's tables as parquet files under one folder, written atomically.

Layout under ``root`` (the local stand-in for the lake, e.g. ``Settings.lake_dir``)::

    nycflights13/
        shipments.parquet  weather.parquet  facilities.parquet
        carriers.parquet   vehicles.parquet
        manifest.json      # row counts, source, correction counts

Each file is written to a temporary name in the same folder and renamed into place, so a
reader never sees a half-written file. Reading conforms every table to its declared schema,
so dtypes are identical to those of the dataset that was written.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pandas as pd

from chainwatch.datasets.schema import SCHEMAS, FlightsDataset, conform
from chainwatch.errors import NotFoundError

#: Folder of the dataset under the store root.
DATASET_DIR = "nycflights13"
#: Name of the manifest file beside the tables.
MANIFEST = "manifest.json"


def dataset_dir(root: Path) -> Path:
    """The folder holding the dataset under ``root``.

    Args:
        root: Store root.

    Returns:
        ``root / "nycflights13"``.
    """
    return root / DATASET_DIR


def write_local_store(dataset: FlightsDataset, root: Path) -> dict[str, Path]:
    """Write every table to parquet, and a manifest, atomically.

    Args:
        dataset: The dataset to write.
        root: Store root; created if missing.

    Returns:
        Table name (and ``"manifest"``) -> path written.
    """
    folder = dataset_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, frame in dataset.tables().items():
        path = folder / f"{name}.parquet"
        _atomic_write(path, partial(_write_parquet, frame))
        written[name] = path
    manifest = {
        "dataset": "nycflights13",
        "tables": {name: {"file": path.name, "rows": len(dataset.tables()[name])} for name, path in written.items()},
        "quality": dict(dataset.quality),
    }
    path = folder / MANIFEST
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    _atomic_write(path, partial(_write_text, text))
    written["manifest"] = path
    return written


def read_local_store(root: Path) -> FlightsDataset:
    """Read the dataset written by :func:`write_local_store`.

    Args:
        root: Store root.

    Returns:
        The dataset, dtype-identical to the one written.

    Raises:
        NotFoundError: A table or the manifest is missing.
    """
    folder = dataset_dir(root)
    paths = {name: folder / f"{name}.parquet" for name in SCHEMAS}
    missing = [str(path) for path in [*paths.values(), folder / MANIFEST] if not path.is_file()]
    if missing:
        msg = f"local store incomplete, missing: {', '.join(missing)} (write it first)"
        raise NotFoundError(msg)
    tables = {name: conform(pd.read_parquet(path), SCHEMAS[name], name) for name, path in paths.items()}
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    quality = {str(key): int(value) for key, value in manifest.get("quality", {}).items()}
    return FlightsDataset(**tables, quality=quality)


def _atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write via ``write(temp path)`` then rename onto ``path``; no partial file survives."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        write(tmp)
        tmp.chmod(0o644)  # mkstemp creates 0600; the store is meant to be shared
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    frame.to_parquet(path, index=False)


def _write_text(text: str, path: Path) -> None:
    path.write_text(text, encoding="utf-8")
