#!/usr/bin/python3
"""A deliberately slow HTTP server for the lab: answers NAME after DELAY seconds.

    slow-http.py NAME PORT DELAY

Threaded, so slow requests pile up as established connections, as a busy real server's do.
"""
import http.server
import socketserver
import sys
import time

NAME, PORT, DELAY = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        time.sleep(DELAY)
        body = f"{NAME}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


Server(("0.0.0.0", PORT), Handler).serve_forever()
