"""The relay's partitioner puts a keyed record where the default one does."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from kafka.partitioner import DefaultPartitioner

from registry.publishing.partitioner import KeyPartitioner


class Cluster:
    """The three questions a partitioner asks of the producer's metadata."""

    def __init__(self, partitions: int) -> None:
        self.partitions = set(range(partitions))

    def topics(self) -> set[str]:
        return {"t"}

    def partitions_for_topic(self, topic: str) -> set[int]:
        return self.partitions

    def available_partitions_for_topic(self, topic: str) -> set[int]:
        return self.partitions


@given(st.binary(max_size=64), st.integers(min_value=1, max_value=12))
def test_a_keyed_record_goes_where_the_default_sends_it(
    key: bytes, partitions: int
) -> None:
    cluster = Cluster(partitions)
    expected = DefaultPartitioner().partition("t", key, key, None, b"v", cluster)
    assert KeyPartitioner().partition("t", key, key, None, b"v", cluster) == expected


def test_an_unkeyed_record_goes_to_some_partition() -> None:
    chosen = KeyPartitioner().partition("t", None, None, None, b"v", Cluster(3))
    assert chosen in {0, 1, 2}
