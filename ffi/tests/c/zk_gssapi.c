/* C11 test of the ZooKeeper watch over SASL GSSAPI (Kerberos), from C,
 * against a real MIT KDC and a Kerberized ZooKeeper that run-c-tests
 * starts (issue 17). The library is built with `zk` and `gssapi`; run
 * against the static library (ASan+UBSan, valgrind) and the shared one
 * (ASan), because the client's GSSAPI mechanism is registered in a
 * linker section that a static link may drop.
 *
 * argv: ZooKeeper's port, the realm's directory (zkmaster.keytab, the
 * stale zkmaster-old.keytab), the `mesos-auth` CLI (built with cli, zk,
 * gssapi) that pushes the policy. The environment, set by run-c-tests as
 * MIT Kerberos needs it: KRB5_CONFIG, KRB5_CLIENT_KTNAME naming
 * zkmaster.keytab, KRB5CCNAME naming a cache of this run alone.
 *
 * It pushes a policy allowing `ops` to run tasks as `root`; a watch with
 * the stale keytab is refused with a clear error and applies nothing; a
 * watch with the right keytab serves the znode (allowed), then the push of
 * a policy without the rule swaps in (denied). */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include "mesos_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

#define PRINCIPAL "zkmaster@MESOS.TEST"
static const char DENY[] = "{\"permissive\": false}";
static const char ALLOW[] =
    "{\"permissive\": false, \"run_tasks\": [{\"principals\": {\"values\": [\"ops\"]}, \"users\": {\"values\": "
    "[\"root\"]}}]}";

static mesos_auth_str str(const char *s) {
  mesos_auth_str v;
  v.data = s;
  v.len = strlen(s);
  return v;
}

/* Whether `ops` may run tasks as `root` under the policy serving now. */
static int ops_root_allowed(const mesos_auth_acl *acl) {
  mesos_auth_acl_request r;
  memset(&r, 0, sizeof r);
  r.action = MESOS_AUTH_ACL_ACTION_RUN_TASK;
  r.principal = str("ops");
  r.object.kind = MESOS_AUTH_ACL_OBJECT_KIND_ONE;
  r.object.value = str("root");
  mesos_auth_acl_decision d;
  CHECK(mesos_auth_acl_authorize(acl, &r, &d) == MESOS_AUTH_RESULT_OK);
  return d.allowed;
}

static uint64_t generation(const mesos_auth_acl *acl) {
  uint64_t g = 0;
  CHECK(mesos_auth_acl_generation(acl, &g) == MESOS_AUTH_RESULT_OK);
  return g;
}

static int64_t version(const mesos_auth_zk_watch *w) {
  mesos_auth_zk_status s;
  if (mesos_auth_zk_watch_status(w, &s) != MESOS_AUTH_RESULT_OK) return -2;
  return s.version;
}

/* Writes `policy` to `dir`/policy.json and pushes it with the CLI, which
 * logs in with its own keytab (it runs itself with its own Kerberos
 * variables). */
static int push(const char *cli, const char *dir, const char *url_base, const char *policy) {
  char file[1024], cmd[4096];
  snprintf(file, sizeof file, "%s/policy.json", dir);
  FILE *f = fopen(file, "w");
  if (!f) return 0;
  fputs(policy, f);
  fclose(f);
  snprintf(cmd, sizeof cmd,
           "'%s' zk push --acls '%s' --sasl-gssapi " PRINCIPAL
           " --keytab '%s/zkmaster.keytab' --gssapi-host localhost '%s' >'%s/push.log' 2>&1",
           cli, file, dir, url_base, dir);
  int rc = system(cmd);
  if (rc != 0) fprintf(stderr, "push failed (%d); see %s/push.log\n", rc, dir);
  return rc == 0;
}

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

static mesos_auth_zk_config gssapi_config(const char *keytab, uint32_t startup_ms) {
  mesos_auth_zk_config c;
  memset(&c, 0, sizeof c);
  c.session_timeout_ms = 4000;
  c.startup_timeout_ms = startup_ms;
  c.sasl_gssapi_principal = str(PRINCIPAL);
  c.sasl_gssapi_keytab = str(keytab);
  /* ZooKeeper is zookeeper/localhost; the URL says 127.0.0.1. */
  c.sasl_gssapi_host = str("localhost");
  return c;
}

