/* C11 test of the bearer-token validator: build from a configuration and a
 * JWKS, accept a token, refuse an expired one (RFC 6750 code out, reason in
 * last_error, the token in neither), JWKS reload (rotation and a broken
 * document), NULLs, bad flags, a too-small buffer, the audit callback, and 4
 * threads sharing one handle. The key is RFC 8037's Ed25519 test key; the
 * tokens were signed with it once and are checked at a fixed time. Run under
 * ASan+UBSan and valgrind by ffi/tests/run-c-tests. */
#include "mesos_auth.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

static const char CONFIG[] = "{\"issuers\": [\"https://idp.test\"], \"audiences\": [\"mesos-master\"]}";
#define JWKS_WITH(kid)                                                                                 \
  "{\"keys\": [{\"kty\": \"OKP\", \"crv\": \"Ed25519\", \"kid\": \"" kid "\", "                        \
  "\"x\": \"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}"
static const char JWKS[] = JWKS_WITH("ed-1");
static const char JWKS_ROTATED[] = JWKS_WITH("ed-2");
/* sub alice, nbf 1700000000, exp 1900000000 (and 1750000000), kid ed-1. */
static const char GOOD[] =
    "eyJhbGciOiJFZERTQSIsImtpZCI6ImVkLTEifQ."
    "eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjoibWVzb3MtbWFzdGVyIiwic3ViIjoiYWxpY2UiLCJuYmYiOjE3MDAwMDAwMDAsImV4cCI6MTkwMDAwMDAwMH0."
    "2tV4b4ZrsCOqByuUxVewQ2fKQ7nL89TNZ9zeZbyicBs3Bc9Gf04rpoxbo5F_9TB04B_wt6gdekXoRx5nn434AQ";
static const char EXPIRED[] =
    "eyJhbGciOiJFZERTQSIsImtpZCI6ImVkLTEifQ."
    "eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjoibWVzb3MtbWFzdGVyIiwic3ViIjoiYWxpY2UiLCJuYmYiOjE3MDAwMDAwMDAsImV4cCI6MTc1MDAwMDAwMH0."
    "X11Of9dlyq0nJGxVoTVGIokbAbnjXJMWwUTIsIB6nsYN1dR4EseVMESzI8OlDbzKNfAsU5AjxdxqR1LIjbpfBA";
static const uint64_t NOW = 1800000000;

static char last[512];
static const char *last_error(void) {
  size_t n = 0;
  if (mesos_auth_last_error(last, sizeof last, &n) != MESOS_AUTH_RESULT_OK) last[0] = '\0';
  return last;
}

static int events = 0;
static int leaked = 0;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void on_audit(void *userdata, const char *json, size_t len) {
  (void)userdata;
  pthread_mutex_lock(&lock);
  events++;
  /* Never the token's claims or signature. */
  if (strstr(json, "X11Of9dly") || strstr(json, "2tV4b4Zrs") || strstr(json, "eyJpc3Mi")) leaked++;
  if (json[len] != '\0' || strstr(json, "\"component\":\"bearer\"") == NULL) leaked++;
  pthread_mutex_unlock(&lock);
}

static mesos_auth_result validate(const mesos_auth_bearer *b, const char *token, const mesos_auth_audit *audit,
                                  char *buf, size_t len, mesos_auth_str *code) {
  size_t n = 0;
  return mesos_auth_bearer_validate(b, token, strlen(token), NOW, audit, buf, len, &n, code);
}

static void *worker(void *arg) {
  const mesos_auth_bearer *b = (const mesos_auth_bearer *)arg;
  char buf[257];
  mesos_auth_str code;
  for (int i = 0; i < 200; i++) {
    CHECK(validate(b, GOOD, NULL, buf, sizeof buf, &code) == MESOS_AUTH_RESULT_OK && strcmp(buf, "alice") == 0);
    CHECK(validate(b, EXPIRED, NULL, buf, sizeof buf, &code) == MESOS_AUTH_RESULT_REJECTED);
  }
  return NULL;
}

/* The validator as an HTTP authenticator's Bearer scheme, next to nothing
 * else: a valid token authenticates its `sub` (the system clock is before
 * GOOD's exp in 2030), an expired one gets RFC 6750's challenge, and the
 * builder's reference outlives the caller's. */
