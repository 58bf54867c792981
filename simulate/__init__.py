"""Monte Carlo simulation of a portfolio plan: sampling, execution (SimPy), statistics.

Layers, kept apart so that a second engine can reproduce the first from the same draws:

- ``simulate.model``: ``SimModel``, the portfolio prepared once per run;
- ``simulate.sampling``: every random draw, keyed by (seed, id, iteration) (``simulate.keyed``);
- ``simulate.engine_simpy``: the reference engine executing the draws (docs/simulation.md);
- ``simulate.stats``: integer accumulators and the output tables (docs/statistics.md);
- ``simulate.runner``: chunks, worker processes, progress, output files.
"""
from .plan import read_plan_starts
from .runner import SimulationResult, run, summary_text, write_outputs

__all__ = ["run", "write_outputs", "read_plan_starts", "summary_text", "SimulationResult"]
