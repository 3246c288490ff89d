"""Browser tests of the web app in headless Chromium (Selenium), run by scripts/check-browser.sh.

    python browser-test.py BASE_URL MQTT_URL ARTIFACTS_DIR

Prints one line per check ("ok   ..." or "FAIL ...") and exits 1 if any failed. Screenshots go
to ARTIFACTS_DIR, named by page and size."""
import json
import os
import subprocess
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, mqtt_url, artifacts = sys.argv[1:4]
failures = 0
USERS = [("ana", "secret-ana-1", "Ana Ruiz", "operator"), ("sue", "secret-sue-1", "Sue Park", "supervisor"),
         ("quinn", "secret-quinn-1", "Quinn Ode", "quality"), ("mia", "secret-mia-1", "Mia Lund", "manager"),
         ("adam", "secret-adam-1", "Adam Hale", "admin")]


def check(name, ok, detail=""):
    global failures
    print(("ok   " if ok else "FAIL ") + name + ("" if ok or not detail else f": {detail}"), flush=True)
    failures += 0 if ok else 1


def browser(width, height):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={width},{height}"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_window_size(width, height)
    return driver


def shot(driver, name):
    width, height = driver.get_window_size()["width"], driver.get_window_size()["height"]
    driver.save_screenshot(os.path.join(artifacts, f"{name}-{width}x{height}.png"))


def text(driver):
    return driver.find_element(By.TAG_NAME, "body").text


def gone(element):
    """True once the element has left the document. Chromium sometimes answers a
    question about a node of the page just unloaded with a generic inspector error
    ("Node with given id does not belong to the document") instead of a stale
    element reference; both mean the same here."""
    try:
        element.is_enabled()
        return False
    except WebDriverException:
        return True


def click(driver, selector):
    """Clicks a submit button and waits for the next page to have loaded."""
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, selector).click()
    WebDriverWait(driver, 10).until(lambda d: gone(old))
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")


def sign_in(driver, username, password):
    driver.get(base + "/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    click(driver, "form[action='/login'] button")


def sign_out(driver):
    click(driver, "form.signout button")


def wait_for(driver, condition, seconds=5):
    try:
        WebDriverWait(driver, seconds, poll_frequency=0.02).until(condition)
        return True
    except TimeoutException:
        return False


# Every role signs in and sees its home page; a wrong password is refused.
desk = browser(1440, 900)
try:
    sign_in(desk, "mia", "wrong-password")
    check("a wrong password is refused on the page", "The user name or password is wrong" in text(desk))
    for username, password, name, role in USERS:
        sign_in(desk, username, password)
        check(f"{role} signs in and is greeted", f"Hello, {name}" in text(desk), text(desk)[:200])
        shot(desk, f"home-{role}")
        sign_out(desk)
        check(f"{role} signs out", "Sign in" in text(desk))
finally:
    desk.quit()

# The operator's tablet: badge and PIN, start, good parts, a measurement, out of specification.
tablet = browser(1024, 768)
try:
    tablet.get(base + "/tablet/S1/M1")
    check("the tablet asks for a badge", "Badge" in text(tablet))
    tablet.find_element(By.ID, "badge").send_keys("0412")
    tablet.find_element(By.ID, "pin").send_keys("1234")
    click(tablet, "button.primary")
    check("the operator is at M1 with WO-1001", "WO-1001" in text(tablet) and "M1" in text(tablet), text(tablet)[:300])
    click(tablet, "button[value='start']")
    check("starting the operation says so", "The operation is running now." in text(tablet), text(tablet)[:300])
    tablet.find_element(By.ID, "quantity").send_keys("5")
    click(tablet, "form[action$='/report'] button")
    check("five good parts are recorded", "Recorded 5 good." in text(tablet), text(tablet)[:300])
    tablet.find_element(By.CSS_SELECTOR, "form.measure input[name='value']").send_keys("25.012")
    click(tablet, "form.measure button")
    check("a measurement in tolerance is in control", "BORE 25.01: in control" in text(tablet), text(tablet)[:300])
    shot(tablet, "tablet")
    tablet.set_window_size(1280, 800)
    shot(tablet, "tablet")
    tablet.find_element(By.CSS_SELECTOR, "form.measure input[name='value']").send_keys("25.31")
    click(tablet, "form.measure button")
    body = text(tablet)
    check("a measurement out of tolerance warns and holds", "OUT OF SPECIFICATION" in body and "ON HOLD" in body, body[:300])
    shot(tablet, "tablet-hold")
finally:
    tablet.quit()

# The wall screen follows an MQTT message within a second.
wall = browser(1920, 1080)
try:
    sign_in(wall, "sue", "secret-sue-1")
    wall.get(base + "/wall/S1")
    check("the wall shows every machine by name and state", all(f"M{i}" in text(wall) for i in range(1, 5)) and "RUNNING" in text(wall).upper())
    check("the wall's event stream connects", wait_for(wall, lambda d: d.find_element(By.ID, "live").text == "Live."))
    payload = json.dumps({"state": "unplanned_stop", "ts": int(time.time() * 1000)})
    started = time.monotonic()
    subprocess.run(["mosquitto_pub", "-L", mqtt_url + "/mes/S1/A1/L1/M2/state", "-q", "1", "-m", payload], check=True)
    changed = wait_for(wall, lambda d: "state-unplanned_stop" in d.find_element(By.ID, "tile-M2").get_attribute("class"), seconds=5)
    elapsed = time.monotonic() - started
    check(f"a tile changes within 1 s of its MQTT message ({elapsed * 1000:.0f} ms)", changed and elapsed <= 1.0)
    tile = wall.find_element(By.ID, "tile-M2")
    check("the stopped machine says Down, asks for a reason, and flashes", "DOWN" in tile.text.upper() and "No reason given" in tile.text
          and "andon" in tile.get_attribute("class"), tile.text)
    shot(wall, "wall")
finally:
    wall.quit()

# Quality sees the hold and the nonconformance.
office = browser(1440, 900)
try:
    sign_in(office, "quinn", "secret-quinn-1")
    office.get(base + "/quality")
    check("quality sees the hold and the nonconformance", "Bore diameter out of specification" in text(office), text(office)[:300])
    shot(office, "quality")
    office.get(base + "/spc")
    office.find_element(By.PARTIAL_LINK_TEXT, "Bore diameter").click()
    WebDriverWait(office, 10).until(lambda d: "Capability" in text(d))
    check("the SPC page draws the chart and explains the signal", office.find_elements(By.CSS_SELECTOR, "figure.chart svg")
          and "a point beyond a control limit" in text(office), text(office)[:300])
    shot(office, "spc")
    office.get(base + "/audit?verify=1")
    check("the audit trail verifies intact", "Intact:" in text(office), text(office)[:300])
    shot(office, "audit")
    office.get(base + "/tablet/S1/M1")
    check("quality may not work a machine's tablet", "403" in text(office))
    sign_out(office)
    sign_in(office, "mia", "secret-mia-1")
    office.get(base + "/plant/S1?range=week")
    check("the manager's plant overview shows the KPIs and the lines", "Schedule attainment" in text(office) and "Line L1" in text(office),
          text(office)[:300])
    shot(office, "plant")
    office.get(base + "/machines/S1/M2")
    check("the machine page shows the stop from MQTT, waiting for a reason", "Stops without a reason" in text(office), text(office)[:300])
    shot(office, "machine")
finally:
    office.quit()

print(f"browser: {failures} failed")
sys.exit(1 if failures else 0)
