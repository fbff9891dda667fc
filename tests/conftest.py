import os
import shutil
import warnings

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(20261123)


CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright's own download is not used


# one per module: Playwright runs an event loop while the browser is open, and a test that
# calls asyncio.run must not find it
@pytest.fixture(scope="module")
def browser():
    """Headless Chromium driven by Playwright. CI sets LABOPT_REQUIRE_BROWSER=1 so that a
    missing browser fails the run; elsewhere these tests are skipped with a notice."""
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason, sync_playwright = "the playwright package is not installed", None
    if reason is None and not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        reason = f"{CHROMIUM} not found (apt-get install chromium)"
    if reason is not None:
        msg = f"{reason}: browser tests skipped"
        if os.environ.get("LABOPT_REQUIRE_BROWSER") == "1":
            pytest.fail(msg.replace("skipped", "required by LABOPT_REQUIRE_BROWSER=1"))
        warnings.warn(msg, stacklevel=2)
        pytest.skip(msg)
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
            args=["--no-sandbox", "--disable-gpu"],
        )
        yield b
        b.close()
