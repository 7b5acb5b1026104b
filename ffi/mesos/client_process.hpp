// The libprocess plumbing of one authenticatee attempt, shared by the
// authenticatee modules (CRAM-MD5 in authenticatee.cpp, OAUTHBEARER in
// oauthbearer_authenticatee.cpp): the session logic is ClientSession
// (cram_md5_client.hpp), whatever its mechanism.
#ifndef MESOS_AUTH_CLIENT_PROCESS_HPP
#define MESOS_AUTH_CLIENT_PROCESS_HPP

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <glog/logging.h>

#include <mesos/mesos.hpp>

#include <mesos/authentication/authentication.hpp>

#include <process/defer.hpp>
#include <process/dispatch.hpp>
#include <process/future.hpp>
#include <process/id.hpp>
#include <process/process.hpp>
#include <process/protobuf.hpp>

#include <stout/stringify.hpp>

#include "cram_md5_client.hpp"

namespace mesos_auth_module {

// One attempt against one master.
class ClientProcess : public ProtobufProcess<ClientProcess>
{
public:
  // `id`: the actor's name prefix (the mechanism, for the logs).
  ClientProcess(
      const process::UPID& client,
      std::unique_ptr<ClientSession> session,
      const std::string& id = "mesos-auth-cram-md5-client")
    : process::ProcessBase(process::ID::generate(id)),
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
        // A refusal says nothing more; a mechanism the master does not
        // offer says which (the agent then exits: "refused authentication").
        if (!session_->error().empty()) {
          LOG(ERROR) << "Authentication with master " << master_
                     << " impossible: " << session_->error();
        }
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

// The one attempt an authenticatee module has in flight: a new attempt
// stops the last (Mesos discarded its future by then), and so does the
// module's destructor.
class ClientAttempt
{
public:
  ClientAttempt() = default;
  ClientAttempt(const ClientAttempt&) = delete;
  ClientAttempt& operator=(const ClientAttempt&) = delete;
  ~ClientAttempt() { stop(); }

  // Runs `session` against the master at `pid` in an actor named after `id`.
  process::Future<bool> start(
      const process::UPID& pid,
      const process::UPID& client,
      std::unique_ptr<ClientSession> session,
      const std::string& id)
  {
    stop();
    process_.reset(new ClientProcess(client, std::move(session), id));
    process::spawn(process_.get());
    return process::dispatch(
        process_.get(), &ClientProcess::authenticate, pid);
  }

  void stop()
  {
    if (process_ != nullptr) {
      process::terminate(process_.get(), false);
      process::wait(process_.get());
      process_.reset();
    }
  }

private:
  std::unique_ptr<ClientProcess> process_;
};

} // namespace mesos_auth_module {

#endif // MESOS_AUTH_CLIENT_PROCESS_HPP
