from jambox.bench.machine import describe


def test_names_the_cpu_on_x86_and_on_a_raspberry_pi(tmp_path):
    x86 = tmp_path / "x86"
    x86.write_text("processor\t: 0\nmodel\t\t: 17\nmodel name\t: AMD EPYC 7B13\n")
    assert describe(str(x86))["cpu"] == "AMD EPYC 7B13"
    pi = tmp_path / "pi"
    pi.write_text("processor\t: 0\nBogoMIPS\t: 108.00\nCPU part\t: 0xd08\n\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n")
    assert describe(str(pi))["cpu"] == "Raspberry Pi 4 Model B Rev 1.4"


def test_a_missing_cpuinfo_still_describes_the_machine(tmp_path):
    d = describe(str(tmp_path / "none"))
    assert d["cpu"] and d["cores"] >= 1 and d["python"].startswith("3.")
