// Mesos Authenticatee module: the agent's or scheduler driver's side of
// GSSAPI (Kerberos V5, RFC 4752): a Kerberos ticket (from a client keytab
// or a credentials cache) instead of a shared secret.
//
// Selected with --authenticatee=org_mesosauth_GssapiAuthenticatee (agent)
// or MESOS_AUTHENTICATEE (driver), against a master whose authenticator is
// org_mesosauth_SaslAuthenticator with `gssapi_keytab`/`gssapi_rules`.
// Mesos still calls authenticate() only when it has a --credential: its
// principal is used unless the `principal` parameter is given, its secret
// never. A master that does not offer GSSAPI is refused, never answered
// with CRAM-MD5 (a downgrade).
//
// MIT Kerberos takes the client keytab and the credentials cache from the
// environment (KRB5_CLIENT_KTNAME, KRB5CCNAME), read for every new context;
// the `keytab`/`ccache` parameters set them once, when the module is
// created, so they hold for the whole process (one keytab per process).
//
// The session logic is ClientSession (cram_md5_client.hpp), the libprocess
// plumbing ClientProcess (client_process.hpp). Build: see README.md here.

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include <mesos/mesos.hpp>
#include <mesos/module.hpp>

#include <mesos/authentication/authenticatee.hpp>
#include <mesos/module/authenticatee.hpp>

#include <process/future.hpp>
#include <process/process.hpp>

#include <stout/stringify.hpp>

#include "audit_adapter.hpp"
#include "client_process.hpp"
#include "cram_md5_client.hpp"

namespace mesos_auth_module {

// The host name the master's address resolves back to (`localhost` for
// 127.0.0.1), as the host part of its service principal.
static std::optional<std::string> masterHostOf(const process::UPID& master, std::string* out)
{
  const std::string ip = stringify(master.address.ip);
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    len = sizeof *v6;
  } else {
    return "the master's address '" + ip + "' is not an IP address; set the parameter 'master_host'";
  }
  char host[NI_MAXHOST];
  int rc = getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, host, sizeof host, nullptr, 0, NI_NAMEREQD);
  if (rc != 0) {
    return "the master's address " + ip + " has no host name (" + gai_strerror(rc) +
           "); set the parameter 'master_host'";
  }
  *out = host;
  return std::nullopt;
}

// Sets KRB5_CLIENT_KTNAME and KRB5CCNAME from the parameters. The
// environment is the process's: a second instance wanting other values is
// refused rather than silently switching the first one's credentials.
static std::optional<std::string> setKerberosEnvironment(const GssapiClientConfig& config)
{
  static std::mutex mutex;
  static std::map<std::string, std::string> ours; // Variable -> value set.
  std::lock_guard<std::mutex> lock(mutex);
  std::map<std::string, std::string> wanted;
  if (!config.keytab.empty()) {
    const std::string& k = config.keytab;
    const std::string file = k.rfind("FILE:", 0) == 0 ? k.substr(5) : k;
    if (!std::ifstream(file, std::ios::binary)) {
      return "parameter 'keytab': cannot read the keytab '" + file + "'";
    }
    wanted["KRB5_CLIENT_KTNAME"] = k;
    // Tickets from the keytab stay in this process (nothing on disk).
    wanted["KRB5CCNAME"] = "MEMORY:mesos-auth-gssapi-authenticatee";
  }
  if (!config.ccache.empty()) {
    wanted["KRB5CCNAME"] = config.ccache;
  }
  for (const auto& kv : wanted) {
    auto it = ours.find(kv.first);
    if (it != ours.end() && it->second != kv.second) {
      return kv.first + " is already '" + it->second +
             "' for another instance of this module (one keytab and ccache per process)";
    }
  }
  for (const auto& kv : wanted) {
    if (setenv(kv.first.c_str(), kv.second.c_str(), 1) != 0) {
      return "cannot set " + kv.first + ": " + std::strerror(errno);
    }
    ours[kv.first] = kv.second;
  }
  return std::nullopt;
}

class GssapiAuthenticatee : public mesos::Authenticatee
{
public:
  GssapiAuthenticatee(GssapiClientConfig config, AuditSinks::Handle audit)
    : config_(std::move(config)), audit_(std::move(audit)) {}

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
    std::string host = config_.masterHost;
    const bool fullName = config_.service.find_first_of("/@") != std::string::npos;
    if (!fullName && host.empty()) {
      if (std::optional<std::string> error = masterHostOf(pid, &host)) {
        return process::Failure(*error);
      }
    }
    std::unique_ptr<ClientSession> session;
    if (std::optional<std::string> error = ClientSession::startGssapi(
            principal, config_.service, host, config_.clientPrincipal, &session,
            audit_.get())) {
      // No ticket now (a cache not yet renewed, a KDC away): a failed
      // future, so Mesos retries with backoff.
      return process::Failure(*error);
    }
    return attempt_.start(
        pid, client, std::move(session), "mesos-auth-gssapi-client");
  }

private:
  const GssapiClientConfig config_;
  AuditSinks::Handle audit_; // Outlives attempt_ (declared first).
  ClientAttempt attempt_; // Stops the attempt before audit_ goes.
};

} // namespace mesos_auth_module {


static mesos::Authenticatee* createGssapiAuthenticatee(
    const mesos::Parameters& parameters)
{
  mesos_auth_module::Parameters params;
  for (const mesos::Parameter& p : parameters.parameter()) {
    params.emplace_back(p.key(), p.value());
  }
  mesos_auth_module::GssapiClientConfig config;
  std::optional<std::string> error =
    mesos_auth_module::parseGssapiClientParameters(params, &config);
  if (!error) {
    error = mesos_auth_module::setKerberosEnvironment(config);
  }
  mesos_auth_module::AuditSinks::Handle audit;
  if (!error) {
    error = mesos_auth_module::AuditSinks::open(config.audit, nullptr, &audit);
  }
  if (error) {
    std::cerr << "org_mesosauth_GssapiAuthenticatee: " << *error << std::endl;
    return nullptr;
  }
  return new mesos_auth_module::GssapiAuthenticatee(
      std::move(config), std::move(audit));
}


// The module's name is this variable's name. No compatible() function: Mesos
// then loads it only into the exact version it was built against.
mesos::modules::Module<mesos::Authenticatee>
  org_mesosauth_GssapiAuthenticatee(
    MESOS_MODULE_API_VERSION,
    MESOS_VERSION,
    "mesos-auth",
    "mesos-auth@example.org",
    "GSSAPI (Kerberos V5) authenticatee backed by the mesos-auth library.",
    nullptr,
    createGssapiAuthenticatee);
