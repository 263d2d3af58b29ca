#!/usr/bin/env python3
"""Page timings of the web console on an existing ledger store, in a real headless Chromium.

    scripts/bench-console.py --store-dir DIR [--runs 30] [--lot SA-2026-5521] [--bin .build/release]
                             [--write-benchmarks]

DIR holds `ledger.sqlite` and `authority.key` (the store's authority key, hex, mode 0600), as
`bench-exports --keep DIR` leaves them. With the built binaries, as an operator would, the script:

1. makes a throwaway CA and the API's server certificate for 127.0.0.1 (`agritrace enroll init`,
   `enroll request`, `enroll server`);
2. registers a firm principal `Firm/bench/console@BENCH` on the store once (its key is kept in
   DIR/console-bench.key, 0600): a loopback mosquitto and `agritrace serve` (no API) order the
   `principals add` transaction signed by the authority key, then stop;
3. starts `agritrace api` (the read side, which serves the console) on the store over HTTPS;
4. signs Chromium in with a link from `agritrace console login` (the CA trusted through an NSS
   database in a temporary HOME: Tests/Browser/chromium.py, shared with the browser test);
5. opens the trace page of the lot (backward and forward records, the SVG picture) and the
   ledger page --runs times each, and reads from the Performance API: first-contentful-paint and
   `agritrace-ready` (the mark console.js sets once the page's data is drawn), both from the
   navigation's start; plus the slowest API call of each load (Resource Timing).

Prints p50 / p99 / max per page and measure; with --write-benchmarks, writes the `console`
section of BENCHMARKS.md (command, machine, date, store size). Run it on a release build.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from selenium.webdriver.support.ui import WebDriverWait

PRINCIPAL = "Firm/bench/console@BENCH"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Browser"))
from chromium import headless_chromium  # noqa: E402


def log(text):
    print("bench-console: " + text, file=sys.stderr, flush=True)


def run(*command):
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench-console: {' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, seconds, what, process):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"bench-console: {what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"bench-console: {what} did not listen on {port} within {seconds} s")


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def certificates(agritrace, work):
    """A CA and the API's server certificate for 127.0.0.1, as an operator makes them (`agritrace enroll`)."""
    ca, key, csr, cert = (os.path.join(work, n) for n in ("ca", "server.key", "server.csr", "server.crt"))
    run(agritrace, "enroll", "init", "--ca", ca)
    run(agritrace, "enroll", "request", "--id", "agritrace-api", "--key", key, "--out", csr)
    run(agritrace, "enroll", "server", "--ca", ca, "--csr", csr, "--out", cert, "--name", "127.0.0.1")
    return os.path.join(ca, "ca.crt"), cert, key


def registered(agritrace, store):
    rows = json.loads(run(agritrace, "principals", "list", "--store", store, "--json"))
    return any(r.get("name") == PRINCIPAL and r.get("status") == "active" for r in rows)


def register_principal(agritrace, store_dir, store, work):
    """Registers the bench principal once: serve (with a loopback broker) orders the transaction."""
    key = os.path.join(store_dir, "console-bench.key")
    if os.path.exists(key) and registered(agritrace, store):
        log(f"{PRINCIPAL} is already registered (key {key})")
        return key
    if os.path.exists(key):
        os.remove(key)
    run(agritrace, "keygen", "--output", key)
    broker_port = free_port()
    config = os.path.join(work, "mosquitto.conf")
    with open(config, "w") as f:
        f.write(f"listener {broker_port} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n")
    broker = subprocess.Popen(["mosquitto", "-c", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    serve_log = open(os.path.join(work, "serve.log"), "w")
    serve = subprocess.Popen(
        [agritrace, "serve", "--store", store, "--authority-key", os.path.join(store_dir, "authority.key"),
         "--broker-port", str(broker_port), "--block-max-delay-ms", "50", "--client-id", "agritrace-bench-console"],
        stdout=serve_log, stderr=subprocess.STDOUT)
    try:
        log(f"registering {PRINCIPAL} through `agritrace serve` on the store")
        run(agritrace, "principals", "add", "--name", PRINCIPAL, "--kind", "firm", "--enterprise", "BENCH",
            "--role", "supermarket-administrator", "--public-key", key + ".pub",
            "--authority-key", os.path.join(store_dir, "authority.key"), "--store", store, "--wait", "600")
    finally:
        stop(serve)
        broker.terminate()
        broker.wait()
    if not registered(agritrace, store):
        sys.exit(f"bench-console: {PRINCIPAL} is not on the ledger; see {serve_log.name}")
    return key


TIMINGS = """
const paint = performance.getEntriesByName('first-contentful-paint')[0];
const ready = performance.getEntriesByName('agritrace-ready')[0];
const calls = performance.getEntriesByType('resource').filter((e) => e.name.includes('/v1/'));
const slowest = calls.reduce((a, e) => (e.duration > a.duration ? e : a), { duration: 0, name: '' });
return { fcp: paint ? paint.startTime : null, ready: ready ? ready.startTime : null,
         api: slowest.duration, apiName: slowest.name.replace(location.origin, ''),
         outcome: document.body.dataset.ready, drawn: document.querySelectorAll(arguments[0]).length };
"""


def time_page(driver, url, drawn_selector, runs):
    samples = []
    for index in range(runs + 1):  # the first load warms the server and the browser; reported apart
        driver.get(url)
        WebDriverWait(driver, 300, poll_frequency=0.05).until(
            lambda d: d.execute_script("return document.body && document.body.dataset.ready || null"))
        WebDriverWait(driver, 10, poll_frequency=0.05).until(
            lambda d: d.execute_script("return performance.getEntriesByName('first-contentful-paint').length"))
        sample = driver.execute_script(TIMINGS, drawn_selector)
        if sample["outcome"] != "yes" or sample["drawn"] == 0:
            sys.exit(f"bench-console: {url} did not draw its data: {sample}")
        samples.append(sample)
    return samples


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round((len(ordered) - 1) * p))]


