#!/usr/bin/env python3
"""Load generator for the soak benchmark: live screens (SSE), page views and machine data (MQTT).

Signs in once, holds --sse-clients event streams open, requests --pages at a fixed rate over a
pool of keep-alive connections, and has --machines machines publish state and count messages
over MQTT, timing how long a state change takes to reach a browser. One line every
--report-every seconds; the last stdout line is a JSON summary. Exits 1 on any page error, any
event stream that never connected, or MQTT messages that were never acknowledged.

Standard library only, except paho-mqtt (2.x) for MQTT:
    python=$(scripts/py-venv.sh soak paho 'paho-mqtt==2.1.0')
    "$python" scripts/soak-load.py --url http://127.0.0.1:8080 --username sam --password ... \\
        --mqtt-url mqtt://mes:mes@127.0.0.1:1883 --seconds 1800 --watch-pids "$(pgrep -n mes)"
Loopback targets only: this is a soak test of a server you run yourself.
"""
import argparse, asyncio, json, os, random, re, resource, signal, sys, threading, time
from collections import Counter
from urllib.parse import urlencode, urlsplit

POOL = 32                      # keep-alive connections for page views
STATES = [("running", None), ("unplanned_stop", "jam"), ("idle", None)]


def percentile(values, q):
    """Nearest-rank percentile of a list, in the list's unit; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def ms(value):
    return None if value is None else round(value * 1000, 1)     # seconds -> ms for printing


class Stats:
    """Counters shared by all tasks (and, for MQTT and latency, the publisher thread)."""
    def __init__(self):
        self.page_times, self.all_page_times, self.page_errors = [], [], Counter()
        self.sse_connected = self.sse_events = self.sse_reconnects = 0
        self.sse_latencies, self.all_sse_latencies = [], []
        self.published = self.acked = 0
        self.pending_states = {}   # (machine, ts ms) -> wall time the state change was published
        self.rss = {}              # pid -> [MB per report]


# ---------------------------------------------------------------- HTTP over raw asyncio streams

async def read_head(reader):
    """Reads a response head; returns (status, {lower-case name: value}, set-cookie values)."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    fields = [(n.strip().lower(), v.strip()) for n, _, v in (line.partition(":") for line in head[1:] if ":" in line)]
    return status, dict(fields), [value for name, value in fields if name == "set-cookie"]


