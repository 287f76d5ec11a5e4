"""Browser uploads against curl (issue 19): the gateway's page uploading one
file through its file input, and curl's single presigned PUT of the same
file (`curl -T`), taking turns (curl, page, curl, page...) so both see the
same load, on loopback and through a proxy throttled to 1 Gbit/s in front of
the embedded store, in headless Chromium and Firefox ESR. Run by hand
through benches/browser.sh, never in CI; every server binds 127.0.0.1.

    python benches/browser.py --bin BIN [--size-mib 200] [--rounds 5]
        [--engines chromium,firefox] [--links loopback,throttled] [--rate-mbit 1000]
        [--experiments all|none|NAME,...] [--experiment-rounds 3] [--json FILE]

Per upload it reads, besides the time: the page's resource timeline (each
part's PUT, the presign calls, the start and the completion), and the CPU
time of every process involved (the browser's by process type and thread,
the gateway with its embedded store, the proxy, curl) from /proc. The
experiments load a copy of the module (`/?module`, its constants rewritten)
in a small page on another origin, to vary the part size, the parts in
flight and the progress reporting, beside the module as shipped.

    python benches/browser.py proxy LISTEN_PORT TARGET_HOST:PORT RATE_BITS

is the throttling proxy alone (the benchmark starts it as its own process):
a token bucket per direction shared by all connections, bytes moved by
splice(2), so the proxy costs little CPU at 1 Gbit/s.
"""

import argparse
import fcntl
import http.server
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

MiB = 1 << 20
CLK_TCK = os.sysconf("SC_CLK_TCK")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
FIREFOX = os.environ.get("FIREFOX", "/usr/bin/firefox-esr")
GECKODRIVER = os.environ.get("GECKODRIVER") or shutil.which("geckodriver") or \
    "/var/tmp/presign-gateway-target/tools/bin/geckodriver"
# Give-up bound for one upload, not an assertion about speed.
PATIENCE = 600

# The module variants the experiments load (name: constants rewritten, page options).
EXPERIMENTS = {
    "module as shipped": {},
    "parts 16 MiB": {"part": 16},
    "parts 32 MiB": {"part": 32},
    "2 at a time": {"parallel": 2},
    "6 at a time": {"parallel": 6},
    "parts 16 MiB, 6 at a time": {"part": 16, "parallel": 6},
    "no onProgress": {"progress": False},
    "one PUT of the whole file": {"single": 1 << 20},
    # The same single PUT with a Blob (a slice of the whole file) as its body, as parts are.
    "one PUT of a Blob slice of the file": {"single": 1 << 20, "slice": 1},
    "read the file only (no upload)": {"read": True},
}


# ---------------------------------------------------------------- the proxy

