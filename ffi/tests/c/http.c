/* C11 test of the HTTP authenticator and the rate limiter: builder errors,
 * Mesos's exact Basic challenge, a password with ':', duplicate and
 * unreadable Authorization headers, the failure throttle, 429 with
 * Retry-After from the rate limiter, credential and limit reloads, the audit
 * callback (no secret in any event), double frees, and 4 threads sharing
 * one authenticator. Run under ASan+UBSan and valgrind by
 * ffi/tests/run-c-tests. */
#define _POSIX_C_SOURCE 200809L
#include "mesos_auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static const char CREDS[] =
    "{\"credentials\": [{\"principal\": \"ops\", \"secret\": \"pa:ss-word-123\"},"
    " {\"principal\": \"dev\", \"secret\": \"dev-secret-4567\"}]}";
static const char CREDS2[] = "{\"credentials\": [{\"principal\": \"ops\", \"secret\": \"rotated-pass-89\"}]}";
/* ops:pa:ss-word-123, ops:wrong, dev:dev-secret-4567, ops:rotated-pass-89 */
static const char OPS_OK[] = "Basic b3BzOnBhOnNzLXdvcmQtMTIz";
static const char OPS_BAD[] = "Basic b3BzOndyb25n";
static const char DEV_OK[] = "Basic ZGV2OmRldi1zZWNyZXQtNDU2Nw==";
static const char OPS_NEW[] = "Basic b3BzOnJvdGF0ZWQtcGFzcy04OQ==";
static const char REALM[] = "mesos-master-readwrite";
static const char CHALLENGE[] = "Basic realm=\"mesos-master-readwrite\"";
static const char LIMITS[] =
    "{\"limits\": [{\"principal\": \"dev\", \"qps\": 0.5, \"capacity\": 0},"
    " {\"principal\": \"ops\"}]}";

static mesos_auth_str s(const char *text) {
  mesos_auth_str v;
  v.data = text;
  v.len = text ? strlen(text) : 0;
  return v;
}

static int str_eq(mesos_auth_str v, const char *want) {
  return v.len == strlen(want) && memcmp(v.data, want, v.len) == 0;
}

/* ---- audit ---- */
static int audit_events = 0;
static int audit_leaks = 0;
static pthread_mutex_t audit_lock = PTHREAD_MUTEX_INITIALIZER;
static void on_audit(void *userdata, const char *json, size_t len) {
  int *count = (int *)userdata;
  pthread_mutex_lock(&audit_lock);
  (*count)++;
  if (json[len] != '\0' || strstr(json, "\"component\":\"http\"") == NULL ||
      strstr(json, "pa:ss") != NULL || strstr(json, "b3Bz") != NULL || strstr(json, "secret-45") != NULL ||
      strstr(json, "qsecret") != NULL)
    audit_leaks++;
  pthread_mutex_unlock(&audit_lock);
}

