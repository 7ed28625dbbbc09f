"""A real HTTP receiver for webhook tests: ``http.server`` in a thread on 127.0.0.1, keeping
every request it got (headers, body) and answering with ``status`` after ``delay`` seconds."""
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    def __init__(self, port: int | None = None, *, status: int = 200, delay: float = 0.0, headers=None):
        self.port = port or free_port()
        self.status, self.delay, self.extra_headers = status, delay, headers or {}
        self.requests: list[dict] = []
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The response goes out as two writes (headers, body): with Nagle's algorithm on, the
            # second waits for the client's delayed ACK, 40 ms on Linux, as no real server does.
            disable_nagle_algorithm = True

            def setup(self):
                super().setup()
                with receiver.lock:
                    receiver.connections.add(self.connection)

            def finish(self):
                super().finish()
                with receiver.lock:
                    receiver.connections.discard(self.connection)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in
                                                                           self.headers.items()}, "body": body,
                                              "at": time.time()})
                receiver.arrived.set()
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(receiver.status)
                for name, value in receiver.extra_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        # A client that gave up (a read timeout under test) is not an error of the receiver.
        self.server.handle_error = lambda request, client_address: None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        """Down: the listening socket and every kept-alive connection are closed."""
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            for connection in list(self.connections):
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def ids(self) -> list[str]:
        with self.lock:
            return [r["headers"]["webhook-id"] for r in self.requests]
