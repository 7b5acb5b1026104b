/* C11 test of the ZooKeeper watch (library built with the `zk` feature,
 * MESOS_AUTH_ZK defined): bad URLs, an unreachable server within the
 * start-up bound, NULL arguments; a TLS mapper whose watch (never reaching
 * ZooKeeper) fails closed past its bound (argv[1]: a DER certificate with
 * CN=Alice); and, given a port where run-c-tests started ZooKeeper with
 * /mesos-auth/acls holding a two-rule policy (argv[2]) and a command that
 * writes a file into a znode behind `zk push`'s back (argv[3]), a watch
 * that swaps it into an ACL handle, its status, check_fresh, and its end,
 * and a watch feeding a TLS mapper from /mesos-auth/tls-rules: new rules
 * reach it, invalid ones are refused and the last good ones keep mapping.
 * Run under ASan+UBSan and valgrind by ffi/tests/run-c-tests. */
#define _POSIX_C_SOURCE 200809L
#include "mesos_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  uint8_t *buf = malloc(65536);
  *len = buf ? fread(buf, 1, 65536, f) : 0;
  fclose(f);
  return buf;
}

/* Maps the certificate: the result code, the principal in buf. */
static mesos_auth_result map(const mesos_auth_tls_mapper *m, const uint8_t *der, size_t der_len, char *buf) {
  size_t n = 0;
  buf[0] = 0;
  return mesos_auth_tls_mapper_map_der(m, der, der_len, NULL, buf, 257, &n);
}

/* Polls for up to 20 s until mapping gives `want` (and `principal`, if
 * not NULL). */
static int map_until(const mesos_auth_tls_mapper *m, const uint8_t *der, size_t der_len, mesos_auth_result want,
                     const char *principal) {
  char buf[257];
  for (int i = 0; i < 400; i++) {
    if (map(m, der, der_len, buf) == want && (!principal || strcmp(buf, principal) == 0)) return 1;
    sleep_ms(50);
  }
  return 0;
}

static const char RULES_ONE[] = "[{\"source\":\"subject.CN\",\"match\":\"(.+)\",\"principal\":\"one-${1}\"}]";
static const char RULES_TWO[] = "[{\"source\":\"subject.CN\",\"match\":\"(.+)\",\"principal\":\"two-${1}\"}]";
static const char RULES_BAD[] = "[{\"source\":\"subject.CN\",\"match\":\"(\",\"principal\":\"x\"}]";

/* Writes `text` into the znode with the helper run-c-tests gives (ZooKeeper's
 * own CLI: no validity check, as a writer behind `zk push`'s back). */
static int zk_set(const char *helper, const char *znode, const char *text) {
  char path[] = "/tmp/mesos-auth-zk-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 0;
  size_t len = strlen(text);
  int ok = write(fd, text, len) == (ssize_t)len;
  close(fd);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "%s %s %s", helper, znode, path);
  ok = ok && system(cmd) == 0;
  unlink(path);
  return ok;
}

/* A watch that never reaches ZooKeeper, configured to fail closed: once
 * past its bound, every certificate is refused (STALE); freed, the mapper
 * maps again with its own rules. */
