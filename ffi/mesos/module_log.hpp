// What the modules write to the master's (or agent's) log, through the glog
// inside libmesos: shared by authenticator.cpp and authorizer.cpp.
#ifndef MESOS_AUTH_MODULE_LOG_HPP
#define MESOS_AUTH_MODULE_LOG_HPP

#include <string>

#include <glog/logging.h>

#include "file_watcher.hpp"

namespace mesos_auth_module {

// A FileWatcher report sink: a reload at INFO, a refused reload (the old
// version keeps serving) at WARNING, each prefixed with the module's name.
inline FileWatcher::Report logReloads(const std::string& module)
{
  return [module](bool ok, const std::string& report) {
    if (ok) {
      LOG(INFO) << module << ": " << report;
    } else {
      LOG(WARNING) << module << ": " << report;
    }
  };
}

} // namespace mesos_auth_module {

#endif // MESOS_AUTH_MODULE_LOG_HPP
