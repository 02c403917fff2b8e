"""Block clock: phases run in declared order every block, whatever the registration order."""

from __future__ import annotations

import simpy

from defisim.engine.clock import BlockClock, Phase


def test_phases_run_in_priority_order_regardless_of_registration() -> None:
    env = simpy.Environment()
    clock = BlockClock(env, block_time_s=12, start_timestamp=1_000)
    seen: list[tuple[int, str]] = []
    for phase in reversed(list(Phase)):  # register backwards on purpose
        clock.on(phase, lambda block, p=phase: seen.append((block, p.name)))
    clock.after_block(lambda block: seen.append((block, "after")))
    clock.run(1, 3)
    expected = []
    for block in (1, 2, 3):
        expected += [(block, p.name) for p in Phase] + [(block, "after")]
    assert seen == expected


def test_handlers_of_one_phase_run_in_registration_order() -> None:
    env = simpy.Environment()
    clock = BlockClock(env, 12, 0)
    seen: list[str] = []
    clock.on(Phase.AGENTS, lambda b: seen.append("first"))
    clock.on(Phase.AGENTS, lambda b: seen.append("second"))
    clock.run(5, 1)
    assert seen == ["first", "second"]
    assert env.now == 5


def test_timestamp_is_start_plus_block_times_block_time() -> None:
    clock = BlockClock(simpy.Environment(), block_time_s=12, start_timestamp=1_700_000_000)
    assert clock.timestamp(0) == 1_700_000_000
    assert clock.timestamp(300) == 1_700_003_600


def test_simpy_time_is_the_block_number() -> None:
    env = simpy.Environment()
    clock = BlockClock(env, 12, 0)
    times: list[float] = []
    clock.on(Phase.ORACLE, lambda b: times.append(env.now))
    clock.run(10, 3)
    assert times == [10, 11, 12]