/* Authenticates one request; returns the status, fills retry/principal. */
static uint32_t run(const mesos_auth_http_authenticator *a, const char *authz, size_t count, const char *peer,
                    uint64_t *retry, char *principal, size_t principal_len) {
  mesos_auth_http_request req;
  memset(&req, 0, sizeof req);
  req.method = s("GET");
  req.path = s("/master/state?token=qsecret");
  req.authorization = s(authz);
  req.authorization_count = count;
  req.peer = s(peer);
  req.user_agent = s("c-test/1");
  mesos_auth_http_outcome *o = NULL;
  CHECK(mesos_auth_http_authenticate(a, &req, &o) == MESOS_AUTH_RESULT_OK);
  if (o == NULL) return 9999;
  uint32_t status = 9999;
  CHECK(mesos_auth_http_outcome_status(o, &status) == MESOS_AUTH_RESULT_OK);
  uint64_t r = 77;
  CHECK(mesos_auth_http_outcome_retry_after_secs(o, &r) == MESOS_AUTH_RESULT_OK);
  if (retry) *retry = r;
  size_t n = 99;
  CHECK(mesos_auth_http_outcome_challenge_count(o, &n) == MESOS_AUTH_RESULT_OK);
  mesos_auth_str v;
  if (status == 401) {
    CHECK(n == 1);
    CHECK(mesos_auth_http_outcome_challenge(o, 0, &v) == MESOS_AUTH_RESULT_OK && str_eq(v, CHALLENGE));
    CHECK(mesos_auth_http_outcome_challenge(o, 1, &v) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
    CHECK(r == 0);
  } else {
    CHECK(n == 0);
  }
  uint32_t method = 99;
  CHECK(mesos_auth_http_outcome_method(o, &method) == MESOS_AUTH_RESULT_OK);
  CHECK(method == (status == 0 ? MESOS_AUTH_HTTP_METHOD_BASIC : MESOS_AUTH_HTTP_METHOD_NONE));
  if (principal) principal[0] = '\0';
  mesos_auth_result pr = mesos_auth_http_outcome_principal(o, &v);
  if (pr == MESOS_AUTH_RESULT_OK && principal && v.len < principal_len) {
    memcpy(principal, v.data, v.len);
    principal[v.len] = '\0';
  } else {
    CHECK(pr == MESOS_AUTH_RESULT_INVALID_STATE);
  }
  CHECK(mesos_auth_http_outcome_free(o) == MESOS_AUTH_RESULT_OK);
  return status;
}

static const mesos_auth_ratelimiter *test_ratelimiter(void) {
  const mesos_auth_ratelimiter *l = NULL;
  uint64_t ms = 5, gen = 5;
  uint32_t d = 9;
  CHECK(mesos_auth_ratelimiter_compile_buffer(LIMITS, strlen(LIMITS), NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_ratelimiter_compile_buffer("{\"limits\": 3}", 13, &l) == MESOS_AUTH_RESULT_PARSE_ERROR);
  CHECK(l == NULL);
  char err[256];
  size_t n = 0;
  CHECK(mesos_auth_last_error(err, sizeof err, &n) == MESOS_AUTH_RESULT_OK && strstr(err, "1:") != NULL);
  CHECK(mesos_auth_ratelimiter_compile_buffer("\xff", 1, &l) == MESOS_AUTH_RESULT_INVALID_UTF8);

  /* From a file, reloaded from it. */
  char path[] = "/tmp/mesos-auth-limits-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  CHECK(write(fd, LIMITS, strlen(LIMITS)) == (ssize_t)strlen(LIMITS));
  close(fd);
  CHECK(mesos_auth_ratelimiter_load_path(path, strlen(path), &l) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_ratelimiter_check(l, "dev", 3, &ms, &d) == MESOS_AUTH_RESULT_OK);
  /* Capacity 0 refuses every request: no retry can succeed. */
  CHECK(d == MESOS_AUTH_RATE_LIMITED && ms > 1000000000u);
  CHECK(mesos_auth_ratelimiter_check(l, "ops", 3, &ms, &d) == MESOS_AUTH_RESULT_OK);
  CHECK(d == MESOS_AUTH_RATE_UNLIMITED && ms == 0);
  CHECK(mesos_auth_ratelimiter_check(l, NULL, 0, &ms, &d) == MESOS_AUTH_RESULT_OK);
  CHECK(d == MESOS_AUTH_RATE_UNLIMITED);
  CHECK(mesos_auth_ratelimiter_check(l, "dev", 3, NULL, &d) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_ratelimiter_reload(l, &gen) == MESOS_AUTH_RESULT_OK && gen == 1);
  CHECK(mesos_auth_ratelimiter_generation(l, &gen) == MESOS_AUTH_RESULT_OK && gen == 1);
  unlink(path);
  CHECK(mesos_auth_ratelimiter_reload(l, &gen) == MESOS_AUTH_RESULT_FILE_ERROR);
  CHECK(mesos_auth_ratelimiter_free(l) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_ratelimiter_free(l) == MESOS_AUTH_RESULT_WRONG_HANDLE);

  /* Allowed, then delayed, then limited (qps 1, capacity 1). */
  static const char ONE[] = "{\"limits\": [{\"principal\": \"a\", \"qps\": 1, \"capacity\": 1}]}";
  CHECK(mesos_auth_ratelimiter_compile_buffer(ONE, strlen(ONE), &l) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_ratelimiter_check(l, "a", 1, &ms, &d) == MESOS_AUTH_RESULT_OK && d == MESOS_AUTH_RATE_ALLOWED);
  CHECK(mesos_auth_ratelimiter_check(l, "a", 1, &ms, &d) == MESOS_AUTH_RESULT_OK && d == MESOS_AUTH_RATE_DELAYED);
  CHECK(ms > 900 && ms <= 1000);
  CHECK(mesos_auth_ratelimiter_check(l, "a", 1, &ms, &d) == MESOS_AUTH_RESULT_OK && d == MESOS_AUTH_RATE_LIMITED);
  CHECK(mesos_auth_ratelimiter_reload(l, &gen) == MESOS_AUTH_RESULT_INVALID_STATE);
  CHECK(mesos_auth_ratelimiter_reload_buffer(l, "[", 1, &gen) == MESOS_AUTH_RESULT_PARSE_ERROR);
  CHECK(mesos_auth_ratelimiter_reload_buffer(l, LIMITS, strlen(LIMITS), &gen) == MESOS_AUTH_RESULT_OK && gen == 1);
  CHECK(mesos_auth_ratelimiter_free(l) == MESOS_AUTH_RESULT_OK);

  CHECK(mesos_auth_ratelimiter_compile_buffer(LIMITS, strlen(LIMITS), &l) == MESOS_AUTH_RESULT_OK);
  const mesos_auth_ratelimiter *l2 = NULL;
  CHECK(mesos_auth_ratelimiter_up_ref(l, &l2) == MESOS_AUTH_RESULT_OK && l2 != l);
  CHECK(mesos_auth_ratelimiter_free(l2) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_ratelimiter_free(NULL) == MESOS_AUTH_RESULT_OK);
  return l;
}

struct worker {
  const mesos_auth_http_authenticator *a;
  int ok;
};

static void *work(void *arg) {
  struct worker *w = (struct worker *)arg;
  char who[64];
  for (int i = 0; i < 200; i++) {
    if (run(w->a, OPS_NEW, 1, "10.9.9.9", NULL, who, sizeof who) == 0 && strcmp(who, "ops") == 0) w->ok++;
  }
  return NULL;
}

int main(void) {
  const mesos_auth_audit *audit = NULL;
  CHECK(mesos_auth_audit_new(on_audit, &audit_events, &audit) == MESOS_AUTH_RESULT_OK);
  const mesos_auth_credentials *creds = NULL;
  CHECK(mesos_auth_credentials_load_buffer((const uint8_t *)CREDS, strlen(CREDS), MESOS_AUTH_CREDENTIALS_FORMAT_JSON,
                                           0, NULL, &creds) == MESOS_AUTH_RESULT_OK);
  const mesos_auth_throttle *throttle = NULL;
  CHECK(mesos_auth_throttle_new(1, 1000, 60000, &throttle) == MESOS_AUTH_RESULT_OK);
  const mesos_auth_ratelimiter *limiter = test_ratelimiter();

  /* Builder errors. */
  mesos_auth_http_builder *b = NULL;
  CHECK(mesos_auth_http_builder_new("", 0, &b) == MESOS_AUTH_RESULT_INVALID_PARAMETER && b == NULL);
  CHECK(mesos_auth_http_builder_new("a\"b", 3, &b) == MESOS_AUTH_RESULT_INVALID_PARAMETER && b == NULL);
  CHECK(mesos_auth_http_builder_new(REALM, strlen(REALM), NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_http_builder_new(REALM, strlen(REALM), &b) == MESOS_AUTH_RESULT_OK);
  const mesos_auth_http_authenticator *a = NULL;
  CHECK(mesos_auth_http_builder_build(b, &a) == MESOS_AUTH_RESULT_INVALID_PARAMETER && a == NULL);
  CHECK(mesos_auth_http_builder_add_basic(b, creds) == MESOS_AUTH_RESULT_INVALID_STATE);
  CHECK(mesos_auth_http_builder_free(b) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_http_builder_free(NULL) == MESOS_AUTH_RESULT_OK);

  CHECK(mesos_auth_http_builder_new(REALM, strlen(REALM), &b) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_http_builder_add_basic(b, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_http_builder_add_basic(b, (const mesos_auth_credentials *)throttle) ==
        MESOS_AUTH_RESULT_WRONG_HANDLE);
  CHECK(mesos_auth_http_builder_add_basic(b, creds) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_http_builder_set_throttle(b, throttle) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_http_builder_set_ratelimiter(b, limiter) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_http_builder_set_audit(b, audit) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_http_builder_build(b, &a) == MESOS_AUTH_RESULT_OK && a != NULL);
  const mesos_auth_http_authenticator *a2 = NULL;
  CHECK(mesos_auth_http_builder_build(b, &a2) == MESOS_AUTH_RESULT_INVALID_STATE && a2 == NULL);
  CHECK(mesos_auth_http_builder_free(b) == MESOS_AUTH_RESULT_OK);
  /* The authenticator keeps its own references. */
  CHECK(mesos_auth_throttle_free(throttle) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_ratelimiter_free(limiter) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_audit_free(audit) == MESOS_AUTH_RESULT_OK);

  /* NULL arguments. */
  mesos_auth_http_outcome *o = NULL;
  mesos_auth_http_request req;
  memset(&req, 0, sizeof req);
  CHECK(mesos_auth_http_authenticate(a, NULL, &o) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_http_authenticate(a, &req, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_http_authenticate(NULL, &req, &o) == MESOS_AUTH_RESULT_NULL_PARAMETER && o == NULL);
  req.method.data = "\xff";
  req.method.len = 1;
  CHECK(mesos_auth_http_authenticate(a, &req, &o) == MESOS_AUTH_RESULT_INVALID_UTF8 && o == NULL);
  CHECK(mesos_auth_http_outcome_free(NULL) == MESOS_AUTH_RESULT_OK);

  char who[64];
  uint64_t retry = 0;
  /* Mesos's wire behaviour; a password holding ':' logs in. */
  CHECK(run(a, NULL, 0, "10.0.0.1", NULL, who, sizeof who) == 401);
  CHECK(run(a, OPS_OK, 1, "10.0.0.1", NULL, who, sizeof who) == 0 && strcmp(who, "ops") == 0);
  /* Two Authorization headers, or one that is not UTF-8: refused. */
  CHECK(run(a, OPS_OK, 2, "10.0.0.1", NULL, who, sizeof who) == 401);
  CHECK(run(a, "Basic \xff\xfe", 1, "10.0.0.2", NULL, who, sizeof who) == 401);
  /* The throttle: one free failure for ops, then 429 with Retry-After
   * even with the right password (from another peer). */
  CHECK(run(a, OPS_BAD, 1, "10.0.0.3", NULL, who, sizeof who) == 401);
  CHECK(run(a, OPS_BAD, 1, "10.0.0.3", NULL, who, sizeof who) == 401);
  CHECK(run(a, OPS_OK, 1, "10.0.0.4", &retry, who, sizeof who) == 429 && retry == 1 && who[0] == '\0');
  /* The rate limiter: dev has capacity 0 (Mesos: always over capacity). */
  CHECK(run(a, DEV_OK, 1, "10.0.0.5", &retry, who, sizeof who) == 429);
  CHECK(retry > 1000000u && strcmp(who, "dev") == 0);

  /* Credential reloads are seen by the built authenticator. */
  uint64_t gen = 0;
  CHECK(mesos_auth_credentials_reload_buffer(creds, (const uint8_t *)CREDS2, strlen(CREDS2), &gen) ==
        MESOS_AUTH_RESULT_OK);
  CHECK(gen == 1);
  CHECK(mesos_auth_credentials_free(creds) == MESOS_AUTH_RESULT_OK);
  CHECK(run(a, OPS_NEW, 1, "10.0.0.6", NULL, who, sizeof who) == 429); /* ops still held back */
  sleep(2);
  CHECK(run(a, OPS_NEW, 1, "10.0.0.6", NULL, who, sizeof who) == 0 && strcmp(who, "ops") == 0);

  /* 4 threads share one authenticator. */
  pthread_t th[4];
  struct worker w[4];
  for (int i = 0; i < 4; i++) {
    w[i].ok = 0;
    CHECK(mesos_auth_http_authenticator_up_ref(a, &w[i].a) == MESOS_AUTH_RESULT_OK);
    pthread_create(&th[i], NULL, work, &w[i]);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    CHECK(w[i].ok == 200);
    CHECK(mesos_auth_http_authenticator_free(w[i].a) == MESOS_AUTH_RESULT_OK);
  }

  CHECK(mesos_auth_http_authenticator_free(a) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_http_authenticator_free(a) == MESOS_AUTH_RESULT_WRONG_HANDLE);
  CHECK(audit_events == 10 + 800);
  CHECK(audit_leaks == 0);
  return check_report("http");
}