class Bucket:
    """A token bucket: `take(n)` waits until n bytes may pass at `rate` bytes/s."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self.tokens, self.last = float(burst), time.monotonic()
        self.lock = threading.Lock()

    def take(self, n: int) -> None:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now
            self.tokens -= n  # a debt is the wait of this sender and of those after it
            wait = -self.tokens / self.rate if self.tokens < 0 else 0.0
        if wait > 0:
            time.sleep(wait)


def pump(source: socket.socket, target: socket.socket, bucket) -> None:
    """Moves bytes one way until the source closes, through a pipe (no copy to user space)."""
    chunk = 256 << 10
    read_end, write_end = os.pipe()
    try:
        fcntl.fcntl(write_end, 1031, chunk)  # F_SETPIPE_SZ
    except OSError:
        pass
    try:
        while True:
            n = os.splice(source.fileno(), write_end, chunk)
            if n == 0:
                break
            if bucket:
                bucket.take(n)
            while n:
                n -= os.splice(read_end, target.fileno(), n)
    except OSError:
        pass
    finally:
        os.close(read_end)
        os.close(write_end)
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def run_proxy(port: int, target: str, rate_bits: float) -> None:
    host, target_port = target.rsplit(":", 1)
    # A link of `rate_bits` each way (full duplex); 0 means no limit. The
    # bucket holds 8 ms of the rate (1 MB at 1 Gbit/s): a proxy thread that
    # the scheduler keeps off a busy core for a few ms catches up instead of
    # losing that time (with 1 ms, a busy machine got 108 MiB/s of 119.2).
    # An idle link saves up no more than those 8 ms.
    buckets = [Bucket(rate_bits / 8, int(rate_bits / 8 * 0.008)) if rate_bits else None for _ in range(2)]
    listener = socket.create_server(("127.0.0.1", port), backlog=128)
    print(f"proxy listening on 127.0.0.1:{listener.getsockname()[1]}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        client, _ = listener.accept()
        try:
            upstream = socket.create_connection((host, int(target_port)))
        except OSError:
            client.close()
            continue
        for s in (client, upstream):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def both(c=client, u=upstream):
            there = threading.Thread(target=pump, args=(c, u, buckets[0]), daemon=True)
            there.start()
            pump(u, c, buckets[1])
            there.join()
            c.close()
            u.close()
        threading.Thread(target=both, daemon=True).start()


# ------------------------------------------------------- processes and CPU

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_map() -> dict:
    kids = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    text = f.read()
                ppid = int(text[text.rfind(")") + 2:].split()[1])
                kids.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return kids


def tree(pid: int) -> list:
    kids, found, todo = children_map(), [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(kids.get(p, []))
    return found


def kind_of(pid: int) -> str:
    """Chromium's `--type` (the network service by name), Firefox's content process type, or the process name."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().decode(errors="replace").split("\0")
        with open(f"/proc/{pid}/comm") as f:
            comm = f.read().strip()
    except OSError:
        return "gone"
    joined = " ".join(args)
    if "chrom" in joined and "--type=" not in joined:
        return "chromium browser" if "chromedriver" not in joined else "chromedriver"
    if "--type=" in joined:
        kind = re.search(r"--type=(\S+)", joined).group(1)
        sub = re.search(r"--utility-sub-type=(\S+)", joined)
        if sub:
            kind = sub.group(1).split(".")[-1]  # NetworkService, StorageService...
        return f"chromium {kind}"
    if "-contentproc" in joined:  # its arguments rewritten as one string, the process type last
        return f"firefox {joined.split()[-1]}"
    if "firefox" in joined:
        return "firefox parent"
    return comm


def process_ticks(pid: int):
    """User + system CPU ticks of a process, its ended threads included; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


def thread_ticks(pids: list, label=None) -> dict:
    """{(pid, tid): (process kind, thread name, CPU ticks)} for every thread of `pids`."""
    found = {}
    for pid in pids:
        kind = label or kind_of(pid)
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    text = f.read()
            except OSError:
                continue
            name = text[text.find("(") + 1:text.rfind(")")]
            fields = text[text.rfind(")") + 2:].split()
            found[(pid, int(tid))] = (kind, re.sub(r"[0-9]+$", "", name).rstrip("#-_ "),
                                      int(fields[11]) + int(fields[12]))
    return found


class Cpu:
    """CPU time of groups of processes between `start()` and `stop()`: per group and browser process
    kind from each process's own total (which keeps the time of threads that ended, such as the
    proxy's for a closed connection), and per thread name for the threads alive at the end."""

    def __init__(self, groups: dict):
        self.groups = groups  # name -> callable returning root pids

    def snapshot(self) -> tuple:
        processes, threads = {}, {}
        for group, roots in self.groups.items():
            pids = [p for root in roots() for p in tree(root)]
            label = None if group == "browser" else group
            for pid in pids:
                ticks = process_ticks(pid)
                if ticks is not None:
                    processes[pid] = (group, label or kind_of(pid), ticks)
            for key, (kind, thread, ticks) in thread_ticks(pids, label).items():
                threads[key] = (group, kind, thread, ticks)
        return processes, threads

    def start(self):
        self.before = self.snapshot()

    def stop(self) -> dict:
        (processes, threads), (processes_before, threads_before) = self.snapshot(), self.before
        by_group, by_kind, by_thread = {}, {}, {}
        for pid, (group, kind, ticks) in processes.items():
            used = (ticks - processes_before[pid][2] if pid in processes_before else ticks) / CLK_TCK
            by_group[group] = by_group.get(group, 0) + used
            if group == "browser":
                by_kind[kind] = by_kind.get(kind, 0) + used
        for key, (group, kind, thread, ticks) in threads.items():
            used = (ticks - threads_before[key][3] if key in threads_before else ticks) / CLK_TCK
            if used > 0:
                name = f"{kind}: {thread}"
                by_thread[name] = by_thread.get(name, 0) + used
        return {"groups": by_group, "browser_kinds": by_kind, "threads": by_thread}


