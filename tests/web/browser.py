"""Debian's chromium, headless under Selenium, for the browser tests.

Importing this module skips the importing test module, with the reason, when selenium,
chromium or chromium-driver is missing (``.ci/run`` installs them), so a test module takes
the Selenium names it uses from here; :func:`chromium` opens one headless window (the
``browser`` fixture of ``tests/web/conftest.py``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    pytest.skip(
        f"browser tests need Debian's chromium ({CHROMIUM}) and chromium-driver "
        f"({CHROMEDRIVER}); .ci/run installs them",
        allow_module_level=True,
    )

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

__all__ = ["By", "Keys", "WebDriverWait", "chromium", "ec"]


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless chromium, 1400x1000, English."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1000",
        "--lang=en",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=webdriver.ChromeService(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
