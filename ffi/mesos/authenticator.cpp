// Mesos Authenticator module: CRAM-MD5 by mesos-auth instead of Cyrus SASL,
// OAUTHBEARER (RFC 7628, JWTs) when `bearer_config` and `bearer_jwks` are
// given, and GSSAPI (Kerberos V5, RFC 4752) when `gssapi_keytab` and
// `gssapi_rules` are. The AuthenticationMechanismsMessage lists what the
// parameters enable, strongest first (GSSAPI,OAUTHBEARER,CRAM-MD5); the
// client's AuthenticationStartMessage picks one. A missing or unreadable
// keytab makes initialize() fail, so the master does not start (the reason
// in its log) rather than refuse every Kerberos client later. Loaded as
// org_mesosauth_CramMd5Authenticator or, the same module,
// org_mesosauth_SaslAuthenticator.
//
// The master creates the module once (parameters from the modules manifest),
// calls initialize() with the credentials it parsed from --credentials (or
// None), then authenticate(pid) for every AuthenticateMessage. Each call gets
// its own libprocess actor that exchanges the Authentication*Message
// protobufs with `pid` and completes the future: Some(principal) on success,
// None on bad credentials, failed on a protocol error, timeout, a lost peer or
// a discard (mesos-reference.md §5.2).
//
// All protocol logic is in cram_md5_adapter.hpp (tested without Mesos by
// ffi/tests/c/module_host.cpp); this file is only the libprocess plumbing.
// Build: see README.md in this directory.

#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <glog/logging.h>

#include <mesos/mesos.hpp>
#include <mesos/module.hpp>

#include <mesos/authentication/authentication.hpp>
#include <mesos/authentication/authenticator.hpp>
#include <mesos/module/authenticator.hpp>

#include <process/defer.hpp>
#include <process/delay.hpp>
#include <process/dispatch.hpp>
#include <process/future.hpp>
#include <process/id.hpp>
#include <process/process.hpp>
#include <process/protobuf.hpp>

#include <stout/duration.hpp>
#include <stout/error.hpp>
#include <stout/hashmap.hpp>
#include <stout/nothing.hpp>
#include <stout/option.hpp>
#include <stout/stringify.hpp>
#include <stout/try.hpp>

#include "cram_md5_adapter.hpp"
#include "module_log.hpp"

namespace mesos_auth_module {

// One exchange with one authenticatee.
class SessionProcess : public ProtobufProcess<SessionProcess>
{
public:
  SessionProcess(
      const process::UPID& peer,
      std::unique_ptr<Session> session,
      const Duration& timeout)
    : process::ProcessBase(process::ID::generate("mesos-auth-cram-md5")),
      peer_(peer),
      session_(std::move(session)),
      timeout_(timeout) {}

  process::Future<Option<std::string>> authenticate()
  {
    flush(); // The mechanism list, queued when the session was made.
    promise_.future().onDiscard(
        process::defer(self(), &SessionProcess::discarded));
    process::delay(timeout_, self(), &SessionProcess::timedOut);
    return promise_.future();
  }

protected:
  void initialize() override
  {
    link(peer_); // A lost authenticatee fails the future (exited()).
    install<mesos::internal::AuthenticationStartMessage>(
        &SessionProcess::start,
        &mesos::internal::AuthenticationStartMessage::mechanism,
        &mesos::internal::AuthenticationStartMessage::data);
    install<mesos::internal::AuthenticationStepMessage>(
        &SessionProcess::step,
        &mesos::internal::AuthenticationStepMessage::data);
  }

  void exited(const process::UPID& pid) override
  {
    if (pid == peer_) {
      session_->discard();
      settle("lost the authenticatee");
    }
  }

  void finalize() override
  {
    session_->discard();
    settle("authentication session terminated");
  }

private:
  void start(const std::string& mechanism, const std::string& data)
  {
    session_->onStart(mechanism, data);
    flush();
  }

  void step(const std::string& data)
  {
    session_->onStep(data);
    flush();
  }

  void timedOut()
  {
    session_->checkTimeout();
    flush();
  }

  void discarded()
  {
    session_->discard();
    settle("authentication discarded");
  }

  // Sends what the session queued, then completes the future if it ended.
  void flush()
  {
    for (const Outgoing& out : session_->drain()) {
      switch (out.kind) {
        case MESOS_AUTH_MESSAGE_KIND_MECHANISMS: {
          mesos::internal::AuthenticationMechanismsMessage message;
          for (const std::string& name : out.mechanisms) {
            message.add_mechanisms(name);
          }
          send(peer_, message);
          break;
        }
        case MESOS_AUTH_MESSAGE_KIND_STEP: {
          mesos::internal::AuthenticationStepMessage message;
          message.set_data(out.data);
          send(peer_, message);
          break;
        }
        case MESOS_AUTH_MESSAGE_KIND_COMPLETED:
          send(peer_, mesos::internal::AuthenticationCompletedMessage());
          break;
        case MESOS_AUTH_MESSAGE_KIND_FAILED:
          send(peer_, mesos::internal::AuthenticationFailedMessage());
          break;
        case MESOS_AUTH_MESSAGE_KIND_ERROR: {
          mesos::internal::AuthenticationErrorMessage message;
          message.set_error(out.data);
          send(peer_, message);
          break;
        }
        default:
          break;
      }
    }
    settle(session_->error().empty() ? "authentication error" : session_->error());
  }

