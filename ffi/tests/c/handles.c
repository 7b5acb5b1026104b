/* C11 test of handle lifetimes and the library's identity (issue 13 items
 * 4 and 17): a second _free of a shared reference (audit sink, throttle,
 * credentials, ACL) returns MESOS_AUTH_RESULT_WRONG_HANDLE and leaves the
 * object alone for the sessions and policies still holding it (before the
 * fix it returned OK and dropped their count: valgrind saw an invalid read
 * in the audit callback sink); a call on a freed reference is refused;
 * _up_ref gives an independent reference; the version macros, runtime
 * version and start-up compatibility check agree. Run under ASan+UBSan and
 * valgrind by ffi/tests/run-c-tests, and once more linked against the
 * installed shared library. */
#include "mesos_auth.h"

#include <stdio.h>
#include <string.h>

#include "check.h"

static int events = 0;
static void on_audit(void *userdata, const char *json, size_t len) {
  int *count = (int *)userdata;
  if (json[len] == '\0' && json[0] == '{') (*count)++;
}

static const char POLICY[] =
    "{\"permissive\": false, \"run_tasks\": [{\"principals\": {\"values\": [\"ops\"]},"
    " \"users\": {\"values\": [\"root\"]}}]}";
static const char CREDS[] = "tim tanstaaftanstaaf-0123\n";

static int has(const char *needle) {
  char buf[256];
  size_t n = 0;
  return mesos_auth_last_error(buf, sizeof buf, &n) == MESOS_AUTH_RESULT_OK && strstr(buf, needle) != NULL;
}

