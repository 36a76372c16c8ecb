"""The run's latency (docs/scenario-format.md, "Timing"): the slowest of a few plain HTTP exchanges,
each on a fresh TCP connection, timed from before the connect to the end of the answer. Whatever the
relay answers counts; only an exchange that gets no answer at all stops the run."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from .client import BadResponse, ConnectFailed, RelayAddress, http_exchange

EXCHANGES = 5
EXCHANGE_TIMEOUT_S = 10.0


class CalibrationFailed(Exception):
    """The relay did not answer a plain `GET /`."""


@dataclass(frozen=True)
class Timing:
    """What every scenario of the run is judged with; shown in the terminal and the JSON report."""
    latency_ms: float
    source: str  # "calibrated" | "given"
    time_scale: float
    exchanges_ms: tuple[float, ...] = ()  # each calibration exchange, when calibrated


async def calibrate(address: RelayAddress, exchanges: int = EXCHANGES,
                    timeout_s: float = EXCHANGE_TIMEOUT_S) -> tuple[float, ...]:
    """The duration of each exchange in ms, one after another. Raises CalibrationFailed."""
    durations = []
    for _ in range(exchanges):
        started = time.monotonic()
        try:
            await http_exchange(address, "GET", "/", {}, timeout_s)
        except BadResponse:
            pass  # an answer, even an unreadable one, is an answer: its time counts
        except asyncio.TimeoutError:
            raise CalibrationFailed(f"no answer to GET / within {timeout_s:g} s") from None
        except ConnectFailed as error:
            raise CalibrationFailed(str(error)) from None
        durations.append((time.monotonic() - started) * 1000)
    return tuple(durations)
