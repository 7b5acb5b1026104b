// A C++17 host that drives ffi/mesos/http_adapter.hpp exactly as the Mesos
// HttpAuthenticator module does (parameters, one shared authenticator,
// requests from several threads while the credentials and rate limits
// reload), without Mesos.
#include "../../mesos/http_adapter.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
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
// RFC 4648 base64, enough for test headers.
std::string base64(const std::string &in) {
  static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  if (in.size() - i == 1) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
  } else if (in.size() - i == 2) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out;
}

std::string basic(const std::string &user, const std::string &secret) { return "Basic " + base64(user + ":" + secret); }

// A private temporary file holding `content`, replaced atomically on later
// writes (as an operator's rotation does).
struct TempFile {
  std::string path;
  explicit TempFile(const std::string &content) {
    char p[] = "/tmp/mesos-auth-http-XXXXXX";
    int fd = mkstemp(p);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    path = p;
    replace(content);
  }
  ~TempFile() { unlink(path.c_str()); }
  void replace(const std::string &content) const {
    std::string tmp = path + ".new";
    FILE *f = std::fopen(tmp.c_str(), "w");
    CHECK(f != nullptr);
    if (!f) return;
    std::fputs(content.c_str(), f);
    std::fclose(f);
    chmod(tmp.c_str(), 0600);
    CHECK(std::rename(tmp.c_str(), path.c_str()) == 0);
  }
};

HttpRequest get(const std::string &path, std::optional<std::string> authorization, const std::string &peer) {
  HttpRequest r;
  r.method = "GET";
  r.path = path;
  r.authorization = std::move(authorization);
  r.peer = peer;
  r.userAgent = "module-host";
  return r;
}
}  // namespace

static void test_parameters() {
  HttpConfig c;
  CHECK(!parseHttpParameters({{"credentials", "/x"}, {"realm", "mesos-master"}, {"rate_limits", "/y"}}, &c));
  CHECK(c.realm == "mesos-master" && c.rateLimitsPath && *c.rateLimitsPath == "/y");
  HttpConfig d;
  auto e = parseHttpParameters({{"realm", "x"}}, &d);
  CHECK(e && e->find("no scheme") != std::string::npos);
  e = parseHttpParameters({{"bearer_jwks", "/j"}}, &d);
  CHECK(e && e->find("go together") != std::string::npos);
  HttpConfig bearerOnly;
  CHECK(!parseHttpParameters({{"bearer_jwks", "/j"}, {"bearer_config", "/c"}}, &bearerOnly));
  e = parseHttpParameters({{"credentials", "/x"}, {"realm", "a\"b"}}, &d);
  CHECK(e && e->find("realm") != std::string::npos);
  e = parseHttpParameters({{"credentials", "/x"}, {"credentials", "/y"}}, &d);
  CHECK(e && e->find("given twice") != std::string::npos);
  e = parseHttpParameters({{"credentials", "/x"}, {"rate_limit", "/y"}}, &d);  // a typo
  CHECK(e && e->find("unknown parameter 'rate_limit'") != std::string::npos);
  HttpConfig f;
  e = parseHttpParameters({{"credentials", "/x"}, {"throttle_base_ms", "10"}, {"throttle_max_ms", "5"}}, &f);
  CHECK(e && e->find("below") != std::string::npos);
}

