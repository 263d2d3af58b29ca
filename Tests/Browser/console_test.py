#!/usr/bin/env python3
"""Drives a real headless Chromium through the AgriTrace web console.

Run by Tests/BrowserTests (ConsoleBrowserTests.swift) against a real `agritrace serve` with the
example chain ingested. Chromium trusts the test CA through an NSS database in a temporary
HOME (certutil), the way a user's browser trusts the deployment CA. Each check prints
`PASS <name>` or `FAIL <name>: <why>`; the exit status is 1 if any check failed.
Screenshots go to --artifacts.
"""
import argparse
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chromium import headless_chromium  # noqa: E402

STAGES = ["breeding", "planting", "processing", "warehousing", "transport", "sales"]
failures = []


def check(name, condition, why=""):
    if condition:
        print(f"PASS {name}", flush=True)
    else:
        failures.append(name)
        print(f"FAIL {name}: {why}", flush=True)


def ready(driver, timeout=20):
    """Waits until console.js has filled the page (or failed); returns the outcome."""
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return document.body && document.body.dataset.ready || null"))
    return driver.execute_script("return document.body.dataset.ready")


def status_in_page(driver, path, method="GET", headers=None):
    """The HTTP status of a same-origin fetch from the page (with the page's cookies)."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {method: arguments[1], headers: arguments[2] || {}, credentials: 'same-origin'})"
        ".then(r => done(r.status), e => done(String(e)));", path, method, headers)


def shot(driver, name):
    path = os.path.join(args.artifacts, name + ".png")
    driver.save_screenshot(path)
    print(f"screenshot {path}", flush=True)


def no_secrets(driver, page):
    source = driver.page_source
    leaked = [s for s in args.secret if s in source]
    check(f"no private value on the {page} page", not leaked, f"found {leaked}")


def status_without_session(path):
    context = ssl.create_default_context(cafile=args.ca)
    try:
        with urllib.request.urlopen(args.base + path, context=context, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def h1(driver):
    """The page's heading; a heading replaced while it is read (the page is navigating) is read again."""
    for _ in range(50):
        try:
            return driver.find_element(By.TAG_NAME, "h1").text
        except StaleElementReferenceException:
            time.sleep(0.1)
    return driver.find_element(By.TAG_NAME, "h1").text


def signed_out(driver):
    driver.get(args.base + "/console")
    check("no session: the console refuses the browser", h1(driver) == "Not signed in", h1(driver))
    check("no session: /console/trace answers 401", status_without_session("/console/trace") == 401)
    shot(driver, "01-not-signed-in")