# ---------------------------------------------------------------- services

class Services:
    """The release gateway on the embedded store, behind the throttling proxy or not."""

    def __init__(self, binary: str, scratch: str, rate_bits: float, harness_origin: str):
        self.scratch = scratch
        self.data = tempfile.mkdtemp(dir=scratch, prefix="data.")
        self.proxy = None
        args = [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data,
                "--allowed-origins", harness_origin]
        if rate_bits is not None:
            store_port = free_port()
            self.store = f"127.0.0.1:{store_port}"
            self.proxy = subprocess.Popen([sys.executable, __file__, "proxy", "0", f"127.0.0.1:{store_port}",
                                           str(rate_bits)], stdout=subprocess.PIPE, text=True)
            line = self.proxy.stdout.readline()
            self.proxy_url = "http://" + line.split(" on ")[1].strip()
            args += ["--store-listen", f"127.0.0.1:{store_port}", "--store-url", self.proxy_url]
        self.log = open(os.path.join(scratch, "gateway.log"), "ab")
        self.gateway = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.gateway.stdout.readline()
        assert "listening on" in line, f"the gateway did not start: {line!r}"
        self.url = line.split(" on ")[1].split()[0].strip()
        # Keep reading the banner so the gateway never blocks on a full pipe.
        threading.Thread(target=self.gateway.stdout.read, daemon=True).start()

    def presign_put(self, key: str, size: int) -> str:
        request = urllib.request.Request(f"{self.url}/{key}?presign=PUT",
                                         headers={"Accept": "application/json", "Upload-Length": str(size)})
        with urllib.request.urlopen(request) as response:
            return json.load(response)["url"]

    def delete(self, key: str) -> None:
        subprocess.run(["curl", "-sS", "--fail", "-L", "-X", "DELETE", "-o", "/dev/null", f"{self.url}/{key}"],
                       check=True)

    def stop(self) -> None:
        for process in (self.gateway, self.proxy):
            if process:
                process.terminate()
                process.wait(timeout=30)
        self.log.close()
        shutil.rmtree(self.data, ignore_errors=True)


# ------------------------------------------------------- the harness page

HARNESS = """<!doctype html>
<html lang="en"><meta charset="utf-8"><title>bench</title>
<input id="files" type="file"><ul id="uploads"></ul>
<script type="module">
// A page on another origin loading a copy of the module with its constants
// rewritten (the query names them), and uploading as the gateway's page does.
const params = new URLSearchParams(location.search);
const { gateway } = await import(`/module.js?${params.get("variant")}`);
const g = gateway(params.get("gateway"));
const reportProgress = params.get("progress") !== "0";
const readOnly = params.get("read") === "1";
const size = (bytes) => `${(bytes / 1048576).toFixed(1)} MiB`;

function row(key) {
  const item = document.createElement("li");
  item.className = "upload";
  item.dataset.key = key;
  item.dataset.state = "sending";
  item.innerHTML = '<progress max="1" value="0"></progress> <span class="words"></span>';
  document.getElementById("uploads").prepend(item);
  return item;
}

async function read(file) {
  // The file's bytes into memory, 8 MiB slice by slice: what a Blob read costs.
  for (let start = 0; start < file.size; start += 8 * 1048576) {
    await file.slice(start, start + 8 * 1048576).arrayBuffer();
  }
}

function upload(file) {
  const key = `${readOnly ? "read" : "harness"}/${file.name}`;
  const item = row(key);
  const bar = item.querySelector("progress");
  const words = item.querySelector(".words");
  const onProgress = ({ sent, total, rate }) => {
    bar.value = total ? sent / total : 1;
    const left = rate > 0 ? ` · about ${Math.ceil((total - sent) / rate)} s left` : "";
    words.textContent = `${size(sent)} of ${size(total)} · ${size(Math.round(rate))}/s${left}`;
  };
  const started = performance.now();
  const work = readOnly ? read(file) : g.upload(file, key, reportProgress ? { onProgress } : {});
  work.then(
    () => {
      item.dataset.ms = Math.round(performance.now() - started);
      item.dataset.state = "done";
    },
    (error) => {
      words.textContent = `Failed: ${error.message}`;
      item.dataset.state = "failed";
    },
  );
}

document.getElementById("files").addEventListener("change", (event) => {
  for (const file of event.target.files) upload(file);
  event.target.value = "";
});
document.body.dataset.ready = "yes";
</script>
</html>
"""


