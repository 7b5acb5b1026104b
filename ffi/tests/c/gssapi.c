/* C11 test of the GSSAPI sessions without a KDC (tests/gssapi.rs drives
 * the exchange itself against a real one): mapping rules refused with the
 * rule and line:column, a garbage token refused with a reason and the
 * refusal sticky, a client without credentials refused, NULLs, empty and
 * invalid arguments, a handle of the wrong kind, _free(NULL). Built with
 * the ffi's `gssapi` feature; run under ASan+UBSan and valgrind by
 * ffi/tests/run-c-tests. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#define MESOS_AUTH_GSSAPI 1
#include "mesos_auth.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"

#define S(lit) lit, (sizeof lit - 1)

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

int main(void) {
  mesos_auth_gssapi_server *server = NULL;
  mesos_auth_gssapi_client *client = NULL;
  mesos_auth_gssapi_step step;
  mesos_auth_str principal;
  uint32_t reason = 99;
  static const uint8_t garbage[] = "not a kerberos token";

  /* No KDC, no realm: MIT Kerberos must not read the machine's own. */
  setenv("KRB5_CONFIG", "/dev/null", 1);
  setenv("KRB5CCNAME", "FILE:/nonexistent/mesos-auth-test-ccache", 1);
  CHECK(MESOS_AUTH_CHECK_VERSION() == MESOS_AUTH_RESULT_OK);

  /* Bad rules: which rule, where. */
  CHECK(mesos_auth_gssapi_server_new(S("DEFAULT\nRULE:[0:$1](a)"), S(""), S(""), &server) ==
        MESOS_AUTH_RESULT_PARSE_ERROR);
  CHECK(server == NULL);
  CHECK(last_error_has("rule 2 at 2:7"));

  /* A server for any key in the keytab: no key is read until a token. */
  CHECK(mesos_auth_gssapi_server_new(S("RULE:[1:$1@$0](.*@EXAMPLE\\.ORG)s/@.*//"), S("EXAMPLE.ORG"), S(""),
                                     &server) == MESOS_AUTH_RESULT_OK);
  CHECK(server != NULL);
  CHECK(mesos_auth_gssapi_server_reason(server, &reason) == MESOS_AUTH_RESULT_OK);
  CHECK(reason == MESOS_AUTH_GSSAPI_REASON_NONE);
  CHECK(mesos_auth_gssapi_server_principal(server, &principal) == MESOS_AUTH_RESULT_INVALID_STATE);
  CHECK(mesos_auth_gssapi_server_step(server, garbage, sizeof garbage, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_gssapi_server_step(server, NULL, 3, &step) == MESOS_AUTH_RESULT_NULL_PARAMETER);

  /* A garbage token: refused, with a reason; and the refusal is sticky. */
  CHECK(mesos_auth_gssapi_server_step(server, garbage, sizeof garbage, &step) == MESOS_AUTH_RESULT_REJECTED);
  CHECK(mesos_auth_gssapi_server_reason(server, &reason) == MESOS_AUTH_RESULT_OK);
  CHECK(reason != MESOS_AUTH_GSSAPI_REASON_NONE);
  CHECK(mesos_auth_gssapi_server_step(server, garbage, sizeof garbage, &step) == MESOS_AUTH_RESULT_REJECTED);
  CHECK(mesos_auth_gssapi_server_principal(server, &principal) == MESOS_AUTH_RESULT_INVALID_STATE);

  /* Client arguments. */
  CHECK(mesos_auth_gssapi_client_new(S(""), S("mesos@localhost"), S(""), &client) ==
        MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(mesos_auth_gssapi_client_new(S("alice"), S(""), S(""), &client) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(mesos_auth_gssapi_client_new(S("alice"), S("mesos@localhost"), S(""), NULL) ==
        MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(client == NULL);
  CHECK(mesos_auth_gssapi_client_new(S("alice"), S("mesos@localhost"), S(""), &client) == MESOS_AUTH_RESULT_OK);
  /* No ticket cache: refused, with a reason. */
  CHECK(mesos_auth_gssapi_client_step(client, NULL, 0, &step) == MESOS_AUTH_RESULT_REJECTED);
  CHECK(mesos_auth_gssapi_client_reason(client, &reason) == MESOS_AUTH_RESULT_OK);
  CHECK(reason != MESOS_AUTH_GSSAPI_REASON_NONE);

  /* Handles of the wrong kind. */
  CHECK(mesos_auth_gssapi_server_step((mesos_auth_gssapi_server *)client, NULL, 0, &step) ==
        MESOS_AUTH_RESULT_WRONG_HANDLE);
  CHECK(mesos_auth_gssapi_client_reason((const mesos_auth_gssapi_client *)server, &reason) ==
        MESOS_AUTH_RESULT_WRONG_HANDLE);

  CHECK(mesos_auth_gssapi_server_free(server) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_gssapi_client_free(client) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_gssapi_server_free(NULL) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_gssapi_client_free(NULL) == MESOS_AUTH_RESULT_OK);
  return check_report("gssapi");
}
