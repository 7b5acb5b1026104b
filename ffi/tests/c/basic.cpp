// C++17 test of the mesos-auth C API, as a Mesos module would include it.
#include "mesos_auth.h"

#include <cstdio>
#include <string>

static int failures = 0;
#define CHECK(cond)                                                           \
  do {                                                                        \
    if (!(cond)) {                                                            \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                             \
    }                                                                         \
  } while (0)

namespace {
std::string message(mesos_auth_result code) {
  char buf[128];
  size_t n = 0;
  if (mesos_auth_result_message(static_cast<uint32_t>(code), buf, sizeof buf, &n) !=
      MESOS_AUTH_RESULT_OK) {
    return {};
  }
  return std::string(buf, n);
}
}  // namespace

int main() {
  mesos_auth_str v = mesos_auth_version();
  CHECK(std::string(v.data, v.len) == MESOS_AUTH_VERSION);
  CHECK(message(MESOS_AUTH_RESULT_OK) == "ok");
  CHECK(message(MESOS_AUTH_RESULT_PANIC).find("panic") != std::string::npos);
  // The enum has a fixed underlying type in C++.
  static_assert(sizeof(mesos_auth_result) == sizeof(uint32_t), "result is 32 bits");
  if (failures) {
    std::fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  std::printf("c++ basic: all checks passed\n");
  return 0;
}
