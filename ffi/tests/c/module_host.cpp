// A C++17 host that drives ffi/mesos/cram_md5_adapter.hpp exactly as the
// Mesos authenticator module does (parameters, store, one session per
// AuthenticateMessage, messages in and out, outcome), with a real
// authenticatee session as the peer, and ffi/mesos/acl_adapter.hpp as the
// Authorizer module does (parameters, policy, authorized(), approvers
// shared across threads while the policy reloads). Tests the adapters
// without Mesos. The library is built with `gssapi` (ffi/tests/run-c-tests),
// so the GSSAPI parts of the adapters are compiled and tested too.
#define MESOS_AUTH_GSSAPI 1
#include "../../mesos/acl_adapter.hpp"
#include "../../mesos/cram_md5_adapter.hpp"
#include "../../mesos/cram_md5_client.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

using namespace mesos_auth_module;

static std::atomic<int> failures{0};
#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                                   \
    }                                                                               \
  } while (0)

namespace {
struct ClientFree {
  void operator()(mesos_auth_authenticatee *p) const noexcept { mesos_auth_authenticatee_free(p); }
};
using Client = std::unique_ptr<mesos_auth_authenticatee, ClientFree>;

Client client(const std::string &principal, const std::string &secret) {
  mesos_auth_authenticatee *c = nullptr;
  mesos_auth_authenticatee_new(principal.data(), principal.size(), reinterpret_cast<const uint8_t *>(secret.data()),
                               secret.size(), nullptr, &c);
  return Client(c);
}

// What the module's actor does: send what the session queued, and hand the
// peer's replies back as protobuf fields (strings).
Outcome run(Session *s, mesos_auth_authenticatee *c) {
  for (int round = 0; round < 10; round++) {
    bool moved = false;
    for (const Outgoing &o : s->drain()) {
      std::string mechs;
      for (const auto &m : o.mechanisms) mechs += (mechs.empty() ? "" : ",") + m;
      mesos_auth_message m{o.kind,
                           {mechs.data(), mechs.size()},
                           {reinterpret_cast<const uint8_t *>(o.data.data()), o.data.size()}};
      mesos_auth_authenticatee_feed(c, &m);
      moved = true;
    }
    mesos_auth_message m{};
    while (mesos_auth_authenticatee_poll_output(c, &m) == MESOS_AUTH_RESULT_OK &&
           m.kind != MESOS_AUTH_MESSAGE_KIND_NONE) {
      std::string data(reinterpret_cast<const char *>(m.data.data), m.data.len);
      if (m.kind == MESOS_AUTH_MESSAGE_KIND_START)
        s->onStart(std::string(m.mechanism.data, m.mechanism.len), data);
      else
        s->onStep(data);
      moved = true;
    }
    if (!moved) break;
  }
  return s->outcome();
}
}  // namespace

static void test_parameters() {
  Config c;
  CHECK(!parseParameters({}, &c));
  CHECK(!c.credentialsPath && c.timeoutMs == 15000 && !c.lenient);
  CHECK(!parseParameters({{"credentials", "/etc/mesos/creds"}, {"timeout_ms", "2500"}, {"credentials_lenient", "true"}},
                         &c));
  CHECK(c.credentialsPath && *c.credentialsPath == "/etc/mesos/creds" && c.timeoutMs == 2500 && c.lenient);
  Config d;
  CHECK(parseParameters({{"credential", "/x"}}, &d));                   // typo: unknown key
  CHECK(parseParameters({{"timeout_ms", "0"}}, &d));                    // out of range
  CHECK(parseParameters({{"timeout_ms", "12a"}}, &d));                  // not a number
  CHECK(parseParameters({{"timeout_ms", "1"}, {"timeout_ms", "2"}}, &d));  // repeated
  CHECK(parseParameters({{"credentials_lenient", "yes"}}, &d));
  CHECK(parseParameters({{"credentials", ""}}, &d));
  // Reload, session cap and throttle parameters.
  CHECK(c.reloadIntervalMs == 0 && c.maxSessions == 1024 && c.throttleFreeFailures == 3 &&
        c.throttleBaseMs == 1000 && c.throttleMaxMs == 60000);
  Config e;
  CHECK(!parseParameters({{"credentials", "/c"}, {"reload_interval_ms", "250"}, {"max_sessions", "8"},
                          {"throttle_free_failures", "0"}, {"throttle_base_ms", "10"}, {"throttle_max_ms", "20"}},
                         &e));
  CHECK(e.reloadIntervalMs == 250 && e.maxSessions == 8 && e.throttleFreeFailures == 0 && e.throttleBaseMs == 10 &&
        e.throttleMaxMs == 20);
  {
    // Credentials from ZooKeeper (`zk_credentials`); fail-closed is the
    // authorizer's only.
    Config z;
    auto ze = parseParameters({{"zk_credentials", "zk://zk1/mesos-auth/credentials"}, {"zk_sasl_user", "m"},
                               {"zk_sasl_password_file", "/p"}}, &z);
#ifdef MESOS_AUTH_ZK
    CHECK(!ze && z.zk.url == "zk://zk1/mesos-auth/credentials" && z.zk.startupTimeoutMs == 10000);
    Config y;
    CHECK(parseParameters({{"zk_credentials", "zk://zk1/c"}, {"zk_fail_closed_after_ms", "10"}}, &y));
    CHECK(parseParameters({{"zk_credentials", "zk://zk1/c"}, {"credentials", "/c"}, {"reload_interval_ms", "5"}},
                          &y));
    // Unreachable within the start-up bound: refused.
    Config u;
    CHECK(!parseParameters({{"zk_credentials", "zk://127.0.0.1:1/c"}, {"zk_startup_timeout_ms", "200"}}, &u));
    std::shared_ptr<Store> none;
    auto refused = Store::open(u, nullptr, &none);
    CHECK(refused && refused->find("cannot watch credentials") != std::string::npos && !none);
#else
    CHECK(ze && ze->find("zk feature") != std::string::npos);
#endif
  }
  Config f;
  auto noFile = parseParameters({{"reload_interval_ms", "250"}}, &f);  // nothing to watch
  CHECK(noFile && noFile->find("needs 'credentials'") != std::string::npos);
  CHECK(parseParameters({{"max_sessions", "0"}}, &f));
  CHECK(parseParameters({{"throttle_base_ms", "100"}, {"throttle_max_ms", "50"}}, &f));
}

