/* Authenticates a CRAM-MD5 exchange through the mesos-auth C API: an
 * authenticator (what a Mesos master runs) and an authenticatee (a framework)
 * talk through decoded Mesos messages. A real host would carry each message
 * over libprocess instead of handing it across directly. Then the master
 * authorizes what the authenticated framework asks, against compiled ACLs.
 *
 *   cc -std=c11 cram_md5.c $(pkg-config --cflags --libs mesos_auth)
 */
#include "mesos_auth.h"

#include <stdio.h>
#include <string.h>

static void print_error(const char *what, mesos_auth_result r) {
  char buf[256];
  size_t n = 0;
  if (mesos_auth_last_error(buf, sizeof buf, &n) != MESOS_AUTH_RESULT_OK) buf[0] = '\0';
  fprintf(stderr, "%s: result %u: %s\n", what, (unsigned)r, buf);
}

static void on_audit(void *userdata, const char *json, size_t len) {
  (void)userdata;
  printf("audit: %.*s\n", (int)len, json);
}

int main(void) {
  static const char creds_text[] = "framework1 s3cret-s3cret-s3cret\n";
  const mesos_auth_audit *audit = NULL;
  const mesos_auth_credentials *creds = NULL;
  mesos_auth_authenticator *server = NULL;
  mesos_auth_authenticatee *client = NULL;
  const mesos_auth_acl *acls = NULL;
  int rc = 1;
  mesos_auth_result r;

  if ((r = mesos_auth_audit_new(on_audit, NULL, &audit)) != MESOS_AUTH_RESULT_OK) {
    print_error("audit", r);
    goto out;
  }
  r = mesos_auth_credentials_load_buffer((const uint8_t *)creds_text, strlen(creds_text),
                                         MESOS_AUTH_CREDENTIALS_FORMAT_TEXT, 0, audit, &creds);
  if (r != MESOS_AUTH_RESULT_OK) {
    print_error("credentials", r);
    goto out;
  }
  r = mesos_auth_authenticator_new(creds, 15000, "client@127.0.0.1:1234", 21, audit, &server);
  if (r != MESOS_AUTH_RESULT_OK) {
    print_error("authenticator", r);
    goto out;
  }
  r = mesos_auth_authenticatee_new("framework1", 10, (const uint8_t *)"s3cret-s3cret-s3cret", 20, NULL,
                                   &client);
  if (r != MESOS_AUTH_RESULT_OK) {
    print_error("authenticatee", r);
    goto out;
  }

  /* Shuttle messages until neither side has anything to send. */
  for (int moved = 1; moved;) {
    mesos_auth_message m;
    moved = 0;
    while (mesos_auth_authenticator_poll_output(server, &m) == MESOS_AUTH_RESULT_OK &&
           m.kind != MESOS_AUTH_MESSAGE_KIND_NONE) {
      printf("master -> framework: kind %u, %zu bytes\n", (unsigned)m.kind, m.data.len);
      (void)mesos_auth_authenticatee_feed(client, &m);
      moved = 1;
    }
    while (mesos_auth_authenticatee_poll_output(client, &m) == MESOS_AUTH_RESULT_OK &&
           m.kind != MESOS_AUTH_MESSAGE_KIND_NONE) {
      printf("framework -> master: kind %u, %zu bytes\n", (unsigned)m.kind, m.data.len);
      (void)mesos_auth_authenticator_feed(server, &m);
      moved = 1;
    }
  }

  uint32_t status = MESOS_AUTH_STATUS_PENDING;
  mesos_auth_str principal;
  if (mesos_auth_authenticator_status(server, &status) == MESOS_AUTH_RESULT_OK &&
      status == MESOS_AUTH_STATUS_COMPLETED &&
      mesos_auth_authenticator_principal(server, &principal) == MESOS_AUTH_RESULT_OK) {
    printf("authenticated principal: %.*s\n", (int)principal.len, principal.data);
  } else {
    fprintf(stderr, "authentication did not complete (status %u)\n", (unsigned)status);
    goto out;
  }

  /* Authorize: may the framework run tasks as `nobody`, and as `root`? */
  static const char acl_text[] =
      "{\"permissive\": false,\n"
      " \"run_tasks\": [{\"principals\": {\"values\": [\"framework1\"]},\n"
      "                \"users\": {\"values\": [\"nobody\"]}}]}\n";
  r = mesos_auth_acl_compile_buffer(acl_text, strlen(acl_text), 0, audit, &acls);
  if (r != MESOS_AUTH_RESULT_OK) {
    print_error("acls", r);
    goto out;
  }
  const char *users[2] = {"nobody", "root"};
  int expected[2] = {1, 0};
  rc = 0;
  for (int i = 0; i < 2; i++) {
    mesos_auth_acl_request req;
    memset(&req, 0, sizeof req);
    req.action = MESOS_AUTH_ACL_ACTION_RUN_TASK;
    req.principal = principal; /* valid until the authenticator is freed */
    req.object.kind = MESOS_AUTH_ACL_OBJECT_KIND_ONE;
    req.object.value.data = users[i];
    req.object.value.len = strlen(users[i]);
    mesos_auth_acl_decision d;
    char why[256];
    size_t n = 0;
    r = mesos_auth_acl_authorize(acls, &req, &d);
    if (r != MESOS_AUTH_RESULT_OK) {
      /* No decision: a host must deny. */
      print_error("authorize", r);
      rc = 1;
      continue;
    }
    if (mesos_auth_acl_explain(acls, &req, why, sizeof why, &n) != MESOS_AUTH_RESULT_OK) why[0] = '\0';
    printf("run_task as %s: %s (%s)\n", users[i], d.allowed ? "allowed" : "denied", why);
    if ((d.allowed ? 1 : 0) != expected[i]) rc = 1;
  }

out:
  mesos_auth_acl_free(acls);
  mesos_auth_authenticatee_free(client);
  mesos_auth_authenticator_free(server);
  mesos_auth_credentials_free(creds);
  mesos_auth_audit_free(audit);
  return rc;
}
