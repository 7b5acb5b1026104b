// C++17 test of the component handles, the way a Mesos module uses them:
// RAII owners over the C handles, a noexcept audit callback, a CRAM-MD5
// exchange, a TLS mapping, and std::threads sharing one store and one mapper.
#include "mesos_auth.h"

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

static std::atomic<int> failures{0};
#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                                   \
    }                                                                               \
  } while (0)

namespace {
struct CredsFree {
  void operator()(const mesos_auth_credentials *p) const noexcept { mesos_auth_credentials_free(p); }
};
struct MapperFree {
  void operator()(const mesos_auth_tls_mapper *p) const noexcept { mesos_auth_tls_mapper_free(p); }
};
struct AuditFree {
  void operator()(const mesos_auth_audit *p) const noexcept { mesos_auth_audit_free(p); }
};
struct ServerFree {
  void operator()(mesos_auth_authenticator *p) const noexcept { mesos_auth_authenticator_free(p); }
};
struct ClientFree {
  void operator()(mesos_auth_authenticatee *p) const noexcept { mesos_auth_authenticatee_free(p); }
};
using Creds = std::unique_ptr<const mesos_auth_credentials, CredsFree>;
using MapperPtr = std::unique_ptr<const mesos_auth_tls_mapper, MapperFree>;
using AuditPtr = std::unique_ptr<const mesos_auth_audit, AuditFree>;
using Server = std::unique_ptr<mesos_auth_authenticator, ServerFree>;
using Client = std::unique_ptr<mesos_auth_authenticatee, ClientFree>;

std::atomic<int> events{0};
// Must not throw: an exception crossing the Rust frames would abort.
extern "C" void on_audit(void *userdata, const char *json, size_t len) noexcept {
  static_cast<std::atomic<int> *>(userdata)->fetch_add(1);
  if (len == 0 || json[0] != '{') failures++;
}

// JSON, which FORMAT_AUTO reads (the text format only when asked for).
const std::string kCreds = R"({"credentials": [
  {"principal": "fw1", "secret": "0123456789abcdef-fw1"},
  {"principal": "fw2", "secret": "0123456789abcdef-fw2"}
]})";
const std::string kRules = R"(["RULE:^CN=([^,]+),OU=agents,O=Acme$/agent:$1/L"])";

bool authenticate(const mesos_auth_credentials *creds, const std::string &principal, const std::string &secret,
                  std::string *who) {
  mesos_auth_authenticator *s = nullptr;
  mesos_auth_authenticatee *c = nullptr;
  if (mesos_auth_authenticator_new(creds, 0, nullptr, 0, nullptr, &s) != MESOS_AUTH_RESULT_OK) return false;
  Server server(s);
  if (mesos_auth_authenticatee_new(principal.data(), principal.size(),
                                   reinterpret_cast<const uint8_t *>(secret.data()), secret.size(), nullptr,
                                   &c) != MESOS_AUTH_RESULT_OK)
    return false;
  Client client(c);
  for (bool moved = true; moved;) {
    moved = false;
    mesos_auth_message m{};
    while (mesos_auth_authenticator_poll_output(s, &m) == MESOS_AUTH_RESULT_OK &&
           m.kind != MESOS_AUTH_MESSAGE_KIND_NONE) {
      mesos_auth_authenticatee_feed(c, &m);
      moved = true;
    }
    while (mesos_auth_authenticatee_poll_output(c, &m) == MESOS_AUTH_RESULT_OK &&
           m.kind != MESOS_AUTH_MESSAGE_KIND_NONE) {
      mesos_auth_authenticator_feed(s, &m);
      moved = true;
    }
  }
  uint32_t st = 0;
  if (mesos_auth_authenticator_status(s, &st) != MESOS_AUTH_RESULT_OK || st != MESOS_AUTH_STATUS_COMPLETED)
    return false;
  mesos_auth_str p{};
  if (mesos_auth_authenticator_principal(s, &p) != MESOS_AUTH_RESULT_OK) return false;
  who->assign(p.data, p.len);
  return true;
}

std::string map(const mesos_auth_tls_mapper *m, const std::vector<uint8_t> &der, mesos_auth_result *r) {
  char buf[257];
  size_t n = 0;
  *r = mesos_auth_tls_mapper_map_der(m, der.data(), der.size(), nullptr, buf, sizeof buf, &n);
  return *r == MESOS_AUTH_RESULT_OK ? std::string(buf, n) : std::string();
}
}  // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s leaf.der\n", argv[0]);
    return 2;
  }
  std::ifstream f(argv[1], std::ios::binary);
  std::vector<uint8_t> der((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  CHECK(!der.empty());

  const mesos_auth_audit *a = nullptr;
  CHECK(mesos_auth_audit_new(on_audit, &events, &a) == MESOS_AUTH_RESULT_OK);
  AuditPtr audit(a);
  const mesos_auth_credentials *c = nullptr;
  CHECK(mesos_auth_credentials_load_buffer(reinterpret_cast<const uint8_t *>(kCreds.data()), kCreds.size(),
                                           MESOS_AUTH_CREDENTIALS_FORMAT_AUTO, 0, audit.get(),
                                           &c) == MESOS_AUTH_RESULT_OK);
  Creds creds(c);
  const mesos_auth_tls_mapper *m = nullptr;
  CHECK(mesos_auth_tls_mapper_new(kRules.data(), kRules.size(), &m) == MESOS_AUTH_RESULT_OK);
  MapperPtr mapper(m);

  std::string who;
  CHECK(authenticate(creds.get(), "fw1", "0123456789abcdef-fw1", &who) && who == "fw1");
  CHECK(!authenticate(creds.get(), "fw1", "0123456789abcdef-fw2", &who));
  CHECK(!authenticate(creds.get(), "nobody", "0123456789abcdef-fw2", &who));
  mesos_auth_result r;
  CHECK(map(mapper.get(), der, &r) == "agent:alice" && r == MESOS_AUTH_RESULT_OK);

  // A JSON reload while threads authenticate and map.
  const std::string json = R"({"credentials": [{"principal": "fw1", "secret": "0123456789abcdef-fw1"}]})";
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; i++) {
        std::string w;
        if (!authenticate(creds.get(), "fw1", "0123456789abcdef-fw1", &w) || w != "fw1") failures++;
        mesos_auth_result rr;
        if (map(mapper.get(), der, &rr) != "agent:alice") failures++;
        if (t == 0) {
          uint64_t gen = 0;
          if (mesos_auth_credentials_reload_buffer(creds.get(), reinterpret_cast<const uint8_t *>(json.data()),
                                                   json.size(), &gen) != MESOS_AUTH_RESULT_OK)
            failures++;
        }
      }
    });
  }
  for (auto &t : threads) t.join();
  size_t n = 0;
  CHECK(mesos_auth_credentials_count(creds.get(), &n) == MESOS_AUTH_RESULT_OK && n == 1);
  // Wrong handle kind through a C++ cast.
  CHECK(mesos_auth_credentials_count(reinterpret_cast<const mesos_auth_credentials *>(mapper.get()), &n) ==
        MESOS_AUTH_RESULT_WRONG_HANDLE);
  CHECK(events.load() >= 3);
  if (failures) {
    std::fprintf(stderr, "%d check(s) failed\n", failures.load());
    return 1;
  }
  std::printf("c++ components: all checks passed (%d audit events)\n", events.load());
  return 0;
}
