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
// ffi/tests/c/module_host.cpp); this file is only the libprocess plumbing.
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
#include <process/dispatch.hpp>
#include <process/future.hpp>
#include <process/id.hpp>
#include <process/process.hpp>
#include <process/protobuf.hpp>

#include <stout/stringify.hpp>

#include "audit_adapter.hpp"
#include "cram_md5_client.hpp"

namespace mesos_auth_module {

// One attempt against one master.
class ClientProcess : public ProtobufProcess<ClientProcess>
{
public:
  ClientProcess(const process::UPID& client, std::unique_ptr<ClientSession> session)
    : process::ProcessBase(process::ID::generate("mesos-auth-cram-md5-client")),
      client_(client),
      session_(std::move(session)) {}

  process::Future<bool> authenticate(const process::UPID& master)
  {
    master_ = master;
    link(master_); // A lost master fails the future (exited()).
    promise_.future().onDiscard(
        process::defer(self(), &ClientProcess::discarded));
    mesos::internal::AuthenticateMessage message;
    // stringify, not UPID's std::string conversion: GCC >= 7 mangles that
    // operator differently from the GCC 5 that built Mesos 1.11, and the
    // module would not load (undefined symbol ...UPIDcvNSt7__cxx1112...).
    message.set_pid(stringify(client_));
    send(master_, message);
    return promise_.future();
  }

protected:
  void initialize() override
  {
    install<mesos::internal::AuthenticationMechanismsMessage>(
        &ClientProcess::mechanisms);
    install<mesos::internal::AuthenticationStepMessage>(&ClientProcess::step);
    install<mesos::internal::AuthenticationCompletedMessage>(
        &ClientProcess::completed);
    install<mesos::internal::AuthenticationFailedMessage>(
        &ClientProcess::failed);
    install<mesos::internal::AuthenticationErrorMessage>(&ClientProcess::error);
  }

  void exited(const process::UPID& pid) override
  {
    if (pid == master_) {
      session_->abort("lost the master");
      settle();
    }
  }

  void finalize() override
  {
    session_->abort("authentication attempt terminated");
    settle();
  }

private:
  // The session that sends the mechanisms is the one we answer from then on;
  // a second session's mechanisms (a stale retry) are a protocol error.
  void mechanisms(
      const process::UPID& from,
      const mesos::internal::AuthenticationMechanismsMessage& message)
  {
    if (authenticator_ && from != authenticator_) {
      return;
    }
    authenticator_ = from;
    std::vector<std::string> names(
        message.mechanisms().begin(), message.mechanisms().end());
    session_->onMechanisms(names);
    flush();
  }

  void step(
      const process::UPID& from,
      const mesos::internal::AuthenticationStepMessage& message)
  {
    if (!fromSession(from)) {
      return;
    }
    session_->onStep(message.data());
    flush();
  }

  void completed(
      const process::UPID& from,
      const mesos::internal::AuthenticationCompletedMessage&)
  {
    if (!fromSession(from)) {
      return;
    }
    session_->onCompleted();
    flush();
  }

  void failed(
      const process::UPID& from,
      const mesos::internal::AuthenticationFailedMessage&)
  {
    if (!fromSession(from)) {
      return;
    }
    session_->onFailed();
    flush();
  }

  void error(
      const process::UPID& from,
      const mesos::internal::AuthenticationErrorMessage& message)
  {
    if (!fromSession(from)) {
      return;
    }
    session_->onError(message.error());
    flush();
  }

  // Messages from anyone but the session we are talking to are dropped, as a
  // message from an unknown sender must not decide the outcome.
  bool fromSession(const process::UPID& from) const
  {
    return authenticator_ && from == authenticator_;
  }

  void discarded()
  {
    session_->abort("authentication discarded");
    settle();
  }

  // Sends what the session queued, then completes the future if it ended.
  void flush()
  {
    for (const Outgoing& out : session_->drain()) {
      if (out.kind == MESOS_AUTH_MESSAGE_KIND_START) {
        mesos::internal::AuthenticationStartMessage message;
        message.set_mechanism(out.mechanisms.empty() ? "" : out.mechanisms[0]);
        message.set_data(out.data);
        send(authenticator_, message);
      } else if (out.kind == MESOS_AUTH_MESSAGE_KIND_STEP) {
        mesos::internal::AuthenticationStepMessage message;
        message.set_data(out.data);
        send(authenticator_, message);
      }
    }
    settle();
  }

  void settle()
  {
    if (!promise_.future().isPending()) {
      return;
    }
    switch (session_->outcome()) {
      case Outcome::Pending:
        return;
      case Outcome::Completed:
        promise_.set(true);
        return;
      case Outcome::Failed:
        promise_.set(false);
        return;
      case Outcome::Error:
        promise_.fail(
            session_->error().empty() ? "authentication error"
                                      : session_->error());
        return;
    }
  }

  const process::UPID client_;
  process::UPID master_;
  process::UPID authenticator_; // The session's actor, once it has spoken.
  std::unique_ptr<ClientSession> session_;
  process::Promise<bool> promise_;
};


class CramMd5Authenticatee : public mesos::Authenticatee
{
public:
  // `audit` (may be empty): where each attempt's event goes.
  explicit CramMd5Authenticatee(AuditSinks::Handle audit)
    : audit_(std::move(audit)) {}

  ~CramMd5Authenticatee() override { stop(); }

  process::Future<bool> authenticate(
      const process::UPID& pid,
      const process::UPID& client,
      const mesos::Credential& credential) override
  {
    // A new attempt replaces one still in flight (its future was discarded
    // by the caller by then).
    stop();
    std::unique_ptr<ClientSession> session;
    if (std::optional<std::string> error = ClientSession::start(
            credential.principal(), credential.secret(), &session,
            audit_.get())) {
      return process::Failure(*error);
    }
    process_.reset(new ClientProcess(client, std::move(session)));
    process::spawn(process_.get());
    return process::dispatch(
        process_.get(), &ClientProcess::authenticate, pid);
  }

private:
  void stop()
  {
    if (process_ != nullptr) {
      process::terminate(process_.get(), false);
      process::wait(process_.get());
      process_.reset();
    }
  }

  AuditSinks::Handle audit_; // Outlives process_ (declared first).
  std::unique_ptr<ClientProcess> process_;
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
