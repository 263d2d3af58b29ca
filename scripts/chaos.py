#!/usr/bin/env python3
"""The chaos run of RELIABILITY.md: real parts on loopback, faults at random moments.

Started by scripts/chaos.sh (which builds the binaries and puts them on PATH). It provisions a
deployment with the project's own commands (Provisioning/demo-deployment.sh: the CA, enrolled
boxes, a mosquitto with a TLS-only listener, client certificates and the per-device ACL), runs
`agritrace serve` and one `agritrace-agent` per box, feeds every agent readings continuously
(each with a unique lot, its id on the ledger), and meanwhile: kills the agents and `serve`
with SIGKILL, restarts the broker (SIGTERM or SIGKILL), fills the first box's data filesystem
(a tmpfs mounted for it; root only) and frees it, steps the agents' wall clock back and forward
(libfaketime, LD_PRELOAD, through a timestamp file: the monotonic clock is left alone, as NTP
leaves it) and sends storms of SIGHUP to `serve` and the agents. Then it stops the load, waits
until every outbox is empty, stops everything gracefully and counts: readings fed, accepted
by the agents, receipted, on the ledger, lost and duplicated; and runs `agritrace verify
--signatures` and `agritrace replay`. Exit status 1 when anything is lost or duplicated, a
process crashed on its own, or a check fails; 2 on a set-up error.
"""

import argparse
import datetime
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

FAKETIME_LIBRARY = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
BOXES = [
    ("farm-box-01", "FARM1", "planting"),
    ("warehouse-box-01", "WARE1", "warehousing"),
    ("truck-01", "LOGI1", "transport"),
]


