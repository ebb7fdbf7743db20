"""Online feature writes: rows of a view into the online store, readable by Feast's own read path.

Feast's ``write_to_online_store`` into Redis runs at ~9k rows/s. Reading its source
(``feast/infra/online_stores/redis.py``, ``online_write_batch``) shows why: per call it converts
the frame to protobuf ``Value`` objects row by row (``_convert_arrow_to_proto``), hashes every
field name with murmur3 for every row, sends one ``HMGET`` per entity and waits for the replies
(a full round trip) to drop older rows client-side, then one ``HSET`` + ``EXPIRE`` per entity.

:class:`RedisOnlineWriter` writes the same bytes (Feast's entity-key serialisation, murmur3 field
names, ``Value``/``Timestamp`` protobuf encodings) but: field names are hashed once per view,
entity keys are serialised once per entity, values are protobuf-encoded by hand (a tag byte and
the little-endian double or varint), and "newer event timestamp wins" runs server-side in a Lua
script over a chunk of rows at a time, so there is no read round trip and the check is atomic
against concurrent writers. ``mode="monotonic"`` skips the check entirely (plain pipelined
``HSET``) for writers that own their keys and emit timestamps in order.

Keys expire after the longest TTL of the views sharing the entity's hash (Feast keeps every
view of an entity in one hash), so a fresh write to one view never cuts another view short.

The local profile has no Redis: :class:`FeastOnlineWriter` uses Feast's own
``write_to_online_store`` into SQLite.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from feast import FeatureStore
from feast.infra.key_encoding_utils import serialize_entity_key
from feast.infra.online_stores.helpers import _mmh3
from feast.protos.feast.types.EntityKey_pb2 import EntityKey as EntityKeyProto
from feast.protos.feast.types.Value_pb2 import Value as ValueProto

from chainwatch.errors import DependencyUnavailableError
from chainwatch.settings import Profile, Settings
from streaming.features.offline import Row, frame_of, normalise_rows, spec_of
from streaming.features.schema import VIEWS, ColumnType, ViewSpec

WriteMode = Literal["newest_wins", "monotonic"]

#: Redis arguments per Lua call are bounded by chunks of this many rows.
DEFAULT_CHUNK_ROWS = 1000
_MAX_ENTITY_CACHE = 200_000
_DOUBLE_TAG = b"\x29"  # Value.double_val: field 5, wire type 1 (64-bit)
_INT64_TAG = b"\x20"  # Value.int64_val: field 4, wire type 0 (varint)
_pack_double = struct.Struct("<d").pack

#: Atomic "newer event timestamp wins" over a chunk of rows, as Feast's writer decides it:
#: skip a row whose timestamp is older than or equal to the stored one.
#: KEYS: entity hashes. ARGV: ts field, ttl s (0 = none), n fields, field names, then per row
#: seconds, nanos, encoded Timestamp, n encoded values.
NEWEST_WINS_LUA = """
local ts_field, ttl, nf = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local function decode(ts)
  local secs, nanos, i = 0, 0, 1
  while i <= #ts do
    local tag = string.byte(ts, i); i = i + 1
    local value, scale, b = 0, 1, 128
    while b >= 128 do
      b = string.byte(ts, i); i = i + 1
      value = value + (b % 128) * scale; scale = scale * 128
    end
    if tag == 8 then secs = value elseif tag == 16 then nanos = value end
  end
  return secs, nanos
