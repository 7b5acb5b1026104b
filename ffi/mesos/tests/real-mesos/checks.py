#!/usr/bin/env python3
"""The real-Mesos checks: each runs the official Mesos 1.11.0 master and
agent (the host program built by real-mesos.sh) with the mesos-auth modules,
and again with Mesos's built-in counterpart on the same binary where there is
one, and compares the outcomes. One PASS/FAIL line per check, then
"N passed, M failed".

    checks.py [NAME...]      (default: every check; names as printed)

Environment (set by real-mesos.sh): MESOS_AUTH_HOST, MESOS_AUTH_MODULE,
MESOS_AUTH_CACHE, LD_LIBRARY_PATH.

Everything runs on loopback, every wait is bounded, every process is stopped.
"""
import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import queue
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HOST = os.environ["MESOS_AUTH_HOST"]
MODULE = os.environ["MESOS_AUTH_MODULE"]
CACHE = os.environ["MESOS_AUTH_CACHE"]

AGENT_SECRET = "agent-secret-1"
SCHEDULER_SECRETS = {"ops": "ops-secret", "dev": "dev-secret", "guest": "guest-secret"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- protobuf, just the shapes the authentication messages use -------------

def pb_field(number, data):
    data = data.encode() if isinstance(data, str) else data
    out, n = bytearray([number << 3 | 2]), len(data)
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            break
    return bytes(out) + data


def pb_fields(body):
    """(number, bytes) for every length-delimited field; others are skipped."""
    i, out = 0, []
    while i < len(body):
        key, shift = 0, 0
        while True:
            b = body[i]
            i += 1
            key |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        number, kind = key >> 3, key & 7
        if kind == 0:
            while body[i] & 0x80:
                i += 1
            i += 1
        elif kind == 2:
            n, shift = 0, 0
            while True:
                b = body[i]
                i += 1
                n |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            out.append((number, body[i:i + n]))
            i += n
        else:
            raise ValueError("unexpected wire type %d" % kind)
    return out


# --- a minimal libprocess peer ----------------------------------------------

class Peer:
    """A libprocess endpoint in Python: receives messages (HTTP POSTs with
    Libprocess-From, chunked or not) on its own port and sends messages the
    way libprocess does. Enough to play a framework or agent authenticating
    with CRAM-MD5, or a peer that never answers."""

    def __init__(self, name="scheduler"):
        self.inbox = queue.Queue()
        inbox = self.inbox

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = b""
                    while True:
                        size = int(self.rfile.readline().strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            break
                        body += self.rfile.read(size)
                        self.rfile.readline()
                else:
                    body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                sender = self.headers.get("Libprocess-From", "")
                inbox.put((sender, self.path.rsplit("/", 1)[-1], body))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.pid = "%s@127.0.0.1:%d" % (name, self.server.server_address[1])

    def send(self, to, name, body):
        ident, addr = to.split("@")
        ip, port = addr.split(":")
        conn = http.client.HTTPConnection(ip, int(port), timeout=10)
        conn.request("POST", "/%s/%s" % (ident, name), body=body,
                     headers={"Libprocess-From": self.pid, "User-Agent": "libprocess/" + self.pid})
        conn.getresponse().read()
        conn.close()

    def receive(self, timeout):
        try:
            return self.inbox.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def cram_md5_login(master_pid, principal, secret, timeout=10.0):
    """Authenticates as a framework does (AuthenticateMessage to the master,
    then CRAM-MD5 with the session that answers). Returns 'completed',
    'failed', 'error: ...' or 'timeout'."""
    peer = Peer()
    try:
        peer.send(master_pid, "mesos.internal.AuthenticateMessage", pb_field(1, peer.pid))
        deadline = time.time() + timeout
        session = None
        while time.time() < deadline:
            got = peer.receive(max(0.05, deadline - time.time()))
            if got is None:
                break
            sender, name, body = got
            if name.endswith("AuthenticationMechanismsMessage"):
                session = sender
                mechanisms = [v.decode() for n, v in pb_fields(body) if n == 1]
                if "CRAM-MD5" not in mechanisms:
                    return "error: mechanisms %s" % mechanisms
                peer.send(session, "mesos.internal.AuthenticationStartMessage",
                          pb_field(1, "CRAM-MD5") + pb_field(2, b""))
            elif name.endswith("AuthenticationStepMessage"):
                challenge = dict(pb_fields(body)).get(1, b"")
                digest = hmac.new(secret.encode(), challenge, hashlib.md5).hexdigest()
                peer.send(session, "mesos.internal.AuthenticationStepMessage",
                          pb_field(1, "%s %s" % (principal, digest)))
            elif name.endswith("AuthenticationCompletedMessage"):
                return "completed"
            elif name.endswith("AuthenticationFailedMessage"):
                return "failed"
            elif name.endswith("AuthenticationErrorMessage"):
                return "error: " + dict(pb_fields(body)).get(1, b"").decode(errors="replace")
        return "timeout"
    finally:
        peer.close()


class Stream:
    """A subscribed v1 HTTP scheduler: its RecordIO event stream and calls."""

    def __init__(self, mesos, principal, conn, resp):
        self.mesos, self.principal, self.conn, self.resp = mesos, principal, conn, resp
        self.stream_id = resp.getheader("Mesos-Stream-Id")
        self.framework_id = None

    def next_event(self):
        length = b""
        while not length.endswith(b"\n"):
            byte = self.resp.read(1)
            if not byte:
                raise EOFError("the event stream ended")
            length += byte
        event = json.loads(self.resp.read(int(length)))
        if event.get("type") == "SUBSCRIBED":
            self.framework_id = event["subscribed"]["framework_id"]
        return event

    def wait_event(self, kind, timeout=20.0):
        deadline = time.time() + timeout
        self.conn.sock.settimeout(timeout)
        while time.time() < deadline:
            event = self.next_event()
            if event.get("type") == kind:
                return event
        return None

    def call(self, body):
        body = dict(body, framework_id=self.framework_id)
        return self.mesos.http("POST", "/api/v1/scheduler", principal=self.principal, body=body,
                               headers={"Mesos-Stream-Id": self.stream_id})

    def launch_on_first_offer(self, task_name):
        """Accepts the first offer with one small command task; returns the
        HTTP status of the ACCEPT call (202) or None without an offer."""
        event = self.wait_event("OFFERS")
        if event is None:
            return None
        offer = event["offers"]["offers"][0]
        task = {"name": task_name, "task_id": {"value": task_name}, "agent_id": offer["agent_id"],
                "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                              {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}],
                "command": {"value": "sleep 30", "user": "root"}}
        status, _ = self.call({"type": "ACCEPT", "accept": {
            "offer_ids": [offer["id"]],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}]}})
        return status

    def close(self):
        self.conn.close()


# --- one Mesos (master + agent in one process) ------------------------------

