"""`registry retry-waiting --every S` backs off while the register stays down."""

from registry.cli.deliveries import next_interval, resolved


def test_retries_back_off_while_nothing_resolves_and_reset_when_it_does() -> None:
    waits = [10.0]
    for _ in range(6):
        waits.append(next_interval(waits[-1], 10.0, resolved({"W": 3})))
    assert waits == [10.0, 20.0, 40.0, 80.0, 160.0, 160.0, 160.0]
    assert next_interval(160.0, 10.0, resolved({"G": 1, "W": 2})) == 10.0
    assert resolved({}) and resolved({"A": 1}) and not resolved({"W": 1})
