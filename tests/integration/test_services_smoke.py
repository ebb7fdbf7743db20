"""Smoke tests of the local services: each one does real work through the client Chainwatch uses.

Isolation comes from unique names (topic, consumer group, key, MQTT topic, object, experiment),
never from mocks, so the tests can run against a shared, long-running stack.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chainwatch.services import SERVICE_NAMES, ServiceManager
from chainwatch.settings import Settings

pytestmark = pytest.mark.integration

#: Upper bound for any one exchange with a service; tests end as soon as the data arrives.
WAIT_S = 30.0


@pytest.fixture
def kafka_topic(services_settings: Settings, unique_name: str) -> Iterator[str]:
    """A fresh 3-partition topic, deleted afterwards."""
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.cimpl import NewTopic

    admin = AdminClient({"bootstrap.servers": services_settings.kafka.bootstrap_servers})
    admin.create_topics([NewTopic(unique_name, num_partitions=3, replication_factor=1)])[unique_name].result(WAIT_S)
    yield unique_name
    admin.delete_topics([unique_name])[unique_name].result(WAIT_S)


def test_kafka_idempotent_producer_round_trip(services_settings: Settings, kafka_topic: str, unique_name: str) -> None:
    from confluent_kafka import Consumer, Producer

    bootstrap = services_settings.kafka.bootstrap_servers
    sent = {f"shipment-{i}": json.dumps({"seq": i, "topic": kafka_topic}).encode() for i in range(20)}
    deliveries: list[tuple[Any, Any]] = []

    # given an idempotent producer that waits for all in-sync replicas
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all"})
    for key, value in sent.items():
        producer.produce(kafka_topic, key=key, value=value, on_delivery=lambda err, msg: deliveries.append((err, msg)))
    # when every message is flushed
    assert producer.flush(WAIT_S) == 0
    # then each delivery callback reported success on our topic
    assert len(deliveries) == len(sent)
    assert [err for err, _ in deliveries if err is not None] == []
    assert {msg.topic() for _, msg in deliveries} == {kafka_topic}
    assert all(msg.offset() >= 0 for _, msg in deliveries)

    # and a consumer in a fresh group reads every message back, keys and values intact
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": unique_name,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    received: dict[str, bytes] = {}
    try:
        consumer.subscribe([kafka_topic])
        deadline = time.monotonic() + WAIT_S
        while len(received) < len(sent) and time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None:
                continue
            assert message.error() is None, message.error()
            got_key, got_value = message.key(), message.value()
            assert got_key is not None
            assert got_value is not None
            received[got_key.decode()] = got_value
    finally:
        consumer.close()
    assert received == sent


def test_postgres_temp_table_round_trip(services_settings: Settings) -> None:
    import psycopg2

    pg = services_settings.postgres
    rows = [(1, "JFK", 12.5), (2, "LGA", -3.0), (3, "EWR", 0.0)]
    connection = psycopg2.connect(
        host=pg.host,
        port=pg.port,
        user=pg.user,
        password=pg.password.get_secret_value() if pg.password else None,
        dbname=pg.database,
    )
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("CREATE TEMP TABLE smoke (id int PRIMARY KEY, origin text, delay real)")
            cursor.executemany("INSERT INTO smoke VALUES (%s, %s, %s)", rows)
            cursor.execute("SELECT id, origin, delay FROM smoke ORDER BY id")
            assert cursor.fetchall() == rows
            cursor.execute("SELECT current_user, current_database()")
            assert cursor.fetchone() == (pg.user, pg.database)
    finally:
        connection.close()


def test_redis_set_get(services_settings: Settings, unique_name: str) -> None:
    import redis

    client = redis.Redis.from_url(services_settings.redis.url)
    try:
        assert client.set(unique_name, "0.42", ex=60)
        assert client.get(unique_name) == b"0.42"
        ttl = client.ttl(unique_name)
        assert isinstance(ttl, int)
        assert 0 < ttl <= 60
        assert client.delete(unique_name) == 1
        assert client.get(unique_name) is None
    finally:
        client.close()


def test_mqtt_publish_subscribe_qos1(services_settings: Settings, unique_name: str) -> None:
    from paho.mqtt.client import Client, MQTTMessage
    from paho.mqtt.enums import CallbackAPIVersion

    mqtt = services_settings.mqtt
    topic = f"{mqtt.topic_prefix}/{unique_name}"
    payload = json.dumps({"vehicle": unique_name, "temp_c": 4.2}).encode()
    subscribed, arrived = threading.Event(), threading.Event()
    messages: list[MQTTMessage] = []

    def on_message(_client: Client, _userdata: Any, message: MQTTMessage) -> None:
        messages.append(message)
        arrived.set()

    subscriber = Client(CallbackAPIVersion.VERSION2, client_id=f"{unique_name}-sub")
    subscriber.on_subscribe = lambda *_args: subscribed.set()
    subscriber.on_message = on_message
    publisher = Client(CallbackAPIVersion.VERSION2, client_id=f"{unique_name}-pub")
    subscriber.connect(mqtt.host, mqtt.port)
    publisher.connect(mqtt.host, mqtt.port)
    subscriber.loop_start()
    publisher.loop_start()
    try:
        # given a subscriber whose QoS 1 subscription the broker acknowledged
        subscriber.subscribe(topic, qos=1)
        assert subscribed.wait(WAIT_S)
        # when a message is published at QoS 1 and the broker acknowledges it (PUBACK)
        info = publisher.publish(topic, payload, qos=1)
        info.wait_for_publish(WAIT_S)
        assert info.is_published()
        # then the subscriber gets it once, intact, at QoS 1
        assert arrived.wait(WAIT_S)
    finally:
        for client in (subscriber, publisher):
            client.disconnect()
            client.loop_stop()
    assert [(m.topic, m.payload, m.qos) for m in messages] == [(topic, payload, 1)]


def test_s3_put_get_through_s3fs(services_settings: Settings, unique_name: str) -> None:
    import s3fs

    fs = s3fs.S3FileSystem(**services_settings.s3.storage_options())
    path = f"{services_settings.s3.lake_bucket}/smoke/{unique_name}.json"
    body = json.dumps({"object": unique_name}).encode()
    try:
        fs.pipe(path, body)
        assert fs.cat(path) == body
        assert fs.info(path)["size"] == len(body)
    finally:
        fs.rm(path)
    fs.invalidate_cache()
    assert not fs.exists(path)


def test_mlflow_run_with_artifact_on_s3(services_settings: Settings, unique_name: str, tmp_path: Path) -> None:
    import s3fs
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=services_settings.mlflow.server_url)
    artifact = tmp_path / "notes.txt"
    artifact.write_text(f"artifact of {unique_name}\n", encoding="utf-8")

    # given a run in a fresh experiment with a param, a metric and an artifact
    experiment_id = client.create_experiment(unique_name)
    run = client.create_run(experiment_id)
    run_id = run.info.run_id
    client.log_param(run_id, "horizon_h", "1")
    client.log_metric(run_id, "roc_auc", 0.87, step=3)
    client.log_artifact(run_id, str(artifact))
    client.set_terminated(run_id)

    # when it is read back through the tracking server
    stored = client.get_run(run_id)
    downloaded = Path(client.download_artifacts(run_id, "notes.txt", str(tmp_path / "download")))

    # then everything logged is there
    assert stored.info.status == "FINISHED"
    assert stored.data.params == {"horizon_h": "1"}
    assert stored.data.metrics == {"roc_auc": 0.87}
    assert [m.step for m in client.get_metric_history(run_id, "roc_auc")] == [3]
    assert [entry.path for entry in client.list_artifacts(run_id)] == ["notes.txt"]
    assert downloaded.read_text(encoding="utf-8") == artifact.read_text(encoding="utf-8")

    # and the artifact itself landed in the MLflow bucket of the S3 endpoint
    fs = s3fs.S3FileSystem(**services_settings.s3.storage_options())
    on_s3 = [key for key in fs.find(f"{services_settings.s3.mlflow_bucket}/{experiment_id}") if run_id in key]
    assert [key.rsplit("/", 1)[-1] for key in on_s3] == ["notes.txt"]
    assert fs.cat(on_s3[0]) == artifact.read_bytes()
    client.delete_experiment(experiment_id)


def test_service_manager_reports_every_service_running(services_settings: Settings) -> None:
    statuses = ServiceManager(services_settings).status()

    assert [status.name for status in statuses] == list(SERVICE_NAMES)
    not_running = {status.name: status.detail for status in statuses if status.state != "running"}
    assert not_running == {}
