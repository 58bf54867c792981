"""PSPLIB: reading .sm files and the bounds files, the first 20 j30 instances solved to their optimum, the GA hint."""
from __future__ import annotations

from pathlib import Path

import pytest

from optimize import psplib

DATA = Path(__file__).parent / "data" / "psplib"  # the vendored PSPLIB subset (see its README.md)

SMALL = """\
************************************************************************
PRECEDENCE RELATIONS:
jobnr.    #modes  #successors   successors
   1        1          2           2   3
   2        1          1           4
   3        1          1           4
   4        1          0
************************************************************************
REQUESTS/DURATIONS:
jobnr. mode duration  R 1
------------------------------------------------------------------------
  1      1     0       0
  2      1     3       2
  3      1     2       2
  4      1     0       0
************************************************************************
RESOURCEAVAILABILITIES:
  R 1
    3
************************************************************************
"""


def test_read_and_solve_a_tiny_instance(tmp_path):
    path = tmp_path / "tiny.sm"
    path.write_text(SMALL)
    inst = psplib.read_sm(path)
    assert inst.name == "tiny"
    assert inst.duration == (0, 3, 2, 0)
    assert inst.successors == ((1, 2), (3,), (3,), ())
    assert inst.capacity == (3,) and inst.demand[1] == (2,)
    # jobs 2 and 3 need 2 + 2 > 3 units: one after the other, makespan 5
    r = psplib.solve_instance(inst, time_limit=5)
    assert (r.makespan, r.lower_bound, r.optimal) == (5, 5, True)
    assert psplib.check_schedule(inst, list(r.start)) == []


def test_multi_mode_and_broken_files_are_refused(tmp_path):
    path = tmp_path / "mm.sm"
    path.write_text(SMALL.replace("   2        1          1           4", "   2        3          1           4"))
    with pytest.raises(psplib.FormatError, match="only single-mode"):
        psplib.read_sm(path)
    path.write_text("hello\n")
    with pytest.raises(psplib.FormatError, match="PRECEDENCE RELATIONS"):
        psplib.read_sm(path)


def test_instance_names():
    assert psplib.parse_name("j3013_7.sm") == ("j30", 13, 7)
    assert psplib.parse_name("/x/j12060_10.sm") == ("j120", 60, 10)
    assert psplib.parse_name("foo.sm") is None


def vendored(family):
    return {psplib.parse_name(f.name)[1:] for f in (DATA / family).glob("*.sm")}


def test_bounds_files():
    # the vendored bounds files keep the original headers and only the rows of the vendored instances (plus a few)
    opt = psplib.read_bounds(DATA / "j30opt.sm")
    assert set(opt) == vendored("j30") and len(opt) == 25 and opt[(1, 1)] == (43, 43) and opt[(45, 6)] == (129, 129)
    lb = psplib.read_bounds(DATA / "j120lb.sm")
    assert lb == {(1, 1): (105, 104), (1, 2): (109, 109), (16, 6): (206, 194)}
    hrs = psplib.read_bounds(DATA / "j120hrs.sm")
    assert len(hrs) == 4 and hrs[(60, 10)] == (89, None) and hrs[(16, 6)] == (204, None)
    known = psplib.known_bounds(DATA, "j120")
    assert vendored("j120") <= set(known) and len(known) == 4
    assert known[(1, 1)] == (105, 104) and known[(16, 6)] == (204, 194) and known[(60, 10)] == (89, None)
    assert psplib.known_bounds(DATA, "j30")[(1, 1)] == (43, 43)


FIRST_20 = [f"j30{p}_{i}" for p in (1, 2) for i in range(1, 11)]


@pytest.mark.parametrize("name", FIRST_20)
def test_first_20_j30_instances_reach_their_known_optimum(name, compiled_kernels):
    optimum = psplib.read_bounds(DATA / "j30opt.sm")[psplib.parse_name(name)[1:]][0]
    inst = psplib.read_sm(DATA / "j30" / f"{name}.sm")
    r = psplib.solve_instance(inst, time_limit=10, workers=1)
    assert r.makespan == optimum
    assert r.optimal and r.lower_bound == optimum
    assert psplib.check_schedule(inst, list(r.start)) == []


def test_solve_with_the_ga_forced_on_a_small_instance_reaches_the_optimum(compiled_kernels):
    inst = psplib.read_sm(DATA / "j30" / "j3013_1.sm")
    optimum = psplib.read_bounds(DATA / "j30opt.sm")[(13, 1)][0]
    r = psplib.solve_instance(inst, time_limit=10, options=psplib.Options(ga_min_jobs=0, ga_until=0.3))
    assert r.makespan == optimum and r.lower_bound <= optimum
    assert psplib.check_schedule(inst, list(r.start)) == []
