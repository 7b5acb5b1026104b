/* C11 test of SASL mechanism negotiation and OAUTHBEARER (RFC 7628): an
 * authenticator offering OAUTHBEARER (from a bearer handle) and CRAM-MD5,
 * an OAUTHBEARER authenticatee that succeeds, one whose expired token is
 * refused through the error exchange, the refusal to fall back to CRAM-MD5,
 * and bad arguments. Tokens: the Ed25519 ones of bearer.c (valid until
 * 1900000000, checked against the system clock). Run under ASan+UBSan and
 * valgrind by ffi/tests/run-c-tests. */
#include "mesos_auth.h"

#include <stdio.h>
#include <string.h>

#include "check.h"

static const char CONFIG[] = "{\"issuers\": [\"https://idp.test\"], \"audiences\": [\"mesos-master\"]}";
static const char JWKS[] = "{\"keys\": [{\"kty\": \"OKP\", \"crv\": \"Ed25519\", \"kid\": \"ed-1\", "
                           "\"x\": \"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}";
static const char GOOD[] =
    "eyJhbGciOiJFZERTQSIsImtpZCI6ImVkLTEifQ."
    "eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjoibWVzb3MtbWFzdGVyIiwic3ViIjoiYWxpY2UiLCJuYmYiOjE3MDAwMDAwMDAsImV4cCI6MTkwMDAwMDAwMH0."
    "2tV4b4ZrsCOqByuUxVewQ2fKQ7nL89TNZ9zeZbyicBs3Bc9Gf04rpoxbo5F_9TB04B_wt6gdekXoRx5nn434AQ";
static const char EXPIRED[] =
    "eyJhbGciOiJFZERTQSIsImtpZCI6ImVkLTEifQ."
    "eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjoibWVzb3MtbWFzdGVyIiwic3ViIjoiYWxpY2UiLCJuYmYiOjE3MDAwMDAwMDAsImV4cCI6MTc1MDAwMDAwMH0."
    "X11Of9dlyq0nJGxVoTVGIokbAbnjXJMWwUTIsIB6nsYN1dR4EseVMESzI8OlDbzKNfAsU5AjxdxqR1LIjbpfBA";
static const char CREDS[] = "tim tanstaaftanstaaf-0123\n";

static int leaked = 0;
static int refusals = 0;
static void on_audit(void *userdata, const char *json, size_t len) {
  (void)userdata;
  (void)len;
  if (strstr(json, "X11Of9dly") || strstr(json, "2tV4b4Zrs") || strstr(json, "eyJpc3Mi")) leaked++;
  if (strstr(json, "\"reason\":\"token_rejected\"") && strstr(json, "\"detail\":\"expired")) refusals++;
}

static int str_eq(mesos_auth_str s, const char *want) {
  return s.len == strlen(want) && memcmp(s.data, want, s.len) == 0;
}

/* Moves messages both ways until both sides are quiet. */
static void shuttle(mesos_auth_authenticator *server, mesos_auth_authenticatee *client) {
  for (int moved = 1; moved;) {
    moved = 0;
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
  }
}

