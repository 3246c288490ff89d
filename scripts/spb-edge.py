#!/usr/bin/env python3
"""A Sparkplug B edge node built on pysparkplug 0.6.1, a third-party library, to test
`mes collect --sparkplug-host` against a peer it did not write.

One edge node with one device lives through two sessions and the faults a host must handle:
  session 1 (bdSeq 0): NBIRTH, DBIRTH, alias-only DDATA;
    a gap in seq                  -> the host must send NCMD Rebirth; answered with births;
    a DDATA with an unknown alias -> the host must send NCMD Rebirth; answered with births;
    the connection closes without an NDEATH;
  session 2 (bdSeq 1): births, DDATA;
    an NDEATH carrying bdSeq 0    -> stale, the host must ignore it;
    DDATA after it, then the cycle counter resets to 0 (a PLC restart) and counts on;
    the right NDEATH (bdSeq 1)    -> the host marks the device offline.
Payloads are encoded by pysparkplug. It prints one JSON object with what the host should have
stored, and exits non-zero if a rebirth request does not come within 10 s.

  spb-edge.py --url mqtt://user:pass@host:port [--group G] [--node N] [--device D] [--cycles K]
"""
import argparse, json, sys, threading, time
from urllib.parse import urlparse

import pysparkplug as spb

STATE, CYCLES, REJECTS, BORE = "Machine/State", "Counters/CycleCount", "Counters/RejectParts", "Gauge/BoreDiameter"
ALIASES = {STATE: 1, CYCLES: 2, REJECTS: 3, BORE: 4}
TYPES = {STATE: spb.DataType.STRING, CYCLES: spb.DataType.INT64, REJECTS: spb.DataType.INT32, BORE: spb.DataType.DOUBLE}


def now():
    return spb.get_current_timestamp()


class Edge:
    def __init__(self, args):
        self.args = args
        self.values = {STATE: "RUNNING", CYCLES: 100, REJECTS: 0, BORE: 12.0}
        self.rebirth_requested = threading.Event()
        self.rebirths = 0

    def topic(self, kind, device=None):
        return spb.Topic(message_type=kind, group_id=self.args.group, edge_node_id=self.args.node, device_id=device)

    def publish(self, kind, payload, device=None):
        self.client.publish(spb.Message(topic=self.topic(kind, device), payload=payload, qos=spb.QoS.AT_MOST_ONCE, retain=False),
                            include_dtypes=kind in (spb.MessageType.NBIRTH, spb.MessageType.DBIRTH))
        time.sleep(0.02)

    def next_seq(self):
        seq = self.seq
        self.seq = (self.seq + 1) % 256
        return seq

    def bd_seq_metric(self):
        return spb.Metric(timestamp=now(), name="bdSeq", datatype=spb.DataType.INT64, value=self.bd_seq)

    def connect(self, bd_seq):
        url = urlparse(self.args.url)
        self.bd_seq = bd_seq
        self.client = spb.Client(client_id=f"spb-edge-{self.args.node}-{bd_seq}", username=url.username, password=url.password)
        will = spb.NDeath(timestamp=now(), bd_seq_metric=self.bd_seq_metric())
        self.client.set_will(spb.Message(topic=self.topic(spb.MessageType.NDEATH), payload=will, qos=spb.QoS.AT_LEAST_ONCE, retain=False))
        connected = threading.Event()
        self.client.connect(url.hostname, port=url.port, blocking=False, callback=lambda _client: connected.set())
        if not connected.wait(10):
            sys.exit("spb-edge: could not connect to the broker")
        self.client.subscribe(self.topic(spb.MessageType.NCMD), spb.QoS.AT_LEAST_ONCE, self.on_command)
        time.sleep(0.2)
        self.births()

    def births(self):
        self.seq = 0
        control = spb.Metric(timestamp=now(), name="Node Control/Rebirth", datatype=spb.DataType.BOOLEAN, value=False)
        self.publish(spb.MessageType.NBIRTH, spb.NBirth(timestamp=now(), seq=self.next_seq(), metrics=(control, self.bd_seq_metric())))
        metrics = tuple(spb.Metric(timestamp=now(), name=name, alias=ALIASES[name], datatype=TYPES[name], value=value)
                        for name, value in self.values.items())
        self.publish(spb.MessageType.DBIRTH, spb.DBirth(timestamp=now(), seq=self.next_seq(), metrics=metrics), self.args.device)

    def on_command(self, _client, message):
        if any(metric.name == "Node Control/Rebirth" and metric.value for metric in message.payload.metrics):
            self.rebirth_requested.set()

    def data(self, changes, extra=()):
        """Alias-only DDATA, as the specification asks (pysparkplug's own update_device sends names)."""
        self.values.update(changes)
        metrics = tuple(spb.Metric(timestamp=now(), name=None, alias=ALIASES[name], datatype=TYPES[name], value=self.values[name])
                        for name in changes) + tuple(extra)
        self.publish(spb.MessageType.DDATA, spb.DData(timestamp=now(), seq=self.next_seq(), metrics=metrics), self.args.device)

    def cycles(self, count):
        for _ in range(count):
            changes = {CYCLES: self.values[CYCLES] + 1, BORE: 12.0 + 0.001 * (self.values[CYCLES] % 7)}
            if changes[CYCLES] % 5 == 0:
                changes[REJECTS] = self.values[REJECTS] + 1
            self.data(changes)

    def await_rebirth(self, why):
        if not self.rebirth_requested.wait(10):
            print(json.dumps({"error": f"no rebirth request after {why}"}))
            sys.exit(3)
        self.rebirth_requested.clear()
        self.births()
        self.rebirths += 1

    def ndeath(self, bd_seq):
        metric = spb.Metric(timestamp=now(), name="bdSeq", datatype=spb.DataType.INT64, value=bd_seq)
        self.publish(spb.MessageType.NDEATH, spb.NDeath(timestamp=now(), bd_seq_metric=metric))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="broker, mqtt://user:password@host:port")
    parser.add_argument("--group", default="Plant1")
    parser.add_argument("--node", default="Peer-Line")
    parser.add_argument("--device", default="PEER-01")
    parser.add_argument("--cycles", type=int, default=10, help="cycles per stretch of DDATA")
    args = parser.parse_args()
    edge = Edge(args)
    first = edge.values[CYCLES]

    edge.connect(bd_seq=0)
    edge.cycles(args.cycles)
    edge.next_seq()  # a message lost on the way: the host sees a gap
    edge.cycles(1)
    edge.await_rebirth("a seq gap")
    unknown = spb.Metric(timestamp=now(), name=None, alias=99, datatype=spb.DataType.INT64, value=7)
    edge.data({CYCLES: edge.values[CYCLES] + 1}, extra=(unknown,))
    edge.await_rebirth("an unknown alias")
    edge.cycles(args.cycles)
    edge.client.disconnect()  # no NDEATH, no will: the host still thinks session 1 is alive
    time.sleep(0.3)

    edge.connect(bd_seq=1)
    edge.cycles(args.cycles)
    edge.ndeath(0)  # a stale NDEATH from session 1
    edge.cycles(args.cycles)
    before_reset = edge.values[CYCLES]
    edge.data({CYCLES: 0})  # the PLC restarted its counter
    edge.cycles(args.cycles)
    edge.ndeath(1)
    time.sleep(0.2)
    edge.client.disconnect()
    print(json.dumps({
        "parts": (before_reset - first) + edge.values[CYCLES],
        "rejects": edge.values[REJECTS],
        "rebirths": edge.rebirths,
    }))


if __name__ == "__main__":
    main()
