from jambox.bench import controls


def test_the_controls_bench_reports_every_figure():
    figures = controls.run(quick=True)
    for key in ("button_edge_to_submit_median_us", "ack_to_led_p99_ms", "key_to_submit_median_ms",
                "midi_message_to_action_us", "events_file_1000_entries_ms"):
        assert figures[key] > 0, key
    assert figures["ack_to_led_median_ms"] <= figures["ack_to_led_max_ms"]
