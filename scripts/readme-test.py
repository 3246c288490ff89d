"""The browser half of scripts/check-readme.sh: signs in to a running `mes demo` as the demo
supervisor and checks that the plant is alive. Usage: readme-test.py URL ARTIFACTS"""
import os
import re
import sys

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, artifacts = sys.argv[1], sys.argv[2]
failures = 0


def check(name, ok, detail=""):
    global failures
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    failures += 0 if ok else 1


options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1920,1080"]:
    options.add_argument(argument)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    driver.get(base + "/login")
    driver.find_element(By.ID, "username").send_keys("sam")
    driver.find_element(By.ID, "password").send_keys("demo-sam-2026")
    driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
    WebDriverWait(driver, 10).until(lambda d: "/login" not in d.current_url)
    check("the demo supervisor signs in with the printed password", "Sign out" in driver.page_source, driver.current_url)

    driver.get(base + "/wall/S1")
    tiles = driver.find_elements(By.CSS_SELECTOR, ".tile")
    check("the wall screen shows the 22 demo machines", len(tiles) == 22, f"{len(tiles)} tiles")
    try:
        # The wall updates itself over SSE: wait for the simulator's machines to be running.
        WebDriverWait(driver, 30, poll_frequency=0.2).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".tile.state-running"))
        running = len(driver.find_elements(By.CSS_SELECTOR, ".tile.state-running"))
    except TimeoutException:
        running = 0
    check("some of them are running", running > 0, "no tile is running")
    driver.save_screenshot(os.path.join(artifacts, "wall-1920x1080.png"))

    # The plant overview's line totals ("good / total") count parts once machines finish some.
    def good_parts(d):
        d.get(base + "/plant/S1")
        counts = [cell.text for cell in d.find_elements(By.CSS_SELECTOR, "tr.line td:nth-of-type(5)")]
        return sum(int(re.match(r"[0-9,]*", c).group(0).replace(",", "") or 0) for c in counts) > 0
    try:
        WebDriverWait(driver, 90, poll_frequency=2).until(good_parts)
        counted = True
    except TimeoutException:
        counted = False
    check("the plant overview's lines count good parts made", counted, driver.find_element(By.TAG_NAME, "body").text[:400])
    driver.save_screenshot(os.path.join(artifacts, "plant-1920x1080.png"))
finally:
    driver.quit()
sys.exit(1 if failures else 0)
