/* C11 test of the component handles: credentials, CRAM-MD5 sessions, TLS
 * mapper, audit callback. NULL arguments, invalid UTF-8, interior NUL, wrong
 * handle kinds, double _free of NULL, a full CRAM-MD5 exchange, a TLS mapping
 * of a DER certificate (path in argv[1]), and 4 threads sharing one store and
 * one mapper. Run under ASan+UBSan and valgrind by ffi/tests/run-c-tests. */
#define _POSIX_C_SOURCE 200809L
#include "mesos_auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static const char CREDS[] = "tim tanstaaftanstaaf-0123\nbob bobs-long-secret-456\n";
static const char RULES[] = "[\"RULE:^CN=([^,]+),OU=agents,O=Acme$/agent:$1/L\"]";

static void last_error(char *buf, size_t len) {
  size_t n = 0;
  if (mesos_auth_last_error(buf, len, &n) != MESOS_AUTH_RESULT_OK) buf[0] = '\0';
}

/* ---- audit ---- */
static int audit_events = 0;
static pthread_mutex_t audit_lock = PTHREAD_MUTEX_INITIALIZER;
static void on_audit(void *userdata, const char *json, size_t len) {
  int *count = (int *)userdata;
  pthread_mutex_lock(&audit_lock);
  (*count)++;
  pthread_mutex_unlock(&audit_lock);
  /* NUL-terminated, one JSON object, no secret. */
  if (json[len] != '\0' || json[0] != '{' || strstr(json, "tanstaaf") != NULL) failures++;
}

