"""``icbmap.download``: the HTTP client, ArcGIS paging, NHS publications, Nomis, the catalogue
and ``download_pack``, all against a local ``ThreadingHTTPServer`` on 127.0.0.1.

Every body served here is small and developer-made (fake codes such as ``E01900001``, fake
names, fake counts) in the *shape* of the real answers (ArcGIS FeatureServer pages with
``resultOffset``/``resultRecordCount``/``exceededTransferLimit``, ArcGIS error bodies, NHS
publication pages, Nomis CSV pages).  No test ever addresses a real external host: the
real catalogue is only used with ``base_url`` pointing at the local server.
"""

from __future__ import annotations

import hashlib
import io
import json
import socket
import threading
import time
import urllib.parse
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from icbmap.download import arcgis, client as dlclient, nhs, nomis, pack, sources
from icbmap.download.client import DownloadError, HttpClient, OfflineError
from icbmap.download.manifest import Manifest
from icbmap.errors import Cancelled, DataError
from icbmap.progress import Progress

OFFLINE_TEXT = "you appear to be offline; icbmap keeps working on the data it has"


# ---------------------------------------------------------------- the local server
class Server:
    """A local HTTP server whose routes are plain functions ``route(req) -> None``.

    ``req`` is the handler with ``.query`` (dict of first values) added; routes answer with
    :func:`send`.  Every request is logged as ``(path, query, headers)``.
    """

    def __init__(self):
        self.routes: dict[str, callable] = {}
        self.log: list[tuple[str, dict, dict]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server API
                parts = urllib.parse.urlsplit(self.path)
                self.query = {k: v[0] for k, v in urllib.parse.parse_qs(parts.query).items()}
                with server.lock:
                    server.log.append((parts.path, self.query, dict(self.headers.items())))
                route = server.routes.get(parts.path)
                if route is None:
                    send(self, 404, b"not found")
                    return
                route(self)

            def log_message(self, *args):
                pass

        class Quiet(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass        # clients that gave up (timeouts, cancels) are expected here

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> list[tuple[str, dict, dict]]:
        return [entry for entry in self.log if entry[0] == path]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def send(req, status: int, body: bytes = b"", headers: dict | None = None, *, length: int | None = None):
    req.send_response(status)
    headers = dict(headers or {})
    headers.setdefault("Content-Type", "application/octet-stream")
    for k, v in headers.items():
        req.send_header(k, v)
    if status != 304:
        req.send_header("Content-Length", str(len(body) if length is None else length))
    req.end_headers()
    if body:
        try:
            req.wfile.write(body)
            req.wfile.flush()
        except OSError:
            pass
    req.close_connection = True


def send_json(req, obj, status: int = 200):
    send(req, status, json.dumps(obj).encode(), {"Content-Type": "application/json"})


def file_route(body: bytes, etag: str = '"v1"', *, truncate_first: bool = False, honour_range: bool = True,
               last_modified: str = "Wed, 01 Jul 2026 00:00:00 GMT"):
    """A static file with ETag, conditional GET and (optionally) Range support.

    ``truncate_first``: the first full answer announces the whole length but sends half and
    closes the connection.
    """
    state = {"n": 0}

    def route(req):
        state["n"] += 1
        hdrs = {"ETag": etag, "Last-Modified": last_modified}
        if req.headers.get("If-None-Match") == etag:
            send(req, 304, b"", hdrs)
            return
        rng = req.headers.get("Range")
        if rng and honour_range:
            start = int(rng.split("=")[1].split("-")[0])
            if_range = req.headers.get("If-Range")
            if if_range in (None, etag, last_modified):
                rest = body[start:]
                send(req, 206, rest, {**hdrs, "Content-Range": f"bytes {start}-{len(body) - 1}/{len(body)}"})
                return
        if truncate_first and state["n"] == 1:
            send(req, 200, body[: len(body) // 2], hdrs, length=len(body))   # cut short, then closed
            return
        send(req, 200, body, hdrs)

    return route


def fast_client(**kw) -> HttpClient:
    opts = {"timeout": 2.0, "retries": 3, "backoff": 0.0, "chunk_size": 4096, "sleep": lambda s: None}
    opts.update(kw)
    return HttpClient(**opts)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


# Developer-made file body: 64 KiB of deterministic bytes (not real data).
BODY = bytes((i * 7 + (i >> 8)) % 251 for i in range(65536))


# ---------------------------------------------------------------- client: retries, timeouts, offline
def test_500_then_success_is_retried(server):
    calls = {"n": 0}

    def route(req):
        calls["n"] += 1
        if calls["n"] == 1:
            send(req, 500, b"busy")
        else:
            send_json(req, {"ok": True})

    server.routes["/api"] = route
    c = fast_client()
    assert c.get_json(server.url("/api")) == {"ok": True}
    assert calls["n"] == 2


def test_429_with_retry_after_is_retried_and_waits(server):
    calls = {"n": 0}
    waits = []

    def route(req):
        calls["n"] += 1
        if calls["n"] == 1:
            send(req, 429, b"slow down", {"Retry-After": "3"})
        else:
            send_json(req, [1, 2])

    server.routes["/api"] = route
    c = fast_client(sleep=waits.append, backoff_max=5.0)
    assert c.get_json(server.url("/api")) == [1, 2]
    assert waits == [3.0]


def test_retries_are_bounded_and_backoff_grows(server):
    server.routes["/api"] = lambda req: send(req, 503, b"down")
    waits = []
    c = fast_client(retries=3, backoff=0.5, backoff_max=1.5, sleep=waits.append)
    with pytest.raises(DownloadError) as err:
        c.get_bytes(server.url("/api"))
    assert len(server.hits("/api")) == 4
    assert waits == [0.5, 1.0, 1.5]
    assert "HTTP 503" in str(err.value) and "gave up after 4 attempts" in str(err.value)


def test_client_error_is_not_retried(server):
    server.routes["/gone"] = lambda req: send(req, 404, b"no")
    with pytest.raises(DownloadError, match="HTTP 404"):
        fast_client().get_bytes(server.url("/gone"))
    assert len(server.hits("/gone")) == 1


def test_timeout_then_success(server):
    calls = {"n": 0}

    def route(req):
        calls["n"] += 1
        if calls["n"] == 1:
            time.sleep(0.6)         # longer than the client's 0.2 s timeout
        send_json(req, {"n": calls["n"]})

    server.routes["/slow"] = route
    c = fast_client(timeout=0.2)
    t0 = time.monotonic()
    assert c.get_json(server.url("/slow")) == {"n": 2}
    assert time.monotonic() - t0 < 1.5


def test_timeouts_give_up_with_a_message(server):
    def route(req):
        time.sleep(0.5)
        send_json(req, {})

    server.routes["/slow"] = route
    with pytest.raises(DownloadError, match=r"no answer within 0.15 s; gave up after 2 attempts"):
        fast_client(timeout=0.15, retries=1).get_bytes(server.url("/slow"))


def _refused_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()                    # nothing listens there now: connections are refused
    return f"http://127.0.0.1:{port}"


def test_connection_refused_says_offline(tmp_path):
    url = _refused_url()
    c = fast_client(retries=4, connect_retries=1)
    with pytest.raises(OfflineError) as err:
        c.download(url + "/file.csv", tmp_path / "file.csv")
    assert str(err.value) == f"cannot reach 127.0.0.1: {OFFLINE_TEXT}"
    assert isinstance(err.value, DataError)
    assert not (tmp_path / "file.csv").exists()


def test_cli_download_offline_prints_a_message_not_a_traceback(tmp_path, monkeypatch, capsys):
    from icbmap import cli

    monkeypatch.setattr(pack, "HttpClient", lambda: fast_client(connect_retries=1))
    monkeypatch.setattr(sources, "user_path", lambda: tmp_path / "no-user-catalogue.json")
    code = cli.main(["data", "download", "test-pack", "--dest", str(tmp_path / "dl"), "--base-url", _refused_url()])
    err = capsys.readouterr().err
    assert code == 1
    assert OFFLINE_TEXT in err and "Traceback" not in err


def test_truncated_json_answer_is_retried(server):
    calls = {"n": 0}
    payload = json.dumps({"features": list(range(50))}).encode()

    def route(req):
        calls["n"] += 1
        if calls["n"] == 1:
            send(req, 200, payload[:20], length=len(payload))
        else:
            send(req, 200, payload)

    server.routes["/api"] = route
    assert fast_client().get_json(server.url("/api")) == {"features": list(range(50))}
    assert calls["n"] == 2


# ---------------------------------------------------------------- client: files, resume, cache
def test_truncated_file_is_resumed_with_range(server, tmp_path):
    server.routes["/f.bin"] = file_route(BODY, truncate_first=True)
    m = Manifest(tmp_path)
    rec = fast_client().download(server.url("/f.bin"), tmp_path / "f.bin", manifest=m)
    assert rec.resumed and not rec.restarted and rec.attempts == 2
    assert (tmp_path / "f.bin").read_bytes() == BODY
    assert rec.sha256 == sha(BODY)
    hits = server.hits("/f.bin")
    assert "Range" not in hits[0][2]
    assert hits[1][2]["Range"] == f"bytes={len(BODY) // 2}-" and hits[1][2]["If-Range"] == '"v1"'
    assert not (tmp_path / "f.bin.part").exists() and not (tmp_path / "f.bin.part.json").exists()
    entry = json.loads((tmp_path / "manifest.json").read_text())["files"]["f.bin"]
    assert entry["sha256"] == sha(BODY) and entry["bytes"] == len(BODY) and entry["etag"] == '"v1"'
    assert entry["url"] == server.url("/f.bin") and entry["fetched_at"].endswith("Z")


def test_server_ignoring_range_restarts_cleanly(server, tmp_path):
    server.routes["/f.bin"] = file_route(BODY, truncate_first=True, honour_range=False)
    rec = fast_client().download(server.url("/f.bin"), tmp_path / "f.bin")
    assert rec.restarted and not rec.resumed
    data = (tmp_path / "f.bin").read_bytes()
    assert len(data) == len(BODY) and data == BODY      # not the half prepended again
    assert server.hits("/f.bin")[1][2].get("Range")      # it did ask for the rest


def test_changed_file_restarts_instead_of_splicing(server, tmp_path):
    # A partial of version 1 lies on disk; the server now has version 2 and (wrongly) answers
    # the Range with a 206 carrying the new ETag: the client must not splice the two.
    new = BODY[::-1]
    dest = tmp_path / "f.bin"
    (tmp_path / "f.bin.part").write_bytes(BODY[:1000])
    (tmp_path / "f.bin.part.json").write_text(json.dumps(
        {"url": server.url("/f.bin"), "etag": '"v1"', "last_modified": None, "total": len(BODY)}))

    def route(req):
        if req.headers.get("Range"):
            start = int(req.headers["Range"].split("=")[1].split("-")[0])
            send(req, 206, new[start:], {"ETag": '"v2"',
                                          "Content-Range": f"bytes {start}-{len(new) - 1}/{len(new)}"})
        else:
            send(req, 200, new, {"ETag": '"v2"'})

    server.routes["/f.bin"] = route
    rec = fast_client().download(server.url("/f.bin"), dest)
    assert dest.read_bytes() == new and rec.sha256 == sha(new)


def test_if_range_mismatch_gets_whole_new_file(server, tmp_path):
    new = BODY[::-1]
    (tmp_path / "f.bin.part").write_bytes(BODY[:1000])
    (tmp_path / "f.bin.part.json").write_text(json.dumps(
        {"url": server.url("/f.bin"), "etag": '"v1"', "last_modified": None, "total": len(BODY)}))
    server.routes["/f.bin"] = file_route(new, etag='"v2"')     # If-Range "v1" fails -> 200
    rec = fast_client().download(server.url("/f.bin"), tmp_path / "f.bin")
    assert rec.restarted and (tmp_path / "f.bin").read_bytes() == new


def test_unchanged_file_is_a_304_cache_hit(server, tmp_path):
    server.routes["/f.bin"] = file_route(BODY)
    m = Manifest(tmp_path)
    c = fast_client()
    first = c.download(server.url("/f.bin"), tmp_path / "f.bin", manifest=m)
    second = c.download(server.url("/f.bin"), tmp_path / "f.bin", manifest=Manifest(tmp_path))
    assert not first.from_cache and second.from_cache
    assert second.sha256 == sha(BODY)
    hits = server.hits("/f.bin")
    assert len(hits) == 2 and hits[1][2]["If-None-Match"] == '"v1"'
    assert "If-Modified-Since" in hits[1][2]


def test_changed_file_replaces_the_cached_one(server, tmp_path):
    server.routes["/f.bin"] = file_route(BODY, etag='"v1"')
    c = fast_client()
    c.download(server.url("/f.bin"), tmp_path / "f.bin", manifest=Manifest(tmp_path))
    server.routes["/f.bin"] = file_route(BODY[:100], etag='"v2"')
    rec = c.download(server.url("/f.bin"), tmp_path / "f.bin", manifest=Manifest(tmp_path))
    assert not rec.from_cache and (tmp_path / "f.bin").read_bytes() == BODY[:100]
    assert Manifest(tmp_path).get(tmp_path / "f.bin")["sha256"] == sha(BODY[:100])


def test_locally_damaged_file_is_fetched_again(server, tmp_path):
    server.routes["/f.bin"] = file_route(BODY)
    c = fast_client()
    c.download(server.url("/f.bin"), tmp_path / "f.bin", manifest=Manifest(tmp_path))
    (tmp_path / "f.bin").write_bytes(b"edited by hand")
    rec = c.download(server.url("/f.bin"), tmp_path / "f.bin", manifest=Manifest(tmp_path))
    assert not rec.from_cache and (tmp_path / "f.bin").read_bytes() == BODY
    assert "If-None-Match" not in server.hits("/f.bin")[1][2]


def test_cancel_mid_transfer_keeps_partial_for_resume(server, tmp_path):
    server.routes["/f.bin"] = file_route(BODY)
    dest = tmp_path / "f.bin"
    m = Manifest(tmp_path)

    def on_step(fraction, message):
        if 0 < fraction < 1:        # the first report of bytes arriving: press Cancel
            progress.cancel()

    progress = Progress(on_step, "download")
    with pytest.raises(Cancelled):
        fast_client().download(server.url("/f.bin"), dest, manifest=m, progress=progress)
    part = tmp_path / "f.bin.part"
    assert not dest.exists(), "a cancelled download is never presented as complete"
    assert part.exists() and 0 < part.stat().st_size < len(BODY)
    assert Manifest(tmp_path).get(dest) is None
    kept = part.stat().st_size

    rec = fast_client().download(server.url("/f.bin"), dest, manifest=Manifest(tmp_path))
    assert rec.resumed and dest.read_bytes() == BODY and rec.sha256 == sha(BODY)
    assert server.hits("/f.bin")[-1][2]["Range"] == f"bytes={kept}-"
    assert Manifest(tmp_path).get(dest)["sha256"] == sha(BODY)


def test_expected_checksum_mismatch_is_an_error(server, tmp_path):
    server.routes["/f.bin"] = file_route(BODY)
    with pytest.raises(DownloadError, match="checksum mismatch"):
        fast_client().download(server.url("/f.bin"), tmp_path / "f.bin", expected_sha256="0" * 64)
    assert not (tmp_path / "f.bin").exists() and not (tmp_path / "f.bin.part").exists()


def test_progress_reports_bytes(server, tmp_path):
    server.routes["/f.bin"] = file_route(BODY)
    seen = []
    fast_client().download(server.url("/f.bin"), tmp_path / "f.bin", progress=Progress(lambda f, m: seen.append((f, m))))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("of 65,536 bytes" in m for _, m in seen)


def test_manifest_is_written_atomically_and_survives_damage(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    m = Manifest(tmp_path)
    assert m.files == {}
    (tmp_path / "x.csv").write_text("a\n")
    m.record(tmp_path / "x.csv", {"url": "http://127.0.0.1/x", "bytes": 2, "sha256": sha(b"a\n")})
    assert Manifest(tmp_path).verify(tmp_path / "x.csv")
    assert not list(tmp_path.glob(".manifest.json.*.tmp"))


def test_rebase_keeps_path_and_query():
    assert dlclient.rebase("https://a.example/x/y?q=1", "http://127.0.0.1:8000/m/") == "http://127.0.0.1:8000/m/x/y?q=1"
    assert dlclient.rebase("https://a.example/x", None) == "https://a.example/x"
    with pytest.raises(DataError):
        dlclient.rebase("https://a.example/x", "127.0.0.1:8000")


# ---------------------------------------------------------------- ArcGIS
LAYER = "/arcgis/rest/services/Test_LSOA_BGC/FeatureServer/0"


def fake_features(n: int) -> list[dict]:
    """Developer-made GeoJSON features: fake codes, a row of ~700 m squares in the Midlands
    (longitude/latitude; not real boundaries)."""
    out = []
    for i in range(n):
        x, y, d = -1.5 + 0.01 * i, 52.5, 0.01
        ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]
        out.append({"type": "Feature", "id": i + 1, "geometry": {"type": "Polygon", "coordinates": [ring]},
                    "properties": {"LSOA21CD": f"E0190{i:04d}", "LSOA21NM": f"Testshire {i:03d}A"}})
    return out


def arcgis_layer(server, features, *, cap=None, declare_cap=True, flag="properties", count=None,
                 last_edit=1700000000000, errors=None):
    """Routes for a fake FeatureServer layer holding ``features``.

    ``cap``: the server returns at most this many per page (``maxRecordCount``), declared in
    the layer info unless ``declare_cap`` is false.  ``flag``: where exceededTransferLimit
    goes ("properties" as f=geojson does, "top" as f=json does, None = never sent).
    ``errors``: a list of ArcGIS error bodies to answer to the next query requests first.
    """
    errors = list(errors or [])

    def info(req):
        body = {"name": "Test_LSOA_BGC", "type": "Feature Layer",
                "editingInfo": {"lastEditDate": last_edit}}
        if cap and declare_cap:
            body["maxRecordCount"] = cap
        send_json(req, body)

    def query(req):
        q = req.query
        if q.get("returnCountOnly") == "true":
            send_json(req, {"count": len(features) if count is None else count})
            return
        if errors:
            send_json(req, errors.pop(0))
            return
        offset = int(q.get("resultOffset", 0))
        size = int(q.get("resultRecordCount", 1000))
        if cap:
            size = min(size, cap)
        page = features[offset:offset + size]
        more = offset + size < len(features)
        if q.get("f") == "geojson":
            body = {"type": "FeatureCollection", "features": page}
            if flag == "properties" and more:
                body["properties"] = {"exceededTransferLimit": True}
            elif flag == "top":
                body["exceededTransferLimit"] = more
        else:
            body = {"fields": [{"name": "LSOA21CD"}, {"name": "LSOA21NM"}, {"name": "ICB24CD"}],
                    "features": [{"attributes": {**f["properties"], "ICB24CD": "E54900001" if i % 2 else None}}
                                 for i, f in enumerate(page)]}
            if flag == "top" and more:
                body["exceededTransferLimit"] = True
        send_json(req, body)

    server.routes[LAYER] = info
    server.routes[LAYER + "/query"] = query


def offsets(server) -> list[int]:
    return [int(q["resultOffset"]) for _, q, _ in server.hits(LAYER + "/query") if "resultOffset" in q]


def test_arcgis_geojson_paging(server, tmp_path):
    feats = fake_features(7)
    arcgis_layer(server, feats)
    layer = arcgis.Layer(server.url(LAYER), out_fields="LSOA21CD,LSOA21NM", order_by="LSOA21CD",
                         page_size=3, key_field="LSOA21CD")
    m = Manifest(tmp_path)
    rec = arcgis.download_layer(fast_client(), layer, tmp_path / "b.geojson", manifest=m)
    out = json.loads((tmp_path / "b.geojson").read_text())
    assert out["type"] == "FeatureCollection" and out["features"] == feats
    assert offsets(server) == [0, 3, 6]
    q = server.hits(LAYER + "/query")[-1][1]
    assert q["where"] == "1=1" and q["f"] == "geojson" and q["orderByFields"] == "LSOA21CD"
    assert q["resultRecordCount"] == "3" and q["outFields"] == "LSOA21CD,LSOA21NM"
    assert rec.extra["features"] == 7 and rec.sha256 == sha((tmp_path / "b.geojson").read_bytes())
    assert not (tmp_path / "b.geojson.pages").exists()
    assert Manifest(tmp_path).get(tmp_path / "b.geojson")["last_modified"] == "1700000000000"


def test_arcgis_server_capping_pages_below_the_request(server, tmp_path):
    # The server returns 2 a page although 3 were asked for and does not declare it:
    # the offset must follow what arrived and the flag must keep the paging going.
    arcgis_layer(server, fake_features(7), cap=2, declare_cap=False)
    layer = arcgis.Layer(server.url(LAYER), page_size=3)
    arcgis.download_layer(fast_client(), layer, tmp_path / "b.geojson")
    assert offsets(server) == [0, 2, 4, 6]
    assert len(json.loads((tmp_path / "b.geojson").read_text())["features"]) == 7


def test_arcgis_declared_max_record_count_lowers_the_page_size(server, tmp_path):
    arcgis_layer(server, fake_features(5), cap=2)
    arcgis.download_layer(fast_client(), arcgis.Layer(server.url(LAYER), page_size=1000), tmp_path / "b.geojson")
    assert offsets(server) == [0, 2, 4]
    assert {q["resultRecordCount"] for _, q, _ in server.hits(LAYER + "/query") if "resultOffset" in q} == {"2"}


def test_arcgis_without_flag_stops_on_a_short_page(server, tmp_path):
    arcgis_layer(server, fake_features(7), flag=None)
    arcgis.download_layer(fast_client(), arcgis.Layer(server.url(LAYER), page_size=3), tmp_path / "b.geojson")
    assert offsets(server) == [0, 3, 6]


def test_arcgis_exact_multiple_without_flag_stops_on_an_empty_page(server, tmp_path):
    arcgis_layer(server, fake_features(6), flag=None)
    arcgis.download_layer(fast_client(), arcgis.Layer(server.url(LAYER), page_size=3), tmp_path / "b.geojson")
    assert offsets(server) == [0, 3, 6]
    assert len(json.loads((tmp_path / "b.geojson").read_text())["features"]) == 6


def test_arcgis_table_to_csv(server, tmp_path):
    arcgis_layer(server, fake_features(5), flag="top")
    layer = arcgis.Layer(server.url(LAYER), geometry=False, page_size=2, order_by="LSOA21CD", key_field="LSOA21CD")
    arcgis.download_layer(fast_client(), layer, tmp_path / "lookup.csv")
    lines = (tmp_path / "lookup.csv").read_text().splitlines()
    assert lines[0] == "LSOA21CD,LSOA21NM,ICB24CD"
    assert lines[1] == "E01900000,Testshire 000A," and lines[2] == "E01900001,Testshire 001A,E54900001"
    assert len(lines) == 6
    q = server.hits(LAYER + "/query")[-1][1]
    assert q["f"] == "json" and q["returnGeometry"] == "false" and "outSR" not in q


def test_arcgis_error_body_with_http_200(server, tmp_path):
    arcgis_layer(server, fake_features(3), errors=[
        {"error": {"code": 400, "message": "Invalid query parameters", "details": ["'orderByFields' is invalid"]}}])
    with pytest.raises(DownloadError) as err:
        arcgis.download_layer(fast_client(), arcgis.Layer(server.url(LAYER)), tmp_path / "b.geojson")
    assert "ArcGIS error 400: Invalid query parameters ('orderByFields' is invalid)" in str(err.value)
    assert not (tmp_path / "b.geojson").exists()


def test_arcgis_error_500_body_is_retried(server, tmp_path):
    arcgis_layer(server, fake_features(3), errors=[{"error": {"code": 500, "message": "Error performing query"}}])
    arcgis.download_layer(fast_client(), arcgis.Layer(server.url(LAYER)), tmp_path / "b.geojson")
    assert len(json.loads((tmp_path / "b.geojson").read_text())["features"]) == 3


def test_arcgis_missing_service_is_a_clear_error(server, tmp_path):
    server.routes[LAYER] = lambda req: send_json(req, {"error": {"code": 400, "message": "Invalid URL", "details": []}})
    with pytest.raises(DownloadError, match="ArcGIS error 400: Invalid URL"):
        arcgis.download_layer(fast_client(), arcgis.Layer(server.url(LAYER)), tmp_path / "b.geojson")


def test_arcgis_resumes_from_last_completed_page(server, tmp_path):
    feats = fake_features(8)
    arcgis_layer(server, feats)
    layer = arcgis.Layer(server.url(LAYER), page_size=3)
    dest = tmp_path / "b.geojson"

    def on_step(fraction, message):
        if message.endswith("features") and "3 of 8" in message:
            progress.cancel()

    progress = Progress(on_step)
    with pytest.raises(Cancelled):
        arcgis.download_layer(fast_client(), layer, dest, progress=progress)
    assert not dest.exists()
    ckpt = json.loads((tmp_path / "b.geojson.pages" / "checkpoint.json").read_text())
    assert ckpt["next_offset"] == 3 and ckpt["rows"] == 3
    server.log.clear()
    rec = arcgis.download_layer(fast_client(), layer, dest)
    assert offsets(server) == [3, 6]
    assert rec.resumed and json.loads(dest.read_text())["features"] == feats


def test_arcgis_damaged_checkpoint_pages_are_a_message_then_a_clean_start(server, tmp_path):
    feats = fake_features(8)
    arcgis_layer(server, feats)
    layer = arcgis.Layer(server.url(LAYER), page_size=3)
    dest = tmp_path / "b.geojson"

    def on_step(fraction, message):
        if "6 of 8" in message:
            progress.cancel()

    progress = Progress(on_step)
    with pytest.raises(Cancelled):
        arcgis.download_layer(fast_client(), layer, dest, progress=progress)
    (tmp_path / "b.geojson.pages" / "page-000000.json").write_text("{trunc")
    with pytest.raises(DownloadError, match="saved pages .* were damaged"):
        arcgis.download_layer(fast_client(), layer, dest)
    assert not dest.exists() and not (tmp_path / "b.geojson.pages").exists()
    arcgis.download_layer(fast_client(), layer, dest)
    assert json.loads(dest.read_text())["features"] == feats


def test_arcgis_without_count_support_still_pages(server, tmp_path):
    arcgis_layer(server, fake_features(5))
    query = server.routes[LAYER + "/query"]

    def no_count(req):
        if req.query.get("returnCountOnly"):
            send_json(req, {"error": {"code": 400, "message": "returnCountOnly not supported"}})
        else:
            query(req)

    server.routes[LAYER + "/query"] = no_count
    rec = arcgis.download_layer(fast_client(), arcgis.Layer(server.url(LAYER), page_size=2), tmp_path / "b.geojson")
    assert rec.extra["features"] == 5


def test_arcgis_count_mismatch_discards(server, tmp_path):
    arcgis_layer(server, fake_features(4), count=5)
    with pytest.raises(DownloadError, match="reports 5 features but the pages held 4"):
        arcgis.download_layer(fast_client(), arcgis.Layer(server.url(LAYER), page_size=3), tmp_path / "b.geojson")
    assert not (tmp_path / "b.geojson").exists() and not (tmp_path / "b.geojson.pages").exists()


def test_arcgis_duplicate_keys_mean_broken_paging(server, tmp_path):
    feats = fake_features(4)
    feats[3]["properties"]["LSOA21CD"] = feats[0]["properties"]["LSOA21CD"]
    arcgis_layer(server, feats)
    layer = arcgis.Layer(server.url(LAYER), page_size=3, key_field="LSOA21CD")
    with pytest.raises(DownloadError, match="arrived twice"):
        arcgis.download_layer(fast_client(), layer, tmp_path / "b.geojson")
    assert not (tmp_path / "b.geojson").exists()


def test_arcgis_unchanged_layer_is_not_fetched_again(server, tmp_path):
    arcgis_layer(server, fake_features(4))
    layer = arcgis.Layer(server.url(LAYER), page_size=3)
    arcgis.download_layer(fast_client(), layer, tmp_path / "b.geojson", manifest=Manifest(tmp_path))
    server.log.clear()
    rec = arcgis.download_layer(fast_client(), layer, tmp_path / "b.geojson", manifest=Manifest(tmp_path))
    assert rec.from_cache and server.hits(LAYER + "/query") == []
    arcgis_layer(server, fake_features(5), last_edit=1800000000000)       # the layer was edited
    rec = arcgis.download_layer(fast_client(), layer, tmp_path / "b.geojson", manifest=Manifest(tmp_path))
    assert not rec.from_cache and rec.extra["features"] == 5


def test_more_pages_rules():
    assert arcgis.more_pages({"properties": {"exceededTransferLimit": True}}, 2, 3)
    assert not arcgis.more_pages({"exceededTransferLimit": False}, 3, 3)
    assert arcgis.more_pages({}, 3, 3) and not arcgis.more_pages({}, 2, 3)
    assert not arcgis.more_pages({"exceededTransferLimit": True}, 0, 3)


# ---------------------------------------------------------------- Nomis
def test_nomis_pages_join_into_one_csv(server, tmp_path):
    # Developer-made rows: fake LSOA codes and counts.
    rows = [(f"E0190{i:04d}", f"Testshire {i:03d}A", str(1000 + i)) for i in range(5)]

    def route(req):
        off, lim = int(req.query["RecordOffset"]), int(req.query["RecordLimit"])
        text = '"GEOGRAPHY_CODE","GEOGRAPHY_NAME","OBS_VALUE"\n' + "".join(
            f'"{a}","{b}",{c}\n' for a, b, c in rows[off:off + lim])
        send(req, 200, text.encode(), {"Content-Type": "text/csv"})

    server.routes["/api/v01/dataset/NM_TEST_1.data.csv"] = route
    m = Manifest(tmp_path)
    rec = nomis.download_table(fast_client(), server.url("/api/v01/dataset/NM_TEST_1.data.csv"),
                               {"geography": "TYPE151", "measures": "20100"}, tmp_path / "pop.csv", page_size=2,
                               expect_columns=["GEOGRAPHY_CODE", "OBS_VALUE"], manifest=m)
    lines = (tmp_path / "pop.csv").read_text().splitlines()
    assert lines[0] == "GEOGRAPHY_CODE,GEOGRAPHY_NAME,OBS_VALUE" and len(lines) == 6
    assert lines[5] == "E01900004,Testshire 004A,1004"
    assert [q["RecordOffset"] for _, q, _ in server.log] == ["0", "2", "4"]
    assert rec.extra["rows"] == 5
    again = nomis.download_table(fast_client(), server.url("/api/v01/dataset/NM_TEST_1.data.csv"),
                                 {"geography": "TYPE151", "measures": "20100"}, tmp_path / "pop.csv", page_size=2,
                                 manifest=Manifest(tmp_path))
    assert again.from_cache and len(server.log) == 3


def test_nomis_header_renamed_values_untouched(server, tmp_path):
    body = b'"GEOGRAPHY_CODE","GEOGRAPHY_NAME","OBS_VALUE"\n"E01900001","Testshire 001A",1001\n'   # developer-made
    server.routes["/t.csv"] = lambda req: send(req, 200, body)
    rename = {"GEOGRAPHY_CODE": "LSOA21CD", "GEOGRAPHY_NAME": "LSOA21NM"}
    rec = nomis.download_table(fast_client(), server.url("/t.csv"), {}, tmp_path / "p.csv", rename=rename,
                               manifest=Manifest(tmp_path))
    assert (tmp_path / "p.csv").read_text() == "LSOA21CD,LSOA21NM,OBS_VALUE\nE01900001,Testshire 001A,1001\n"
    assert Manifest(tmp_path).get(tmp_path / "p.csv")["renamed_columns"] == rename and not rec.from_cache
    # a different renaming is not served from the cache
    again = nomis.download_table(fast_client(), server.url("/t.csv"), {}, tmp_path / "p.csv",
                                 manifest=Manifest(tmp_path))
    assert not again.from_cache and (tmp_path / "p.csv").read_text().startswith("GEOGRAPHY_CODE,")


def test_nomis_wrong_columns_are_refused(server, tmp_path):
    server.routes["/t.csv"] = lambda req: send(req, 200, b"<html>error</html>\n")
    with pytest.raises(DownloadError, match="lacks the columns GEOGRAPHY_CODE"):
        nomis.download_table(fast_client(), server.url("/t.csv"), {}, tmp_path / "p.csv",
                             expect_columns=["GEOGRAPHY_CODE"])
    assert not (tmp_path / "p.csv").exists()


# ---------------------------------------------------------------- NHS publications
LANDING = "/data-and-information/publications/statistical/patients-registered-at-a-gp-practice"
# Developer-made practice files in the published layout (fake practices and counts).
PRACTICES_CSV = (b"PUBLICATION,EXTRACT_DATE,TYPE,SUB_ICB_LOCATION_CODE,ONS_SUB_ICB_LOCATION_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS\n"
                 b"GP_PRAC_PAT_LIST,01Oct2026,GP,99X,E38900001,Z99001,ZZ1 1ZZ,ALL,ALL,1234\n"
                 b"GP_PRAC_PAT_LIST,01Oct2026,GP,99X,E38900001,Z99002,ZZ1 2ZZ,ALL,ALL,5678\n")
MAP_CSV = (b"PUBLICATION,EXTRACT_DATE,PRACTICE_CODE,PRACTICE_NAME,PRACTICE_POSTCODE,PCN_CODE,PCN_NAME,ONS_SUB_ICB_LOCATION_CODE\n"
           b"GP_PRAC_PAT_LIST,01Oct2026,Z99001,TEST SURGERY,ZZ1 1ZZ,U99001,TEST PCN,E38900001\n")


def nhs_site(server) -> None:
    """Landing page -> monthly pages; the newest (november) is announced but not published yet."""
    landing = f"""<html><body>
      <a href="{LANDING}/november-2026">November 2026</a>
      <a href="{LANDING}/october-2026#top">October 2026</a>
      <a href="{LANDING}/september-2026">September 2026</a>
      <a href="/some/other/page">other</a></body></html>"""
    october = """<html><body>
      <a href="https://files.digital.nhs.uk/AB/12CD34/gp-reg-pat-prac-lsoa-all.csv">LSOA</a>
      <a href="https://files.digital.nhs.uk/AB/12CD34/gp-reg-pat-prac-all.csv">Totals</a>
      <a href="https://files.digital.nhs.uk/EF/56AB78/gp-reg-pat-prac-map_V2.zip">Mapping</a></body></html>"""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("gp-reg-pat-prac-map.csv", MAP_CSV)
    server.routes[LANDING] = lambda req: send(req, 200, landing.encode(), {"Content-Type": "text/html"})
    server.routes[LANDING + "/october-2026"] = lambda req: send(req, 200, october.encode(), {"Content-Type": "text/html"})
    server.routes[LANDING + "/september-2026"] = lambda req: send(req, 200, b"<html></html>")
    server.routes["/AB/12CD34/gp-reg-pat-prac-all.csv"] = file_route(PRACTICES_CSV)
    server.routes["/EF/56AB78/gp-reg-pat-prac-map_V2.zip"] = file_route(buf.getvalue())


def test_nhs_publication_finds_latest_file_and_unzips(server, tmp_path):
    nhs_site(server)
    c = fast_client()
    pub = nhs.Publication(c, "https://digital.nhs.uk" + LANDING, base_url=server.base)
    m = Manifest(tmp_path)
    rec = nhs.download_publication_file(c, pub, r"gp-reg-pat-prac-all(?:[_-]v\d+)?\.(?:csv|zip)",
                                        tmp_path / "gp-reg-pat-prac-all.csv", manifest=m,
                                        expect_columns=["CODE", "NUMBER_OF_PATIENTS"])
    assert (tmp_path / "gp-reg-pat-prac-all.csv").read_bytes() == PRACTICES_CSV
    assert rec.extra["publication"] == "october-2026"
    rec2 = nhs.download_publication_file(c, pub, r"gp-reg-pat-prac-map(?:[_-]v\d+)?\.(?:csv|zip)",
                                         tmp_path / "gp-reg-pat-prac-map.csv", member_pattern=r"gp-reg-pat-prac-map.*\.csv",
                                         manifest=m, expect_columns=["PRACTICE_CODE"])
    assert (tmp_path / "gp-reg-pat-prac-map.csv").read_bytes() == MAP_CSV
    assert rec2.extra["member"] == "gp-reg-pat-prac-map.csv"
    assert len(server.hits(LANDING)) == 1                       # landing read once for both files
    assert len(server.hits(LANDING + "/november-2026")) == 1    # 404: not yet published, skipped
    assert Manifest(tmp_path).get(tmp_path / "gp-reg-pat-prac-map.csv")["sha256"] == sha(MAP_CSV)


def test_nhs_no_publication_linked(server, tmp_path):
    server.routes[LANDING] = lambda req: send(req, 200, b"<html>redesigned</html>")
    pub = nhs.Publication(fast_client(), "https://digital.nhs.uk" + LANDING, base_url=server.base)
    with pytest.raises(DownloadError, match="no monthly publication is linked"):
        nhs.download_publication_file(fast_client(), pub, r"x\.csv", tmp_path / "x.csv")


def test_publication_pages_are_ordered_newest_first():
    html = f'<a href="{LANDING}/march-2025">a</a><a href="{LANDING}/january-2026">b</a><a href="{LANDING}/december-2025">c</a>'
    slugs = [s for s, _ in nhs.publication_pages(html, "https://digital.nhs.uk" + LANDING)]
    assert slugs == ["january-2026", "december-2025", "march-2025"]


# ---------------------------------------------------------------- catalogue
def test_builtin_catalogue_is_complete():
    cat = sources.load_catalogue(user=False)
    wanted = cat.for_pack()
    assert set(wanted) == set(sources.PACK_ARGS)
    for src in cat.sources.values():
        assert src.spec["url" if src.kind != "nhs_publication" else "landing"].startswith("https://")
        assert isinstance(src.spec.get("verified"), bool) and src.spec.get("evidence")
        assert src.spec.get("licence")


def test_user_catalogue_overrides(tmp_path):
    user = tmp_path / "download_sources.json"
    user.write_text(json.dumps({
        "sources": {"lsoa21_boundaries_bgc": {"page_size": 500},
                    "census2021_lsoa_population": {"kind": "file", "url": "https://mirror.invalid/pop.csv",
                                                   "file": "pop.csv"}},
        "pack": {"boundaries": "lsoa21_boundaries_bsc", "practice_map": None}}))
    cat = sources.load_catalogue(user=user)
    assert cat.sources["lsoa21_boundaries_bgc"].spec["page_size"] == 500
    assert cat.sources["lsoa21_boundaries_bgc"].spec["out_fields"] == "LSOA21CD,LSOA21NM"   # kept
    assert cat.sources["census2021_lsoa_population"].spec == {"kind": "file", "url": "https://mirror.invalid/pop.csv",
                                                             "file": "pop.csv"}
    assert cat.for_pack()["boundaries"].id == "lsoa21_boundaries_bsc"
    assert "practice_map" not in cat.for_pack()


@pytest.mark.parametrize("override, problem", [
    ({"sources": {"x": {"kind": "ftp", "url": "https://a/b", "file": "x"}}}, "kind must be one of"),
    ({"sources": {"x": {"kind": "file", "url": "https://a/b", "file": "../evil"}}}, "plain file name"),
    ({"pack": {"boundaries": "nope"}}, "no source has that id"),
    ({"pack": {"boundaries": None}}, "must name sources for boundaries"),
    ({"pack": {"shapes": "lsoa21_boundaries_bgc"}}, "the import takes"),
])
def test_bad_user_catalogue_names_file_and_problem(tmp_path, override, problem):
    user = tmp_path / "download_sources.json"
    user.write_text(json.dumps(override))
    with pytest.raises(DataError, match=problem) as err:
        sources.load_catalogue(user=user)
    assert str(user) in str(err.value)


# ---------------------------------------------------------------- download_pack end to end
ARCGIS = "/ESMARspQHYMw9BZ9/arcgis/rest/services/"


def _first_row(name: str) -> dict:
    """The first row of one of the project's own fact tables under shapefiles/ (real codes)."""
    import csv

    from icbmap.paths import shapefiles_dir

    with open(shapefiles_dir() / name, newline="", encoding="utf-8") as fh:
        return next(csv.DictReader(fh))


def mirror_of_official_sites(server) -> None:
    """The built-in catalogue's paths, served locally with developer-made bodies.

    The lookup tables carry the Open Geography Portal field names; their LSOA and sub-ICB
    codes are fake, the ICB and district codes are the first rows of shapefiles/ facts and
    board configurations.
    """
    feats = fake_features(5)
    icb, lad = _first_row("icb_region_2022.csv"), _first_row("lad_2025.csv")
    icb26 = _first_row("configurations/boards_2026.csv")
    codes = [(f["properties"]["LSOA21CD"], f["properties"]["LSOA21NM"]) for f in feats]
    tables = {
        "LSOA21_SICBL26_ICB26_NHSER26_LAD26": [
            {"LSOA21CD": c, "LSOA21NM": n, "SICBL26CD": "E38900001", "SICBL26CDH": "99X",
             "SICBL26NM": "NHS Test ICB - 99X", "ICB26CD": icb26["icb_code"], "ICB26CDH": icb26["icb_code_nhs"],
             "ICB26NM": "Test name (the bundled one wins)", "NHSER26CD": icb26["nhs_region_code"],
             "NHSER26CDH": "Y00", "NHSER26NM": icb26["nhs_region_name"], "LAD26CD": lad["lad_code"],
             "LAD26NM": lad["lad_name"], "ObjectId": i + 1}
            for i, (c, n) in enumerate(codes)],
        "LSOA21_SICBL24_ICB24_CAL24_LAD24_EN_LU": [
            {"LSOA21CD": c, "LSOA21NM": n, "SICBL24CD": "E38900001", "SICBL24CDH": "99X",
             "SICBL24NM": "NHS Test ICB - 99X", "ICB24CD": icb["icb_code"], "ICB24CDH": icb["icb_code_nhs"],
             "ICB24NM": icb["icb_name"], "LAD24CD": lad["lad_code"], "LAD24NM": lad["lad_name"], "ObjectId": i + 1}
            for i, (c, n) in enumerate(codes)],
        "LSOA21_WD24_LAD24_EW_LU": [
            {"LSOA21CD": c, "LSOA21NM": n, "WD24CD": "E05900001", "WD24NM": "Test Ward",
             "LAD24CD": lad["lad_code"], "LAD24NM": lad["lad_name"], "ObjectId": i + 1}
            for i, (c, n) in enumerate(codes)],
    }
    for svc in ["Lower_layer_Super_Output_Areas_December_2021_Boundaries_EW_BGC_V5", *tables]:
        path = ARCGIS + svc + "/FeatureServer/0"

        def info(req, svc=svc):
            send_json(req, {"name": svc, "maxRecordCount": 2000, "editingInfo": {"lastEditDate": 1}})

        def query(req, svc=svc):
            if req.query.get("returnCountOnly") == "true":
                send_json(req, {"count": len(feats)})
            elif req.query["f"] == "geojson":
                send_json(req, {"type": "FeatureCollection", "features": feats})
            else:
                rows = tables[svc]
                send_json(req, {"fields": [{"name": k} for k in rows[0]],
                                "features": [{"attributes": r} for r in rows]})

        server.routes[path] = info
        server.routes[path + "/query"] = query

    def nomis_route(req):
        text = "GEOGRAPHY_CODE,GEOGRAPHY_NAME,OBS_VALUE\n" + "".join(
            f"{f['properties']['LSOA21CD']},{f['properties']['LSOA21NM']},1500\n" for f in feats)
        send(req, 200, text.encode())

    server.routes["/api/v01/dataset/NM_2021_1.data.csv"] = nomis_route
    nhs_site(server)


def test_download_pack_fetches_everything_and_imports(server, tmp_path, monkeypatch):
    mirror_of_official_sites(server)
    user = tmp_path / "user.json"
    # Five fake LSOAs cannot pass the real table's row check: lower it for the mirror.
    user.write_text(json.dumps({"sources": {"census2021_lsoa_population": {"min_rows": 3}}}))
    cat = sources.load_catalogue(user=user)
    calls = []

    class FakeAtlas:
        content_hash = "abc123"

    def importer(name, **kwargs):
        calls.append((name, kwargs))
        kwargs["progress"].step(1.0, "imported")
        return FakeAtlas()

    dest = tmp_path / "dl"
    steps = []
    atlas = pack.download_pack("ons-test", dest=dest, base_url=server.base, catalogue=cat, client=fast_client(),
                               importer=importer, progress=Progress(lambda f, m: steps.append(f)))
    assert isinstance(atlas, FakeAtlas)
    (name, kwargs), = calls
    assert name == "ons-test"
    assert set(kwargs) == {"boundaries", "icb_lookup", "lad_lookup", "population", "practices", "practice_map",
                           "progress"}
    assert Path(kwargs["boundaries"]) == dest / "lsoa21_boundaries_bgc.geojson"
    assert Path(kwargs["practice_map"]).read_bytes() == MAP_CSV
    assert Path(kwargs["practices"]).read_bytes() == PRACTICES_CSV
    assert len(json.loads(Path(kwargs["boundaries"]).read_text())["features"]) == 5
    manifest = json.loads((dest / "manifest.json").read_text())
    built = manifest["packs"]["ons-test"]
    assert built["content_hash"] == "abc123" and set(built["files"]) == set(sources.PACK_ARGS)
    for arg, info in built["files"].items():
        assert info["sha256"] == sha((dest / info["file"]).read_bytes()) == manifest["files"][info["file"]]["sha256"]
        assert info["url"].startswith(server.base)
    assert steps == sorted(steps) and steps[-1] == 1.0
    # every request went to the local mirror, at the official paths; the April 2026 lookup by default
    assert server.hits(ARCGIS + "LSOA21_WD24_LAD24_EW_LU/FeatureServer/0/query")
    assert server.hits(ARCGIS + "LSOA21_SICBL26_ICB26_NHSER26_LAD26/FeatureServer/0/query")
    assert not server.hits(ARCGIS + "LSOA21_SICBL24_ICB24_CAL24_LAD24_EN_LU/FeatureServer/0/query")
    assert Path(kwargs["icb_lookup"]) == dest / "lsoa21_sicbl26_icb26_nhser26_lad26.csv"

    # A second run fetches nothing that is unchanged.
    server.log.clear()
    pack.download_pack("ons-test", dest=dest, base_url=server.base, catalogue=cat, client=fast_client(),
                       importer=importer)
    fetched = [p for p, q, h in server.log if p.endswith("/query") or p.endswith(".csv") and "If-None-Match" not in h]
    assert fetched == []


def test_download_pack_builds_the_april_2026_boards(server, tmp_path, monkeypatch):
    """The default catalogue end to end through the real import: the pack's boards are the
    April 2026 lookup's, named from the bundled configuration and said to be official."""
    monkeypatch.setenv("ICBMAP_HOME", str(tmp_path / "home"))
    mirror_of_official_sites(server)
    user = tmp_path / "user.json"
    user.write_text(json.dumps({"sources": {"census2021_lsoa_population": {"min_rows": 3}},
                                "pack": {"practices": None, "practice_map": None}}))
    cat = sources.load_catalogue(user=user)
    atlas = pack.download_pack("ons-2026-test", dest=tmp_path / "dl", base_url=server.base, catalogue=cat,
                               client=fast_client())
    first = _first_row("configurations/boards_2026.csv")
    boards = atlas.layers["board"].table
    assert list(boards["code"]) == [first["icb_code"]] and list(boards["name"]) == [first["icb_name"]]
    assert list(atlas.layers["region"].table["name"]) == [first["nhs_region_name"]]
    prov = atlas.provenance["board"]
    assert prov.vintage == "ICB April 2026" and "lsoa21_sicbl26_icb26_nhser26_lad26.csv" in prov.source
    assert "replaces icbmap's derived April 2026 configuration" in prov.note
    assert atlas.total_population == 5 * 1500


def test_one_download_at_a_time_per_folder(server, tmp_path):
    with pack.folder_lock(tmp_path):
        with pytest.raises(DataError, match="another icbmap download is using this folder"):
            pack.download_files(tmp_path, server.base, client=fast_client(),
                                catalogue=sources.load_catalogue(user=False))
    assert server.log == []
    with pack.folder_lock(tmp_path):     # released again
        pass


def test_download_pack_rejects_a_bad_name_before_downloading(server, tmp_path):
    with pytest.raises(DataError, match="not a usable pack name"):
        pack.download_pack("../x", dest=tmp_path, base_url=server.base, client=fast_client(), importer=lambda *a, **k: None)
    assert server.log == []


def test_downloaded_files_are_readable_by_the_official_import(server, tmp_path):
    """The boundaries and population files as downloaded go through official.py's readers."""
    official = pytest.importorskip("icbmap.atlas.official", reason="icbmap.atlas.official is not written yet")
    mirror_of_official_sites(server)
    user = tmp_path / "user.json"
    user.write_text(json.dumps({"sources": {"census2021_lsoa_population": {"min_rows": 3}}}))
    cat = sources.load_catalogue(user=user)
    c = fast_client()
    b = pack.fetch_source(cat.sources["lsoa21_boundaries_bgc"], tmp_path, client=c, manifest=None,
                          base_url=server.base)
    p = pack.fetch_source(cat.sources["census2021_lsoa_population"], tmp_path, client=c, manifest=None,
                          base_url=server.base)
    bounds = official.read_boundaries(b.path)
    assert sorted(bounds.frame["code"]) == [f"E0190{i:04d}" for i in range(5)]
    assert str(bounds.frame.crs).endswith("27700")
    pop = official.read_population(p.path)
    assert pop.table["code"].tolist() == [f"E0190{i:04d}" for i in range(5)]
    assert pop.table["population"].tolist() == [1500] * 5
    from icbmap.atlas.facts import Facts

    facts = Facts.load()
    i = pack.fetch_source(cat.sources["lsoa21_sicbl24_icb24_lad24"], tmp_path, client=c, manifest=None,
                          base_url=server.base)
    icb = official.read_icb_lookup(i.path, facts)
    assert icb.table["place_code"].tolist() == ["E38900001"] * 5
    assert icb.table["board_code"].tolist() == [_first_row("icb_region_2022.csv")["icb_code"]] * 5
    # the default: the April 2026 lookup, its board named and placed from the bundled table
    assert cat.for_pack()["icb_lookup"].id == "lsoa21_sicbl26_icb26_lad26"
    i26 = pack.fetch_source(cat.for_pack()["icb_lookup"], tmp_path, client=c, manifest=None, base_url=server.base)
    assert i26.path.name == "lsoa21_sicbl26_icb26_nhser26_lad26.csv"
    icb26 = official.read_icb_lookup(i26.path, facts)
    first = _first_row("configurations/boards_2026.csv")
    assert icb26.board_vintage == "April 2026" and icb26.table["board_code"].tolist() == [first["icb_code"]] * 5
    assert icb26.boards.to_dict("records") == [{k: first[k] for k in icb26.boards.columns}]
    d = pack.fetch_source(cat.sources["lsoa21_ward24_lad24"], tmp_path, client=c, manifest=None,
                          base_url=server.base)
    lad = official.read_lad_lookup(d.path, facts)
    assert lad.table["lad_code"].tolist() == [_first_row("lad_2025.csv")["lad_code"]] * 5


def test_import_pack_signature_matches_if_present():
    official = pytest.importorskip("icbmap.atlas.official", reason="icbmap.atlas.official is not written yet")
    import inspect

    params = inspect.signature(official.import_pack).parameters
    for arg in ("boundaries", "icb_lookup", "lad_lookup", "population", "practices", "practice_map", "progress"):
        assert arg in params


def test_local_write_failure_is_not_reported_as_a_network_problem(server, tmp_path, monkeypatch):
    server.routes["/f.bin"] = file_route(BODY)
    real_open = open

    class Full:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return self.fh.__exit__(*a)

        def write(self, b):
            raise OSError(28, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.fh, name)

    def fake_open(path, mode="r", *a, **k):
        fh = real_open(path, mode, *a, **k)
        return Full(fh) if str(path).endswith(".part") else fh

    monkeypatch.setattr("builtins.open", fake_open)
    with pytest.raises(DownloadError, match="cannot write the download: No space left on device"):
        fast_client().download(server.url("/f.bin"), tmp_path / "f.bin")
    assert len(server.hits("/f.bin")) == 1        # not retried


def test_range_not_satisfiable_drops_the_partial(server, tmp_path):
    small = BODY[:500]
    (tmp_path / "f.bin.part").write_bytes(BODY[:1000])         # longer than the file now is
    (tmp_path / "f.bin.part.json").write_text(json.dumps({"url": server.url("/f.bin"), "etag": '"v1"'}))

    def route(req):
        if req.headers.get("Range"):
            send(req, 416, b"", {"Content-Range": f"bytes */{len(small)}"})
        else:
            send(req, 200, small, {"ETag": '"v1"'})

    server.routes["/f.bin"] = route
    rec = fast_client(retries=0).download(server.url("/f.bin"), tmp_path / "f.bin")
    assert (tmp_path / "f.bin").read_bytes() == small and rec.attempts == 2


def test_partial_without_validator_is_not_resumed(server, tmp_path):
    (tmp_path / "f.bin.part").write_bytes(b"x" * 100)
    (tmp_path / "f.bin.part.json").write_text(json.dumps({"url": server.url("/f.bin"), "etag": None,
                                                           "last_modified": None}))
    server.routes["/f.bin"] = file_route(BODY)
    fast_client().download(server.url("/f.bin"), tmp_path / "f.bin")
    assert "Range" not in server.hits("/f.bin")[0][2]
    assert (tmp_path / "f.bin").read_bytes() == BODY


@pytest.mark.parametrize("kind", ["fifo", "deep", "folder"])
def test_a_hostile_manifest_is_a_damaged_one_not_a_hang(tmp_path, kind):
    """The manifest in the download folder is read on every download: a FIFO, a deeply
    nested or an unreadable one only costs a re-download (it hung, or failed unnamed)."""
    import os

    from icbmap.download.manifest import MANIFEST_NAME, Manifest

    path = tmp_path / MANIFEST_NAME
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "deep":
        path.write_text("[" * 100_000 + "]" * 100_000)
    else:
        path.mkdir()
    m = Manifest(tmp_path)
    assert m.files == {} and m.packs == {}