// The store's throttle: failures from one peer address make it wait; another
// address and a success are unaffected; a rotated file is served after a
// reload while a bad one is refused and the old secrets keep working.
static void test_throttle_and_reload() {
  char path[] = "/tmp/mesos-auth-module-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  // JSON: the module reads the file with FORMAT_AUTO, as Mesos >= 1.11 does.
  const std::string one = R"({"credentials": [{"principal": "agent", "secret": "secret-number-one"}]})";
  CHECK(write(fd, one.data(), one.size()) == static_cast<ssize_t>(one.size()));
  close(fd);
  Config config;
  CHECK(!parseParameters({{"credentials", path}, {"throttle_free_failures", "1"}, {"throttle_base_ms", "60000"},
                          {"throttle_max_ms", "60000"}},
                         &config));
  std::shared_ptr<Store> store;
  CHECK(!Store::open(config, nullptr, &store));
  if (!store) return;
  auto attempt = [&](const char *peer, const char *secret) {
    std::unique_ptr<Session> s;
    CHECK(!Session::start(store, 1000, peer, &s));
    Client c = client("agent", secret);
    return run(s.get(), c.get());
  };
  CHECK(store->throttleDelayMs("10.0.0.9") == 0);
  CHECK(attempt("10.0.0.9", "wrong") == Outcome::Failed);  // the free failure
  CHECK(attempt("10.0.0.9", "wrong") == Outcome::Failed);
  CHECK(store->throttleDelayMs("10.0.0.9") > 0);   // now it must wait
  CHECK(store->throttleDelayMs("10.0.0.10") == 0);  // another address need not
  CHECK(attempt("10.0.0.10", "secret-number-one") == Outcome::Completed);

  uint64_t generation = 0;
  auto replace = [&](const std::string &content) {
    std::string tmp = std::string(path) + ".new";
    FILE *f = std::fopen(tmp.c_str(), "w");
    CHECK(f != nullptr);
    if (!f) return;
    std::fputs(content.c_str(), f);
    std::fclose(f);
    chmod(tmp.c_str(), 0600);
    CHECK(std::rename(tmp.c_str(), path) == 0);
  };
  replace(R"({"credentials": [{"principal": "agent", "secret": "secret-number-two"}]})");
  CHECK(!store->reload(&generation) && generation == 1);
  CHECK(attempt("10.0.0.11", "secret-number-two") == Outcome::Completed);
  CHECK(attempt("10.0.0.12", "secret-number-one") == Outcome::Failed);
  // No secret: refused, the rotated store keeps serving.
  replace(R"({"credentials": [{"principal": "agent"}]})");
  auto err = store->reload(&generation);
  CHECK(err && err->find("refused") != std::string::npos && generation == 1);
  CHECK(attempt("10.0.0.13", "secret-number-two") == Outcome::Completed);
  unlink(path);
}

static void test_stores(std::shared_ptr<Store> *shared) {
  // From what Mesos parsed: quotes and backslashes survive the JSON round
  // trip; a control character is refused without echoing the secret.
  std::vector<std::pair<std::string, std::string>> bad = {{"fw", "secret-with-\x01-control"}};
  std::shared_ptr<Store> none;
  auto badErr = Store::open(Config{}, &bad, &none);
  CHECK(badErr && badErr->find("control") != std::string::npos && badErr->find("secret-with") == std::string::npos);
  CHECK(!none);
  std::vector<std::pair<std::string, std::string>> creds = {
      {"fw\"1", "secret\\with\"quotes-and-more"}, {"agent", "0123456789abcdef0123"}};
  Config config;
  std::shared_ptr<Store> store;
  auto openErr = Store::open(config, &creds, &store);
  if (openErr) std::fprintf(stderr, "%s\n", openErr->c_str());
  CHECK(!openErr);
  CHECK(store && store->size() == 2);
  {
    std::unique_ptr<Session> s;
    CHECK(!Session::start(store, config.timeoutMs, "scheduler@10.0.0.1:1234", &s));
    Client c = client("fw\"1", "secret\\with\"quotes-and-more");
    CHECK(run(s.get(), c.get()) == Outcome::Completed);
    CHECK(s->principal() && *s->principal() == "fw\"1");
  }
  // No credentials at all: an empty store, every attempt fails.
  std::shared_ptr<Store> empty;
  CHECK(!Store::open(config, nullptr, &empty));
  CHECK(empty && empty->size() == 0);
  {
    std::unique_ptr<Session> s;
    CHECK(!Session::start(empty, 1000, "", &s));
    Client c = client("agent", "0123456789abcdef0123");
    CHECK(run(s.get(), c.get()) == Outcome::Failed);
    CHECK(!s->principal());
  }
  // From a file (permissions checked; opt-out by parameter).
  char path[] = "/tmp/mesos-auth-module-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  const std::string text = R"({"credentials": [{"principal": "agent", "secret": "0123456789abcdef0123"}]})";
  CHECK(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  close(fd);
  Config fromFile;
  CHECK(!parseParameters({{"credentials", path}}, &fromFile));
  std::shared_ptr<Store> f;
  CHECK(!Store::open(fromFile, nullptr, &f));
  CHECK(f && f->size() == 1);
  chmod(path, 0644);
  std::shared_ptr<Store> g;
  auto err = Store::open(fromFile, nullptr, &g);
  CHECK(err && err->find("0644") != std::string::npos && !g);
  CHECK(!parseParameters({{"credentials", path}, {"allow_insecure_permissions", "true"}}, &fromFile));
  CHECK(!Store::open(fromFile, nullptr, &g));
  CHECK(g && g->size() == 1);
  // The text format is refused, as by Mesos >= 1.11, saying where and why,
  // in strict and lenient mode alike.
  {
    FILE *tf = std::fopen(path, "w");
    CHECK(tf != nullptr);
    if (tf) {
      std::fputs("agent 0123456789abcdef0123\n", tf);
      std::fclose(tf);
    }
    chmod(path, 0600);
    for (const char *lenient : {"false", "true"}) {
      Config textFile;
      CHECK(!parseParameters({{"credentials", path}, {"credentials_lenient", lenient}}, &textFile));
      std::shared_ptr<Store> t;
      auto textErr = Store::open(textFile, nullptr, &t);
      CHECK(textErr && textErr->find(":1:1") != std::string::npos && textErr->find("JSON") != std::string::npos &&
            textErr->find("0123456789abcdef0123") == std::string::npos && !t);
    }
  }
  unlink(path);
  *shared = f;
}

static void test_sessions(const std::shared_ptr<Store> &store) {
  // Wrong secret.
  {
    std::unique_ptr<Session> s;
    CHECK(!Session::start(store, 1000, "", &s));
    Client c = client("agent", "wrong-secret");
    CHECK(run(s.get(), c.get()) == Outcome::Failed);
  }
  // A peer that asks for another mechanism gets an ERROR message.
  {
    std::unique_ptr<Session> s;
    CHECK(!Session::start(store, 1000, "", &s));
    auto first = s->drain();
    CHECK(first.size() == 1 && first[0].kind == MESOS_AUTH_MESSAGE_KIND_MECHANISMS &&
          first[0].mechanisms.size() == 1 && first[0].mechanisms[0] == "CRAM-MD5");
    s->onStart("GSSAPI", "");
    CHECK(s->outcome() == Outcome::Error && !s->error().empty());
    auto out = s->drain();
    CHECK(out.size() == 1 && out[0].kind == MESOS_AUTH_MESSAGE_KIND_ERROR);
  }
  // A mechanism that is not UTF-8 ends the session too.
  {
    std::unique_ptr<Session> s;
    CHECK(!Session::start(store, 1000, "", &s));
    s->onStart("CRAM\xff", "");
    CHECK(s->outcome() == Outcome::Error);
  }
  // A step before start.
  {
    std::unique_ptr<Session> s;
    CHECK(!Session::start(store, 1000, "", &s));
    s->onStep("agent 00");
    CHECK(s->outcome() == Outcome::Error);
  }
  // The master discards the future (re-authentication, shutdown), and a timeout.
  {
    std::unique_ptr<Session> s;
    CHECK(!Session::start(store, 1000, "", &s));
    s->discard();
    CHECK(s->outcome() == Outcome::Error);
    std::unique_ptr<Session> t;
    CHECK(!Session::start(store, 1, "", &t));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    t->checkTimeout();
    CHECK(t->outcome() == Outcome::Error);
  }
  // Many libprocess workers at once over one store.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&store] {
      for (int i = 0; i < 10; i++) {
        std::unique_ptr<Session> s;
        if (Session::start(store, 1000, "", &s)) {
          failures++;
          continue;
        }
        Client c = client("agent", "0123456789abcdef0123");
        if (run(s.get(), c.get()) != Outcome::Completed || s->principal() != std::string("agent")) failures++;
      }
    });
  }
  for (auto &t : threads) t.join();
}

