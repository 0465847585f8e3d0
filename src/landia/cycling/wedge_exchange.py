"""The analysis on every rank by curvelet wedges (``analysis.distribute = "wedges"``).

The root minimises the joint J as in the default cycle; every evaluation of the image term JI
is split by wedges across the ranks of the communicator (:mod:`landia.analysis.wedge_split`):

* once per analysis, the root scatters each rank its part (its range of whole wedges, its
  kept coefficients, targets and weights; :func:`~landia.analysis.wedge_split.part_specs`);
* per evaluation, the root broadcasts the mode (a one-value ``Ibcast``, on which the other
  ranks sleep-poll) and the layers' image half spectra (a blocking ``Bcast``: a non-blocking
  one moves its data only while tested, 0.28 s for 25 MB against 1.5 ms), every rank
  computes its share of JI and its half spectra, and ONE ``Reduce`` (sum) brings [failure
  count, share of JI, half spectra] to the root;
* the other ranks serve evaluations until the root broadcasts DONE, which it does whatever
  happened (in ``finally``).

The minimiser follows the serial iteration sequence; only the order of summation differs,
so the analysis equals the serial one to round-off (stated tolerance: 1e-10 m3 m-3 on the
analysis, docs/distributed-analysis.md).

Failures do not deadlock: a rank whose part fails adds 1 to the failure count of every
reduction it takes part in, and the root then raises; the root sends DONE from ``finally``;
afterwards every rank learns every rank's error (ConfigError stays a ConfigError, an input
problem an InputError, anything else a RuntimeError), as in
:mod:`landia.cycling.distributed`.

The communicator is an argument; the mpi4py calls are its methods.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from landia.analysis.wedge_split import DONE, ImagePart, PartSpec
from landia.errors import ConfigError, InputError, LandiaError
from landia.exchange.guards import wait_for_all


def _wait(request) -> None:
    """Complete a non-blocking collective, sleeping between tests (ranks may share cores)."""
    pause = 2e-5
    while not request.Test():
        time.sleep(pause)
        pause = min(pause * 2, 1e-3)


class MpiWedgeExchange:
    """The root's side: parts on every rank of ``comm`` (rank r holds part r)."""

    def __init__(self, comm) -> None:
        self.comm = comm
        self.parts = comm.Get_size()
        self.part: ImagePart | None = None
        self.started = False
        self.evaluations = 0
        self.seconds = 0.0  # wall time of the root's evaluate() calls

    def start(self, specs: list[PartSpec], curvelet) -> None:
        """Scatter the parts (once per analysis); keep part 0."""
        if self.started:
            raise RuntimeError("MpiWedgeExchange: one analysis per exchange")
        self.started = True
        wait_for_all(self.comm)  # the other ranks sleep-poll until the parts are ready
        self.comm.scatter(specs, root=0)
        # the buffers first: close() needs them even when the part cannot be built
        self._mode = np.empty(1)
        self._message = np.empty(specs[0].payload_size)
        self._total = np.empty(2 + specs[0].payload_size)  # read before the next evaluation
        self.part = ImagePart(specs[0], curvelet._fast)

    def evaluate(self, mode: float, payload: np.ndarray) -> np.ndarray:
        """Broadcast ``payload``, add this rank's share, reduce; the summed shares."""
        t0 = time.perf_counter()
        self._mode[0] = mode
        _wait(self.comm.Ibcast(self._mode, root=0))
        message = self._message
        message[...] = payload
        self.comm.Bcast(message, root=0)
        error = None
        try:
            share = self.part.contribute(mode, message)
        except Exception as exc:  # noqa: BLE001 -- reduced first, raised below
            error = exc
            share = np.zeros(2 + message.size)
            share[0] = 1.0
        total = self._total
        self.comm.Reduce(share, total, root=0)
        self.evaluations += 1
        self.seconds += time.perf_counter() - t0
        if error is not None:
            raise error
        if total[0] > 0:
            raise RuntimeError(f"wedge split: the image term failed on {int(total[0])} "
                               "other rank(s) (their logs say why)")
        return total

    def close(self) -> None:
        """Release the other ranks: no part (never started) or DONE."""
        if not self.started:
            wait_for_all(self.comm)
            self.comm.scatter([None] * self.parts, root=0)
            return
        self._mode[0] = DONE
        _wait(self.comm.Ibcast(self._mode, root=0))


