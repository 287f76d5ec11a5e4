#!/usr/bin/env python3
"""The hostile reviews' attacks on the local server, measured against one or
more binaries side by side (e.g. the release binary before and after a change):

  bodies   N connections each announce a multipart completion body of 2 MiB,
           send 1.94 MiB of it and stall (`--auth none`, the second review):
           the gateway's RSS, and how many attacking connections it holds.
  unauthenticated  the same against `--auth jwt`, sending all but the last
           byte without a token (the first review).
  headers  N connections each send 49 headers of 8,000 bytes and never the
           blank line, half to the gateway, half to its embedded store:
           the process's RSS (both servers live in it).
  slots    N half-sent requests, reopened as the server closes them, on the
           gateway, plus 40 on the metrics port: the latency of a probe
           (a GET answered 307) and of /readyz, each once every 200 ms,
           from another loopback address (127.0.0.2).

    python3 benches/attack.py ATTACK BINARY [BINARY ...]

Bounded: ATTACK_CONNECTIONS (1000) connections for ATTACK_SECONDS (15 s), on
127.0.0.1 only. The file descriptor limit must allow twice N. ATTACK_FLAGS
adds flags to `serve` (e.g. `--max-connections-per-address 0`, to see the
other limits hold with every attacker on one address admitted).
"""

import os
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

CONNECTIONS = int(os.environ.get("ATTACK_CONNECTIONS", "1000"))
SECONDS = int(os.environ.get("ATTACK_SECONDS", "15"))
SECRET = "an attack benchmark secret of 32 bytes or more"
# Probes come from an address of their own, as a load balancer's do (Linux
# answers all of 127.0.0.0/8 on loopback); ATTACK_PROBE_FROM=127.0.0.1 shares the attackers'.
PROBE_FROM = os.environ.get("ATTACK_PROBE_FROM", "127.0.0.2")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def still_open(sock):
    """Whether the server still holds the connection (has not closed it)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return True
        data = sock.recv(65536, socket.MSG_PEEK)
        return bool(data) and b"connection: close" not in data.lower()
    except OSError:
        return False


class Server:
    """`serve` on free ports, with its metrics port; killed on exit."""

    def __init__(self, binary, *flags):
        self.data = tempfile.mkdtemp(prefix="attack-")
        self.process = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
             "--data-dir", self.data, *flags, *os.environ.get("ATTACK_FLAGS", "").split()],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        lines = [self.process.stdout.readline() for _ in range(3)]
        self.port = int(lines[0].strip().rsplit(":", 1)[1])
        metrics = next(line for line in lines if "metrics:" in line)
        self.metrics_port = int(metrics.split("http://127.0.0.1:")[1].split("/")[0])
        time.sleep(0.5)
        self.store_port = urllib.parse.urlsplit(self.location("/a.txt")).port

    def location(self, path):
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            head = sock.recv(65536).decode()
        return next(line.split(" ", 1)[1] for line in head.split("\r\n") if line.lower().startswith("location:"))

    def rss(self):
        return rss_kib(self.process.pid)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.process.kill()
        self.process.wait()


def flood(count, connect):
    """Runs `connect(sockets, lock)` on `count` threads; returns the sockets list."""
    sockets, lock = [], threading.Lock()
    for _ in range(count):
        threading.Thread(target=connect, args=(sockets, lock), daemon=True).start()
    return sockets, lock


def sample(server, sockets, lock, started):
    rows = []
    for mark in range(0, SECONDS + 1, 5):
        while time.monotonic() < started + mark:
            time.sleep(0.05)
        with lock:
            held = sum(still_open(s) for s in list(sockets))
        rows.append((mark, server.rss(), held))
    return rows


def print_rows(before, rows, what):
    print(f"  RSS before the attack: {before / 1024:.1f} MiB")
    print(f"  seconds | RSS MiB | {what}")
    for mark, rss, held in rows:
        print(f"  {mark:7d} | {rss / 1024:7.1f} | {held}")


def bodies(binary, auth):
    flags = ["--auth", "jwt", "--jwt-secret", SECRET] if auth == "jwt" else []
    sent = 2097151 if auth == "jwt" else 2097152 - (60 << 10)
    with Server(binary, *flags) as server:
        def connect(sockets, lock):
            head = (f"POST /x.bin?uploadId=not-a-real-upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Content-Type: application/xml\r\nContent-Length: 2097152\r\n\r\n").encode()
            try:
                sock = socket.create_connection(("127.0.0.1", server.port))
                with lock:
                    sockets.append(sock)
                sock.sendall(head + b"<" * sent)
            except OSError:
                pass  # answered and closed: what a hardened server does
        before = server.rss()
        started = time.monotonic()
        sockets, lock = flood(CONNECTIONS, connect)
        print(f"\n{binary} (--auth {auth})")
        print_rows(before, sample(server, sockets, lock, started), "attacking connections still open")


def headers(binary):
    with Server(binary) as server:
        def connect(sockets, lock, port):
            try:
                sock = socket.create_connection(("127.0.0.1", port))
                with lock:
                    sockets.append(sock)
                sock.sendall(b"GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                for n in range(49):
                    sock.sendall(f"X-Pad-{n}: {'a' * 8000}\r\n".encode())
            except OSError:
                pass
        before = server.rss()
        started = time.monotonic()
        sockets, lock = [], threading.Lock()
        for i in range(CONNECTIONS):
            port = server.port if i % 2 == 0 else server.store_port
            threading.Thread(target=connect, args=(sockets, lock, port), daemon=True).start()
        print(f"\n{binary}")
        print_rows(before, sample(server, sockets, lock, started), "attacking connections still open")


def timed_get(port, path, source):
    began = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0)) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            if not sock.recv(64).startswith(b"HTTP/1.1 "):
                return None
    except OSError:
        return None
    return (time.monotonic() - began) * 1000


def slots(binary):
    with Server(binary) as server:
        stop = threading.Event()

        def half_sent(port):
            while not stop.is_set():
                try:
                    with socket.create_connection(("127.0.0.1", port)) as sock:
                        sock.sendall(b"GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                        sock.recv(1)  # until the server closes it
                except OSError:
                    time.sleep(0.01)

        for i in range(CONNECTIONS + 40):
            port = server.port if i < CONNECTIONS else server.metrics_port
            threading.Thread(target=half_sent, args=(port,), daemon=True).start()
        time.sleep(2)
        probes, ready = [], []
        ended = time.monotonic() + SECONDS
        while time.monotonic() < ended:
            probes.append(timed_get(server.port, "/a.txt", PROBE_FROM))
            ready.append(timed_get(server.metrics_port, "/readyz", PROBE_FROM))
            time.sleep(0.2)
        stop.set()
        print(f"\n{binary}")
        for name, times in (("probe GET (307)", probes), ("/readyz", ready)):
            answered = sorted(t for t in times if t is not None)
            failed = len(times) - len(answered)
            if answered:
                p50 = statistics.median(answered)
                p99 = answered[min(len(answered) - 1, int(len(answered) * 0.99))]
                print(f"  {name}: {len(answered)} answered, {failed} failed; "
                      f"median {p50:.1f} ms, p99 {p99:.1f} ms, max {answered[-1]:.1f} ms")
            else:
                print(f"  {name}: none of {len(times)} answered")


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("bodies", "unauthenticated", "headers", "slots"):
        sys.exit(__doc__)
    attack, binaries = sys.argv[1], sys.argv[2:]
    for binary in binaries:
        if attack in ("bodies", "unauthenticated"):
            bodies(binary, "none" if attack == "bodies" else "jwt")
        elif attack == "headers":
            headers(binary)
        else:
            slots(binary)