static void test_requests() {
  TempFile creds(R"({"credentials": [{"principal": "ops", "secret": "ops-secret"},
                                     {"principal": "colon", "secret": "pa:ss:word"},
                                     {"principal": "dev", "secret": "dev-secret"}]})");
  TempFile limits(R"({"limits": [{"principal": "dev", "qps": 1}]})");
  HttpConfig config;
  CHECK(!parseHttpParameters({{"credentials", creds.path},
                              {"rate_limits", limits.path},
                              {"realm", "mesos-master"},
                              {"throttle_free_failures", "1"},
                              {"throttle_base_ms", "60000"},
                              {"throttle_max_ms", "60000"}},
                             &config));
  std::shared_ptr<HttpAuth> auth;
  auto err = HttpAuth::open(config, &auth);
  CHECK(!err);
  if (err) std::fprintf(stderr, "open: %s\n", err->c_str());
  if (!auth) return;
  std::string error;

  HttpResult ok = auth->authenticate(get("/master/state", basic("ops", "ops-secret"), "10.0.0.1"), &error);
  CHECK(error.empty() && ok.status == 0 && ok.principal == "ops" && ok.challenges.empty());
  // Split at the first ':' (Mesos splits at every one and refuses this).
  HttpResult colon = auth->authenticate(get("/master/state", basic("colon", "pa:ss:word"), "10.0.0.1"), &error);
  CHECK(colon.status == 0 && colon.principal == "colon");

  // Every failure: 401 and the Basic challenge with the configured realm.
  for (auto header : {std::optional<std::string>(), std::optional<std::string>("Basic !!!"),
                      std::optional<std::string>(basic("nobody", "x"))}) {
    HttpResult r = auth->authenticate(get("/master/state", header, "10.0.0.2"), &error);
    CHECK(r.status == 401 && r.principal.empty());
    CHECK(!r.challenges.empty() && r.challenges[0] == "Basic realm=\"mesos-master\"");
  }

  // The failure throttle, per peer and per principal: one free failure,
  // then the right secret waits (429 with Retry-After, the password not
  // checked), from that address and for that principal; another principal
  // from another address does not.
  CHECK(auth->authenticate(get("/x", basic("colon", "guess"), "10.0.0.3"), &error).status == 401);
  CHECK(auth->authenticate(get("/x", basic("colon", "guess"), "10.0.0.3"), &error).status == 401);
  HttpResult throttled = auth->authenticate(get("/x", basic("colon", "pa:ss:word"), "10.0.0.3"), &error);
  CHECK(throttled.status == 429 && throttled.retryAfterSecs >= 1);
  CHECK(auth->authenticate(get("/x", basic("colon", "pa:ss:word"), "10.0.0.4"), &error).status == 429);
  CHECK(auth->authenticate(get("/x", basic("ops", "ops-secret"), "10.0.0.3"), &error).status == 429);
  CHECK(auth->authenticate(get("/x", basic("ops", "ops-secret"), "10.0.0.4"), &error).status == 0);

  // The rate limit: dev gets its one request a second, then 429 with a
  // Retry-After of at least a second; ops is not limited.
  int admitted = 0, limited = 0;
  uint64_t retry = 0;
  for (int i = 0; i < 5; i++) {
    HttpResult r = auth->authenticate(get("/master/flags", basic("dev", "dev-secret"), "10.0.0.5"), &error);
    if (r.status == 0) admitted++;
    if (r.status == 429) {
      limited++;
      retry = r.retryAfterSecs;
    }
  }
  CHECK(admitted >= 1 && admitted <= 2 && limited == 5 - admitted && retry >= 1);
  for (int i = 0; i < 5; i++)
    CHECK(auth->authenticate(get("/master/flags", basic("ops", "ops-secret"), "10.0.0.6"), &error).status == 0);

  // Several threads share one authenticator while its files reload. A fixed
  // number of requests each (not "until the reloads end"): under valgrind's
  // one-thread-at-a-time scheduler, spinning readers could starve the
  // reloading thread.
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      std::string e;
      const std::string peer = "10.1.0." + std::to_string(t);
      for (int i = 0; i < 100; i++) {
        HttpResult r = auth->authenticate(get("/master/state", basic("ops", "ops-secret"), peer), &e);
        HttpResult n = auth->authenticate(get("/master/state", basic("nobody", "nope"), "10.2.0.1"), &e);
        if (r.status != 0 || n.status == 0 || !e.empty()) bad++;
      }
    });
  }
  uint64_t generation = 0;
  for (int i = 0; i < 20; i++) {
    creds.replace(R"({"credentials": [{"principal": "ops", "secret": "ops-secret"}, {"principal": "n)" +
                  std::to_string(i) + R"(", "secret": "s"}]})");
    CHECK(!auth->reloadCredentials(&generation));
  }
  for (auto &t : threads) t.join();
  CHECK(bad == 0 && generation == 20);

  // A rotated secret: the old one fails, the new one works.
  creds.replace(R"({"credentials": [{"principal": "ops", "secret": "rotated"}]})");
  CHECK(!auth->reloadCredentials(&generation));
  CHECK(auth->authenticate(get("/x", basic("ops", "rotated"), "10.0.0.7"), &error).status == 0);
  CHECK(auth->authenticate(get("/x", basic("ops", "ops-secret"), "10.0.0.8"), &error).status == 401);
  // A broken file is refused and the last good store keeps serving.
  creds.replace(R"({"credentials": [{"principal": "ops"}]})");
  CHECK(auth->reloadCredentials(&generation).has_value());
  CHECK(auth->authenticate(get("/x", basic("ops", "rotated"), "10.0.0.9"), &error).status == 0);

  // Lifting the limit by reload: dev is admitted again at once.
  limits.replace(R"({"limits": [{"principal": "ops", "qps": 100}]})");
  CHECK(!auth->reloadRateLimits(&generation));
  creds.replace(R"({"credentials": [{"principal": "dev", "secret": "dev-secret"}]})");
  CHECK(!auth->reloadCredentials(&generation));
  for (int i = 0; i < 5; i++)
    CHECK(auth->authenticate(get("/master/flags", basic("dev", "dev-secret"), "10.0.0.10"), &error).status == 0);
}