static void test_audit_double_free(void) {
  const mesos_auth_audit *audit = NULL, *extra = NULL;
  const mesos_auth_acl *acl = NULL;
  CHECK(mesos_auth_audit_new(on_audit, &events, &audit) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_acl_compile_buffer(POLICY, strlen(POLICY), 0, audit, &acl) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_audit_up_ref(audit, &extra) == MESOS_AUTH_RESULT_OK);
  CHECK(extra != NULL && extra != audit);
  CHECK(mesos_auth_audit_up_ref(audit, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_audit_up_ref(NULL, &extra) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  /* The caller's reference, freed twice: the second is refused. */
  CHECK(mesos_auth_audit_free(audit) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_audit_free(audit) == MESOS_AUTH_RESULT_WRONG_HANDLE);
  CHECK(has("already released"));
  CHECK(mesos_auth_audit_free(audit) == MESOS_AUTH_RESULT_WRONG_HANDLE);
  /* A freed reference cannot be used to make a new holder or reference. */
  {
    const mesos_auth_acl *other = NULL;
    const mesos_auth_audit *again = NULL;
    CHECK(mesos_auth_acl_compile_buffer(POLICY, strlen(POLICY), 0, audit, &other) == MESOS_AUTH_RESULT_WRONG_HANDLE);
    CHECK(other == NULL);
    CHECK(mesos_auth_audit_up_ref(audit, &again) == MESOS_AUTH_RESULT_WRONG_HANDLE);
    CHECK(again == NULL);
  }
  /* The policy still holds the sink: decisions are audited, no invalid read. */
  {
    mesos_auth_acl_request r;
    mesos_auth_acl_decision d;
    memset(&r, 0, sizeof r);
    r.action = MESOS_AUTH_ACL_ACTION_RUN_TASK;
    r.principal.data = "ops";
    r.principal.len = 3;
    r.object.kind = MESOS_AUTH_ACL_OBJECT_KIND_ONE;
    r.object.value.data = "root";
    r.object.value.len = 4;
    int before = events;
    CHECK(mesos_auth_acl_authorize(acl, &r, &d) == MESOS_AUTH_RESULT_OK && d.allowed);
    CHECK(events == before + 1);
  }
  CHECK(mesos_auth_acl_free(acl) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_acl_free(acl) == MESOS_AUTH_RESULT_WRONG_HANDLE);
  /* The up_ref'd reference is independent and freed once on its own. */
  CHECK(mesos_auth_audit_free(extra) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_audit_free(extra) == MESOS_AUTH_RESULT_WRONG_HANDLE);
}

static void test_throttle_double_free(void) {
  const mesos_auth_throttle *t = NULL, *t2 = NULL;
  const mesos_auth_credentials *creds = NULL;
  mesos_auth_authenticator *s = NULL;
  uint64_t delay = 0;
  uint32_t st = 0;
  CHECK(mesos_auth_throttle_new(0, 1000, 1000, &t) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_throttle_up_ref(t, &t2) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_credentials_load_buffer((const uint8_t *)CREDS, strlen(CREDS), MESOS_AUTH_CREDENTIALS_FORMAT_TEXT,
                                           0, NULL, &creds) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticator_new(creds, 0, "10.0.0.9:1", 10, NULL, &s) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticator_set_throttle(s, t) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_throttle_free(t) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_throttle_free(t) == MESOS_AUTH_RESULT_WRONG_HANDLE);
  CHECK(mesos_auth_throttle_check(t, NULL, 0, "10.0.0.9:1", 10, &delay) == MESOS_AUTH_RESULT_WRONG_HANDLE);
  CHECK(mesos_auth_authenticator_set_throttle(s, t) == MESOS_AUTH_RESULT_WRONG_HANDLE);
  /* The credentials: the session keeps its store through a double free. */
  CHECK(mesos_auth_credentials_free(creds) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_credentials_free(creds) == MESOS_AUTH_RESULT_WRONG_HANDLE);
  /* A STEP before START: a protocol error ends the session, and its outcome
   * goes to the throttle it still holds (the caller's references are gone). */
  {
    mesos_auth_message m = {MESOS_AUTH_MESSAGE_KIND_STEP, {NULL, 0}, {(const uint8_t *)"x", 1}};
    CHECK(mesos_auth_authenticator_feed(s, &m) == MESOS_AUTH_RESULT_PROTOCOL_ERROR);
    CHECK(mesos_auth_authenticator_status(s, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_ERROR);
  }
  CHECK(mesos_auth_authenticator_free(s) == MESOS_AUTH_RESULT_OK);
  /* The other reference sees the recorded error: the peer now waits. */
  CHECK(mesos_auth_throttle_check(t2, NULL, 0, "10.0.0.9:1", 10, &delay) == MESOS_AUTH_RESULT_OK);
  CHECK(delay > 0);
  CHECK(mesos_auth_throttle_free(t2) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_throttle_free(NULL) == MESOS_AUTH_RESULT_OK);
}

static void test_version(void) {
  mesos_auth_str v = mesos_auth_version();
  CHECK(v.len == strlen(MESOS_AUTH_VERSION) && memcmp(v.data, MESOS_AUTH_VERSION, v.len) == 0);
  CHECK(mesos_auth_version_number() == MESOS_AUTH_VERSION_NUMBER);
  CHECK(MESOS_AUTH_VERSION_NUMBER ==
        ((MESOS_AUTH_VERSION_MAJOR << 16) | (MESOS_AUTH_VERSION_MINOR << 8) | MESOS_AUTH_VERSION_PATCH));
  CHECK(MESOS_AUTH_CHECK_VERSION() == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_check_version(MESOS_AUTH_VERSION_MAJOR + 1, 0) == MESOS_AUTH_RESULT_INCOMPATIBLE_VERSION);
  CHECK(has(MESOS_AUTH_VERSION));
  CHECK(mesos_auth_check_version(MESOS_AUTH_VERSION_MAJOR, MESOS_AUTH_VERSION_MINOR + 1) ==
        MESOS_AUTH_RESULT_INCOMPATIBLE_VERSION);
  {
    char buf[128];
    size_t n = 0;
    CHECK(mesos_auth_result_message(MESOS_AUTH_RESULT_INCOMPATIBLE_VERSION, buf, sizeof buf, &n) ==
          MESOS_AUTH_RESULT_OK);
    CHECK(n > 0 && buf[n] == '\0');
  }
}

int main(void) {
  test_version();
  test_audit_double_free();
  test_throttle_double_free();
  return check_report("c handles");
}
