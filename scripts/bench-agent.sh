#!/usr/bin/env bash
# Edge agent benchmarks (release build): intake readings/s on one core, publish throughput
# to a local mosquitto, RSS idle and under 5,000 readings/s of the shipped agent (the static
# build of scripts/build-agent.sh). Writes the figures into BENCHMARKS.md between
# <!-- agent:begin --> and <!-- agent:end -->.
#   scripts/bench-agent.sh            # SCRATCH=.build-bench to choose the build folder
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH="${SCRATCH:-.build}"
# BUILD_FLAGS, e.g. "-Xswiftc -enable-testing", reuses a build made for `swift test -c release`.
read -r -a EXTRA <<< "${BUILD_FLAGS:-}"
swift build -c release --scratch-path "$SCRATCH" "${EXTRA[@]}" --product bench-agent >&2
BIN="$SCRATCH/release"
AGENT="$(SCRATCH="$SCRATCH" scripts/build-agent.sh)"
WORK="$(mktemp -d /tmp/bench-agent.XXXXXX)"
cleanup() {
  [[ -n "${AGENT_PID:-}" ]] && kill "$AGENT_PID" 2>/dev/null || true
  [[ -n "${FEED_PID:-}" ]] && kill "$FEED_PID" 2>/dev/null || true
  [[ -n "${BROKER_PID:-}" ]] && kill "$BROKER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT="$(free_port)"
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n' "$PORT" > "$WORK/mosquitto.conf"
mosquitto -c "$WORK/mosquitto.conf" > "$WORK/mosquitto.log" 2>&1 &
BROKER_PID=$!
sleep 0.5

echo "intake..." >&2
INTAKE="$(taskset -c 0 "$BIN/bench-agent" intake --readings 50000 --group 500)"
echo "publish..." >&2
PUBLISH="$("$BIN/bench-agent" publish --port "$PORT" --records 50000 --batch 200)"

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
anon_kb() { awk '/RssAnon/ {print $2}' "/proc/$1/status"; }
"$AGENT" init --key "$WORK/device.key" > /dev/null 2>&1
AUTH="$(python3 -c 'print("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")')"
METRICS_PORT="$(free_port)"
write_config() { # $1 = stdin true/false
  cat > "$WORK/agent.toml" <<TOML
[device]
enterprise = "ZS123"
id = "bench-box"
key_file = "device.key"
[broker]
port = $PORT
[authority]
public_key = "$AUTH"
[inputs]
stdin = $1
[storage]
path = "agent-$1.sqlite"
[operations]
metrics_port = $METRICS_PORT
log_level = "warning"
TOML
}

echo "RSS idle..." >&2
write_config false
"$AGENT" run --config "$WORK/agent.toml" 2> "$WORK/agent-idle.log" &
AGENT_PID=$!
sleep 2
RSS_EARLY="$(rss_kb "$AGENT_PID")"
sleep 3
RSS_IDLE="$(rss_kb "$AGENT_PID")"
ANON_IDLE="$(anon_kb "$AGENT_PID")"
# Resident MB by mapped file (and [heap], [stack], anonymous) at 5 s, largest first.
BY_MAPPING="$(python3 - "$AGENT_PID" <<'PY'
import sys, collections
rss, name = collections.Counter(), None
for line in open(f"/proc/{sys.argv[1]}/smaps"):
    parts = line.split()
    if not parts[0].endswith(":"):
        name = parts[5].rsplit("/", 1)[-1] if len(parts) > 5 else "anonymous"
    elif parts[0] == "Rss:":
        rss[name] += int(parts[1])
print(", ".join(f"{n} {k / 1024:.1f}" for n, k in rss.most_common() if k >= 100))
PY
)"
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || true; AGENT_PID=""

echo "RSS under 5,000 readings/s for 20 s..." >&2
write_config true
mkfifo "$WORK/feed"
"$AGENT" run --config "$WORK/agent.toml" < "$WORK/feed" 2> "$WORK/agent-load.log" &
AGENT_PID=$!
"$AGENT" simulate --stage transport --rate 5000 --count 100000 --lots 20 > "$WORK/feed" &
FEED_PID=$!
RSS_MAX=0
ANON_MAX=0
for _ in $(seq 1 40); do
  sleep 0.5
  r="$(rss_kb "$AGENT_PID")"; (( r > RSS_MAX )) && RSS_MAX=$r
  a="$(anon_kb "$AGENT_PID")"; (( a > ANON_MAX )) && ANON_MAX=$a
done
ACCEPTED="$(curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | awk '/^agritrace_agent_readings_accepted_total/ {print $2}')"
kill "$FEED_PID" 2>/dev/null || true; FEED_PID=""
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || true; AGENT_PID=""

CPU="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
{
  echo "<!-- agent:begin -->"
  echo "## Edge agent (\`scripts/bench-agent.sh\`)"
  echo
  echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, ${CPU}; release build; mosquitto $(mosquitto -h 2>/dev/null | head -1 | awk '{print $3}') on loopback."
  echo
  echo "| figure | value | target |"
  echo "|---|---|---|"
  while read -r line; do
    target=""; [[ "$line" == intake* ]] && target=">= 20,000 readings/s"
    echo "| $(echo "$line" | awk '{print $1}' | tr '_' ' '): $(echo "$line" | cut -d' ' -f4-) | $(echo "$line" | awk '{print $2, $3}') | $target |"
  done <<< "$INTAKE"$'\n'"$PUBLISH"
  echo "| RSS idle before the start-up pages are released (connected, no input, 2 s): VmRSS | $((RSS_EARLY / 1024)) MB | |"
  echo "| RSS idle (connected, no input, after 5 s): VmRSS / of which anonymous (RssAnon) | $((RSS_IDLE / 1024)) MB / $((ANON_IDLE / 1024)) MB | <= 15 MB |"
  echo "| RSS peak fed 5,000 readings/s for 20 s (transport readings on stdin; ${ACCEPTED:-?} accepted in 20 s): VmRSS / RssAnon | $((RSS_MAX / 1024)) MB / $((ANON_MAX / 1024)) MB | <= 30 MB |"
  echo
  echo "The agent is the static binary of \`scripts/build-agent.sh\` (Swift runtime and FoundationEssentials linked in, no Foundation); 3 s after start it gives the pages only start-up used back to the kernel (\`[operations] release_startup_pages\`, docs/agent.md). VmRSS counts file-backed pages (the binary, libc, OpenSSL, SQLite, libmosquitto) and RssAnon, the agent's own memory. Idle resident MB by mapping at 5 s: ${BY_MAPPING}."
  echo
  echo "Load average when measured: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine lowers the wall-clock figures; the per-CPU-second figure is less sensitive to it)."
  echo
  echo "Command: \`scripts/bench-agent.sh\`${BUILD_FLAGS:+ with BUILD_FLAGS=\"$BUILD_FLAGS\"} (intake pinned with \`taskset -c 0\`)."
  echo "<!-- agent:end -->"
} > "$WORK/section.md"
cat "$WORK/section.md"
python3 scripts/bench-section.py agent "$WORK/section.md"