static const mesos_auth_audit *make_audit(void) {
  const mesos_auth_audit *a = NULL;
  CHECK(mesos_auth_audit_new(NULL, NULL, &a) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(a == NULL);
  CHECK(mesos_auth_audit_new(on_audit, &audit_events, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_audit_new(on_audit, &audit_events, &a) == MESOS_AUTH_RESULT_OK);
  CHECK(a != NULL);
  CHECK(mesos_auth_audit_free(NULL) == MESOS_AUTH_RESULT_OK);
  return a;
}

/* ---- credentials ---- */
static const mesos_auth_credentials *test_credentials(const mesos_auth_audit *audit) {
  const mesos_auth_credentials *c = NULL;
  char err[256];
  size_t n = 0;
  uint64_t gen = 99;

  /* NULLs, bad enum values, bad flags. */
  CHECK(mesos_auth_credentials_load_buffer((const uint8_t *)CREDS, strlen(CREDS), 0, 0, NULL, NULL) ==
        MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_credentials_load_buffer(NULL, 5, 0, 0, NULL, &c) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_credentials_load_buffer((const uint8_t *)CREDS, strlen(CREDS), 7, 0, NULL, &c) ==
        MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(mesos_auth_credentials_load_buffer((const uint8_t *)CREDS, strlen(CREDS), 0, 0x80, NULL, &c) ==
        MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(mesos_auth_credentials_load_buffer((const uint8_t *)CREDS, strlen(CREDS), 0,
                                           MESOS_AUTH_CREDENTIALS_ALLOW_INSECURE_PERMISSIONS, NULL,
                                           &c) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(c == NULL);

  /* Parse errors say where, never the secret. */
  static const char BAD[] = "{\"credentials\": [{\"principal\": \"a\", \"secret\": \"hunter2hunter2\", \"x\": 1}]}";
  CHECK(mesos_auth_credentials_load_buffer((const uint8_t *)BAD, strlen(BAD),
                                           MESOS_AUTH_CREDENTIALS_FORMAT_JSON, 0, NULL,
                                           &c) == MESOS_AUTH_RESULT_PARSE_ERROR);
  CHECK(c == NULL);
  last_error(err, sizeof err);
  CHECK(strstr(err, "1:") != NULL);
  CHECK(strstr(err, "hunter2") == NULL);

  /* The text format with FORMAT_AUTO: refused in both modes, at 1:1
     (strict never accepts what lenient refuses). */
  CHECK(mesos_auth_credentials_load_buffer((const uint8_t *)CREDS, strlen(CREDS),
                                           MESOS_AUTH_CREDENTIALS_FORMAT_AUTO, 0, NULL,
                                           &c) == MESOS_AUTH_RESULT_PARSE_ERROR);
  last_error(err, sizeof err);
  CHECK(strstr(err, "1:1") != NULL);
  CHECK(mesos_auth_credentials_load_buffer((const uint8_t *)CREDS, strlen(CREDS),
                                           MESOS_AUTH_CREDENTIALS_FORMAT_AUTO, MESOS_AUTH_CREDENTIALS_LENIENT,
                                           NULL, &c) == MESOS_AUTH_RESULT_PARSE_ERROR);
  CHECK(c == NULL);

  /* A good buffer. */
  CHECK(mesos_auth_credentials_load_buffer((const uint8_t *)CREDS, strlen(CREDS),
                                           MESOS_AUTH_CREDENTIALS_FORMAT_TEXT, 0, audit,
                                           &c) == MESOS_AUTH_RESULT_OK);
  CHECK(c != NULL);
  CHECK(mesos_auth_credentials_count(c, &n) == MESOS_AUTH_RESULT_OK && n == 2);
  CHECK(mesos_auth_credentials_count(c, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_credentials_count(NULL, &n) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_credentials_generation(c, &gen) == MESOS_AUTH_RESULT_OK && gen == 0);
  CHECK(mesos_auth_credentials_generation(c, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_credentials_findings_count(c, &n) == MESOS_AUTH_RESULT_OK && n == 0);
  CHECK(mesos_auth_credentials_findings_count(NULL, &n) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_credentials_finding(c, 0, err, sizeof err, &n) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
  /* A buffer handle cannot re-read a file. */
  CHECK(mesos_auth_credentials_reload(c, &gen) == MESOS_AUTH_RESULT_INVALID_STATE);
  CHECK(mesos_auth_credentials_reload(c, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);

  /* Reload from a buffer: invalid refused, old store stays; valid swaps. */
  static const char DUP[] = "a aaaaaaaaaaaaaaaaaaaa\na bbbbbbbbbbbbbbbbbbbbbb\n";
  CHECK(mesos_auth_credentials_reload_buffer(c, (const uint8_t *)DUP, strlen(DUP), &gen) ==
        MESOS_AUTH_RESULT_PARSE_ERROR);
  CHECK(mesos_auth_credentials_count(c, &n) == MESOS_AUTH_RESULT_OK && n == 2);
  CHECK(mesos_auth_credentials_generation(c, &gen) == MESOS_AUTH_RESULT_OK && gen == 0);
  static const char WEAK[] = "tim tanstaaftanstaaf-0123\nbob bobs-long-secret-456\neve x\n";
  CHECK(mesos_auth_credentials_reload_buffer(c, (const uint8_t *)WEAK, strlen(WEAK), &gen) ==
        MESOS_AUTH_RESULT_OK);
  CHECK(gen == 1);
  CHECK(mesos_auth_credentials_count(c, &n) == MESOS_AUTH_RESULT_OK && n == 3);
  CHECK(mesos_auth_credentials_findings_count(c, &n) == MESOS_AUTH_RESULT_OK && n >= 1);
  {
    char small[4] = {'x', 'x', 'x', 'x'};
    size_t need = 0;
    CHECK(mesos_auth_credentials_finding(c, 0, small, sizeof small, &need) ==
          MESOS_AUTH_RESULT_BUFFER_TOO_SMALL);
    CHECK(need > sizeof small && small[0] == 'x');
    CHECK(mesos_auth_credentials_finding(c, 0, err, sizeof err, &n) == MESOS_AUTH_RESULT_OK);
    CHECK(strstr(err, "eve") != NULL && n == strlen(err));
    CHECK(mesos_auth_credentials_finding(c, 0, NULL, 10, &n) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  }
  CHECK(mesos_auth_credentials_reload_buffer(c, NULL, 3, &gen) == MESOS_AUTH_RESULT_NULL_PARAMETER);

  /* From a file: permissions checked unless opted out. */
  char path[] = "/tmp/mesos-auth-ffi-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd >= 0) {
    CHECK(write(fd, CREDS, strlen(CREDS)) == (ssize_t)strlen(CREDS));
    close(fd);
    const mesos_auth_credentials *f = NULL;
    /* The text format is read only when asked for (Mesos >= 1.11 reads JSON). */
    CHECK(mesos_auth_credentials_load_path(path, strlen(path), MESOS_AUTH_CREDENTIALS_FORMAT_AUTO, 0, NULL, &f) ==
          MESOS_AUTH_RESULT_PARSE_ERROR);
    CHECK(f == NULL);
    CHECK(mesos_auth_credentials_load_path(path, strlen(path), MESOS_AUTH_CREDENTIALS_FORMAT_TEXT, 0, NULL, &f) ==
          MESOS_AUTH_RESULT_OK);
    CHECK(mesos_auth_credentials_reload(f, &gen) == MESOS_AUTH_RESULT_OK && gen == 1);
    CHECK(mesos_auth_credentials_free(f) == MESOS_AUTH_RESULT_OK);
    f = NULL;
    CHECK(chmod(path, 0644) == 0);
    CHECK(mesos_auth_credentials_load_path(path, strlen(path), 0, 0, NULL, &f) == MESOS_AUTH_RESULT_FILE_ERROR);
    CHECK(f == NULL);
    last_error(err, sizeof err);
    CHECK(strstr(err, "0644") != NULL);
    CHECK(mesos_auth_credentials_load_path(path, strlen(path), MESOS_AUTH_CREDENTIALS_FORMAT_TEXT,
                                           MESOS_AUTH_CREDENTIALS_ALLOW_INSECURE_PERMISSIONS, NULL,
                                           &f) == MESOS_AUTH_RESULT_OK);
    CHECK(mesos_auth_credentials_findings_count(f, &n) == MESOS_AUTH_RESULT_OK && n >= 1);
    CHECK(mesos_auth_credentials_free(f) == MESOS_AUTH_RESULT_OK);
    unlink(path);
    f = NULL;
    CHECK(mesos_auth_credentials_load_path(path, strlen(path), 0, 0, NULL, &f) == MESOS_AUTH_RESULT_FILE_ERROR);
  }
  /* Path strings: invalid UTF-8, interior NUL, NULL. */
  {
    const mesos_auth_credentials *f = NULL;
    CHECK(mesos_auth_credentials_load_path("/tmp/\xff\xfe", 7, 0, 0, NULL, &f) == MESOS_AUTH_RESULT_INVALID_UTF8);
    CHECK(mesos_auth_credentials_load_path("/tmp/a\0b", 8, 0, 0, NULL, &f) == MESOS_AUTH_RESULT_INVALID_UTF8);
    CHECK(mesos_auth_credentials_load_path(NULL, 4, 0, 0, NULL, &f) == MESOS_AUTH_RESULT_NULL_PARAMETER);
    CHECK(f == NULL);
  }
  CHECK(mesos_auth_credentials_free(NULL) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_credentials_free(NULL) == MESOS_AUTH_RESULT_OK);
  return c;
}

/* ---- CRAM-MD5 ---- */

/* Shuttles messages between the two sessions until both are quiet. */
static void exchange(mesos_auth_authenticator *server, mesos_auth_authenticatee *client) {
  for (int round = 0; round < 10; round++) {
    int moved = 0;
    mesos_auth_message m;
    while (mesos_auth_authenticator_poll_output(server, &m) == MESOS_AUTH_RESULT_OK &&
           m.kind != MESOS_AUTH_MESSAGE_KIND_NONE) {
      (void)mesos_auth_authenticatee_feed(client, &m);
      moved = 1;
    }
    while (mesos_auth_authenticatee_poll_output(client, &m) == MESOS_AUTH_RESULT_OK &&
           m.kind != MESOS_AUTH_MESSAGE_KIND_NONE) {
      (void)mesos_auth_authenticator_feed(server, &m);
      moved = 1;
    }
    if (!moved) return;
  }
}

static void test_cram_md5(const mesos_auth_credentials *creds, const mesos_auth_audit *audit) {
  mesos_auth_authenticator *s = NULL;
  mesos_auth_authenticatee *c = NULL;
  uint32_t st = 99;
  mesos_auth_str p;

  /* Creation errors. */
  CHECK(mesos_auth_authenticator_new(NULL, 0, NULL, 0, NULL, &s) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_authenticator_new(creds, 0, NULL, 0, NULL, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_authenticator_new(creds, 0, "peer\xff", 5, NULL, &s) == MESOS_AUTH_RESULT_INVALID_UTF8);
  /* Wrong kind: an audit handle where a store is expected. */
  CHECK(mesos_auth_authenticator_new((const mesos_auth_credentials *)(const void *)audit, 0, NULL, 0, NULL,
                                     &s) == MESOS_AUTH_RESULT_WRONG_HANDLE);
  CHECK(s == NULL);
  CHECK(mesos_auth_authenticatee_new("tim", 3, NULL, 0, NULL, &c) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(mesos_auth_authenticatee_new("t\0m", 3, (const uint8_t *)"x", 1, NULL, &c) ==
        MESOS_AUTH_RESULT_INVALID_UTF8);
  CHECK(mesos_auth_authenticatee_new("\xc3\x28", 2, (const uint8_t *)"x", 1, NULL, &c) ==
        MESOS_AUTH_RESULT_INVALID_UTF8);
  CHECK(mesos_auth_authenticatee_new("", 0, (const uint8_t *)"x", 1, NULL, &c) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(mesos_auth_authenticatee_new("tim", 3, (const uint8_t *)"x", 1, NULL, NULL) ==
        MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(c == NULL);

  /* A good exchange. */
  CHECK(mesos_auth_authenticator_new(creds, 5000, "10.0.0.1:5050", 13, audit, &s) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticatee_new("tim", 3, (const uint8_t *)"tanstaaftanstaaf-0123", 21, audit, &c) ==
        MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticator_status(s, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_PENDING);
  CHECK(mesos_auth_authenticator_principal(s, &p) == MESOS_AUTH_RESULT_INVALID_STATE);
  exchange(s, c);
  CHECK(mesos_auth_authenticator_status(s, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_COMPLETED);
  CHECK(mesos_auth_authenticatee_status(c, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_COMPLETED);
  CHECK(mesos_auth_authenticator_principal(s, &p) == MESOS_AUTH_RESULT_OK);
  CHECK(p.len == 3 && memcmp(p.data, "tim", 3) == 0);
  /* Wrong kinds: a session of the other side. */
  CHECK(mesos_auth_authenticator_status((const mesos_auth_authenticator *)(const void *)c, &st) ==
        MESOS_AUTH_RESULT_WRONG_HANDLE);
  CHECK(mesos_auth_authenticatee_free((mesos_auth_authenticatee *)(void *)s) == MESOS_AUTH_RESULT_WRONG_HANDLE);
  /* After the end: a message is a protocol error, the status stays. */
  {
    mesos_auth_message m = {MESOS_AUTH_MESSAGE_KIND_STEP, {NULL, 0}, {(const uint8_t *)"x", 1}};
    CHECK(mesos_auth_authenticator_feed(s, &m) == MESOS_AUTH_RESULT_PROTOCOL_ERROR);
    CHECK(mesos_auth_authenticator_status(s, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_COMPLETED);
  }
  CHECK(mesos_auth_authenticator_free(s) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticatee_free(c) == MESOS_AUTH_RESULT_OK);

  /* A wrong secret: FAILED on both sides, no principal. */
  CHECK(mesos_auth_authenticator_new(creds, 0, NULL, 0, audit, &s) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticatee_new("tim", 3, (const uint8_t *)"wrong", 5, NULL, &c) == MESOS_AUTH_RESULT_OK);
  exchange(s, c);
  CHECK(mesos_auth_authenticator_status(s, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_FAILED);
  CHECK(mesos_auth_authenticatee_status(c, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_FAILED);
  CHECK(mesos_auth_authenticator_principal(s, &p) == MESOS_AUTH_RESULT_INVALID_STATE);
  CHECK(mesos_auth_authenticator_free(s) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticatee_free(c) == MESOS_AUTH_RESULT_OK);

  /* Bad messages: NULL, unknown kind, wrong direction, bad mechanism text. */
  CHECK(mesos_auth_authenticator_new(creds, 0, NULL, 0, NULL, &s) == MESOS_AUTH_RESULT_OK);
  {
    mesos_auth_message m = {77, {NULL, 0}, {NULL, 0}};
    CHECK(mesos_auth_authenticator_feed(s, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
    CHECK(mesos_auth_authenticator_feed(s, &m) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
    m.kind = MESOS_AUTH_MESSAGE_KIND_COMPLETED;
    CHECK(mesos_auth_authenticator_feed(s, &m) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
    m.kind = MESOS_AUTH_MESSAGE_KIND_START;
    m.mechanism.data = "CRAM\xff";
    m.mechanism.len = 5;
    CHECK(mesos_auth_authenticator_feed(s, &m) == MESOS_AUTH_RESULT_INVALID_UTF8);
    m.mechanism.data = NULL;
    m.mechanism.len = 3;
    CHECK(mesos_auth_authenticator_feed(s, &m) == MESOS_AUTH_RESULT_NULL_PARAMETER);
    CHECK(mesos_auth_authenticator_status(s, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_PENDING);
    /* An unsupported mechanism is a protocol error with an ERROR queued. */
    m.mechanism.data = "PLAIN";
    m.mechanism.len = 5;
    CHECK(mesos_auth_authenticator_feed(s, &m) == MESOS_AUTH_RESULT_PROTOCOL_ERROR);
    CHECK(mesos_auth_authenticator_status(s, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_ERROR);
    mesos_auth_message out;
    int saw_error = 0;
    while (mesos_auth_authenticator_poll_output(s, &out) == MESOS_AUTH_RESULT_OK &&
           out.kind != MESOS_AUTH_MESSAGE_KIND_NONE) {
      if (out.kind == MESOS_AUTH_MESSAGE_KIND_ERROR) saw_error = out.data.len > 0;
    }
    CHECK(saw_error);
    CHECK(mesos_auth_authenticator_poll_output(s, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
    CHECK(mesos_auth_authenticator_status(s, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
    CHECK(mesos_auth_authenticator_principal(s, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  }
  CHECK(mesos_auth_authenticator_check_timeout(s) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticator_discard(s) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticator_free(s) == MESOS_AUTH_RESULT_OK);

  /* Discard and a 1 ms timeout end a pending session with ERROR. */
  CHECK(mesos_auth_authenticator_new(creds, 0, NULL, 0, NULL, &s) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticator_discard(s) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticator_status(s, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_ERROR);
  CHECK(mesos_auth_authenticator_free(s) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticator_new(creds, 1, NULL, 0, NULL, &s) == MESOS_AUTH_RESULT_OK);
  {
    struct timespec ts = {0, 5000000};
    nanosleep(&ts, NULL);
  }
  CHECK(mesos_auth_authenticator_check_timeout(s) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticator_status(s, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_ERROR);
  CHECK(mesos_auth_authenticator_free(s) == MESOS_AUTH_RESULT_OK);

  /* Authenticatee: server ERROR, wrong direction, NULLs. */
  CHECK(mesos_auth_authenticatee_new("tim", 3, (const uint8_t *)"x", 1, NULL, &c) == MESOS_AUTH_RESULT_OK);
  {
    mesos_auth_message m = {MESOS_AUTH_MESSAGE_KIND_START, {NULL, 0}, {NULL, 0}};
    CHECK(mesos_auth_authenticatee_feed(c, &m) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
    CHECK(mesos_auth_authenticatee_feed(c, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
    CHECK(mesos_auth_authenticatee_feed(NULL, &m) == MESOS_AUTH_RESULT_NULL_PARAMETER);
    m.kind = MESOS_AUTH_MESSAGE_KIND_ERROR;
    m.data.data = (const uint8_t *)"busy";
    m.data.len = 4;
    CHECK(mesos_auth_authenticatee_feed(c, &m) == MESOS_AUTH_RESULT_PROTOCOL_ERROR);
    CHECK(mesos_auth_authenticatee_status(c, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_ERROR);
    CHECK(mesos_auth_authenticatee_poll_output(c, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
    CHECK(mesos_auth_authenticatee_status(c, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
    CHECK(mesos_auth_authenticatee_status(NULL, &st) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  }
  CHECK(mesos_auth_authenticatee_free(c) == MESOS_AUTH_RESULT_OK);

  /* NULL sessions everywhere; double free of NULL. */
  CHECK(mesos_auth_authenticator_feed(NULL, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_authenticator_status(NULL, &st) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_authenticator_check_timeout(NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_authenticator_discard(NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_authenticator_free(NULL) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticator_free(NULL) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticatee_free(NULL) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticatee_free(NULL) == MESOS_AUTH_RESULT_OK);

  /* A session outlives the store handle it was made from (threats FF-10). */
  {
    const mesos_auth_credentials *tmp = NULL;
    CHECK(mesos_auth_credentials_load_buffer((const uint8_t *)CREDS, strlen(CREDS),
                                             MESOS_AUTH_CREDENTIALS_FORMAT_TEXT, 0, NULL, &tmp) == MESOS_AUTH_RESULT_OK);
    CHECK(mesos_auth_authenticator_new(tmp, 0, NULL, 0, NULL, &s) == MESOS_AUTH_RESULT_OK);
    CHECK(mesos_auth_credentials_free(tmp) == MESOS_AUTH_RESULT_OK);
    CHECK(mesos_auth_authenticatee_new("bob", 3, (const uint8_t *)"bobs-long-secret-456", 20, NULL, &c) ==
          MESOS_AUTH_RESULT_OK);
    exchange(s, c);
    CHECK(mesos_auth_authenticator_status(s, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_COMPLETED);
    CHECK(mesos_auth_authenticator_free(s) == MESOS_AUTH_RESULT_OK);
    CHECK(mesos_auth_authenticatee_free(c) == MESOS_AUTH_RESULT_OK);
  }
}

/* ---- throttle ---- */
static void fail_once(const mesos_auth_credentials *creds, const mesos_auth_throttle *t, const char *secret) {
  mesos_auth_authenticator *s = NULL;
  mesos_auth_authenticatee *c = NULL;
  CHECK(mesos_auth_authenticator_new(creds, 0, "10.0.0.9:1", 10, NULL, &s) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticator_set_throttle(s, t) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticatee_new("tim", 3, (const uint8_t *)secret, strlen(secret), NULL, &c) ==
        MESOS_AUTH_RESULT_OK);
  exchange(s, c);
  mesos_auth_authenticator_free(s);
  mesos_auth_authenticatee_free(c);
}

static void test_throttle(const mesos_auth_credentials *creds) {
  const mesos_auth_throttle *t = NULL;
  uint64_t ms = 99;
  CHECK(mesos_auth_throttle_new(1, 0, 10, &t) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(mesos_auth_throttle_new(1, 100, 10, &t) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(mesos_auth_throttle_new(1, 100, 1000, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(t == NULL);
  CHECK(mesos_auth_throttle_new(0, 0, 0, &t) == MESOS_AUTH_RESULT_OK); /* defaults */
  CHECK(mesos_auth_throttle_free(t) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_throttle_new(1, 60000, 120000, &t) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_throttle_check(t, "tim", 3, "10.0.0.9:1", 10, &ms) == MESOS_AUTH_RESULT_OK && ms == 0);
  fail_once(creds, t, "wrong-1");
  CHECK(mesos_auth_throttle_check(t, "tim", 3, "10.0.0.9:1", 10, &ms) == MESOS_AUTH_RESULT_OK && ms == 0);
  fail_once(creds, t, "wrong-2"); /* past the free failure: delayed */
  CHECK(mesos_auth_throttle_check(t, NULL, 0, "10.0.0.9:1", 10, &ms) == MESOS_AUTH_RESULT_OK && ms > 1000);
  CHECK(mesos_auth_throttle_check(t, "tim", 3, NULL, 0, &ms) == MESOS_AUTH_RESULT_OK && ms > 1000);
  CHECK(mesos_auth_throttle_check(t, "bob", 3, "10.0.0.8:1", 10, &ms) == MESOS_AUTH_RESULT_OK && ms == 0);
  fail_once(creds, t, "tanstaaftanstaaf-0123"); /* a success clears both */
  CHECK(mesos_auth_throttle_check(t, "tim", 3, "10.0.0.9:1", 10, &ms) == MESOS_AUTH_RESULT_OK && ms == 0);
  /* Bad arguments, wrong kinds, detaching. */
  CHECK(mesos_auth_throttle_check(t, "t\xffm", 3, NULL, 0, &ms) == MESOS_AUTH_RESULT_INVALID_UTF8);
  CHECK(mesos_auth_throttle_check(t, NULL, 0, NULL, 0, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_throttle_check(NULL, NULL, 0, NULL, 0, &ms) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_throttle_check((const mesos_auth_throttle *)(const void *)creds, NULL, 0, NULL, 0, &ms) ==
        MESOS_AUTH_RESULT_WRONG_HANDLE);
  {
    mesos_auth_authenticator *s = NULL;
    CHECK(mesos_auth_authenticator_new(creds, 0, NULL, 0, NULL, &s) == MESOS_AUTH_RESULT_OK);
    CHECK(mesos_auth_authenticator_set_throttle(s, (const mesos_auth_throttle *)(const void *)creds) ==
          MESOS_AUTH_RESULT_WRONG_HANDLE);
    CHECK(mesos_auth_authenticator_set_throttle(s, t) == MESOS_AUTH_RESULT_OK);
    CHECK(mesos_auth_throttle_free(t) == MESOS_AUTH_RESULT_OK); /* the session keeps its reference */
    CHECK(mesos_auth_authenticator_discard(s) == MESOS_AUTH_RESULT_OK);
    CHECK(mesos_auth_authenticator_set_throttle(s, NULL) == MESOS_AUTH_RESULT_OK);
    CHECK(mesos_auth_authenticator_free(s) == MESOS_AUTH_RESULT_OK);
  }
  CHECK(mesos_auth_authenticator_set_throttle(NULL, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_throttle_free(NULL) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_throttle_free(NULL) == MESOS_AUTH_RESULT_OK);
}

/* ---- TLS ---- */
static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  uint8_t *buf = malloc(65536);
  *len = buf ? fread(buf, 1, 65536, f) : 0;
  fclose(f);
  return buf;
}

static const mesos_auth_tls_mapper *test_tls(const char *der_path, const mesos_auth_audit *audit) {
  const mesos_auth_tls_mapper *m = NULL;
  char buf[300];
  size_t n = 0;
  CHECK(mesos_auth_tls_mapper_new(RULES, strlen(RULES), NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_tls_mapper_new(NULL, 3, &m) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_tls_mapper_new("[\"\xff\"]", 5, &m) == MESOS_AUTH_RESULT_INVALID_UTF8);
  CHECK(mesos_auth_tls_mapper_new("[]\0", 3, &m) == MESOS_AUTH_RESULT_INVALID_UTF8);
  CHECK(mesos_auth_tls_mapper_new("[{\"source\": 1}]", 15, &m) == MESOS_AUTH_RESULT_PARSE_ERROR);
  CHECK(m == NULL);
  CHECK(mesos_auth_tls_mapper_new(RULES, strlen(RULES), &m) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_tls_mapper_len(m, &n) == MESOS_AUTH_RESULT_OK && n == 1);
  CHECK(mesos_auth_tls_mapper_len(m, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_tls_mapper_len(NULL, &n) == MESOS_AUTH_RESULT_NULL_PARAMETER);

  size_t der_len = 0;
  uint8_t *der = read_file(der_path, &der_len);
  CHECK(der != NULL && der_len > 0);
  if (der) {
    CHECK(mesos_auth_tls_mapper_map_der(m, der, der_len, audit, buf, sizeof buf, &n) == MESOS_AUTH_RESULT_OK);
    CHECK(strcmp(buf, "agent:alice") == 0 && n == strlen("agent:alice"));
    char small[4] = {'x', 'x', 'x', 'x'};
    CHECK(mesos_auth_tls_mapper_map_der(m, der, der_len, NULL, small, sizeof small, &n) ==
          MESOS_AUTH_RESULT_BUFFER_TOO_SMALL);
    CHECK(n == strlen("agent:alice") + 1 && small[0] == 'x');
    /* Garbage DER is a rejection with a reason. */
    CHECK(mesos_auth_tls_mapper_map_der(m, der, 10, NULL, buf, sizeof buf, &n) == MESOS_AUTH_RESULT_REJECTED);
    last_error(buf, sizeof buf);
    CHECK(strlen(buf) > 0);
    /* Wrong kind, NULLs. */
    CHECK(mesos_auth_tls_mapper_map_der((const mesos_auth_tls_mapper *)(const void *)audit, der, der_len, NULL,
                                        buf, sizeof buf, &n) == MESOS_AUTH_RESULT_WRONG_HANDLE);
    CHECK(mesos_auth_tls_mapper_map_der(m, NULL, 5, NULL, buf, sizeof buf, &n) == MESOS_AUTH_RESULT_NULL_PARAMETER);
    CHECK(mesos_auth_tls_mapper_map_der(m, der, 0, NULL, buf, sizeof buf, &n) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
    CHECK(mesos_auth_tls_mapper_map_der(m, der, der_len, NULL, NULL, 0, &n) == MESOS_AUTH_RESULT_NULL_PARAMETER);
    CHECK(mesos_auth_tls_mapper_map_der(NULL, der, der_len, NULL, buf, sizeof buf, &n) ==
          MESOS_AUTH_RESULT_NULL_PARAMETER);
  }
  free(der);
  /* A rule set that matches nothing: rejected. */
  {
    const mesos_auth_tls_mapper *none = NULL;
    static const char OTHER[] = "[\"RULE:^CN=nobody$/x/\"]";
    CHECK(mesos_auth_tls_mapper_new(OTHER, strlen(OTHER), &none) == MESOS_AUTH_RESULT_OK);
    der = read_file(der_path, &der_len);
    if (der) {
      CHECK(mesos_auth_tls_mapper_map_der(none, der, der_len, audit, buf, sizeof buf, &n) ==
            MESOS_AUTH_RESULT_REJECTED);
    }
    free(der);
    CHECK(mesos_auth_tls_mapper_free(none) == MESOS_AUTH_RESULT_OK);
  }
  CHECK(mesos_auth_tls_mapper_free((const mesos_auth_tls_mapper *)(const void *)audit) ==
        MESOS_AUTH_RESULT_WRONG_HANDLE);
  CHECK(mesos_auth_tls_mapper_free(NULL) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_tls_mapper_free(NULL) == MESOS_AUTH_RESULT_OK);
  return m;
}

/* ---- threads ---- */
struct shared {
  const mesos_auth_credentials *creds;
  const mesos_auth_tls_mapper *mapper;
  const uint8_t *der;
  size_t der_len;
  int ok;
};

static void *worker(void *arg) {
  struct shared *sh = (struct shared *)arg;
  int ok = 1;
  for (int i = 0; i < 20; i++) {
    mesos_auth_authenticator *s = NULL;
    mesos_auth_authenticatee *c = NULL;
    uint32_t st = 0;
    ok &= mesos_auth_authenticator_new(sh->creds, 0, NULL, 0, NULL, &s) == MESOS_AUTH_RESULT_OK;
    ok &= mesos_auth_authenticatee_new("tim", 3, (const uint8_t *)"tanstaaftanstaaf-0123", 21, NULL, &c) ==
          MESOS_AUTH_RESULT_OK;
    if (s && c) {
      exchange(s, c);
      ok &= mesos_auth_authenticator_status(s, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_COMPLETED;
    }
    mesos_auth_authenticator_free(s);
    mesos_auth_authenticatee_free(c);
    char buf[300];
    size_t n = 0;
    ok &= mesos_auth_tls_mapper_map_der(sh->mapper, sh->der, sh->der_len, NULL, buf, sizeof buf, &n) ==
          MESOS_AUTH_RESULT_OK;
    ok &= strcmp(buf, "agent:alice") == 0;
    /* Reloads race with sessions: each swaps a whole valid store. */
    uint64_t gen = 0;
    ok &= mesos_auth_credentials_reload_buffer(sh->creds, (const uint8_t *)CREDS, strlen(CREDS), &gen) ==
          MESOS_AUTH_RESULT_OK;
  }
  sh->ok = ok;
  return NULL;
}

static void test_threads(const mesos_auth_credentials *creds, const mesos_auth_tls_mapper *mapper,
                         const char *der_path) {
  size_t der_len = 0;
  uint8_t *der = read_file(der_path, &der_len);
  CHECK(der != NULL);
  if (!der) return;
  pthread_t t[4];
  struct shared sh[4];
  for (int i = 0; i < 4; i++) {
    sh[i] = (struct shared){creds, mapper, der, der_len, 0};
    CHECK(pthread_create(&t[i], NULL, worker, &sh[i]) == 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    CHECK(sh[i].ok);
  }
  uint64_t gen = 0;
  CHECK(mesos_auth_credentials_generation(creds, &gen) == MESOS_AUTH_RESULT_OK && gen == 1 + 4 * 20);
  free(der);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s leaf.der\n", argv[0]);
    return 2;
  }
  const mesos_auth_audit *audit = make_audit();
  const mesos_auth_credentials *creds = test_credentials(audit);
  test_cram_md5(creds, audit);
  test_throttle(creds);
  const mesos_auth_tls_mapper *mapper = test_tls(argv[1], audit);
  test_threads(creds, mapper, argv[1]);
  /* Wrong kind to a _free: refused, nothing freed. */
  CHECK(mesos_auth_audit_free((const mesos_auth_audit *)(const void *)creds) == MESOS_AUTH_RESULT_WRONG_HANDLE);
  CHECK(mesos_auth_credentials_free(creds) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_tls_mapper_free(mapper) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_audit_free(audit) == MESOS_AUTH_RESULT_OK);
  /* Events: reload ok + refused, 2 + 2 exchange ends, 2 mappings... at least 6. */
  CHECK(audit_events >= 6);
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("c components: all checks passed (%d audit events)\n", audit_events);
  return 0;
}