class Harness:
    """Serves the harness page and the module's variants on 127.0.0.1."""

    def __init__(self):
        self.module = None  # the gateway's /?module, read once a gateway runs
        harness = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                path, _, query = self.path.partition("?")
                if path == "/module.js":
                    body, kind = harness.variant(urllib.parse.parse_qs(query)).encode(), "text/javascript"
                else:
                    body, kind = HARNESS.encode(), "text/html; charset=utf-8"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def variant(self, query: dict) -> str:
        text = self.module
        for name, constant in (("part", "PART_SIZE"), ("parallel", "PARALLEL_PARTS"), ("single", "SINGLE_PUT_LIMIT")):
            if name in query:
                value = query[name][0]
                value = f"{value} * MiB" if name != "parallel" else value
                text, count = re.subn(rf"export const {constant} = [^;]+;", f"export const {constant} = {value};",
                                      text)
                assert count == 1, f"the module has no {constant} to rewrite"
        if "slice" in query:
            text, count = re.subn(r"send\(signed, file,", "send(signed, file.slice(0),", text)
            assert count == 1, "the module's single PUT no longer sends `file`"
        return text


# ----------------------------------------------------------------- browsers

def start_browser(engine: str, profile: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as ChromiumService
    from selenium.webdriver.firefox.service import Service as FirefoxService
    if engine == "chromium":
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=1100,900", f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=ChromiumService(CHROMEDRIVER), options=options)
    else:
        options = webdriver.FirefoxOptions()
        options.binary_location = FIREFOX
        os.makedirs(profile, exist_ok=True)
        for flag in ("-headless", "--width=1100", "--height=900", "-profile", profile):
            options.add_argument(flag)
        driver = webdriver.Firefox(service=FirefoxService(GECKODRIVER), options=options)
    driver.set_script_timeout(PATIENCE)
    return driver


# Waits, without polling, until the upload row of `key` leaves "sending";
# returns its outcome and the page's resource timeline (URLs reduced to
# their kind: presigned URLs are bearer credentials and are never printed).
AWAIT_UPLOAD = """
const [key, done] = [arguments[0], arguments[arguments.length - 1]];
const uploads = document.getElementById("uploads");
const settled = () => [...uploads.querySelectorAll("li.upload")]
  .find((row) => row.dataset.key === key && row.dataset.state !== "sending");
const finish = (row) => {
  observer.disconnect();
  const entries = performance.getEntriesByType("resource").map((e) => {
    const url = new URL(e.name);
    const q = url.searchParams;
    const storage = q.has("X-Amz-Signature");
    let kind = "other";
    if (storage && q.has("partNumber")) kind = "part";
    else if (storage) kind = "put";
    else if (q.has("presign")) kind = "presign";
    else if (q.has("uploads")) kind = "create";
    else if (q.has("uploadId") && e.initiatorType === "fetch") kind = "complete";
    return { kind, part: Number(q.get("partNumber")) || 0, start: e.startTime, end: e.responseEnd };
  });
  done({ state: row.dataset.state, ms: Number(row.dataset.ms), words: row.querySelector(".words").textContent,
         entries });
};
const observer = new MutationObserver(() => { const row = settled(); if (row) finish(row); });
observer.observe(uploads, { attributes: true, attributeFilter: ["data-state"], subtree: true });
const already = settled();
if (already) finish(already);
"""


def timeline(entries: list, size: int) -> dict:
    """What the resource timeline says of one upload: parts, their times, the calls around them."""
    parts = [e for e in entries if e["kind"] in ("part", "put")]
    presigns = [e for e in entries if e["kind"] == "presign"]
    out = {"parts": len(parts)}
    if not parts:
        return out
    durations = [e["end"] - e["start"] for e in parts]
    first, last = min(e["start"] for e in parts), max(e["end"] for e in parts)
    out.update(
        part_ms_median=statistics.median(durations),
        part_ms_max=max(durations),
        in_flight=sum(durations) / (last - first) if last > first else 1.0,
        parts_span_ms=last - first,
        presign_ms_median=statistics.median(e["end"] - e["start"] for e in presigns) if presigns else 0.0,
        presign_ms_total=sum(e["end"] - e["start"] for e in presigns),
    )
    creates = [e for e in entries if e["kind"] == "create"]
    completes = [e for e in entries if e["kind"] == "complete"]
    if creates:
        out["create_ms"] = creates[0]["end"] - creates[0]["start"]
        out["before_first_part_ms"] = first - creates[0]["start"]
    if completes:
        out["complete_ms"] = completes[-1]["end"] - completes[-1]["start"]
        out["after_last_part_ms"] = completes[-1]["end"] - last
    # Per part, its own rate while it ran.
    rates = [(size / len(parts)) / MiB / ((e["end"] - e["start"]) / 1000) for e in parts if e["end"] > e["start"]]
    out["part_mib_s_median"] = statistics.median(rates) if rates else 0.0
    return out


# ---------------------------------------------------------------- the runs

class Bench:
    def __init__(self, args):
        self.args = args
        self.scratch = tempfile.mkdtemp(prefix="presign-browser-bench.")
        self.size = args.size_mib * MiB
        self.source = os.path.join(self.scratch, "source.bin")
        with open(self.source, "wb") as f:
            for start in range(0, self.size, 4 * MiB):
                f.write(os.urandom(min(4 * MiB, self.size - start)))
        self.harness = Harness()
        self.results = []
        self.serial = 0

    def named(self, label: str) -> str:
        """A hard link to the source under a fresh name: each upload gets its own key, no copy."""
        self.serial += 1
        path = os.path.join(self.scratch, f"{label}-{self.serial}.bin")
        os.link(self.source, path)
        return path

    def record(self, **fields):
        self.results.append(fields)
        cpu = fields.get("cpu", {}).get("groups", {})
        cpus = " ".join(f"{k} {v:.2f}" for k, v in sorted(cpu.items()))
        print(f"  {fields['link']:9} {fields['engine']:8} {fields['client']:34} {fields['seconds']:7.2f} s "
              f"{self.size / MiB / fields['seconds']:7.1f} MiB/s   CPU s: {cpus}", flush=True)

    def curl(self, services, cpu, link, engine, round_, phase):
        key = f"bench/curl-{self.serial}.bin"
        self.serial += 1
        url = services.presign_put(key, self.size)
        cpu.start()
        process = subprocess.Popen(["curl", "-sS", "--fail", "-T", self.source, "-o", "/dev/null",
                                    "-w", "%{time_total} %{time_pretransfer} %{time_starttransfer}", url],
                                   stdout=subprocess.PIPE, text=True)
        out = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        used = cpu.stop()
        assert os.waitstatus_to_exitcode(status) == 0, "curl failed"
        total, pretransfer, starttransfer = (float(x) for x in out.split())
        used["groups"]["curl"] = usage.ru_utime + usage.ru_stime
        services.delete(key)
        self.record(link=link, engine=engine, client="curl -T (one presigned PUT)", round=round_, phase=phase,
                    seconds=total, pretransfer=pretransfer, starttransfer=starttransfer, cpu=used)

    def cli(self, services, cpu, link, engine, round_):
        key = f"bench/cli-{self.serial}.bin"
        self.serial += 1
        cpu.start()
        t0 = time.monotonic()
        process = subprocess.Popen([self.args.bin, "upload", self.source, f"{services.url}/{key}"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        process.stderr.read()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - t0
        used = cpu.stop()
        assert os.waitstatus_to_exitcode(status) == 0, "the CLI failed"
        used["groups"]["cli"] = usage.ru_utime + usage.ru_stime
        services.delete(key)
        self.record(link=link, engine=engine, client="CLI upload (16 MiB parts, 4 at once)", round=round_,
                    phase="experiments", seconds=seconds, cpu=used)

    def browser_upload(self, driver, services, cpu, link, engine, round_, phase, client, folder):
        from selenium.webdriver.common.by import By
        path = self.named(engine)
        key = f"{folder}{os.path.basename(path)}"
        driver.execute_script("performance.clearResourceTimings(); performance.setResourceTimingBufferSize(10000);")
        cpu.start()
        driver.find_element(By.ID, "files").send_keys(path)
        outcome = driver.execute_async_script(AWAIT_UPLOAD, key)
        used = cpu.stop()
        os.unlink(path)
        assert outcome["state"] == "done", f"{client}: {outcome['words']}"
        if not key.startswith("read/"):
            services.delete(key)
        self.record(link=link, engine=engine, client=client, round=round_, phase=phase, seconds=outcome["ms"] / 1000,
                    timeline=timeline(outcome["entries"], self.size), cpu=used)

    def run_link(self, link: str):
        rate = None if link == "loopback" else self.args.rate_mbit * 1e6
        services = Services(self.args.bin, self.scratch, rate, self.harness.origin)
        if services.proxy:
            print(f"== {link}: {self.args.rate_mbit:g} Mbit/s is {self.args.rate_mbit * 1e6 / 8 / MiB:.1f} MiB/s: "
                  f"{self.args.size_mib} MiB need {self.size * 8 / (self.args.rate_mbit * 1e6):.2f} s on the wire",
                  flush=True)
        if self.harness.module is None:
            with urllib.request.urlopen(f"{services.url}/?module") as response:
                self.harness.module = response.read().decode()
        try:
            if services.proxy:
                self.proxy_ceiling(services)
            for engine in self.args.engines:
                profile = tempfile.mkdtemp(dir=self.scratch, prefix=f"{engine}.")
                driver = start_browser(engine, profile)
                groups = {"browser": lambda d=driver: [d.service.process.pid],
                          "gateway+store": lambda: [services.gateway.pid]}
                if services.proxy:
                    groups["proxy"] = lambda: [services.proxy.pid]
                cpu = Cpu(groups)
                try:
                    driver.get(f"{services.url}/bench/")
                    time.sleep(2)  # the page settles (its listing, the browser's start-up work)
                    print(f"== {link}, {engine}: curl and the page taking turns, {self.args.rounds} rounds", flush=True)
                    for round_ in range(1, self.args.rounds + 1):
                        self.curl(services, cpu, link, engine, round_, "main")
                        self.browser_upload(driver, services, cpu, link, engine, round_, "main", "the page", "bench/")
                    if self.args.experiments:
                        self.experiments(driver, services, cpu, link, engine)
                finally:
                    driver.quit()
                    shutil.rmtree(profile, ignore_errors=True)
        finally:
            services.stop()

    def experiments(self, driver, services, cpu, link, engine):
        names = self.args.experiments
        print(f"== {link}, {engine}: module variants on another origin, curl before each round", flush=True)
        for round_ in range(1, self.args.experiment_rounds + 1):
            self.curl(services, cpu, link, engine, round_, "experiments")
            if engine == self.args.engines[0]:
                self.cli(services, cpu, link, engine, round_)
            shift = (round_ - 1) % len(names)
            for name in names[shift:] + names[:shift]:  # each round starts with another variant
                options = EXPERIMENTS[name]
                variant = urllib.parse.urlencode({k: v for k, v in options.items() if k in ("part", "parallel",
                                                                                          "single", "slice")})
                query = urllib.parse.urlencode({"variant": variant, "gateway": services.url,
                                                "progress": "0" if options.get("progress") is False else "1",
                                                "read": "1" if options.get("read") else "0"})
                driver.get(f"{self.harness.origin}/?{query}")
                from selenium.webdriver.support.ui import WebDriverWait
                WebDriverWait(driver, 30).until(
                    lambda d: d.execute_script("return document.body.dataset.ready") == "yes")
                folder = "read/" if options.get("read") else "harness/"
                self.browser_upload(driver, services, cpu, link, engine, round_, "experiments", f"variant: {name}",
                                    folder)

    def proxy_ceiling(self, services):
        """curl through an unthrottled proxy of the same kind: the proxy's own ceiling."""
        port = free_port()
        proxy = subprocess.Popen([sys.executable, __file__, "proxy", str(port), services.store, "0"],
                                 stdout=subprocess.PIPE, text=True)
        proxy.stdout.readline()
        try:
            # The signature holds the host it was made for; send to the other port with that Host.
            key = "bench/ceiling.bin"
            url = services.presign_put(key, self.size)
            host = urllib.parse.urlsplit(url).netloc
            for _ in range(2):
                out = subprocess.run(["curl", "-sS", "--fail", "-T", self.source, "-o", "/dev/null", "-w",
                                      "%{time_total}", "--connect-to", f"{host.split(':')[0]}:{host.split(':')[1]}:"
                                      f"127.0.0.1:{port}", url], capture_output=True, text=True, check=True)
                seconds = float(out.stdout)
                print(f"  proxy ceiling: curl through the same proxy, unthrottled: "
                      f"{seconds:.2f} s, {self.size / MiB / seconds:.1f} MiB/s", flush=True)
                self.results.append({"link": "throttled", "engine": "-", "client": "proxy ceiling",
                                     "seconds": seconds})
            services.delete(key)
        finally:
            proxy.terminate()
            proxy.wait()
        seconds = self.throttle_alone()
        print(f"  the throttle alone: the file through a throttled proxy into a socket that discards it: "
              f"{seconds:.2f} s, {self.size / MiB / seconds:.1f} MiB/s", flush=True)
        self.results.append({"link": "throttled", "engine": "-", "client": "throttle alone", "seconds": seconds})

    def throttle_alone(self) -> float:
        """The file sent (sendfile) through a proxy like the benchmark's into a sink: the link's own rate."""
        sink = socket.create_server(("127.0.0.1", 0))
        proxy = subprocess.Popen([sys.executable, __file__, "proxy", "0", f"127.0.0.1:{sink.getsockname()[1]}",
                                  str(self.args.rate_mbit * 1e6)], stdout=subprocess.PIPE, text=True)
        port = int(proxy.stdout.readline().rsplit(":", 1)[1])
        received = {}

        def drain():
            connection, _ = sink.accept()
            buffer, total = bytearray(1 << 20), 0
            while n := connection.recv_into(buffer):
                total += n
            received.update(total=total, at=time.monotonic())
            connection.close()
        reader = threading.Thread(target=drain)
        reader.start()
        try:
            with socket.create_connection(("127.0.0.1", port)) as out, open(self.source, "rb") as f:
                started = time.monotonic()
                out.sendfile(f)
                out.shutdown(socket.SHUT_WR)
                reader.join(PATIENCE)
        finally:
            proxy.terminate()
            proxy.wait()
            sink.close()
        assert received.get("total") == self.size, f"the throttle lost bytes: {received}"
        return received["at"] - started

    def close(self):
        self.harness.server.shutdown()
        shutil.rmtree(self.scratch, ignore_errors=True)


# ----------------------------------------------------------------- reports

def down(ratio: float) -> str:
    """A ratio to two decimals, truncated: never rounded up past a goal."""
    return f"{math.floor(ratio * 100) / 100:.2f}"


def report(results: list, size: int) -> None:
    mib = size / MiB
    print()
    print("Each client's median against the median of every curl run of the same link and engine; per round,")
    print("each run against the curl run just before it (the page) or at the start of its round (the rest).")
    print("Ratios are truncated to two decimals, never rounded up.")
    print()
    print("| link | engine | client | runs (s) | median s | MiB/s | throughput / curl's | per round |")
    print("|---|---|---|---|---|---|---|---|")
    blocks = {}
    for r in results:
        if r["engine"] != "-":
            blocks.setdefault((r["link"], r["engine"]), {}).setdefault(r["client"], []).append(r)
    for (link, engine), clients in blocks.items():
        curls = clients["curl -T (one presigned PUT)"]
        curl = statistics.median(r["seconds"] for r in curls)
        beside = {(r["phase"], r["round"]): r["seconds"] for r in curls}
        for client, runs in clients.items():
            times = [r["seconds"] for r in runs]
            median = statistics.median(times)
            ratio = curl / median
            rounds = "" if client.startswith("curl") else ", ".join(
                down(beside[(r["phase"], r["round"])] / r["seconds"]) for r in runs)
            print(f"| {link} | {engine} | {client} | {', '.join(f'{t:.2f}' for t in times)} | {median:.2f} | "
                  f"{mib / median:.1f} | {down(ratio)} | {rounds} |")
    print()
    print("Where the time goes (medians over the runs; CPU in seconds per upload):")
    for (link, engine), clients in blocks.items():
        for client, runs in clients.items():
            cpu = {}
            for r in runs:
                for group, seconds in r["cpu"]["groups"].items():
                    cpu.setdefault(group, []).append(seconds)
            total = statistics.median(sum(r["cpu"]["groups"].values()) for r in runs)
            wall = statistics.median(r["seconds"] for r in runs)
            cpus = ", ".join(f"{g} {statistics.median(v):.2f}" for g, v in sorted(cpu.items()))
            print(f"- {link}, {engine}, {client}: CPU {cpus}; all {total:.2f} s in {wall:.2f} s "
                  f"({total / wall / os.cpu_count() * 100:.0f}% of {os.cpu_count()} cores)")
            kinds = {}
            for r in runs:
                for kind, seconds in r["cpu"].get("browser_kinds", {}).items():
                    kinds.setdefault(kind, []).append(seconds)
            kinds = {k: sum(v) / len(runs) for k, v in kinds.items() if sum(v) / len(runs) >= 0.005}
            if kinds:
                print("    browser processes (means): " + ", ".join(
                    f"{k} {v:.2f}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])))
                threads = {}
                for r in runs:
                    for name, seconds in r["cpu"]["threads"].items():
                        threads[name] = threads.get(name, 0) + seconds / len(runs)
                top = [(n, s) for n, s in sorted(threads.items(), key=lambda kv: -kv[1])[:6] if s >= 0.005]
                print("    busiest threads (means): " + ", ".join(f"{n} {s:.2f}" for n, s in top))
            lines = [r["timeline"] for r in runs if r.get("timeline", {}).get("parts")]
            if lines:
                def med(name):
                    values = [t[name] for t in lines if name in t]
                    return statistics.median(values) if values else float("nan")
                line = (f"    timeline: {lines[0]['parts']} PUTs, each {med('part_ms_median'):.0f} ms "
                        f"(slowest {med('part_ms_max'):.0f} ms, {med('part_mib_s_median'):.1f} MiB/s each), "
                        f"{med('in_flight'):.2f} in flight on average; presign {med('presign_ms_median'):.1f} ms "
                        f"each ({med('presign_ms_total'):.0f} ms in all)")
                if "create_ms" in lines[0]:
                    line += (f"; start to first part {med('before_first_part_ms'):.0f} ms; last part to completed "
                             f"{med('after_last_part_ms'):.0f} ms (completion {med('complete_ms'):.0f} ms)")
                print(line)
            if "starttransfer" in runs[0]:
                sent = statistics.median(r["pretransfer"] for r in runs) * 1000
                print(f"    curl: connected, request sent after {sent:.1f} ms")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "proxy":
        run_proxy(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", required=True, help="the release presign-gateway")
    parser.add_argument("--size-mib", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--engines", default="chromium,firefox")
    parser.add_argument("--links", default="loopback,throttled")
    parser.add_argument("--rate-mbit", type=float, default=1000)
    parser.add_argument("--experiments", default="all", help="all, none, or names from EXPERIMENTS, comma-separated")
    parser.add_argument("--experiment-rounds", type=int, default=3)
    parser.add_argument("--json", help="write every run here")
    args = parser.parse_args()
    args.engines = [e for e in args.engines.split(",") if e]
    for engine in args.engines:
        assert engine in ("chromium", "firefox"), f"unknown engine {engine}"
    if "firefox" in args.engines and not (os.path.exists(FIREFOX) and os.path.exists(GECKODRIVER)):
        print(f"Firefox or geckodriver missing ({FIREFOX}, {GECKODRIVER}): Chromium only", flush=True)
        args.engines.remove("firefox")
    args.experiments = (list(EXPERIMENTS) if args.experiments == "all" else
                        [] if args.experiments == "none" else args.experiments.split(","))
    for name in args.experiments:
        assert name in EXPERIMENTS, f"unknown experiment {name!r}: {list(EXPERIMENTS)}"
    with open("/proc/loadavg") as f:
        print(f"== {time.strftime('%Y-%m-%d %H:%M')}, load average {' '.join(f.read().split()[:3])}, "
              f"{os.cpu_count()} cores, {args.size_mib} MiB", flush=True)
    bench = Bench(args)
    try:
        for link in args.links.split(","):
            bench.run_link(link)
    finally:
        bench.close()
    with open("/proc/loadavg") as f:
        print(f"== load average at the end: {' '.join(f.read().split()[:3])}")
    report(bench.results, bench.size)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(bench.results, f, indent=1)


if __name__ == "__main__":
    main()
