"""Kafka I/O: keyed idempotent producing, the validation gate and dead letters."""

from streaming.kafka.gate import EventGate, KnownEntities
from streaming.kafka.producer import DeliveryError, DeliveryReport, EventProducer

__all__ = ["DeliveryError", "DeliveryReport", "EventGate", "EventProducer", "KnownEntities"]
