/* C11 test of the mesos-auth C API: every export, NULL arguments, small
 * buffers, unknown codes. Built with -Wall -Wextra -Wpedantic -Werror and run
 * under AddressSanitizer + UBSan and under valgrind by ffi/tests/run-c-tests. */
#include "mesos_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void test_version(void) {
  mesos_auth_str v = mesos_auth_version();
  CHECK(v.data != NULL);
  CHECK(v.len == strlen(MESOS_AUTH_VERSION));
  CHECK(memcmp(v.data, MESOS_AUTH_VERSION, v.len) == 0);
}

static void test_result_message(void) {
  char buf[128];
  size_t n = 0;
  CHECK(mesos_auth_result_message(MESOS_AUTH_RESULT_NULL_PARAMETER, buf, sizeof buf, &n) ==
        MESOS_AUTH_RESULT_OK);
  CHECK(n == strlen(buf));
  CHECK(strstr(buf, "NULL") != NULL);

  /* Too small: nothing written, size needed reported. */
  char small[4] = {'x', 'x', 'x', 'x'};
  CHECK(mesos_auth_result_message(MESOS_AUTH_RESULT_PANIC, small, sizeof small, &n) ==
        MESOS_AUTH_RESULT_BUFFER_TOO_SMALL);
  CHECK(n > sizeof small);
  CHECK(small[0] == 'x' && small[3] == 'x');

  /* NULL pointers are refused, not dereferenced. */
  CHECK(mesos_auth_result_message(0, NULL, 10, &n) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_result_message(0, buf, sizeof buf, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);

  /* An unknown code is described, not trusted. */
  CHECK(mesos_auth_result_message(0xFFFFFFFFu, buf, sizeof buf, &n) == MESOS_AUTH_RESULT_OK);
  CHECK(strcmp(buf, "unknown result code") == 0);
}

static void test_last_error(void) {
  char buf[64];
  size_t n = 99;
  CHECK(mesos_auth_last_error(buf, sizeof buf, &n) == MESOS_AUTH_RESULT_OK);
  CHECK(n == 0 && buf[0] == '\0');
  CHECK(mesos_auth_last_error(NULL, 0, &n) == MESOS_AUTH_RESULT_NULL_PARAMETER);
}

int main(void) {
  test_version();
  test_result_message();
  test_last_error();
  return check_report("c basic");
}