def summary(name, loads):
    samples = loads[1:]
    rows = []
    for key, what in [("fcp", "first contentful paint"), ("ready", "data drawn (agritrace-ready)"),
                      ("api", "slowest API call of the load")]:
        values = [s[key] for s in samples]
        rows.append(f"| {name} | {what} | {percentile(values, 0.5):.0f} | {percentile(values, 0.99):.0f} | "
                    f"{max(values):.0f} |")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store-dir", required=True)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--lot", default="SA-2026-5521")
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"))
    parser.add_argument("--write-benchmarks", action="store_true")
    args = parser.parse_args()
    agritrace = os.path.join(args.bin, "agritrace")
    store = os.path.join(args.store_dir, "ledger.sqlite")
    for path in [agritrace, store, os.path.join(args.store_dir, "authority.key")]:
        if not os.path.exists(path):
            sys.exit(f"bench-console: {path} is missing (build with `swift build -c release`; the store folder "
                     "holds ledger.sqlite and authority.key, as `bench-exports --keep DIR` leaves them)")
    work = tempfile.mkdtemp(prefix="agritrace-bench-console-")
    try:
        ca, cert, key = certificates(agritrace, work)
        principal_key = register_principal(agritrace, args.store_dir, store, work)
        status = json.loads(run(agritrace, "status", "--store", store, "--json"))
        port = free_port()
        api_log = open(os.path.join(work, "api.log"), "w")
        api = subprocess.Popen([agritrace, "api", "--store", store, "--http-port", str(port), "--api-cert", cert,
                                "--api-key", key], stdout=api_log, stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, 120, "agritrace api", api)
            origin = f"https://127.0.0.1:{port}"
            link = run(agritrace, "console", "login", "--principal", PRINCIPAL, "--key", principal_key,
                       "--url", origin).strip()
            results = measure(work, ca, origin, link, args)
        finally:
            stop(api)
        report(args, status, results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(work, ca, origin, link, args):
    home = os.path.join(work, "home")
    os.makedirs(home)
    driver = headless_chromium(home, ca)
    try:
        driver.get(link)
        WebDriverWait(driver, 120).until(lambda d: d.current_url.rstrip("/").endswith("/console"))
        log(f"signed in; timing {args.runs} loads of each page")
        trace = time_page(driver, f"{origin}/console/trace?lot={args.lot}", "#trace-graph a.node", args.runs)
        ledger = time_page(driver, f"{origin}/console", "#blocks tbody tr", args.runs)
        return {"trace": trace, "ledger": ledger}
    finally:
        driver.quit()


def report(args, status, results):
    rows = summary(f"trace of {args.lot} (backward and forward, SVG)", results["trace"])
    rows += summary("ledger (status, 20 blocks, devices, 50 principals)", results["ledger"])
    slowest = {page: max(loads[1:], key=lambda s: s["api"])["apiName"] for page, loads in results.items()}
    first = {page: loads[0] for page, loads in results.items()}
    cold = (f"First load after the API started (not in the table): trace page paint {first['trace']['fcp']:.0f} ms, "
            f"data drawn {first['trace']['ready']:.0f} ms (slowest call {first['trace']['apiName']} "
            f"{first['trace']['api']:.0f} ms); ledger page paint {first['ledger']['fcp']:.0f} ms, data drawn "
            f"{first['ledger']['ready']:.0f} ms (slowest call {first['ledger']['apiName']} {first['ledger']['api']:.0f} ms).")
    table = "\n".join(["| page | measure | p50 ms | p99 ms | max ms |", "|---|---|---|---|---|"] + rows)
    print(table)
    print(cold)
    if not args.write_benchmarks:
        return
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               "unknown")
    command = "scripts/bench-console.py " + " ".join(sys.argv[1:])
    section = f"""<!-- console:begin -->
## Web console: page timings in headless Chromium (`scripts/bench-console.py`)

Command: `{command}` (release build; `agritrace api` over HTTPS on loopback, Debian Chromium
headless, one browser, pages loaded one after another; {args.runs} timed loads per page after one
warm-up load; times from the navigation's start, read from the Performance API).
Store: {status.get('records')} records, height {status.get('height')}, log size {status.get('logSize')}.
Machine: {os.cpu_count()} cores, Debian 12, {cpu}. Date: {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}.
Shared machine: other engineers' builds and tests were running.

{table}

The slowest API call of the timed loads: trace page `{slowest['trace']}`, ledger page `{slowest['ledger']}`.
{cold}
<!-- console:end -->"""
    subprocess.run([os.path.join(ROOT, "scripts", "bench-section.py"), "console"], input=section, text=True,
                   check=True, cwd=ROOT)
    log("wrote the console section of BENCHMARKS.md")


if __name__ == "__main__":
    main()
