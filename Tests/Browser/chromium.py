"""Headless Debian Chromium through Selenium, trusting a CA the way a user's browser trusts the
deployment CA: an NSS database in a temporary HOME (certutil), no certificate errors ignored.
Shared by console_test.py (the browser test) and scripts/bench-console.py (page timings)."""
import os
import subprocess

from selenium import webdriver
from selenium.webdriver.chrome.service import Service


def headless_chromium(home, ca_file):
    """Chromium (`--headless=new --no-sandbox`, 1280x900) with `ca_file` trusted in $HOME/.pki/nssdb."""
    nssdb = os.path.join(home, ".pki", "nssdb")
    os.makedirs(nssdb)
    subprocess.run(["certutil", "-N", "-d", "sql:" + nssdb, "--empty-password"], check=True)
    subprocess.run(
        ["certutil", "-A", "-d", "sql:" + nssdb, "-n", "agritrace-test-ca", "-t", "C,,", "-i", ca_file], check=True)
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                 "--user-data-dir=" + os.path.join(home, "profile")]:
        options.add_argument(flag)
    service = Service("/usr/bin/chromedriver", env=dict(os.environ, HOME=home))
    return webdriver.Chrome(service=service, options=options)
