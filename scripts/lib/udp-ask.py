#!/usr/bin/python3
"""UDP client for the netns lab: ask HOST:PORT who answers.

    udp-ask.py HOST PORT [--count N] [--timeout S] [--bind ADDR] [--sport-base P] [--numbered]

Sends N datagrams (default 1), each from a fresh socket and so a fresh source port (a new
connection for the director's scheduler), and prints each answer's first line, or FAIL when
none came within the timeout (default 2 s). --sport-base P sends request i from port P+i, so no two
requests share a source port (an ephemeral port reused within the UDP timeout is the same connection). --numbered prints "request  1 -> rs1". Exits 1 when
any request failed. Standard library only (run it with Debian's /usr/bin/python3).
"""
import argparse
import socket
import sys


def ask(host: str, port: int, timeout: float, bind: str, sport: int = 0) -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        if bind or sport:
            sock.bind((bind, sport))
        # connect(): only an answer from HOST:PORT counts (an answer from another address is
        # exactly the bug to see: DR/TUN replies must come from the VIP).
        sock.connect((host, port))
        try:
            sock.send(b"who?\n")
            data = sock.recv(65535)
        except OSError:  # timeout, or ICMP unreachable reported as ECONNREFUSED
            return "FAIL"
        return data.decode(errors="replace").splitlines()[0] if data else "FAIL"


def main() -> int:
    ap = argparse.ArgumentParser(description="ask a lab UDP name server who answers")
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--bind", default="", help="source address")
    ap.add_argument("--sport-base", type=int, default=0, help="request i uses source port BASE+i")
    ap.add_argument("--numbered", action="store_true")
    a = ap.parse_args()
    failed = 0
    for i in range(1, a.count + 1):
        answer = ask(a.host, a.port, a.timeout, a.bind, a.sport_base + i if a.sport_base else 0)
        failed += answer == "FAIL"
        print(f"request {i:2d} -> {answer}" if a.numbered else answer, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