class Mesos:
    def __init__(self, name, env=None, modules=None, agents=1):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="run-%s-" % name, dir=os.path.join(CACHE, "runs"))
        self.port = free_port()
        self.master_pid = "master@127.0.0.1:%d" % self.port
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MESOS_")}
        self.env.update({
            "MESOS_AUTH_HOST_PORT": str(self.port),
            "MESOS_WORK_DIR": os.path.join(self.dir, "work"),
            "MESOS_NUM_SLAVES": str(agents),
            "MESOS_REGISTRY": "in_memory",
            "MESOS_LAUNCHER": "posix",
            "MESOS_ISOLATION": "posix/cpu,posix/mem",
            "MESOS_SYSTEMD_ENABLE_SUPPORT": "false",
            "MESOS_RESOURCES": "cpus:2;mem:1024;disk:1024;ports:[31000-31099]",
            "MESOS_HOSTNAME": "localhost",
            "MESOS_LOGBUFSECS": "0",
        })
        if modules:
            self.env["MESOS_MODULES"] = json.dumps(
                {"libraries": [{"file": MODULE, "modules": modules}]})
        self.env.update(env or {})
        self.log_path = os.path.join(self.dir, "mesos.log")
        self.proc = None

    def file(self, name, content, mode=0o600):
        path = os.path.join(self.dir, name)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(content if isinstance(content, str) else json.dumps(content))
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        return path

    def start(self):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([HOST], env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT, cwd=self.dir,
                                     start_new_session=True)
        return self

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_log(self, pattern, timeout=30.0, after=0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(pattern, self.text()[after:])
            if m:
                return m
            if self.proc.poll() is not None:
                return re.search(pattern, self.text()[after:])
            time.sleep(0.1)
        return None

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def http(self, method, path, principal=None, body=None, timeout=10.0, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = dict(headers or {})
        if principal is not None:
            token = "%s:%s" % (principal, SCHEDULER_SECRETS.get(principal, "wrong"))
            h["Authorization"] = "Basic " + base64.b64encode(token.encode()).decode()
        if body is not None:
            body = json.dumps(body)
            h["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, data

    def subscribe(self, principal, roles, keep=False, timeout=10.0):
        """A v1 HTTP SUBSCRIBE; returns (status, first event type, event,
        the open Stream when `keep`, else None)."""
        info = {"user": "root", "name": "check-" + principal, "principal": principal,
                "roles": roles, "capabilities": [{"type": "MULTI_ROLE"}]}
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        token = "%s:%s" % (principal, SCHEDULER_SECRETS[principal])
        conn.request("POST", "/api/v1/scheduler",
                     body=json.dumps({"type": "SUBSCRIBE", "subscribe": {"framework_info": info}}),
                     headers={"Content-Type": "application/json", "Accept": "application/json",
                              "Authorization": "Basic " + base64.b64encode(token.encode()).decode()})
        resp = conn.getresponse()
        if resp.status != 200:
            resp.read()
            conn.close()
            return resp.status, None, None, None
        stream = Stream(self, principal, conn, resp)
        event = stream.next_event()
        if not keep:
            conn.close()
            stream = None
        return 200, event.get("type"), event, stream

    def wait_http(self, timeout=30.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                status, _ = self.http("GET", "/master/health", timeout=2)
                if status == 200:
                    return True
            except OSError:
                pass
            if self.proc.poll() is not None:
                return False
            time.sleep(0.2)
        return False

    def registered_agents(self):
        status, data = self.http("GET", "/master/state", principal="ops")
        return len(json.loads(data).get("slaves", [])) if status == 200 else -1

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        if self.proc:
            self.log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        if not exc[0] and os.environ.get("MESOS_AUTH_KEEP_RUNS") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)


# --- configurations ---------------------------------------------------------

def credentials(agent_secret=AGENT_SECRET):
    creds = [{"principal": "agent", "secret": agent_secret}]
    creds += [{"principal": p, "secret": s} for p, s in SCHEDULER_SECRETS.items()]
    return {"credentials": creds}


# ops may do everything; dev may register role "dev" only; guest nothing.
def acls(extra_rules=0, dev_roles=("dev",)):
    any_ = {"type": "ANY"}
    rules = {
        "permissive": False,
        "register_frameworks": [
            {"principals": {"values": ["ops"]}, "roles": any_},
            {"principals": {"values": ["dev"]}, "roles": {"values": list(dev_roles)}},
        ],
        "view_flags": [{"principals": {"values": ["ops"]}, "flags": any_}],
        "view_frameworks": [
            {"principals": {"values": ["ops", "dev"]}, "users": any_},
        ],
        "view_tasks": [{"principals": {"values": ["ops"]}, "users": any_}],
        "view_executors": [{"principals": {"values": ["ops"]}, "users": any_}],
        "view_roles": [{"principals": {"values": ["ops", "dev"]}, "roles": any_}],
        "register_agents": [{"principals": {"type": "ANY"}, "agents": any_}],
        "run_tasks": [{"principals": {"values": ["ops"]}, "users": any_}],
        "get_endpoints": [{"principals": {"type": "ANY"}, "paths": any_}],
    }
    # Rules that never match the principals the checks use: the size of the
    # policy, not its outcome, changes.
    for i in range(extra_rules):
        rules["register_frameworks"].insert(
            0, {"principals": {"values": ["filler-%d" % i]}, "roles": {"values": ["r%d" % i]}})
    return rules


def http_env(m, authorizer, acl_obj, acl_params=None):
    """Frameworks over HTTP with Basic authentication, and an authorizer:
    'local' (Mesos's LocalAuthorizer with --acls) or 'module'."""
    creds = m.file("credentials.json", credentials())
    env = {
        "MESOS_CREDENTIALS": creds,
        "MESOS_HTTP_CREDENTIALS": creds,  # the agent's endpoints (same flags)
        "MESOS_AUTHENTICATE_HTTP_FRAMEWORKS": "true",
        "MESOS_HTTP_FRAMEWORK_AUTHENTICATORS": "basic",
        "MESOS_AUTHENTICATE_HTTP_READONLY": "true",
        "MESOS_AUTHENTICATE_HTTP_READWRITE": "true",
    }
    acl_path = m.file("acls.json", acl_obj)
    if authorizer == "local":
        env["MESOS_ACLS"] = acl_path
        modules = []
    else:
        env["MESOS_AUTHORIZERS"] = "org_mesosauth_AclAuthorizer"
        params = [{"key": "acls", "value": acl_path}] + (acl_params or [])
        modules = [{"name": "org_mesosauth_AclAuthorizer", "parameters": params}]
    m.env.update(env)
    if modules:
        m.env["MESOS_MODULES"] = json.dumps({"libraries": [{"file": MODULE, "modules": modules}]})
    return acl_path


def agent_auth(name, authenticator, authenticatee, agent_secret, master_creds_secret=AGENT_SECRET,
               authenticator_params=None):
    """A master that authenticates agents with `authenticator` ('crammd5' or
    'module'); the agent uses `authenticatee` ('crammd5' or 'module') with
    `agent_secret`. Returns (outcome, master log excerpt)."""
    modules = []
    m = Mesos(name)
    env = {"MESOS_AUTHENTICATE_AGENTS": "true",
           "MESOS_CREDENTIALS": m.file("credentials.json", credentials(master_creds_secret)),
           "MESOS_CREDENTIAL": m.file("credential.json", {"principal": "agent", "secret": agent_secret})}
    if authenticator == "module":
        env["MESOS_AUTHENTICATORS"] = "org_mesosauth_CramMd5Authenticator"
        modules.append({"name": "org_mesosauth_CramMd5Authenticator",
                        "parameters": authenticator_params or []})
    if authenticatee == "module":
        env["MESOS_AUTHENTICATEE"] = "org_mesosauth_CramMd5Authenticatee"
        modules.append({"name": "org_mesosauth_CramMd5Authenticatee"})
    m.env.update(env)
    if modules:
        m.env["MESOS_MODULES"] = json.dumps({"libraries": [{"file": MODULE, "modules": modules}]})
    with m:
        registered = m.wait_log(r"Registered agent", timeout=40)
        refused = m.wait_log(r"refused authentication", timeout=1) if not registered else None
        code = m.wait_exit(15) if not registered else None
        log = m.text()
        crashed = re.search(r"\*\*\* (Aborted|SIGSEGV|Check failure)|stub .* called", log)
        failure_logged = re.search(r"Authentication failure|was unsuccessful: Invalid credentials", log)
        if crashed:
            outcome = "crashed: " + crashed.group(0)
        elif registered:
            outcome = "registered"
        elif refused and code is not None:
            outcome = "refused" + (" (failure logged)" if failure_logged else " (no failure in the log)")
        else:
            outcome = "neither registered nor refused"
        return outcome, log


# --- the checks -------------------------------------------------------------

CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


@check
def module_loads():
    """Every symbol the module library takes from libmesos is one the official
    build defines (GCC >= 7 mangles some conversion operators differently from
    the GCC 5 that built Mesos 1.11: such a symbol stays undefined and the
    library does not load), and a master loads all four modules."""
    undefined = subprocess.run(["nm", "-D", "--undefined-only", MODULE], capture_output=True,
                               text=True, check=True).stdout
    libmesos = os.path.join(CACHE, "prefix/lib/libmesos.so")
    defined = set(line.split()[-1] for line in subprocess.run(
        ["nm", "-D", "--defined-only", libmesos], capture_output=True, text=True,
        check=True).stdout.splitlines() if line.strip())
    # Unversioned, non-weak undefined symbols are the ones libmesos must give
    # (the system libraries' symbols carry a version: GLIBC_*, GLIBCXX_*).
    wanted = [line.split()[-1] for line in undefined.splitlines()
              if line.split()[:1] == ["U"] and "@" not in line]
    missing = [s for s in wanted if s not in defined]
    if missing:
        return False, "%d symbols libmesos does not define, e.g. %s" % (len(missing), missing[:2])
    m = Mesos("load", agents=0)
    m.env["MESOS_MODULES"] = json.dumps({"libraries": [{"file": MODULE, "modules": [
        {"name": "org_mesosauth_CramMd5Authenticator"},
        {"name": "org_mesosauth_CramMd5Authenticatee"},
        {"name": "org_mesosauth_AclAuthorizer", "parameters": [
            {"key": "acls", "value": m.file("acls.json", acls())}]},
        {"name": HTTP_MODULE, "parameters": [
            {"key": "credentials", "value": m.file("credentials.json", credentials())}]}]}]})
    m.env["MESOS_AUTHENTICATORS"] = "org_mesosauth_CramMd5Authenticator"
    m.env["MESOS_AUTHORIZERS"] = "org_mesosauth_AclAuthorizer"
    m.env["MESOS_HTTP_AUTHENTICATORS"] = HTTP_MODULE
    m.env["MESOS_AUTHENTICATE_HTTP_READONLY"] = "true"
    with m:
        up = m.wait_http()
        error = re.search(r"Error loading modules.*", m.text())
    ok = up and not error
    return ok, "%d symbols from libmesos, all defined; master with the four modules %s" % (
        len(wanted), "up" if ok else "failed: " + (error.group(0) if error else "did not start"))


def compare_agent_side(side):
    """Our module on one `side` ('authenticator' or 'authenticatee') against
    Mesos's built-in CRAM-MD5 on the other, right and wrong secret, beside
    the built-in on both sides."""
    results = {}
    for ours in ("crammd5", "module"):
        for secret in (AGENT_SECRET, "wrong-secret"):
            pair = (ours, "crammd5") if side == "authenticator" else ("crammd5", ours)
            outcome, _ = agent_auth("%s-%s" % (side, ours), pair[0], pair[1], secret)
            results[(ours, secret == AGENT_SECRET)] = outcome
    ok = (results[("module", True)] == results[("crammd5", True)] == "registered"
          and results[("module", False)] == results[("crammd5", False)] == "refused (failure logged)")
    return ok, "right/wrong secret: built-in %s/%s, module %s/%s" % (
        results[("crammd5", True)], results[("crammd5", False)],
        results[("module", True)], results[("module", False)])


@check
def agent_builtin_authenticatee_vs_module_authenticator():
    return compare_agent_side("authenticator")


@check
def agent_module_authenticatee_vs_builtin_authenticator():
    return compare_agent_side("authenticatee")


@check
def agent_module_both_sides():
    outcome, _ = agent_auth("a3", "module", "module", AGENT_SECRET)
    return outcome == "registered", "module authenticatee against module authenticator: " + outcome


def subscribe_outcomes(authorizer):
    m = Mesos("sub-" + authorizer, agents=0)
    http_env(m, authorizer, acls())
    with m:
        if not m.wait_http():
            return None
        out = {}
        for principal, roles in (("dev", ["dev"]), ("dev", ["prod"]), ("dev", ["dev", "prod"]),
                                 ("ops", ["prod"]), ("guest", ["dev"])):
            status, kind, event, _ = m.subscribe(principal, roles)
            out["%s%s" % (principal, roles)] = kind if status == 200 else "HTTP %d" % status
        status, _ = m.http("POST", "/api/v1/scheduler", principal="nobody",
                           body={"type": "SUBSCRIBE"})
        out["wrong credentials"] = "HTTP %d" % status
        return out


@check
def framework_subscribe_authorization():
    local, module = subscribe_outcomes("local"), subscribe_outcomes("module")
    expected = {"dev['dev']": "SUBSCRIBED", "dev['prod']": "ERROR", "dev['dev', 'prod']": "ERROR",
                "ops['prod']": "SUBSCRIBED", "guest['dev']": "ERROR", "wrong credentials": "HTTP 401"}
    return module == local == expected, "module %s; LocalAuthorizer %s" % (module, local)


def endpoint_views(authorizer):
    m = Mesos("view-" + authorizer, agents=1)
    http_env(m, authorizer, acls())
    with m:
        if not (m.wait_http() and m.wait_log(r"Registered agent", timeout=30)):
            return None
        ops = m.subscribe("ops", ["prod"], keep=True)[3]
        dev = m.subscribe("dev", ["dev"], keep=True)[3]
        # A task of ops's (it fails without mesos-executor, which this
        # library-only build lacks, but stays in /state as a task object).
        launched = ops.launch_on_first_offer("task-ops") if ops else None
        deadline = time.time() + 20
        while time.time() < deadline:
            state = json.loads(m.http("GET", "/master/state", principal="ops")[1])
            if any(f.get("tasks") or f.get("completed_tasks") for f in state.get("frameworks", [])):
                break
            time.sleep(0.2)
        out = {"task launched": launched}
        for principal in ("ops", "dev", "guest"):
            out["flags " + principal] = m.http("GET", "/master/flags", principal=principal)[0]
            status, data = m.http("GET", "/master/state", principal=principal)
            state = json.loads(data) if status == 200 else {}
            out["state " + principal] = sorted(f["name"] for f in state.get("frameworks", []))
            out["tasks " + principal] = sorted(t["name"] for f in state.get("frameworks", [])
                                               for t in f.get("tasks", []) + f.get("completed_tasks", []))
            out["state.flags " + principal] = "flags" in state
            status, data = m.http("GET", "/master/frameworks", principal=principal)
            frameworks = json.loads(data) if status == 200 else {}
            out["frameworks " + principal] = sorted(f["name"] for f in frameworks.get("frameworks", []))
            status, data = m.http("GET", "/master/tasks", principal=principal)
            out["/tasks " + principal] = sorted(t["name"] for t in json.loads(data).get("tasks", [])) \
                if status == 200 else status
        for c in (ops, dev):
            if c:
                c.close()
        return out


@check
def endpoint_authorization_and_filtering():
    local, module = endpoint_views("local"), endpoint_views("module")
    sane = bool(module) and module["flags ops"] == 200 and module["flags guest"] == 403 \
        and module["state ops"] == ["check-dev", "check-ops"] and module["state guest"] == [] \
        and module["tasks ops"] == ["task-ops"] and module["tasks dev"] == []
    return sane and module == local, "module %s; LocalAuthorizer %s" % (module, local)


@check
def acl_hot_reload():
    m = Mesos("reload", agents=0)
    path = http_env(m, "module", acls(), acl_params=[{"key": "reload_interval_ms", "value": "200"}])
    with m:
        if not m.wait_http():
            return False, "master did not start"
        before = m.subscribe("dev", ["prod"])[1]
        c = m.subscribe("ops", ["prod"], keep=True)[3]  # a framework for /state
        view_before = m.http("GET", "/master/state", principal="guest")[1]
        policy = acls(dev_roles=("dev", "prod"))
        policy["view_frameworks"][0]["principals"]["values"].append("guest")
        m.file("acls.json", policy)
        reloaded = m.wait_log(r"reloaded ACLs '%s' as generation 1" % re.escape(path), timeout=5)
        after = m.subscribe("dev", ["prod"])[1]
        view_after = m.http("GET", "/master/state", principal="guest")[1]
        mark = len(m.text())
        m.file("acls.json", '{"permissive": tru')
        refused = m.wait_log(r"ACL reload refused.*keep serving", timeout=5, after=mark)
        still = m.subscribe("dev", ["prod"])[1]
        if c:
            c.close()
        guest_before = len(json.loads(view_before).get("frameworks", []))
        guest_after = len(json.loads(view_after).get("frameworks", []))
        ok = (before == "ERROR" and bool(reloaded) and after == "SUBSCRIBED" and bool(refused)
              and still == "SUBSCRIBED" and guest_before == 0 and guest_after >= 1
              and m.proc.poll() is None)
        return ok, ("dev SUBSCRIBE prod: %s -> %s after reload -> %s after an invalid file (%s); "
                    "guest sees %d -> %d frameworks in /state") % (
            before, after, still, "refusal logged" if refused else "NO refusal in the log",
            guest_before, guest_after)


@check
def credential_rotation():
    m = Mesos("rotate", agents=0)
    path = m.file("credentials.json", credentials())
    m.env.update({"MESOS_AUTHENTICATORS": "org_mesosauth_CramMd5Authenticator",
                  "MESOS_MODULES": json.dumps({"libraries": [{"file": MODULE, "modules": [
                      {"name": "org_mesosauth_CramMd5Authenticator", "parameters": [
                          {"key": "credentials", "value": path},
                          {"key": "reload_interval_ms", "value": "200"}]}]}]})})
    with m:
        if not m.wait_http():
            return False, "master did not start"
        old = cram_md5_login(m.master_pid, "agent", AGENT_SECRET)
        m.file("credentials.json", credentials("agent-secret-2"))
        reloaded = m.wait_log(r"reloaded credentials .* as generation 1", timeout=5)
        new = cram_md5_login(m.master_pid, "agent", "agent-secret-2")
        stale = cram_md5_login(m.master_pid, "agent", AGENT_SECRET)
        ok = old == "completed" and reloaded and new == "completed" and stale == "failed" \
            and m.proc.poll() is None
        return ok, "old secret before rotation: %s; reload %s; new secret: %s; old secret after: %s" % (
            old, "logged" if reloaded else "NOT logged", new, stale)


@check
def throttle_and_session_cap():
    m = Mesos("throttle", agents=0)
    path = m.file("credentials.json", credentials())
    m.env.update({"MESOS_AUTHENTICATORS": "org_mesosauth_CramMd5Authenticator",
                  "MESOS_MODULES": json.dumps({"libraries": [{"file": MODULE, "modules": [
                      {"name": "org_mesosauth_CramMd5Authenticator", "parameters": [
                          {"key": "credentials", "value": path},
                          {"key": "timeout_ms", "value": "3000"},
                          {"key": "max_sessions", "value": "4"},
                          {"key": "throttle_free_failures", "value": "2"},
                          {"key": "throttle_base_ms", "value": "1000"},
                          {"key": "throttle_max_ms", "value": "4000"}]}]}]})})
    with m:
        if not m.wait_http():
            return False, "master did not start"
        wrong = [cram_md5_login(m.master_pid, "ops", "guess-%d" % i, timeout=4) for i in range(3)]
        # Throttled now: the right secret gets no exchange until the wait ends.
        throttled = cram_md5_login(m.master_pid, "ops", SCHEDULER_SECRETS["ops"], timeout=0.8)
        throttle_logged = bool(m.wait_log(r"throttled after repeated failures", timeout=2))
        time.sleep(2.5)
        after_wait = cram_md5_login(m.master_pid, "ops", SCHEDULER_SECRETS["ops"])
        # A flood of half-open sessions: peers that ask and never answer.
        silent = [Peer("silent%d" % i) for i in range(40)]
        for p in silent:
            p.send(m.master_pid, "mesos.internal.AuthenticateMessage", pb_field(1, p.pid))
        time.sleep(1)
        capped = len(re.findall(r"sessions in flight \(max_sessions\)", m.text()))
        healthy = m.http("GET", "/master/health")[0] == 200
        time.sleep(3.5)  # the half-open sessions time out
        for p in silent:
            p.close()
        recovered = cram_md5_login(m.master_pid, "ops", SCHEDULER_SECRETS["ops"])
        ok = (wrong == ["failed"] * 3 and throttled == "timeout" and throttle_logged
              and after_wait == "completed" and capped >= 30 and healthy and recovered == "completed"
              and m.proc.poll() is None)
        return ok, ("3 wrong secrets: %s; right secret while throttled: %s (%s); after the wait: %s; "
                    "40 silent peers with max_sessions=4: %d refused at once, master healthy: %s; "
                    "after they time out: %s") % (
            wrong, throttled, "logged" if throttle_logged else "NOT logged", after_wait, capped,
            healthy, recovered)


def latency(authorizer, frameworks=50, rounds=200):
    """SUBSCRIBE and GET /state latency with 10 and with 10,000 ACL entries:
    two masters side by side, requests alternating between them, so drift on
    a shared machine hits both alike."""
    small, large = Mesos("lat-%s-10" % authorizer, agents=0), Mesos("lat-%s-10k" % authorizer, agents=0)
    http_env(small, authorizer, acls(extra_rules=0))
    http_env(large, authorizer, acls(extra_rules=10000))
    with small, large:
        if not (small.wait_http(timeout=60) and large.wait_http(timeout=60)):
            return None
        keep = [m.subscribe("ops", ["role%d" % i], keep=True)[3]
                for i in range(frameworks) for m in (small, large)]
        times = {(m, what): [] for m in ("10", "10k") for what in ("subscribe", "state")}
        for i in range(rounds):
            for label, m in (("10", small), ("10k", large)) if i % 2 else (("10k", large), ("10", small)):
                t = time.perf_counter()
                m.subscribe("dev", ["dev"])
                times[(label, "subscribe")].append(time.perf_counter() - t)
                t = time.perf_counter()
                m.http("GET", "/master/state", principal="dev")
                times[(label, "state")].append(time.perf_counter() - t)
        for c in keep:
            if c:
                c.close()

        def p(xs, q):
            xs = sorted(xs)
            return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000

        return {k: (p(v, 0.5), p(v, 0.99)) for k, v in times.items()}


@check
def decision_speed_in_master():
    rows, ratios = [], {}
    for authorizer in ("module", "local"):
        t = latency(authorizer)
        if t is None:
            return False, "%s: a master did not start" % authorizer
        for what in ("subscribe", "state"):
            ratios[(authorizer, what)] = t[("10k", what)][0] / t[("10", what)][0]
            rows.append("%s %s p50/p99 ms: 10 ACLs %.2f/%.2f, 10k ACLs %.2f/%.2f (x%.2f)" % (
                authorizer, what, t[("10", what)][0], t[("10", what)][1], t[("10k", what)][0],
                t[("10k", what)][1], ratios[(authorizer, what)]))
    for row in rows:
        print("    " + row)
    ok = ratios[("module", "subscribe")] <= 1.1 and ratios[("module", "state")] <= 1.1
    return ok, "module t(10k)/t(10) p50: SUBSCRIBE x%.2f, /state x%.2f; LocalAuthorizer x%.2f, x%.2f" % (
        ratios[("module", "subscribe")], ratios[("module", "state")],
        ratios[("local", "subscribe")], ratios[("local", "state")])


# --- the HTTP authenticator module -------------------------------------------

HTTP_MODULE = "org_mesosauth_HttpAuthenticator"
# Only the module accepts this one: Mesos splits "user:pass" on every ':'.
COLON_SECRET = "pa:ss:word"


def http_auth_env(m, which, module_params=None):
    """Every HTTP realm (endpoints, v1 scheduler API) authenticated by
    `which`: 'basic' (Mesos's built-in) or 'module'."""
    creds = credentials()
    creds["credentials"].append({"principal": "colon", "secret": COLON_SECRET})
    path = m.file("credentials.json", creds)
    env = {
        "MESOS_CREDENTIALS": path,
        "MESOS_HTTP_CREDENTIALS": path,
        "MESOS_AUTHENTICATE_HTTP_FRAMEWORKS": "true",
        "MESOS_AUTHENTICATE_HTTP_READONLY": "true",
        "MESOS_AUTHENTICATE_HTTP_READWRITE": "true",
        "MESOS_HTTP_FRAMEWORK_AUTHENTICATORS": "basic",
    }
    if which == "module":
        params = [{"key": "credentials", "value": path}] + (module_params or [])
        env["MESOS_HTTP_AUTHENTICATORS"] = HTTP_MODULE
        env["MESOS_HTTP_FRAMEWORK_AUTHENTICATORS"] = HTTP_MODULE
        m.env["MESOS_MODULES"] = json.dumps({"libraries": [{"file": MODULE, "modules": [
            {"name": HTTP_MODULE, "parameters": params}]}]})
    m.env.update(env)


def basic(user, secret):
    return "Basic " + base64.b64encode(("%s:%s" % (user, secret)).encode()).decode()


def request(m, method, path, authorization=None, body=None, conn=None):
    """(status, headers dict lower-cased, body); `conn` reuses a keep-alive
    connection."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", m.port, timeout=10)
    h = {"User-Agent": "mesos-auth-checks"}
    if authorization is not None:
        h["Authorization"] = authorization
    if body is not None:
        body = json.dumps(body)
        h["Content-Type"] = "application/json"
        h["Accept"] = "application/json"
    conn.request(method, path, body=body, headers=h)
    resp = conn.getresponse()
    data = resp.read()
    headers = {k.lower(): v for k, v in resp.getheaders()}
    if own:
        conn.close()
    return resp.status, headers, data


def http_outcomes(which):
    m = Mesos("http-" + which, agents=0)
    # The throttle's free failures above the cases' refusals from this one
    # address (the built-in has no throttle); it is shown at the end.
    http_auth_env(m, which, [{"key": "realm", "value": "mesos-master"},
                             {"key": "throttle_free_failures", "value": "8"},
                             {"key": "throttle_base_ms", "value": "5000"}])
    subscribe = {"type": "SUBSCRIBE", "subscribe": {"framework_info": {
        "user": "root", "name": "check-ops", "principal": "ops", "roles": ["ops"],
        "capabilities": [{"type": "MULTI_ROLE"}]}}}
    out = {}
    with m:
        if not m.wait_http(timeout=60):
            return None, m
        cases = [
            ("state right", "GET", "/master/state", basic("ops", SCHEDULER_SECRETS["ops"]), None),
            ("state wrong", "GET", "/master/state", basic("ops", "guess"), None),
            ("state unknown user", "GET", "/master/state", basic("nobody", "guess"), None),
            ("state no header", "GET", "/master/state", None, None),
            ("state bad base64", "GET", "/master/state", "Basic !!!not-base64", None),
            ("flags right", "GET", "/master/flags", basic("dev", SCHEDULER_SECRETS["dev"]), None),
            ("colon secret", "GET", "/master/state", basic("colon", COLON_SECRET), None),
            ("subscribe wrong", "POST", "/api/v1/scheduler", basic("ops", "guess"), subscribe),
        ]
        for name, method, path, auth, body in cases:
            status, headers, _ = request(m, method, path, auth, body)
            out[name] = (status, headers.get("www-authenticate"))
        # A v1 SUBSCRIBE that authenticates gets its event stream.
        status, kind, _, _ = m.subscribe("ops", ["ops"])
        out["subscribe right"] = (status, kind)
        # Guessing from this address: the built-in answers every guess; the
        # module's throttle then holds the address back, even with the right
        # secret, and says for how long.
        for i in range(8):
            request(m, "GET", "/master/state", basic("ops", "guess-%d" % i))
        status, headers, _ = request(m, "GET", "/master/state", basic("ops", SCHEDULER_SECRETS["ops"]))
        out["right after guessing"] = (status, headers.get("retry-after"))
        alive = m.proc.poll() is None
        log = m.text()
    return (out if alive else None), log


@check
def http_authenticator_module_vs_basic():
    """The HttpAuthenticator module against Mesos's built-in Basic
    authenticator on the same binary: the same status on every request (with
    the documented exception of a secret holding ':'), a Basic challenge on
    every 401, the v1 scheduler API included."""
    builtin, _ = http_outcomes("basic")
    module, module_log = http_outcomes("module")
    if builtin is None or module is None:
        return False, "a master did not start or died (built-in: %s, module: %s)" % (
            builtin is not None, module is not None)
    diffs = []
    for name in builtin:
        b, mo = builtin[name], module[name]
        if name in ("colon secret", "right after guessing"):
            continue
        if b[0] != mo[0]:
            diffs.append("%s: built-in %s, module %s" % (name, b[0], mo[0]))
        if b[0] == 401 and not (mo[1] or "").startswith('Basic realm="mesos-master"'):
            diffs.append("%s: module challenge %r" % (name, mo[1]))
    colon_ok = builtin["colon secret"][0] == 401 and module["colon secret"][0] == 200
    refused_logged = "HTTP authentication refused" in module_log
    throttled = (builtin["right after guessing"][0] == 200 and module["right after guessing"][0] == 429
                 and (module["right after guessing"][1] or "").isdigit())
    ok = (not diffs and colon_ok and throttled and refused_logged
          and module["subscribe right"] == (200, "SUBSCRIBED"))
    summary = ", ".join("%s %s" % (k, v[0]) for k, v in module.items())
    return ok, ("module: %s; secret with ':': built-in %d, module %d; right secret after 8 guesses: "
                "built-in %d, module %d (Retry-After %s); refusals logged: %s%s") % (
        summary, builtin["colon secret"][0], module["colon secret"][0],
        builtin["right after guessing"][0], module["right after guessing"][0],
        module["right after guessing"][1], refused_logged,
        "; DIFFS: " + "; ".join(diffs) if diffs else "")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


@check
def http_rate_limits_under_load():
    """Per-principal rate limits on the HTTP API, which Mesos's --rate_limits
    never covered: two threads hammer /master/flags as 'dev' (limited to QPS
    requests a second) for SECONDS seconds over keep-alive connections while
    'ops' (unlimited) measures its latency; 'dev' gets its rate within 10 %
    and 429s with Retry-After for the rest, the unlimited principal keeps its
    latency, the master's memory stays flat and nothing crashes."""
    qps, seconds = 20, 10
    m = Mesos("http-ratelimit", agents=0)
    # A capacity of 2: a burst of three ahead of the rate, so over SECONDS
    # seconds the count is the rate's (without one, HTTP allows a second's
    # worth as its burst).
    limits = m.file("rate_limits.json", {"limits": [{"principal": "dev", "qps": qps, "capacity": 2}]})
    http_auth_env(m, "module", [{"key": "rate_limits", "value": limits}])
    with m:
        if not m.wait_http(timeout=60):
            return False, "master did not start"
        ops = basic("ops", SCHEDULER_SECRETS["ops"])
        dev = basic("dev", SCHEDULER_SECRETS["dev"])

        def ops_latency(duration):
            conn = http.client.HTTPConnection("127.0.0.1", m.port, timeout=10)
            times, end = [], time.time() + duration
            while time.time() < end:
                t = time.perf_counter()
                status, _, _ = request(m, "GET", "/master/flags", ops, conn=conn)
                times.append((time.perf_counter() - t) * 1000)
                if status != 200:
                    times.append(float("inf"))
                time.sleep(0.01)
            conn.close()
            return statistics.median(times), sorted(times)[int(0.99 * (len(times) - 1))]

        for _ in range(20):  # warm the endpoint
            request(m, "GET", "/master/flags", ops)
        base_p50, base_p99 = ops_latency(3)
        rss_before = rss_kib(m.proc.pid)
        counts = {"ok": 0, "limited": 0, "other": 0, "no_retry_after": 0}
        lock = threading.Lock()
        stop = time.time() + seconds

        def hammer():
            conn = http.client.HTTPConnection("127.0.0.1", m.port, timeout=10)
            local = {"ok": 0, "limited": 0, "other": 0, "no_retry_after": 0}
            while time.time() < stop:
                status, headers, _ = request(m, "GET", "/master/flags", dev, conn=conn)
                if status == 200:
                    local["ok"] += 1
                elif status == 429:
                    local["limited"] += 1
                    if not headers.get("retry-after", "").isdigit():
                        local["no_retry_after"] += 1
                else:
                    local["other"] += 1
            conn.close()
            with lock:
                for k, v in local.items():
                    counts[k] += v

        start = time.time()
        threads = [threading.Thread(target=hammer) for _ in range(2)]
        for t in threads:
            t.start()
        load_p50, load_p99 = ops_latency(seconds - 1)
        for t in threads:
            t.join()
        elapsed = time.time() - start
        rss_after = rss_kib(m.proc.pid)
        healthy = m.http("GET", "/master/health")[0] == 200 and m.proc.poll() is None
    rate = counts["ok"] / elapsed
    # The first second's burst (one request ahead of the schedule) is in the
    # count; over SECONDS seconds it is within the tolerance.
    rate_ok = abs(rate - qps) <= 0.1 * qps
    latency_ok = load_p50 <= max(3 * base_p50, base_p50 + 5.0)
    memory_ok = rss_after - rss_before <= 32 * 1024
    ok = (rate_ok and counts["limited"] > 0 and counts["no_retry_after"] == 0 and counts["other"] == 0
          and latency_ok and memory_ok and healthy)
    return ok, ("dev (qps %d): %d ok = %.1f/s over %.1f s, %d x 429 (Retry-After on all: %s), %d other; "
                "ops /flags p50/p99 ms: idle %.2f/%.2f, under load %.2f/%.2f; master RSS %+d KiB; "
                "healthy: %s") % (
        qps, counts["ok"], rate, elapsed, counts["limited"], counts["no_retry_after"] == 0,
        counts["other"], base_p50, base_p99, load_p50, load_p99, rss_after - rss_before, healthy)


# --- Bearer tokens: an issuer this harness controls --------------------------

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Issuer:
    """An RS256 issuer with a key made for this run (openssl), its JWKS
    document, and tokens signed with `openssl dgst -sign` (PKCS#1 v1.5)."""

    def __init__(self, directory, kid="k1", iss="https://issuer.test", aud="mesos-master"):
        self.kid, self.iss, self.aud = kid, iss, aud
        self.key = os.path.join(directory, "issuer-%s.pem" % kid)
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                        "-out", self.key], check=True, capture_output=True)
        modulus = subprocess.run(["openssl", "rsa", "-in", self.key, "-noout", "-modulus"], check=True,
                                 capture_output=True, text=True).stdout.strip().split("=", 1)[1]
        self.jwk = {"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                    "n": b64url(bytes.fromhex(modulus)), "e": "AQAB"}

    def jwks(self):
        return {"keys": [self.jwk]}

    def config(self):
        return {"issuers": [self.iss], "audiences": [self.aud], "principal_rules": [{"claim": "sub"}]}

    def token(self, sub, lifetime=300, **overrides):
        now = int(time.time())
        claims = {"iss": self.iss, "aud": self.aud, "sub": sub, "iat": now, "nbf": now - 5,
                  "exp": now + lifetime}
        claims.update(overrides)
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = "%s.%s" % (b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()))
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key], input=signing_input.encode(),
                                   check=True, capture_output=True).stdout
        return signing_input + "." + b64url(signature)


