"""The explorer in headless Chromium (run by scripts/browser-test).

Usage: explorer_browser.py BASE_URL [LARGE_BASE_URL]

Checks on the bundled example: the grid shows its folded access, clicking a cell shows
the deciding rule and its line, editing the policy shows a diagnostic and an access
diff, saving through the API updates the ETag; the from/to, SSH, tests and audit views
answer. Saves explorer-grid.png and explorer-diff.png to $SCREENSHOTS (default
target/screenshots; `SCREENSHOTS=docs` refreshes the README's). With LARGE_BASE_URL (a
1,000-node synthetic tailnet) it reports the grid's render time (not asserted).
"""

import json
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

CHECKS = []
SHOTS = os.environ.get("SCREENSHOTS", "target/screenshots")
os.makedirs(SHOTS, exist_ok=True)


def check(name, ok, detail=""):
    CHECKS.append((name, ok))
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)
    if not ok:
        raise SystemExit(1)


def driver():
    o = Options()
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--window-size=1440,900", "--force-device-scale-factor=1"):
        o.add_argument(a)
    o.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def wait(d, what, timeout=20):
    return WebDriverWait(d, timeout).until(lambda d: what(d))


def cell(d, row, col):
    return d.find_element(By.CSS_SELECTOR, f'#grid-body .cell[data-row="{row}"][data-col="{col}"]')


def set_editor(d, text):
    """Sets the editor's text and then types in it, so the page sees real key input."""
    ta = d.find_element(By.ID, "editor-text")
    d.execute_script("arguments[0].value = arguments[1];", ta, text)
    ta.send_keys(Keys.END, " ")
    ta.send_keys(Keys.BACKSPACE)


K8S_API = "k8s-api (via vpc-router)"