// With `audit_log`, one JSON line per request, none holding a secret.
static void test_audit_log() {
  TempFile creds(R"({"credentials": [{"principal": "ops", "secret": "ops-secret"}]})");
  char dir[] = "/tmp/mesos-auth-http-audit-XXXXXX";
  CHECK(mkdtemp(dir) != nullptr);
  const std::string log = std::string(dir) + "/audit.log";
  HttpConfig config;
  CHECK(!parseHttpParameters({{"credentials", creds.path}, {"audit_log", log}}, &config));
  AuditSinks::Handle audit;
  CHECK(!AuditSinks::open(config.audit, nullptr, &audit));
  std::shared_ptr<HttpAuth> auth;
  CHECK(!HttpAuth::open(config, &auth, audit.get()));
  if (!auth) return;
  std::string error;
  CHECK(auth->authenticate(get("/master/state", basic("ops", "ops-secret"), "10.0.0.1"), &error).status == 0);
  CHECK(auth->authenticate(get("/master/state?x=1", basic("ops", "wrong-secret"), "10.0.0.1"), &error).status ==
        401);
  CHECK(auth->authenticate(get("/master/state", std::nullopt, "10.0.0.2"), &error).status == 401);
  CHECK(mesos_auth_audit_flush(audit.get(), 5000) == MESOS_AUTH_RESULT_OK);
  std::string text;
  if (FILE *f = std::fopen(log.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
  }
  size_t lines = 0;
  for (char c : text) lines += c == '\n';
  CHECK(lines == 3);
  CHECK(text.find("\"component\":\"http\"") != std::string::npos);
  CHECK(text.find("\"outcome\":\"authenticated\"") != std::string::npos);
  CHECK(text.find("\"user_agent\":\"module-host\"") != std::string::npos);
  CHECK(text.find("secret") == std::string::npos && text.find("x=1") == std::string::npos);
  auth.reset();
  audit.reset();
  unlink(log.c_str());
  rmdir(dir);
}

int main() {
  test_parameters();
  test_requests();
  test_audit_log();
  if (failures) {
    std::fprintf(stderr, "%d check(s) failed\n", failures.load());
    return 1;
  }
  std::printf("http-module-host: all checks passed\n");
  return 0;
}