def firm_session(driver):
    driver.get(args.firm_link)
    WebDriverWait(driver, 20).until(lambda d: d.current_url.rstrip("/").endswith("/console"))
    check("firm: signed in on the ledger page", ready(driver) == "yes" and h1(driver) == "Ledger", h1(driver))
    cookie = next((c for c in driver.get_cookies() if c["name"] == "agritrace_console"), {})
    check("session cookie is Secure, HttpOnly, SameSite=Strict",
          cookie.get("secure") and cookie.get("httpOnly") and cookie.get("sameSite") == "Strict", str(cookie))
    check("cookie is invisible to scripts", "agritrace_console" not in driver.execute_script("return document.cookie"))
    blocks = driver.find_elements(By.CSS_SELECTOR, "#blocks tbody tr")
    check("ledger page lists blocks and principals", len(blocks) > 0 and args.firm in driver.page_source,
          f"{len(blocks)} blocks")
    shot(driver, "02-firm-ledger")
    no_secrets(driver, "ledger")

    driver.get(args.base + "/console/trace?lot=" + args.lot)
    ready(driver)
    lanes = {s: len(driver.find_elements(By.CSS_SELECTOR, f"#trace-graph a.node[data-stage='{s}']")) for s in STAGES}
    check("trace picture shows all six stages", all(lanes.values()), str(lanes))
    edges = driver.find_elements(By.CSS_SELECTOR, "#trace-graph line.edge")
    check("trace picture links the lots", len(edges) >= 5, f"{len(edges)} edges")
    cards = driver.find_elements(By.CSS_SELECTOR, "article.record")
    check("trace lists each record with commitments", len(cards) >= 6 and "level-1" in driver.page_source)
    shot(driver, "03-firm-trace")
    no_secrets(driver, "trace")
    labelled(driver, "trace")
    downloads(driver)
    driver.set_window_size(360, 800)
    ready(driver)
    width = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    check("trace page fits 360 px wide", width[0] <= width[1], str(width))
    shot(driver, "04-firm-trace-360px")
    driver.set_window_size(1280, 900)

    proof_checks(driver)

    driver.get(args.base + "/console/regulator")
    check("firm: regulator page is refused", h1(driver) == "Forbidden", h1(driver))
    check("firm: regulator page answers 403", status_in_page(driver, "/console/regulator") == 403)
    shot(driver, "07-firm-regulator-forbidden")

    driver.get(args.base + "/console")
    ready(driver)
    check("sign-out without the CSRF token is refused (403)", status_in_page(driver, "/console/logout", "POST") == 403)
    check("session still open after the refused sign-out", status_in_page(driver, "/console/session") == 200)
    button = driver.find_element(By.ID, "sign-out")
    button.send_keys(Keys.ENTER)  # keyboard use
    WebDriverWait(driver, 10).until(lambda d: h1(d) == "Not signed in")
    check("sign-out (with the CSRF token) ends the session", status_in_page(driver, "/console/session") == 401)


def fetch_in_page(driver, path, method="GET", body=None):
    """A same-origin fetch from the page, with the session's CSRF token: status, Content-Disposition, body."""
    return driver.execute_async_script(
        "const [path, method, body] = arguments; const done = arguments[arguments.length - 1];"
        "fetch('/console/session', {credentials: 'same-origin'}).then(r => r.json()).then(s => fetch(path, {method,"
        " credentials: 'same-origin', body, headers: {'Content-Type': 'application/json', 'X-CSRF-Token': s.csrfToken}}))"
        ".then(async r => done({status: r.status, disposition: r.headers.get('Content-Disposition'), body: await r.text()}),"
        " e => done({status: String(e)}));", path, method, body)


def downloads(driver):
    """The trace page's download links answer the lot's documents, as attachments."""
    links = {}
    for kind in ["epcis", "fsma204"]:
        href = driver.find_element(By.ID, "download-" + kind).get_attribute("href")
        links[kind] = fetch_in_page(driver, href.replace(args.base, ""))
    epcis = links["epcis"]
    document = json.loads(epcis["body"]) if epcis.get("status") == 200 else {}
    events = document.get("epcisBody", {}).get("eventList", [])
    check("the EPCIS download answers the lot's EPCISDocument",
          document.get("type") == "EPCISDocument" and len(events) >= 6 and args.lot in epcis["body"]
          and "attachment" in (epcis.get("disposition") or "") and args.lot in epcis["disposition"],
          f"{epcis.get('status')} {epcis.get('disposition')} {len(events)} events")
    fsma = links["fsma204"]
    check("the FSMA 204 download answers the lot's spreadsheet",
          fsma.get("status") == 200 and args.lot in fsma.get("body", "")
          and (fsma.get("disposition") or "").endswith(".fsma204.csv\""),
          f"{fsma.get('status')} {fsma.get('disposition')}")


unlabelled = []


def labelled(driver, page):
    """Collects the page's inputs without a label (checked once at the end)."""
    found = driver.execute_script(
        "return Array.from(document.querySelectorAll('input, textarea, select'))"
        ".filter(i => !(i.labels && i.labels.length) && !i.getAttribute('aria-label')).map(i => i.id || i.name);")
    unlabelled.extend(f"{page}: {name}" for name in found)


