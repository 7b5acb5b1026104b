/* C11 test of GSSAPI in the negotiated SASL sessions, without a KDC (the
 * exchanges with real tickets are in tests/gssapi/session.rs): acceptor
 * configurations (bad rules with their location, a missing keytab named),
 * GSSAPI offered first, a token that is not Kerberos refused with the
 * uniform FAILED and the reason only in the audit event, a GSSAPI authenticatee that will not fall back to
 * CRAM-MD5, one without tickets, bad arguments. Built with the ffi's
 * `gssapi` feature; run under ASan+UBSan and valgrind by
 * ffi/tests/run-c-tests. */
#define _POSIX_C_SOURCE 200809L /* setenv, mkstemp */
#define MESOS_AUTH_GSSAPI 1
#include "mesos_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

#define S(lit) lit, (sizeof lit - 1)

static const char RULES[] = "RULE:[1:$1@$0](.*@EXAMPLE\\.ORG)s/@.*//";
static const char CREDS[] = "tim tanstaaftanstaaf-0123\n";

static int refused = 0;
static void on_audit(void *userdata, const char *json, size_t len) {
  (void)userdata;
  (void)len;
  if (strstr(json, "\"mechanism\":\"GSSAPI\"") && strstr(json, "\"reason\":\"kerberos_refused\"") &&
      strstr(json, "\"detail\":\"bad token: "))
    refused++;
}

static int str_eq(mesos_auth_str s, const char *want) {
  return s.len == strlen(want) && memcmp(s.data, want, s.len) == 0;
}

static int last_error_has(const char *needle) {
  char buf[1024];
  size_t n = 0;
  if (mesos_auth_last_error(buf, sizeof buf, &n) != MESOS_AUTH_RESULT_OK) return 0;
  if (!strstr(buf, needle)) {
    fprintf(stderr, "last error `%s` lacks `%s`\n", buf, needle);
    return 0;
  }
  return 1;
}

