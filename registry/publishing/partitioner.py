"""The relay's partitioner: a keyed record goes where kafka-python's (and the
Java client's) default partitioner sends it, murmur2 of the key modulo the
topic's partitions, so a student's messages keep their order in one partition
whichever client produced them.

The default partitioner first checks that the topic is known by building a set
of every topic in the producer's metadata, for every record, and the producer
has just built the same set for the same check; with one topic pair per
municipality that was costly. This one asks only for the topic's partitions.
"""

from __future__ import annotations

from typing import Any

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