def subscribe_status(m, authorization, principal="ops"):
    """The status of a v1 SUBSCRIBE (the event stream is not read)."""
    info = {"user": "root", "name": "bearer-" + principal, "principal": principal, "roles": [principal],
            "capabilities": [{"type": "MULTI_ROLE"}]}
    conn = http.client.HTTPConnection("127.0.0.1", m.port, timeout=10)
    conn.request("POST", "/api/v1/scheduler",
                 body=json.dumps({"type": "SUBSCRIBE", "subscribe": {"framework_info": info}}),
                 headers={"Content-Type": "application/json", "Accept": "application/json",
                          "Authorization": authorization})
    status = conn.getresponse().status
    conn.close()
    return status


@check
def http_bearer_tokens_in_master():
    """The HttpAuthenticator module with Bearer tokens next to Basic: a JWT
    from an issuer this run controls authenticates its `sub` on the
    endpoints and the v1 scheduler API; expired, wrong-audience and forged
    tokens get 401 with RFC 6750's `invalid_token`; the issuer's key rotation
    (a new JWKS file) is picked up by the running master."""
    m = Mesos("http-bearer", agents=0)
    issuer = Issuer(m.dir, kid="k1")
    config = m.file("bearer.json", issuer.config())
    jwks = m.file("jwks.json", issuer.jwks(), mode=0o644)
    http_auth_env(m, "module", [{"key": "realm", "value": "mesos-master"},
                                {"key": "bearer_config", "value": config},
                                {"key": "bearer_jwks", "value": jwks},
                                {"key": "reload_interval_ms", "value": "200"},
                                # Several refusals from one address on purpose.
                                {"key": "throttle_free_failures", "value": "20"}])
    out = {}
    with m:
        if not m.wait_http(timeout=60):
            return False, "master did not start"

        def bearer(token):
            return "Bearer " + token

        out["state token"] = request(m, "GET", "/master/state", bearer(issuer.token("ops")))[0]
        out["subscribe token"] = subscribe_status(m, bearer(issuer.token("ops")))
        out["state basic"] = request(m, "GET", "/master/state", basic("ops", SCHEDULER_SECRETS["ops"]))[0]
        refused = {}
        for name, token in (("expired", issuer.token("ops", lifetime=-600)),
                            ("wrong audience", issuer.token("ops", aud="someone-else")),
                            ("forged", issuer.token("ops")[:-8] + "AAAAAAAA")):
            status, headers, _ = request(m, "GET", "/master/state", bearer(token))
            refused[name] = (status, headers.get("www-authenticate", ""))
        # The issuer rotates to a new key: once the master reloads the JWKS,
        # the old key's tokens fail and the new key's pass.
        rotated = Issuer(m.dir, kid="k2")
        m.file("jwks.json", rotated.jwks(), mode=0o644)
        reloaded = bool(m.wait_log(r"reloaded JWKS", timeout=10))
        out["old key after rotation"] = request(m, "GET", "/master/state", bearer(issuer.token("ops")))[0]
        out["new key after rotation"] = request(m, "GET", "/master/state", bearer(rotated.token("ops")))[0]
        logged = "HTTP authentication refused" in m.text() and "expired" in m.text()
        alive = m.proc.poll() is None
    challenge_ok = all(s == 401 and 'Bearer realm="mesos-master", error="invalid_token"' in h
                       for s, h in refused.values())
    ok = (out == {"state token": 200, "subscribe token": 200, "state basic": 200,
                  "old key after rotation": 401, "new key after rotation": 200}
          and challenge_ok and reloaded and logged and alive)
    return ok, "%s; refused: %s; JWKS reload logged: %s; reasons logged: %s" % (
        ", ".join("%s %s" % kv for kv in out.items()),
        ", ".join("%s %d" % (k, v[0]) for k, v in refused.items()) + (
            "" if challenge_ok else " (challenges: %r)" % refused), reloaded, logged)


