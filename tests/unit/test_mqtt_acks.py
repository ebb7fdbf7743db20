"""The ack ledger: PUBACKs only for messages Kafka confirmed, in arrival order, per connection."""

from __future__ import annotations

from streaming.mqtt.acks import AckLedger


def test_nothing_is_acknowledged_before_kafka_confirms() -> None:
    # given three messages received
    ledger = AckLedger()
    ledger.new_connection()
    for mid in (1, 2, 3):
        ledger.received(mid)
    # when no delivery report came yet / then nothing may be acknowledged
    assert ledger.ackable() == []
    assert len(ledger) == 3


def test_confirmed_messages_are_acknowledged_in_arrival_order_once() -> None:
    ledger = AckLedger()
    ledger.new_connection()
    first, second, third = (ledger.received(mid) for mid in (7, 8, 9))
    # when the later ones are confirmed first
    ledger.settle(third, delivered=True)
    ledger.settle(second, delivered=True)
    # then they wait for the first
    assert ledger.ackable() == []
    # and once it is confirmed all three go, in arrival order, and only once
    ledger.settle(first, delivered=True)
    assert ledger.ackable() == [7, 8, 9]
    assert ledger.ackable() == []
    assert len(ledger) == 0


def test_a_failed_delivery_is_never_acknowledged_and_holds_back_what_came_after() -> None:
    ledger = AckLedger()
    ledger.new_connection()
    ok, failed, later = (ledger.received(mid) for mid in (1, 2, 3))
    # when the middle message's delivery fails and the others succeed
    ledger.settle(ok, delivered=True)
    ledger.settle(failed, delivered=False)
    ledger.settle(later, delivered=True)
    # then only the one before it is acknowledged, and the connection is marked failed
    assert ledger.ackable() == [1]
    assert ledger.ackable() == []
    assert ledger.failed


def test_a_new_connection_forgets_the_old_one_and_its_late_reports() -> None:
    # given a message received on the first connection, still in flight
    ledger = AckLedger()
    ledger.new_connection()
    stale = ledger.received(5)
    # when the connection is replaced (the broker will redeliver it)
    abandoned = ledger.new_connection()
    fresh = ledger.received(5)  # the redelivered copy, same packet id
    # then the old entry is reported abandoned and its late failure neither acks nor fails anything
    assert abandoned == 1
    ledger.settle(stale, delivered=False)
    assert not ledger.failed
    assert ledger.ackable() == []
    # and the new copy is acknowledged on its own confirmation
    ledger.settle(fresh, delivered=True)
    assert ledger.ackable() == [5]


def test_a_late_success_from_an_old_connection_acknowledges_nothing() -> None:
    ledger = AckLedger()
    ledger.new_connection()
    stale = ledger.received(1)
    ledger.new_connection()
    ledger.settle(stale, delivered=True)
    assert ledger.ackable() == []
