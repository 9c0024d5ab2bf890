"""System inventory against files captured on real machines (tests/data/hosts/*/SOURCES.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from probe_fakes import HOSTS, FakeSources
from probes._cpu import parse_cpu_list, parse_cpu_map, parse_size
from probes._dmidecode import parse_dimms
from probes.system import collect_system, max_channels_per_socket


def lscpu_value(host: str, key: str) -> str:
    """A value from lscpu's output on the same dump (util-linux's expected output)."""
    text = (HOSTS / host / "lscpu-expected.txt").read_text()
    return re.search(rf"^{re.escape(key)}:\s+(.*)$", text, re.M).group(1).strip()


def test_epyc7451_matches_lscpu_on_the_same_dump():
    info = collect_system(FakeSources("epyc7451-2s"))
    assert info.cpu_model == lscpu_value("epyc7451-2s", "Model name")
    assert info.sockets == int(lscpu_value("epyc7451-2s", "Socket(s)")) == 2
    assert info.cores_per_socket == int(lscpu_value("epyc7451-2s", "Core(s) per socket")) == 24
    assert info.threads == int(lscpu_value("epyc7451-2s", "CPU(s)")) == 96
    assert info.numa_nodes == int(lscpu_value("epyc7451-2s", "NUMA node(s)")) == 8
    assert info.numa_node_cpus[0] == parse_cpu_list(lscpu_value("epyc7451-2s", "NUMA node0 CPU(s)"))
    assert info.l3_cache_bytes == 128 << 20  # lscpu: "128 MiB (16 instances)"
    assert info.smt is True and info.governor == "performance"
    assert {"avx2", "fma"} <= set(info.cpu_flags) and "avx512f" not in info.cpu_flags


def test_four_socket_nehalem_ex():
    info = collect_system(FakeSources("xeon-x7550-4s"))
    assert info.sockets == int(lscpu_value("xeon-x7550-4s", "Socket(s)")) == 4
    assert info.cores == 32 and info.threads == 64
    assert info.l3_cache_bytes == 4 * (18 << 20)  # 18 MiB per socket
    assert info.architecture == "x86_64"


def test_arm64_cpu_named_from_implementer_and_part():
    info = collect_system(FakeSources("arm64-neoverse-n1"))
    assert info.cpu_model == "ARM Neoverse-N1"
    assert info.architecture == "aarch64"
    assert {"asimd", "asimddp"} <= set(info.cpu_flags)
    assert info.l3_cache_bytes is None and "l3_cache_bytes" in info.missing


def test_bios_and_governor_from_sysfs():
    info = collect_system(FakeSources("dell-r6515"))
    assert (info.bios_vendor, info.bios_version, info.bios_date) == ("Dell Inc.", "2.2.4", "04/12/2021")
    assert info.product_name == "PowerEdge R6515"
    assert info.governor == "powersave"
    assert "cpu_model" in info.missing  # no /proc/cpuinfo in that capture: reported, not raised


@pytest.mark.parametrize("host, dimms, slots, mem_type, speed, peak", [
    ("epyc-genoa-2s", 8, 24, "DDR5", 4800, 307.2),  # dmidecode 3.3 prints <OUT OF SPEC> for DDR5
    ("epyc-milan-2s", 32, 32, "DDR4", 3200, None),
    ("epyc-rome-2s", 16, 32, "DDR4", None, None),
    ("xeon-spr-2s", 16, 32, "DDR5", 4800, 614.4),
    ("desktop-ryzen7900x", 2, 4, "DDR5", 4800, 76.8),
    ("laptop-t14g1", 1, 2, "DDR4", None, None),
    ("laptop-sandybridge", 2, 4, "DDR3", 1333, 21.3),
])
def test_dimm_population(host, dimms, slots, mem_type, speed, peak):
    info = collect_system(FakeSources(host))
    assert len(info.dimms) == dimms and info.dimm_slots == slots
    assert info.memory_type == mem_type
    if speed is not None:
        assert info.memory_speed_mts == speed
    if peak is not None:
        assert info.theoretical_bandwidth_gbs == pytest.approx(peak)


def _dmidecode_cpu(host: str) -> str:
    text = (HOSTS / host / "commands" / "dmidecode.txt").read_text()
    return re.search(r"Processor Information(?:\n\t.*)*?\n\tVersion: (.*)", text).group(1).strip()


@pytest.mark.parametrize("host, per_socket", [
    ("epyc-genoa-2s", 12), ("epyc-milan-2s", 8), ("epyc-rome-2s", 8), ("xeon-spr-2s", 8),
    ("xeon-cascadelake-2s", 6), ("desktop-ryzen7900x", 2), ("laptop-t14g1", 2),
])
def test_channel_table_knows_the_captured_cpus(host, per_socket):
    assert max_channels_per_socket(_dmidecode_cpu(host)) == per_socket


def test_half_populated_genoa_is_a_finding():
    src = FakeSources("epyc-genoa-2s", extra={
        "/proc/cpuinfo": "processor\t: 0\nvendor_id\t: AuthenticAMD\nphysical id\t: 0\ncore id\t: 0\n"
                         "model name\t: AMD EPYC 9534 64-Core Processor\n\n"
                         "processor\t: 1\nvendor_id\t: AuthenticAMD\nphysical id\t: 1\ncore id\t: 0\n"
                         "model name\t: AMD EPYC 9534 64-Core Processor\n"})
    info = collect_system(src)
    assert info.max_memory_channels == 24 and info.memory_channels == 8
    assert info.theoretical_bandwidth_gbs == pytest.approx(8 * 4800 * 8 / 1000)


def test_no_dmidecode_is_reported_not_raised():
    src = FakeSources("epyc7451-2s")
    info = collect_system(src)
    assert info.dimms == () and "needs root" in info.missing["dimms"]
    assert ["dmidecode", "-t", "memory"] in src.ran


def test_fake_refuses_paths_it_was_not_given():
    src = FakeSources("arm64-neoverse-n1")
    assert src.read_text("/etc/passwd") is None
    assert src.read_text("/sys/class/dmi/id/bios_vendor") is None
    assert "/etc/passwd" in src.refused


def test_this_machine_inventory_is_sane():
    info = collect_system()
    assert info.threads and info.threads >= 1
    assert info.memory_total_bytes and info.memory_available_bytes
    assert info.to_dict()["numa_node_cpus"]


def test_parsers():
    assert parse_cpu_list("0-2,8,10-11\n") == (0, 1, 2, 8, 10, 11)
    assert parse_cpu_map("00000000,00000f00\n") == (8, 9, 10, 11)
    assert parse_size("32768K") == 32 << 20 and parse_size("1M") == 1 << 20
    dimms = parse_dimms("Memory Device\n\tSize: No Module Installed\n\nMemory Device\n"
                        "\tSize: 16384 MB\n\tLocator: A1\n\tType: DDR4\n\tSpeed: 2666 MT/s\n"
                        "\tConfigured Memory Speed: 2400 MT/s\n")
    assert len(dimms) == 1 and dimms[0].size_bytes == 16 << 30
    assert dimms[0].configured_speed_mts == 2400


def test_every_host_has_provenance():
    sources = (HOSTS / "SOURCES.md").read_text()
    for host in Path(HOSTS).iterdir():
        if host.is_dir():
            assert host.name in sources, host.name


@pytest.mark.parametrize("model, channels", [
    ("AMD EPYC 9355 32-Core Processor", 12), ("AMD EPYC 9654 96-Core Processor", 12),
    ("AMD EPYC 7742 64-Core Processor", 8), ("Intel(R) Xeon(R) Platinum 8480+", 8),
    ("Intel(R) Xeon(R) Gold 6126 CPU @ 2.60GHz", 6), ("Intel(R) Xeon(R) 6980P", 12),
    ("Intel(R) Xeon(R) CPU           X7550  @ 2.00GHz", 4), ("AMD Ryzen 9 7950X 16-Core Processor", 2),
    ("HiSilicon Kunpeng-920 (TSV110)", 8), ("ARM Neoverse-N1", None),
])
def test_channel_table(model, channels):
    assert max_channels_per_socket(model) == channels


def test_amx_and_avx512_flags_are_kept():
    # No real AMX /proc/cpuinfo was available (see data/hosts/SOURCES.md): the flag names are
    # the kernel's (arch/x86/include/asm/cpufeatures.h), the line is assembled for this test.
    from probes._cpu import flags_of
    line = "fpu sse4_2 avx2 fma avx512f avx512_bf16 amx_bf16 amx_tile amx_int8 avx512_fp16"
    assert flags_of({"flags": line}) == ("sse4_2", "avx2", "fma", "avx512f", "avx512_bf16",
                                         "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8")


def test_cgroup_memory_limit_bounds_available_memory():
    info = collect_system(FakeSources("vm-cgroup-v1-limit"))
    assert info.memory_cgroup_limit_bytes == 1 << 30
    assert info.memory_available_bytes == (1 << 30) - 1183744  # limit - usage, not MemAvailable
    assert info.memory_total_bytes > 20 << 30


def test_no_cgroup_limit_keeps_mem_available():
    info = collect_system(FakeSources("epyc7451-2s"))
    assert info.memory_cgroup_limit_bytes is None


def test_cgroup_cpu_quota():
    info = collect_system(FakeSources("vm-cgroup-v1-cpu-quota"))
    assert info.cpu_quota == 1.5  # 150000 us per 100000 us period
    assert collect_system(FakeSources("vm-cgroup-v1-limit")).cpu_quota is None


def test_cpu_quota_limits_the_workers():
    from probes.memory import plan_stream
    info = collect_system(FakeSources("vm-cgroup-v1-cpu-quota"))
    plan = plan_stream(True, info, cpus=(0, 1))
    assert plan.cpus == (0,) and any("quota" in n for n in plan.notes)


class _GarbageSources:
    """Every file and command answers with the same arbitrary text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def read_text(self, path: str) -> str | None:
        return self.text

    def list_dir(self, path: str) -> list[str] | None:
        return ["node0", "index0", "cpu0", self.text[:8]]

    def run(self, argv: list[str], timeout: float) -> str | None:
        return self.text


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200)
       | st.sampled_from(["0-x,3", "ff,zz", "max 100000", "-1", "12K\n", "Size: 8 GB\n",
                          "Memory Device\n\tSize: 8 GB\n\tSpeed: fast MT/s\n"]))
def test_collect_system_never_raises_on_odd_files(text):
    info = collect_system(_GarbageSources(text))
    assert info.to_dict()["missing"] is not None


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=120))
def test_run_time_readings_never_raise_on_odd_files(text):
    from probes._hugepages import anon_huge_bytes
    from probes._load import read_cpu_times
    read_cpu_times(_GarbageSources(text))
    anon_huge_bytes(_GarbageSources(text))


def test_numa_node_memory_and_hypervisor_flag():
    info = collect_system(FakeSources("dell-r6515"))
    assert info.numa_node_memory_bytes[0] == 134182340 * 1024
    assert collect_system(FakeSources("epyc7451-2s")).virtualized is False
    assert collect_system(FakeSources("vm-cgroup-v1-cpu-quota")).virtualized is True  # KVM guest
    assert collect_system(FakeSources("arm64-neoverse-n1")).virtualized is None  # arm64: unknown