def agent_oauthbearer(name, token_for, offer_cram=True):
    """A master whose authenticator module (by its new name) offers
    OAUTHBEARER (tokens of an issuer this run controls) and, with
    `offer_cram`, CRAM-MD5 from --credentials; an agent with the
    OAUTHBEARER authenticatee module and a token file from
    `token_for(issuer)`. The agent's --credential names the principal with
    a wrong secret: only the token can authenticate it. `token_for` None:
    the agent uses Mesos's built-in CRAM-MD5 authenticatee with the right
    secret instead (a mixed cluster). Returns (outcome, master log),
    outcomes as agent_auth's."""
    m = Mesos(name)
    issuer = Issuer(m.dir)
    token = m.file("agent-token", token_for(issuer) + "\n") if token_for else None
    auth_params = [{"key": "bearer_config", "value": m.file("bearer.json", issuer.config())},
                   {"key": "bearer_jwks", "value": m.file("jwks.json", issuer.jwks(), mode=0o644)}]
    env = {"MESOS_AUTHENTICATE_AGENTS": "true",
           "MESOS_AUTHENTICATORS": "org_mesosauth_SaslAuthenticator",
           "MESOS_CREDENTIAL": m.file("credential.json", {
               "principal": "agent", "secret": "not-the-secret" if token_for else AGENT_SECRET})}
    if token_for:
        env["MESOS_AUTHENTICATEE"] = "org_mesosauth_OAuthBearerAuthenticatee"
    if offer_cram:
        env["MESOS_CREDENTIALS"] = m.file("credentials.json", credentials())
    m.env.update(env)
    m.env["MESOS_MODULES"] = json.dumps({"libraries": [{"file": MODULE, "modules": [
        {"name": "org_mesosauth_SaslAuthenticator", "parameters": auth_params},
    ] + ([{"name": "org_mesosauth_OAuthBearerAuthenticatee",
           "parameters": [{"key": "token_file", "value": token}]}] if token_for else [])}]})
    with m:
        registered = m.wait_log(r"Registered agent", timeout=40)
        refused = m.wait_log(r"refused authentication", timeout=1) if not registered else None
        code = m.wait_exit(15) if not registered else None
        log = m.text()
    crashed = re.search(r"\*\*\* (Aborted|SIGSEGV|Check failure)|stub .* called", log)
    if crashed:
        outcome = "crashed: " + crashed.group(0)
    elif registered:
        outcome = "registered"
    elif refused and code is not None:
        outcome = "refused" + (" (failure logged)" if "Authentication failure" in log else " (no failure in the log)")
    else:
        outcome = "neither registered nor refused"
    return outcome, log