def proof_checks(driver):
    driver.get(args.base + "/console/proof?record=" + args.record)
    ready(driver)
    labelled(driver, "proof")
    result = driver.find_element(By.ID, "proof-result")
    check("in-browser proof check: valid for the real proof", result.get_attribute("data-outcome") == "valid",
          result.text)
    steps = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#proof-checks li")]
    check("the page shows what was checked (signature, record, leaf hash, audit path)",
          len(steps) == 5 and "Ed25519" in steps[0] and "audit path" in steps[4], str(steps))
    shot(driver, "05-proof-valid")
    proof = json.loads(driver.find_element(By.ID, "proof-json").get_attribute("value"))
    tampered_cases = {
        "entry": lambda p: p.update(entry=flip(p["entry"], len(p["entry"]) - 1)),
        "audit path": lambda p: p["proof"].__setitem__(0, flip(p["proof"][0], 0)) if p["proof"] else None,
        "tree head signature": lambda p: p["treeHead"].update(signedHeader=flip(p["treeHead"]["signedHeader"], -2)),
        "record id": lambda p: p.update(recordID=flip(p["recordID"], 0)),
    }
    for what, tamper in tampered_cases.items():
        copy = json.loads(json.dumps(proof))
        tamper(copy)
        driver.execute_script("document.getElementById('proof-json').value = arguments[0];", json.dumps(copy))
        driver.find_element(By.ID, "check-proof").click()
        WebDriverWait(driver, 10).until(
            lambda d: d.find_element(By.ID, "proof-result").get_attribute("data-outcome") in ("valid", "invalid")
            and d.find_element(By.ID, "proof-result").text != "checking…")
        outcome = driver.find_element(By.ID, "proof-result")
        check(f"in-browser proof check: invalid for a tampered {what}",
              outcome.get_attribute("data-outcome") == "invalid", outcome.text)
    shot(driver, "06-proof-tampered")


def flip(text, index):
    index = index % len(text)
    return text[:index] + ("0" if text[index] != "0" else "1") + text[index + 1:]


def regulator_session(driver):
    driver.get(args.regulator_link)
    WebDriverWait(driver, 20).until(lambda d: d.current_url.rstrip("/").endswith("/console"))
    ready(driver)
    driver.get(args.base + "/console/regulator")
    check("regulator: regulator page opens", ready(driver) == "yes" and h1(driver) == "Regulator", h1(driver))
    rows = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#blacklist tbody tr")]
    check("the denied request's source is on the blacklist page", any(args.denied_source in r for r in rows), str(rows))
    matches = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#matches tbody tr")]
    check("the match results show the denial", any("denied" in r for r in matches), str(matches))
    shot(driver, "08-regulator")
    no_secrets(driver, "regulator")
    labelled(driver, "regulator")
    refused = fetch_in_page(driver, "/console/owner/revocations", "POST",
                            json.dumps({"kind": "grant", "id": args.grant, "reason": "not mine"}))
    check("non-owner: preparing the owner's revocation answers 403",
          refused.get("status") == 403 and "granted no request" in refused.get("body", ""), str(refused))
    provenance(driver)
    link = driver.find_element(By.CSS_SELECTOR, "#blacklist tbody tr td:last-child a")
    link.click()
    ready(driver)
    check("a blacklist row's proof checks in the browser",
          driver.find_element(By.ID, "proof-result").get_attribute("data-outcome") == "valid",
          driver.find_element(By.ID, "proof-result").text)
    shot(driver, "09-regulator-blacklist-proof")


