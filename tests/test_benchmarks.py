"""The benchmarks' own arithmetic and meters (they run outside the suite: docs/caches.md)."""

from __future__ import annotations

import socket
import socketserver
import threading

import pytest

from benchmarks import timeline
from benchmarks.index_meter import IndexMeter
from benchmarks.pipeline_cache import Prices

MB = 1_000_000
PRICES = Prices(cache_mbps=100, index_mbps=50, local_mbps=500)


@pytest.mark.fast
def test_a_jobs_floor_fetches_only_what_its_cache_sides_last_pipeline_did_not_need():
    sizes = {("numpy", "2.3.0"): 20 * MB, ("certifi", "2024.8.30"): MB, ("certifi", "2025.1.31"): 2 * MB}
    before = {("numpy", "2.3.0"), ("certifi", "2024.8.30")}
    needed = {("numpy", "2.3.0"), ("certifi", "2025.1.31")}
    fetched, ready = timeline.floor(needed, before, sizes, PRICES)
    assert fetched == 2 * MB  # the bumped certifi; numpy is restored
    assert ready == pytest.approx(2 / 50 + 20 / 100)
    assert timeline.floor(needed, needed, sizes, PRICES)[0] == 0  # nothing changed: nothing fetched
    assert timeline.floor(needed, set(), sizes, PRICES)[0] == 22 * MB  # a first pipeline fetches all


@pytest.mark.fast
def test_a_jobs_downloads_are_priced_at_the_stated_index_bandwidth():
    # 1 s measured, of which 50 MB came at this machine's 500 MB/s (0.1 s): 0.9 s of work, then
    # the 50 MB at the stated 50 MB/s.
    assert PRICES.priced(1.0, 50 * MB) == pytest.approx(0.9 + 1.0)
    assert PRICES.priced(0.2, 0) == pytest.approx(0.2)
    assert PRICES.restore(100 * MB, 0.5) == pytest.approx(1.5)


@pytest.mark.fast
def test_the_months_totals_set_what_was_fetched_against_the_floor():
    def record(fetched: int, floor: int) -> timeline.JobRecord:
        return timeline.JobRecord("e", "main", "test", fetched, 1, 0.1, 0, 0, 1.0, floor, 0.5)

    totals = timeline.totals([record(3 * MB, 2 * MB), record(0, 0), record(MB, 2 * MB)])
    assert totals["fetched_mb"] == 4
    assert totals["floor_mb"] == 4
    assert totals["fetched_over_floor"] == 1
    assert totals["ready_s"] == 3
    assert totals["floor_ready_s"] == 1.5


@pytest.mark.fast
def test_the_months_ready_time_is_priced_again_at_another_index_bandwidth():
    records = [timeline.JobRecord("e", "main", "test", 50 * MB, 1, 0.1, 0, 0, 2.0, 10 * MB, 0.5)]
    ready, floor = timeline.ready_at(records, 50, 10)
    assert ready == pytest.approx(2.0 - 1.0 + 5.0)  # 50 MB: 1 s at 50 MB/s, 5 s at 10 MB/s
    assert floor == pytest.approx(0.5 - 0.2 + 1.0)
    assert timeline.ready_at(records, 50, 50) == pytest.approx((2.0, 0.5))


@pytest.mark.fast
def test_the_month_has_every_kind_of_change_each_merged_to_main_and_a_tag():
    changes = [event.change for event in timeline.MONTH if event.change]
    assert set(changes) == set(timeline.CHANGES)
    assert {"bump", "security fix", "new dependency"} <= set(changes)
    for index, event in enumerate(timeline.MONTH):
        if event.change:  # made on a branch, then main's pipeline runs the merge
            assert event.ref == "branch"
            assert timeline.MONTH[index + 1].ref == "main"
    assert timeline.MONTH[-1].ref == "tag"
    assert timeline.MONTH[-1].protected
    assert not timeline.Event("x", "branch").protected


@pytest.mark.fast
def test_the_index_meter_counts_what_the_server_sent_through_the_tunnel():
    payload = b"w" * 300_000

    class Server(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.recv(16)
            self.request.sendall(payload)

    with socketserver.TCPServer(("127.0.0.1", 0), Server) as server, IndexMeter() as meter:
        threading.Thread(target=server.handle_request, daemon=True).start()
        port, proxy = server.server_address[1], int(meter.url.rsplit(":", 1)[1])
        with meter.counting() as counted, socket.create_connection(("127.0.0.1", proxy)) as s:
            s.sendall(f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            assert s.recv(64).startswith(b"HTTP/1.1 200")
            s.sendall(b"GET /wheel")
            received = b""
            while len(received) < len(payload):
                received += s.recv(65536)
        assert received == payload
    assert counted == [len(payload)]