end
local stride, written = 3 + nf, 0
for k = 1, #KEYS do
  local off = 3 + nf + (k - 1) * stride
  local secs, nanos = tonumber(ARGV[off + 1]), tonumber(ARGV[off + 2])
  local prev, newer = redis.call('HGET', KEYS[k], ts_field), true
  if prev then
    local ps, pn = decode(prev)
    if (ps > 0 or pn > 0) and (secs < ps or (secs == ps and nanos <= pn)) then newer = false end
  end
  if newer then
    local args = {ts_field, ARGV[off + 3]}
    for f = 1, nf do args[#args + 1] = ARGV[3 + f]; args[#args + 1] = ARGV[off + 3 + f] end
    redis.call('HSET', KEYS[k], unpack(args))
    if ttl > 0 then redis.call('EXPIRE', KEYS[k], ttl) end
    written = written + 1
  end
end
return written
"""


class OnlineWriter(Protocol):
    """Anything that writes feature rows of a view into the online store."""

    def write(self, view: str, rows: Sequence[Row]) -> int:
        """Write ``rows`` of ``view``; return how many rows were sent after de-duplication."""
        ...


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64  # protobuf encodes negative int64 as its 64-bit two's complement
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_SMALL_INTS = tuple(_INT64_TAG + _varint(number) for number in range(4096))  # counts are mostly small


def _encode_float(value: Any) -> bytes:
    if value is None or math.isnan(value):  # None or NaN: Feast stores an empty Value
        return b""
    return _DOUBLE_TAG + _pack_double(value)


def _encode_int(value: Any) -> bytes:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return b""
    number = int(value)
    if 0 <= number < 4096:
        return _SMALL_INTS[number]
    return _INT64_TAG + _varint(number)


_ENCODERS = {"float": _encode_float, "int": _encode_int}


def encode_value(kind: ColumnType, value: Any) -> bytes:
    """The serialised Feast ``Value`` of one cell, byte-identical to Feast's (``b""`` for missing)."""
    return _ENCODERS[kind](value)


def encode_timestamp(stamp: datetime) -> tuple[int, int, bytes]:
    """``(seconds, nanos, serialised protobuf Timestamp)`` of an aware datetime."""
    delta = stamp - _EPOCH
    seconds = delta.days * 86_400 + delta.seconds
    nanos = delta.microseconds * 1000
    encoded = (b"\x08" + _varint(seconds) if seconds else b"") + (b"\x10" + _varint(nanos) if nanos else b"")
    return seconds, nanos, encoded


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def entity_ttl(entity: str) -> timedelta:
    """Key TTL of an entity's hash: the longest TTL of the views stored in it."""
    return max(spec.ttl for spec in VIEWS.values() if spec.entity == entity)


class RedisOnlineWriter:
    """Batched writes into Feast's Redis online store (services profile); see the module doc."""

    def __init__(
        self,
        settings: Settings,
        store: FeatureStore,
        *,
        mode: WriteMode = "newest_wins",
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        client: Any = None,
    ) -> None:
        import redis

        config = store.config
        if getattr(config.registry, "enable_online_feature_view_versioning", False):
            msg = "online feature view versioning changes Feast's field names; RedisOnlineWriter does not support it"
            raise NotImplementedError(msg)
        self.mode = mode
        self.chunk_rows = chunk_rows
        self._project = config.project.encode("utf-8")
        self._key_version = config.entity_key_serialization_version
        self._client = client or redis.Redis(host=settings.redis.host, port=settings.redis.port, db=settings.redis.db)
        self._script = self._client.register_script(NEWEST_WINS_LUA)
        self._fields: dict[str, list[bytes]] = {}
        self._entity_keys: dict[tuple[str, str], bytes] = {}

    def _field_names(self, spec: ViewSpec) -> list[bytes]:
        names = self._fields.get(spec.name)
        if names is None:
            names = [_mmh3(f"{spec.name}:{column}") for column in spec.columns]
            self._fields[spec.name] = names
        return names

    def redis_key(self, spec: ViewSpec, entity_value: str) -> bytes:
        """Feast's Redis key of one entity: serialised entity key + project name."""
        cached = self._entity_keys.get((spec.key, entity_value))
        if cached is None:
            proto = EntityKeyProto(join_keys=[spec.key], entity_values=[ValueProto(string_val=entity_value)])
            cached = serialize_entity_key(proto, entity_key_serialization_version=self._key_version) + self._project
            if len(self._entity_keys) >= _MAX_ENTITY_CACHE:
                self._entity_keys.clear()
            self._entity_keys[(spec.key, entity_value)] = cached
        return cached

    def write(self, view: str, rows: Sequence[Row]) -> int:
        """Write ``rows`` of ``view``: per entity only its newest row, older than stored ones skipped.

        Raises:
            DependencyUnavailableError: Redis cannot be reached.
        """
        import redis

        spec = spec_of(view)
        newest: dict[str, tuple[Any, ...]] = {}
        for row in normalise_rows(spec, rows, clean=False):
            held = newest.get(row[0])
            if held is None or row[1] > held[1]:
                newest[row[0]] = row
        encoders = [_ENCODERS[kind] for kind in spec.columns.values()]
        ttl = int(entity_ttl(spec.entity).total_seconds())
        ts_field = f"_ts:{spec.name}".encode()
        fields = self._field_names(spec)
        batch = list(newest.values())
        try:
            for start in range(0, len(batch), self.chunk_rows):
                chunk = batch[start : start + self.chunk_rows]
                if self.mode == "monotonic":
                    self._write_plain(spec, chunk, encoders=encoders, fields=fields, ts_field=ts_field, ttl=ttl)
                else:
                    self._write_newest(spec, chunk, encoders=encoders, fields=fields, ts_field=ts_field, ttl=ttl)
        except redis.ConnectionError as err:
            msg = f"redis unavailable for online features: {err}"
            raise DependencyUnavailableError(msg) from err
        return len(batch)

    def _write_newest(
        self,
        spec: ViewSpec,
        chunk: Sequence[tuple[Any, ...]],
        *,
        encoders: Sequence[Callable[[Any], bytes]],
        fields: list[bytes],
        ts_field: bytes,
        ttl: int,
    ) -> None:
        keys: list[bytes] = []
        args: list[Any] = [ts_field, ttl, len(fields), *fields]
        stamps: dict[datetime, tuple[int, int, bytes]] = {}  # a chunk is mostly one closed hour
        for key, stamp, *values in chunk:
            keys.append(self.redis_key(spec, key))
            encoded = stamps.get(stamp)
            if encoded is None:
                encoded = stamps[stamp] = encode_timestamp(stamp)
            args += encoded
            args += [encode(value) for encode, value in zip(encoders, values, strict=True)]
        self._script(keys=keys, args=args)

    def _write_plain(
        self,
        spec: ViewSpec,
        chunk: Sequence[tuple[Any, ...]],
        *,
        encoders: Sequence[Callable[[Any], bytes]],
        fields: list[bytes],
        ts_field: bytes,
        ttl: int,
    ) -> None:
        with self._client.pipeline(transaction=False) as pipe:
            for key, stamp, *values in chunk:
                redis_key = self.redis_key(spec, key)
                mapping: dict[bytes, bytes] = {ts_field: encode_timestamp(stamp)[2]}
                mapping.update(
                    zip(fields, [encode(v) for encode, v in zip(encoders, values, strict=True)], strict=True)
                )
                pipe.hset(redis_key, mapping=mapping)  # type: ignore[arg-type]
                if ttl:
                    pipe.expire(redis_key, ttl)
            pipe.execute()


class FeastOnlineWriter:
    """Feast's own ``write_to_online_store`` (local profile: SQLite; also the reference path)."""

    def __init__(self, store: FeatureStore) -> None:
        self.store = store

    def write(self, view: str, rows: Sequence[Row]) -> int:
        """Write ``rows`` of ``view`` through Feast (it drops rows older than the stored ones)."""
        spec = spec_of(view)
        values = normalise_rows(spec, rows)
        if values:
            self.store.write_to_online_store(spec.name, df=frame_of(spec, values))
        return len(values)


def online_writer(settings: Settings, store: FeatureStore, **options: Any) -> RedisOnlineWriter | FeastOnlineWriter:
    """The profile's online writer: Redis fast path (services) or Feast's writer (local)."""
    if settings.profile is Profile.SERVICES:
        return RedisOnlineWriter(settings, store, **options)
    return FeastOnlineWriter(store)


__all__ = [
    "FeastOnlineWriter",
    "OnlineWriter",
    "RedisOnlineWriter",
    "encode_timestamp",
    "encode_value",
    "entity_ttl",
    "online_writer",
]