@check
def agent_oauthbearer_in_master():
    """OAUTHBEARER between agent and master: the authenticator module offers
    OAUTHBEARER beside CRAM-MD5 (and alone, without --credentials); an agent
    with the OAUTHBEARER authenticatee and a token for `agent` registers,
    authenticated as the token's principal; an expired token, a token of
    another issuer key and a token for another principal are refused; an
    agent with Mesos's built-in CRAM-MD5 authenticatee still registers with
    the master offering both."""
    def other_key(issuer):
        # Same issuer, audience and kid, a key the master does not know.
        directory = os.path.join(os.path.dirname(issuer.key), "other")
        os.makedirs(directory, exist_ok=True)
        return Issuer(directory, kid=issuer.kid)

    results, details = {}, []
    cases = (("good", True, lambda i: i.token("agent")),
             ("good, no CRAM-MD5", False, lambda i: i.token("agent")),
             ("expired", True, lambda i: i.token("agent", lifetime=-600)),
             ("other key", True, lambda i: other_key(i).token("agent")),
             ("other principal", True, lambda i: i.token("intruder")),
             ("built-in CRAM-MD5 agent", True, None))
    for name, cram, token_for in cases:
        outcome, log = agent_oauthbearer("oauthbearer-" + name.split(",")[0].replace(" ", "-"), token_for, cram)
        results[name] = outcome
        if name.startswith("good") or token_for is None:
            as_agent = "Successfully authenticated principal 'agent'" in log
            mech = re.search(r'authentication succeeded: .*"mechanism":"([A-Z0-9-]+)"', log)
            details.append("%s: principal 'agent' %s, mechanism in the audit event: %s" % (
                name, "authenticated" if as_agent else "NOT authenticated", mech.group(1) if mech else None))
            results[name] = outcome if as_agent else outcome + " (principal not seen)"
        else:
            # The token never reaches the log.
            if re.search(r"eyJ[A-Za-z0-9_-]{20,}\.", log):
                results[name] = outcome + " (token in the log!)"
    ok = (results["good"] == results["good, no CRAM-MD5"] == results["built-in CRAM-MD5 agent"] == "registered"
          and all(results[k] == "refused (failure logged)" for k in ("expired", "other key", "other principal")))
    return ok, "; ".join("%s: %s" % kv for kv in results.items()) + "; " + "; ".join(details)