static const char ACLS[] = R"({
  "permissive": false,
  "run_tasks": [
    {"principals": {"values": ["fw"]}, "users": {"values": ["alice"]}}
  ],
  "register_frameworks": [
    {"principals": {"values": ["fw"]}, "roles": {"values": ["dev/%", "prod"]}}
  ],
  "teardown_frameworks": [
    {"principals": {"values": ["ops"]}, "framework_principals": {"type": "ANY"}}
  ],
  "launch_nested_containers_under_parent_with_user": [
    {"principals": {"values": ["op"]}, "users": {"values": ["alice"]}}
  ],
  "launch_nested_containers_as_user": [
    {"principals": {"values": ["op"]}, "users": {"values": ["bob"]}}
  ],
  "get_endpoints": [
    {"principals": {"values": ["ops"]}, "paths": {"values": ["/metrics/snapshot"]}}
  ],
  "view_flags": [
    {"principals": {"type": "ANY"}, "flags": {"type": "ANY"}}
  ]
})";

// What authorizer.cpp's authorized() does: subject, action name, object.
static std::optional<bool> ask(const std::shared_ptr<Policy> &p, std::optional<std::string> principal,
                               const std::string &action, const std::optional<ObjectFields> &object) {
  Approver a(p, std::move(principal), action);
  bool allowed = false;
  if (a.approved(object, &allowed)) return std::nullopt;
  return allowed;
}

