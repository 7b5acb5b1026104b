// Mesos Authenticatee module: the agent's or scheduler driver's side of
// OAUTHBEARER (RFC 7628), a JWT from a token file or command instead of a
// shared secret.
//
// Selected with --authenticatee=org_mesosauth_OAuthBearerAuthenticatee
// (agent) or MESOS_AUTHENTICATEE (driver), against a master whose
// authenticator is org_mesosauth_SaslAuthenticator (alias
// org_mesosauth_CramMd5Authenticator) with `bearer_config`/`bearer_jwks`.
// Mesos still calls authenticate() only when it has a --credential: its
// principal is used unless the `principal` parameter is given, its secret
// never. The token is kept between attempts until shortly before its `exp`
// (the library's token source), then read again. A master that does not
// offer OAUTHBEARER is refused, never answered with CRAM-MD5 (a downgrade).
//
// The session logic is ClientSession (cram_md5_client.hpp, tested without
// Mesos by ffi/tests/c/module_host.cpp), the libprocess plumbing
// ClientProcess (client_process.hpp). Build: see README.md here.

#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <mesos/mesos.hpp>
#include <mesos/module.hpp>

#include <mesos/authentication/authenticatee.hpp>
#include <mesos/module/authenticatee.hpp>

#include <process/future.hpp>
#include <process/process.hpp>

#include "audit_adapter.hpp"
#include "client_process.hpp"
#include "cram_md5_client.hpp"

namespace mesos_auth_module {

class OAuthBearerAuthenticatee : public mesos::Authenticatee
{
public:
  OAuthBearerAuthenticatee(
      OAuthBearerClientConfig config,
      AuditSinks::Handle audit,
      std::unique_ptr<mesos_auth_token_source, FreeTokenSource> source)
    : config_(std::move(config)),
      audit_(std::move(audit)),
      source_(std::move(source)) {}

  process::Future<bool> authenticate(
      const process::UPID& pid,
      const process::UPID& client,
      const mesos::Credential& credential) override
  {
    // A new attempt replaces one still in flight (its future was discarded
    // by the caller by then).
    attempt_.stop();
    const std::string& principal =
      config_.principal.empty() ? credential.principal() : config_.principal;
    std::unique_ptr<ClientSession> session;
    // Mesos calls authenticate() from one actor at a time, so the source
    // (one caller at a time) needs no lock.
    if (std::optional<std::string> error = ClientSession::startOAuthBearerCached(
            principal, source_.get(), &session, audit_.get())) {
      // No token now (a sidecar late with the file): a failed future, so
      // Mesos retries with backoff.
      return process::Failure(*error);
    }
    return attempt_.start(
        pid, client, std::move(session), "mesos-auth-oauthbearer-client");
  }

private:
  const OAuthBearerClientConfig config_;
  AuditSinks::Handle audit_; // Outlives attempt_ (declared first).
  std::unique_ptr<mesos_auth_token_source, FreeTokenSource> source_;
  ClientAttempt attempt_; // Stops the attempt before audit_ goes.
};

} // namespace mesos_auth_module {


static mesos::Authenticatee* createOAuthBearerAuthenticatee(
    const mesos::Parameters& parameters)
{
  mesos_auth_module::Parameters params;
  for (const mesos::Parameter& p : parameters.parameter()) {
    params.emplace_back(p.key(), p.value());
  }
  mesos_auth_module::OAuthBearerClientConfig config;
  if (std::optional<std::string> error =
        mesos_auth_module::parseOAuthBearerClientParameters(params, &config)) {
    std::cerr << "org_mesosauth_OAuthBearerAuthenticatee: " << *error
              << std::endl;
    return nullptr;
  }
  mesos_auth_module::AuditSinks::Handle audit;
  if (std::optional<std::string> error =
        mesos_auth_module::AuditSinks::open(config.audit, nullptr, &audit)) {
    std::cerr << "org_mesosauth_OAuthBearerAuthenticatee: " << *error
              << std::endl;
    return nullptr;
  }
  std::unique_ptr<mesos_auth_token_source, mesos_auth_module::FreeTokenSource>
    source;
  if (std::optional<std::string> error =
        mesos_auth_module::makeTokenSource(config, &source)) {
    std::cerr << "org_mesosauth_OAuthBearerAuthenticatee: " << *error
              << std::endl;
    return nullptr;
  }
  return new mesos_auth_module::OAuthBearerAuthenticatee(
      std::move(config), std::move(audit), std::move(source));
}


// The module's name is this variable's name. No compatible() function: Mesos
// then loads it only into the exact version it was built against.
mesos::modules::Module<mesos::Authenticatee>
  org_mesosauth_OAuthBearerAuthenticatee(
    MESOS_MODULE_API_VERSION,
    MESOS_VERSION,
    "mesos-auth",
    "mesos-auth@example.org",
    "OAUTHBEARER authenticatee backed by the mesos-auth library.",
    nullptr,
    createOAuthBearerAuthenticatee);