# --- Kerberos: a throw-away MIT KDC on loopback ------------------------------

KRB5_REALM = "MESOS.TEST"


def krb5_tool(name):
    for d in ("/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    raise RuntimeError("`%s` not found: install krb5-kdc, krb5-admin-server and krb5-user "
                       "(.ci/install-deps)" % name)


class Kdc:
    """A realm made for one check (kdb5_util, kadmin.local) with its KDC
    (krb5kdc in the foreground) on a free loopback port, and a keytab per
    principal (`keytab(name)`). Nothing of the machine's own Kerberos set-up
    is read or written."""

    def __init__(self, directory, principals):
        self.dir = os.path.join(directory, "kdc")
        os.makedirs(os.path.join(self.dir, "rcache"))
        port = free_port()
        d = self.dir
        with open(os.path.join(d, "kdc.conf"), "w") as f:
            f.write("[kdcdefaults]\n kdc_ports = %d\n kdc_tcp_ports = %d\n"
                    "[realms]\n %s = {\n  database_name = %s/principal\n  key_stash_file = %s/stash\n"
                    "  acl_file = %s/kadm5.acl\n  max_life = 1h\n  max_renewable_life = 0\n"
                    "  supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal\n }\n"
                    "[logging]\n kdc = FILE:%s/kdc.log\n" % (port, port, KRB5_REALM, d, d, d, d))
        with open(os.path.join(d, "kadm5.acl"), "w"):
            pass
        with open(os.path.join(d, "krb5.conf"), "w") as f:
            f.write("[libdefaults]\n default_realm = %s\n dns_lookup_kdc = false\n dns_lookup_realm = false\n"
                    " dns_canonicalize_hostname = false\n rdns = false\n udp_preference_limit = 1\n"
                    "[realms]\n %s = {\n  kdc = 127.0.0.1:%d\n }\n"
                    "[domain_realm]\n localhost = %s\n" % (KRB5_REALM, KRB5_REALM, port, KRB5_REALM))
        self.proc = None
        self.run(krb5_tool("kdb5_util"), "create", "-s", "-r", KRB5_REALM, "-P", "not-a-secret-master-key")
        for p in principals:
            self.run(krb5_tool("kadmin.local"), "-r", KRB5_REALM, "-q", "addprinc -randkey " + p)
            self.run(krb5_tool("kadmin.local"), "-r", KRB5_REALM, "-q",
                     "ktadd -k %s %s" % (self.keytab(p), p))
        self.proc = subprocess.Popen([krb5_tool("krb5kdc"), "-n", "-r", KRB5_REALM], env=self.tool_env(),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("krb5kdc did not listen on %d" % port)
                time.sleep(0.05)

    def keytab(self, principal):
        return os.path.join(self.dir, principal.replace("/", "-").split("@")[0] + ".keytab")

    def env(self):
        """What a process using the realm needs (and nothing of the host's)."""
        return {"KRB5_CONFIG": os.path.join(self.dir, "krb5.conf"),
                "KRB5RCACHEDIR": os.path.join(self.dir, "rcache")}

    def tool_env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("KRB5")}
        env.update(self.env(), KRB5_KDC_PROFILE=os.path.join(self.dir, "kdc.conf"))
        return env

    def run(self, *argv):
        out = subprocess.run(argv, env=self.tool_env(), capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError("%s: %s%s" % (" ".join(argv), out.stdout, out.stderr))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


# Kerberos names -> Mesos principals: `agent/<any host>@MESOS.TEST` is the
# Mesos principal `agent`; nothing else maps.
GSSAPI_RULES = "RULE:[2:$1@$0](agent@MESOS\\.TEST)s/@.*//\n"


def agent_gssapi(name, kdc, client_principal, offer_cram=True, offer_gssapi=True):
    """A master whose authenticator module offers GSSAPI (the keytab of
    `mesos/localhost`, the rules above) and, with `offer_cram`, CRAM-MD5
    from --credentials; an agent with the GSSAPI authenticatee module and
    the keytab of `client_principal`. The agent's --credential names
    `agent` with a wrong secret: only Kerberos can authenticate it.
    `client_principal` None: the agent uses Mesos's built-in CRAM-MD5
    authenticatee with the right secret instead. Without `offer_gssapi`, the
    master offers CRAM-MD5 only. Returns (outcome, master log), outcomes as
    agent_auth's."""
    m = Mesos(name)
    auth_params = [{"key": "gssapi_keytab", "value": kdc.keytab("mesos/localhost")},
                   {"key": "gssapi_rules", "value": m.file("auth_to_local", GSSAPI_RULES, mode=0o644)}]
    if not offer_gssapi:
        auth_params = []
    env = {"MESOS_AUTHENTICATE_AGENTS": "true",
           "MESOS_AUTHENTICATORS": "org_mesosauth_SaslAuthenticator",
           "MESOS_CREDENTIAL": m.file("credential.json", {
               "principal": "agent", "secret": "not-the-secret" if client_principal else AGENT_SECRET})}
    env.update(kdc.env())
    modules = [{"name": "org_mesosauth_SaslAuthenticator", "parameters": auth_params}]
    if client_principal:
        env["MESOS_AUTHENTICATEE"] = "org_mesosauth_GssapiAuthenticatee"
        modules.append({"name": "org_mesosauth_GssapiAuthenticatee", "parameters": [
            {"key": "keytab", "value": kdc.keytab(client_principal)},
            {"key": "client_principal", "value": client_principal}]})
    if offer_cram:
        env["MESOS_CREDENTIALS"] = m.file("credentials.json", credentials())
    m.env = {k: v for k, v in m.env.items() if not k.startswith("KRB5")}
    m.env.update(env)
    m.env["MESOS_MODULES"] = json.dumps({"libraries": [{"file": MODULE, "modules": modules}]})
    with m:
        registered = m.wait_log(r"Registered agent", timeout=40)
        refused = m.wait_log(r"refused authentication", timeout=1) if not registered else None
        code = m.wait_exit(15) if not registered else None
        log = m.text()
    crashed = re.search(r"\*\*\* (Aborted|SIGSEGV|Check failure)|stub .* called", log)
    if crashed:
        outcome = "crashed: " + crashed.group(0)
    elif registered:
        outcome = "registered"
    elif refused and code is not None:
        outcome = "refused" + (" (failure logged)" if "Authentication failure" in log else " (no failure in the log)")
    else:
        outcome = "neither registered nor refused"
    return outcome, log


@check
def agent_gssapi_in_master():
    """Kerberos between agent and master, with a KDC made for the run: the
    authenticator module offers GSSAPI first, beside CRAM-MD5 (and alone,
    without --credentials); an agent with the GSSAPI authenticatee and the
    keytab of `agent/localhost@MESOS.TEST` registers, the master's audit
    event naming the mechanism and the mapped principal `agent`; an agent
    whose Kerberos name the rules do not map is refused (the reason only in
    the master's log); an agent with Mesos's built-in CRAM-MD5
    authenticatee still registers; a master whose keytab is missing does
    not start, saying why; a GSSAPI agent facing a master that offers only
    CRAM-MD5 sends nothing and gives up at once (Mesos's final `false`: the
    agent exits, saying the master does not offer GSSAPI), no downgrade."""
    top = tempfile.mkdtemp(prefix="run-kdc-", dir=os.path.join(CACHE, "runs"))
    kdc = Kdc(top, ["mesos/localhost", "agent/localhost", "stranger"])
    results, details = {}, []
    try:
        cases = (("good", "agent/localhost@" + KRB5_REALM, True),
                 ("good, no CRAM-MD5", "agent/localhost@" + KRB5_REALM, False),
                 ("unmapped name", "stranger@" + KRB5_REALM, True),
                 ("built-in CRAM-MD5 agent", None, True),
                 ("CRAM-MD5-only master", "agent/localhost@" + KRB5_REALM, True))
        for name, client, cram in cases:
            outcome, log = agent_gssapi("gssapi-" + name.split(",")[0].replace(" ", "-"), kdc, client, cram,
                                        offer_gssapi=not name.startswith("CRAM-MD5-only"))
            results[name] = outcome
            if name.startswith("CRAM-MD5-only"):
                said = re.search(r"impossible: [^\n]*does not offer GSSAPI[^\n]*", log)
                started = "Received SASL authentication" in log or re.search(r'"mechanism":"CRAM-MD5"', log)
                details.append("%s: %s" % (name, said.group(0)[:120] if said else "no reason logged"))
                # Refused at once: no CRAM-MD5 exchange, no retry loop.
                results[name] = outcome if (said and not started) else outcome + " (no reason, or a CRAM-MD5 start)"
                continue
            if client is None or name.startswith("good"):
                as_agent = "Successfully authenticated principal 'agent'" in log
                event = re.search(r"authentication succeeded: (\{.*\})", log)
                event = json.loads(event.group(1)) if event else {}
                details.append("%s: principal 'agent' %s, audit event mechanism %s principal %s" % (
                    name, "authenticated" if as_agent else "NOT authenticated", event.get("mechanism"),
                    event.get("principal")))
                want = "CRAM-MD5" if client is None else "GSSAPI"
                if not as_agent or event.get("mechanism") != want or event.get("principal") != "agent":
                    results[name] = outcome + " (wrong audit event)"
            else:
                unmapped = re.search(r"Authentication failure: (\{.*\})", log)
                event = json.loads(unmapped.group(1)) if unmapped else {}
                details.append("%s: refusal logged as %s / %s" % (name, event.get("reason"), event.get("detail")))
                if event.get("mechanism") != "GSSAPI" or "unmapped" not in json.dumps(event):
                    results[name] = outcome + " (reason not logged)"
        # A master whose keytab is missing refuses to start.
        m = Mesos("gssapi-no-keytab", agents=0)
        m.env.update(kdc.env(), MESOS_AUTHENTICATE_AGENTS="true",
                     MESOS_AUTHENTICATORS="org_mesosauth_SaslAuthenticator")
        m.env["MESOS_MODULES"] = json.dumps({"libraries": [{"file": MODULE, "modules": [
            {"name": "org_mesosauth_SaslAuthenticator", "parameters": [
                {"key": "gssapi_keytab", "value": os.path.join(m.dir, "missing.keytab")},
                {"key": "gssapi_rules", "value": m.file("auth_to_local", GSSAPI_RULES, mode=0o644)}]}]}]})
        with m:
            code = m.wait_exit(30)
            said = re.search(r"[^\n]*cannot read the keytab[^\n]*", m.text())
        results["missing keytab"] = ("master exited (%s), logged: %s" % (code, said is not None)
                                     if code is not None else "master running")
        if said:
            details.append("missing keytab: " + said.group(0).strip()[-160:])
    finally:
        kdc.stop()
        if os.environ.get("MESOS_AUTH_KEEP_RUNS") != "1":
            shutil.rmtree(top, ignore_errors=True)
    ok = (results["good"] == results["good, no CRAM-MD5"] == results["built-in CRAM-MD5 agent"] == "registered"
          and results["unmapped name"] == "refused (failure logged)"
          and results["CRAM-MD5-only master"].startswith("refused")
          and results["missing keytab"].startswith("master exited (1), logged: True"))
    return ok, "; ".join("%s: %s" % kv for kv in results.items()) + "; " + "; ".join(details)


ZK_JAR = "/usr/share/java/zookeeper.jar"


def mesos_auth_cli():
    """The operator CLI with ZooKeeper support (built if missing)."""
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
    meta = json.loads(subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=repo))
    subprocess.check_call(["cargo", "build", "-q", "-p", "mesos-auth", "--features", "zk,cli",
                           "--bin", "mesos-auth"], cwd=repo)
    return os.path.join(meta["target_directory"], "debug", "mesos-auth")