def parse_arguments():
    """The options, with the issue's figures as defaults; --quick for development."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default="chaos-data", help="working folder (removed at the start)")
    parser.add_argument("--duration", type=int, default=1200, help="seconds of faults under load")
    parser.add_argument("--agent-kills", type=int, default=50)
    parser.add_argument("--serve-kills", type=int, default=50)
    parser.add_argument("--broker-restarts", type=int, default=8)
    parser.add_argument("--disk-full", type=int, default=4, help="full-disk episodes on the first box")
    parser.add_argument("--disk-full-seconds", type=float, default=20)
    parser.add_argument("--disk-size-mb", type=int, default=256, help="the first box's tmpfs")
    parser.add_argument("--clock-steps", type=int, default=12, help="steps (two a window: away and back)")
    parser.add_argument("--clock-window-seconds", type=float, default=20)
    parser.add_argument("--sighup-storms", type=int, default=6)
    parser.add_argument("--sighups-per-storm", type=int, default=20)
    parser.add_argument("--sighup-min-age", type=float, default=2, help="seconds a process must have run to get SIGHUPs")
    parser.add_argument("--agents", type=int, default=2, choices=[1, 2, 3])
    parser.add_argument("--rate", type=float, default=20, help="readings per second per agent")
    parser.add_argument("--resend-timeout-ms", type=int, default=30000, help="the agents' delivery.resend_timeout_ms")
    parser.add_argument("--drain-timeout", type=int, default=600, help="seconds to wait for empty outboxes")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--no-disk", action="store_true", help="skip the full-disk episodes (when not root)")
    parser.add_argument("--quick", action="store_true", help="3 kills each, one of every other fault, 90 s")
    options = parser.parse_args()
    if options.quick:
        options.duration, options.agent_kills, options.serve_kills = 90, 3, 3
        options.broker_restarts, options.disk_full, options.clock_steps = 1, 1, 2
        options.clock_window_seconds = 15
        options.sighup_storms, options.disk_full_seconds = 1, 10
    if options.seed is None:
        options.seed = random.SystemRandom().randrange(1 << 31)
    return options


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc)


class Run:
    """The deployment, its processes, the load and the fault log of one chaos run."""

    def __init__(self, options):
        self.options = options
        self.random = random.Random(options.seed)
        self.dir = os.path.abspath(options.dir)
        self.boxes = BOXES[: options.agents]
        self.lock = threading.Lock()
        self.counts = {"agent kills": 0, "serve kills": 0, "broker restarts": 0, "disk-full episodes": 0,
                       "clock steps": 0, "SIGHUPs to serve": 0, "SIGHUPs to agents": 0,
                       "SIGHUPs skipped (starting)": 0}
        self.started = {}
        self.crashes = []
        self.fed = {box: 0 for box, _, _ in self.boxes}
        self.serve = None
        self.agents = {}
        self.stopping = threading.Event()
        self.expected_exit = set()
        self.start_time = time.monotonic()

    # ---- logging -------------------------------------------------------------------------

    def log(self, message):
        elapsed = time.monotonic() - self.start_time
        line = f"[{elapsed:7.1f}s] {message}"
        print(line, flush=True)
        with open(os.path.join(self.dir, "chaos.log"), "a") as file:
            file.write(line + "\n")

    def run_command(self, arguments, check=True, **kwargs):
        result = subprocess.run(arguments, capture_output=True, text=True, **kwargs)
        if check and result.returncode != 0:
            raise SystemExit(f"set-up failed: {' '.join(arguments)}\n{result.stdout}{result.stderr}")
        return result

    # ---- set-up --------------------------------------------------------------------------

    def provision(self):
        if os.path.exists(self.dir):
            self.unmount()
            subprocess.run(["rm", "-rf", self.dir], check=True)
        os.makedirs(self.dir)
        self.port, self.api_port = free_port(), free_port()
        repository = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.log(f"provisioning (CA, boxes, mTLS broker on 127.0.0.1:{self.port}) in {self.dir}; seed {self.options.seed}")
        self.run_command([os.path.join(repository, "Provisioning", "demo-deployment.sh"), self.dir,
                          "--port", str(self.port), "--start"], env={**os.environ, "AGRITRACE_ENROLL": "agritrace enroll"})
        self.cloud = os.path.join(self.dir, "cloud", "aggregator")
        self.store = os.path.join(self.cloud, "ledger.sqlite")
        self.run_command(["agritrace", "keygen", "--output", os.path.join(self.cloud, "authority.key")])
        with open(os.path.join(self.cloud, "authority.key.pub")) as file:
            self.authority = file.read().strip()
        self.clock_file = os.path.join(self.dir, "faketime")
        with open(self.clock_file, "w") as file:
            file.write("+0\n")

    def mount_disk(self):
        """The first box's data folder on its own small filesystem, to fill and free."""
        home = self.box_home(self.boxes[0][0])
        self.disk = os.path.join(home, "data")
        os.makedirs(self.disk, exist_ok=True)
        if self.options.no_disk:
            return
        if os.geteuid() != 0:
            raise SystemExit("the full-disk episodes mount a tmpfs and need root; run as root or pass --no-disk")
        self.run_command(["mount", "-t", "tmpfs", "-o", f"size={self.options.disk_size_mb}m", "chaos-disk", self.disk])

    def unmount(self):
        disk = os.path.join(self.dir, "boxes", BOXES[0][0], "data")
        if os.path.ismount(disk):
            subprocess.run(["umount", "-l", disk], check=False)

    def box_home(self, box):
        return os.path.join(self.dir, "boxes", box)

    def write_agent_configuration(self, box, enterprise, stage):
        home = self.box_home(box)
        os.makedirs(os.path.join(home, "data"), exist_ok=True)
        with open(os.path.join(home, "agent.toml"), "w") as file:
            file.write(f"""[device]
enterprise = "{enterprise}"
id = "{box}"
stage = "{stage}"
enrolled_at = "2026-01-01T00:00:00Z"
key_file = "device.key"

[broker]
host = "127.0.0.1"
port = {self.port}
ca_file = "ca.crt"
certificate_file = "tls.crt"
key_file = "tls.key"

[authority]
public_key = "{self.authority}"

[inputs]
files = ["readings.jsonl"]

[storage]
path = "data/agent.sqlite"

[delivery]
resend_timeout_ms = {self.options.resend_timeout_ms}

[operations]
metrics_port = 0
""")
        open(os.path.join(home, "readings.jsonl"), "a").close()

    def register_boxes(self):
        """Each box's signing key (agritrace-agent init) on the ledger through `devices add`."""
        for _ in range(100):
            if os.path.exists(self.store):
                break
            time.sleep(0.1)
        for box, enterprise, stage in self.boxes:
            self.write_agent_configuration(box, enterprise, stage)
            configuration = os.path.join(self.box_home(box), "agent.toml")
            self.run_command(["agritrace-agent", "init", "--config", configuration])
            self.run_command(["agritrace", "devices", "add", "--enrollment",
                              os.path.join(self.box_home(box), "enrollment.json"), "--any-stage",
                              "--authority-key", os.path.join(self.cloud, "authority.key"),
                              "--store", self.store, "--wait", "60"])
            self.log(f"registered {enterprise}/{box} on the ledger")

    # ---- processes -----------------------------------------------------------------------

    def start_serve(self):
        c = self.cloud
        log = open(os.path.join(c, "serve.log"), "a")
        self.serve = subprocess.Popen(
            ["agritrace", "serve", "--store", self.store, "--authority-key", os.path.join(c, "authority.key"),
             "--broker-host", "127.0.0.1", "--broker-port", str(self.port), "--client-id", "aggregator",
             "--tls-ca", os.path.join(c, "ca.crt"), "--tls-cert", os.path.join(c, "tls.crt"),
             "--tls-key", os.path.join(c, "tls.key"), "--http-port", str(self.api_port),
             "--api-cert", os.path.join(c, "api.crt"), "--api-key", os.path.join(c, "api.key"),
             "--api-client-ca", os.path.join(c, "ca.crt"), "--api-client-crl", os.path.join(self.dir, "ca", "crl.pem")],
            stdout=log, stderr=log, start_new_session=True)
        log.close()
        self.started[self.serve.pid] = time.monotonic()

    def start_agent(self, box):
        home = self.box_home(box)
        # FAKETIME_SHARED set beforehand: otherwise libfaketime's set-up calls setenv() and the
        # Swift program then saw no command-line arguments (tried here: libfaketime 0.9.10).
        environment = {**os.environ, "LD_PRELOAD": FAKETIME_LIBRARY, "FAKETIME_TIMESTAMP_FILE": self.clock_file,
                       "FAKETIME_DONT_FAKE_MONOTONIC": "1", "FAKETIME_CACHE_DURATION": "1",
                       "FAKETIME_SHARED": "none none"}
        log = open(os.path.join(home, "agent.log"), "a")
        self.agents[box] = subprocess.Popen(
            ["agritrace-agent", "run", "--config", os.path.join(home, "agent.toml")],
            stdout=log, stderr=log, env=environment, start_new_session=True)
        log.close()
        self.started[self.agents[box].pid] = time.monotonic()

    def broker_pid(self):
        try:
            with open(os.path.join(self.dir, "broker", "mosquitto.pid")) as file:
                return int(file.read().strip())
        except (OSError, ValueError):
            return None

    def start_broker(self):
        self.run_command(["mosquitto", "-c", os.path.join(self.dir, "broker", "mosquitto.conf"), "-d"],
                         stdin=subprocess.DEVNULL)
        for _ in range(100):
            if self.broker_pid() is not None:
                return
            time.sleep(0.05)

    def watch(self):
        """A process that exits when the run did not stop it is a crash: count it, restart it."""
        with self.lock:
            processes = [("serve", self.serve)] + [(box, p) for box, p in self.agents.items()]
            for name, process in processes:
                if process is None or process.poll() is None or process.pid in self.expected_exit:
                    continue
                self.crashes.append(f"{name} exited with status {process.returncode}")
                self.log(f"CRASH: {name} exited on its own with status {process.returncode}; restarting it")
                self.start_serve() if name == "serve" else self.start_agent(name)
            if self.broker_pid() is None or not os.path.exists(f"/proc/{self.broker_pid()}"):
                self.crashes.append("mosquitto was not running")
                self.log("CRASH: mosquitto is not running; restarting it")
                self.start_broker()

    # ---- load ----------------------------------------------------------------------------

    def templates(self, stage):
        output = self.run_command(["agritrace-agent", "simulate", "--stage", stage, "--rate", "0", "--lots", "20",
                                   "--count", "200", "--seed", str(self.options.seed)]).stdout
        return [json.loads(line) for line in output.splitlines() if line.strip()]

    def feed(self, box, stage):
        """Appends readings at the chosen rate, one write per line, each with a unique lot."""
        templates = self.templates(stage)
        path = os.path.join(self.box_home(box), "readings.jsonl")
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND)
        interval = 1 / self.options.rate
        next_time = time.monotonic()
        while not self.stopping.is_set():
            reading = dict(templates[self.fed[box] % len(templates)])
            reading["lot"] = f"CHAOS-{box}-{self.fed[box]:07d}"
            reading["time"] = now_utc().isoformat(timespec="milliseconds")
            os.write(descriptor, (json.dumps(reading, separators=(",", ":")) + "\n").encode())
            self.fed[box] += 1
            next_time += interval
            time.sleep(max(0, next_time - time.monotonic()))
        os.close(descriptor)

    # ---- faults --------------------------------------------------------------------------

    def kill_agent(self):
        self.kill_and_restart(self.random.choice(self.boxes)[0], 1.5)

    def kill_serve(self):
        self.kill_and_restart("serve", 3)

    def kill_and_restart(self, name, longest_pause):
        """kill -9 of `serve` or an agent, then a start after a random pause."""
        with self.lock:
            process = self.serve if name == "serve" else self.agents[name]
            self.expected_exit.add(process.pid)
            process.kill()
            process.wait()
            self.counts["serve kills" if name == "serve" else "agent kills"] += 1
        time.sleep(self.random.uniform(0, longest_pause))
        with self.lock:
            self.start_serve() if name == "serve" else self.start_agent(name)
        self.log(f"kill -9 {name} (pid {process.pid}); restarted")

    def restart_broker(self):
        how = self.random.choice([signal.SIGTERM, signal.SIGKILL])
        with self.lock:
            pid = self.broker_pid()
            if pid is not None:
                try:
                    os.kill(pid, how)
                except ProcessLookupError:
                    pass
                for _ in range(100):
                    if not os.path.exists(f"/proc/{pid}"):
                        break
                    time.sleep(0.05)
            os.unlink(os.path.join(self.dir, "broker", "mosquitto.pid")) if how == signal.SIGKILL else None
            self.counts["broker restarts"] += 1
            down = self.random.uniform(0.5, 5)
            time.sleep(down)
            self.start_broker()
        self.log(f"broker {how.name} (pid {pid}), down {down:.1f} s, restarted")

    def fill_disk(self):
        """Fills the first box's filesystem (to 0 bytes free, or to a few MiB below the
        agent's 32 MiB headroom, in turn), holds it full, then frees it."""
        if self.options.no_disk:
            return
        episode = self.counts["disk-full episodes"]
        leave = 0 if episode % 2 == 0 else 8 << 20
        filler = os.path.join(self.disk, f"filler-{episode}")
        chunk = b"\0" * (1 << 20)
        written = 0
        with open(filler, "wb") as file:
            while True:
                free = os.statvfs(self.disk).f_bavail * os.statvfs(self.disk).f_frsize
                if free <= leave:
                    break
                try:
                    file.write(chunk[: min(len(chunk), free - leave)])
                    file.flush()
                    written += min(len(chunk), free - leave)
                except OSError:
                    break
        free = os.statvfs(self.disk).f_bavail * os.statvfs(self.disk).f_frsize
        self.log(f"disk full: wrote {written >> 20} MiB to {self.disk}, {free} bytes free; holding {self.options.disk_full_seconds:.0f} s")
        self.counts["disk-full episodes"] += 1
        self.stopping.wait(self.options.disk_full_seconds)
        os.unlink(filler)
        self.log("disk freed")

    def clock_window(self):
        """Steps the agents' clock away (back in odd windows, forward in even ones) by 90 s
        to 400 days, holds it there, then steps it to the real time again: two steps."""
        backward = self.counts["clock steps"] % 4 == 0
        offset = self.random.choice([90, 3600, 86400 * 2, 86400 * 400]) * (-1 if backward else 1)
        self.set_clock(offset)
        self.log(f"agents' clock stepped {'back' if backward else 'forward'} to now{offset:+d} s")
        self.stopping.wait(self.options.clock_window_seconds)
        self.set_clock(0)
        self.log(f"agents' clock stepped {'forward' if backward else 'back'} to the real time")

    def set_clock(self, offset):
        with open(self.clock_file + ".tmp", "w") as file:
            file.write(f"{offset:+d}s\n")
        os.replace(self.clock_file + ".tmp", self.clock_file)
        self.counts["clock steps"] += 1

    def sighup_storm(self):
        """SIGHUPs to `serve` and every agent, 20 ms apart. A process younger than
        --sighup-min-age is left out (counted): until it has installed its handler, SIGHUP's
        default action ends it (RELIABILITY.md, "Chaos", the start-up window); 0 sends anyway."""
        for _ in range(self.options.sighups_per_storm):
            with self.lock:
                for name, process in [("serve", self.serve)] + list(self.agents.items()):
                    kind = "serve" if name == "serve" else "agents"
                    if process.poll() is not None:
                        continue
                    if time.monotonic() - self.started[process.pid] < self.options.sighup_min_age:
                        self.counts["SIGHUPs skipped (starting)"] += 1
                        continue
                    process.send_signal(signal.SIGHUP)
                    self.counts[f"SIGHUPs to {kind}"] += 1
            time.sleep(0.02)
        self.log(f"SIGHUP storm: {self.options.sighups_per_storm} to serve and to each agent")

    def schedule(self):
        """Every fault at a random moment of the run, as (time, action), in time order.

        libfaketime also shifts the absolute timerfd deadlines of the Swift concurrency
        runtime by the offset: a `Task.sleep` armed while the clock is away never ends (a
        four-line program shows it). The agent has one, the retry of a first connection that
        failed; so agents are not started (killed) and the broker is not restarted from 40 s
        before a clock window to 2 s after it. `serve` (not under libfaketime) is killed at
        any moment."""
        o, span = self.options, self.options.duration * 0.95
        windows = o.clock_steps // 2
        slot = span / max(windows, 1)
        starts = [self.random.uniform(i * slot + 45, (i + 1) * slot - o.clock_window_seconds - 5)
                  for i in range(windows)]
        plan = [(start, lambda: threading.Thread(target=self.clock_window, daemon=True).start()) for start in starts]
        free = lambda t: all(not (start - 40 <= t <= start + o.clock_window_seconds + 2) for start in starts)
        for count, action, avoid in [(o.agent_kills, self.kill_agent, True), (o.serve_kills, self.kill_serve, False),
                                     (o.broker_restarts, self.restart_broker, True),
                                     (o.sighup_storms, self.sighup_storm, False)]:
            moments = []
            while len(moments) < count:
                moment = self.random.uniform(5, span)
                if not avoid or free(moment):
                    moments.append(moment)
            plan += [(moment, action) for moment in moments]
        # The disk episodes run beside the rest: spread them out so they do not overlap.
        if o.disk_full and not o.no_disk:
            slot = span / o.disk_full
            self.disk_plan = [self.random.uniform(i * slot + 5, (i + 1) * slot - o.disk_full_seconds - 1)
                              for i in range(o.disk_full)]
        else:
            self.disk_plan = []
        return sorted(plan, key=lambda item: item[0])

    # ---- the run -------------------------------------------------------------------------

    def start(self):
        self.provision()
        self.mount_disk()
        self.start_serve()
        self.register_boxes()
        for box, _, _ in self.boxes:
            self.start_agent(box)
        self.feeders = [threading.Thread(target=self.feed, args=(box, stage), daemon=True)
                        for box, _, stage in self.boxes]
        for feeder in self.feeders:
            feeder.start()

    def inject_faults(self):
        plan = self.schedule()
        disk_thread = threading.Thread(target=self.run_disk_plan, daemon=True)
        disk_thread.start()
        began = time.monotonic()
        self.log(f"load on, {len(plan)} faults and {len(self.disk_plan)} disk-full episodes over {self.options.duration} s")
        for moment, action in plan:
            while time.monotonic() - began < moment:
                self.watch()
                time.sleep(min(0.5, max(0, moment - (time.monotonic() - began))))
            action()
        while time.monotonic() - began < self.options.duration:
            self.watch()
            time.sleep(0.5)
        disk_thread.join()
        self.stopping.set()
        for feeder in self.feeders:
            feeder.join()
        self.log(f"load off: {sum(self.fed.values())} readings fed")

    def run_disk_plan(self):
        began = time.monotonic()
        for moment in self.disk_plan:
            while time.monotonic() - began < moment:
                time.sleep(0.2)
            self.fill_disk()

    def agent_status(self, box):
        result = self.run_command(["agritrace-agent", "status", "--json", "--config",
                                   os.path.join(self.box_home(box), "agent.toml")], check=False)
        try:
            return json.loads(result.stdout)
        except json.JSONDecodeError:
            return None

    def drain(self):
        """Waits until each agent has taken every line fed and its outbox is empty."""
        deadline = time.monotonic() + self.options.drain_timeout
        while time.monotonic() < deadline:
            self.watch()
            statuses = {box: self.agent_status(box) for box, _, _ in self.boxes}
            if all(s is not None and s["outboxDepth"] == 0 and self.accepted(s) + s.get("rejects", 0) >= self.fed[box]
                   for box, s in statuses.items()):
                self.log("every outbox is empty")
                return True
            time.sleep(2)
        self.log(f"DRAIN TIMEOUT after {self.options.drain_timeout} s: {statuses}")
        return False

    @staticmethod
    def accepted(status):
        """Readings the agent took: its sequence numbers are 0, 1, ... (never reused)."""
        return status["nextSequence"]

    def stop_all(self):
        with self.lock:
            processes = [p for p in list(self.agents.values()) + [self.serve] if p is not None]
            for process in processes:
                self.expected_exit.add(process.pid)
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.crashes.append(f"pid {process.pid} did not stop within 30 s of SIGTERM")
                process.kill()
                process.wait()
            if process.returncode != 0:
                self.crashes.append(f"pid {process.pid} exited {process.returncode} after SIGTERM")
        pid = self.broker_pid()
        if pid and os.path.exists(f"/proc/{pid}"):
            os.kill(pid, signal.SIGTERM)

    # ---- the count -----------------------------------------------------------------------

    def count(self):
        """Readings fed, accepted, receipted, on the ledger, lost and duplicated, per box."""
        ledger = sqlite3.connect(f"file:{self.store}?mode=ro", uri=True)
        rows = []
        for box, enterprise, _ in self.boxes:
            status = self.agent_status(box) or {}
            on_ledger = dict(ledger.execute(
                "SELECT lot, count(*) FROM records WHERE enterprise = ? AND device = ? GROUP BY lot",
                (enterprise, box)).fetchall())
            expected = {f"CHAOS-{box}-{n:07d}" for n in range(self.fed[box])}
            rows.append({
                "box": box, "fed": self.fed[box],
                "accepted": self.accepted(status) if status else None,
                "rejected at intake": status.get("rejects"),
                "refused": status.get("refused"),
                "receipted": status.get("receipted"),
                "outbox": status.get("outboxDepth"),
                # Rows gone from the box before their time: every reading here is minutes old
                # and retention keeps 731 days.
                "deleted early": (self.accepted(status) - status["receipted"] - status["outboxDepth"]
                                  - status.get("refused", 0)) if status else None,
                "on ledger": sum(on_ledger.values()),
                "lost": len(expected - on_ledger.keys()),
                "duplicated": sum(n - 1 for n in on_ledger.values()) + len(on_ledger.keys() - expected),
            })
        ledger.close()
        return rows

    def check(self, name, arguments):
        began = time.monotonic()
        result = self.run_command(arguments, check=False)
        last = (result.stdout.strip().splitlines() or result.stderr.strip().splitlines() or [""])[-1]
        self.log(f"{name}: exit {result.returncode} in {time.monotonic() - began:.1f} s: {last}")
        return result.returncode == 0, last

    def report(self, rows, drained, checks, elapsed):
        columns = ["box", "fed", "accepted", "rejected at intake", "refused", "receipted", "outbox",
                   "deleted early", "on ledger", "lost", "duplicated"]
        total = {c: sum(r[c] or 0 for r in rows) for c in columns[1:]}
        total["box"] = "total"
        widths = {c: max(len(c), *(len(str(r[c])) for r in rows + [total])) for c in columns}
        print("\n" + "  ".join(c.rjust(widths[c]) for c in columns))
        for row in rows + [total]:
            print("  ".join(str(row[c]).rjust(widths[c]) for c in columns))
        print()
        for name, value in self.counts.items():
            print(f"{name:>22}: {value}")
        print(f"{'crashes':>22}: {len(self.crashes)} {self.crashes if self.crashes else ''}")
        print(f"{'drained':>22}: {'yes' if drained else 'NO'}")
        for name, (passed, last) in checks.items():
            print(f"{name:>22}: {'pass' if passed else 'FAIL'} ({last})")
        print(f"{'duration':>22}: {elapsed:.0f} s (faults {self.options.duration} s), seed {self.options.seed}")
        failures = [f"{total['lost']} lost"] if total["lost"] else []
        failures += [f"{total['duplicated']} duplicated"] if total["duplicated"] else []
        failures += ["readings rejected at intake"] if total["rejected at intake"] else []
        failures += ["accepted differs from fed"] if total["accepted"] != total["fed"] else []
        failures += [f"{total['deleted early']} receipted records deleted early on the boxes"] if total["deleted early"] else []
        failures += ["ledger differs from fed"] if total["on ledger"] != total["fed"] else []
        failures += [f"crash: {c}" for c in self.crashes] + ([] if drained else ["outboxes not drained"])
        failures += [f"{name} failed" for name, (passed, _) in checks.items() if not passed]
        summary = {"date": now_utc().isoformat(timespec="seconds"), "options": vars(self.options), "boxes": rows,
                   "total": total, "faults": self.counts, "crashes": self.crashes, "drained": drained,
                   "checks": {k: {"pass": v[0], "last": v[1]} for k, v in checks.items()},
                   "seconds": round(elapsed), "failures": failures}
        with open(os.path.join(self.dir, "summary.json"), "w") as file:
            json.dump(summary, file, indent=2)
        print("RESULT: " + ("PASS: 0 lost, 0 duplicated, verify and replay pass" if not failures
                            else "FAIL: " + "; ".join(failures)))
        return not failures


def stop_on_signal(number, frame):
    raise SystemExit(f"stopped by signal {number}")


def main():
    options = parse_arguments()
    # A background job's SIGINT is ignored by default: stop cleanly (processes, tmpfs) on both.
    signal.signal(signal.SIGINT, stop_on_signal)
    signal.signal(signal.SIGTERM, stop_on_signal)
    run = Run(options)
    began = time.monotonic()
    try:
        try:
            run.start()
            run.inject_faults()
            drained = run.drain()
        finally:
            run.stopping.set()
            run.stop_all()
        checks = {"verify --signatures": run.check("verify", ["agritrace", "verify", "--signatures", "--store", run.store]),
                  "replay": run.check("replay", ["agritrace", "replay", "--store", run.store])}
        rows = run.count()
    finally:
        run.unmount()
    passed = run.report(rows, drained, checks, time.monotonic() - began)
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