static void tls_fail_closed(const uint8_t *der, size_t der_len) {
  const mesos_auth_tls_mapper *m = NULL;
  CHECK(mesos_auth_tls_mapper_new(RULES_ONE, strlen(RULES_ONE), &m) == MESOS_AUTH_RESULT_OK);
  char buf[257];
  CHECK(map(m, der, der_len, buf) == MESOS_AUTH_RESULT_OK && strcmp(buf, "one-Alice") == 0);
  mesos_auth_zk_config c = config(0);
  c.fail_closed_after_ms = 200;
  const char *nowhere = "zk://127.0.0.1:1/mesos-auth/tls-rules";
  const mesos_auth_zk_watch *w = NULL;
  CHECK(mesos_auth_zk_watch_tls_rules(m, nowhere, strlen(nowhere), &c, NULL, &w) == MESOS_AUTH_RESULT_OK && w);
  CHECK(mesos_auth_zk_watch_tls_rules(m, nowhere, strlen(nowhere), &c, NULL, NULL) ==
        MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(map_until(m, der, der_len, MESOS_AUTH_RESULT_STALE, NULL));
  char err[512];
  size_t n = 0;
  CHECK(mesos_auth_last_error(err, sizeof err, &n) == MESOS_AUTH_RESULT_OK && strstr(err, "/mesos-auth/tls-rules"));
  CHECK(mesos_auth_zk_watch_check_fresh(w) == MESOS_AUTH_RESULT_STALE);
  CHECK(mesos_auth_zk_watch_free(w) == MESOS_AUTH_RESULT_OK);
  CHECK(map(m, der, der_len, buf) == MESOS_AUTH_RESULT_OK && strcmp(buf, "one-Alice") == 0);
  CHECK(mesos_auth_tls_mapper_free(m) == MESOS_AUTH_RESULT_OK);
}

/* The mapper fed from /mesos-auth/tls-rules on a real ZooKeeper. */
static void tls_from_zookeeper(const char *port, const char *helper, const uint8_t *der, size_t der_len) {
  const char *znode = "/mesos-auth/tls-rules";
  CHECK(zk_set(helper, znode, RULES_ONE));
  /* The mapper's own (local) rules until ZooKeeper delivers. */
  const mesos_auth_tls_mapper *m = NULL;
  CHECK(mesos_auth_tls_mapper_new(RULES_TWO, strlen(RULES_TWO), &m) == MESOS_AUTH_RESULT_OK);
  char url[128];
  snprintf(url, sizeof url, "zk://127.0.0.1:%s%s", port, znode);
  mesos_auth_zk_config c = config(20000);
  const mesos_auth_zk_watch *w = NULL;
  CHECK(mesos_auth_zk_watch_tls_rules(m, url, strlen(url), &c, NULL, &w) == MESOS_AUTH_RESULT_OK && w);
  if (!w) {
    CHECK(mesos_auth_tls_mapper_free(m) == MESOS_AUTH_RESULT_OK);
    return;
  }
  char buf[257];
  CHECK(map(m, der, der_len, buf) == MESOS_AUTH_RESULT_OK && strcmp(buf, "one-Alice") == 0);
  mesos_auth_zk_status s;
  CHECK(mesos_auth_zk_watch_status(w, &s) == MESOS_AUTH_RESULT_OK && s.version >= 0 && s.connected);
  int64_t v = s.version;
  uint64_t g = 0;
  CHECK(mesos_auth_tls_mapper_generation(m, &g) == MESOS_AUTH_RESULT_OK && g == 1);

  /* New rules: the new principal. */
  CHECK(zk_set(helper, znode, RULES_TWO));
  CHECK(map_until(m, der, der_len, MESOS_AUTH_RESULT_OK, "two-Alice"));
  CHECK(mesos_auth_zk_watch_status(w, &s) == MESOS_AUTH_RESULT_OK && s.version == v + 1);

  /* Invalid rules: refused, the error names the znode version, the last
   * good rules keep mapping. */
  CHECK(zk_set(helper, znode, RULES_BAD));
  char want[128], err[512];
  snprintf(want, sizeof want, "`%s` version %lld", znode, (long long)(v + 2));
  size_t n = 0;
  int seen = 0;
  for (int i = 0; i < 400 && !seen; i++) {
    CHECK(mesos_auth_zk_watch_last_error(w, err, sizeof err, &n) == MESOS_AUTH_RESULT_OK);
    seen = strstr(err, want) != NULL;
    if (!seen) sleep_ms(50);
  }
  CHECK(seen);
  CHECK(mesos_auth_zk_watch_status(w, &s) == MESOS_AUTH_RESULT_OK && s.version == v + 1);
  CHECK(mesos_auth_tls_mapper_generation(m, &g) == MESOS_AUTH_RESULT_OK && g == 2);
  CHECK(map(m, der, der_len, buf) == MESOS_AUTH_RESULT_OK && strcmp(buf, "two-Alice") == 0);
  CHECK(mesos_auth_zk_watch_free(w) == MESOS_AUTH_RESULT_OK);
  CHECK(map(m, der, der_len, buf) == MESOS_AUTH_RESULT_OK && strcmp(buf, "two-Alice") == 0);
  CHECK(mesos_auth_tls_mapper_free(m) == MESOS_AUTH_RESULT_OK);
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

  size_t der_len = 0;
  uint8_t *der = argc > 1 ? read_file(argv[1], &der_len) : NULL;
  CHECK(der && der_len > 0);
  if (der) tls_fail_closed(der, der_len);

  if (argc > 3) {
    char url[128];
    snprintf(url, sizeof url, "zk://127.0.0.1:%s/mesos-auth/acls", argv[2]);
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
    if (der) tls_from_zookeeper(argv[2], argv[3], der, der_len);
  } else {
    printf("zk: no ZooKeeper port given: the watch against a server was not run\n");
  }
  CHECK(mesos_auth_acl_free(acl) == MESOS_AUTH_RESULT_OK);
  free(der);
  return check_report("zk");
}
