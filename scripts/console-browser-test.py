#!/usr/bin/env python3
"""The console's real-browser test: `csworker console` in headless Chromium.

    scripts/console-browser-test.py [--csworker PATH] [--cases N] [--seed S]
                                    [--timeout SECONDS] [--keep-database]
    scripts/console-browser-test.py --install-only    only step 1
    scripts/console-browser-test.py --pipeline-only   only steps 1 and 2

The binary is .build/debug/csworker (what scripts/test.sh builds) unless
--csworker or $CSWORKER names another. scripts/console-browser-test.sh runs
this with the local services started (and stopped again if it started them).

1. Installs what is missing (idempotent, quick when present): Debian's
   chromium and chromium-driver (apt), and the pinned Python packages of
   scripts/console-test-requirements.txt (Selenium) into a virtualenv at
   .deps/console-test. Then re-runs itself with that virtualenv's Python.
2. With the local services (scripts/services.sh; their settings are read from
   the environment, or from `scripts/services.sh env` when CSE_DATABASE_URL is
   not set): a fresh database csworker_console_test, a fresh topic prefix and
   consumer group, `csworker migrate`, `csworker topics ensure --partitions 4`,
   two `csworker run` workers, `csworker feed --cases 200 --seed 11` (poison
   included), `csworker status --wait-for-events N`, then SIGTERM to the
   workers.
3. Adds the users viewer1 (viewer), op1 (operator) and locked1 (viewer, for the
   lockout check) to a users file in a temporary directory and starts
   `csworker console` on a free port (its stderr in console.log).
4. Plain HTTP (no browser): pages without a session answer 303 to /login, the
   API 401; a good login 303 to /timeliness; /cases?caseId=X redirects to
   /cases/X; five wrong passwords for one name, then 429.
5. Headless Chromium, 1280x900: signs in as op1, opens timeliness, caseload,
   two drill-down lists, a case page (through the case search), operations,
   the group (a third worker started for it; the two that processed the
   feed show as left) and dead
   letters; waits for main[data-loaded="true"]; compares the figures with
   SQL run through psql (and with `csworker status --json` and `csworker case
   show --json` where the database alone cannot say); takes a screenshot of
   each page (and of caseload at 390 px wide) into <output>/console/, where
   <output> is $CSE_TEST_OUTPUT_DIR or .local/test-output. Replays one dead
   letter with the UI button and checks the row and dead_letter_replays; a
   replay POST without the CSRF token is refused. Signs out; a wrong password
   shows .error with status 401; signs in as viewer1: no replay controls, and
   the replay API answers 403.
6. Every page's source and visible text and every JSON answer the pages fetched
   are searched for an unmasked SSN (9xx-xx-xxxx, dashes optional); a finding
   is reported by page and position only, never the number.
7. Prints a summary (each check, each figure with both values, screenshot
   paths), also written to <output>/console/summary.txt, and exits 0 only if
   every check passed. The console and workers are stopped and the database
   dropped in every case.

Nothing the pages or the database hold is printed unmasked: figures, case ids,
dead-letter ids and status codes only.
"""
import argparse
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".deps", "console-test")
VENV_PYTHON = os.path.join(VENV, "bin", "python")
REQUIREMENTS = os.path.join(ROOT, "scripts", "console-test-requirements.txt")
APT_PACKAGES = ["chromium", "chromium-driver"]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def log(message):
    print(f"console-test: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# 1. Installation (runs under any python3; the rest runs in the virtualenv)
# ---------------------------------------------------------------------------

def as_root(command):
    return command if os.geteuid() == 0 else ["sudo", *command]


def apt_install(packages):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    log(f"installing Debian packages: {' '.join(packages)}")
    subprocess.run(as_root(["apt-get", "update", "-qq"]), env=env, check=True)
    subprocess.run(as_root(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]),
                   env=env, check=True, stdout=subprocess.DEVNULL)


def dpkg_installed(package):
    result = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return result.returncode == 0 and "install ok installed" in result.stdout


