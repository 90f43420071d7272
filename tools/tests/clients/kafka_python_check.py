"""kafka-python (pure Python, its own protocol code) against a running pinlog broker.

Usage: python3 kafka_python_check.py HOST:PORT
Exits non-zero, with the failed check, when the broker answers anything a Kafka broker would
not. Run by tools/tests/python_clients.rs.
"""

import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic

TOPIC = "py-orders"
GROUP = "py-group"
RECORDS = 2000
VALUE_BYTES = 200


def value(index):
    return (f"order-{index:06}-".encode() + b"." * VALUE_BYTES)[:VALUE_BYTES]


def check(condition, what):
    if not condition:
        sys.exit(f"FAILED: {what}")


def main(bootstrap):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="pinlog-check")
    admin.create_topics([NewTopic(TOPIC, num_partitions=3, replication_factor=1)])
    check(TOPIC in admin.list_topics(), "the new topic is listed")
    cluster = admin.describe_cluster()
    check(len(cluster["brokers"]) == 1, f"one broker: {cluster}")

    # An idempotent producer, gzip batches, keyed records spread over the partitions.
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        compression_type="gzip",
        linger_ms=5,
    )
    futures = [
        producer.send(TOPIC, key=f"customer-{i % 17}".encode(), value=value(i))
        for i in range(RECORDS)
    ]
    producer.flush()
    sent = [future.get(timeout=30) for future in futures]
    check(len({(m.partition, m.offset) for m in sent}) == RECORDS, "distinct offsets")
    producer.close()

    # A group consumer reads everything once and commits.
    consumer = KafkaConsumer(
        TOPIC,
        bootstrap_servers=bootstrap,
        group_id=GROUP,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=15000,
    )
    values = []
    for message in consumer:
        values.append(message.value)
        if len(values) == RECORDS:
            break
    check(sorted(values) == sorted(value(i) for i in range(RECORDS)), "every record once")
    consumer.commit()
    consumer.close()

    offsets = admin.list_group_offsets(GROUP)[GROUP]
    committed = sum(meta.offset for meta in offsets.values())
    check(committed == RECORDS, f"committed offsets add up to {RECORDS}: {offsets}")
    groups = [group["group_id"] for group in admin.list_groups()]
    check(GROUP in groups, f"the group is listed: {groups}")
    described = admin.describe_groups([GROUP])[GROUP]
    check(described["group_state"] == "Empty", f"the group is empty: {described}")

    # A second consumer of the group resumes at the committed offsets: once it has its
    # partitions (after the group's initial rebalance delay), nothing is left to read.
    consumer = KafkaConsumer(
        TOPIC,
        bootstrap_servers=bootstrap,
        group_id=GROUP,
        auto_offset_reset="earliest",
    )
    leftover = []
    deadline = time.monotonic() + 30
    while not consumer.assignment() and time.monotonic() < deadline:
        leftover += [r for rs in consumer.poll(timeout_ms=200).values() for r in rs]
    check(len(consumer.assignment()) == 3, f"the three partitions: {consumer.assignment()}")
    leftover += [r for rs in consumer.poll(timeout_ms=1000).values() for r in rs]
    positions = [consumer.position(tp) for tp in sorted(consumer.assignment())]
    consumer.close()
    check(leftover == [], f"nothing after the commit, got {len(leftover)}")
    check(sum(positions) == RECORDS, f"positions at the committed offsets: {positions}")

    # Topic configs: set one, read it back.
    resource = ConfigResource(ConfigResourceType.TOPIC, TOPIC, configs={"retention.ms": "3600000"})
    admin.alter_configs([resource])
    described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC)])
    entries = described["topic"][TOPIC]
    check(
        str(entries.get("retention.ms", {}).get("value")) == "3600000",
        f"retention.ms reads back: {entries}",
    )

    # Sizes per partition from the log directory (DescribeLogDirs).
    log_dirs = admin.describe_log_dirs()
    directories = [d for broker in log_dirs for d in broker["log_dirs"]]
    check(len(directories) == 1, f"one log directory: {directories}")
    directory = directories[0]
    check(directory["error_code"] == 0, f"the directory is healthy: {directory['error_code']}")
    check(directory["usable_bytes"] > 0, "usable bytes are reported")
    sizes = {
        p["partition_index"]: p["partition_size"]
        for topic in directory["topics"]
        if topic["name"] == TOPIC
        for p in topic["partitions"]
    }
    check(sorted(sizes) == [0, 1, 2], f"three partitions have sizes: {sizes}")
    check(all(size > 0 for size in sizes.values()), f"every partition holds bytes: {sizes}")

    # Partitions, records and groups go away as asked.
    admin.create_partitions({TOPIC: NewPartitions(total_count=4)})
    topic = admin.describe_topics([TOPIC])[0]
    check(len(topic["partitions"]) == 4, f"four partitions: {topic}")
    # Partition 0 holds about a third of the records: its first one goes.
    low = admin.delete_records({TopicPartition(TOPIC, 0): 1})
    check(all(r["error_code"] == 0 for r in low.values()), f"records deleted: {low}")
    deleted = admin.delete_groups([GROUP])
    check(deleted == {GROUP: "OK"}, f"the group deleted: {deleted}")
    check(GROUP not in [g["group_id"] for g in admin.list_groups()], "the group is deleted")
    admin.delete_topics([TOPIC])
    admin.close()
    print(f"kafka-python: {RECORDS} records produced, consumed by a group, admin checks passed")


if __name__ == "__main__":
    main(sys.argv[1])
