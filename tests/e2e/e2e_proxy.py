"""A TCP proxy on loopback whose endpoint can disappear and come back on the same port.

`cut` closes the listening socket and every open connection: a client then gets
"connection refused", exactly as when a node goes down. `restore` listens on the same
port again. The node behind it keeps running, so the chain goes on without the client.
"""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.e2e.e2e_stack import wait_for


class TcpProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._generation = 0
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def restore(self) -> TcpProxy:
        """(Re)open the endpoint."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.05)
        with self._lock:
            self._listener = listener
            self._generation += 1
            generation = self._generation
        threading.Thread(target=self._accept, args=(listener, generation), daemon=True).start()
        return self

    def cut(self) -> None:
        """Close the endpoint and drop every connection through it."""
        with self._lock:
            listener, self._listener = self._listener, None
            self._generation += 1
            sockets, self._sockets = self._sockets, set()
        if listener is not None:
            listener.close()
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        wait_for("the endpoint to refuse connections", self._refused, 5, 0.01)

    def _refused(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
        except ConnectionRefusedError:
            return True
        return False

    def _live(self, generation: int) -> bool:
        with self._lock:
            return generation == self._generation

    def _accept(self, listener: socket.socket, generation: int) -> None:
        while self._live(generation):
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                if generation != self._generation:  # cut while accepting
                    client.close()
                    upstream.close()
                    return
                self._sockets.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.cut()
