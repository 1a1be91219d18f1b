"""``jambox bench --only memory``: the figures exist and are plausible (no timing asserts)."""

from jambox.bench import memory as bench


def test_quick_memory_bench_reports_commit_latency_recall_and_size(tmp_path, monkeypatch):
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path))  # scratch files beside where the state would be
    figures = bench.run(quick=True)
    assert figures["disk_dir"] == str(tmp_path)
    for key in ("record_action_ms", "note_controls_ms", "recall_exact_ms", "recall_by_similarity_ms_50_riffs"):
        assert 0 < figures[key]["p50"] <= figures[key]["p99"] <= figures[key]["max"]
    assert figures["file_bytes_after_300_actions"] > 300 * 50
    assert list(tmp_path.iterdir()) == []  # the scratch directory is gone