def example(d, base):
    d.get(base + "/")
    wait(d, lambda d: d.execute_script("return window.explorer.grid !== null"))
    c = wait(d, lambda d: cell(d, "group:platform", K8S_API))
    check(f"grid: group:platform -> {K8S_API} is tcp:443", c.text.strip() == "tcp:443", c.text)
    alice = cell(d, "alice@example.com", K8S_API).text.strip()
    check("grid: and so for its member alice", alice == "tcp:443", alice)
    internet = cell(d, "group:data", "autogroup:internet (via exit-1)").text.strip()
    check("grid: the internet is one folded column", internet == "*", internet)
    empty = cell(d, "group:data", K8S_API).text.strip()
    check("grid: group:data has no access to k8s-api", empty == "", empty)
    kinds = d.execute_script("return window.explorer.grid.cols.map(c => c.kind + ' ' + c.name)")
    check("grid: columns are tags, hosts, the subnet route, the internet, then users' devices",
          kinds == ["tag tag:db", "tag tag:exit", "tag tag:k8s", "tag tag:vpc-router", f"host {K8S_API}",
                    "host postgres (via vpc-router)", "subnet 10.0.0.0/16 (via vpc-router)",
                    "internet autogroup:internet (via exit-1)", "user alice@example.com", "user bob@example.com",
                    "user carol@example.com"], str(kinds))
    shown = d.execute_script(
        "return [...document.querySelectorAll('#grid-colhead .ch')].map(h => h.dataset.kind + ' ' + h.dataset.name)")
    check("grid: the columns with access are shown, with their kinds",
          shown == ["tag tag:db", "tag tag:k8s", f"host {K8S_API}", "host postgres (via vpc-router)",
                    "internet autogroup:internet (via exit-1)"], str(shown))
    shown = d.execute_script(
        "return [...document.querySelectorAll('#grid-rowhead .rh')].map(h => h.dataset.kind + ' ' + h.dataset.name)")
    check("grid: rows are users, then groups, then tags (those with access)",
          shown == ["user alice@example.com", "user bob@example.com", "user carol@example.com", "group group:data",
                    "group group:platform", "tag tag:k8s"], str(shown))
    tip = d.find_element(By.CSS_SELECTOR, '#grid-rowhead .rh[data-name="carol@example.com"]').get_attribute("title")
    check("grid: a row's tooltip lists its groups and devices", "groups: group:data" in tip and "carol-laptop (100.64.0.3)" in tip, tip)

    c.click()
    links = wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#cell-rules .rule-link"))
    text = " ".join(l.text for l in links)
    check("cell: the deciding rule and its line", text.startswith("grants[0] ") and text.endswith("policy.hujson:34"), text)
    hl = wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#source .line.hl"))
    check("cell: the rule's line is highlighted in the policy view",
          hl[0].get_attribute("id") == "src-line-34" and "k8s-api" in hl[0].text, hl[0].text)
    d.save_screenshot(os.path.join(SHOTS, "explorer-grid.png"))

    d.find_element(By.CSS_SELECTOR, '#grid-rowhead .rh[data-name="carol@example.com"]').click()
    res = wait(d, lambda d: d.find_element(By.ID, "from-result").text or None)
    check("from carol@example.com: postgres tcp:5432", "postgres" in res and "tcp:5432" in res, res[:120])
    d.find_element(By.CSS_SELECTOR, '#tabs button[data-view="to"]').click()
    d.find_element(By.ID, "to-input").send_keys("k8s-api:443", Keys.ENTER)
    res = wait(d, lambda d: d.find_element(By.ID, "to-result").text or None)
    check("to k8s-api:443: the platform team's laptops", "alice-laptop" in res and "carol" not in res, res[:120])
    d.find_element(By.CSS_SELECTOR, '#tabs button[data-view="ssh"]').click()
    res = wait(d, lambda d: d.find_element(By.ID, "ssh-result").text or None)
    check("ssh: both rules", "check" in res and "root, ubuntu" in res, res[:120])
    d.find_element(By.CSS_SELECTOR, '#tabs button[data-view="tests"]').click()
    res = wait(d, lambda d: d.find_element(By.ID, "tests-result").text or None)
    check("tests: all pass", "4 of 4 passed" in res, res[:80])
    d.find_element(By.CSS_SELECTOR, '#tabs button[data-view="audit"]').click()
    res = wait(d, lambda d: d.find_element(By.ID, "audit-result").text or None)
    check("audit: answers", len(res) > 0, res[:80])

    d.find_element(By.CSS_SELECTOR, '#tabs button[data-view="edit"]').click()
    ta = wait(d, lambda d: d.find_element(By.ID, "editor-text") if d.find_element(By.ID, "editor-text").get_attribute("value") else None)
    original = ta.get_attribute("value")
    rule = '{"src": ["group:platform"], "dst": ["k8s-api"], "ip": ["tcp:443"]}'
    check("editor: holds the policy", rule in original)
    set_editor(d, original.replace(rule, '{"src": ["group:platform", "group:nobody"], "dst": ["k8s-api"], "ip": ["tcp:443"]}'))
    diag = wait(d, lambda d: [x for x in d.find_elements(By.CSS_SELECTOR, "#diags .diag.error") if "group:nobody" in x.text])
    check("what-if: a diagnostic at its line", diag[0].get_attribute("data-line") == "34", diag[0].text)
    mark = d.find_elements(By.CSS_SELECTOR, "#editor-gutter #gutter-34.err")
    check("what-if: the line is marked in the gutter", len(mark) == 1)

    workloads = '{"src": ["tag:k8s"], "dst": ["tag:db"], "ip": ["tcp:5432"]}'
    check("editor: holds the workloads rule", workloads in original)
    edited = original.replace(rule, '{"src": ["group:platform"], "dst": ["k8s-api"], "ip": ["tcp:443", "tcp:6443"]}')
    edited = edited.replace(workloads, '{"src": ["tag:k8s"], "dst": ["tag:db"], "ip": ["tcp:6432"]}')
    set_editor(d, edited)
    rows = wait(d, lambda d: [r for r in d.find_elements(By.CSS_SELECTOR, "#diff tr.gained") if K8S_API in r.text])
    check("what-if: the access diff shows the gain per user, with the group and the rule",
          len(rows) == 2 and all("(group:platform)" in r.text and "tcp:6443" in r.text and "grants[0]" in r.text for r in rows)
          and "alice@example.com" in rows[0].text and "bob@example.com" in rows[1].text,
          " | ".join(r.text for r in rows))
    lost = [r for r in d.find_elements(By.CSS_SELECTOR, "#diff tr.lost") if "tag:k8s" in r.text and "tag:db" in r.text]
    check("what-if: and the loss with its rule", bool(lost) and "tcp:5432" in lost[0].text and "grants[3]" in lost[0].text,
          lost[0].text if lost else "")
    errors = [x.text for x in d.find_elements(By.CSS_SELECTOR, "#diags .diag.error")]
    check("what-if: no errors left", not errors, "; ".join(errors))
    d.execute_script("editorLine(34);")  # show the edited rule
    d.save_screenshot(os.path.join(SHOTS, "explorer-diff.png"))

    before = d.find_element(By.ID, "etag").text
    d.find_element(By.ID, "save").click()
    out = wait(d, lambda d: d.find_element(By.CSS_SELECTOR, "#save-status.ok, #save-status.bad"))
    check("save: accepted by the API", out.get_attribute("class") == "ok", out.text)
    after = out.get_attribute("data-etag")
    check("save: the ETag changed", bool(after) and after != before, f"{before} -> {after}")
    wait(d, lambda d: d.find_element(By.ID, "etag").text == after)
    d.find_element(By.CSS_SELECTOR, '#tabs button[data-view="grid"]').click()
    c = wait(d, lambda d: cell(d, "group:platform", K8S_API) if "6443" in cell(d, "group:platform", K8S_API).text else None)
    check("save: the grid shows the new access", c.text.strip() == "tcp:443,6443", c.text)

    # An edit that started from an older version is refused (412), and the page says so.
    d.find_element(By.CSS_SELECTOR, '#tabs button[data-view="edit"]').click()
    d.execute_script("editor.base = arguments[0];", before)
    d.find_element(By.ID, "save").click()
    out = wait(d, lambda d: d.find_element(By.CSS_SELECTOR, "#save-status.bad") if "412" in d.find_element(By.ID, "save-status").text else None)
    check("save: a stale ETag is refused with the API's message", "precondition failed" in out.text, out.text)


