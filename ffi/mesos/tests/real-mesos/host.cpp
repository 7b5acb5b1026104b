// A small mesos-local: starts Mesos 1.11's in-process master and agent(s)
// from the official libmesos (the `_scheduler.so` of Apache's build), with
// every flag taken from MESOS_* environment variables, as `mesos-local` does.
// The real-Mesos harness runs our modules inside it.
//
// Extra: MESOS_AUTH_HOST_PORT (the libprocess port, default 5050).

#include <cstdlib>
#include <iostream>
#include <string>

#include <process/process.hpp>

#include <stout/os.hpp>

#include "local/flags.hpp"
#include "local/local.hpp"
#include "logging/logging.hpp"

int main(int argc, char** argv)
{
  mesos::internal::local::Flags flags;
  // Unknown MESOS_* variables are the master's and agents' flags.
  Try<flags::Warnings> load = flags.load("MESOS_", argc, argv, true);
  if (load.isError()) {
    std::cerr << "host: " << load.error() << std::endl;
    return EXIT_FAILURE;
  }
  mesos::internal::logging::initialize(argv[0], false, flags);

  const char* port = std::getenv("MESOS_AUTH_HOST_PORT");
  os::setenv("LIBPROCESS_PORT", port != nullptr ? port : "5050");
  os::setenv("LIBPROCESS_IP", "127.0.0.1");
  process::initialize("master");

  process::wait(mesos::internal::local::launch(flags));
  return EXIT_SUCCESS;
}