def serve(comm) -> str | None:
    """A non-root rank's side of one analysis: serve evaluations until DONE.

    Returns
    -------
    None, or this rank's error message (its part failed; the root was told by the failure
    count of every reduction).
    """
    wait_for_all(comm)  # sleep, not spin, while the root prepares the analysis
    spec = comm.scatter(None, root=0)
    if spec is None:
        return None
    error, part = None, None
    try:
        part = ImagePart.from_spec(spec)
    except Exception as exc:  # noqa: BLE001 -- reported through the reductions
        error = f"{type(exc).__name__}: {exc}"
    header, message = np.empty(1), np.empty(spec.payload_size)
    size = 2 + spec.payload_size
    while True:
        _wait(comm.Ibcast(header, root=0))  # asleep while the root works alone
        mode = float(header[0])
        if mode == DONE:
            return error
        comm.Bcast(message, root=0)  # blocking: libnbc moves data only while tested
        share = None
        if error is None:
            try:
                share = part.contribute(mode, message)
            except Exception as exc:  # noqa: BLE001
                error = f"{type(exc).__name__}: {exc}"
        if share is None:
            share = np.zeros(size)
            share[0] = 1.0
        comm.Reduce(share, None, root=0)


def warm_transform(shape: tuple, curvelet_settings) -> None:
    """Build (and cache in this process) the curvelet transform the analysis of a ``shape``
    grid will use, as :func:`landia.analysis.analyse.build_problem` does. A non-root rank
    calls it before :func:`serve`, so that its build (2.2 s at 0.25 deg global) overlaps the
    root's preparation instead of delaying the first evaluation."""
    from landia.operators import CurveletTransform

    cs = curvelet_settings
    CurveletTransform.unpadded_for(tuple(shape), cs.scales, cs.wedges, cs.backend,
                                   fft_shape=cs.fft_shape)


def with_wedges_on_ranks(comm, work: Callable[[MpiWedgeExchange], Any],
                         warm: Callable[[], Any] | None = None) -> Any:
    """Every rank: ``work(exchange)`` on the root, the other ranks serving its evaluations of
    JI (:func:`serve`) until it returns; then every rank learns every rank's failure.

    ``warm``, when given, runs first on the other ranks (e.g. :func:`warm_transform`); a
    failure there is ignored (it is only a head start).

    Returns
    -------
    ``work``'s result on the root; None elsewhere.

    Raises
    ------
    ConfigError
        On every rank, when any rank raised one.
    InputError
        On every rank, when the root raised a LandiaError or an OSError and nothing worse
        happened.
    RuntimeError
        On every rank, for any other failure (a part that failed on a rank, a bug).
    """
    failure, result = None, None
    if comm.Get_rank() == 0:
        exchange = MpiWedgeExchange(comm)
        try:
            result = work(exchange)
        except ConfigError as exc:
            failure = ("ConfigError", str(exc))
        except (LandiaError, OSError) as exc:
            failure = ("InputError", f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 -- raised again on every rank below
            failure = ("RuntimeError", f"{type(exc).__name__}: {exc}")
        finally:
            exchange.close()
    else:
        try:
            if warm is not None:
                warm()
        except Exception:  # noqa: BLE001 -- only a head start: serve() builds what it needs,
            pass           # and the root meets (and reports) any problem with the inputs
        message = serve(comm)
        if message is not None:
            failure = ("RuntimeError", message)
    wait_for_all(comm)
    failures = [(r, f) for r, f in enumerate(comm.allgather(failure)) if f]
    if failures:
        text = "; ".join(f"rank {r}: {m}" for r, (_, m) in failures)
        kinds = {kind for _, (kind, _) in failures}
        if "ConfigError" in kinds:
            raise ConfigError(text)
        if kinds == {"InputError"}:
            raise InputError(text)
        raise RuntimeError(text)
    return result


def wedge_analysis_on_ranks(runner, background: np.ndarray, window, record: dict):
    """Every rank: a cycle's joint analysis with JI split by wedges over ``runner.comm``;
    the increments (n_land, layers) on the root, None elsewhere. ``runner`` is the cycle
    (:class:`landia.cycling.run.CycleRunner`)."""

    def analyse(exchange: MpiWedgeExchange) -> np.ndarray:
        runner.image_exchange = exchange
        try:
            increment = runner._analyse(background, window, record)
        finally:
            runner.image_exchange = None
        record["analysed"] = increment is not None
        if exchange.evaluations:  # in the run log: the split ran, and what it cost
            record["image_split"] = {"evaluations": exchange.evaluations, "ranks": exchange.parts,
                                     "seconds": round(exchange.seconds, 3)}
        return np.zeros((runner.grid.n_land, runner.layers)) if increment is None else increment

    return with_wedges_on_ranks(runner.comm, analyse, lambda: warm_transform(
        runner.grid.shape, runner.settings.curvelet))