int main(void) {
  const mesos_auth_bearer *b = NULL;
  const mesos_auth_credentials *creds = NULL;
  const mesos_auth_audit *audit = NULL;
  CHECK(mesos_auth_bearer_new(CONFIG, strlen(CONFIG), (const uint8_t *)JWKS, strlen(JWKS), 0, &b) ==
        MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_credentials_load_buffer((const uint8_t *)CREDS, strlen(CREDS), MESOS_AUTH_CREDENTIALS_FORMAT_TEXT, 0, NULL, &creds) ==
        MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_audit_new(on_audit, NULL, &audit) == MESOS_AUTH_RESULT_OK);

  /* No mechanism at all. */
  mesos_auth_authenticator *server = NULL;
  CHECK(mesos_auth_authenticator_new_mechanisms(NULL, NULL, 0, NULL, 0, NULL, &server) ==
        MESOS_AUTH_RESULT_INVALID_PARAMETER);

  /* Both offered, the token accepted. */
  CHECK(mesos_auth_authenticator_new_mechanisms(creds, b, 0, "agent@10.0.0.9", 14, audit, &server) ==
        MESOS_AUTH_RESULT_OK);
  mesos_auth_message m;
  CHECK(mesos_auth_authenticator_poll_output(server, &m) == MESOS_AUTH_RESULT_OK);
  CHECK(m.kind == MESOS_AUTH_MESSAGE_KIND_MECHANISMS && str_eq(m.mechanism, "OAUTHBEARER,CRAM-MD5"));
  mesos_auth_authenticatee *client = NULL;
  CHECK(mesos_auth_authenticatee_new_oauthbearer("alice", 5, (const uint8_t *)GOOD, strlen(GOOD), audit,
                                                 &client) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticatee_feed(client, &m) == MESOS_AUTH_RESULT_OK);
  shuttle(server, client);
  uint32_t st = 99;
  CHECK(mesos_auth_authenticator_status(server, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_COMPLETED);
  CHECK(mesos_auth_authenticatee_status(client, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_COMPLETED);
  mesos_auth_str s;
  CHECK(mesos_auth_authenticator_principal(server, &s) == MESOS_AUTH_RESULT_OK && str_eq(s, "alice"));
  CHECK(mesos_auth_authenticator_mechanism(server, &s) == MESOS_AUTH_RESULT_OK && str_eq(s, "OAUTHBEARER"));
  CHECK(mesos_auth_authenticatee_free(client) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticator_free(server) == MESOS_AUTH_RESULT_OK);

  /* An expired token: the error exchange, FAILED on both sides, the reason
   * only in the audit event. */
  CHECK(mesos_auth_authenticator_new_mechanisms(NULL, b, 0, NULL, 0, audit, &server) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticatee_new_oauthbearer("alice", 5, (const uint8_t *)EXPIRED, strlen(EXPIRED), audit,
                                                 &client) == MESOS_AUTH_RESULT_OK);
  shuttle(server, client);
  CHECK(mesos_auth_authenticator_status(server, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_FAILED);
  CHECK(mesos_auth_authenticatee_status(client, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_FAILED);
  CHECK(mesos_auth_audit_flush(audit, 5000) == MESOS_AUTH_RESULT_OK);
  CHECK(refusals == 1);
  CHECK(mesos_auth_authenticatee_free(client) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticator_free(server) == MESOS_AUTH_RESULT_OK);

  /* A master offering only CRAM-MD5: the OAUTHBEARER client will not fall back. */
  CHECK(mesos_auth_authenticator_new_mechanisms(creds, NULL, 0, NULL, 0, NULL, &server) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticator_poll_output(server, &m) == MESOS_AUTH_RESULT_OK);
  CHECK(m.kind == MESOS_AUTH_MESSAGE_KIND_MECHANISMS && str_eq(m.mechanism, "CRAM-MD5"));
  CHECK(mesos_auth_authenticatee_new_oauthbearer("alice", 5, (const uint8_t *)GOOD, strlen(GOOD), NULL, &client) ==
        MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticatee_feed(client, &m) == MESOS_AUTH_RESULT_PROTOCOL_ERROR);
  char err[256];
  size_t n = 0;
  CHECK(mesos_auth_last_error(err, sizeof err, &n) == MESOS_AUTH_RESULT_OK && strstr(err, "will not fall back"));
  CHECK(mesos_auth_authenticatee_status(client, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_FAILED);
  CHECK(mesos_auth_authenticatee_poll_output(client, &m) == MESOS_AUTH_RESULT_OK &&
        m.kind == MESOS_AUTH_MESSAGE_KIND_NONE);
  CHECK(mesos_auth_authenticatee_free(client) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticator_free(server) == MESOS_AUTH_RESULT_OK);

  /* Bad arguments. */
  CHECK(mesos_auth_authenticatee_new_oauthbearer("alice", 5, (const uint8_t *)"a b", 3, NULL, &client) ==
        MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(mesos_auth_authenticatee_new_oauthbearer("alice", 5, NULL, 4, NULL, &client) ==
        MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_authenticatee_new_oauthbearer("alice", 5, (const uint8_t *)GOOD, strlen(GOOD), NULL, NULL) ==
        MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_authenticator_mechanism(NULL, &s) != MESOS_AUTH_RESULT_OK);

  /* The token from its source: exactly one of file and command; a source
   * that gives no token names it and never echoes what it read. */
  CHECK(mesos_auth_authenticatee_new_oauthbearer_source("alice", 5, NULL, 0, NULL, 0, NULL, &client) ==
        MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(mesos_auth_authenticatee_new_oauthbearer_source("alice", 5, "/f", 2, "cat /f", 6, NULL, &client) ==
        MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(mesos_auth_authenticatee_new_oauthbearer_source("alice", 5, "/nonexistent/tok", 16, NULL, 0, NULL,
                                                        &client) == MESOS_AUTH_RESULT_FILE_ERROR);
  CHECK(mesos_auth_last_error(err, sizeof err, &n) == MESOS_AUTH_RESULT_OK && strstr(err, "/nonexistent/tok"));
  CHECK(mesos_auth_authenticatee_new_oauthbearer_source("alice", 5, NULL, 0, "echo 'sekrit token!'", 20, NULL,
                                                        &client) == MESOS_AUTH_RESULT_FILE_ERROR);
  CHECK(mesos_auth_last_error(err, sizeof err, &n) == MESOS_AUTH_RESULT_OK && !strstr(err, "sekrit"));
  {
    char cmd[1024];
    int len = snprintf(cmd, sizeof cmd, "printf '%%s\\n' '%s'", GOOD);
    CHECK(len > 0 && (size_t)len < sizeof cmd);
    CHECK(mesos_auth_authenticator_new_mechanisms(NULL, b, 0, NULL, 0, NULL, &server) == MESOS_AUTH_RESULT_OK);
    CHECK(mesos_auth_authenticatee_new_oauthbearer_source("alice", 5, NULL, 0, cmd, (size_t)len, audit, &client) ==
          MESOS_AUTH_RESULT_OK);
    shuttle(server, client);
    CHECK(mesos_auth_authenticator_status(server, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_COMPLETED);
    CHECK(mesos_auth_authenticatee_status(client, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_COMPLETED);
    CHECK(mesos_auth_authenticatee_free(client) == MESOS_AUTH_RESULT_OK);
    CHECK(mesos_auth_authenticator_free(server) == MESOS_AUTH_RESULT_OK);
  }

  CHECK(leaked == 0);
  CHECK(mesos_auth_audit_free(audit) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_credentials_free(creds) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_bearer_free(b) == MESOS_AUTH_RESULT_OK);
  return check_report("oauthbearer-c");
}
