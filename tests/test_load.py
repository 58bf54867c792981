"""Loading and checking a data folder: a corpus of malformed inputs, each with its exact problem."""
from __future__ import annotations

import hashlib
import os

import pytest

from portfolio.csvio import parse_table
from portfolio.errors import InputError, InputProblem
from portfolio.load import check_portfolio, load_portfolio
from portfolio.model import Link
from portfolio.months import parse_month

CATS = "aviation, water, rail, metro, road, logistics, health, other"
PRED_FORMS = "ID, ID:SS, ID:FF+2 or ID:FS-1 (type FS, SS, FF or SF; lag in whole months)"


def edited(files: dict[str, str], edits) -> dict[str, str]:
    """Apply (file, old, new) edits; each ``old`` must occur in the file."""
    files = dict(files)
    for name, old, new in edits:
        assert old in files[name], (name, old)
        files[name] = files[name].replace(old, new)
    return files


def problems_of(folder) -> list[tuple[str, int, int, str]]:
    with pytest.raises(InputError) as info:
        load_portfolio(str(folder))
    return [(os.path.basename(p.file), p.line, p.column, p.message) for p in info.value.problems]


# (case id, edits, expected problem as (file, line, column, message))
CASES = [
    ("missing column", [("projects.csv", "budget,source", "budget_yi,source")],
     ("projects.csv", 1, 0, 'missing required column "budget"')),
    ("duplicate column", [("activities.csv", "resources,source", "resources,cost")],
     ("activities.csv", 1, 14, 'duplicate column "cost" (also column 8)')),
    ("empty required number", [("activities.csv", "24,30,40,,150,provincial", "24,30,40,,,provincial")],
     ("activities.csv", 5, 8, "cost: expected a number >= 0, got an empty field")),
    ("empty required text", [("activities.csv", "HJW.T2,HJW,输配水管线", "HJW.T2,,输配水管线")],
     ("activities.csv", 6, 2, "project_id: expected a project_id from projects.csv, got an empty field")),
    ("empty name_zh", [("projects.csv", "HJW,引汉济渭二期,", "HJW,,")],
     ("projects.csv", 3, 2, "name_zh: expected the project's Chinese name, got an empty field")),
    ("non-numeric budget", [("projects.csv", "476.45", "约476")],
     ("projects.csv", 2, 8, 'budget: expected a number >= 0, got "约476"')),
    ("negative cost", [("activities.csv", "XIY.T1,300,provincial", "XIY.T1,-300,provincial")],
     ("activities.csv", 3, 8, 'cost: expected a number >= 0, got "-300"')),
    ("nan cost", [("activities.csv", "6,8,12,,10,central", "6,8,12,,nan,central")],
     ("activities.csv", 2, 8, 'cost: expected a number >= 0, got "nan"')),
    ("zero duration", [("activities.csv", "机电安装,10,12,18", "机电安装,0,12,18")],
     ("activities.csv", 4, 4, 'optimistic: expected a number > 0, got "0"')),
    ("zero priority", [("projects.csv", "省水利厅,2,", "省水利厅,0,")],
     ("projects.csv", 3, 6, 'priority: expected a number > 0, got "0"')),
    ("optimistic above most likely", [("activities.csv", "输配水管线,12,14,20", "输配水管线,15,14,20")],
     ("activities.csv", 6, 5, 'most_likely: expected at least optimistic (15), got "14"')),
    ("risk most likely above pessimistic", [("risks.csv", "0.3,1,3,6", "0.3,1,7,6")],
     ("risks.csv", 2, 6, 'pessimistic: expected at least most_likely (7), got "6"')),
    ("negative risk delay", [("risks.csv", "0.2,0,2,4", "0.2,-1,2,4")],
     ("risks.csv", 3, 4, 'optimistic: expected a number >= 0, got "-1"')),
    ("duplicate project", [("projects.csv", "200.23,estimate\n", "200.23,estimate\nXIY,重复,,rail,,1,,1,\n")],
     ("projects.csv", 4, 1, 'project_id: duplicate "XIY" (first on line 2)')),
    ("duplicate activity", [("activities.csv", "local,,,,,estimate\n", "local,,,,,estimate\nXIY.T1,XIY,重复,1,1,1,,0,central,,,,,\n")],
     ("activities.csv", 7, 1, 'activity_id: duplicate "XIY.T1" (first on line 2)')),
    ("duplicate risk", [("risks.csv", "R2,", "R1,")],
     ("risks.csv", 3, 1, 'risk_id: duplicate "R1" (first on line 2)')),
    ("duplicate resource", [("resources.csv", "CRANE,塔吊,4,estimate\n", "CRANE,塔吊,4,estimate\nTBM,盾构机,3,\n")],
     ("resources.csv", 4, 1, 'resource_id: duplicate "TBM" (first on line 2)')),
    ("unknown category", [("projects.csv", ",aviation,", ",airport,")],
     ("projects.csv", 2, 4, f'category: expected one of {CATS}, got "airport"')),
    ("unknown project", [("activities.csv", "HJW.T2,HJW,", "HJW.T2,HJX,")],
     ("activities.csv", 6, 2, 'project_id: unknown project "HJX"; did you mean "HJW"? (expected a project_id from projects.csv)')),
    ("unknown predecessor", [("activities.csv", "XIY.T2:SS+12", "XIY.T9:SS+12")],
     ("activities.csv", 4, 7, 'predecessors: unknown activity "XIY.T9" in "XIY.T9:SS+12"; did you mean "XIY.T3"?')),
    ("bad link type", [("activities.csv", "HJW.T1:FF+2", "HJW.T1:XF+2")],
     ("activities.csv", 6, 7, f'predecessors: expected {PRED_FORMS}, got "HJW.T1:XF+2"')),
    ("fractional lag", [("activities.csv", "HJW.T1:FF+2", "HJW.T1:FF+1.5")],
     ("activities.csv", 6, 7, f'predecessors: expected {PRED_FORMS}, got "HJW.T1:FF+1.5"')),
    ("lag without type", [("activities.csv", "HJW.T1:FF+2", "HJW.T1:+2")],
     ("activities.csv", 6, 7, f'predecessors: expected {PRED_FORMS}, got "HJW.T1:+2"')),
    ("lists itself", [("activities.csv", "XIY.T2:SS+12;XIY.T1", "XIY.T2:SS+12;XIY.T3")],
     ("activities.csv", 4, 7, 'predecessors: activity "XIY.T3" lists itself')),
    ("cycle", [("activities.csv", "设计,6,8,12,,", "设计,6,8,12,XIY.T3,")],
     ("activities.csv", 2, 7, "dependency cycle: XIY.T1 -> XIY.T2 -> XIY.T3 -> XIY.T1")),
    ("bad deadline", [("projects.csv", "2025-12", "2025/12")],
     ("projects.csv", 2, 7, 'deadline: expected a month as YYYY-MM, got "2025/12"')),
    ("month 13", [("activities.csv", "2021-06", "2021-13")],
     ("activities.csv", 5, 10, 'earliest_start: expected a month as YYYY-MM, got "2021-13"')),
    ("bad actual start", [("activities.csv", "2020-11", "2020-11-05")],
     ("activities.csv", 3, 11, 'actual_start: expected a month as YYYY-MM, got "2020-11-05"')),
    ("finish before start", [("activities.csv", "2020-03,2020-10", "2020-03,2020-01")],
     ("activities.csv", 2, 12, 'actual_finish: "2020-01" is before actual_start "2020-03"')),
    ("finish without start", [("activities.csv", "2020-03,2020-10", ",2020-10")],
     ("activities.csv", 2, 12, "actual_finish: given without actual_start (expected both, or only actual_start)")),
    ("probability above 1", [("risks.csv", "0.3,", "1.3,")],
     ("risks.csv", 2, 3, 'probability: expected a number from 0 to 1, got "1.3"')),
    ("affects unknown activity", [("risks.csv", ",HJW.T1,", ",HJW.T7,")],
     ("risks.csv", 2, 7, 'affects: unknown activity "HJW.T7"; did you mean "HJW.T2"?')),
    ("affects unknown category", [("risks.csv", "category:aviation", "category:airport")],
     ("risks.csv", 3, 7, f'affects: unknown category "airport" (expected one of {CATS})')),
    ("empty affects", [("risks.csv", ",HJW.T1,", ",,")],
     ("risks.csv", 2, 7, "affects: expected activity ids or category:NAME, separated by ;, got an empty field")),
    ("fractional year", [("funding.csv", "2021,", "2021.5,")],
     ("funding.csv", 2, 1, 'year: expected a year such as 2024, got "2021.5"')),
    ("negative cap", [("funding.csv", "2022,provincial,120", "2022,provincial,-1")],
     ("funding.csv", 3, 3, 'cap: expected a number >= 0, got "-1"')),
    ("duplicate funding pair", [("funding.csv", "2022,", "2021,")],
     ("funding.csv", 3, 2, 'source: duplicate cap for 2021 "provincial" (first on line 2)')),
    ("unknown resource", [("activities.csv", "CRANE:2", "CRANES:2")],
     ("activities.csv", 3, 13, 'resources: unknown resource "CRANES"; did you mean "CRANE"? (expected a resource_id from resources.csv)')),
    ("bad resource units", [("activities.csv", "TBM:1", "TBM:x")],
     ("activities.csv", 5, 13, 'resources: expected RESOURCE_ID or RESOURCE_ID:units (units a number > 0), got "TBM:x"')),
    ("resource over capacity", [("activities.csv", "CRANE:2", "CRANE:5")],
     ("activities.csv", 3, 13, 'resources: needs 5 units of "CRANE" but its capacity is 4')),
    ("zero capacity", [("resources.csv", "TBM,盾构机,2", "TBM,盾构机,0")],
     ("resources.csv", 2, 3, 'capacity: expected a number > 0, got "0"')),
    ("project id with a space", [("projects.csv", "HJW,引汉", "HJW 2,引汉"), ("activities.csv", ",HJW,", ",HJW 2,")],
     ("projects.csv", 3, 1, 'project_id: expected ASCII without spaces, got "HJW 2"')),
    ("project id not ASCII", [("projects.csv", "HJW,引汉", "引汉,引汉"), ("activities.csv", ",HJW,", ",引汉,")],
     ("projects.csv", 3, 1, 'project_id: expected ASCII without spaces, got "引汉"')),
    ("activity id with a space", [("activities.csv", "XIY.T3,XIY", "XIY T3,XIY")],
     ("activities.csv", 4, 1, 'activity_id: expected an id without spaces, ";", ":" or ",", got "XIY T3"')),
    ("project without activities", [("projects.csv", "200.23,estimate\n", "200.23,estimate\nXAM,西安国际医学中心,,health,,1,,10,\n")],
     ("projects.csv", 4, 1, 'project_id: project "XAM" has no activities in activities.csv')),
    ("extra field", [("projects.csv", "476.45,estimate", "476.45,estimate,extra")],
     ("projects.csv", 2, 10, "expected at most 9 fields as in the header, got 10 (put a field that contains a comma in double quotes)")),
    ("unclosed quote", [("activities.csv", ",机电安装,", ',"机电安装,')],
     ("activities.csv", 4, 0, 'a quoted field that starts on this line is never closed (a closing " is missing)')),
]