async def read_body(reader, headers):
    """Reads a body framed by Content-Length, chunked transfer coding, or the connection's end."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":   # trailers, then the blank line
                    pass
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    return await reader.read()


class Client:
    """The server's address and the session's cookies."""
    def __init__(self, url):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.cookies = {}

    def request_bytes(self, method, path, extra="", body=b""):
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        if self.cookies:
            head += "Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()) + "\r\n"
        head += f"Content-Length: {len(body)}\r\n" if body else ""
        return (head + extra + "\r\n").encode() + body

    async def once(self, method, path, extra="", body=b""):
        """One request on a fresh connection; keeps the cookies it sets."""
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(self.request_bytes(method, path, extra + "Connection: close\r\n", body))
            status, headers, cookies = await read_head(reader)
            for cookie in cookies:
                name, _, value = cookie.split(";", 1)[0].partition("=")
                self.cookies[name.strip()] = value.strip()
            return status, await read_body(reader, headers)
        finally:
            writer.close()

    async def sign_in(self, username, password):
        status, page = await self.once("GET", "/login")
        match = re.search(rb'name="_csrf" value="([0-9a-f]{64})"', page)
        if status != 200 or not match:
            sys.exit(f"soak-load: GET /login answered {status} without a _csrf token")
        form = urlencode({"_csrf": match[1].decode(), "username": username, "password": password, "next": "/"}).encode()
        status, _ = await self.once("POST", "/login", "Content-Type: application/x-www-form-urlencoded\r\n", form)
        if status != 303 or "mes_session" not in self.cookies:
            sys.exit(f"soak-load: signing in as {username} answered {status} (expected 303 and a mes_session cookie)")


# ---------------------------------------------------------------- page views, open loop

async def page_scheduler(rate, pages, queue, stop):
    """Puts one page path on the queue per scheduled slot, whether or not the last came back."""
    start, issued = time.monotonic(), 0
    while not stop.is_set():
        due = int((time.monotonic() - start) * rate)
        for _ in range(due - issued):
            queue.put_nowait(pages[issued % len(pages)])
            issued += 1
        await asyncio.sleep(0.01)


async def page_worker(client, queue, stats):
    """One keep-alive connection: takes paths off the queue, times each from send to body read
    (time spent waiting in the queue is not counted: the summary's page_backlog shows it)."""
    reader = writer = None
    while True:
        path = await queue.get()
        for attempt in (1, 2):
            reused = writer is not None
            try:
                if not reused:
                    reader, writer = await asyncio.open_connection(client.host, client.port)
                sent = time.perf_counter()
                writer.write(client.request_bytes("GET", path))
                status, headers, _ = await read_head(reader)
                await read_body(reader, headers)
                stats.page_times.append(time.perf_counter() - sent)
                if status != 200:
                    stats.page_errors[str(status)] += 1
                if headers.get("connection", "").lower() == "close":
                    writer.close()
                    writer = None
                break
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
                if writer is not None:
                    writer.close()
                writer = None
                # A kept-alive connection the server closed while idle: once more on a new one.
                if not (reused and attempt == 1 and isinstance(error, (asyncio.IncompleteReadError, ConnectionError))):
                    stats.page_errors[type(error).__name__] += 1
                    break


# ---------------------------------------------------------------- event streams

async def sse_client(client, stats, index, ever, measure, delay):
    """Holds GET /events open, counts events, reconnects when dropped or refused (each retry
    counts as a reconnect). Client 0 also times publish -> browser for remembered state changes."""
    await asyncio.sleep(delay)
    while True:
        connected = False
        writer = None
        try:
            reader, writer = await asyncio.open_connection(client.host, client.port, limit=1 << 20)
            writer.write(client.request_bytes("GET", "/events", "Accept: text/event-stream\r\n"))
            status, _, _ = await read_head(reader)
            if status != 200:
                raise ConnectionError(f"status {status}")
            connected = ever[index] = True
            stats.sse_connected += 1
            buffer = b""
            while chunk := await reader.read(65536):
                buffer += chunk
                *blocks, buffer = buffer.replace(b"\r\n", b"\n").split(b"\n\n")
                for block in blocks:
                    if b"data:" not in block:       # the retry: hint, heartbeat comments
                        continue
                    stats.sse_events += 1
                    if measure and b"event: update" in block:
                        measure_latency(block, stats)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            if writer is not None:
                writer.close()
            if connected:
                stats.sse_connected -= 1
        stats.sse_reconnects += 1
        await asyncio.sleep(0.5 + random.random())


def measure_latency(block, stats):
    """Matches each machine in an update to a remembered state change by (machine, since)."""
    now = time.time()
    data = "".join(line[5:].strip() for line in block.decode().split("\n") if line.startswith("data:"))
    try:
        machines = json.loads(data).get("machines", [])
    except ValueError:
        return
    for status in machines:
        published = stats.pending_states.pop((status.get("machine"), status.get("since")), None)
        if published is not None:
            stats.sse_latencies.append(now - published)


# ---------------------------------------------------------------- MQTT machines (a thread)

def mqtt_run(args, stats, stop):
    """Connects, then publishes --machine-rate messages/s per machine, paced in 10 ms ticks."""
    import paho.mqtt.client as mqtt
    url = urlsplit(args.mqtt_url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"soak-load-{os.getpid()}")
    if url.username:
        client.username_pw_set(url.username, url.password)
    client.max_inflight_messages_set(0)   # no limit: paho rescans its whole queue per ack when capped

    def on_publish(_client, _userdata, _mid, _reason, _properties):
        stats.acked += 1
    client.on_publish = on_publish
    client.connect(url.hostname, url.port or 1883, keepalive=30)
    client.loop_start()
    machines = [(f"M{i + 1:04d}", f"L{i // 10 + 1:02d}") for i in range(args.machines)]
    state = {m: 0 for m, _ in machines}                      # index into STATES
    last_ts = {(m, k): 0 for m, _ in machines for k in ("state", "count")}
    counts = {m: 0 for m, _ in machines}
    rate, tokens, turn, tick = args.machines * args.machine_rate, 0.0, 0, time.monotonic()
    while not stop.is_set():
        now = time.monotonic()
        tokens += (now - tick) * rate
        tick = now
        while tokens >= 1:
            tokens -= 1
            machine, line = machines[turn % len(machines)]
            turn += 1
            roll = random.random()
            kind = "state" if roll < 0.2 else "count"
            ts = last_ts[machine, kind] = max(int(time.time() * 1000), last_ts[machine, kind] + 1)
            if kind == "state":
                if roll < 0.1:   # a change; the other state messages repeat the current state
                    state[machine] = (state[machine] + random.randrange(1, len(STATES))) % len(STATES)
                    stats.pending_states[machine, ts] = time.time()
                name, reason = STATES[state[machine]]
                payload = {"ts": ts, "state": name} | ({"reason": reason} if reason else {})
            else:
                counts[machine] += 1
                payload = {"ts": ts, "counter": "good", "value": counts[machine], "part": "P-100"}
            info = client.publish(f"mes/{args.site}/A1/{line}/{machine}/{kind}", json.dumps(payload), qos=1)
            if info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):   # sent, or queued until connected
                stats.published += 1
        time.sleep(max(0.0, 0.01 - (time.monotonic() - now)))
    deadline = time.monotonic() + 15                         # let outstanding acks arrive
    while stats.acked < stats.published and time.monotonic() < deadline:
        time.sleep(0.05)
    client.disconnect()
    client.loop_stop()


