// The Mesos-independent half of the Authenticatee module: one CRAM-MD5
// client session (agent or framework side) as C++17 RAII over the mesos-auth
// C API. authenticatee.cpp adds only the libprocess plumbing (send
// AuthenticateMessage, exchange the Authentication*Message protobufs,
// complete the future), so everything here is exercised without Mesos by
// ffi/tests/c/module_host.cpp.
#ifndef MESOS_AUTH_CRAM_MD5_CLIENT_HPP
#define MESOS_AUTH_CRAM_MD5_CLIENT_HPP

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cram_md5_adapter.hpp"  // lastError, Outgoing, Outcome
#include "mesos_auth.h"

namespace mesos_auth_module {

// One authentication attempt against one master. Not thread-safe: the
// module's libprocess actor serialises calls.
class ClientSession {
 public:
  struct Free {
    void operator()(mesos_auth_authenticatee *p) const noexcept { mesos_auth_authenticatee_free(p); }
  };

  // `secret` is copied by the library (and wiped there when done).
  // `audit` (may be NULL) receives the attempt's event; the session holds
  // its own reference.
  static std::optional<std::string> start(const std::string &principal, const std::string &secret,
                                          std::unique_ptr<ClientSession> *out,
                                          const mesos_auth_audit *audit = nullptr) {
    mesos_auth_authenticatee *s = nullptr;
    mesos_auth_result r =
        mesos_auth_authenticatee_new(principal.data(), principal.size(),
                                     reinterpret_cast<const uint8_t *>(secret.data()), secret.size(), audit, &s);
    if (r != MESOS_AUTH_RESULT_OK) return lastError("starting a CRAM-MD5 client session", r);
    out->reset(new ClientSession(s));
    return std::nullopt;
  }

  // AuthenticationMechanismsMessage: the master's mechanisms.
  void onMechanisms(const std::vector<std::string> &mechanisms) {
    std::string list;
    for (const auto &m : mechanisms) list += (list.empty() ? "" : ",") + m;
    feed(MESOS_AUTH_MESSAGE_KIND_MECHANISMS, list, "");
  }
  // AuthenticationStepMessage: the challenge.
  void onStep(const std::string &data) { feed(MESOS_AUTH_MESSAGE_KIND_STEP, "", data); }
  void onCompleted() { feed(MESOS_AUTH_MESSAGE_KIND_COMPLETED, "", ""); }
  void onFailed() { feed(MESOS_AUTH_MESSAGE_KIND_FAILED, "", ""); }
  void onError(const std::string &error) { feed(MESOS_AUTH_MESSAGE_KIND_ERROR, "", error); }
  // The master went away or the attempt was discarded or timed out.
  void abort(const std::string &why) {
    if (error_.empty()) error_ = why;
    broken_ = true;
  }

  // Messages to send to the master now, in order: START (`mechanisms[0]`
  // and `data`), STEP (`data`).
  std::vector<Outgoing> drain() {
    std::vector<Outgoing> v;
    mesos_auth_message m{};
    while (mesos_auth_authenticatee_poll_output(handle_.get(), &m) == MESOS_AUTH_RESULT_OK &&
           m.kind != MESOS_AUTH_MESSAGE_KIND_NONE) {
      Outgoing o{m.kind, {}, std::string(reinterpret_cast<const char *>(m.data.data), m.data.len)};
      if (m.mechanism.len > 0) o.mechanisms.emplace_back(m.mechanism.data, m.mechanism.len);
      v.push_back(std::move(o));
    }
    return v;
  }

  // Completed: authenticated (future true). Failed: refused, final (future
  // false). Error: failed future, Mesos retries.
  Outcome outcome() const {
    if (broken_) return Outcome::Error;
    uint32_t st = MESOS_AUTH_STATUS_ERROR;
    if (mesos_auth_authenticatee_status(handle_.get(), &st) != MESOS_AUTH_RESULT_OK) return Outcome::Error;
    switch (st) {
      case MESOS_AUTH_STATUS_PENDING: return Outcome::Pending;
      case MESOS_AUTH_STATUS_COMPLETED: return Outcome::Completed;
      case MESOS_AUTH_STATUS_FAILED: return Outcome::Failed;
      default: return Outcome::Error;
    }
  }

  const std::string &error() const { return error_; }

 private:
  explicit ClientSession(mesos_auth_authenticatee *s) : handle_(s) {}

  void feed(uint32_t kind, const std::string &mechanism, const std::string &data) {
    mesos_auth_message m{kind,
                         {mechanism.data(), mechanism.size()},
                         {reinterpret_cast<const uint8_t *>(data.data()), data.size()}};
    mesos_auth_result r = mesos_auth_authenticatee_feed(handle_.get(), &m);
    if (r != MESOS_AUTH_RESULT_OK) {
      if (error_.empty()) error_ = lastError("CRAM-MD5", r);
      // Input refused before it reached the session (bad UTF-8): end it, so
      // the caller does not wait forever.
      broken_ = true;
    }
  }

  std::unique_ptr<mesos_auth_authenticatee, Free> handle_;
  std::string error_;
  bool broken_ = false;
};

}  // namespace mesos_auth_module

#endif  // MESOS_AUTH_CRAM_MD5_CLIENT_HPP