@pytest.mark.parametrize("edits, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_input_gives_exactly_one_clear_problem(write_data, mini_files, edits, expected):
    folder = write_data(edited(mini_files, edits))
    assert problems_of(folder) == [expected]


def test_corpus_is_large_enough():
    assert len(CASES) >= 22


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"projects.csv": ""}, ("projects.csv", 1, 0, "the file is empty (expected a header row)")),
        ({"projects.csv": "\n \n"}, ("projects.csv", 1, 0, "the file is empty (expected a header row)")),
        ({"activities.csv": None}, ("activities.csv", 0, 0, "required file is missing")),
        ({"projects.csv": b"\xff\xfep\x00r\x00o\x00"}, ("projects.csv", 0, 0, "cannot read: not UTF-8 or GB18030 text")),
        ({"risks.csv": b"risk_id,name\n\x80\x80\n"}, ("risks.csv", 0, 0, "cannot read: not UTF-8 or GB18030 text")),
    ],
    ids=["empty", "blank lines only", "missing required file", "utf-16", "undecodable bytes"],
)
def test_unreadable_files(write_data, changes, expected):
    assert problems_of(write_data(changes)) == [expected]


def test_problem_file_is_the_path_joined_to_the_folder_as_passed(write_data, mini_files):
    folder = write_data(edited(mini_files, [("funding.csv", "2022,", "2021,")]))
    for given in (str(folder), str(folder) + os.sep, folder):
        with pytest.raises(InputError) as info:
            load_portfolio(given)
        assert [p.file for p in info.value.problems] == [os.path.join(given, "funding.csv")]


