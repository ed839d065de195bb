"""A real broker for the administrator CLI: the broker app served by uvicorn over HTTP on a free
port of this machine, in a thread of the test process, with its own fresh database."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn

from broker.app import create_app as create_broker
from broker.config import BrokerSettings
from tests.support import settings_kwargs


@pytest.fixture
def broker_url(tmp_path: Path, database_url_factory: Callable[[str], str]) -> Iterator[str]:
    app = create_broker(BrokerSettings(**settings_kwargs(tmp_path / "broker", database_url_factory("broker"))))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the broker did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