  void settle(const std::string& error)
  {
    if (!promise_.future().isPending()) {
      return;
    }
    switch (session_->outcome()) {
      case Outcome::Pending:
        return;
      case Outcome::Completed: {
        std::optional<std::string> principal = session_->principal();
        if (principal) {
          promise_.set(Option<std::string>::some(*principal));
        } else {
          promise_.fail("authenticated without a principal");
        }
        return;
      }
      case Outcome::Failed:
        promise_.set(Option<std::string>::none());
        return;
      case Outcome::Error:
        promise_.fail(error);
        return;
    }
  }

  const process::UPID peer_;
  std::unique_ptr<Session> session_;
  const Duration timeout_;
  process::Promise<Option<std::string>> promise_;
};


// Owns the sessions in flight, one per authenticatee.
class ManagerProcess : public process::Process<ManagerProcess>
{
public:
  ManagerProcess(std::shared_ptr<Store> store, const Config& config)
    : process::ProcessBase(process::ID::generate("mesos-auth-cram-md5-manager")),
      store_(std::move(store)),
      timeoutMs_(config.timeoutMs),
      maxSessions_(config.maxSessions) {}

  ~ManagerProcess() override
  {
    for (auto& entry : sessions_) {
      stop(entry.second.second);
    }
  }

  process::Future<Option<std::string>> authenticate(const process::UPID& pid)
  {
    // A new attempt replaces one still in flight from the same peer (the
    // master has discarded the old future by then).
    if (sessions_.contains(pid)) {
      stop(sessions_.at(pid).second);
      sessions_.erase(pid);
    }

    // Refused without an exchange: the peer hears nothing, times out and
    // retries after its own backoff, which is the throttle we want.
    if (sessions_.size() >= maxSessions_) {
      LOG(WARNING) << "Authentication failure: refusing " << pid << ": "
                   << sessions_.size() << " sessions in flight (max_sessions)";
      return process::Failure("too many authentication sessions in flight");
    }
    // Failures are counted per peer address (a peer can pick any actor name
    // and port) and per principal.
    const std::string peer = stringify(pid.address.ip);
    if (uint64_t delay = store_->throttleDelayMs(peer)) {
      LOG(WARNING) << "Authentication failure: refusing " << pid
                   << ": throttled after repeated failures from " << peer
                   << " (retry in " << delay << " ms)";
      return process::Failure("authentication throttled");
    }

    std::unique_ptr<Session> session;
    if (std::optional<std::string> error =
          Session::start(store_, timeoutMs_, peer, &session)) {
      return process::Failure(*error);
    }

    SessionProcess* process = new SessionProcess(
        pid, std::move(session), Milliseconds(static_cast<int64_t>(timeoutMs_)));
    process::spawn(process);
    uint64_t id = ++nextId_;
    sessions_.put(pid, std::make_pair(id, process));

    return process::dispatch(process, &SessionProcess::authenticate)
      .onAny(process::defer(self(), &ManagerProcess::cleanup, pid, id));
  }

private:
  void cleanup(const process::UPID& pid, uint64_t id)
  {
    if (sessions_.contains(pid) && sessions_.at(pid).first == id) {
      stop(sessions_.at(pid).second);
      sessions_.erase(pid);
    }
  }

  // Queue the terminate behind pending messages (the MESOS-1866 race), then
  // wait for the actor before freeing it.
  static void stop(SessionProcess* process)
  {
    process::terminate(process, false);
    process::wait(process);
    delete process;
  }

  std::shared_ptr<Store> store_;
  const uint64_t timeoutMs_;
  const uint64_t maxSessions_;
  uint64_t nextId_ = 0;
  hashmap<process::UPID, std::pair<uint64_t, SessionProcess*>> sessions_;
};


class CramMd5Authenticator : public mesos::Authenticator
{
public:
  explicit CramMd5Authenticator(Config config) : config_(std::move(config)) {}

  ~CramMd5Authenticator() override
  {
    watcher_.reset();
    jwksWatcher_.reset();
    if (manager_ != nullptr) {
      process::terminate(manager_.get());
      process::wait(manager_.get());
    }
    manager_.reset(); // Its sessions hold the audit handle.
    mesos_auth_audit_free(audit_);
  }

