"""A real uvicorn server over a real store, in a background thread, on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import uvicorn

from evidencegraph.server import Settings, create_app
from evidencegraph.stores import open_store


@contextmanager
def live_server(store_path: Path, settings: Settings) -> Iterator[str]:
    """Serve the store at ``store_path``; yield the root URL (``http://127.0.0.1:PORT``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    store = open_store(store_path, read_only=not settings.allow_update)
    server = None
    thread = None
    app = None
    try:
        app = create_app(store, settings)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", access_log=False)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(15)
        if app is not None:
            app.state.context.shutdown()  # the query worker processes
        sock.close()
        store.close()