def test_missing_folder():
    portfolio, problems = check_portfolio("/no/such/folder")
    assert portfolio is None
    assert problems == [InputProblem("/no/such/folder", 0, 0, "no such folder (expected a folder with projects.csv and activities.csv)")]


def test_header_only_projects_file(write_data):
    found = problems_of(write_data({"projects.csv": "project_id,name_zh,category,priority,budget\n"}))
    assert found[0] == ("activities.csv", 2, 2, 'project_id: unknown project "XIY" (expected a project_id from projects.csv)')
    assert ("projects.csv", 1, 0, "no projects below the header (expected one row per project)") in found


def test_every_problem_is_reported_sorted_by_file_line_column(write_data, mini_files):
    files = edited(
        mini_files,
        [
            ("risks.csv", "0.3,", "2,"),
            ("activities.csv", "HJW.T1:FF+2,50", "HJW.T1:FF+2,-50"),
            ("activities.csv", "设计,6,8,12", "设计,six,8,12"),
            ("projects.csv", ",aviation,", ",airport,"),
            ("activities.csv", "2021-06", "June"),
            ("funding.csv", "2022,provincial,120", "2022,provincial,lots"),
            ("activities.csv", "XIY.T2:SS+12", "XIY.T2:SS+x"),
        ],
    )
    assert problems_of(write_data(files)) == [
        ("activities.csv", 2, 4, 'optimistic: expected a number > 0, got "six"'),
        ("activities.csv", 4, 7, f'predecessors: expected {PRED_FORMS}, got "XIY.T2:SS+x"'),
        ("activities.csv", 5, 10, 'earliest_start: expected a month as YYYY-MM, got "June"'),
        ("activities.csv", 6, 8, 'cost: expected a number >= 0, got "-50"'),
        ("funding.csv", 3, 3, 'cap: expected a number >= 0, got "lots"'),
        ("projects.csv", 2, 4, f'category: expected one of {CATS}, got "airport"'),
        ("risks.csv", 2, 3, 'probability: expected a number from 0 to 1, got "2"'),
    ]


