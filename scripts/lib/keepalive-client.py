#!/usr/bin/python3
"""One HTTP/1.1 keep-alive connection, driven line by line (for tests and demos of draining).

    keepalive-client.py HOST [PORT]

Reads commands on stdin: "get" sends a request on the same connection and prints the answer's first
line (the RS name in the lab), or "ERROR <why>"; "close" closes the connection and exits. Prints
"ready" once connected. Standard library only.
"""
import http.client
import sys


def main() -> int:
    host = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 80
    conn = http.client.HTTPConnection(host, port, timeout=5)
    conn.connect()
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "get":
            try:
                conn.request("GET", "/")
                body = conn.getresponse().read().decode(errors="replace")
                print(body.splitlines()[0] if body else "ERROR empty", flush=True)
            except OSError as e:  # a reset or timeout: the connection did not survive
                print(f"ERROR {e}", flush=True)
        elif cmd == "close":
            conn.close()
            print("closed", flush=True)
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
