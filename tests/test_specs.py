"""Machine specs: TOML/JSON files, probe reports, result files and the catalog → Machine."""

from __future__ import annotations

import json

import pytest

from harness.errors import HarnessError
from harness.documents.specs import machine_from_probe
from harness.documents.machines import load_machine, machine_ids, parse_machine_text

SEED = """
name = "dual EPYC 9355 + RTX 5090D"
price = 149000
currency = "CNY"
[cpu]
model = "AMD EPYC 9355"
sockets = 2
cores_per_socket = 32
[memory]
type = "DDR5"
channels = 24
speed_mts = 6400
capacity_gb = 1152
[[gpus]]
model = "RTX 5090D"
count = 1
memory_gb = 32
bandwidth_gbs = 1792
bf16_tflops = 209
"""


def test_design_md_example_parses():
    m = parse_machine_text(SEED, "seed.toml")
    assert m.sockets == 2 and m.channels == 24 and m.speed_mts == 6400
    assert m.gpus[0].bandwidth_gbs == 1792 and m.price == 149000
    assert m.measured_bandwidth_gbs is None


def test_json_spec_same_keys():
    data = {"name": "x", "cpu": {"sockets": 1}, "memory": {"channels": 12, "speed_mts": 4800, "capacity_gb": 384}}
    m = parse_machine_text(json.dumps(data), "x.json")
    assert m.channels == 12


@pytest.mark.parametrize("text, fragment", [
    ("", "empty"),
    ("[cpu]\nsockets = 0\n[memory]\nchannels=8\nspeed_mts=4800", "cpu.sockets"),
    ("[cpu]\nsockets = 'two'\n[memory]\nchannels=8\nspeed_mts=4800", "cpu.sockets must be int"),
    ("[memory]\nchannels=8\nspeed_mts=4800\nbogus=1", "unknown key memory.bogus"),
    ("[memory]\ncapacity_gb = 64", "channels and speed_mts"),
    ("[memory]\nchannels=8\nspeed_mts=4800\n[[gpus]]\nmodel='X'", "bandwidth_gbs"),
    ("{not json", "not valid JSON"),
    ("= nonsense", "not valid TOML"),
])
def test_bad_specs_name_the_problem(text, fragment):
    with pytest.raises(HarnessError, match=fragment):
        parse_machine_text(text, "bad.toml")


def test_catalog_ids_load():
    ids = machine_ids()
    assert {"epyc9355-rtx5090d", "xeon6454s-rtx4090", "8x-h20", "8x-h200", "h800-cluster",
            "apple-m3-ultra", "ryzen-ai-max-395"} <= set(ids)
    for i in ids:
        assert load_machine(i).name


def test_unknown_machine_lists_catalog():
    with pytest.raises(HarnessError, match="epyc9355-rtx5090d"):
        load_machine("no-such-box")


def test_binary_and_directory_refused(tmp_path):
    b = tmp_path / "x.toml"
    b.write_bytes(b"\x00\x01\x02")
    with pytest.raises(HarnessError, match="binary"):
        load_machine(str(b))
    with pytest.raises(HarnessError, match="directory"):
        load_machine(str(tmp_path))


def test_probe_report_becomes_measured_machine(fake_probe):
    m = machine_from_probe(fake_probe)
    assert m.measured_bandwidth_gbs == 980.0
    assert m.cpu_gflops_fp32 == 9500.0
    assert m.sockets == 2 and m.gpus[0].bandwidth_gbs == 1792.0
    assert m.capacity_gb == pytest.approx(1152)


def test_probe_json_file_loads(tmp_path, fake_probe):
    p = tmp_path / "probe.json"
    p.write_text(json.dumps(fake_probe))
    assert load_machine(str(p)).measured_bandwidth_gbs == 980.0


def test_a_spec_naming_known_parts_gets_their_figures_and_says_so(tmp_path):
    """A buyer's spec often names the parts only: the GPU's memory, bandwidth and BF16 rate come from its
    vendor sheet, the CPU's cores and fastest DIMM speed from the CPU catalog, each stated in the
    prediction's assumptions."""
    from harness.app.api import predict_on

    path = tmp_path / "box.toml"
    path.write_text('name = "box"\n[cpu]\nmodel = "AMD EPYC 9655"\nsockets = 2\n[memory]\ntype = "DDR5"\n'
                    'channels = 24\ncapacity_gb = 1536\n[[gpus]]\nmodel = "NVIDIA RTX PRO 6000 Blackwell"\ncount = 2\n')
    m = load_machine(str(path))
    g = m.gpus[0]
    assert (g.memory_gb, g.bandwidth_gbs, g.bf16_tflops) == (96, 1792, 500.0)
    assert (m.cores_per_socket, m.speed_mts) == (96, 6400)
    notes = predict_on(str(path), quant="q4_k_m")["assumptions"]
    assert any("vendor sheet" in n for n in notes) and any("CPU catalog" in n for n in notes)
    # figures the spec does give are kept
    path.write_text(path.read_text().replace("count = 2\n", "count = 2\nbandwidth_gbs = 1500\n"))
    assert load_machine(str(path)).gpus[0].bandwidth_gbs == 1500