# ---------------------------------------------------------------- reporting

def proc_sample(pid):
    """(RSS MB, open fds, CPU seconds) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return rss, len(os.listdir(f"/proc/{pid}/fd")), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, StopIteration):
        return None


def report(stats, args, elapsed, interval, cpu_before, own_before):
    times, stats.page_times = stats.page_times, []
    lat, stats.sse_latencies = stats.sse_latencies, []
    stats.all_page_times += times
    stats.all_sse_latencies += lat
    cutoff = time.time() - 60                                # state changes no update will match now
    for key, published in list(stats.pending_states.items()):
        if published < cutoff:
            stats.pending_states.pop(key, None)
    own = time.process_time()
    line = (f"t={elapsed:.0f}s pages={len(times)} p50={ms(percentile(times, 50))} p99={ms(percentile(times, 99))}"
            f" max={ms(max(times, default=None))}ms errors={sum(stats.page_errors.values())}"
            f" sse={stats.sse_connected}/{args.sse_clients} events={stats.sse_events} reconnects={stats.sse_reconnects}"
            f" mqtt={stats.published}/{stats.acked} pub->sse p50={ms(percentile(lat, 50))} p99={ms(percentile(lat, 99))}ms"
            f" load-cpu={100 * (own - own_before) / interval:.0f}%")
    for pid in args.watch_pids:
        sample = proc_sample(pid)
        if sample is None:
            line += f" pid{pid}=gone"
            continue
        stats.rss.setdefault(str(pid), []).append(round(sample[0], 1))
        line += f" pid{pid}: rss={sample[0]:.0f}MB fds={sample[1]} cpu={100 * (sample[2] - cpu_before.get(pid, sample[2])) / interval:.0f}%"
        cpu_before[pid] = sample[2]
    print(line, flush=True)
    return own


async def main(args):
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    stats, stop, thread_stop = Stats(), asyncio.Event(), threading.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    client = Client(args.url)
    await client.sign_in(args.username, args.password)

    mqtt_thread = None
    if args.mqtt_url and args.machines:
        mqtt_thread = threading.Thread(target=mqtt_run, args=(args, stats, thread_stop), daemon=True)
        mqtt_thread.start()
    ever = [False] * args.sse_clients
    ramp = min(10.0, args.sse_clients / 400)                 # a few seconds for thousands
    tasks = [asyncio.create_task(sse_client(client, stats, i, ever, i == 0, ramp * i / max(1, args.sse_clients)))
             for i in range(args.sse_clients)]
    queue = asyncio.Queue()
    if args.page_rate > 0:
        tasks.append(asyncio.create_task(page_scheduler(args.page_rate, args.pages, queue, stop)))
        tasks += [asyncio.create_task(page_worker(client, queue, stats)) for _ in range(POOL)]

    start = last = time.monotonic()
    cpu_before = {pid: (proc_sample(pid) or (0, 0, 0))[2] for pid in args.watch_pids}
    own_before = time.process_time()
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), min(args.report_every, args.seconds - (last - start)))
        except asyncio.TimeoutError:
            pass
        now = time.monotonic()
        own_before = report(stats, args, now - start, max(now - last, 1e-3), cpu_before, own_before)
        last = now
        if now - start >= args.seconds - 0.01:
            stop.set()
    elapsed = time.monotonic() - start
    sse_clients = stats.sse_connected

    thread_stop.set()                                         # stop publishing, wait for acks
    if mqtt_thread:
        await asyncio.to_thread(mqtt_thread.join)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    pages = stats.all_page_times + stats.page_times      # the few that finished after the last report
    stats.all_sse_latencies += stats.sse_latencies
    never = ever.count(False)
    summary = {
        "seconds": round(elapsed, 1), "pages": len(pages), "page_rate": round(len(pages) / elapsed, 1),
        "page_p50_ms": ms(percentile(pages, 50)), "page_p99_ms": ms(percentile(pages, 99)),
        "page_max_ms": ms(max(pages, default=None)), "page_errors": dict(stats.page_errors),
        "page_backlog": queue.qsize(), "sse_clients": sse_clients, "sse_never_connected": never,
        "sse_events": stats.sse_events, "sse_reconnects": stats.sse_reconnects,
        "mqtt_published": stats.published, "mqtt_acked": stats.acked,
        "mqtt_rate": round(stats.published / elapsed, 1),
        "sse_latency_p50_ms": ms(percentile(stats.all_sse_latencies, 50)),
        "sse_latency_p99_ms": ms(percentile(stats.all_sse_latencies, 99)),
        "sse_latency_samples": len(stats.all_sse_latencies), "rss_mb": stats.rss,
    }
    print(f"summary: {len(pages)} pages in {elapsed:.0f} s, {sum(stats.page_errors.values())} errors,"
          f" {never} event streams never connected, {stats.published - stats.acked} MQTT messages unacknowledged")
    print(json.dumps(summary), flush=True)
    return 1 if stats.page_errors or never or stats.acked < stats.published else 0


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8080")
    p.add_argument("--username", required=True, help="user to sign in as (needs to see the --pages)")
    p.add_argument("--password", required=True)
    p.add_argument("--sse-clients", type=int, default=2000, help="GET /events streams held open (default 2000)")
    p.add_argument("--page-rate", type=float, default=200, help="page views per second, all together (default 200)")
    p.add_argument("--pages", default="/plant/S1,/wall/S1", help="comma-separated paths to cycle through")
    p.add_argument("--mqtt-url", help="broker, e.g. mqtt://mes:mes@127.0.0.1:1883; without it no machine data")
    p.add_argument("--machines", type=int, default=500, help="machines M0001.. on lines of ten (default 500)")
    p.add_argument("--machine-rate", type=float, default=5, help="messages per second per machine, state and count together (default 5)")
    p.add_argument("--site", default="S1", help="site code in the MQTT topics (default S1)")
    p.add_argument("--seconds", type=float, default=1800, help="how long to run (default 1800)")
    p.add_argument("--report-every", type=float, default=60, help="seconds between report lines (default 60)")
    p.add_argument("--watch-pids", default="", help="comma-separated pids whose RSS, fds and CPU to report")
    args = p.parse_args()
    args.pages = [page for page in args.pages.split(",") if page]
    args.watch_pids = [int(pid) for pid in args.watch_pids.split(",") if pid]
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
