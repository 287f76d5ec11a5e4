#!/usr/bin/env python3
"""The hostile review's memory attack, measured: N unauthenticated
connections each announce a multipart completion body of 2 MiB - 1 bytes
and send all of it but the last byte, so a server that reads bodies before
authenticating holds every one of them. Reports the gateway's RSS and how
many attacking connections it still holds open over time.

    python3 benches/attack.py BINARY [BINARY ...]   # e.g. the release binary before and after a change

Bounded: 100 connections (ATTACK_CONNECTIONS), 15 s (ATTACK_SECONDS), on 127.0.0.1 only.
"""

import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time

CONNECTIONS = int(os.environ.get("ATTACK_CONNECTIONS", "100"))
SECONDS = int(os.environ.get("ATTACK_SECONDS", "15"))
BODY = 2 * 1024 * 1024 - 1


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def attack(port, sockets, lock):
    head = (
        f"POST /big.iso?uploadId=abc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/xml\r\n"
        f"Content-Length: {BODY}\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port))
    with lock:
        sockets.append(sock)
    try:
        sock.sendall(head)
        chunk = b"<" * 65536
        sent = 0
        while sent < BODY - 1:
            n = min(len(chunk), BODY - 1 - sent)
            sock.sendall(chunk[:n])
            sent += n
    except OSError:
        pass  # the server answered and closed: what a hardened one does


def still_open(sock):
    """Whether the server still holds the connection (has not closed it)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return True
        data = sock.recv(65536, socket.MSG_PEEK)
        if not data:
            return False
        # An answer arrived: the connection is closed once it says so.
        return b"connection: close" not in data.lower()
    except OSError:
        return False


def run(binary):
    data = tempfile.mkdtemp(prefix="attack-")
    server = subprocess.Popen(
        [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--auth", "jwt",
         "--jwt-secret", "an attack benchmark secret of 32 bytes or more"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = server.stdout.readline().strip().rsplit(" ", 1)[-1]
        port = int(url.rsplit(":", 1)[1])
        time.sleep(0.5)
        before = rss_kib(server.pid)
        sockets, lock = [], threading.Lock()
        threads = [threading.Thread(target=attack, args=(port, sockets, lock), daemon=True) for _ in range(CONNECTIONS)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        rows = []
        for mark in range(0, SECONDS + 1, 5):
            while time.monotonic() < started + mark:
                time.sleep(0.05)
            with lock:
                held = sum(still_open(s) for s in sockets)
            rows.append((mark, rss_kib(server.pid), held))
        print(f"\n{binary}")
        print(f"  RSS before the attack: {before / 1024:.1f} MiB")
        print("  seconds | RSS MiB | attacking connections still open")
        for mark, rss, held in rows:
            print(f"  {mark:7d} | {rss / 1024:7.1f} | {held}")
        for sock in sockets:
            sock.close()
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for binary in sys.argv[1:]:
        run(binary)