def test_two_cycles_are_two_problems_at_their_first_activities(write_data, mini_files):
    files = edited(
        mini_files,
        [
            ("activities.csv", "设计,6,8,12,,", "设计,6,8,12,XIY.T2,"),
            ("activities.csv", "隧洞掘进,24,30,40,,", "隧洞掘进,24,30,40,HJW.T2:SS,"),
        ],
    )
    assert problems_of(write_data(files)) == [
        ("activities.csv", 2, 7, "dependency cycle: XIY.T1 -> XIY.T2 -> XIY.T1"),
        ("activities.csv", 5, 7, "dependency cycle: HJW.T1 -> HJW.T2 -> HJW.T1"),
    ]


def test_quoted_field_with_newlines_keeps_physical_line_numbers(write_data, mini_files):
    files = edited(
        mini_files,
        [
            ("activities.csv", ",设计,", ',"设计\n（初步设计, 施工图）",'),
            ("activities.csv", "HJW.T1:FF+2,50", "HJW.T1:FF+2,-50"),
        ],
    )
    assert problems_of(write_data(files)) == [("activities.csv", 7, 8, 'cost: expected a number >= 0, got "-50"')]
    files = edited(files, [("activities.csv", "HJW.T1:FF+2,-50", "HJW.T1:FF+2,50")])
    portfolio = load_portfolio(write_data(files, name="fixed"))
    assert portfolio.activity("XIY.T1").name == "设计\n（初步设计, 施工图）"


def test_valid_mini_folder_loads(mini_data):
    p = load_portfolio(mini_data)
    assert [x.project_id for x in p.projects] == ["XIY", "HJW"]
    xiy, hjw = p.projects
    assert xiy.name_zh == "西安咸阳国际机场三期扩建工程" and xiy.lead_agency == "省发展改革委"
    assert (xiy.priority, xiy.budget, xiy.deadline) == (3.0, 476.45, parse_month("2025-12"))
    assert hjw.deadline is None
    t3 = p.activity("XIY.T3")
    assert t3.predecessors == (Link("XIY.T2", "SS", 12), Link("XIY.T1", "FS", 0))
    assert t3.resources == (("CRANE", 1.0),)
    assert p.activity("XIY.T2").resources == (("CRANE", 2.0),)
    assert p.activity("HJW.T2").predecessors == (Link("HJW.T1", "FF", 2),)
    assert (p.activity("XIY.T1").actual_start, p.activity("XIY.T1").actual_finish) == (
        parse_month("2020-03"), parse_month("2020-10"))
    assert p.activity("HJW.T1").earliest_start == parse_month("2021-06")
    assert [(f.year, f.source, f.cap) for f in p.funding] == [(2021, "provincial", 120.0), (2022, "provincial", 120.0)]
    assert p.risks[0].affects == ("HJW.T1",)
    # category:aviation resolved to XIY's activities; everything in activities.csv order, no duplicates
    assert p.risks[1].affects == ("XIY.T1", "XIY.T2", "XIY.T3", "HJW.T2")
    assert [(r.resource_id, r.capacity) for r in p.resources] == [("TBM", 2.0), ("CRANE", 4.0)]
    names = ["projects.csv", "activities.csv", "funding.csv", "risks.csv", "resources.csv"]
    assert p.inputs == tuple((n, hashlib.sha256((mini_data / n).read_bytes()).hexdigest()) for n in names)