static int last_error_has(const char *needle) {
  char buf[2048];
  size_t n = 0;
  if (mesos_auth_last_error(buf, sizeof buf, &n) != MESOS_AUTH_RESULT_OK) return 0;
  if (!strstr(buf, needle)) {
    fprintf(stderr, "last error `%s` lacks `%s`\n", buf, needle);
    return 0;
  }
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s ZK_PORT REALM_DIR MESOS_AUTH_CLI\n", argv[0]);
    return 2;
  }
  const char *port = argv[1], *dir = argv[2], *cli = argv[3];
  CHECK(MESOS_AUTH_CHECK_VERSION() == MESOS_AUTH_RESULT_OK);
  char base[256], url[300], good[1024], stale[1024], stale_env[1100], stale_cc[1100];
  snprintf(base, sizeof base, "zk://127.0.0.1:%s/c-gssapi", port);
  snprintf(url, sizeof url, "%s/acls", base);
  snprintf(good, sizeof good, "%s/zkmaster.keytab", dir);
  snprintf(stale, sizeof stale, "%s/zkmaster-old.keytab", dir);
  snprintf(stale_env, sizeof stale_env, "FILE:%s", stale);
  snprintf(stale_cc, sizeof stale_cc, "FILE:%s/cc-stale-%ld", dir, (long)time(NULL));

  /* The znode: a policy with one rule (ZooKeeper's version grows by one
   * per push, whatever earlier runs left). */
  long t = now_ms();
  CHECK(push(cli, dir, base, ALLOW));
  printf("first push: %ld ms\n", now_ms() - t);

  const mesos_auth_acl *acl = NULL;
  CHECK(mesos_auth_acl_compile_buffer(DENY, strlen(DENY), 0, NULL, &acl) == MESOS_AUTH_RESULT_OK && acl);
  if (!acl) return check_report("zk_gssapi");
  CHECK(!ops_root_allowed(acl));
  uint64_t g0 = generation(acl);

  /* A stale keytab (zkmaster's key changed since): refused before any
   * session, by name and reason, and nothing applied. MIT Kerberos reads
   * the client keytab from the environment, so it names the stale one for
   * this attempt; no other thread runs while it changes. */
  const char *saved_kt = getenv("KRB5_CLIENT_KTNAME");
  const char *saved_cc = getenv("KRB5CCNAME");
  char kt_copy[1100] = "", cc_copy[1100] = "";
  if (saved_kt) snprintf(kt_copy, sizeof kt_copy, "%s", saved_kt);
  if (saved_cc) snprintf(cc_copy, sizeof cc_copy, "%s", saved_cc);
  CHECK(saved_kt && saved_cc);
  CHECK(setenv("KRB5_CLIENT_KTNAME", stale_env, 1) == 0 && setenv("KRB5CCNAME", stale_cc, 1) == 0);
  const mesos_auth_zk_watch *w = NULL;
  /* The watch retries until the start-up bound (a keytab may be fixed
   * while it waits), so the bound is short here. */
  mesos_auth_zk_config c = gssapi_config(stale, 1500);
  t = now_ms();
  CHECK(mesos_auth_zk_watch_acl(acl, url, strlen(url), &c, &w) == MESOS_AUTH_RESULT_ZK_UNAVAILABLE && !w);
  CHECK(last_error_has("Kerberos authentication as `" PRINCIPAL "`"));
  CHECK(last_error_has("Decrypt integrity check failed"));
  printf("stale keytab refused: %ld ms\n", now_ms() - t);
  CHECK(generation(acl) == g0 && !ops_root_allowed(acl));
  if (w) mesos_auth_zk_watch_free(w);
  w = NULL;
  CHECK(setenv("KRB5_CLIENT_KTNAME", kt_copy, 1) == 0 && setenv("KRB5CCNAME", cc_copy, 1) == 0);

  /* The right keytab: the znode's policy serves (the watch start waits for
   * it), then the next push swaps in. */
  c = gssapi_config(good, 15000);
  t = now_ms();
  mesos_auth_result r = mesos_auth_zk_watch_acl(acl, url, strlen(url), &c, &w);
  CHECK(r == MESOS_AUTH_RESULT_OK && w);
  if (r != MESOS_AUTH_RESULT_OK) {
    char buf[2048];
    size_t n = 0;
    mesos_auth_last_error(buf, sizeof buf, &n);
    fprintf(stderr, "watch over GSSAPI: %s\n", buf);
  }
  printf("watch started: %ld ms\n", now_ms() - t);
  if (w) {
    int64_t v = version(w);
    CHECK(v >= 0);
    CHECK(ops_root_allowed(acl) && generation(acl) == g0 + 1);
    mesos_auth_zk_status s;
    CHECK(mesos_auth_zk_watch_status(w, &s) == MESOS_AUTH_RESULT_OK && s.connected && !s.fail_closed);
    CHECK(mesos_auth_zk_watch_check_fresh(w) == MESOS_AUTH_RESULT_OK);

    t = now_ms();
    CHECK(push(cli, dir, base, DENY));
    printf("second push: %ld ms\n", now_ms() - t);
    for (int i = 0; i < 200 && version(w) != v + 1; i++) sleep_ms(50);
    CHECK(version(w) == v + 1);
    printf("swap seen: %ld ms after the push began\n", now_ms() - t);
    CHECK(!ops_root_allowed(acl) && generation(acl) == g0 + 2);
    char buf[256];
    size_t n = 99;
    CHECK(mesos_auth_zk_watch_last_error(w, buf, sizeof buf, &n) == MESOS_AUTH_RESULT_OK && n == 0);
    t = now_ms();
    CHECK(mesos_auth_zk_watch_free(w) == MESOS_AUTH_RESULT_OK);
    printf("watch stopped: %ld ms\n", now_ms() - t);
  }
  /* Stopped: the handle keeps the last policy. */
  CHECK(!ops_root_allowed(acl));
  CHECK(mesos_auth_acl_free(acl) == MESOS_AUTH_RESULT_OK);
  return check_report("zk_gssapi");
}