  Try<Nothing> initialize(const Option<mesos::Credentials>& credentials) override
  {
    if (manager_ != nullptr) {
      return Error("mesos-auth CRAM-MD5 authenticator initialized twice");
    }
    std::vector<std::pair<std::string, std::string>> pairs;
    if (credentials.isSome()) {
      for (const mesos::Credential& c : credentials->credentials()) {
        pairs.emplace_back(c.principal(), c.secret());
      }
    }
    const mesos_auth_audit* glog = nullptr;
    if (mesos_auth_audit_new(&CramMd5Authenticator::log, nullptr, &glog) !=
        MESOS_AUTH_RESULT_OK) {
      return Error("mesos-auth CRAM-MD5 authenticator: no audit sink");
    }
    // glog always; the `audit_*` parameters' file and syslog besides.
    AuditSinks::Handle audit;
    std::optional<std::string> auditError =
      AuditSinks::open(config_.audit, glog, &audit);
    mesos_auth_audit_free(glog);
    if (auditError) {
      return Error("mesos-auth CRAM-MD5 authenticator: " + *auditError);
    }
    audit_ = audit.release();
    std::shared_ptr<Store> store;
    std::optional<std::string> error = Store::open(
        config_, credentials.isSome() ? &pairs : nullptr, &store, audit_);
    for (auto& p : pairs) {
      volatile char* v = p.second.empty() ? nullptr : &p.second[0];
      for (size_t i = 0; v != nullptr && i < p.second.size(); i++) {
        v[i] = 0;
      }
    }
    if (error) {
      return Error(*error);
    }
    manager_.reset(new ManagerProcess(store, config_));
    process::spawn(manager_.get());
    if (config_.reloadIntervalMs > 0 && config_.credentialsPath) {
      watcher_.reset(new FileWatcher(
          "credentials",
          *config_.credentialsPath,
          config_.reloadIntervalMs,
          [store](uint64_t* generation) { return store->reload(generation); },
          logReloads("org_mesosauth_CramMd5Authenticator")));
    }
    if (config_.reloadIntervalMs > 0 && config_.bearerJwksPath) {
      jwksWatcher_.reset(new FileWatcher(
          "JWKS",
          *config_.bearerJwksPath,
          config_.reloadIntervalMs,
          [store](uint64_t* generation) { return store->reloadJwks(generation); },
          logReloads("org_mesosauth_CramMd5Authenticator")));
    }
    return Nothing();
  }

  process::Future<Option<std::string>> authenticate(
      const process::UPID& pid) override
  {
    if (manager_ == nullptr) {
      return process::Failure("mesos-auth CRAM-MD5 authenticator not initialized");
    }
    return process::dispatch(
        manager_.get(), &ManagerProcess::authenticate, pid);
  }

private:
  // Every session's audit event goes to the master's log: a refusal as
  // Mesos's own authenticator logs it ("Authentication failure: ..."), with
  // the reason, which the peer never hears. No secret is in an event.
  static void log(void*, const char* json, size_t len)
  {
    const std::string event(json, len);
    if (event.find("\"result\":\"completed\"") != std::string::npos) {
      LOG(INFO) << "mesos-auth: authentication succeeded: " << event;
    } else {
      LOG(WARNING) << "Authentication failure: " << event;
    }
  }

  const Config config_;
  const mesos_auth_audit* audit_ = nullptr;
  std::unique_ptr<ManagerProcess> manager_;
  std::unique_ptr<FileWatcher> watcher_;
  std::unique_ptr<FileWatcher> jwksWatcher_;
};

} // namespace mesos_auth_module {


static mesos::Authenticator* createAuthenticator(
    const mesos::Parameters& parameters)
{
  mesos_auth_module::Parameters params;
  for (const mesos::Parameter& p : parameters.parameter()) {
    params.emplace_back(p.key(), p.value());
  }
  mesos_auth_module::Config config;
  if (std::optional<std::string> error =
        mesos_auth_module::parseParameters(params, &config)) {
    // Mesos then reports "Error creating Module instance".
    std::cerr << "org_mesosauth_CramMd5Authenticator: " << *error << std::endl;
    return nullptr;
  }
  return new mesos_auth_module::CramMd5Authenticator(std::move(config));
}


// The module's name is this variable's name. No compatible() function: Mesos
// then loads it only into the exact version it was built against.
mesos::modules::Module<mesos::Authenticator> org_mesosauth_CramMd5Authenticator(
    MESOS_MODULE_API_VERSION,
    MESOS_VERSION,
    "mesos-auth",
    "mesos-auth@example.org",
    "CRAM-MD5 (and OAUTHBEARER) authenticator backed by the mesos-auth library.",
    nullptr,
    createAuthenticator);

// The same module under a name that says what it is now (several SASL
// mechanisms); the old name keeps working.
mesos::modules::Module<mesos::Authenticator> org_mesosauth_SaslAuthenticator(
    MESOS_MODULE_API_VERSION,
    MESOS_VERSION,
    "mesos-auth",
    "mesos-auth@example.org",
    "SASL authenticator (CRAM-MD5, OAUTHBEARER, GSSAPI) backed by the mesos-auth library.",
    nullptr,
    createAuthenticator);
