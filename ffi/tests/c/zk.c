/* C11 test of the ZooKeeper watch (library built with the `zk` feature,
 * MESOS_AUTH_ZK defined): bad URLs, an unreachable server within the
 * start-up bound, NULL arguments; and, given a port where run-c-tests
 * started ZooKeeper with /mesos-auth/acls holding a two-rule policy, a watch
 * that swaps it into an ACL handle, its status, check_fresh, and its end.
 * Run under ASan+UBSan and valgrind by ffi/tests/run-c-tests. */
#define _POSIX_C_SOURCE 200809L
#include "mesos_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static const char DENY[] = "{\"permissive\": false}";

static mesos_auth_zk_config config(uint32_t startup_ms) {
  mesos_auth_zk_config c;
  memset(&c, 0, sizeof c);
  c.session_timeout_ms = 2000;
  c.startup_timeout_ms = startup_ms;
  c.fail_closed_after_ms = 60000;
  return c;
}

static size_t rules(const mesos_auth_acl *acl) {
  size_t n = 0;
  CHECK(mesos_auth_acl_rule_count(acl, &n) == MESOS_AUTH_RESULT_OK);
  return n;
}

int main(int argc, char **argv) {
  CHECK(MESOS_AUTH_CHECK_VERSION() == MESOS_AUTH_RESULT_OK);
  const mesos_auth_acl *acl = NULL;
  CHECK(mesos_auth_acl_compile_buffer(DENY, strlen(DENY), 0, NULL, &acl) == MESOS_AUTH_RESULT_OK);
  CHECK(rules(acl) == 0);
  const mesos_auth_zk_watch *w = NULL;
  mesos_auth_zk_config c = config(300);

  /* Bad input: clear errors, nothing written to out. */
  const char *bad = "http://127.0.0.1/acls";
  CHECK(mesos_auth_zk_watch_acl(acl, bad, strlen(bad), &c, &w) == MESOS_AUTH_RESULT_INVALID_PARAMETER && !w);
  const char *nowhere = "zk://127.0.0.1:1/mesos-auth/acls";
  CHECK(mesos_auth_zk_watch_acl(acl, nowhere, strlen(nowhere), &c, &w) == MESOS_AUTH_RESULT_ZK_UNAVAILABLE && !w);
  CHECK(mesos_auth_zk_watch_acl(acl, nowhere, strlen(nowhere), &c, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_zk_watch_acl(NULL, nowhere, strlen(nowhere), &c, &w) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  mesos_auth_zk_config half = config(300);
  half.sasl_user.data = "mesos";
  half.sasl_user.len = 5;
  CHECK(mesos_auth_zk_watch_acl(acl, nowhere, strlen(nowhere), &half, &w) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
  /* The handle is a watch's, not an ACL's: refused. */
  CHECK(mesos_auth_zk_watch_check_fresh((const mesos_auth_zk_watch *)(const void *)acl) ==
        MESOS_AUTH_RESULT_WRONG_HANDLE);
  CHECK(mesos_auth_zk_watch_free(NULL) == MESOS_AUTH_RESULT_OK);

  if (argc > 1) {
    char url[128];
    snprintf(url, sizeof url, "zk://127.0.0.1:%s/mesos-auth/acls", argv[1]);
    c = config(20000);
    CHECK(mesos_auth_zk_watch_acl(acl, url, strlen(url), &c, &w) == MESOS_AUTH_RESULT_OK && w);
    CHECK(rules(acl) == 2);
    mesos_auth_zk_status s;
    CHECK(mesos_auth_zk_watch_status(w, &s) == MESOS_AUTH_RESULT_OK);
    CHECK(s.version == 0 && s.connected && !s.fail_closed && s.since_contact_ms == 0);
    CHECK(mesos_auth_zk_watch_check_fresh(w) == MESOS_AUTH_RESULT_OK);
    char buf[256];
    size_t n = 99;
    CHECK(mesos_auth_zk_watch_last_error(w, buf, sizeof buf, &n) == MESOS_AUTH_RESULT_OK && n == 0);
    const mesos_auth_zk_watch *w2 = NULL;
    CHECK(mesos_auth_zk_watch_up_ref(w, &w2) == MESOS_AUTH_RESULT_OK && w2 && w2 != w);
    CHECK(mesos_auth_zk_watch_free(w) == MESOS_AUTH_RESULT_OK);
    CHECK(mesos_auth_zk_watch_check_fresh(w2) == MESOS_AUTH_RESULT_OK);
    CHECK(mesos_auth_zk_watch_free(w2) == MESOS_AUTH_RESULT_OK);
    /* Stopped: the ACL handle keeps the last policy. */
    CHECK(rules(acl) == 2);
  } else {
    printf("zk: no ZooKeeper port given: the watch against a server was not run\n");
  }
  CHECK(mesos_auth_acl_free(acl) == MESOS_AUTH_RESULT_OK);
  return check_report("zk");
}