/* Feeds a START{GSSAPI, token} and expects the uniform FAILED. */
static void start_is_failed(mesos_auth_authenticator *server, const char *token) {
  mesos_auth_message m = {MESOS_AUTH_MESSAGE_KIND_START, {"GSSAPI", 6}, {(const uint8_t *)token, strlen(token)}};
  CHECK(mesos_auth_authenticator_feed(server, &m) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticator_poll_output(server, &m) == MESOS_AUTH_RESULT_OK);
  CHECK(m.kind == MESOS_AUTH_MESSAGE_KIND_FAILED && m.data.len == 0);
  uint32_t st = 99;
  CHECK(mesos_auth_authenticator_status(server, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_FAILED);
  mesos_auth_str s;
  CHECK(mesos_auth_authenticator_mechanism(server, &s) == MESOS_AUTH_RESULT_OK && str_eq(s, "GSSAPI"));
}

int main(void) {
  /* No KDC, no realm: MIT Kerberos must not read the machine's own. */
  setenv("KRB5_CONFIG", "/dev/null", 1);
  setenv("KRB5CCNAME", "FILE:/nonexistent/mesos-auth-test-ccache", 1);
  CHECK(MESOS_AUTH_CHECK_VERSION() == MESOS_AUTH_RESULT_OK);

  const mesos_auth_credentials *creds = NULL;
  const mesos_auth_audit *audit = NULL;
  CHECK(mesos_auth_credentials_load_buffer((const uint8_t *)CREDS, strlen(CREDS), MESOS_AUTH_CREDENTIALS_FORMAT_TEXT, 0,
                                           NULL, &creds) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_audit_new(on_audit, NULL, &audit) == MESOS_AUTH_RESULT_OK);

  /* Acceptor configurations: bad rules (which, where), a missing keytab. */
  mesos_auth_gssapi_acceptor *acc = NULL;
  CHECK(mesos_auth_gssapi_acceptor_new(S(""), S(""), S("DEFAULT\nRULE:[0:$1](a)"), S(""), &acc) ==
        MESOS_AUTH_RESULT_PARSE_ERROR);
  CHECK(acc == NULL && last_error_has("rule 2 at 2:7"));
  CHECK(mesos_auth_gssapi_acceptor_new(S("FILE:/nonexistent/mesos.keytab"), S("mesos@localhost"), S(RULES),
                                       S("EXAMPLE.ORG"), &acc) == MESOS_AUTH_RESULT_FILE_ERROR);
  CHECK(acc == NULL && last_error_has("`/nonexistent/mesos.keytab`"));
  CHECK(mesos_auth_gssapi_acceptor_new(S(""), S(""), S(RULES), S(""), NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);

  /* An empty keytab, registered for the process's acceptors; a token that
   * is not Kerberos is refused before any key is needed: the uniform
   * FAILED, kerberos_refused in the event. (A keytab without the service's
   * key, kerberos_unavailable, is tested with a real realm in
   * tests/gssapi/session.rs: MIT leaks a principal on that error path.) */
  char keytab[] = "/tmp/mesos-auth-empty-keytab-XXXXXX";
  int fd = mkstemp(keytab);
  CHECK(fd >= 0);
  close(fd);
  CHECK(mesos_auth_gssapi_acceptor_new(keytab, strlen(keytab), S(""), S(RULES), S("EXAMPLE.ORG"), &acc) ==
        MESOS_AUTH_RESULT_OK);
  mesos_auth_authenticator *server = NULL;
  CHECK(mesos_auth_authenticator_new_mechanisms_gssapi(NULL, NULL, NULL, 0, NULL, 0, NULL, &server) ==
        MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(last_error_has("acceptor (GSSAPI)"));
  CHECK(mesos_auth_authenticator_new_mechanisms_gssapi(creds, NULL, acc, 0, S("agent@10.0.0.9"), audit, &server) ==
        MESOS_AUTH_RESULT_OK);
  mesos_auth_message m;
  CHECK(mesos_auth_authenticator_poll_output(server, &m) == MESOS_AUTH_RESULT_OK);
  CHECK(m.kind == MESOS_AUTH_MESSAGE_KIND_MECHANISMS && str_eq(m.mechanism, "GSSAPI,CRAM-MD5"));
  start_is_failed(server, "\x60\x03\x06\x01\x00");
  CHECK(mesos_auth_authenticator_free(server) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_gssapi_acceptor_free(acc) == MESOS_AUTH_RESULT_OK);
  unlink(keytab);

  /* The default keytab, GSSAPI alone: a token that is not Kerberos, the
   * same FAILED, kerberos_refused in the event. */
  CHECK(mesos_auth_gssapi_acceptor_new(S(""), S(""), S(RULES), S(""), &acc) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticator_new_mechanisms_gssapi(NULL, NULL, acc, 0, NULL, 0, audit, &server) ==
        MESOS_AUTH_RESULT_OK);
  /* The configuration may go: the session has its own copy. */
  CHECK(mesos_auth_gssapi_acceptor_free(acc) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_authenticator_poll_output(server, &m) == MESOS_AUTH_RESULT_OK);
  CHECK(m.kind == MESOS_AUTH_MESSAGE_KIND_MECHANISMS && str_eq(m.mechanism, "GSSAPI"));
  start_is_failed(server, "not a kerberos token");
  CHECK(mesos_auth_authenticator_free(server) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_audit_flush(audit, 5000) == MESOS_AUTH_RESULT_OK);
  CHECK(refused == 2);

  /* A GSSAPI authenticatee facing a CRAM-MD5-only master: no fallback. */
  mesos_auth_authenticatee *client = NULL;
  CHECK(mesos_auth_authenticatee_new_gssapi(S("alice"), S("mesos"), S("localhost"), S(""), NULL, &client) ==
        MESOS_AUTH_RESULT_OK);
  mesos_auth_message offer = {MESOS_AUTH_MESSAGE_KIND_MECHANISMS, {"CRAM-MD5", 8}, {NULL, 0}};
  CHECK(mesos_auth_authenticatee_feed(client, &offer) == MESOS_AUTH_RESULT_PROTOCOL_ERROR);
  CHECK(last_error_has("does not offer GSSAPI, and this client will not fall back"));
  uint32_t st = 99;
  CHECK(mesos_auth_authenticatee_status(client, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_FAILED);
  CHECK(mesos_auth_authenticatee_poll_output(client, &m) == MESOS_AUTH_RESULT_OK &&
        m.kind == MESOS_AUTH_MESSAGE_KIND_NONE);
  CHECK(mesos_auth_authenticatee_free(client) == MESOS_AUTH_RESULT_OK);

  /* GSSAPI offered, but no ticket: a local Kerberos error, nothing sent. */
  CHECK(mesos_auth_authenticatee_new_gssapi(S("alice"), S("mesos@localhost"), S(""), S(""), NULL, &client) ==
        MESOS_AUTH_RESULT_OK);
  offer.mechanism = (mesos_auth_str){"GSSAPI,CRAM-MD5", 15};
  CHECK(mesos_auth_authenticatee_feed(client, &offer) == MESOS_AUTH_RESULT_PROTOCOL_ERROR);
  CHECK(last_error_has("kerberos: "));
  CHECK(mesos_auth_authenticatee_status(client, &st) == MESOS_AUTH_RESULT_OK && st == MESOS_AUTH_STATUS_ERROR);
  CHECK(mesos_auth_authenticatee_poll_output(client, &m) == MESOS_AUTH_RESULT_OK &&
        m.kind == MESOS_AUTH_MESSAGE_KIND_NONE);
  CHECK(mesos_auth_authenticatee_free(client) == MESOS_AUTH_RESULT_OK);

  /* Bad arguments. */
  client = NULL;
  CHECK(mesos_auth_authenticatee_new_gssapi(S("alice"), S(""), S(""), S(""), NULL, &client) ==
        MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(mesos_auth_authenticatee_new_gssapi(S("alice"), S("mesos@x"), S("localhost"), S(""), NULL, &client) ==
        MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(mesos_auth_authenticatee_new_gssapi(S(""), S("mesos"), S("localhost"), S(""), NULL, &client) ==
        MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(mesos_auth_authenticatee_new_gssapi(NULL, 5, S("mesos"), S("localhost"), S(""), NULL, &client) ==
        MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_authenticatee_new_gssapi(S("alice"), S("mesos"), S("localhost"), S(""), NULL, NULL) ==
        MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(client == NULL);
  /* A handle of the wrong kind where an acceptor belongs. */
  CHECK(mesos_auth_authenticator_new_mechanisms_gssapi(NULL, NULL, (const mesos_auth_gssapi_acceptor *)creds, 0, NULL,
                                                       0, NULL, &server) == MESOS_AUTH_RESULT_WRONG_HANDLE);
  CHECK(mesos_auth_gssapi_acceptor_free(NULL) == MESOS_AUTH_RESULT_OK);

  CHECK(mesos_auth_audit_free(audit) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_credentials_free(creds) == MESOS_AUTH_RESULT_OK);
  return check_report("gssapi-sasl-c");
}
