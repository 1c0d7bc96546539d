"""Children of fork()/multiprocessing and threads never share bytes with each other or the parent."""

from __future__ import annotations

import multiprocessing
import os
import threading

import pytest

import rngpool
from rngpool import secrets

CHUNKS = 100  # 16-byte tokens per party


def draw(client=None):
    source = client.token_bytes if client else secrets.token_bytes
    return [source(16) for _ in range(CHUNKS)]


def fork_children(count, client):
    readers = []
    for _ in range(count):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: draw, report, and leave without running pytest's cleanup
            try:
                os.close(read_end)
                os.write(write_end, b"".join(draw(client)))
            finally:
                os._exit(0)
        os.close(write_end)
        readers.append((pid, read_end))
    tokens = []
    for pid, read_end in readers:
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        assert os.waitpid(pid, 0)[1] == 0
        assert len(data) == 16 * CHUNKS, "a child could not draw its bytes"
        tokens += [data[i:i + 16] for i in range(0, len(data), 16)]
    return tokens


@pytest.mark.parametrize("shared", [False, True], ids=["secrets", "client"])
def test_fork_children_and_parent_draw_distinct_bytes(daemon, shared):
    client = rngpool.Client(daemon.socket) if shared else None
    before = draw(client)  # the parent's connection is open before the fork
    children = fork_children(4, client)
    after = draw(client)
    everything = before + children + after
    assert len(set(everything)) == len(everything)


def _multiprocessing_draw(_):
    return b"".join(draw())


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_multiprocessing_children_draw_distinct_bytes(daemon, method):
    parent = draw()
    with multiprocessing.get_context(method).Pool(3) as pool:
        results = pool.map(_multiprocessing_draw, range(6))
    tokens = parent + [r[i:i + 16] for r in results for i in range(0, len(r), 16)]
    assert len(tokens) == 7 * CHUNKS and len(set(tokens)) == len(tokens)


def test_threads_sharing_one_client_draw_distinct_bytes(daemon):
    client = rngpool.Client(daemon.socket)
    generator = client.SystemRandom()
    results, failures = [], []

    def work():
        try:
            mine = draw(client) + draw() + [generator.randbytes(16) for _ in range(CHUNKS)]
            mine += [client.randbits(128).to_bytes(16, "big") for _ in range(CHUNKS)]
            results.append(mine)
        except Exception as error:  # noqa: BLE001 (reported below)
            failures.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    tokens = [t for r in results for t in r]
    assert len(tokens) == 8 * 4 * CHUNKS and len(set(tokens)) == len(tokens)
