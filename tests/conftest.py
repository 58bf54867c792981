"""Shared fixtures: a small valid data folder (two projects, five activities, all five files); compiled solver kernels."""
from __future__ import annotations

import pytest

# Status 2021-01: XIY.T1 is done, XIY.T2 is running, the rest are not started.
MINI_FILES = {
    "projects.csv": (
        "project_id,name_zh,name_en,category,lead_agency,priority,deadline,budget,source\n"
        "XIY,西安咸阳国际机场三期扩建工程,Xi'an Airport Phase III,aviation,省发展改革委,3,2025-12,476.45,estimate\n"
        "HJW,引汉济渭二期,Hanjiang-to-Weihe Phase II,water,省水利厅,2,,200.23,estimate\n"
    ),
    "activities.csv": (
        "activity_id,project_id,name,optimistic,most_likely,pessimistic,predecessors,cost,funding_source,"
        "earliest_start,actual_start,actual_finish,resources,source\n"
        "XIY.T1,XIY,设计,6,8,12,,10,central,,2020-03,2020-10,,estimate\n"
        "XIY.T2,XIY,航站楼施工,30,36,48,XIY.T1,300,provincial,,2020-11,,CRANE:2,estimate\n"
        "XIY.T3,XIY,机电安装,10,12,18,XIY.T2:SS+12;XIY.T1,100,bond,,,,CRANE,estimate\n"
        "HJW.T1,HJW,隧洞掘进,24,30,40,,150,provincial,2021-06,,,TBM:1,estimate\n"
        "HJW.T2,HJW,输配水管线,12,14,20,HJW.T1:FF+2,50,local,,,,,estimate\n"
    ),
    "funding.csv": (
        "year,source,cap,note\n"
        "2021,provincial,120,estimate\n"
        "2022,provincial,120,\n"
    ),
    "risks.csv": (
        "risk_id,name,probability,optimistic,most_likely,pessimistic,affects,source\n"
        "R1,地质不良,0.3,1,3,6,HJW.T1,estimate\n"
        "R2,资金到位延迟,0.2,0,2,4,HJW.T2;category:aviation,estimate\n"
    ),
    "resources.csv": (
        "resource_id,name,capacity,source\n"
        "TBM,盾构机,2,estimate\n"
        "CRANE,塔吊,4,estimate\n"
    ),
}


@pytest.fixture(scope="session")
def compiled_kernels():
    """The GA and branch-and-bound kernels compiled (or loaded from numba's cache) once, before any solver time limit
    starts, as ``portfolio psplib`` does: in a fresh clone the first compile takes seconds of a test's limit."""
    from optimize import bnb, ga

    ga.compile_now()
    bnb.compile_now()


@pytest.fixture
def mini_files() -> dict[str, str]:
    """The valid mini data folder's files, name -> text (a fresh copy to change)."""
    return dict(MINI_FILES)


@pytest.fixture
def write_data(tmp_path):
    """write_data(files, changes) -> folder: the mini folder with files replaced (text or bytes) or removed (None)."""

    def write(changes: dict | None = None, name: str = "data"):
        folder = tmp_path / name
        folder.mkdir()
        files = {**MINI_FILES, **(changes or {})}
        for file, content in files.items():
            if content is None:
                continue
            if isinstance(content, str):
                content = content.encode("utf-8")
            (folder / file).write_bytes(content)
        return folder

    return write


@pytest.fixture
def mini_data(write_data):
    """A folder with the valid mini data files."""
    return write_data()
