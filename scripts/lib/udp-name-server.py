#!/usr/bin/python3
"""UDP name server for the netns lab's real servers.

    udp-name-server.py NAME PORT

Answers every datagram on UDP PORT (all addresses) with NAME and a newline, e.g. "rs1\\n", so a
client can tell which real server a request reached. The answer leaves from the address the
datagram was sent to (IP_PKTINFO), as a DNS server does: in DR and TUN the request arrives for
the VIP and the reply must come from the VIP, not from the RS's own address. Runs until SIGTERM
or SIGINT. Standard library only (run it with Debian's /usr/bin/python3).
"""
import signal
import socket
import struct
import sys

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # <linux/in.h>; Python 3.11 does not export it
PKTINFO = struct.Struct("=i4s4s")  # struct in_pktinfo { int ifindex; in_addr spec_dst; in_addr addr; }


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: udp-name-server.py NAME PORT", file=sys.stderr)
        return 2
    name, port = sys.argv[1], int(sys.argv[2])
    reply = (name + "\n").encode()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    sock.bind(("0.0.0.0", port))
    print(f"{name}: answering on udp 0.0.0.0:{port}", flush=True)

    while True:
        try:
            _, anc, _, peer = sock.recvmsg(65535, socket.CMSG_SPACE(PKTINFO.size))
        except InterruptedError:
            continue
        dst = None
        for level, kind, data in anc:
            if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(data) >= PKTINFO.size:
                dst = PKTINFO.unpack(data[: PKTINFO.size])[2]
        try:
            if dst is not None:
                # ifindex 0: the kernel routes; spec_dst: the source address of the answer.
                cmsg = [(socket.IPPROTO_IP, IP_PKTINFO, PKTINFO.pack(0, dst, b"\0\0\0\0"))]
                sock.sendmsg([reply], cmsg, 0, peer)
            else:
                sock.sendto(reply, peer)
        except OSError as e:  # no route back, buffer full ...: keep serving
            print(f"{name}: cannot answer {peer[0]}:{peer[1]}: {e}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