static void test_http(const mesos_auth_bearer *b) {
  mesos_auth_http_builder *hb = NULL;
  const mesos_auth_http_authenticator *a = NULL;
  CHECK(mesos_auth_http_builder_new("mesos", 5, &hb) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_http_builder_add_bearer(hb, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_http_builder_add_bearer(hb, b) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_http_builder_build(hb, &a) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_http_builder_free(hb) == MESOS_AUTH_RESULT_OK);
  char header[1024];
  const char *tokens[2] = {GOOD, EXPIRED};
  for (int i = 0; i < 2; i++) {
    snprintf(header, sizeof header, "Bearer %s", tokens[i]);
    mesos_auth_http_request req;
    memset(&req, 0, sizeof req);
    req.method = (mesos_auth_str){"GET", 3};
    req.path = (mesos_auth_str){"/state", 6};
    req.authorization = (mesos_auth_str){header, strlen(header)};
    req.authorization_count = 1;
    mesos_auth_http_outcome *o = NULL;
    uint32_t status = 99;
    CHECK(mesos_auth_http_authenticate(a, &req, &o) == MESOS_AUTH_RESULT_OK);
    CHECK(mesos_auth_http_outcome_status(o, &status) == MESOS_AUTH_RESULT_OK);
    if (i == 0) {
      mesos_auth_str p = {NULL, 0};
      uint32_t method = 0;
      CHECK(status == 0);
      CHECK(mesos_auth_http_outcome_principal(o, &p) == MESOS_AUTH_RESULT_OK && p.len == 5 &&
            memcmp(p.data, "alice", 5) == 0);
      CHECK(mesos_auth_http_outcome_method(o, &method) == MESOS_AUTH_RESULT_OK &&
            method == MESOS_AUTH_HTTP_METHOD_BEARER);
    } else {
      mesos_auth_str c = {NULL, 0};
      size_t n = 0;
      const char want[] = "Bearer realm=\"mesos\", error=\"invalid_token\"";
      CHECK(status == 401);
      CHECK(mesos_auth_http_outcome_challenge_count(o, &n) == MESOS_AUTH_RESULT_OK && n == 1);
      CHECK(mesos_auth_http_outcome_challenge(o, 0, &c) == MESOS_AUTH_RESULT_OK && c.len == strlen(want) &&
            memcmp(c.data, want, c.len) == 0);
    }
    CHECK(mesos_auth_http_outcome_free(o) == MESOS_AUTH_RESULT_OK);
  }
  CHECK(mesos_auth_http_authenticator_free(a) == MESOS_AUTH_RESULT_OK);
}

int main(void) {
  const mesos_auth_bearer *b = NULL;
  const mesos_auth_audit *audit = NULL;
  char buf[257];
  size_t n = 0;
  mesos_auth_str code = {NULL, 0};
  uint64_t gen = 99;

  CHECK(mesos_auth_audit_new(on_audit, NULL, &audit) == MESOS_AUTH_RESULT_OK);

  /* Construction: NULLs, bad flags, a bad document located, a bad mix. */
  CHECK(mesos_auth_bearer_new(CONFIG, strlen(CONFIG), (const uint8_t *)JWKS, strlen(JWKS), 0, NULL) ==
        MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_bearer_new(NULL, 4, (const uint8_t *)JWKS, strlen(JWKS), 0, &b) ==
        MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_bearer_new(CONFIG, strlen(CONFIG), (const uint8_t *)JWKS, strlen(JWKS), 8, &b) ==
        MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(mesos_auth_bearer_new(CONFIG, strlen(CONFIG), (const uint8_t *)"{\"keys\": 1}", 11, 0, &b) ==
        MESOS_AUTH_RESULT_PARSE_ERROR);
  CHECK(strstr(last_error(), "JWKS: 1:10: $.keys: expected an array") != NULL);
  CHECK(mesos_auth_bearer_new(CONFIG, strlen(CONFIG), (const uint8_t *)JWKS, strlen(JWKS),
                              MESOS_AUTH_BEARER_SHARED_SECRET, &b) == MESOS_AUTH_RESULT_PARSE_ERROR);
  CHECK(b == NULL);
  CHECK(mesos_auth_bearer_new(CONFIG, strlen(CONFIG), (const uint8_t *)JWKS, strlen(JWKS), 0, &b) ==
        MESOS_AUTH_RESULT_OK);
  CHECK(b != NULL);

  test_http(b);

  /* Accepted. */
  CHECK(validate(b, GOOD, audit, buf, sizeof buf, &code) == MESOS_AUTH_RESULT_OK);
  CHECK(strcmp(buf, "alice") == 0 && code.len == 0);
  /* Refused: the peer's code, the local reason, neither with the token. */
  CHECK(validate(b, EXPIRED, audit, buf, sizeof buf, &code) == MESOS_AUTH_RESULT_REJECTED);
  CHECK(code.len == strlen("invalid_token") && memcmp(code.data, "invalid_token", code.len) == 0);
  CHECK(strstr(last_error(), "expired: `exp` 1750000000") != NULL);
  CHECK(strstr(last, "X11Of9dly") == NULL);
  CHECK(validate(b, "", NULL, buf, sizeof buf, &code) == MESOS_AUTH_RESULT_REJECTED);
  CHECK(code.len == strlen("invalid_request") && memcmp(code.data, "invalid_request", code.len) == 0);
  /* Arguments. */
  CHECK(mesos_auth_bearer_validate(b, GOOD, strlen(GOOD), NOW, NULL, buf, sizeof buf, &n, NULL) ==
        MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_bearer_validate(b, "\xff", 1, NOW, NULL, buf, sizeof buf, &n, &code) ==
        MESOS_AUTH_RESULT_INVALID_UTF8);
  CHECK(mesos_auth_bearer_validate(b, GOOD, strlen(GOOD), NOW, NULL, buf, 3, &n, &code) ==
        MESOS_AUTH_RESULT_BUFFER_TOO_SMALL);
  CHECK(n == 6);
  CHECK(mesos_auth_bearer_validate((const mesos_auth_bearer *)(const void *)audit, GOOD, strlen(GOOD), NOW, NULL,
                                   buf, sizeof buf, &n, &code) == MESOS_AUTH_RESULT_WRONG_HANDLE);

  /* Rotation: the old kid is refused after the reload; a broken document
   * keeps the current keys; rotating back accepts again. */
  CHECK(mesos_auth_bearer_reload_jwks_buffer(b, (const uint8_t *)JWKS_ROTATED, strlen(JWKS_ROTATED), &gen) ==
        MESOS_AUTH_RESULT_OK);
  CHECK(gen == 1);
  CHECK(validate(b, GOOD, NULL, buf, sizeof buf, &code) == MESOS_AUTH_RESULT_REJECTED);
  CHECK(strstr(last_error(), "`kid` is not in the key set") != NULL);
  CHECK(mesos_auth_bearer_reload_jwks_buffer(b, (const uint8_t *)"{", 1, &gen) == MESOS_AUTH_RESULT_PARSE_ERROR);
  CHECK(gen == 1);
  CHECK(mesos_auth_bearer_reload_jwks_buffer(b, (const uint8_t *)JWKS, strlen(JWKS), &gen) == MESOS_AUTH_RESULT_OK);
  CHECK(gen == 2);
  CHECK(validate(b, GOOD, NULL, buf, sizeof buf, &code) == MESOS_AUTH_RESULT_OK);

  /* Shared by threads, through a second reference. */
  const mesos_auth_bearer *b2 = NULL;
  CHECK(mesos_auth_bearer_up_ref(b, &b2) == MESOS_AUTH_RESULT_OK && b2 != NULL && b2 != b);
  pthread_t t[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, (void *)b2);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);

  CHECK(events == 2 && leaked == 0);
  CHECK(mesos_auth_bearer_free(b2) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_bearer_free(b) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_bearer_free(b) == MESOS_AUTH_RESULT_WRONG_HANDLE);
  CHECK(mesos_auth_bearer_free(NULL) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_audit_free(audit) == MESOS_AUTH_RESULT_OK);
  return check_report("bearer");
}