def test_links_of_every_form(write_data, mini_files):
    files = edited(mini_files, [("activities.csv", "XIY.T2:SS+12;XIY.T1", "XIY.T2:ss ; XIY.T1:FS-1;XIY.T2:SF+3 ;;XIY.T1:FF")])
    t3 = load_portfolio(write_data(files)).activity("XIY.T3")
    assert t3.predecessors == (Link("XIY.T2", "SS", 0), Link("XIY.T1", "FS", -1), Link("XIY.T2", "SF", 3), Link("XIY.T1", "FF", 0))


def test_optional_files_may_be_absent(write_data, mini_files):
    files = edited(mini_files, [("activities.csv", "CRANE:2", ""), ("activities.csv", "CRANE", ""), ("activities.csv", "TBM:1", "")])
    files.update({"funding.csv": None, "risks.csv": None, "resources.csv": None})
    p = load_portfolio(write_data(files))
    assert (p.funding, p.risks, p.resources) == ((), (), ())
    assert [name for name, _ in p.inputs] == ["projects.csv", "activities.csv"]
    assert all(a.resources == () for a in p.activities)


def test_resources_without_resources_file_are_unknown(write_data):
    found = problems_of(write_data({"resources.csv": None}))
    assert found == [
        ("activities.csv", 3, 13, 'resources: unknown resource "CRANE" (expected a resource_id from resources.csv)'),
        ("activities.csv", 4, 13, 'resources: unknown resource "CRANE" (expected a resource_id from resources.csv)'),
        ("activities.csv", 5, 13, 'resources: unknown resource "TBM" (expected a resource_id from resources.csv)'),
    ]


def test_extra_columns_and_blank_rows_are_ignored(write_data, mini_files):
    files = edited(
        mini_files,
        [
            ("projects.csv", "budget,source\n", "budget,source,remarks\n"),
            ("projects.csv", "476.45,estimate\n", "476.45,estimate,见批复\n,,,,,,,,,\n\n"),
            ("funding.csv", "cap,note\n", "cap,note,,\n"),
        ],
    )
    p = load_portfolio(write_data(files))
    assert [x.project_id for x in p.projects] == ["XIY", "HJW"]


def test_gb18030_file_is_read_with_chinese_intact(write_data, mini_files):
    folder = write_data({"projects.csv": mini_files["projects.csv"].encode("gb18030"),
                         "activities.csv": mini_files["activities.csv"].encode("gbk")})
    p = load_portfolio(folder)
    assert p.project("XIY").name_zh == "西安咸阳国际机场三期扩建工程"
    assert p.project("HJW").lead_agency == "省水利厅"
    assert p.activity("HJW.T1").name == "隧洞掘进"


def test_utf8_bom_is_stripped(write_data, mini_files):
    folder = write_data({name: b"\xef\xbb\xbf" + text.encode("utf-8") for name, text in mini_files.items()})
    p = load_portfolio(folder)
    assert p.projects[0].project_id == "XIY"  # the first column's name is "project_id", not "\ufeffproject_id"
    assert p.activity("XIY.T2").name == "航站楼施工"
    assert p.inputs[0][1] == hashlib.sha256((folder / "projects.csv").read_bytes()).hexdigest()


def test_parse_table_rows_columns_and_encoding():
    data = 'a, b ,c\n1,"x\ny",3\n\n4,5\n'.encode("gb18030")
    table, problems = parse_table(data, "t.csv")
    assert problems == []
    assert table.columns == {"a": 1, "b": 2, "c": 3}
    assert [(r.line, r.values) for r in table.rows] == [(2, ("1", "x\ny", "3")), (5, ("4", "5"))]
    assert table.value(table.rows[1], "c") == "" and table.value(table.rows[1], "zzz") == ""
    assert table.encoding == "utf-8"  # ASCII is UTF-8
    table, _ = parse_table("名称\n西安\n".encode("gb18030"), "t.csv")
    assert table.encoding == "gb18030" and table.rows[0].values == ("西安",)


def test_a_missing_id_column_is_one_problem_not_a_cascade(write_data, mini_files):
    files = edited(mini_files, [("activities.csv", "activity_id,project_id,", "id,project,")])
    assert problems_of(write_data(files)) == [
        ("activities.csv", 1, 0, 'missing required column "activity_id"'),
        ("activities.csv", 1, 0, 'missing required column "project_id"'),
    ]