class ZooKeeper:
    """A standalone ZooKeeper 3.8 (Debian's `zookeeper`) on loopback."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="run-zk-", dir=os.path.join(CACHE, "runs"))
        self.port = free_port()
        with open(os.path.join(self.dir, "zoo.cfg"), "w") as f:
            f.write("tickTime=100\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                    "admin.enableServer=false\n4lw.commands.whitelist=srvr\n" % (self.dir, self.port))
        self.proc = None

    def __enter__(self):
        log = open(os.path.join(self.dir, "zk.log"), "wb")
        self.proc = subprocess.Popen(
            ["java", "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", ZK_JAR,
             "org.apache.zookeeper.server.ZooKeeperServerMain", os.path.join(self.dir, "zoo.cfg")],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"srvr")
                    if b"Mode:" in s.recv(4096):
                        return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("ZooKeeper not serving after 30 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __exit__(self, *exc):
        self.stop()


@check
def acls_from_zookeeper():
    """The authorizer module with `zk_acls`: the master's decisions follow
    the policy pushed to ZooKeeper (not the local file), change with a push,
    and fail closed once ZooKeeper has been gone longer than the bound."""
    if not os.path.exists(ZK_JAR):
        return False, "ZooKeeper not installed (Debian package `zookeeper`)"
    cli = mesos_auth_cli()
    with ZooKeeper() as zk:
        base = "zk://127.0.0.1:%d/mesos-auth" % zk.port

        def push(policy):
            path = os.path.join(zk.dir, "acls.json")
            with open(path, "w") as f:
                json.dump(policy, f)
            out = subprocess.run([cli, "zk", "push", "--acls", path, "--insecure-open-acl", base],
                                 capture_output=True, text=True, timeout=30)
            return out.returncode == 0, (out.stdout + out.stderr).strip()

        ok, pushed = push(acls(dev_roles=("dev", "prod")))
        if not ok:
            return False, "zk push failed: " + pushed
        m = Mesos("zk", agents=0)
        # The local file (the fallback only) would deny dev the role prod.
        http_env(m, "module", acls(), acl_params=[
            {"key": "zk_acls", "value": base + "/acls"},
            {"key": "zk_startup_timeout_ms", "value": "10000"},
            {"key": "zk_fail_closed_after_ms", "value": "1500"}])
        with m:
            if not m.wait_http():
                return False, "master did not start: " + m.text()[-2000:]
            first = m.subscribe("dev", ["prod"])[1]
            ok, pushed = push(acls())
            changed = None
            deadline = time.time() + 10
            while ok and time.time() < deadline:
                changed = m.subscribe("dev", ["prod"])[1]
                if changed == "ERROR":
                    break
                time.sleep(0.1)
            ops_up = m.subscribe("ops", ["prod"])[1]
            zk.stop()
            time.sleep(2.5)
            ops_down = m.subscribe("ops", ["prod"])[1]
            alive = m.proc.poll() is None
        good = (first == "SUBSCRIBED" and changed == "ERROR" and ops_up == "SUBSCRIBED"
                and ops_down == "ERROR" and alive)
        return good, ("dev SUBSCRIBE prod: %s from ZooKeeper (the local file says no) -> %s after a "
                      "push; ops SUBSCRIBE prod: %s -> %s with ZooKeeper gone 2.5 s (bound 1.5 s)") % (
            first, changed, ops_up, ops_down)


def main():
    os.makedirs(os.path.join(CACHE, "runs"), exist_ok=True)
    wanted = sys.argv[1:]
    passed = failed = 0
    for fn in CHECKS:
        if wanted and fn.__name__ not in wanted:
            continue
        start = time.time()
        try:
            ok, detail = fn()
        except Exception as e:  # a harness error is a failed check, with its trace
            ok, detail = False, "harness error: %r\n%s" % (e, traceback.format_exc())
        print("%s %s (%.0fs): %s" % ("PASS" if ok else "FAIL", fn.__name__, time.time() - start, detail),
              flush=True)
        passed, failed = passed + bool(ok), failed + (not ok)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
