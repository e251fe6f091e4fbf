"""What the machine can do at most, measured in the same run: loopback TCP bandwidth
and sequential write bandwidth (with fdatasync) on the log directories' filesystem;
and a description of the machine (CPU, memory, filesystem, load)."""
import os
import re
import socket
import subprocess
import threading
import time


def loopback_bandwidth(seconds=3.0, chunk=1 << 20):
    """Bytes/s one TCP connection over 127.0.0.1 carries: a sender thread writes
    chunk-sized buffers for `seconds`, a receiver thread reads and counts them."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    got = [0]

    def receive():
        conn, _ = srv.accept()
        buf = bytearray(chunk)
        with conn:
            while True:
                n = conn.recv_into(buf)
                if not n:
                    break
                got[0] += n

    th = threading.Thread(target=receive, daemon=True)
    th.start()
    data = b"\0" * chunk
    cli = socket.create_connection(("127.0.0.1", port))
    t0 = time.monotonic()
    deadline = t0 + seconds
    while time.monotonic() < deadline:
        cli.sendall(data)
    cli.shutdown(socket.SHUT_WR)
    th.join(30)
    dt = time.monotonic() - t0
    cli.close()
    srv.close()
    return got[0] / dt


def disk_write_bandwidth(directory, mib=512):
    """Bytes/s of `dd bs=1M count=MIB conv=fdatasync` into a file in `directory`
    (written through the page cache, timed until fdatasync returns); the file is removed."""
    path = os.path.join(directory, "dd-write-test")
    try:
        t0 = time.monotonic()
        p = subprocess.run(["dd", "if=/dev/zero", f"of={path}", "bs=1M", f"count={mib}",
                            "conv=fdatasync"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=300)
        dt = time.monotonic() - t0
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
    err = p.stderr.decode(errors="replace")
    m = re.search(r"(\d+) bytes .* copied, ([\d.]+) s", err)
    if p.returncode != 0 or not m:
        return None
    return int(m.group(1)) / float(m.group(2) or dt)


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def cpu_model():
    m = re.search(r"^model name\s*:\s*(.+)$", _read("/proc/cpuinfo"), re.M)
    return m.group(1).strip() if m else "unknown"


def mem_total_gib():
    m = re.search(r"^MemTotal:\s+(\d+) kB", _read("/proc/meminfo"), re.M)
    return int(m.group(1)) / (1 << 20) if m else 0.0


def filesystem(directory):
    """'ext4 on /dev/vda (mounted at /)' for the filesystem holding directory."""
    p = subprocess.run(["df", "-PT", directory], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    lines = p.stdout.strip().splitlines()
    if len(lines) < 2:
        return "unknown"
    f = lines[-1].split()
    return f"{f[1]} on {f[0]} (mounted at {f[6]})"


def loadavg():
    return " ".join(_read("/proc/loadavg").split()[:3])


def _proc_cpu():
    """{pid: (comm, utime+stime ticks)} for every process."""
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = _read(f"/proc/{d}/stat")
            if ")" in st:
                comm = st[st.index("(") + 1:st.rindex(")")]
                f = st.rsplit(")", 1)[1].split()
                out[int(d)] = (comm, int(f[11]) + int(f[12]))
    return out


def other_load(seconds=2.0, exclude=(), min_share=0.05):
    """Processes other than `exclude` (and this one) that used at least min_share of a
    CPU over the next `seconds`, as ["name 0.85", ...] (CPUs busy), busiest first;
    children of this process are not excluded, so call it while no benchmark runs."""
    tck = os.sysconf("SC_CLK_TCK")
    a = _proc_cpu()
    time.sleep(seconds)
    b = _proc_cpu()
    skip = set(exclude) | {os.getpid()}
    use = []
    for pid, (comm, t) in b.items():
        if pid in skip:
            continue
        share = (t - a.get(pid, (comm, t))[1]) / tck / seconds
        if share >= min_share:
            use.append((share, comm))
    use.sort(reverse=True)
    return [f"{c} {s:.2f}" for s, c in use]


def cpu_busy_fraction(seconds=1.0):
    """Fraction of all CPUs busy (not idle or iowait) over `seconds`, from /proc/stat."""
    def snap():
        f = [int(x) for x in _read("/proc/stat").split("\n", 1)[0].split()[1:]]
        idle = f[3] + (f[4] if len(f) > 4 else 0)
        return sum(f), idle
    t1, i1 = snap()
    time.sleep(seconds)
    t2, i2 = snap()
    return 1.0 - (i2 - i1) / max(1, t2 - t1)
