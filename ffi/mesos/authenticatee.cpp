// Mesos Authenticatee module: the agent's or scheduler driver's side of
// CRAM-MD5, by mesos-auth instead of Cyrus SASL.
//
// Selected with --authenticatee=org_mesosauth_CramMd5Authenticatee (agent)
// or MESOS_AUTHENTICATEE (driver). authenticate(master, client, credential)
// sends AuthenticateMessage{pid = client} to the master from its own
// libprocess actor, then talks to the authenticator session that answers (the
// sender of AuthenticationMechanismsMessage: one libprocess actor per session
// in Mesos, not the master itself, which drops Start/Step messages), and
// completes the future: true when authenticated, false when refused (final),
// failed on a protocol error, a master error, a lost master or a discard (the
// caller retries) (mesos-reference.md §5.3).
//
// All protocol logic is in cram_md5_client.hpp (tested without Mesos by
// ffi/tests/c/module_host.cpp); the libprocess plumbing is client_process.hpp.
// Build: see README.md in this directory.

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <mesos/mesos.hpp>
#include <mesos/module.hpp>

#include <mesos/authentication/authenticatee.hpp>
#include <mesos/authentication/authentication.hpp>
#include <mesos/module/authenticatee.hpp>

#include <process/defer.hpp>
#include <process/future.hpp>
#include <process/id.hpp>
#include <process/process.hpp>
#include <process/protobuf.hpp>

#include <stout/stringify.hpp>

#include "audit_adapter.hpp"
#include "client_process.hpp"
#include "cram_md5_client.hpp"

namespace mesos_auth_module {

class CramMd5Authenticatee : public mesos::Authenticatee
{
public:
  // `audit` (may be empty): where each attempt's event goes.
  explicit CramMd5Authenticatee(AuditSinks::Handle audit)
    : audit_(std::move(audit)) {}

  process::Future<bool> authenticate(
      const process::UPID& pid,
      const process::UPID& client,
      const mesos::Credential& credential) override
  {
    // A new attempt replaces one still in flight (its future was discarded
    // by the caller by then).
    attempt_.stop();
    std::unique_ptr<ClientSession> session;
    if (std::optional<std::string> error = ClientSession::start(
            credential.principal(), credential.secret(), &session,
            audit_.get())) {
      return process::Failure(*error);
    }
    return attempt_.start(
        pid, client, std::move(session), "mesos-auth-cram-md5-client");
  }

private:
  AuditSinks::Handle audit_; // Outlives attempt_ (declared first).
  ClientAttempt attempt_; // Stops the attempt before audit_ goes.
};

} // namespace mesos_auth_module {


static mesos::Authenticatee* createAuthenticatee(
    const mesos::Parameters& parameters)
{
  // Only the `audit_*` parameters: the credential comes with each
  // authenticate() call.
  mesos_auth_module::AuditConfig config;
  std::vector<std::string> seen;
  for (const mesos::Parameter& p : parameters.parameter()) {
    std::optional<std::string> error;
    if (std::find(seen.begin(), seen.end(), p.key()) != seen.end()) {
      error = "parameter '" + p.key() + "' given twice";
    } else if (!mesos_auth_module::parseAuditParameter(
                   p.key(), p.value(), &config, &error)) {
      error = "unknown parameter '" + p.key() + "'";
    }
    seen.push_back(p.key());
    if (error) {
      std::cerr << "org_mesosauth_CramMd5Authenticatee: " << *error
                << std::endl;
      return nullptr;
    }
  }
  mesos_auth_module::AuditSinks::Handle audit;
  if (std::optional<std::string> error =
        mesos_auth_module::AuditSinks::open(config, nullptr, &audit)) {
    std::cerr << "org_mesosauth_CramMd5Authenticatee: " << *error << std::endl;
    return nullptr;
  }
  return new mesos_auth_module::CramMd5Authenticatee(std::move(audit));
}


// The module's name is this variable's name. No compatible() function: Mesos
// then loads it only into the exact version it was built against.
mesos::modules::Module<mesos::Authenticatee>
  org_mesosauth_CramMd5Authenticatee(
    MESOS_MODULE_API_VERSION,
    MESOS_VERSION,
    "mesos-auth",
    "mesos-auth@example.org",
    "CRAM-MD5 authenticatee backed by the mesos-auth library.",
    nullptr,
    createAuthenticatee);
