#!/usr/bin/env bash
# monitor --mqtt against a real broker: Debian's mosquitto on a free loopback port (with
# persistence, so the subscriber's QoS 1 session survives a restart), mosquitto_sub
# recording everything, and monitor capturing the demo, looped, through the ALSA test
# device (as in test_monitor.sh). Steps wait for conditions, never for fixed times:
#   1. records arrive on crymeter/NAME/event, the same as monitor's stdout; state, level,
#      availability and Home Assistant discovery payloads (component, unique_id,
#      state_topic, device, availability) are as documented;
#   2. the broker is stopped: monitor goes on, its records wait in the queue; the broker
#      comes back: every record of that time arrives, in order, and the monitor record
#      counts a reconnection and no record dropped;
#   3. bad --mqtt options are usage errors; a password in the URL is refused;
#   4. a record in flight when the link drops: a scripted broker (mqtt_fake_broker.py)
#      closes the connection on the 2nd record instead of acknowledging it and takes the
#      next connection only once monitor has written a later record. The resent record
#      must come first on the new connection, before the greeting and the records queued
#      meanwhile (a resent "start" after its "episode", or a resent retained "crying"
#      after "quiet", would mislead a home automation).
set -u
CRYMETER=${CRYMETER:?} CM_SOURCE_DIR=${CM_SOURCE_DIR:?}
. "$(dirname "$0")/lib.sh"
for t in mosquitto mosquitto_sub sox python3; do
    command -v $t >/dev/null || [ -x /usr/sbin/$t ] ||
        { echo "missing $t (make deps installs mosquitto, mosquitto-clients, sox)" >&2; exit 1; }