def provenance(driver):
    """The regulator asks where the granted lot's private data went: the owner's revocation
    (signed in the browser earlier) is there, and its row's proof checks in the browser."""
    box = driver.find_element(By.ID, "provenance-lot")
    box.clear()
    box.send_keys(args.grant_lot)
    box.submit()
    row = f"#provenance tr[data-request='{args.grant}'][data-kind='revocation']"
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, row))
    cells = [td.text for td in driver.find_elements(By.CSS_SELECTOR, row + " td")]
    check("regulator: the lot's provenance shows the owner's revocation of the grant",
          len(cells) == 9 and cells[3] == args.owner and cells[4] == args.keeper, str(cells))
    check("regulator: the provenance status counts the events",
          driver.find_element(By.ID, "provenance-status").text.startswith("1 event for " + args.grant_lot),
          driver.find_element(By.ID, "provenance-status").text)
    driver.execute_script("document.getElementById('provenance').scrollIntoView()")
    shot(driver, "12-regulator-provenance")
    no_secrets(driver, "regulator provenance")
    current = driver.current_url
    driver.find_element(By.CSS_SELECTOR, row + " td:last-child a").click()
    ready(driver)
    check("a provenance row's proof checks in the browser",
          driver.find_element(By.ID, "proof-result").get_attribute("data-outcome") == "valid",
          driver.find_element(By.ID, "proof-result").text)
    driver.get(current)
    ready(driver)


def owner_session(driver):
    """The farm revokes its grant: the page signs with the key file it reads; the key is never sent."""
    driver.get(args.owner_link)
    WebDriverWait(driver, 20).until(lambda d: d.current_url.rstrip("/").endswith("/console"))
    ready(driver)
    driver.get(args.base + "/console/owner")
    ready(driver)
    labelled(driver, "owner")
    row = f"#grants tr[data-request='{args.grant}']"
    status = driver.find_element(By.CSS_SELECTOR, row + " td:nth-child(7)").text
    check("owner: the grant is listed as active", status == "active", status)
    shot(driver, "10-owner-grants")
    button = driver.find_element(By.CSS_SELECTOR, row + " button[data-revoke='grant']")
    button.send_keys(Keys.ENTER)  # keyboard use
    driver.find_element(By.ID, "owner-key").send_keys(os.path.abspath(args.owner_key))
    driver.find_element(By.ID, "revoke-sign").click()
    WebDriverWait(driver, 60).until(
        lambda d: d.find_element(By.ID, "revoke-status").get_attribute("data-outcome") not in (None, ""))
    result = driver.find_element(By.ID, "revoke-status")
    WebDriverWait(driver, 10).until(
        lambda d: d.find_element(By.CSS_SELECTOR, row + " td:nth-child(7)").text == "revoked")
    check("owner: the grant is revoked in the browser, with its ledger leaf",
          result.get_attribute("data-outcome") == "applied" and "revokeGrant" in result.text and "leaf" in result.text,
          result.text)
    key = open(args.owner_key).read().strip()
    check("owner: the key file is not on the page", key not in driver.page_source)
    shot(driver, "11-owner-revoked")


parser = argparse.ArgumentParser()
for name in ["base", "ca", "firm", "firm-link", "regulator-link", "record", "lot", "denied-source", "artifacts",
             "owner-link", "owner-key", "grant", "grant-lot", "owner", "keeper"]:
    parser.add_argument("--" + name, required=True)
parser.add_argument("--secret", action="append", default=[])
args = parser.parse_args()

with tempfile.TemporaryDirectory(prefix="agritrace-chromium-") as home:
    driver = headless_chromium(home, args.ca)
    try:
        signed_out(driver)
        firm_session(driver)
        owner_session(driver)
        regulator_session(driver)
        check("every input has a label", not unlabelled, str(unlabelled))
    except Exception as error:  # a crash is a failure with its reason, not a silent skip
        failures.append("crashed")
        print(f"FAIL crashed: {type(error).__name__}: {error}", flush=True)
        shot(driver, "99-crash")
    finally:
        driver.quit()
print(f"{len(failures)} failed" if failures else "all passed", flush=True)
sys.exit(1 if failures else 0)
