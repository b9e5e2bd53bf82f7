#!/usr/bin/env python3
"""Daily sales per currency, read from bazaar's public topics.

A sale is an OrderConfirmed event on order.events, counted on the UTC day of its ce_time.
A refund is a PaymentRefunded event on payment.events for an order that was confirmed,
counted on the UTC day of the refund's ce_time. Its `amount` is the order's refunded total so
far (an admin may refund in parts; a compensation may be answered twice), so what counts is
what it adds to the largest total seen before. net = gross - refunded. Amounts are integer
minor units (cents) as on the topics; currencies are never added together.

Reads every partition of both topics from its beginning up to the end it had when the
script started, prints, and exits. It joins no consumer group and commits nothing.
"""

import argparse
import datetime
import json
import os
import sys
import time
import uuid
from collections import defaultdict
from decimal import Decimal

from cloudevents.core.bindings.kafka import KafkaMessage, from_binary_event
from cloudevents.core.exceptions import BaseCloudEventException
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

ORDER_EVENTS = "order.events"
PAYMENT_EVENTS = "payment.events"
ORDER_CONFIRMED = "bazaar.order.OrderConfirmed.v1"
PAYMENT_REFUNDED = "bazaar.payment.PaymentRefunded.v1"
FIELDS = ("orders", "units", "gross", "refunded", "net")
LEADER_ELECTION = (KafkaError.LEADER_NOT_AVAILABLE, KafkaError.NOT_LEADER_FOR_PARTITION)


class BrokerError(Exception):
    pass


def end_offsets(consumer, timeout_s):
    """{(topic, partition): high watermark} of every partition of both topics that has records."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            end = {}
            for topic in (ORDER_EVENTS, PAYMENT_EVENTS):
                metadata = consumer.list_topics(topic, timeout=timeout_s).topics[topic]
                if metadata.error is not None:
                    raise KafkaException(metadata.error)
                for partition in metadata.partitions:
                    low, high = consumer.get_watermark_offsets(
                        TopicPartition(topic, partition), timeout=timeout_s
                    )
                    if high > low:
                        end[(topic, partition)] = high
            return end
        except KafkaException as e:
            # Topics created a moment ago may still be electing their partitions' leaders.
            if e.args[0].code() not in LEADER_ELECTION or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def read_events(brokers, timeout_s):
    """Yields every CloudEvent of both topics, up to the end offsets found at start."""
    consumer = Consumer(
        {
            "bootstrap.servers": brokers,
            # Partitions are assigned by hand: the group is never joined, nothing is committed.
            "group.id": f"analyst-daily-sales-{uuid.uuid4()}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            # Connection failures are reported once, below, instead of librdkafka's log lines.
            "log_level": 0,
        }
    )
    try:
        end = end_offsets(consumer, timeout_s)
        consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t, p in end])

        last_record = time.monotonic()
        while end:
            msg = consumer.poll(1.0)
            if msg is None:
                if time.monotonic() - last_record > timeout_s:
                    raise BrokerError(f"no records for {timeout_s:g} s")
                continue
            last_record = time.monotonic()
            where = (msg.topic(), msg.partition())
            if msg.error() is not None:
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    end.pop(where, None)
                    continue
                raise BrokerError(msg.error().str())
            if where not in end or msg.offset() >= end[where]:
                continue  # written after we started
            if msg.offset() + 1 >= end[where]:
                del end[where]
            headers = {name: value for name, value in msg.headers() or [] if value is not None}
            try:
                record = KafkaMessage(headers=headers, key=msg.key(), value=msg.value())
                event = from_binary_event(record)
            except (BaseCloudEventException, ValueError) as e:
                # The services dead-letter such a record and count nothing: so do we.
                print(f"daily_sales: skipped {msg.topic()} {msg.partition()}@{msg.offset()}: {e}",
                      file=sys.stderr)
                continue
            yield event
    finally:
        consumer.close()


def utc_day(event):
    return event.get_time().astimezone(datetime.timezone.utc).date().isoformat()


def daily_sales(events):
    """Rows of {day, currency, orders, units, gross, refunded, net}, by day and currency."""
    rows = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    confirmed = set()
    refunds = []
    seen = set()
    for event in events:
        if event.get_type() not in (ORDER_CONFIRMED, PAYMENT_REFUNDED):
            continue
        # Delivery is at least once: a record may be on the topic twice, with the same id.
        if event.get_id() in seen:
            continue
        seen.add(event.get_id())
        data = event.get_data()
        if event.get_type() == ORDER_CONFIRMED:
            if data["order_id"] in confirmed:
                continue  # an order is sold once
            confirmed.add(data["order_id"])
            row = rows[(utc_day(event), data["currency"])]
            row["orders"] += 1
            row["units"] += sum(line["quantity"] for line in data["lines"])
            row["gross"] += data["total"]
        else:
            refunds.append((data["order_id"], utc_day(event), data["currency"], data["amount"]))
    # Known only once both topics are read: the refund may come before the confirmation.
    # One order's refunds share a partition, so they are read in the order they were made.
    counted = defaultdict(int)
    for order_id, day, currency, amount in refunds:
        added = amount - counted[order_id]
        if order_id in confirmed and added > 0:
            counted[order_id] = amount
            rows[(day, currency)]["refunded"] += added
    for row in rows.values():
        row["net"] = row["gross"] - row["refunded"]
    return [{"day": d, "currency": c, **rows[(d, c)]} for d, c in sorted(rows)]


def major(minor):
    return f"{Decimal(minor).scaleb(-2):,.2f}"


def print_table(rows):
    if not rows:
        print("no sales")
        return
    print(f"{'day':<10}  {'currency':<8}  {'orders':>6}  {'units':>6}"
          f"  {'gross':>12}  {'refunded':>12}  {'net':>12}")
    for r in rows:
        print(f"{r['day']:<10}  {r['currency']:<8}  {r['orders']:>6}  {r['units']:>6}"
              f"  {major(r['gross']):>12}  {major(r['refunded']):>12}  {major(r['net']):>12}")


def day(text):
    return datetime.date.fromisoformat(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brokers",
                        default=os.environ.get("BAZAAR_KAFKA_BROKERS", "127.0.0.1:9092"),
                        help="Kafka bootstrap servers ($BAZAAR_KAFKA_BROKERS, else %(default)s)")
    parser.add_argument("--from", dest="first", type=day, metavar="YYYY-MM-DD",
                        help="first day to print (UTC, inclusive)")
    parser.add_argument("--to", dest="last", type=day, metavar="YYYY-MM-DD",
                        help="last day to print (UTC, inclusive)")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of rows, amounts in minor units (cents)")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                        help="give up when the broker does not answer for this long (%(default)s)")
    args = parser.parse_args()

    try:
        rows = daily_sales(read_events(args.brokers, args.timeout))
    except (KafkaException, BrokerError) as e:
        reason = e.args[0].str() if isinstance(e, KafkaException) else str(e)
        print(f"daily_sales: cannot read {ORDER_EVENTS} and {PAYMENT_EVENTS} from {args.brokers}: "
              f"{reason}", file=sys.stderr)
        return 1
    rows = [r for r in rows
            if (args.first is None or r["day"] >= args.first.isoformat())
            and (args.last is None or r["day"] <= args.last.isoformat())]
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
    else:
        print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