static void test_acl() {
  // Parameters.
  AclConfig c;
  CHECK(parseAclParameters({}, &c));  // acls is required
  CHECK(parseAclParameters({{"acl", "/x"}}, &c));
  CHECK(parseAclParameters({{"acls", "/x"}, {"acls", "/y"}}, &c));
  CHECK(parseAclParameters({{"acls", "/x"}, {"acls_lenient", "1"}}, &c));
  CHECK(!parseAclParameters({{"acls", "/etc/mesos/acls.json"}, {"acls_lenient", "true"}}, &c));
  CHECK(c.aclsPath == "/etc/mesos/acls.json" && c.lenient && c.reloadIntervalMs == 0);
  CHECK(parseAclParameters({{"acls", "/x"}, {"reload_interval_ms", "1s"}}, &c));
  AclConfig r;
  CHECK(!parseAclParameters({{"acls", "/x"}, {"reload_interval_ms", "2500"}}, &r) && r.reloadIntervalMs == 2500);

  // ZooKeeper as the source (`zk_*`): needs a library built with `zk`.
  {
    const std::string url = "zk://zk1:2181,zk2/mesos-auth/acls";
    AclConfig z;
    auto e = parseAclParameters({{"zk_acls", url}, {"zk_fail_closed_after_ms", "1500"}, {"zk_sasl_user", "m"},
                                 {"zk_sasl_password_file", "/p"}}, &z);
#ifdef MESOS_AUTH_ZK
    CHECK(!e && z.zk.url == url && z.aclsPath.empty() && z.zk.startupTimeoutMs == 10000 &&
          z.zk.failClosedAfterMs == 1500 && z.zk.saslUser == "m" && z.zk.saslPasswordFile == "/p");
    AclConfig y;
    CHECK(parseAclParameters({{"zk_acls", url}, {"zk_startup_timeout_ms", "0"}}, &y));  // no fallback file
    CHECK(parseAclParameters({{"zk_acls", url}, {"acls", "/x"}, {"reload_interval_ms", "5"}}, &y));
    AclConfig fallback;
    CHECK(!parseAclParameters({{"zk_acls", url}, {"acls", "/x"}, {"zk_startup_timeout_ms", "0"}}, &fallback));
    CHECK(fallback.aclsPath == "/x" && fallback.zk.startupTimeoutMs == 0);
    CHECK(parseAclParameters({{"zk_acls", url}, {"zk_session_timeout_ms", "x"}}, &y));
    // Unreachable within the start-up bound: the module refuses to start.
    AclConfig u;
    CHECK(!parseAclParameters({{"zk_acls", "zk://127.0.0.1:1/acls"}, {"zk_startup_timeout_ms", "200"}}, &u));
    std::shared_ptr<Policy> none;
    auto refused = Policy::open(u, &none);
    CHECK(refused && refused->find("cannot watch ACLs") != std::string::npos && !none);
#else
    CHECK(e && e->find("zk feature") != std::string::npos);
#endif
  }

  // From a file, as create() does; errors say where.
  char path[] = "/tmp/mesos-auth-module-acl-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  const std::string text = ACLS;
  CHECK(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  close(fd);
  AclConfig fromFile;
  CHECK(!parseAclParameters({{"acls", path}}, &fromFile));
  std::shared_ptr<Policy> policy;
  auto openErr = Policy::open(fromFile, &policy);
  if (openErr) std::fprintf(stderr, "%s\n", openErr->c_str());
  CHECK(!openErr);
  CHECK(policy);
  if (!policy) return;
  std::shared_ptr<Policy> bad;
  auto err = Policy::fromText("{\"permissive\": false, \"run_task\": []}", false, &bad);
  CHECK(err && err->find("1:") != std::string::npos && !bad);
  CHECK(!Policy::fromText("{\"permissive\": false, \"run_task\": []}", true, &bad) && bad);

  // authorized(): RUN_TASK with the user from TaskInfo, then FrameworkInfo.
  ObjectFields task;
  task.taskInfo = true;
  task.taskInfoCommandUser = "alice";
  task.framework = true;
  task.frameworkUser = "root";
  CHECK(ask(policy, "fw", "RUN_TASK", task) == std::optional<bool>(true));
  CHECK(ask(policy, "other", "RUN_TASK", task) == std::optional<bool>(false));
  task.taskInfoCommandUser.reset();
  CHECK(ask(policy, "fw", "RUN_TASK", task) == std::optional<bool>(false));  // root
  // REGISTER_FRAMEWORK: every role of a MULTI_ROLE framework; none: permissive (false).
  ObjectFields fw;
  fw.framework = true;
  fw.frameworkRoles = {"dev/a", "prod", "prod"};
  CHECK(ask(policy, "fw", "REGISTER_FRAMEWORK", fw) == std::optional<bool>(true));
  fw.frameworkRoles = {"dev/a", "qa"};
  CHECK(ask(policy, "fw", "REGISTER_FRAMEWORK", fw) == std::optional<bool>(false));
  fw.frameworkRoles = {};
  CHECK(ask(policy, "fw", "REGISTER_FRAMEWORK", fw) == std::optional<bool>(false));
  ObjectFields role;
  role.value = "dev/x";
  CHECK(ask(policy, "fw", "REGISTER_FRAMEWORK_WITH_ROLE", role) == std::optional<bool>(true));
  // TEARDOWN: the object is the framework's principal.
  ObjectFields teardown;
  teardown.framework = true;
  teardown.frameworkPrincipal = "fw";
  CHECK(ask(policy, "ops", "TEARDOWN_FRAMEWORK", teardown) == std::optional<bool>(true));
  CHECK(ask(policy, std::nullopt, "TEARDOWN_FRAMEWORK", teardown) == std::optional<bool>(false));
  // Endpoints need a path; without one Mesos would CHECK-fail: an error here.
  ObjectFields ep;
  ep.value = "/metrics/snapshot";
  CHECK(ask(policy, "ops", "GET_ENDPOINT_WITH_PATH", ep) == std::optional<bool>(true));
  CHECK(!ask(policy, "ops", "GET_ENDPOINT_WITH_PATH", ObjectFields{}));
  // No object = ANY; VIEW_FLAGS is always ANY.
  CHECK(ask(policy, "ops", "VIEW_FLAGS", std::nullopt) == std::optional<bool>(true));
  CHECK(ask(policy, "ops", "RUN_TASK", std::nullopt) == std::optional<bool>(false));
  // Nested containers: parent user and command user both checked.
  ObjectFields nested;
  nested.executor = true;
  nested.executorUser = "alice";
  nested.command = true;
  nested.commandUser = "bob";
  CHECK(ask(policy, "op", "LAUNCH_NESTED_CONTAINER", nested) == std::optional<bool>(true));
  nested.commandUser = "root";
  CHECK(ask(policy, "op", "LAUNCH_NESTED_CONTAINER", nested) == std::optional<bool>(false));
  nested.command = false;
  CHECK(ask(policy, "op", "LAUNCH_NESTED_CONTAINER", nested) == std::optional<bool>(true));
  // UNKNOWN is denied; an action this build does not know is an error.
  CHECK(ask(policy, "ops", "UNKNOWN", std::nullopt) == std::optional<bool>(false));
  CHECK(!ask(policy, "ops", "FLY_TO_THE_MOON", std::nullopt));

  // Approvers handed out at subscription time stay current across reloads,
  // while several actor threads use them.
  Approver runTask(policy, std::string("fw"), "RUN_TASK");
  ObjectFields alice;
  alice.taskInfo = true;
  alice.taskInfoCommandUser = "alice";
  std::vector<std::thread> threads;
  std::atomic<bool> stop{false};
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&] {
      for (int i = 0; i < 300; i++) {
        bool ok = false;
        // Both policies below allow fw/alice.
        if (runTask.approved(alice, &ok) || !ok) failures++;
      }
    });
  }
  uint64_t gen = 0;
  for (int i = 0; i < 20; i++) {
    if (policy->reloadText(i % 2 ? text : std::string("{\"permissive\": true}"), &gen)) failures++;
    if (!policy->reloadText("{", &gen)) failures++;  // refused, old one serves
  }
  for (auto &t : threads) t.join();
  CHECK(gen == 20);
  // The file changed on disk: reload() re-reads it.
  CHECK(!policy->reload(&gen) && gen == 21);
  bool ok = true;
  CHECK(!runTask.approved(alice, &ok) && ok);
  unlink(path);
  CHECK(policy->reload(&gen) && gen == 21);  // missing file refused

  // The watcher reloads a changed file by itself, refuses a broken one.
  {
    char wpath[] = "/tmp/mesos-auth-module-watch-XXXXXX";
    int wfd = mkstemp(wpath);
    CHECK(wfd >= 0);
    CHECK(write(wfd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    close(wfd);
    AclConfig wc;
    CHECK(!parseAclParameters({{"acls", std::string("file://") + wpath}, {"reload_interval_ms", "5"}}, &wc));
    std::shared_ptr<Policy> wp;
    CHECK(!Policy::open(wc, &wp));
    if (!wp) return;
    std::mutex m;
    std::vector<std::string> reports;
    auto generation = [&] {
      uint64_t g = 0;
      mesos_auth_acl_generation(wp->raw(), &g);
      return g;
    };
    auto waitFor = [&](size_t n) {
      for (int i = 0; i < 400; i++) {
        {
          std::lock_guard<std::mutex> g(m);
          if (reports.size() >= n) return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      return false;
    };
    {
      FileWatcher w("ACLs", wc.aclsPath, wc.reloadIntervalMs,
                    [wp](uint64_t *g) { return wp->reload(g); }, [&](bool, const std::string &r) {
        std::lock_guard<std::mutex> g(m);
        reports.push_back(r);
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      CHECK(generation() == 0);  // unchanged file: no reload
      // Replaced atomically (write a temporary, rename), as deployments should.
      auto replace = [&](const char *content) {
        std::string tmp = std::string(wpath) + ".new";
        FILE *f = std::fopen(tmp.c_str(), "w");
        CHECK(f != nullptr);
        if (!f) return;
        std::fputs(content, f);
        std::fclose(f);
        CHECK(std::rename(tmp.c_str(), wpath) == 0);
      };
      replace("{\"permissive\": true}");
      CHECK(waitFor(1));
      CHECK(generation() == 1);
      replace("{\"permissive\": tru");
      CHECK(waitFor(2));
      CHECK(generation() == 1);  // refused, old policy serves
    }
    std::lock_guard<std::mutex> g(m);
    CHECK(reports.size() >= 2 && reports[0].find("generation 1") != std::string::npos &&
          reports[1].find("refused") != std::string::npos && reports[1].find("1:") != std::string::npos);
    unlink(wpath);
  }
}

// What authenticatee.cpp's actor does against what authenticator.cpp's
// actor does: protobuf fields (strings) both ways, until both sides settle.
static std::pair<Outcome, Outcome> exchange(Session *server, ClientSession *client) {
  for (int round = 0; round < 10; round++) {
    bool moved = false;
    for (const Outgoing &o : server->drain()) {
      moved = true;
      switch (o.kind) {
        case MESOS_AUTH_MESSAGE_KIND_MECHANISMS: client->onMechanisms(o.mechanisms); break;
        case MESOS_AUTH_MESSAGE_KIND_STEP: client->onStep(o.data); break;
        case MESOS_AUTH_MESSAGE_KIND_COMPLETED: client->onCompleted(); break;
        case MESOS_AUTH_MESSAGE_KIND_FAILED: client->onFailed(); break;
        case MESOS_AUTH_MESSAGE_KIND_ERROR: client->onError(o.data); break;
        default: break;
      }
    }
    for (const Outgoing &o : client->drain()) {
      moved = true;
      if (o.kind == MESOS_AUTH_MESSAGE_KIND_START)
        server->onStart(o.mechanisms.empty() ? "" : o.mechanisms[0], o.data);
      else
        server->onStep(o.data);
    }
    if (!moved) break;
  }
  return {server->outcome(), client->outcome()};
}

static void test_authenticatee(const std::shared_ptr<Store> &store) {
  {
    std::unique_ptr<Session> s;
    CHECK(!Session::start(store, 1000, "agent@10.0.0.2:5051", &s));
    std::unique_ptr<ClientSession> c;
    CHECK(!ClientSession::start("agent", "0123456789abcdef0123", &c));
    if (s && c) CHECK(exchange(s.get(), c.get()) == std::make_pair(Outcome::Completed, Outcome::Completed));
    CHECK(s && s->principal() == std::string("agent"));
  }
  {
    std::unique_ptr<Session> s;
    CHECK(!Session::start(store, 1000, "", &s));
    std::unique_ptr<ClientSession> c;
    CHECK(!ClientSession::start("agent", "wrong-secret", &c));
    if (s && c) CHECK(exchange(s.get(), c.get()) == std::make_pair(Outcome::Failed, Outcome::Failed));
  }
  {
    // A master offering only another mechanism: an error, Mesos retries.
    std::unique_ptr<ClientSession> c;
    CHECK(!ClientSession::start("agent", "0123456789abcdef0123", &c));
    c->onMechanisms({"GSSAPI"});
    CHECK(c->outcome() == Outcome::Error && !c->error().empty());
    // Bad UTF-8 in the list, and a lost master.
    std::unique_ptr<ClientSession> d;
    CHECK(!ClientSession::start("agent", "0123456789abcdef0123", &d));
    d->onMechanisms({"CRAM\xff"});
    CHECK(d->outcome() == Outcome::Error);
    std::unique_ptr<ClientSession> e;
    CHECK(!ClientSession::start("agent", "0123456789abcdef0123", &e));
    CHECK(e->outcome() == Outcome::Pending);
    e->abort("lost the master");
    CHECK(e->outcome() == Outcome::Error && e->error() == "lost the master");
    // The secret never shows in an error.
    std::unique_ptr<ClientSession> f;
    auto err = ClientSession::start("", "hunter2hunter2", &f);
    CHECK(err && err->find("hunter2") == std::string::npos && !f);
  }
}

// OAUTHBEARER through the adapters: the authenticator module's store with
// `bearer_config`/`bearer_jwks` (alone, and beside CRAM-MD5 from Mesos's
// --credentials), and oauthbearer_authenticatee.cpp's client session with
// its token in a file. Tokens: the Ed25519 ones of oauthbearer.c (valid
// until 1900000000).
static const char BEARER_CONFIG[] = R"({"issuers": ["https://idp.test"], "audiences": ["mesos-master"]})";
static const char BEARER_JWKS[] = R"({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "ed-1", )"
                                  R"("x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]})";
static const char GOOD_TOKEN[] =
    "eyJhbGciOiJFZERTQSIsImtpZCI6ImVkLTEifQ."
    "eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjoibWVzb3MtbWFzdGVyIiwic3ViIjoiYWxpY2UiLCJuYmYiOjE3MDAwMDAwMDAsImV4cCI6MTkwMDAwMDAwMH0."
    "2tV4b4ZrsCOqByuUxVewQ2fKQ7nL89TNZ9zeZbyicBs3Bc9Gf04rpoxbo5F_9TB04B_wt6gdekXoRx5nn434AQ";
static const char EXPIRED_TOKEN[] =
    "eyJhbGciOiJFZERTQSIsImtpZCI6ImVkLTEifQ."
    "eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjoibWVzb3MtbWFzdGVyIiwic3ViIjoiYWxpY2UiLCJuYmYiOjE3MDAwMDAwMDAsImV4cCI6MTc1MDAwMDAwMH0."
    "X11Of9dlyq0nJGxVoTVGIokbAbnjXJMWwUTIsIB6nsYN1dR4EseVMESzI8OlDbzKNfAsU5AjxdxqR1LIjbpfBA";

static std::string tempFile(const char *tag, const std::string &content) {
  std::string path = std::string("/tmp/mesos-auth-module-") + tag + "-XXXXXX";
  int fd = mkstemp(&path[0]);
  CHECK(fd >= 0);
  if (fd >= 0) {
    CHECK(write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    close(fd);
  }
  return path;
}

static void test_oauthbearer() {
  const std::string cfg = tempFile("bearer", BEARER_CONFIG), jwks = tempFile("jwks", BEARER_JWKS);
  const std::string good = tempFile("token", std::string(GOOD_TOKEN) + "\n"),
                    expired = tempFile("token", EXPIRED_TOKEN);

  // Parameters: the pair goes together; the client takes one token source.
  {
    Config c;
    CHECK(parseParameters({{"bearer_config", cfg}}, &c) ==
          std::optional<std::string>("parameters 'bearer_config' and 'bearer_jwks' go together"));
    Config d;
    CHECK(!parseParameters({{"bearer_config", cfg}, {"bearer_jwks", jwks}, {"reload_interval_ms", "100"}}, &d));
    CHECK(d.bearerJwksPath == jwks);
    OAuthBearerClientConfig e;
    CHECK(parseOAuthBearerClientParameters({{"principal", "alice"}}, &e));
    OAuthBearerClientConfig f;
    CHECK(parseOAuthBearerClientParameters({{"token_file", good}, {"token_command", "cat x"}}, &f));
    OAuthBearerClientConfig g;
    CHECK(parseOAuthBearerClientParameters({{"token_file", good}, {"tokenfile", good}}, &g) ==
          std::optional<std::string>("unknown parameter 'tokenfile'"));
    OAuthBearerClientConfig h;
    CHECK(!parseOAuthBearerClientParameters({{"token_file", good}, {"principal", "alice"}}, &h));
    CHECK(h.tokenFile == good && h.principal == "alice");
  }

  Config bearerOnly;
  bearerOnly.bearerConfigPath = cfg;
  bearerOnly.bearerJwksPath = jwks;
  std::shared_ptr<Store> only;
  CHECK(!Store::open(bearerOnly, nullptr, &only));
  std::vector<std::pair<std::string, std::string>> mesosCreds{{"agent", "0123456789abcdef0123"}};
  std::shared_ptr<Store> both;
  CHECK(!Store::open(bearerOnly, &mesosCreds, &both));
  std::shared_ptr<Store> cramOnly;
  CHECK(!Store::open(Config{}, &mesosCreds, &cramOnly));
  if (!only || !both || !cramOnly) return;

  // What each master offers.
  auto offered = [](const std::shared_ptr<Store> &store) {
    std::unique_ptr<Session> s;
    CHECK(!Session::start(store, 1000, "", &s));
    std::vector<Outgoing> out = s ? s->drain() : std::vector<Outgoing>{};
    return out.size() == 1 ? out[0].mechanisms : std::vector<std::string>{};
  };
  CHECK(offered(only) == std::vector<std::string>{"OAUTHBEARER"});
  CHECK((offered(both) == std::vector<std::string>{"OAUTHBEARER", "CRAM-MD5"}));
  CHECK(offered(cramOnly) == std::vector<std::string>{"CRAM-MD5"});

  // A token session against each master that offers OAUTHBEARER.
  for (const auto *store : {&only, &both}) {
    std::unique_ptr<Session> s;
    CHECK(!Session::start(*store, 1000, "agent@10.0.0.2:5051", &s));
    std::unique_ptr<ClientSession> c;
    CHECK(!ClientSession::startOAuthBearer("alice", good, "", &c));
    if (s && c) CHECK(exchange(s.get(), c.get()) == std::make_pair(Outcome::Completed, Outcome::Completed));
    CHECK(s && s->principal() == std::string("alice") && s->mechanism() == "OAUTHBEARER");
  }
  // The token from a command, as `token_command` runs it.
  {
    std::unique_ptr<Session> s;
    CHECK(!Session::start(both, 1000, "", &s));
    std::unique_ptr<ClientSession> c;
    CHECK(!ClientSession::startOAuthBearer("alice", "", "cat '" + good + "'", &c));
    if (s && c) CHECK(exchange(s.get(), c.get()) == std::make_pair(Outcome::Completed, Outcome::Completed));
  }
  // CRAM-MD5 still works beside it, byte for byte the same exchange.
  {
    std::unique_ptr<Session> s;
    CHECK(!Session::start(both, 1000, "", &s));
    std::unique_ptr<ClientSession> c;
    CHECK(!ClientSession::start("agent", "0123456789abcdef0123", &c));
    if (s && c) CHECK(exchange(s.get(), c.get()) == std::make_pair(Outcome::Completed, Outcome::Completed));
    CHECK(s && s->principal() == std::string("agent") && s->mechanism() == "CRAM-MD5");
  }
  // An expired token, and a token for someone else: refused (final).
  for (const char *principal : {"alice", "mallory"}) {
    std::unique_ptr<Session> s;
    CHECK(!Session::start(both, 1000, "", &s));
    std::unique_ptr<ClientSession> c;
    CHECK(!ClientSession::startOAuthBearer(principal, principal[0] == 'a' ? expired : good, "", &c));
    if (s && c) CHECK(exchange(s.get(), c.get()) == std::make_pair(Outcome::Failed, Outcome::Failed));
  }
  // A token client facing a CRAM-MD5-only master: no Start, no fallback.
  {
    std::unique_ptr<Session> s;
    CHECK(!Session::start(cramOnly, 1000, "", &s));
    std::unique_ptr<ClientSession> c;
    CHECK(!ClientSession::startOAuthBearer("alice", good, "", &c));
    if (s && c) {
      std::vector<Outgoing> out = s->drain();
      CHECK(out.size() == 1);
      if (out.size() == 1) c->onMechanisms(out[0].mechanisms);
      CHECK(c->drain().empty());
      // Final (the future `false`): the master will not offer it next time.
      CHECK(c->outcome() == Outcome::Failed && c->error().find("OAUTHBEARER") == 0);
      CHECK(s->outcome() == Outcome::Pending);
    }
  }
  // No token to read: an error naming the file, not a session.
  {
    std::unique_ptr<ClientSession> c;
    auto err = ClientSession::startOAuthBearer("alice", "/nonexistent/token", "", &c);
    CHECK(err && err->find("/nonexistent/token") != std::string::npos && !c);
    auto err2 = ClientSession::startOAuthBearer("alice", "", "echo 'not a token!'; exit 3", &c);
    CHECK(err2 && !c);
  }
  // The module's token source keeps a token until 60 s before its `exp`:
  // the file broken after the first attempt does not matter to the second.
  // A token past its `exp` is read again every attempt, so there it does.
  {
    OAuthBearerClientConfig bad;
    std::unique_ptr<mesos_auth_token_source, FreeTokenSource> none;
    CHECK(makeTokenSource(bad, &none) && !none);
    for (const char *token : {GOOD_TOKEN, EXPIRED_TOKEN}) {
      OAuthBearerClientConfig config;
      config.tokenFile = tempFile("token", std::string(token) + "\n");
      std::unique_ptr<mesos_auth_token_source, FreeTokenSource> source;
      CHECK(!makeTokenSource(config, &source));
      std::unique_ptr<ClientSession> c;
      CHECK(source && !ClientSession::startOAuthBearerCached("alice", source.get(), &c));
      FILE *f = std::fopen(config.tokenFile.c_str(), "w");
      if (f) std::fclose(f);  // now empty: no usable token
      std::unique_ptr<ClientSession> d;
      auto err = source ? ClientSession::startOAuthBearerCached("alice", source.get(), &d) : std::nullopt;
      if (token == GOOD_TOKEN) {
        CHECK(!err && d);
        std::unique_ptr<Session> s;
        CHECK(!Session::start(both, 1000, "", &s));
        if (s && d) CHECK(exchange(s.get(), d.get()) == std::make_pair(Outcome::Completed, Outcome::Completed));
      } else {
        CHECK(err && !d && err->find(config.tokenFile) != std::string::npos);
      }
      unlink(config.tokenFile.c_str());
    }
  }
  // Key rotation (`reload_interval_ms` calls this): the issuer's new JWKS
  // no longer has the key, so the token is refused; a broken JWKS is
  // refused and the keys in place keep serving.
  {
    FILE *f = std::fopen(jwks.c_str(), "w");
    CHECK(f != nullptr);
    if (f) {
      std::fputs("{\"keys\": [", f);
      std::fclose(f);
    }
    uint64_t generation = 0;
    CHECK(both->reloadJwks(&generation));
    std::string rotated = BEARER_JWKS;
    rotated.replace(rotated.find("ed-1"), 4, "ed-2");
    f = std::fopen(jwks.c_str(), "w");
    if (f) {
      std::fputs(rotated.c_str(), f);
      std::fclose(f);
    }
    CHECK(!both->reloadJwks(&generation) && generation == 1);
    std::unique_ptr<Session> s;
    CHECK(!Session::start(both, 1000, "", &s));
    std::unique_ptr<ClientSession> c;
    CHECK(!ClientSession::startOAuthBearer("alice", good, "", &c));
    if (s && c) CHECK(exchange(s.get(), c.get()) == std::make_pair(Outcome::Failed, Outcome::Failed));
    CHECK(cramOnly->reloadJwks(&generation) == std::optional<std::string>("no bearer tokens configured"));
  }
  for (const auto &p : {cfg, jwks, good, expired}) unlink(p.c_str());
}

// The `audit_*` parameters, as both modules read them: one JSON line per
// authentication (besides the glog callback) and one per decision in the
// `audit_log` file.
static std::atomic<int> glogged{0};
static void fakeGlog(void *, const char *, size_t) { glogged++; }

static size_t fileLines(const std::string &path, const std::string &needle) {
  FILE *f = std::fopen(path.c_str(), "r");
  if (!f) return 0;
  char line[8192];
  size_t n = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::strstr(line, needle.c_str())) n++;
  std::fclose(f);
  return n;
}

static void test_audit_log() {
  Config bad;
  CHECK(parseParameters({{"audit_log", ""}}, &bad));
  CHECK(parseParameters({{"audit_fsync", "sometimes"}}, &bad));
  CHECK(parseParameters({{"audit_syslog", "yes"}}, &bad));
  CHECK(parseParameters({{"audit_log_keep", "-1"}}, &bad));
  CHECK(parseParameters({{"audit_log", "/a"}, {"audit_log", "/b"}}, &bad));
  AclConfig badAcl;
  CHECK(parseAclParameters({{"acls", "/x"}, {"audit_log_max_bytes", "1k"}}, &badAcl));

  char dir[] = "/tmp/mesos-auth-module-audit-XXXXXX";
  CHECK(mkdtemp(dir) != nullptr);
  const std::string authLog = std::string(dir) + "/auth.log";
  const std::string aclLog = std::string(dir) + "/acl.log";
  const std::string aclPath = std::string(dir) + "/acls.json";

  // The authenticator: glog callback teed with the file, as initialize() does.
  Config config;
  CHECK(!parseParameters({{"audit_log", authLog}, {"audit_log_max_bytes", "1000000"}, {"audit_log_keep", "2"},
                          {"audit_fsync", "always"}, {"audit_syslog", "false"}},
                         &config));
  CHECK(config.audit.logPath == authLog && config.audit.keep == 2 && !config.audit.syslog);
  {
    const mesos_auth_audit *glog = nullptr;
    CHECK(mesos_auth_audit_new(&fakeGlog, nullptr, &glog) == MESOS_AUTH_RESULT_OK);
    AuditSinks::Handle audit;
    auto err = AuditSinks::open(config.audit, glog, &audit);
    mesos_auth_audit_free(glog);
    CHECK(!err && audit);
    std::vector<std::pair<std::string, std::string>> creds{{"agent", "secret-agent-one"}};
    std::shared_ptr<Store> store;
    CHECK(!Store::open(config, &creds, &store, audit.get()));
    if (store) {
      for (const char *secret : {"secret-agent-one", "wrong", "secret-agent-one"}) {
        std::unique_ptr<Session> s;
        CHECK(!Session::start(store, 1000, "10.0.0.1:5051", &s));
        Client c = client("agent", secret);
        run(s.get(), c.get());
      }
    }
    CHECK(mesos_auth_audit_flush(audit.get(), 5000) == MESOS_AUTH_RESULT_OK);
    CHECK(glogged == 3);
    CHECK(fileLines(authLog, "\"component\":\"sasl\"") == 3);
    CHECK(fileLines(authLog, "\"result\":\"completed\"") == 2);
    CHECK(fileLines(authLog, "\"auth_method\":\"cram-md5\"") == 3);
    CHECK(fileLines(authLog, "") == 3);
  }

  // The authorizer: one line per decision.
  FILE *f = std::fopen(aclPath.c_str(), "w");
  CHECK(f != nullptr);
  if (f) {
    std::fputs(ACLS, f);
    std::fclose(f);
  }
  AclConfig acl;
  CHECK(!parseAclParameters({{"acls", aclPath}, {"audit_log", aclLog}, {"audit_fsync", "250"}}, &acl));
  CHECK(acl.audit.fsync == MESOS_AUTH_AUDIT_FSYNC_INTERVAL && acl.audit.fsyncIntervalMs == 250);
  {
    std::shared_ptr<Policy> policy;
    CHECK(!Policy::open(acl, &policy));
    if (policy) {
      ObjectFields task;
      task.taskInfo = true;
      task.taskInfoCommandUser = "alice";
      CHECK(ask(policy, "fw", "RUN_TASK", task) == std::optional<bool>(true));
      CHECK(ask(policy, "other", "RUN_TASK", task) == std::optional<bool>(false));
      CHECK(ask(policy, "fw", "VIEW_FLAGS", std::nullopt) == std::optional<bool>(true));
    }
    // Freeing the policy frees the sink, which drains its queue first.
  }
  CHECK(fileLines(aclLog, "\"component\":\"acl\"") == 3);
  CHECK(fileLines(aclLog, "\"policy_hash\":\"") == 3);
  CHECK(fileLines(aclLog, "\"allowed\":false") == 1);
  struct stat st{};
  CHECK(stat(aclLog.c_str(), &st) == 0 && (st.st_mode & 077) == 0);

  // An unsafe audit_log is refused with its name.
  CHECK(chmod(aclLog.c_str(), 0666) == 0);
  std::shared_ptr<Policy> refused;
  auto err = Policy::open(acl, &refused);
  CHECK(err && err->find("audit_log") != std::string::npos && !refused);

  unlink(authLog.c_str());
  unlink(aclLog.c_str());
  unlink(aclPath.c_str());
  CHECK(rmdir(dir) == 0);
}

// GSSAPI in the authenticator module's parameters and store, and the GSSAPI
// authenticatee's parameters (the exchange with real tickets runs in the
// real-Mesos harness, agent_gssapi_in_master).
static void test_gssapi() {
  const std::string rules = tempFile("rules", "RULE:[2:$1@$0](agent@MESOS\\.TEST)s/@.*//\n");
  const std::string keytab = tempFile("keytab", "");  // empty: no key, but readable
  {
    Config a;
    CHECK(parseParameters({{"gssapi_keytab", keytab}}, &a) ==
          std::optional<std::string>("parameters 'gssapi_keytab' and 'gssapi_rules' go together"));
    Config b;
    CHECK(parseParameters({{"gssapi_service", "mesos@m1"}}, &b) ==
          std::optional<std::string>(
              "parameters 'gssapi_service' and 'gssapi_realm' need 'gssapi_keytab' and 'gssapi_rules'"));
    Config c;
    CHECK(parseParameters({{"gssapi_keytab", ""}, {"gssapi_rules", rules}}, &c) ==
          std::optional<std::string>("parameter 'gssapi_keytab' is empty"));
    Config d;
    CHECK(!parseParameters({{"gssapi_keytab", keytab}, {"gssapi_rules", rules}, {"gssapi_realm", "MESOS.TEST"}}, &d));
    CHECK(d.gssapiKeytab == keytab && d.gssapiRulesPath == rules && d.gssapiService == "mesos" &&
          d.gssapiRealm == "MESOS.TEST");
  }
  // A missing keytab, bad rules: the store is refused (the master does not
  // start), saying which file and where.
  {
    Config missing;
    missing.gssapiKeytab = "/nonexistent/mesos.keytab";
    missing.gssapiRulesPath = rules;
    std::shared_ptr<Store> st;
    auto e = Store::open(missing, nullptr, &st);
    CHECK(e && e->find("cannot read the keytab '/nonexistent/mesos.keytab'") != std::string::npos && !st);
    Config badRules;
    badRules.gssapiKeytab = keytab;
    badRules.gssapiRulesPath = tempFile("rules", "DEFAULT\nRULE:[0:$1](a)\n");
    e = Store::open(badRules, nullptr, &st);
    CHECK(e && e->find("rule 2 at 2:7") != std::string::npos && !st);
    unlink(badRules.gssapiRulesPath->c_str());
  }
  // GSSAPI offered first; alone without credentials.
  {
    Config g;
    g.gssapiKeytab = keytab;
    g.gssapiRulesPath = rules;
    std::vector<std::pair<std::string, std::string>> mesosCreds{{"agent", "0123456789abcdef0123"}};
    std::shared_ptr<Store> only, both;
    CHECK(!Store::open(g, nullptr, &only));
    CHECK(!Store::open(g, &mesosCreds, &both));
    auto offered = [](const std::shared_ptr<Store> &store) {
      std::unique_ptr<Session> s;
      CHECK(store && !Session::start(store, 1000, "", &s));
      std::vector<Outgoing> out = s ? s->drain() : std::vector<Outgoing>{};
      return out.size() == 1 ? out[0].mechanisms : std::vector<std::string>{};
    };
    CHECK(offered(only) == std::vector<std::string>{"GSSAPI"});
    CHECK((offered(both) == std::vector<std::string>{"GSSAPI", "CRAM-MD5"}));
  }
  // The authenticatee's parameters.
  {
    GssapiClientConfig a;
    CHECK(!parseGssapiClientParameters({{"keytab", keytab}, {"client_principal", "agent/h@MESOS.TEST"},
                                        {"master_host", "m1.example.org"}, {"principal", "agent"}},
                                       &a));
    CHECK(a.keytab == keytab && a.clientPrincipal == "agent/h@MESOS.TEST" && a.masterHost == "m1.example.org" &&
          a.service == "mesos" && a.principal == "agent" && a.ccache.empty());
    GssapiClientConfig b;
    CHECK(parseGssapiClientParameters({{"service", "mesos/m1@MESOS.TEST"}, {"master_host", "m1"}}, &b) ==
          std::optional<std::string>(
              "parameter 'master_host' goes with a bare 'service' name (`mesos`), not 'mesos/m1@MESOS.TEST'"));
    GssapiClientConfig c;
    CHECK(parseGssapiClientParameters({{"keytab_file", keytab}}, &c) ==
          std::optional<std::string>("unknown parameter 'keytab_file'"));
    GssapiClientConfig d;
    CHECK(parseGssapiClientParameters({{"ccache", ""}}, &d) == std::optional<std::string>("parameter 'ccache' is empty"));
  }
  // A GSSAPI client facing a CRAM-MD5-only master: nothing sent, final
  // (`false`), saying why. GSSAPI offered but no ticket: an error (Mesos
  // retries: a ticket may come).
  {
    std::unique_ptr<ClientSession> c;
    CHECK(!ClientSession::startGssapi("agent", "mesos", "localhost", "", &c));
    if (c) {
      c->onMechanisms({"CRAM-MD5"});
      CHECK(c->drain().empty());
      CHECK(c->outcome() == Outcome::Failed &&
            c->error().find("does not offer GSSAPI, and this client will not fall back") != std::string::npos);
    }
    std::unique_ptr<ClientSession> d;
    CHECK(!ClientSession::startGssapi("agent", "mesos", "localhost", "", &d));
    if (d) {
      d->onMechanisms({"GSSAPI", "CRAM-MD5"});
      CHECK(d->drain().empty());
      CHECK(d->outcome() == Outcome::Error && d->error().find("kerberos: ") != std::string::npos);
    }
  }
  unlink(rules.c_str());
  unlink(keytab.c_str());
}

int main() {
  // No realm: MIT Kerberos must not read the machine's own.
  setenv("KRB5_CONFIG", "/dev/null", 1);
  setenv("KRB5CCNAME", "FILE:/nonexistent/mesos-auth-test-ccache", 1);
  test_parameters();
  test_throttle_and_reload();
  test_acl();
  test_audit_log();
  std::shared_ptr<Store> store;
  test_stores(&store);
  if (store) test_sessions(store);
  if (store) test_authenticatee(store);
  test_oauthbearer();
  test_gssapi();
  if (failures) {
    std::fprintf(stderr, "%d check(s) failed\n", failures.load());
    return 1;
  }
  std::printf("c++ module host: all checks passed\n");
  return 0;
}