def requirements_stamp():
    with open(REQUIREMENTS, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def install():
    missing = [p for p in APT_PACKAGES if not dpkg_installed(p)]
    if missing or not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        apt_install(missing or APT_PACKAGES)
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            sys.exit(f"console-test: {path} is missing after installing {' '.join(APT_PACKAGES)}")

    stamp_file = os.path.join(VENV, ".requirements-sha256")
    stamp = requirements_stamp()
    try:
        with open(stamp_file) as handle:
            current = handle.read().strip() == stamp
    except OSError:
        current = False
    if current and os.access(VENV_PYTHON, os.X_OK):
        return
    log("installing scripts/console-test-requirements.txt into .deps/console-test")
    python = os.environ.get("PYTHON", sys.executable or "python3")
    if subprocess.run([python, "-m", "venv", VENV], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
        # Debian's own python3 needs python3-venv for this.
        apt_install(["python3-venv"])
        subprocess.run([python, "-m", "venv", VENV], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([VENV_PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-r", REQUIREMENTS], check=True)
    with open(stamp_file, "w") as handle:
        handle.write(stamp + "\n")


def in_venv():
    return os.path.realpath(sys.prefix) == os.path.realpath(VENV)


if __name__ == "__main__" and not in_venv():
    install()
    if "--install-only" in sys.argv[1:]:
        log(f"ready: {CHROMIUM}, {CHROMEDRIVER}, Selenium in .deps/console-test")
        sys.exit(0)
    os.execv(VENV_PYTHON, [VENV_PYTHON, os.path.abspath(__file__), *sys.argv[1:]])

# ---------------------------------------------------------------------------
# Everything below runs with the virtualenv's Python (Selenium importable).
# ---------------------------------------------------------------------------

import base64  # noqa: E402
import html.parser  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import secrets  # noqa: E402
import shlex  # noqa: E402
import socket  # noqa: E402
import tempfile  # noqa: E402
import urllib.parse  # noqa: E402

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager: never download a browser or driver
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import (  # noqa: E402
    NoAlertPresentException, NoSuchElementException, TimeoutException, WebDriverException)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

SSN = re.compile(r"\b9\d{2}-?\d{2}-?\d{4}\b")
FEIN_BEFORE = re.compile(r"fein\W{0,4}$", re.IGNORECASE)
TEST_DATABASE = "csworker_console_test"
STAGES = ["INTAKE", "LOCATE", "PATERNITY", "ESTABLISHMENT", "ENFORCEMENT", "CLOSED"]
PROGRAMS = ["TANF", "NON_TANF", "MEDICAID", "FOSTER_CARE", "INTERSTATE"]
TIMEFRAMES = ["locate", "establishment", "enforcement", "income-withholding", "medical-support-notice", "disbursement",
              "review-and-adjustment", "party-notice", "closure", "intergovernmental-referral"]
OUTBOX_TIMEFRAMES = ["income-withholding", "medical-support-notice", "disbursement", "party-notice", "intergovernmental-referral"]
# The processes the Caseload page counts (Sources/CaseStorage/SupervisionReadings.swift CaseProcessFilter), as SQL on cases c.
PROCESS_CONDITIONS = {
    "enforcement-intent": "EXISTS (SELECT FROM json_array_elements(c.state->'processes'->'remedyNotices') n WHERE n->>'status' = 'AWAITING')",
    "contest": "EXISTS (SELECT FROM json_array_elements(c.state->'processes'->'remedyNotices') n WHERE n->>'status' = 'CONTESTED')",
    "payment-agreement": "c.state->'processes'->'agreement' IS NOT NULL",
    "pending-closure": "c.state->'pendingClosure' IS NOT NULL",
    "review": "c.state->'processes'->'review' IS NOT NULL",
    "intergovernmental": "c.state->'processes'->'intergovernmental' IS NOT NULL",
}
ERROR_CLASSES = ["malformed-json", "schema-violation", "unknown-type", "unknown-case", "processing-failed"]
TASK_TYPE_HEADER = "task-type"      # Sources/CaseStorage/BatchRecords.swift OutboxMessage.TaskHeader
TASK_ACTION_HEADER = "task-action"
ERROR_CLASS_HEADER = "error-class"  # Sources/CasePipeline/DeadLetters.swift DeadLetter.Header
ERROR_REASON_HEADER = "error-reason"
PAGE_TIMEOUT = 30


def mask(text):
    """Anything printed that came from a page or a log goes through this."""
    return SSN.sub("[ssn]", str(text))


class Failure(Exception):
    """A step that cannot go on (the run stops; cleanup still happens)."""


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------

class Results:
    def __init__(self):
        self.rows = []  # (section, name, ok, detail)
        self.screenshots = []
        self.notes = []

    def check(self, section, name, ok, detail=""):
        self.rows.append((section, name, bool(ok), mask(detail)))
        if not ok:
            log(f"FAIL {section}: {name}{': ' + mask(detail) if detail else ''}")
        return bool(ok)

    def compare(self, section, figure, page_value, db_value, source="database"):
        ok = page_value is not None and page_value == db_value
        shown = "missing" if page_value is None else page_value
        return self.check(section, f"figure {figure}", ok, f"page {shown}, {source} {db_value}")

    def note(self, text):
        self.notes.append(mask(text))
        log(f"note: {mask(text)}")

    @property
    def failed(self):
        return [r for r in self.rows if not r[2]]

    def summary(self):
        lines = ["", "== console browser test: summary"]
        section = None
        for sec, name, ok, detail in self.rows:
            if sec != section:
                lines.append(f"-- {sec}")
                section = sec
            lines.append(f"  {'ok  ' if ok else 'FAIL'} {name}{'  (' + detail + ')' if detail else ''}")
        if self.screenshots:
            lines.append("-- screenshots")
            lines.extend(f"  {p}" for p in self.screenshots)
        if self.notes:
            lines.append("-- notes")
            lines.extend(f"  {n}" for n in self.notes)
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# Services, database, processes
# ---------------------------------------------------------------------------

def services_env():
    """The local services' settings: from the environment, else services.sh env."""
    if os.environ.get("CSE_DATABASE_URL") and os.environ.get("CSE_KAFKA_BROKERS") and os.environ.get("CSE_SSN_KEY"):
        return {}
    out = subprocess.run([os.path.join(ROOT, "scripts", "services.sh"), "env"], capture_output=True, text=True, check=True).stdout
    settings = {}
    for line in out.splitlines():
        parts = shlex.split(line)
        if len(parts) == 2 and parts[0] == "export" and "=" in parts[1]:
            name, value = parts[1].split("=", 1)
            settings[name] = value
    return settings


def with_database(url, name):
    """The same connection settings, another database."""
    if "://" in url:
        parts = urllib.parse.urlsplit(url)
        return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
    return re.sub(r"\bdbname=\S+", "", url).strip() + f" dbname={name}"


def literal(text):
    return "'" + str(text).replace("'", "''") + "'"


def find_psql():
    candidates = []
    base = "/usr/lib/postgresql"
    if os.path.isdir(base):
        for version in os.listdir(base):
            path = os.path.join(base, version, "bin", "psql")
            if os.access(path, os.X_OK):
                candidates.append((tuple(int(x) for x in re.findall(r"\d+", version)), path))
    if candidates:
        return sorted(candidates)[-1][1]
    found = shutil.which("psql")
    if not found:
        raise Failure("psql not found under /usr/lib/postgresql/*/bin (run scripts/setup.sh)")
    return found


class Database:
    def __init__(self, psql, url):
        self.psql = psql
        self.url = url

    def rows(self, query):
        result = subprocess.run(
            [self.psql, "-X", "-q", "-t", "-A", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", self.url, "-c", query],
            capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise Failure(f"psql failed ({result.returncode}): {mask(result.stderr.strip())[:500]}")
        return [line.split("\t") for line in result.stdout.splitlines() if line != ""]

    def value(self, query):
        rows = self.rows(query)
        return rows[0][0] if rows else None

    def count(self, query):
        return int(self.value(query))

    def counts_by(self, query):
        return {row[0]: int(row[1]) for row in self.rows(query)}


class Processes:
    """Child processes this script started; each stopped by its own pid."""

    def __init__(self):
        self.started = []  # (name, Popen, log handle)

    def start(self, name, command, env, log_path, stdout_path=None):
        handle = open(log_path, "wb")
        out = open(stdout_path, "wb") if stdout_path else handle
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=handle,
                                   start_new_session=True)
        self.started.append((name, process, handle))
        return process

    def stop(self, process, timeout=30):
        if process.poll() is None:
            try:
                process.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        return process.returncode

    def stop_all(self):
        for name, process, handle in reversed(self.started):
            if process.poll() is None:
                log(f"stopping {name} (pid {process.pid})")
                self.stop(process, timeout=20)
            handle.close()


def tail(path, lines=20):
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            return mask("".join(handle.readlines()[-lines:]))
    except OSError:
        return "(no log)"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------------------
# Plain HTTP (status codes and redirects the browser hides)
# ---------------------------------------------------------------------------

class FormFields(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.inputs = {}
        self.meta = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            self.inputs[a["name"]] = a.get("value") or ""
        if tag == "meta" and a.get("name"):
            self.meta[a["name"]] = a.get("content") or ""


class Http:
    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            pair = header.split(";", 1)[0]
            if "=" in pair:
                name, value = pair.split("=", 1)
                expired = re.search(r"max-age=0\b", header, re.I) or value == ""
                if expired:
                    self.cookies.pop(name.strip(), None)
                else:
                    self.cookies[name.strip()] = value.strip()
        return response.status, response.headers, data.decode("utf-8", "replace")

    def login(self, name, password):
        status, _, body = self.request("GET", "/login")
        if status != 200:
            return status, None, ""
        fields = FormFields()
        fields.feed(body)
        form = urllib.parse.urlencode({"name": name, "password": password, "csrf": fields.inputs.get("csrf", "")})
        return self.request("POST", "/login", body=form, headers={"Content-Type": "application/x-www-form-urlencoded"})


def location_path(headers):
    location = headers.get("Location") if headers is not None else None
    return urllib.parse.urlsplit(location).path if location else None


def location_target(headers):
    location = headers.get("Location") if headers is not None else None
    if not location:
        return None
    parts = urllib.parse.urlsplit(location)
    return parts.path + ("?" + parts.query if parts.query else "")


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------

def parse_count(text):
    text = (text or "").strip()
    if re.fullmatch(r"\d{1,3}(,\d{3})+|\d+", text):
        return int(text.replace(",", ""))
    return None


def parse_dollars(text):
    """'$1,234.56' -> 123456 cents; '-$5.00', '$-5.00' and '($5.00)' are negative."""
    text = (text or "").strip().replace("\u2212", "-")
    negative = text.startswith("-") or text.startswith("(") or text.startswith("$-")
    digits = text.strip("()-$ ").replace("$", "").lstrip("-")
    if not re.fullmatch(r"(\d{1,3}(,\d{3})+|\d+)\.\d{2}", digits):
        return None
    cents = int(digits.replace(",", "").replace(".", ""))
    return -cents if negative else cents


def dollars(cents):
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}${cents // 100:,}.{cents % 100:02d}"


# ---------------------------------------------------------------------------
# The test
# ---------------------------------------------------------------------------

class ConsoleTest:
    def __init__(self, args):
        self.args = args
        self.results = Results()
        self.processes = Processes()
        base_output = os.environ.get("CSE_TEST_OUTPUT_DIR") or os.path.join(ROOT, ".local", "test-output")
        self.out = os.path.join(base_output, "console")
        self.tmp = tempfile.mkdtemp(prefix="csworker-console-test-")
        self.driver = None
        self.console = None
        self.port = None
        self.db = None
        self.admin_db = None
        self.database_created = False
        self.api_paths = set()
        self.ssn_findings = []
        self.scanned = 0
        self.passwords = {name: secrets.token_urlsafe(18) for name in ("viewer1", "op1", "locked1")}

    # -- setup -----------------------------------------------------------------

    def environment(self):
        env = dict(os.environ)
        env.update(services_env())
        for name in ("CSE_DATABASE_URL", "CSE_KAFKA_BROKERS", "CSE_SSN_KEY"):
            if not env.get(name):
                raise Failure(f"{name} is not set and scripts/services.sh env did not give it")
        # The federal defaults (the figures below assume them) and no stray settings.
        for name in ("CSE_POLICY_FILE", "CSE_CONSOLE_PORT", "CSE_CONSOLE_USERS_FILE", "CSE_HTTP_PORT"):
            env.pop(name, None)
        env.setdefault("CSE_TOPIC_REPLICATION_FACTOR", "1")
        run_id = f"{int(time.time())}-{os.getpid()}"
        self.admin_url = env["CSE_DATABASE_URL"]
        env["CSE_DATABASE_URL"] = with_database(self.admin_url, TEST_DATABASE)
        env["CSE_TOPIC_PREFIX"] = f"console-{run_id}."
        env["CSE_CONSUMER_GROUP"] = f"csworker-console-{run_id}"
        env["CSE_LOG_FORMAT"] = "json"
        self.env = env
        self.prefix = env["CSE_TOPIC_PREFIX"]
        self.dead_letter_topic = self.prefix + "cse.deadletter.v1"
        self.time_zone = "America/Chicago"
        self.today = f"(now() AT TIME ZONE {literal(self.time_zone)})::date"

    def csworker(self, *arguments, timeout=300, stdin=None, env=None, check=True, what=None):
        command = [self.args.csworker, *arguments]
        try:
            result = subprocess.run(command, env=env or self.env, input=stdin, capture_output=True, text=True,
                                    timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f"`csworker {' '.join(arguments[:2])}` did not finish within {timeout} s")
        if check and result.returncode != 0:
            raise Failure(f"`csworker {what or ' '.join(arguments[:2])}` exited {result.returncode}: "
                          f"{mask(result.stderr.strip())[-800:]}")
        return result

    def prepare_output(self):
        os.makedirs(self.out, exist_ok=True)
        for name in os.listdir(self.out):
            path = os.path.join(self.out, name)
            if os.path.isfile(path):
                os.remove(path)

    def create_database(self):
        psql = find_psql()
        self.admin_db = Database(psql, self.admin_url)
        self.admin_db.rows(f'DROP DATABASE IF EXISTS "{TEST_DATABASE}" WITH (FORCE)')
        self.admin_db.rows(f'CREATE DATABASE "{TEST_DATABASE}"')
        self.database_created = True
        self.db = Database(psql, self.env["CSE_DATABASE_URL"])
        log(f"database {TEST_DATABASE} created; topic prefix {self.prefix}; group {self.env['CSE_CONSUMER_GROUP']}")

    def feed_and_process(self):
        started = time.monotonic()
        self.csworker("migrate", timeout=120)
        self.csworker("topics", "ensure", "--partitions", "4", timeout=120)
        worker_env = dict(self.env, CSE_KAFKA_MAX_POLL_INTERVAL_MS="30000", CSE_KAFKA_SESSION_TIMEOUT_MS="6000",
                          CSE_UNKNOWN_CASE_HORIZON="20s", CSE_HTTP_PORT="0")
        workers = []
        for n in (1, 2):
            workers.append(self.processes.start(f"worker {n}", [self.args.csworker, "run"], worker_env,
                                                os.path.join(self.out, f"worker-{n}.log")))
        feed = self.csworker("feed", "--cases", str(self.args.cases), "--seed", str(self.args.seed), timeout=600)
        with open(os.path.join(self.out, "feed.txt"), "w") as handle:
            handle.write(mask(feed.stdout))
        match = re.search(r"^(\d+) events \(", feed.stdout, re.M)
        if not match:
            raise Failure("`csworker feed` printed no 'N events (' line (see feed.txt)")
        events = int(match.group(1))
        log(f"fed {events} events for {self.args.cases} cases (seed {self.args.seed}); waiting for the workers")

        status_path = os.path.join(self.out, "status.txt")
        status = self.processes.start(
            "status --wait-for-events", [self.args.csworker, "status", "--wait-for-events", str(events), "--timeout",
                                         str(self.args.timeout)], self.env,
            os.path.join(self.out, "status.log"), stdout_path=status_path)
        deadline = time.monotonic() + self.args.timeout + 30
        while status.poll() is None:
            for n, worker in enumerate(workers, 1):
                if worker.poll() is not None:
                    self.processes.stop(status)
                    raise Failure(f"worker {n} exited {worker.returncode} before all events were processed; "
                                  f"its log ends:\n{tail(os.path.join(self.out, f'worker-{n}.log'))}")
            if time.monotonic() > deadline:
                self.processes.stop(status)
                raise Failure(f"`csworker status --wait-for-events {events}` still waiting after {self.args.timeout} s")
            time.sleep(0.5)
        if status.returncode == 75:
            raise Failure(f"the workers did not account for {events} events within {self.args.timeout} s "
                          f"(status exit 75; see {status_path})")
        if status.returncode != 0:
            raise Failure(f"`csworker status --wait-for-events` exited {status.returncode}: "
                          f"{tail(os.path.join(self.out, 'status.log'), 5)}")
        for n, worker in enumerate(workers, 1):
            code = self.processes.stop(worker, timeout=60)
            self.results.check("pipeline", f"worker {n} exits 0 on SIGTERM", code == 0, f"exit {code}")
        seconds = time.monotonic() - started
        self.results.note(f"pipeline: {events} events fed and processed in {seconds:.0f} s")
        self.events = events

        self.status = json.loads(self.csworker("status", "--json", timeout=120).stdout)
        self.dead_letter_count = self.db.count(
            f"SELECT count(*) FROM outbox WHERE sealed AND topic = {literal(self.dead_letter_topic)}")
        self.results.check("pipeline", "the scenario produced dead letters", self.dead_letter_count > 0,
                           f"{self.dead_letter_count} dead letters")
        self.cases_total = self.db.count("SELECT count(*) FROM cases")
        self.results.check("pipeline", "cases opened", self.cases_total > 0, f"{self.cases_total} cases")

    def start_console(self):
        users = os.path.join(self.tmp, "users.json")
        roles = {"viewer1": "viewer", "op1": "operator", "locked1": "viewer"}
        for name, role in roles.items():
            self.csworker("console", "add-user", name, "--role", role, "--users-file", users, "--password-stdin",
                          stdin=self.passwords[name] + "\n", timeout=60, what=f"console add-user {name}")
        self.results.check("console", "add-user viewer1, op1, locked1 exit 0", os.path.exists(users),
                           "users file written" if os.path.exists(users) else "no users file")
        log_path = os.path.join(self.out, "console.log")
        for attempt in range(3):
            port = free_port()
            process = self.processes.start(
                "console", [self.args.csworker, "console", "--host", "127.0.0.1", "--port", str(port), "--users-file", users],
                self.env, log_path, stdout_path=os.path.join(self.out, "console.out"))
            deadline = time.monotonic() + 60
            listening = False
            while time.monotonic() < deadline and process.poll() is None:
                with open(log_path, "r", encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
                if "console listening" in text and port_open(port):
                    listening = True
                    break
                time.sleep(0.2)
            if listening:
                line = next((l for l in text.splitlines() if "console listening" in l), "")
                self.results.check("console", "logs 'console listening' with its port on stderr",
                                   str(port) in line, f"port {port}")
                self.console, self.port = process, port
                self.base = f"http://127.0.0.1:{port}"
                log(f"console listening on {self.base} (log {log_path})")
                return
            if process.poll() is None:
                self.processes.stop(process)
                raise Failure(f"the console did not log 'console listening' and open port {port} within 60 s; "
                              f"its log ends:\n{tail(log_path)}")
            text = tail(log_path)
            if "in use" not in text.lower() or attempt == 2:
                raise Failure(f"the console exited {process.returncode} at start; its log ends:\n{text}")
            log(f"port {port} was taken meanwhile; trying another")

    # -- plain HTTP checks -----------------------------------------------------

    def http_checks(self, case_id):
        section = "http"
        anonymous = Http(self.port)
        pages = ["/timeliness", "/caseload", "/caseload/cases?stage=ENFORCEMENT", f"/cases/{case_id}",
                 "/timeliness/income-withholding", "/operations", "/group", "/deadletters"]
        for path in pages:
            status, headers, _ = anonymous.request("GET", path)
            self.results.check(section, f"GET {path} without a session: 303 to /login",
                               status == 303 and location_path(headers) == "/login",
                               f"status {status}, Location {location_target(headers)}")
        api = sorted(self.api_paths) or ["/api/caseload"]
        for path in api:
            status, _, _ = anonymous.request("GET", path)
            self.results.check(section, f"GET {path} without a session: 401", status == 401, f"status {status}")
        status, _, _ = anonymous.request("POST", "/api/deadletters/replay", body=json.dumps({"ids": []}),
                                         headers={"Content-Type": "application/json"})
        self.results.check(section, "POST /api/deadletters/replay without a session: 401", status == 401,
                           f"status {status}")

        status, _, body = anonymous.request("GET", "/login")
        fields = FormFields()
        fields.feed(body)
        self.results.check(section, "GET /login: 200 with a csrf field", status == 200 and "csrf" in fields.inputs,
                           f"status {status}")

        client = Http(self.port)
        status, headers, _ = client.login("op1", self.passwords["op1"])
        self.results.check(section, "POST /login (op1, right password): 303 to /timeliness",
                           status == 303 and location_path(headers) == "/timeliness",
                           f"status {status}, Location {location_target(headers)}")
        status, headers, _ = client.request("GET", f"/cases?caseId={urllib.parse.quote(case_id)}")
        self.results.check(section, f"GET /cases?caseId={case_id}: redirect to /cases/{case_id}",
                           status in (301, 302, 303, 307, 308) and location_path(headers) == f"/cases/{case_id}",
                           f"status {status}, Location {location_target(headers)}")
        status, _, _ = client.request("GET", "/timeliness")
        self.results.check(section, "GET /timeliness signed in: 200", status == 200, f"status {status}")

        client = Http(self.port)
        status, _, body = client.login("op1", "not-" + self.passwords["op1"])
        self.results.check(section, "POST /login (wrong password): 401 with an .error element",
                           status == 401 and re.search(r"class=\"[^\"]*\berror\b", body) is not None,
                           f"status {status}")

    def lockout_checks(self):
        section = "http: lockout"
        client = Http(self.port)
        codes = [client.login("locked1", f"wrong-password-{n}")[0] for n in range(5)]
        self.results.check(section, "5 wrong passwords for locked1: 401 each", codes == [401] * 5,
                           f"statuses {codes}")
        status = client.login("locked1", "wrong-password-6")[0]
        self.results.check(section, "6th wrong password within 15 minutes: 429", status == 429, f"status {status}")
        status = Http(self.port).login("locked1", self.passwords["locked1"])[0]
        self.results.check(section, "then the right password (new session) is refused too: 429", status == 429,
                           f"status {status}")

    # -- the browser ---------------------------------------------------------------

    def open_browser(self):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         "--window-size=1280,900", "--no-first-run", "--disable-extensions", "--lang=en-US",
                         "--hide-scrollbars", f"--user-data-dir={os.path.join(self.tmp, 'chromium-profile')}"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        options.unhandled_prompt_behavior = "accept"  # a confirm() before replaying is answered yes
        service = Service(CHROMEDRIVER, log_output=os.path.join(self.tmp, "chromedriver.log"))
        try:
            self.driver = webdriver.Chrome(service=service, options=options)
        except WebDriverException as error:
            raise Failure(f"headless Chromium did not start: {mask(error.msg or error)[:500]}; chromedriver log ends:\n"
                          f"{tail(os.path.join(self.tmp, 'chromedriver.log'))}")
        self.driver.set_page_load_timeout(PAGE_TIMEOUT)
        self.driver.set_script_timeout(PAGE_TIMEOUT)
        version = self.driver.capabilities.get("browserVersion")
        self.results.note(f"browser: Chromium {version}, headless, window 1280x900")

    def path(self):
        parts = urllib.parse.urlsplit(self.driver.current_url)
        return parts.path + ("?" + parts.query if parts.query else "")

    def navigation_status(self):
        return self.driver.execute_script(
            "const n = performance.getEntriesByType('navigation')[0]; return n ? n.responseStatus : null;")

    def browser_errors(self, section):
        """JavaScript errors fail the page; failed requests (4xx) are noted; favicon.ico is ignored."""
        try:
            entries = self.driver.get_log("browser")
        except WebDriverException:
            return
        for entry in entries:
            message = mask(entry.get("message", ""))
            if entry.get("level") != "SEVERE" or "favicon.ico" in message:
                continue
            status = re.search(r"responded with a status of (\d+)", message)
            if status and int(status.group(1)) < 500:
                self.results.note(f"{section}: browser console: {message[:200]}")
            else:
                self.results.check(section, "no error in the browser console", False, message[:300])

    def drain_browser_log(self):
        """After a request meant to fail (wrong password, refused POST): its console line is expected."""
        try:
            self.driver.get_log("browser")
        except WebDriverException:
            pass

    def wait_loaded(self, page, section, expected_path=None):
        try:
            WebDriverWait(self.driver, PAGE_TIMEOUT).until(
                lambda d: d.find_elements(By.CSS_SELECTOR, 'main#page[data-loaded="true"]'))
        except TimeoutException:
            shot = self.screenshot(f"{section.replace(' ', '-')}-timeout")
            data_page = self.driver.execute_script(
                "const m = document.querySelector('main#page'); return m ? m.getAttribute('data-page') : null;")
            self.browser_errors(section)
            raise Failure(f"{section}: main#page[data-loaded=\"true\"] did not appear within {PAGE_TIMEOUT} s "
                          f"(at {self.path()}, data-page={data_page}, screenshot {shot})")
        main = self.driver.find_element(By.CSS_SELECTOR, "main#page")
        data_page = main.get_attribute("data-page")
        self.results.check(section, f'main#page data-page="{page}"', data_page == page, f"data-page={data_page}")
        if expected_path is not None:
            self.results.check(section, f"at {expected_path}", self.path() == expected_path, f"at {self.path()}")
        status = self.navigation_status()
        self.results.check(section, "document status 200", status in (200, None, 0), f"status {status}")
        self.scan(section)
        self.browser_errors(section)

    def open(self, path, page, section):
        self.driver.get(self.base + path)
        self.wait_loaded(page, section, expected_path=path)

    def figures(self):
        return {name: text for name, text in self.driver.execute_script(
            "return Array.from(document.querySelectorAll('[data-figure]'))"
            ".map(e => [e.getAttribute('data-figure'), e.textContent.trim()]);")}

    def count_figure(self, section, figures, name):
        """The figure as an integer; a check fails when it is missing or not a count."""
        if name not in figures:
            self.results.check(section, f"figure {name} present", False, "no [data-figure] element")
            return None
        value = parse_count(figures[name])
        if value is None:
            self.results.check(section, f"figure {name} is a count", False,
                               f"text {mask(figures[name])[:40]!r}")
        return value

    def screenshot(self, name, full_page=True):
        path = os.path.join(self.out, f"{name}.png")
        try:
            if not full_page:
                raise WebDriverException("viewport only")
            metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            viewport = metrics.get("cssLayoutViewport") or metrics["layoutViewport"]
            width = max(int(viewport["clientWidth"]), 1)
            height = min(max(int(size["height"]), int(viewport["clientHeight"])), 12000)
            shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
            with open(path, "wb") as handle:
                handle.write(base64.b64decode(shot["data"]))
        except WebDriverException:
            self.driver.save_screenshot(path)
        self.results.screenshots.append(os.path.relpath(path, ROOT) if path.startswith(ROOT) else path)
        return path

    # -- SSN scan --------------------------------------------------------------

    def scan_text(self, where, text):
        self.scanned += 1
        for match in SSN.finditer(text or ""):
            before = text[max(0, match.start() - 12):match.start()]
            if FEIN_BEFORE.search(before):
                continue
            self.ssn_findings.append((where, match.start()))

    def scan(self, section):
        page = f"{section} ({self.path()})"
        self.scan_text(f"{page} source", self.driver.page_source)
        self.scan_text(f"{page} visible text", self.driver.execute_script("return document.body.innerText;"))
        # The JSON the page fetched: fetched again, same session, and searched too.
        for path in self.driver.execute_script(
                "return performance.getEntriesByType('resource').map(e => e.name)"
                ".filter(n => new URL(n).pathname.startsWith('/api/'))"
                ".map(n => { const u = new URL(n); return u.pathname + u.search; });"):
            self.api_paths.add(urllib.parse.urlsplit(path).path)
            body = self.driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.text()).then(done, e => done(''));",
                path)
            self.scan_text(f"{page} API {urllib.parse.urlsplit(path).path}", body)

    # -- sign in / out -----------------------------------------------------------

    def sign_in(self, name, password, section):
        self.driver.get(self.base + "/login")
        form = self.require(section, "form#login")
        for selector in ('input[name="name"]', 'input[name="password"]', 'input[name="csrf"]',
                         'button[type="submit"]'):
            present = bool(form.find_elements(By.CSS_SELECTOR, selector))
            self.results.check(section, f"form#login has {selector}", present)
        csrf = form.find_elements(By.CSS_SELECTOR, 'input[name="csrf"]')
        if csrf:
            self.results.check(section, "the csrf field is hidden", csrf[0].get_attribute("type") == "hidden",
                               f"type={csrf[0].get_attribute('type')}")
        form.find_element(By.CSS_SELECTOR, 'input[name="name"]').clear()
        form.find_element(By.CSS_SELECTOR, 'input[name="name"]').send_keys(name)
        form.find_element(By.CSS_SELECTOR, 'input[name="password"]').send_keys(password)
        form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
        try:
            WebDriverWait(self.driver, PAGE_TIMEOUT).until(lambda d: urllib.parse.urlsplit(d.current_url).path != "/login"
                                                           or d.find_elements(By.CSS_SELECTOR, ".error"))
        except TimeoutException:
            pass

    def require(self, section, selector, within=None):
        try:
            return (within or self.driver).find_element(By.CSS_SELECTOR, selector)
        except NoSuchElementException:
            shot = self.screenshot(f"{section.replace(' ', '-').replace(':', '')}-missing")
            raise Failure(f"{section}: no {selector} at {self.path()} (screenshot {shot})")

    def check_chrome(self, section, user_text):
        """The nav, case search, sign-out form, #user and the CSRF meta of a signed-in page."""
        d = self.driver
        for href in ("/timeliness", "/caseload", "/operations", "/group", "/deadletters"):
            self.results.check(section, f'nav a[href="{href}"]', bool(d.find_elements(By.CSS_SELECTOR, f'a[href="{href}"]')))
        self.results.check(section, 'form#case-search with input[name="caseId"]',
                           bool(d.find_elements(By.CSS_SELECTOR, 'form#case-search input[name="caseId"]')))
        logout = d.find_elements(By.CSS_SELECTOR, "form#logout")
        method = (logout[0].get_attribute("method") or "").lower() if logout else None
        self.results.check(section, "form#logout (POST)", method == "post", f"method={method}")
        user = d.find_elements(By.CSS_SELECTOR, "#user")
        text = " ".join(user[0].text.split()) if user else None
        self.results.check(section, f'#user reads "{user_text}"', text is not None and user_text in text,
                           f"#user text {text!r}")
        self.results.check(section, 'meta[name="csrf-token"] with content',
                           bool(self.csrf_token()))

    def csrf_token(self):
        return self.driver.execute_script(
            "const m = document.querySelector('meta[name=\"csrf-token\"]'); return m ? m.content : null;")

    def sign_out(self, section):
        forms = self.driver.find_elements(By.CSS_SELECTOR, "form#logout")
        if not self.results.check(section, "form#logout present", bool(forms)):
            self.driver.delete_all_cookies()
            return
        buttons = forms[0].find_elements(By.CSS_SELECTOR, 'button, input[type="submit"]')
        if buttons:
            self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", buttons[0])
            buttons[0].click()
        else:
            self.driver.execute_script("arguments[0].requestSubmit();", forms[0])
        try:
            WebDriverWait(self.driver, PAGE_TIMEOUT).until(lambda d: urllib.parse.urlsplit(d.current_url).path == "/login")
            self.results.check(section, "signing out lands on /login", True)
        except TimeoutException:
            self.results.check(section, "signing out lands on /login", False, f"at {self.path()}")
        self.driver.get(self.base + "/timeliness")
        self.results.check(section, "after signing out /timeliness goes to /login",
                           urllib.parse.urlsplit(self.driver.current_url).path == "/login", f"at {self.path()}")
        self.driver.delete_all_cookies()  # the next sign-in starts afresh whatever happened here

    # -- pages ----------------------------------------------------------------------

    def timeliness(self):
        section = "timeliness"
        if self.path() == "/timeliness":
            self.wait_loaded("timeliness", section, expected_path="/timeliness")
        else:
            self.open("/timeliness", "timeliness", section)
        self.check_chrome(section, "op1 (operator)")
        figures = self.figures()
        db_past, db_unpublished = {}, {}
        for kind in OUTBOX_TIMEFRAMES:
            db_past[kind] = self.db.count(f"SELECT count(*) FROM ({self.outbox_past_sql(kind, 'o.id')}) items")
            db_unpublished[kind] = self.db.count(
                f"SELECT count(*) FROM ({self.outbox_past_sql(kind, 'o.id')} AND o.published_at IS NULL) items")
        db_past["locate"] = self.db.count(f"""
            SELECT count(*) FROM cases
            WHERE stage = 'LOCATE' AND (state->>'locateRequestedOn')::date + 75 < {self.today}""")
        db_past["establishment"] = self.db.count(f"""
            SELECT count(*) FROM cases
            WHERE stage IN ('PATERNITY', 'ESTABLISHMENT')
              AND (state->>'establishmentPreparationRequestedOn')::date + 90 < {self.today}""")
        db_past["review-and-adjustment"] = self.db.count(f"""
            SELECT count(*) FROM cases
            WHERE stage <> 'CLOSED' AND (state->'processes'->'review'->>'dueOn')::date < {self.today}""")
        db_past["closure"] = self.db.count(f"""
            SELECT count(*) FROM cases
            WHERE stage <> 'CLOSED' AND (state->'pendingClosure'->>'noticeSent')::boolean
              AND state->'pendingClosure'->'answeredOn' IS NULL
              AND (state->'pendingClosure'->>'earliestClosureOn')::date < {self.today}""")
        for timeframe in TIMEFRAMES:
            sections = self.driver.find_elements(By.CSS_SELECTOR, f'section[data-timeframe="{timeframe}"]')
            self.results.check(section, f'section[data-timeframe="{timeframe}"]', len(sections) == 1,
                               f"{len(sections)} found")
            past = self.count_figure(section, figures, f"past:{timeframe}")
            due = self.count_figure(section, figures, f"due-soon:{timeframe}")
            if timeframe in db_unpublished:
                # "Past" is open work beyond its deadline: notices not yet sent. Those sent late are
                # history (the weekly bars), printed here for comparison.
                self.results.check(section, f"figure past:{timeframe}", past == db_unpublished[timeframe],
                                   f"page {'missing' if past is None else past}, database {db_unpublished[timeframe]} "
                                   f"(ISSUE tasks due before today and not yet published; "
                                   f"with those published late: {db_past[timeframe]})")
            elif timeframe in db_past:
                self.results.compare(section, f"past:{timeframe}", past, db_past[timeframe])
            elif past is not None:
                self.results.check(section, f"figure past:{timeframe} is a count >= 0", past >= 0, f"page {past}")
            if due is not None:
                self.results.check(section, f"figure due-soon:{timeframe} is a count >= 0", due >= 0, f"page {due}")
            if sections:
                bars = sections[0].find_elements(By.CSS_SELECTOR, "svg.weekly-chart rect")
                charts = sections[0].find_elements(By.CSS_SELECTOR, "svg.weekly-chart")
                self.results.check(section, f"{timeframe}: svg.weekly-chart with 12 rect bars",
                                   len(charts) == 1 and len(bars) == 12, f"{len(charts)} charts, {len(bars)} rects")
            links = self.driver.find_elements(By.CSS_SELECTOR, f'a[data-drill="past:{timeframe}"]')
            href = urllib.parse.urlsplit(links[0].get_attribute("href")).path if links else None
            self.results.check(section, f'a[data-drill="past:{timeframe}"] -> /timeliness/{timeframe}',
                               href == f"/timeliness/{timeframe}", f"href {href}")
        self.screenshot("timeliness")
        self.db_past = db_past
        self.page_past = {t: parse_count(figures.get(f"past:{t}")) for t in db_past}

    def outbox_past_sql(self, kind, columns):
        """ISSUE tasks of `kind` due before today, unpublished or published after their dueBy."""
        return f"""
            SELECT {columns} FROM outbox o
            WHERE NOT o.sealed
              AND o.headers @> {literal(json.dumps([{"name": TASK_TYPE_HEADER, "value": kind}]))}::jsonb
              AND o.headers @> {literal(json.dumps([{"name": TASK_ACTION_HEADER, "value": "ISSUE"}]))}::jsonb
              AND o.due_by < {self.today}
              AND (o.published_at IS NULL
                   OR (o.published_at AT TIME ZONE {literal(self.time_zone)})::date > o.due_by)"""

    def timeliness_drill(self):
        # The timeframe the page shows most items past for (so that the list has rows); income withholding on a tie.
        shown = getattr(self, "page_past", {})
        order = ["income-withholding", "locate", "establishment", "medical-support-notice", "disbursement"]
        kind = max(order, key=lambda t: ((shown.get(t) or 0), -order.index(t)))
        section = f"drill-down past:{kind}"
        if self.path() != "/timeliness":
            self.open("/timeliness", "timeliness", section)
        link = self.driver.find_elements(By.CSS_SELECTOR, f'a[data-drill="past:{kind}"]')
        if not link:
            self.results.check(section, f'a[data-drill="past:{kind}"] present', False)
            self.open(f"/timeliness/{kind}", "case-list", section)
        else:
            self.click_and_wait(link[0], "case-list", section, f"/timeliness/{kind}")
        rows = self.row_ids("tr[data-case-id]", "data-case-id")
        if kind in OUTBOX_TIMEFRAMES:
            query = (f"SELECT DISTINCT case_id FROM ({self.outbox_past_sql(kind, 'convert_from(o.key, ' + literal('UTF8') + ') AS case_id')}"
                     f" AND o.published_at IS NULL) items")
        elif kind == "locate":
            query = f"""SELECT case_id FROM cases
                        WHERE stage = 'LOCATE' AND (state->>'locateRequestedOn')::date + 75 < {self.today}"""
        else:
            query = f"""SELECT case_id FROM cases WHERE stage IN ('PATERNITY', 'ESTABLISHMENT')
                          AND (state->>'establishmentPreparationRequestedOn')::date + 90 < {self.today}"""
        expected = {r[0] for r in self.db.rows(query)}
        self.compare_rows(section, rows, expected, f"cases with a {kind} item past the timeframe")
        if not rows:
            self.results.note(f"{section}: the list is empty (every timeframe shows 0 past)")
        self.screenshot(f"timeliness-{kind}")

    def click_and_wait(self, element, page, section, expected_path):
        old = self.driver.find_element(By.CSS_SELECTOR, "main#page")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
        element.click()
        try:
            WebDriverWait(self.driver, PAGE_TIMEOUT).until(lambda d: self.stale(old))
        except TimeoutException:
            raise Failure(f"{section}: clicking the link did not open a new page within {PAGE_TIMEOUT} s "
                          f"(at {self.path()})")
        self.wait_loaded(page, section, expected_path=expected_path)

    @staticmethod
    def stale(element):
        try:
            element.is_enabled()
            return False
        except WebDriverException:
            return True

    def row_ids(self, selector, attribute):
        return self.driver.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.getAttribute(arguments[1]));",
            selector, attribute)

    def compare_rows(self, section, rows, expected, what):
        page_set = set(rows)
        self.results.check(section, f"rows: {what}", page_set == expected,
                           f"page {len(page_set)} distinct ({len(rows)} rows), database {len(expected)}; "
                           f"{len(page_set - expected)} not expected, {len(expected - page_set)} missing")
        return page_set

    def caseload(self):
        section = "caseload"
        self.open("/caseload", "caseload", section)
        self.check_chrome(section, "op1 (operator)")
        figures = self.figures()
        stages = self.db.counts_by("SELECT stage, count(*) FROM cases GROUP BY 1")
        programs = self.db.counts_by("SELECT program, count(*) FROM cases GROUP BY 1")
        referrals = self.db.counts_by("SELECT task_type, count(*) FROM referrals GROUP BY 1")
        for stage in STAGES:
            self.results.compare(section, f"stage:{stage}", self.count_figure(section, figures, f"stage:{stage}"),
                                 stages.get(stage, 0))
        for stage in sorted(set(stages) - set(STAGES)):
            self.results.check(section, f"stage {stage} in the database is a contract stage", False,
                               f"{stages[stage]} cases")
        for program in PROGRAMS:
            self.results.compare(section, f"program:{program}",
                                 self.count_figure(section, figures, f"program:{program}"), programs.get(program, 0))
        page_referrals = {name.split(":", 1)[1] for name in figures if name.startswith("referral:")}
        for task_type in sorted(set(referrals) | page_referrals):
            self.results.compare(section, f"referral:{task_type}",
                                 self.count_figure(section, figures, f"referral:{task_type}"),
                                 referrals.get(task_type, 0))
        self.results.compare(section, "cases-total", self.count_figure(section, figures, "cases-total"),
                             self.cases_total)
        for process, condition in PROCESS_CONDITIONS.items():
            self.results.compare(section, f"process:{process}", self.count_figure(section, figures, f"process:{process}"),
                                 self.db.count(f"SELECT count(*) FROM cases c WHERE c.stage <> 'CLOSED' AND {condition}"))
        for stage in STAGES:
            links = self.driver.find_elements(By.CSS_SELECTOR, f'a[data-drill="stage:{stage}"]')
            target = None
            if links:
                parts = urllib.parse.urlsplit(links[0].get_attribute("href"))
                target = parts.path + "?" + parts.query
            self.results.check(section, f'a[data-drill="stage:{stage}"] -> /caseload/cases?stage={stage}',
                               target == f"/caseload/cases?stage={stage}", f"href {target}")
        self.screenshot("caseload")
        self.stage_counts = stages

        # The same page 390 px wide.
        narrow = "caseload (390 px)"
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
        try:
            self.driver.refresh()
            self.wait_loaded("caseload", narrow)
            width = self.driver.execute_script("return document.documentElement.scrollWidth;")
            if width > 392:
                self.results.note(f"caseload at 390 px scrolls sideways: content {width} px wide")
            self.screenshot("caseload-narrow")
        finally:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
            self.driver.refresh()
            self.wait_loaded("caseload", section)

    def caseload_drill(self):
        stage = "ENFORCEMENT"
        section = f"drill-down stage:{stage}"
        if self.path() != "/caseload":
            self.open("/caseload", "caseload", section)
        links = self.driver.find_elements(By.CSS_SELECTOR, f'a[data-drill="stage:{stage}"]')
        if links:
            self.click_and_wait(links[0], "case-list", section, f"/caseload/cases?stage={stage}")
        else:
            self.open(f"/caseload/cases?stage={stage}", "case-list", section)
        rows = self.row_ids("tr[data-case-id]", "data-case-id")
        expected = {r[0] for r in self.db.rows(f"SELECT case_id FROM cases WHERE stage = {literal(stage)}")}
        self.compare_rows(section, rows, expected, f"cases in {stage}")
        hrefs = self.driver.execute_script(
            "return Array.from(document.querySelectorAll('tr[data-case-id]')).map(r => {"
            " const a = r.querySelector('a[href]'); return [r.getAttribute('data-case-id'), a ? new URL(a.href).pathname : null]; });")
        bad = [case for case, href in hrefs if href != f"/cases/{urllib.parse.quote(case)}" and href != f"/cases/{case}"]
        self.results.check(section, "each row links to /cases/{id}", not bad and bool(hrefs),
                           f"{len(hrefs)} rows, {len(bad)} without the link")
        self.screenshot("caseload-enforcement")

    def case_page(self, case_id):
        section = f"case {case_id}"
        field = self.driver.find_elements(By.CSS_SELECTOR, 'form#case-search input[name="caseId"]')
        if field:
            old = self.driver.find_element(By.CSS_SELECTOR, "main#page")
            field[0].clear()
            field[0].send_keys(case_id)
            self.driver.execute_script("arguments[0].form.requestSubmit();", field[0])
            try:
                WebDriverWait(self.driver, PAGE_TIMEOUT).until(lambda d: self.stale(old))
            except TimeoutException:
                raise Failure(f"{section}: the case search did not open a page within {PAGE_TIMEOUT} s")
            self.wait_loaded("case", section, expected_path=f"/cases/{case_id}")
        else:
            self.open(f"/cases/{case_id}", "case", section)
        figures = self.figures()
        stage = self.db.value(f"SELECT stage FROM cases WHERE case_id = {literal(case_id)}")
        page_stage = figures.get("stage")
        self.results.compare(section, "stage", page_stage, stage)
        shown = self.csworker("case", "show", case_id, "--json", timeout=60)
        arrears = json.loads(shown.stdout)["arrearsCents"]
        page_arrears = parse_dollars(figures.get("arrears"))
        if "arrears" in figures and page_arrears is None:
            self.results.check(section, "figure arrears is dollars", False, f"text {mask(figures['arrears'])[:40]!r}")
        self.results.check(section, "figure arrears", page_arrears == arrears,
                           f"page {figures.get('arrears', 'missing')}, `csworker case show --json` {dollars(arrears)}")
        events = self.row_ids("tr[data-event-id]", "data-event-id")
        expected = {r[0] for r in self.db.rows(f"SELECT event_id FROM case_history WHERE case_id = {literal(case_id)}")}
        self.results.check(section, "history rows tr[data-event-id] = case_history",
                           set(e.lower() for e in events) == expected and len(events) == len(expected),
                           f"page {len(events)} rows, database {len(expected)} events")
        last4 = self.db.rows(f"SELECT ssn_last4 FROM parties WHERE case_id = {literal(case_id)} AND ssn_last4 IS NOT NULL")
        text = self.driver.execute_script("return document.body.innerText;")
        masked = [r[0] for r in last4 if f"***-**-{r[0]}" in text]
        self.results.note(f"case page shows {len(masked)} of {len(last4)} parties' SSNs, masked (***-**-nnnn)")
        self.screenshot("case")

    def operations(self):
        section = "operations"
        self.open("/operations", "operations", section)
        self.check_chrome(section, "op1 (operator)")
        figures = self.figures()
        self.results.compare(section, "outbox-backlog", self.count_figure(section, figures, "outbox-backlog"),
                             self.db.count("SELECT count(*) FROM outbox WHERE published_at IS NULL AND set_aside_at IS NULL"))
        self.results.compare(section, "outbox-set-aside", self.count_figure(section, figures, "outbox-set-aside"),
                             self.db.count("SELECT count(*) FROM outbox WHERE set_aside_at IS NOT NULL AND dropped_at IS NULL"))
        self.results.compare(section, "waiting", self.count_figure(section, figures, "waiting"),
                             self.db.count("SELECT count(*) FROM parked_events WHERE match_kind <> 'ssn'"))
        classes = self.db.counts_by(f"""
            SELECT h->>'value', count(*) FROM outbox o, jsonb_array_elements(o.headers) h
            WHERE o.sealed AND o.topic = {literal(self.dead_letter_topic)} AND h->>'name' = {literal(ERROR_CLASS_HEADER)}
            GROUP BY 1""")
        page_classes = {name.split(":", 1)[1] for name in figures if name.startswith("deadletters:")}
        for error_class in sorted(set(classes) | page_classes):
            self.results.compare(section, f"deadletters:{error_class}",
                                 self.count_figure(section, figures, f"deadletters:{error_class}"),
                                 classes.get(error_class, 0))
        lag = self.status.get("consumerLag") or {}
        self.results.compare(section, "lag-total", self.count_figure(section, figures, "lag-total"),
                             lag.get("total"), source="`csworker status --json`")
        charts = self.driver.find_elements(By.CSS_SELECTOR, "svg.applied-chart")
        self.results.check(section, "svg.applied-chart", len(charts) == 1, f"{len(charts)} found")
        partitions = self.driver.find_elements(By.CSS_SELECTOR, "tr[data-partition]")
        expected = len(lag.get("partitions") or [])
        self.results.check(section, "tr[data-partition] rows = input partitions", len(partitions) == expected,
                           f"page {len(partitions)}, `csworker status --json` {expected}")
        self.screenshot("operations")

    def group(self):
        section = "group"
        group = literal(self.env["CSE_CONSUMER_GROUP"])
        running = f"group_id = {group} AND left_at IS NULL AND last_seen > now() - interval '30 seconds'"
        held_sql = f"SELECT coalesce(sum(jsonb_array_length(assigned)), 0) FROM group_members WHERE {running}"
        lag = self.status.get("consumerLag") or {}
        partitions = len(lag.get("partitions") or [])
        # The feed's two workers have left. A third is started so the page shows a running
        # member; the input is consumed and the outbox drained, so it changes nothing (the
        # default waiting horizon: no parked event expires). Tansu at times never answers a
        # lone member's join after the group emptied (about every other run here): then the
        # worker is stopped before the page is read, which shows every partition unheld with
        # its lag and last commit. Either way the page is compared with the database; real
        # workers taking partitions are GroupMembershipTests' part.
        worker_env = dict(self.env, CSE_KAFKA_MAX_POLL_INTERVAL_MS="30000", CSE_KAFKA_SESSION_TIMEOUT_MS="6000",
                          CSE_HTTP_PORT="0")
        worker = self.processes.start("worker 3", [self.args.csworker, "run"], worker_env,
                                      os.path.join(self.out, "worker-3.log"))
        try:
            deadline = time.monotonic() + 30
            held = recorded = 0
            while time.monotonic() < deadline and worker.poll() is None:
                recorded = self.db.count(f"SELECT count(*) FROM group_members WHERE {running}")
                held = self.db.count(held_sql)
                if partitions and held == partitions:
                    break
                time.sleep(0.5)
            self.results.check(section, "the started worker records its membership", recorded == 1, f"{recorded} running rows")
            if held != partitions:
                self.results.note(f"group: the broker assigned worker 3 {held} of {partitions} partitions in 30 s; "
                                  "stopped it, the page shows them unheld")
                code = self.processes.stop(worker, timeout=60)
                worker = None
                self.results.check(section, "the started worker exits 0 on SIGTERM", code == 0, f"exit {code}")
            self.open("/group", "group", section)
            self.check_chrome(section, "op1 (operator)")
            figures = self.figures()
            self.results.compare(section, "members-active", self.count_figure(section, figures, "members-active"),
                                 self.db.count(f"SELECT count(*) FROM group_members WHERE {running}"))
            self.results.compare(section, "partitions-held", self.count_figure(section, figures, "partitions-held"),
                                 self.db.count(held_sql))
            members = self.driver.find_elements(By.CSS_SELECTOR, "section[data-member]")
            recorded = self.db.count(f"SELECT count(*) FROM group_members WHERE group_id = {group}")
            self.results.check(section, "section[data-member] per recorded member", len(members) == recorded,
                               f"page {len(members)}, database {recorded}")
            left = self.driver.find_elements(By.CSS_SELECTOR, '[data-member-state="left"]')
            left_db = self.db.count(f"SELECT count(*) FROM group_members WHERE group_id = {group} AND left_at IS NOT NULL")
            self.results.check(section, "the members that left show as left (the feed's two at least)",
                               len(left) == left_db >= 2, f"page {len(left)}, database {left_db}")
            unheld = self.driver.find_elements(By.CSS_SELECTOR, "tr[data-unassigned]")
            self.results.check(section, "tr[data-unassigned] rows = input partitions no running member holds",
                               len(unheld) == partitions - self.db.count(held_sql), f"page {len(unheld)}")
            self.results.compare(section, "group-lag", self.count_figure(section, figures, "group-lag"),
                                 lag.get("total"), source="`csworker status --json`")
            for partition in lag.get("partitions") or []:
                name = f"lag:{partition['topic']}[{partition['partition']}]"
                self.results.compare(section, name, self.count_figure(section, figures, name), partition["lag"],
                                     source="`csworker status --json`")
                # The last commits the workers recorded are what the broker holds as committed.
                if partition.get("committed") is not None:
                    name = f"last-commit:{partition['topic']}[{partition['partition']}]"
                    self.results.compare(section, name, self.count_figure(section, figures, name), partition["committed"],
                                         source="`csworker status --json` committed")
            waiting = "published_at IS NULL AND set_aside_at IS NULL"
            self.results.compare(section, "outbox-waiting", self.count_figure(section, figures, "outbox-waiting"),
                                 self.db.count(f"SELECT count(*) FROM outbox WHERE {waiting}"))
            by_topic = self.db.counts_by(f"SELECT topic, count(*) FROM outbox WHERE {waiting} GROUP BY topic")
            for topic in sorted(set(by_topic) | {n.split(":", 1)[1] for n in figures if n.startswith("outbox-waiting:")}):
                self.results.compare(section, f"outbox-waiting:{topic}",
                                     self.count_figure(section, figures, f"outbox-waiting:{topic}"), by_topic.get(topic, 0))
            self.results.compare(section, "outbox-set-aside", self.count_figure(section, figures, "outbox-set-aside"),
                                 self.db.count("SELECT count(*) FROM outbox WHERE published_at IS NULL AND set_aside_at IS NOT NULL AND dropped_at IS NULL"))
            self.screenshot("group")
        finally:
            if worker is not None:
                code = self.processes.stop(worker, timeout=60)
                self.results.check(section, "the started worker exits 0 on SIGTERM", code == 0, f"exit {code}")

    def dead_letters_from_db(self):
        rows = self.db.rows(f"""
            SELECT o.message_id,
                   (SELECT h->>'value' FROM jsonb_array_elements(o.headers) h WHERE h->>'name' = {literal(ERROR_CLASS_HEADER)}),
                   coalesce((SELECT h->>'value' FROM jsonb_array_elements(o.headers) h
                             WHERE h->>'name' = {literal(ERROR_REASON_HEADER)}), '')
            FROM outbox o WHERE o.sealed AND o.topic = {literal(self.dead_letter_topic)} ORDER BY o.id""")
        return {r[0]: (r[1], r[2]) for r in rows}

    def dead_letters_operator(self):
        section = "deadletters (op1)"
        self.open("/deadletters", "deadletters", section)
        self.check_chrome(section, "op1 (operator)")
        known = self.dead_letters_from_db()
        rows = self.driver.execute_script(
            "return Array.from(document.querySelectorAll('tr[data-deadletter-id]')).map(r => "
            "[r.getAttribute('data-deadletter-id'), r.innerText, r.querySelectorAll('button.replay').length]);")
        ids = [r[0].lower() for r in rows]
        self.results.check(section, "rows tr[data-deadletter-id] = dead letters in the outbox",
                           set(ids) == set(known) and len(ids) == len(known),
                           f"page {len(ids)} rows, database {len(known)}")
        no_class = [i for i, text, _ in rows if i.lower() in known and known[i.lower()][0] not in text]
        no_reason = [i for i, text, _ in rows if i.lower() in known and known[i.lower()][1]
                     and " ".join(known[i.lower()][1].split()) not in " ".join(text.split())]
        payload = [i for i, text, _ in rows if '{"' in text or '"data"' in text]
        self.results.check(section, "each row shows its error class", not no_class, f"{len(no_class)} rows without it")
        self.results.check(section, "each row shows its reason", not no_reason, f"{len(no_reason)} rows without it")
        self.results.check(section, "no row shows a payload", not payload, f"{len(payload)} rows look like JSON")
        without = [i for i, _, buttons in rows if buttons != 1]
        self.results.check(section, "each row has one button.replay", not without and bool(rows),
                           f"{len(without)} of {len(rows)} rows without")
        form = self.driver.find_elements(By.CSS_SELECTOR, "form#replay-class")
        select = self.driver.find_elements(By.CSS_SELECTOR, 'form#replay-class select[name="errorClass"]')
        submit = self.driver.find_elements(By.CSS_SELECTOR,
                                           'form#replay-class button[type="submit"], form#replay-class input[type="submit"]')
        self.results.check(section, 'form#replay-class with select[name="errorClass"] and a submit button',
                           bool(form) and bool(select) and bool(submit),
                           f"form {len(form)}, select {len(select)}, submit {len(submit)}")
        if select:
            options = set(self.driver.execute_script(
                "return Array.from(arguments[0].options).map(o => o.value);", select[0]))
            present = {c for c, _ in known.values()}
            self.results.check(section, "the class select offers every class present", present <= options,
                               f"{len(present - options)} classes missing")
        self.screenshot("deadletters")
        if not rows:
            return

        # Replay one with the button: prefer a class whose replay has no effect with the workers stopped.
        preference = ["unknown-type", "malformed-json", "schema-violation", "unknown-case", "processing-failed"]
        candidates = sorted((i for i in ids if i in known),
                            key=lambda i: preference.index(known[i][0]) if known[i][0] in preference else 9)
        target = candidates[0]
        before = self.db.count("SELECT count(*) FROM dead_letter_replays")
        row = self.driver.find_element(By.CSS_SELECTOR, f'tr[data-deadletter-id="{rows[ids.index(target)][0]}"]')
        button = row.find_element(By.CSS_SELECTOR, "button.replay")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
        button.click()
        time.sleep(0.3)
        try:
            self.driver.switch_to.alert.accept()
            self.results.note("replay asks for confirmation (accepted)")
        except NoAlertPresentException:
            pass
        replay_section = f"replay {target} ({known[target][0]})"

        def replayed_text(d):
            cells = d.find_elements(By.CSS_SELECTOR, f'tr[data-deadletter-id="{rows[ids.index(target)][0]}"] td.replayed')
            return cells and "replayed by op1" in cells[0].text

        try:
            WebDriverWait(self.driver, PAGE_TIMEOUT).until(replayed_text)
            self.results.check(replay_section, 'td.replayed shows "replayed by op1"', True)
        except TimeoutException:
            cells = self.driver.find_elements(
                By.CSS_SELECTOR, f'tr[data-deadletter-id="{rows[ids.index(target)][0]}"] td.replayed')
            self.results.check(replay_section, 'td.replayed shows "replayed by op1"', False,
                               f"td.replayed {'text ' + repr(mask(cells[0].text)[:60]) if cells else 'missing'} "
                               f"after {PAGE_TIMEOUT} s")
        who = [r[0] for r in self.db.rows(
            f"SELECT replayed_by FROM dead_letter_replays WHERE message_id = {literal(target)}::uuid")]
        self.results.check(replay_section, "dead_letter_replays records replayed_by = op1", who == ["op1"],
                           f"database {who}")
        replayed_at = self.db.value(f"SELECT replayed_at IS NOT NULL FROM outbox WHERE message_id = {literal(target)}::uuid")
        self.results.check(replay_section, "outbox.replayed_at set", replayed_at == "t", f"database {replayed_at}")
        self.screenshot("deadletters-replayed")

        after = self.db.count("SELECT count(*) FROM dead_letter_replays")
        self.results.check(replay_section, "exactly one replay recorded", after - before == 1,
                           f"{after - before} recorded")

        # A POST without the CSRF token changes nothing.
        other = next((i for i in candidates if i != target), None)
        if other:
            status = self.post_replay(other, with_token=False)
            self.drain_browser_log()
            added = self.db.count(f"SELECT count(*) FROM dead_letter_replays WHERE message_id = {literal(other)}::uuid")
            self.results.check("csrf", "op1's replay POST without X-CSRF-Token is refused (4xx), nothing replayed",
                               400 <= (status or 0) < 500 and added == 0, f"status {status}, replays recorded {added}")
        self.replayable = other or target

    def post_replay(self, message_id, with_token=True):
        return self.driver.execute_async_script(
            """
            const [id, withToken, done] = arguments;
            const meta = document.querySelector('meta[name="csrf-token"]');
            const headers = {'Content-Type': 'application/json'};
            if (withToken) headers['X-CSRF-Token'] = meta ? meta.content : '';
            fetch('/api/deadletters/replay', {method: 'POST', headers, credentials: 'same-origin',
                                              body: JSON.stringify({ids: [id]})})
              .then(r => done(r.status), e => done(null));
            """, message_id, with_token)

    def wrong_password(self):
        section = "sign-in: wrong password"
        self.sign_in("viewer1", "not-" + self.passwords["viewer1"], section)
        status = self.navigation_status()
        self.drain_browser_log()
        errors = self.driver.find_elements(By.CSS_SELECTOR, ".error")
        self.results.check(section, "the login page again with an .error element",
                           bool(errors) and bool(self.driver.find_elements(By.CSS_SELECTOR, "form#login")),
                           f"{len(errors)} .error, at {self.path()}")
        self.results.check(section, "status 401", status == 401, f"status {status}")
        self.scan(section)
        self.screenshot("login-wrong-password")

    def viewer(self):
        section = "sign-in: viewer1"
        self.sign_in("viewer1", self.passwords["viewer1"], section)
        self.wait_loaded("timeliness", section, expected_path="/timeliness")
        self.check_chrome(section, "viewer1 (viewer)")
        section = "deadletters (viewer1)"
        self.open("/deadletters", "deadletters", section)
        rows = self.driver.find_elements(By.CSS_SELECTOR, "tr[data-deadletter-id]")
        self.results.check(section, "the dead letters are listed", len(rows) == self.dead_letter_count,
                           f"page {len(rows)}, database {self.dead_letter_count}")
        buttons = self.driver.find_elements(By.CSS_SELECTOR, "button.replay")
        self.results.check(section, "no button.replay", not buttons, f"{len(buttons)} found")
        forms = self.driver.find_elements(By.CSS_SELECTOR, "form#replay-class")
        self.results.check(section, "no form#replay-class", not forms, f"{len(forms)} found")
        replayed = self.driver.find_elements(By.CSS_SELECTOR, "td.replayed")
        self.results.check(section, 'the replay by op1 is shown ("replayed by op1")',
                           any("replayed by op1" in c.text for c in replayed))
        self.screenshot("deadletters-viewer")
        target = getattr(self, "replayable", None) or next(iter(self.dead_letters_from_db()), None)
        if target:
            status = self.post_replay(target, with_token=True)
            self.drain_browser_log()
            recorded = self.db.count(
                f"SELECT count(*) FROM dead_letter_replays WHERE replayed_by = 'viewer1'")
            self.results.check(section, "viewer1's replay POST with the CSRF token: 403, nothing replayed",
                               status == 403 and recorded == 0, f"status {status}, replays by viewer1 {recorded}")

    # -- the run --------------------------------------------------------------------

    def pick_case(self):
        case_id = self.db.value("""
            SELECT c.case_id FROM cases c JOIN case_history h USING (case_id)
            WHERE c.stage = 'ENFORCEMENT'
            GROUP BY c.case_id HAVING count(*) <= 15
            ORDER BY count(DISTINCT h.event_type) DESC, c.case_id LIMIT 1""")
        return case_id or self.db.value("SELECT case_id FROM cases ORDER BY case_id LIMIT 1")

    def run(self):
        self.environment()
        self.prepare_output()
        if not os.access(self.args.csworker, os.X_OK):
            raise Failure(f"{self.args.csworker} not found: build it first (swift build), or pass --csworker")
        self.create_database()
        self.feed_and_process()
        if self.args.pipeline_only:
            return
        case_id = self.pick_case()
        self.start_console()
        self.open_browser()

        # Each step on its own: one that cannot go on is reported and the next one still runs.
        steps = [
            ("sign in as op1", lambda: self.sign_in_operator()),
            ("timeliness", self.timeliness),
            ("timeliness drill-down", self.timeliness_drill),
            ("caseload", self.caseload),
            ("caseload drill-down", self.caseload_drill),
            ("case page", lambda: self.case_page(case_id)),
            ("operations", self.operations),
            ("group", self.group),
            ("dead letters as op1", self.dead_letters_operator),
            ("sign out op1", lambda: self.sign_out("sign-out: op1")),
            ("wrong password", self.wrong_password),
            ("viewer1", self.viewer),
            ("sign out viewer1", lambda: self.sign_out("sign-out: viewer1")),
            ("plain HTTP", lambda: self.http_checks(case_id)),
            ("lockout", self.lockout_checks),
        ]
        for name, step in steps:
            if self.console.poll() is not None:
                raise Failure(f"the console exited {self.console.returncode} before the step '{name}'; its log ends:\n"
                              f"{tail(os.path.join(self.out, 'console.log'))}")
            try:
                step()
            except Failure as error:
                self.results.check(name, "the step ran to the end", False, str(error))
            except WebDriverException as error:
                self.results.check(name, "the step ran to the end", False,
                                   f"browser: {type(error).__name__}: {mask(error.msg or error)[:400]}")
            except (OSError, http.client.HTTPException) as error:
                self.results.check(name, "the step ran to the end", False, f"{type(error).__name__}: {error}")

    def sign_in_operator(self):
        section = "sign-in: op1"
        self.sign_in("op1", self.passwords["op1"], section)
        self.results.check(section, "lands on /timeliness", self.path() == "/timeliness", f"at {self.path()}")

    def finish_ssn_scan(self):
        planted = [m.group(0)[-4:] for m in SSN.finditer("caseId=CS-1 ssn=934-12-7765 and 934127765")]
        self.results.check("SSN scan", "the pattern finds planted SSNs (self-check)", planted == ["7765", "7765"])
        findings = self.ssn_findings
        self.results.check("SSN scan", f"no unmasked SSN in {self.scanned} page sources, texts and API answers",
                           not findings, f"{len(findings)} found")
        for where, position in findings[:30]:
            self.results.check("SSN scan", f"unmasked SSN in {where} at character {position}", False)

    def cleanup(self):
        if self.driver is not None:
            try:
                self.driver.quit()
            except Exception:  # noqa: BLE001 - cleanup goes on
                pass
        self.processes.stop_all()
        if self.console is not None:
            code = self.console.returncode
            self.results.check("console", "exits 0 on SIGTERM", code == 0, f"exit {code}")
        if self.database_created and not self.args.keep_database:
            try:
                self.admin_db.rows(f'DROP DATABASE IF EXISTS "{TEST_DATABASE}" WITH (FORCE)')
            except Failure as error:
                log(f"could not drop {TEST_DATABASE}: {error}")
        shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csworker", default=os.environ.get("CSWORKER", os.path.join(ROOT, ".build", "debug", "csworker")),
                        help="the binary (env CSWORKER; default .build/debug/csworker)")
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--timeout", type=int, default=600, help="seconds for the workers to process the feed")
    parser.add_argument("--keep-database", action="store_true", help=f"leave {TEST_DATABASE} for a look afterwards")
    parser.add_argument("--pipeline-only", action="store_true",
                        help="only feed and process the scenario (no console, no browser): checks the setup")
    parser.add_argument("--install-only", action="store_true", help="install Chromium, chromedriver and Selenium, then exit")
    args = parser.parse_args()
    if args.install_only:
        return 0
    args.csworker = os.path.abspath(args.csworker)

    # SIGTERM (a CI timeout) and SIGINT end the run through the cleanup below.
    def stop(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, stop)

    started = time.monotonic()
    test = ConsoleTest(args)
    aborted = None
    try:
        test.run()
    except Failure as error:
        aborted = str(error)
    except KeyboardInterrupt as error:
        aborted = f"interrupted ({error})"
    except WebDriverException as error:
        aborted = f"browser: {mask(error.msg or error)[:600]}"
    finally:
        test.cleanup()
    if aborted:
        test.results.check("run", "the test ran to the end", False, aborted)
    test.finish_ssn_scan()
    summary = test.results.summary()
    elapsed = time.monotonic() - started
    failed = test.results.failed
    verdict = (f"console-test: {'PASSED' if not failed else 'FAILED'}: {len(test.results.rows) - len(failed)} checks "
               f"passed, {len(failed)} failed, in {elapsed:.0f} s; output in {test.out}")
    print(summary)
    print(verdict)
    os.makedirs(test.out, exist_ok=True)
    with open(os.path.join(test.out, "summary.txt"), "w") as handle:
        handle.write(summary + "\n" + verdict + "\n")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
