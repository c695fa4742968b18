"""A real headless Chromium for the web page tests: Debian's ``/usr/bin/chromium`` driven by
``/usr/bin/chromedriver`` through selenium (the ``[test]`` extra), with the network blocked.

``chromium()`` skips the test with the reason when the browser, the driver or selenium is
missing, unless ``ICBMAP_REQUIRE_CHROMIUM=1`` (set by ``.ci/run`` after installing them),
where a missing browser fails the test instead.

The network is blocked three ways: a proxy on a closed port for every request, the
DevTools "offline" network condition, and the page's own Content-Security-Policy.  A
script added before the page loads records CSP violations in ``window.__cspViolations``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("ICBMAP_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("ICBMAP_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions",
         # every request goes to a closed local port: nothing can be fetched
         "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]

RECORD_VIOLATIONS = ("window.__cspViolations = [];"
                     "document.addEventListener('securitypolicyviolation', function (e) {"
                     " window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI); });")


def missing() -> str | None:
    """Why the browser test cannot run here, or None."""
    for path, what in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (Path(path).exists() or shutil.which(path)):
            return f"{path} is absent: install Debian's {what} (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[test]'"
    return None


def require() -> None:
    reason = missing()
    if reason:
        if os.environ.get("ICBMAP_REQUIRE_CHROMIUM"):
            pytest.fail(f"ICBMAP_REQUIRE_CHROMIUM is set but {reason}")
        pytest.skip(reason)


class Browser:
    """One headless Chromium session (``driver``) with a fresh profile."""

    def __init__(self, width: int = 1366, height: int = 900, phone: bool = False):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self._profile = tempfile.mkdtemp(prefix="icbmap-chromium-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for flag in FLAGS + [f"--user-data-dir={self._profile}", f"--window-size={width},{height}"]:
            opts.add_argument(flag)
        if phone:
            opts.add_experimental_option("mobileEmulation", {
                "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2, "touch": True}})
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        self.driver.set_page_load_timeout(60)
        self.driver.execute_cdp_cmd("Network.enable", {})
        self.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0})
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS})

    def open(self, path: Path, timeout: float = 30.0) -> float:
        """Load ``path`` and wait until its script has run; returns the seconds it took."""
        t0 = time.perf_counter()
        self.driver.get(Path(path).resolve().as_uri())
        while self.driver.execute_script("return document.documentElement.getAttribute('data-ready')") != "1":
            if time.perf_counter() - t0 > timeout:
                raise AssertionError(f"{path}: the page's script did not finish in {timeout} s")
            time.sleep(0.02)
        return time.perf_counter() - t0

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def severe_console(self) -> list[str]:
        return [e["message"] for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
