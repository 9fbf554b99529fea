"""The relay's partitioning: a keyed record goes where kafka-python's (and the
Java client's) default partitioner sends it, murmur2 of the key modulo the
topic's partitions, so a student's messages keep their order in one partition
whichever client produced them.

The default partitioner first checks that the topic is known by building a set
of every topic in the producer's metadata, for every record, and the producer
builds the same set for the same check before it asks the partitioner; with
one topic pair per municipality that was costly. Here both ask only for the
topic's partitions.
"""

from __future__ import annotations

from typing import Any

from kafka import KafkaProducer
from kafka.partitioner import DefaultPartitioner, Partitioner, murmur2


class KeyPartitioner(Partitioner):  # type: ignore[misc]  # kafka-python has no type hints: its base is Any
    def __init__(self) -> None:
        self._unkeyed = DefaultPartitioner()

    def partition(
        self,
        topic: str,
        key: Any,
        serialized_key: bytes | None,
        value: Any,
        serialized_value: bytes | None,
        cluster: Any,
    ) -> int:
        partitions = cluster.partitions_for_topic(topic)
        if serialized_key is None or not partitions:
            return int(
                self._unkeyed.partition(
                    topic, key, serialized_key, value, serialized_value, cluster
                )
            )
        ordered = sorted(partitions)
        return int(ordered[(murmur2(serialized_key) & 0x7FFFFFFF) % len(ordered)])


class KeyedProducer(KafkaProducer):  # type: ignore[misc]  # untyped base, as above
    """kafka-python's producer, but a record's partition is chosen without the
    set of every known topic (its `_partition` builds one per record, a third
    of the producer's own time in the relay's profile). Overrides a private
    method of the kafka-python version the lock pins (3.0.x); a test holds its
    choices to the default partitioner's."""

    def _partition(
        self,
        topic: str,
        partition: int | None,
        key: Any,
        value: Any,
        serialized_key: bytes | None,
        serialized_value: bytes | None,
    ) -> int | None:
        partitions = self._metadata.partitions_for_topic(topic)
        if partitions is None:
            return None  # not yet known: send() waits for its metadata
        if partition is not None:
            if partition not in partitions:
                raise ValueError(f"unknown partition {partition} of {topic}")
            return partition
        return int(
            self.config["partitioner"].partition(
                topic, key, serialized_key, value, serialized_value, self._metadata
            )
        )