done
MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)
broker="" sub="" mon="" feeder=""
cleanup() {
    for p in $mon $feeder $sub $broker; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

# 3. usage errors first (no broker needed).
expect_stderr 2 "need --mqtt URL" -- "$CRYMETER" monitor --mqtt-discovery
expect_stderr 2 "--mqtt-queue=0" -- "$CRYMETER" monitor --mqtt mqtt://127.0.0.1 --mqtt-queue 0
expect_stderr 2 "--mqtt-name=Bad/Name" -- "$CRYMETER" monitor --mqtt mqtt://127.0.0.1 --mqtt-name Bad/Name
expect_stderr 2 "unknown option '--mqtt-bogus=x'" -- "$CRYMETER" monitor --mqtt mqtt://127.0.0.1 --mqtt-bogus=x

export ALSA_CONFIG_PATH="/usr/share/alsa/alsa.conf:$CM_SOURCE_DIR/tests/alsa/crymeter-test.conf"
export CM_TEST_INFILE="$T/in.fifo"
sox "$CM_SOURCE_DIR/samples/demo.flac" -t raw -e signed -b 16 -L -r 16000 -c 1 "$T/demo.raw"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$T/db"
cat > "$T/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
user $(id -un)
persistence true
persistence_location $T/db/
log_dest file $T/broker.log
CONF
start_broker() {
    "$MOSQ" -c "$T/mosquitto.conf" 2>> "$T/broker.err" & broker=$!
    wait_for 20 "broker on port $port" python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)"
}
stop_broker() { kill -TERM "$broker"; wait "$broker" 2>/dev/null; broker=""; }
wait_for() { # SECONDS WHAT command...: polls the command every 0.1 s
    local limit=$1 what=$2 i
    shift 2
    for ((i = 0; i < limit * 10; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    bad "timed out after $limit s waiting for $what"
    return 1
}
count() { grep -c "$1" "$2" 2>/dev/null || true; }
atleast() { [ "$(count "$1" "$2")" -ge "${3:-1}" ]; }

start_broker || { finish; exit 1; }
mosquitto_sub -h 127.0.0.1 -p $port -i crymeter-test-sub -c -q 1 -v \
    -t 'crymeter/#' -t 'homeassistant/#' > "$T/sub.txt" 2> "$T/sub.err" & sub=$!
wait_for 10 "the subscriber" grep -q "crymeter-test-sub" "$T/broker.log"

# The demo, looped at 4x real time: continuous input (a silent device would end monitor).
mkfifo "$T/in.fifo"
exec 3<>"$T/in.fifo"
start_feeder() {
    (
        n=$(( $(stat -c%s "$T/demo.raw") / 3200 ))
        while :; do
            for ((i = 0; i < n; i++)); do
                dd if="$T/demo.raw" bs=3200 skip=$i count=1 status=none; sleep 0.025
            done
        done
    ) >&3 & feeder=$!
}
start_feeder
# Refused before any connection: the password belongs in a file or the environment.
expect_stderr 1 "no password in the URL" -- "$CRYMETER" monitor -d crymeter_test --rate 16000 --mqtt mqtt://u:p@127.0.0.1:1
expect_stderr 1 "mqtt-password-file=.*cannot read" -- "$CRYMETER" monitor -d crymeter_test --rate 16000 --mqtt mqtt://127.0.0.1:1 --mqtt-user u --mqtt-password-file "$T/none"
"$CRYMETER" monitor -d crymeter_test --rate 16000 -f jsonl --mqtt "mqtt://127.0.0.1:$port" \
    --mqtt-name nursery --mqtt-discovery --mqtt-level-interval 2 > "$T/mon.jsonl" 2> "$T/mon.err" & mon=$!

# 1. the first episode's record reaches the subscriber.
wait_for 120 "the first episode on MQTT" atleast '^crymeter/nursery/event {"type":"episode"' "$T/sub.txt"
stop_broker
n_down=$(count '"type":"episode"' "$T/mon.jsonl")
# 2. two more episodes end while the broker is away ...
wait_for 180 "two episodes while the broker is down" atleast '"type":"episode"' "$T/mon.jsonl" $((n_down + 2))
n_restart=$(count '"type":"episode"' "$T/mon.jsonl")
start_broker
# ... and reach the subscriber after the reconnection.
wait_for 120 "the queued episodes on MQTT" atleast '^crymeter/nursery/event {"type":"episode"' "$T/sub.txt" "$n_restart"
kill -INT $mon; wait $mon; rc=$?; mon=""
kill $feeder; wait $feeder 2>/dev/null; feeder=""
[ "$rc" = 0 ] && ok || bad "monitor exited $rc: $(cat "$T/mon.err")"
wait_for 10 "offline availability" grep -q '^crymeter/nursery/availability offline' "$T/sub.txt"
kill $sub; wait $sub 2>/dev/null; sub=""

python3 - "$T/mon.jsonl" "$T/sub.txt" "$n_restart" <<'PY' && ok || bad "MQTT content (see above)"
import json, sys
mon = [json.loads(l) for l in open(sys.argv[1])]
n_restart = int(sys.argv[3])
msgs = []
for line in open(sys.argv[2]):
    topic, _, payload = line.rstrip("\n").partition(" ")
    msgs.append((topic, payload))
errors = []
def check(cond, what):
    if not cond: errors.append(what)
recs = [r for r in mon if r["type"] in ("start", "excessive", "episode")]
events = [json.loads(p) for t, p in msgs if t == "crymeter/nursery/event"]
# QoS 1 may deliver a record twice; order and content must match stdout's.
seen = []
for e in events:
    if not seen or seen[-1] != e: seen.append(e)
key = lambda r: (r["type"], r["id"])
want = [key(r) for r in recs]
got = [key(e) for e in seen]
# Records after the last restart may still be in flight when monitor stopped: all records
# up to the n_restart-th episode must be there, in order.
upto = [i for i, r in enumerate(recs) if r["type"] == "episode"][n_restart - 1]
check(got[:upto + 1] == want[:upto + 1], "event records differ: want %s got %s" % (want[:upto + 1], got[:upto + 1]))
by_key = {key(e): e for e in seen}
check(all(by_key.get(key(r)) == r for r in recs[:upto + 1]), "an event payload differs from stdout's record")
states = [p for t, p in msgs if t == "crymeter/nursery/state"]
check(set(states) <= {"crying", "sobbing", "vocal", "quiet"} and "crying" in states, "states: %s" % states)
levels = [json.loads(p) for t, p in msgs if t == "crymeter/nursery/level"]
check(len(levels) >= 3 and all(isinstance(l["spl_db"], (int, float)) for l in levels), "levels: %s" % levels[:3])
avail = [p for t, p in msgs if t == "crymeter/nursery/availability"]
check(avail.count("online") >= 2 and avail[-1] == "offline", "availability: %s" % avail)
disc = {t: json.loads(p) for t, p in msgs if t.startswith("homeassistant/")}
want_disc = {"homeassistant/binary_sensor/crymeter_nursery/crying/config": "crymeter/nursery/state",
             "homeassistant/sensor/crymeter_nursery/sound_level/config": "crymeter/nursery/level",
             "homeassistant/event/crymeter_nursery/episode/config": "crymeter/nursery/event"}
for topic, st in want_disc.items():
    c = disc.get(topic)
    if c is None:
        errors.append("no discovery config on " + topic); continue
    check(c.get("state_topic") == st, topic + ": state_topic")
    check(c.get("availability_topic") == "crymeter/nursery/availability", topic + ": availability")
    check(isinstance(c.get("unique_id"), str) and c["unique_id"].startswith("crymeter_nursery_"), topic + ": unique_id")
    d = c.get("device", {})
    check(d.get("identifiers") == ["crymeter_nursery"] and d.get("name"), topic + ": device")
    check(isinstance(c.get("name"), str), topic + ": name")
check(disc.get("homeassistant/binary_sensor/crymeter_nursery/crying/config", {}).get("device_class") == "sound", "binary_sensor device_class")
s = disc.get("homeassistant/sensor/crymeter_nursery/sound_level/config", {})
check(s.get("device_class") == "sound_pressure" and s.get("unit_of_measurement") == "dBA", "sensor class/unit")
e = disc.get("homeassistant/event/crymeter_nursery/episode/config", {})
check(set(e.get("event_types", [])) == {"start", "excessive", "episode"}, "event_types")
m = mon[-1]
check(m["type"] == "monitor", "last record is not the monitor record")
check(m.get("mqtt_reconnects", 0) >= 1, "mqtt_reconnects: %s" % m.get("mqtt_reconnects"))
check(m.get("mqtt_dropped") == 0, "mqtt_dropped: %s" % m.get("mqtt_dropped"))
check(m.get("mqtt_queued_max", 0) >= 2, "mqtt_queued_max: %s" % m.get("mqtt_queued_max"))
check(m.get("mqtt_acked", 0) >= m.get("mqtt_published", 1) and m.get("mqtt_connected") is True, "published %s acked %s connected %s" % (m.get("mqtt_published"), m.get("mqtt_acked"), m.get("mqtt_connected")))
for e in errors: print("  " + e)
print("records %d, events received %d (%d distinct), queued max %s, reconnects %s" % (len(recs), len(events), len(seen), m.get("mqtt_queued_max"), m.get("mqtt_reconnects")))
sys.exit(1 if errors else 0)
PY

# 4. the scripted broker.
stop_broker
start_feeder
python3 "$CM_SOURCE_DIR/tests/cli/mqtt_fake_broker.py" "$T/fake.port" "$T/fake.log" \
    crymeter/nursery/event 2 "$T/mon4.jsonl" 2> "$T/fake.err" & broker=$!
wait_for 20 "the scripted broker" test -s "$T/fake.port"
"$CRYMETER" monitor -d crymeter_test --rate 16000 -f jsonl --mqtt-name nursery \
    --mqtt "mqtt://127.0.0.1:$(cat "$T/fake.port")" > "$T/mon4.jsonl" 2> "$T/mon4.err" & mon=$!
# Two records on a later connection: the resent one and one queued while the link was down.
later_events() {
    python3 - "$T/fake.log" <<'PY'
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(sum(1 for e in log if e.get("conn", 1) > 1 and e.get("topic") == "crymeter/nursery/event") < 2)
PY
}
wait_for 240 "two records after the reconnection" later_events
kill -INT $mon; wait $mon; rc=$?; mon=""
kill $feeder; wait $feeder 2>/dev/null; feeder=""; exec 3>&-
[ "$rc" = 0 ] && ok || bad "monitor (scripted broker) exited $rc: $(cat "$T/mon4.err")"
python3 - "$T/mon4.jsonl" "$T/fake.log" <<'PY' && ok || bad "order after a dropped link (see above)"
import json, sys
recs = [l.rstrip("\n") for l in open(sys.argv[1])
        if json.loads(l)["type"] in ("start", "excessive", "episode")]
log = [json.loads(l) for l in open(sys.argv[2])]
dropped = next(e["dropped"] for e in log if "dropped" in e)
pubs = [e for e in log if "topic" in e]
later = [e for e in pubs if e["conn"] > 1 and e["qos"] == 1]
errors = []
key = lambda p: "%s %s" % (json.loads(p)["type"], json.loads(p)["id"])
if not later or later[0]["payload"] != dropped or not later[0]["dup"]:
    errors.append("first message on the new connection: %s; want the unacknowledged %s, "
                  "marked dup" % ([(e["topic"], e["payload"][:40], e["dup"]) for e in later[:1]], key(dropped)))
events = [e["payload"] for e in pubs if e["topic"] == "crymeter/nursery/event"]
i = events.index(dropped)
if i + 1 < len(events) and events[i + 1] == dropped:
    del events[i + 1]  # the one resend QoS 1 allows
if events != recs[:len(events)]:
    errors.append("records on the broker, in order: %s; want %s"
                  % ([key(p) for p in events], [key(p) for p in recs[:len(events)]]))
states = [e["payload"] for e in pubs if e["topic"] == "crymeter/nursery/state"]
if not states or states[-1] != "quiet":
    errors.append("retained state at the end: %s, want quiet" % states[-1:])
for e in errors:
    print("  " + e)
print("scripted broker: %d records on stdout, %d on the broker, dropped %s"
      % (len(recs), len(events), key(dropped)))
sys.exit(1 if errors else 0)
PY
finish