def large(d, base):
    d.get(base + "/")
    t = wait(d, lambda d: d.execute_script("return window.explorer.timings.totalMs ? window.explorer.timings : null"), timeout=300)
    print("render:", json.dumps(t), flush=True)
    check("large grid: only the visible part is in the DOM", t["domCells"] < 2000 and t["cells"] > t["domCells"],
          f"{t['domCells']} of {t['rows']}x{t['cols']} cells in the DOM")
    # Scrolling renders the next part (read in the page: the cells are replaced as it scrolls).
    d.execute_script("document.getElementById('grid-body').scrollTop = 5000")
    r = wait(d, lambda d: d.execute_script(
        "const c = document.querySelector('#grid-body .cell'); return c && +c.dataset.r > 100 ? +c.dataset.r : null"))
    check("large grid: scrolling renders further rows", r > 100, f"first row in the DOM: {r}")
    print(f"GRID_RENDER_MS={t['renderMs']} GRID_FETCH_MS={t['fetchMs']} GRID_TOTAL_MS={t['totalMs']}", flush=True)


def main():
    d = driver()
    try:
        example(d, sys.argv[1])
        if len(sys.argv) > 2:
            large(d, sys.argv[2])
    finally:
        d.quit()
    print(f"{len(CHECKS)} browser checks passed")


if __name__ == "__main__":
    main()
