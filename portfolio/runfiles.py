"""The names of a run folder's tables, defined once for the stages that write them and the report that reads them."""

PLAN_FILES = ("schedule.csv", "projects.csv", "funding.csv")  # the plan's tables (optimize/output.py)
SIMULATION_TABLES = ("simulation.csv", "criticality.csv", "risks.csv", "distribution.csv")  # the simulation's tables
ITERATIONS_FILE = "iterations.csv"  # each iteration's on-time bits, for paired comparisons
SIMULATION_FILES = SIMULATION_TABLES + (ITERATIONS_FILE,)  # everything simulate/runner.py writes
