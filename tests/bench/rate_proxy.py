#!/usr/bin/env python3
"""rate_proxy.py - a loopback TCP proxy in front of a Docker daemon's unix
socket that limits the client-to-daemon direction to a fixed rate (a slow
uplink) and counts the bytes that cross it (the wire bytes of an upload).

    rate_proxy.py --upstream /path/docker.sock --rate 10MB --stats FILE [--port 0]

Prints the port it listens on (127.0.0.1) as its first stdout line, then
serves until SIGTERM. After every connection it rewrites FILE with
{"up": bytes client->daemon, "down": bytes daemon->client, "conns": n},
totals since start. One limiter is shared by all connections: like a link,
two uploads at once share the rate. Idle time earns no burst credit.
"""
import argparse
import json
import os
import signal
import socket
import sys
import threading
import time

CHUNK = 16 << 10  # small reads keep the pacing smooth


class Limiter:
    def __init__(self, rate):
        self.rate = rate
        self.next = time.monotonic()
        self.lock = threading.Lock()

    def take(self, n):
        with self.lock:
            now = time.monotonic()
            self.next = max(self.next, now) + n / self.rate
            wait = self.next - now - n / self.rate
        if wait > 0:
            time.sleep(wait)


class Stats:
    def __init__(self, path):
        self.path = path
        self.up = self.down = self.conns = 0
        self.lock = threading.Lock()
        self.write()

    def add(self, up, down):
        with self.lock:
            self.up += up
            self.down += down
        self.write()

    def opened(self):
        with self.lock:
            self.conns += 1

    def write(self):
        with self.lock:
            data = json.dumps({"up": self.up, "down": self.down, "conns": self.conns})
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(data + "\n")
        os.replace(tmp, self.path)


def pump(src, dst, limiter, counter):
    try:
        while True:
            d = src.recv(CHUNK)
            if not d:
                break
            if limiter:
                limiter.take(len(d))
            dst.sendall(d)
            counter[0] += len(d)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def serve(client, upstream, limiter, stats):
    u = socket.socket(socket.AF_UNIX)
    try:
        u.connect(upstream)
    except OSError:
        client.close()
        return
    stats.opened()
    up, down = [0], [0]
    t = threading.Thread(target=pump, args=(u, client, None, down), daemon=True)
    t.start()
    pump(client, u, limiter, up)
    t.join()
    client.close()
    u.close()
    stats.add(up[0], down[0])


def parse_rate(s):
    units = {"": 1, "K": 1000, "KB": 1000, "M": 1000 ** 2, "MB": 1000 ** 2}
    num = s.rstrip("KMB")
    return float(num) * units[s[len(num):]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--rate", required=True, help="bytes per second client->daemon: 10MB, 1MB, 500K")
    ap.add_argument("--stats", required=True)
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    limiter = Limiter(parse_rate(a.rate))
    stats = Stats(a.stats)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", a.port))
    srv.listen(16)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(srv.getsockname()[1], flush=True)
    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c, a.upstream, limiter, stats), daemon=True).start()


if __name__ == "__main__":
    main()
