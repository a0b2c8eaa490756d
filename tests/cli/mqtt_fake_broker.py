#!/usr/bin/env python3
"""A scripted MQTT 3.1.1 broker for test_mqtt.sh: the fault is placed by the test, not by
timing. It logs every PUBLISH it reads, one JSON line each
({"conn", "topic", "payload", "qos", "dup"}), and acknowledges it, except one: the
DROP_AT-th record on TOPIC_EVENT of the first connection, whose connection it closes
without a PUBACK. It accepts the next connection only once MONITOR_JSONL holds a record
after the dropped one, so that record is queued by the client while the link is down.

usage: mqtt_fake_broker.py PORT_FILE LOG TOPIC_EVENT DROP_AT MONITOR_JSONL
(PORT_FILE receives the loopback port it listens on.)"""
import json
import os
import socket
import sys
import time

port_file, log_path, topic_event, drop_at, mon_path = sys.argv[1:6]
drop_at = int(drop_at)
log = open(log_path, "a", buffering=1)


def read_exact(c, n):
    b = b""
    while len(b) < n:
        chunk = c.recv(n - len(b))
        if not chunk:
            raise EOFError
        b += chunk
    return b


def read_packet(c):
    head = read_exact(c, 1)[0]
    mult, length = 1, 0
    while True:
        d = read_exact(c, 1)[0]
        length += (d & 127) * mult
        mult *= 128
        if not d & 128:
            break
    return head, read_exact(c, length) if length else b""


def records_after(payload):
    """True once the monitor's stdout holds an event record after `payload`."""
    try:
        lines = [l.rstrip("\n") for l in open(mon_path)]
    except OSError:
        return False
    if payload not in lines:
        return False
    rest = lines[lines.index(payload) + 1:]
    return any(json.loads(l)["type"] in ("start", "excessive", "episode") for l in rest if l)


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(4)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)

conn, n_event, dropped = 0, 0, None
while True:
    c, _ = srv.accept()
    conn += 1
    try:
        head, body = read_packet(c)
        if head >> 4 != 1:  # CONNECT
            c.close()
            continue
        # CONNACK: session present when the client kept its session (clean session 0).
        flags = body[7]
        c.sendall(bytes([0x20, 2, 0 if flags & 2 else 1, 0]))
        while True:
            head, body = read_packet(c)
            kind = head >> 4
            if kind == 3:  # PUBLISH
                qos = (head >> 1) & 3
                tlen = int.from_bytes(body[:2], "big")
                topic = body[2:2 + tlen].decode()
                pos = 2 + tlen
                mid = None
                if qos:
                    mid = body[pos:pos + 2]
                    pos += 2
                payload = body[pos:].decode()
                log.write(json.dumps({"conn": conn, "topic": topic, "payload": payload,
                                      "qos": qos, "dup": bool(head & 8)}) + "\n")
                if topic == topic_event and dropped is None:
                    n_event += 1
                    if n_event == drop_at:
                        dropped = payload
                        raise EOFError  # no PUBACK: the client must resend it
                if qos == 1:
                    c.sendall(bytes([0x40, 2]) + mid)
            elif kind == 12:  # PINGREQ
                c.sendall(bytes([0xD0, 0]))
            elif kind == 14:  # DISCONNECT
                break
    except (EOFError, ConnectionError):
        pass
    c.close()
    if dropped is not None and conn == 1:
        log.write(json.dumps({"dropped": dropped}) + "\n")
        while not records_after(dropped):
            time.sleep(0.05)
        log.write(json.dumps({"accepting": True}) + "\n")
