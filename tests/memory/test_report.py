from jambox.memory import Memory
from jambox.memory.report import _bucket_query
from jambox.memory.schema import SCHEMA_VERSION


def test_an_empty_file_reads_back_as_empty(tmp_path):
    with Memory.open(tmp_path / "s.db") as m:
        o, e = m.overview(), m.export()
    assert o["sessions"] == 0 and o["actions"] == 0 and o["taste"] == {} and o["schema_version"] == SCHEMA_VERSION == 3
    assert e["format"] == "jambox-state" and e["actions"] == [] and e["session_state"] is None


def test_bucket_names_map_back_to_a_query_inside_them():
    from jambox.memory.taste import bucket

    for name in ("4/4@80-105", "6/8@130+", "*@<80", "7/8@*", "*@*"):
        meter, tempo = _bucket_query(name)
        assert bucket(meter, tempo) == name
