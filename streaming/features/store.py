"""The Feast feature store of a profile: config, apply, and point-in-time retrieval.

Feast owns its config: ``feature_repo/feature_store.yaml`` (services) and
``feature_repo/local/feature_store.yaml`` (local) hold the store settings with ``${CW_FEAST_*}``
placeholders. :func:`feast_env` derives their values from :class:`Settings`;
:func:`feature_store` fills them in (without touching ``os.environ``) and returns the store.
For the Feast CLI, export ``feast_env(settings)`` (see docs/features.md).
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from feast import FeatureService, FeatureStore, RepoConfig

from chainwatch.errors import ConfigError
from chainwatch.settings import Profile, Settings
from streaming.features.offline import history_dir, history_writer
from streaming.features.schema import TIMESTAMP_COLUMN

#: The Feast repository folder (``feature_repo/`` at the project root).
REPO_DIR = Path(__file__).resolve().parents[2] / "feature_repo"
_ROW_ID = "__cw_entity_row__"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def yaml_path(profile: Profile) -> Path:
    """The ``feature_store.yaml`` of ``profile``."""
    return REPO_DIR / "feature_store.yaml" if profile is Profile.SERVICES else REPO_DIR / "local" / "feature_store.yaml"


def feast_dir(settings: Settings) -> Path:
    """Where the local profile keeps Feast's registry, SQLite online store and history."""
    return settings.data_dir / "feast"


def feast_env(settings: Settings) -> dict[str, str]:
    """The ``${CW_FEAST_*}`` values the profile's ``feature_store.yaml`` needs."""
    if settings.profile is Profile.LOCAL:
        return {"CW_FEAST_DATA_DIR": str(feast_dir(settings).resolve())}
    pg, redis = settings.postgres, settings.redis
    return {
        "CW_FEAST_REGISTRY_URL": pg.dsn(driver="postgresql+psycopg"),
        "CW_FEAST_REDIS": f"{redis.host}:{redis.port},db={redis.db}",
        "CW_FEAST_PG_HOST": pg.host,
        "CW_FEAST_PG_PORT": str(pg.port),
        "CW_FEAST_PG_DATABASE": pg.database,
        "CW_FEAST_PG_USER": pg.user,
        "CW_FEAST_PG_PASSWORD": pg.password.get_secret_value() if pg.password else "",
    }


def render_config(text: str, env: dict[str, str]) -> dict[str, Any]:
    """The yaml ``text`` with every ``${NAME}`` replaced from ``env``, parsed.

    Raises:
        ConfigError: A placeholder has no value.
    """
    missing = sorted({name for name in _PLACEHOLDER.findall(text) if name not in env})
    if missing:
        msg = f"feature_store.yaml placeholders without a value: {', '.join(missing)}"
        raise ConfigError(msg)
    rendered = _PLACEHOLDER.sub(lambda match: env[match.group(1)], text)
    loaded = yaml.safe_load(rendered)
    if not isinstance(loaded, dict):
        msg = "feature_store.yaml is not a mapping"
        raise ConfigError(msg)
    return loaded


def load_config(settings: Settings, *, project: str | None = None) -> RepoConfig:
    """The profile's Feast config with values from ``settings`` (``project`` overrides the name)."""
    path = yaml_path(settings.profile)
    raw = render_config(path.read_text(encoding="utf-8"), feast_env(settings))
    if project is not None:
        raw["project"] = project
    config = RepoConfig(**raw)
    config.repo_path = path.parent
    return config


def feature_store(settings: Settings, *, project: str | None = None) -> FeatureStore:
    """The Feast store of ``settings.profile`` (``project`` isolates tests: one name each)."""
    if settings.profile is Profile.LOCAL:
        feast_dir(settings).mkdir(parents=True, exist_ok=True)
    config = load_config(settings, project=project)
    return FeatureStore(repo_path=str(config.repo_path), config=config)


def apply(settings: Settings, store: FeatureStore | None = None) -> FeatureStore:
    """Create the history storage and register the repository; safe to run again.

    Objects of the project that the repository no longer defines are removed, so the registry
    always equals the definitions.
    """
    store = store or feature_store(settings)
    history_writer(settings).ensure_tables()
    repo = _definitions().build_repo(settings.profile, history_dir(settings))
    store.apply(repo.objects(), objects_to_delete=_stale_objects(store, repo), partial=False)
    return store


def _definitions() -> Any:
    """``feature_repo.definitions``, importable from a checkout even when not installed."""
    try:
        return importlib.import_module("feature_repo.definitions")
    except ModuleNotFoundError as err:
        if err.name != "feature_repo":
            raise
    # feature_repo/ is not a packaged module (pyproject includes chainwatch* and streaming* only):
    # make the checkout's root importable, once, when applying.
    sys.path.append(str(REPO_DIR.parent))
    return importlib.import_module("feature_repo.definitions")


def _stale_objects(store: FeatureStore, repo: Any) -> list[Any]:
    registered: list[Any] = [
        *store.list_feature_services(),
        *store.list_on_demand_feature_views(),
        *store.list_feature_views(),
    ]
    wanted = {*repo.feature_services, *repo.on_demand_feature_views, *repo.feature_views}
    return [item for item in registered if item.name not in wanted]


def historical_features(
    store: FeatureStore,
    entity_rows: pd.DataFrame,
    features: FeatureService | Sequence[str],
    *,
    full_feature_names: bool = True,
) -> pd.DataFrame:
    """Point-in-time features for every entity row, in the input's order, none dropped.

    ``entity_rows`` needs the join keys and ``event_timestamp`` (aware UTC: the as-of time).
    Rows without a value inside a view's TTL keep NaN for it. Feast's file (dask) offline store
    drops such rows; the result is left-joined back onto the input here so no row is lost.
    """
    if TIMESTAMP_COLUMN not in entity_rows.columns:
        msg = f"entity rows need an {TIMESTAMP_COLUMN!r} column (the as-of time)"
        raise ConfigError(msg)
    rows = entity_rows.reset_index(drop=True).copy()
    rows[TIMESTAMP_COLUMN] = pd.to_datetime(rows[TIMESTAMP_COLUMN], utc=True)
    rows[_ROW_ID] = np.arange(len(rows), dtype="int64")
    wanted: Any = features if isinstance(features, FeatureService) else list(features)
    result = store.get_historical_features(
        entity_df=rows, features=wanted, full_feature_names=full_feature_names
    ).to_df()
    added = [column for column in result.columns if column not in rows.columns]
    merged = rows.merge(result[[_ROW_ID, *added]], on=_ROW_ID, how="left", validate="one_to_one")
    return merged.sort_values(_ROW_ID).drop(columns=_ROW_ID).reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    """``python -m streaming.features.store env``: print ``export`` lines of :func:`feast_env`."""
    import shlex

    from chainwatch.settings import load_settings

    args = sys.argv[1:] if argv is None else argv
    if args != ["env"]:
        print("usage: python -m streaming.features.store env", file=sys.stderr)
        return 2
    for name, value in feast_env(load_settings()).items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
