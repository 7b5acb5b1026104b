// A file watcher for the modules' hot reloads (ACLs, credentials): Mesos
// independent, tested by ffi/tests/c/module_host.cpp.
#ifndef MESOS_AUTH_FILE_WATCHER_HPP
#define MESOS_AUTH_FILE_WATCHER_HPP

#include <sys/stat.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

namespace mesos_auth_module {

// Reloads something from its file when the file changes (modification time,
// size or inode), checked every `intervalMs` on its own thread, never on a
// decision's or an authentication's path. `reload` returns an error or sets
// the new generation; a refused reload is reported and the old version keeps
// serving; the next change is tried again. Used for the ACL policy and the
// credential store.
class FileWatcher {
 public:
  // `ok` is false for a refused reload.
  using Report = std::function<void(bool ok, const std::string &)>;
  using Reload = std::function<std::optional<std::string>(uint64_t *generation)>;

  FileWatcher(std::string what, std::string path, uint64_t intervalMs, Reload reload, Report report)
      : what_(std::move(what)), path_(std::move(path)), reload_(std::move(reload)), report_(std::move(report)) {
    if (path_.compare(0, 7, "file://") == 0) path_.erase(0, 7);
    last_ = stamp();
    thread_ = std::thread([this, intervalMs] { run(std::chrono::milliseconds(intervalMs)); });
  }

  ~FileWatcher() {
    {
      std::lock_guard<std::mutex> g(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  FileWatcher(const FileWatcher &) = delete;
  FileWatcher &operator=(const FileWatcher &) = delete;

 private:
  struct Stamp {
    bool ok = false;
    int64_t mtimeNs = 0, size = 0;
    uint64_t inode = 0;
    bool operator!=(const Stamp &o) const {
      return ok != o.ok || mtimeNs != o.mtimeNs || size != o.size || inode != o.inode;
    }
  };

  Stamp stamp() const {
    struct stat st;
    Stamp s;
    if (::stat(path_.c_str(), &st) != 0) return s;
    s.ok = true;
    s.mtimeNs = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    s.size = static_cast<int64_t>(st.st_size);
    s.inode = static_cast<uint64_t>(st.st_ino);
    return s;
  }

  void run(std::chrono::milliseconds interval) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, interval, [this] { return stop_; })) {
      Stamp now = stamp();
      if (!(now != last_)) continue;
      last_ = now;
      uint64_t generation = 0;
      if (auto error = reload_(&generation))
        report_(false, *error + "; the previous " + what_ + " keep serving");
      else
        report_(true, "reloaded " + what_ + " '" + path_ + "' as generation " + std::to_string(generation));
    }
  }

  std::string what_;
  std::string path_;
  Reload reload_;
  Report report_;
  Stamp last_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace mesos_auth_module

#endif  // MESOS_AUTH_FILE_WATCHER_HPP
