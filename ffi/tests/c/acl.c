/* C11 test of the ACL policy handle: compile from a buffer and a file
 * (strict and lenient), errors with line:column, reload (refused and
 * swapped), authorize one request (none / one / many objects, legacy quota),
 * authorize many objects, explain, action names, audit of decisions, NULL
 * arguments, invalid UTF-8, wrong handle kinds, NULL frees, and 4 threads
 * deciding through one handle while a fifth reloads it. Run under ASan+UBSan
 * and valgrind by ffi/tests/run-c-tests. */
#define _POSIX_C_SOURCE 200809L
#include "mesos_auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static const char POLICY[] =
    "{\n"
    "  \"permissive\": false,\n"
    "  \"run_tasks\": [\n"
    "    {\"principals\": {\"values\": [\"ops\"]}, \"users\": {\"values\": [\"root\"]}},\n"
    "    {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}\n"
    "  ],\n"
    "  \"register_frameworks\": [\n"
    "    {\"principals\": {\"values\": [\"fw\"]}, \"roles\": {\"values\": [\"dev/%\", \"prod\"]}}\n"
    "  ],\n"
    "  \"update_quotas\": [\n"
    "    {\"principals\": {\"values\": [\"ops\"]}, \"roles\": {\"type\": \"ANY\"}}\n"
    "  ]\n"
    "}\n";

static const char PERMISSIVE[] = "{\"permissive\": true}";

static mesos_auth_str S(const char *s) {
  mesos_auth_str v = {s, strlen(s)};
  return v;
}
static const mesos_auth_str NO_PRINCIPAL = {NULL, 0};

static mesos_auth_acl_request one(uint32_t action, mesos_auth_str principal, const char *object) {
  mesos_auth_acl_request r;
  memset(&r, 0, sizeof r);
  r.action = action;
  r.principal = principal;
  r.object.kind = MESOS_AUTH_ACL_OBJECT_KIND_ONE;
  r.object.value = S(object);
  return r;
}

static void last_error(char *buf, size_t len) {
  size_t n = 0;
  if (mesos_auth_last_error(buf, len, &n) != MESOS_AUTH_RESULT_OK) buf[0] = '\0';
}

static int streq(mesos_auth_str v, const char *s) { return v.len == strlen(s) && memcmp(v.data, s, v.len) == 0; }

/* ---- audit of decisions ---- */
static int decisions_audited = 0;
static pthread_mutex_t audit_lock = PTHREAD_MUTEX_INITIALIZER;
static void on_audit(void *userdata, const char *json, size_t len) {
  (void)userdata;
  pthread_mutex_lock(&audit_lock);
  if (json[len] == '\0' && strstr(json, "\"run_task\"") != NULL) decisions_audited++;
  pthread_mutex_unlock(&audit_lock);
}

static void test_compile_errors(void) {
  const mesos_auth_acl *a = NULL;
  char err[512];
  /* NULLs, bad flags, invalid UTF-8, interior NUL. */
  CHECK(mesos_auth_acl_compile_buffer(POLICY, strlen(POLICY), 0, NULL, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_acl_compile_buffer(NULL, 4, 0, NULL, &a) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_acl_compile_buffer(POLICY, strlen(POLICY), 0x10, NULL, &a) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(mesos_auth_acl_compile_buffer("{\"permissive\": \xff}", 18, 0, NULL, &a) == MESOS_AUTH_RESULT_INVALID_UTF8);
  CHECK(mesos_auth_acl_compile_buffer("{\"permissive\": true}\0", 21, 0, NULL, &a) == MESOS_AUTH_RESULT_INVALID_UTF8);
  CHECK(mesos_auth_acl_compile_buffer(NULL, 0, 0, NULL, &a) == MESOS_AUTH_RESULT_PARSE_ERROR);
  CHECK(a == NULL);
  /* Strict: an unknown list and an unset permissive are errors, with line:column. */
  static const char TYPO[] = "{\n  \"permissive\": false,\n  \"run_task\": []\n}";
  CHECK(mesos_auth_acl_compile_buffer(TYPO, strlen(TYPO), 0, NULL, &a) == MESOS_AUTH_RESULT_PARSE_ERROR);
  CHECK(a == NULL);
  last_error(err, sizeof err);
  CHECK(strncmp(err, "3:3: $.run_task", 15) == 0);
  static const char UNSET[] = "{\"run_tasks\": []}";
  CHECK(mesos_auth_acl_compile_buffer(UNSET, strlen(UNSET), 0, NULL, &a) == MESOS_AUTH_RESULT_PARSE_ERROR);
  last_error(err, sizeof err);
  CHECK(strstr(err, "permissive") != NULL && strstr(err, "1:") != NULL);
  /* Lenient: accepted, the unknown key is a warning. */
  CHECK(mesos_auth_acl_compile_buffer(TYPO, strlen(TYPO), MESOS_AUTH_ACL_LENIENT, NULL, &a) == MESOS_AUTH_RESULT_OK);
  CHECK(a != NULL);
  size_t n = 99;
  CHECK(mesos_auth_acl_warnings_count(a, &n) == MESOS_AUTH_RESULT_OK && n == 1);
  CHECK(mesos_auth_acl_warnings_count(a, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_acl_warnings_count(NULL, &n) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_acl_warning(a, 0, err, sizeof err, &n) == MESOS_AUTH_RESULT_OK);
  CHECK(strncmp(err, "3:3: ", 5) == 0 && n == strlen(err));
  char small[4] = {'x', 'x', 'x', 'x'};
  CHECK(mesos_auth_acl_warning(a, 0, small, sizeof small, &n) == MESOS_AUTH_RESULT_BUFFER_TOO_SMALL);
  CHECK(n > sizeof small && small[0] == 'x');
  CHECK(mesos_auth_acl_warning(a, 1, err, sizeof err, &n) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(mesos_auth_acl_warning(a, 0, NULL, 10, &n) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_acl_free(a) == MESOS_AUTH_RESULT_OK);
  /* Over a limit: a value longer than the 4,096-byte default (the file-size
     cap, 256 MiB, is too large to exercise here). */
  const char *pre = "{\"permissive\": false, \"run_tasks\": [{\"principals\": {\"values\": [\"";
  const char *post = "\"]}, \"users\": {\"type\": \"ANY\"}}]}";
  size_t long_value = 5000;
  size_t big = strlen(pre) + long_value + strlen(post);
  char *huge = malloc(big);
  CHECK(huge != NULL);
  if (huge) {
    memcpy(huge, pre, strlen(pre));
    memset(huge + strlen(pre), 'x', long_value);
    memcpy(huge + strlen(pre) + long_value, post, strlen(post));
    a = NULL;
    CHECK(mesos_auth_acl_compile_buffer(huge, big, 0, NULL, &a) == MESOS_AUTH_RESULT_LIMIT_EXCEEDED);
    CHECK(a == NULL);
    free(huge);
  }
}

static void test_decisions(const mesos_auth_acl *a) {
  mesos_auth_acl_decision d;
  mesos_auth_acl_request r = one(MESOS_AUTH_ACL_ACTION_RUN_TASK, S("ops"), "root");
  CHECK(mesos_auth_acl_authorize(a, &r, &d) == MESOS_AUTH_RESULT_OK);
  CHECK(d.allowed && d.reason == MESOS_AUTH_ACL_REASON_RULE && streq(d.list, "run_tasks") && d.index == 0 &&
        d.line == 4 && d.column == 5 && d.generation == 0 && !d.permissive);
  /* Everyone else is denied by rule 1 (ANY/NONE). */
  r = one(MESOS_AUTH_ACL_ACTION_RUN_TASK, S("dev"), "root");
  CHECK(mesos_auth_acl_authorize(a, &r, &d) == MESOS_AUTH_RESULT_OK);
  CHECK(!d.allowed && d.reason == MESOS_AUTH_ACL_REASON_RULE && d.index == 1 && d.line == 5);
  /* No principal (unauthenticated) on a list with no ACL: permissive decides. */
  r = one(MESOS_AUTH_ACL_ACTION_VIEW_ROLE, NO_PRINCIPAL, "dev");
  CHECK(mesos_auth_acl_authorize(a, &r, &d) == MESOS_AUTH_RESULT_OK);
  CHECK(!d.allowed && d.reason == MESOS_AUTH_ACL_REASON_NO_MATCH && d.list.len == 0 && d.line == 0);
  /* No object = ANY. */
  r = one(MESOS_AUTH_ACL_ACTION_RUN_TASK, S("ops"), "");
  r.object.kind = MESOS_AUTH_ACL_OBJECT_KIND_NONE;
  CHECK(mesos_auth_acl_authorize(a, &r, &d) == MESOS_AUTH_RESULT_OK);
  CHECK(!d.allowed);
  /* Hierarchical roles and MULTI_ROLE. */
  r = one(MESOS_AUTH_ACL_ACTION_REGISTER_FRAMEWORK, S("fw"), "dev/team-a");
  CHECK(mesos_auth_acl_authorize(a, &r, &d) == MESOS_AUTH_RESULT_OK && d.allowed);
  r = one(MESOS_AUTH_ACL_ACTION_REGISTER_FRAMEWORK, S("fw"), "dev");
  CHECK(mesos_auth_acl_authorize(a, &r, &d) == MESOS_AUTH_RESULT_OK && !d.allowed);
  mesos_auth_acl_object many;
  memset(&many, 0, sizeof many);
  mesos_auth_str roles[2] = {S("dev/x"), S("prod")};
  many.kind = MESOS_AUTH_ACL_OBJECT_KIND_MANY;
  many.values = roles;
  many.values_len = 2;
  r.object = many;
  CHECK(mesos_auth_acl_authorize(a, &r, &d) == MESOS_AUTH_RESULT_OK && d.allowed);
  roles[1] = S("qa");
  CHECK(mesos_auth_acl_authorize(a, &r, &d) == MESOS_AUTH_RESULT_OK && !d.allowed);
  r.object.values = NULL;
  r.object.values_len = 0;
  CHECK(mesos_auth_acl_authorize(a, &r, &d) == MESOS_AUTH_RESULT_OK);
  CHECK(!d.allowed && d.reason == MESOS_AUTH_ACL_REASON_NO_ROLES);
  r.action = MESOS_AUTH_ACL_ACTION_RESERVE_RESOURCES;
  CHECK(mesos_auth_acl_authorize(a, &r, &d) == MESOS_AUTH_RESULT_OK);
  CHECK(d.allowed && d.reason == MESOS_AUTH_ACL_REASON_NOTHING_TO_AUTHORIZE);
  /* Malformed requests are decisions: denied, never permissive. */
  r = one(MESOS_AUTH_ACL_ACTION_REGISTER_FRAMEWORK, S("fw"), "dev/../prod");
  CHECK(mesos_auth_acl_authorize(a, &r, &d) == MESOS_AUTH_RESULT_OK);
  CHECK(!d.allowed && d.reason == MESOS_AUTH_ACL_REASON_INVALID_REQUEST);
  r = one(MESOS_AUTH_ACL_ACTION_RUN_TASK, S("o\tps"), "root");
  CHECK(mesos_auth_acl_authorize(a, &r, &d) == MESOS_AUTH_RESULT_OK);
  CHECK(!d.allowed && d.reason == MESOS_AUTH_ACL_REASON_INVALID_REQUEST);
  /* Legacy quota op: only for UPDATE_QUOTA; with no legacy list, update_quotas applies. */
  r = one(MESOS_AUTH_ACL_ACTION_UPDATE_QUOTA, S("ops"), "dev");
  r.legacy_quota_op = MESOS_AUTH_ACL_LEGACY_QUOTA_OP_SET_QUOTA;
  CHECK(mesos_auth_acl_authorize(a, &r, &d) == MESOS_AUTH_RESULT_OK && d.allowed);
  r.action = MESOS_AUTH_ACL_ACTION_RUN_TASK;
  CHECK(mesos_auth_acl_authorize(a, &r, &d) == MESOS_AUTH_RESULT_INVALID_PARAMETER);

  /* Errors write nothing: the host must deny. */
  mesos_auth_acl_decision keep;
  memset(&keep, 0x5a, sizeof keep);
  mesos_auth_acl_decision before = keep;
  r = one(MESOS_AUTH_ACL_ACTION_RUN_TASK, S("ops"), "root");
  r.principal.data = "op\xff";
  r.principal.len = 3;
  CHECK(mesos_auth_acl_authorize(a, &r, &keep) == MESOS_AUTH_RESULT_INVALID_UTF8);
  r = one(MESOS_AUTH_ACL_ACTION_RUN_TASK, S("ops"), "root");
  r.object.value.len = 5; /* takes in the NUL */
  CHECK(mesos_auth_acl_authorize(a, &r, &keep) == MESOS_AUTH_RESULT_INVALID_UTF8);
  r = one(9999, S("ops"), "root");
  CHECK(mesos_auth_acl_authorize(a, &r, &keep) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
  r = one(MESOS_AUTH_ACL_ACTION_RUN_TASK, S("ops"), "root");
  r.object.kind = 7;
  CHECK(mesos_auth_acl_authorize(a, &r, &keep) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
  r.object.kind = MESOS_AUTH_ACL_OBJECT_KIND_MANY;
  r.object.values = NULL;
  r.object.values_len = 2;
  CHECK(mesos_auth_acl_authorize(a, &r, &keep) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  r = one(MESOS_AUTH_ACL_ACTION_RUN_TASK, S("ops"), "root");
  r.legacy_quota_op = 3;
  CHECK(mesos_auth_acl_authorize(a, &r, &keep) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
  r.legacy_quota_op = 0;
  CHECK(mesos_auth_acl_authorize(NULL, &r, &keep) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_acl_authorize(a, NULL, &keep) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_acl_authorize(a, &r, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(memcmp(&keep, &before, sizeof keep) == 0);

  /* Explain. */
  char buf[256];
  size_t n = 0;
  CHECK(mesos_auth_acl_explain(a, &r, buf, sizeof buf, &n) == MESOS_AUTH_RESULT_OK);
  CHECK(strcmp(buf, "allow: decided by ACL run_tasks[0] (line 4) (policy generation 0)") == 0 && n == strlen(buf));
  r = one(MESOS_AUTH_ACL_ACTION_VIEW_ROLE, S("ops"), "dev");
  CHECK(mesos_auth_acl_explain(a, &r, buf, sizeof buf, &n) == MESOS_AUTH_RESULT_OK);
  CHECK(strstr(buf, "no ACL matched, permissive = false") != NULL);
  char tiny[8];
  memset(tiny, 'x', sizeof tiny);
  CHECK(mesos_auth_acl_explain(a, &r, tiny, sizeof tiny, &n) == MESOS_AUTH_RESULT_BUFFER_TOO_SMALL);
  CHECK(n > sizeof tiny && tiny[0] == 'x');
  CHECK(mesos_auth_acl_explain(a, &r, NULL, 10, &n) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_acl_explain(a, &r, buf, sizeof buf, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_acl_explain(a, NULL, buf, sizeof buf, &n) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_acl_explain(NULL, &r, buf, sizeof buf, &n) == MESOS_AUTH_RESULT_NULL_PARAMETER);

  /* Many objects for one subject. */
  mesos_auth_acl_object objs[3];
  memset(objs, 0, sizeof objs);
  objs[0].kind = objs[1].kind = MESOS_AUTH_ACL_OBJECT_KIND_ONE;
  objs[0].value = S("root");
  objs[1].value = S("nobody");
  objs[2].kind = MESOS_AUTH_ACL_OBJECT_KIND_NONE;
  mesos_auth_acl_decision out[3];
  CHECK(mesos_auth_acl_authorize_many(a, MESOS_AUTH_ACL_ACTION_RUN_TASK, S("ops"), objs, 3, out) ==
        MESOS_AUTH_RESULT_OK);
  CHECK(out[0].allowed && !out[1].allowed && !out[2].allowed && out[1].index == 1);
  memset(out, 0x5a, sizeof out);
  mesos_auth_acl_decision out_before[3];
  memcpy(out_before, out, sizeof out);
  objs[2].kind = 42;
  CHECK(mesos_auth_acl_authorize_many(a, MESOS_AUTH_ACL_ACTION_RUN_TASK, S("ops"), objs, 3, out) ==
        MESOS_AUTH_RESULT_INVALID_PARAMETER);
  objs[2].kind = MESOS_AUTH_ACL_OBJECT_KIND_ONE;
  objs[2].value.data = "\xc3";
  objs[2].value.len = 1;
  CHECK(mesos_auth_acl_authorize_many(a, MESOS_AUTH_ACL_ACTION_RUN_TASK, S("ops"), objs, 3, out) ==
        MESOS_AUTH_RESULT_INVALID_UTF8);
  CHECK(memcmp(out, out_before, sizeof out) == 0);
  CHECK(mesos_auth_acl_authorize_many(a, MESOS_AUTH_ACL_ACTION_RUN_TASK, S("ops"), NULL, 0, NULL) ==
        MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_acl_authorize_many(a, MESOS_AUTH_ACL_ACTION_RUN_TASK, S("ops"), objs, 2, NULL) ==
        MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_acl_authorize_many(a, MESOS_AUTH_ACL_ACTION_RUN_TASK, S("ops"), NULL, 2, out) ==
        MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_acl_authorize_many(NULL, MESOS_AUTH_ACL_ACTION_RUN_TASK, S("ops"), objs, 2, out) ==
        MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_acl_authorize_many(a, 1000, S("ops"), objs, 2, out) == MESOS_AUTH_RESULT_INVALID_PARAMETER);

  /* Counts. */
  size_t rules = 0;
  CHECK(mesos_auth_acl_rule_count(a, &rules) == MESOS_AUTH_RESULT_OK && rules == 4);
  CHECK(mesos_auth_acl_rule_count(a, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_acl_rule_count(NULL, &rules) == MESOS_AUTH_RESULT_NULL_PARAMETER);
}

static void test_action_names(void) {
  uint32_t act = 777;
  CHECK(mesos_auth_acl_action_from_name("RUN_TASK", 8, &act) == MESOS_AUTH_RESULT_OK &&
        act == MESOS_AUTH_ACL_ACTION_RUN_TASK);
  CHECK(mesos_auth_acl_action_from_name("run_tasks", 9, &act) == MESOS_AUTH_RESULT_OK &&
        act == MESOS_AUTH_ACL_ACTION_RUN_TASK);
  CHECK(mesos_auth_acl_action_from_name("GET_ENDPOINT_WITH_PATH", 22, &act) == MESOS_AUTH_RESULT_OK &&
        act == MESOS_AUTH_ACL_ACTION_GET_ENDPOINT);
  act = 777;
  CHECK(mesos_auth_acl_action_from_name("LAUNCH_NESTED_CONTAINER", 23, &act) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(mesos_auth_acl_action_from_name("run\xfftask", 8, &act) == MESOS_AUTH_RESULT_INVALID_UTF8);
  CHECK(mesos_auth_acl_action_from_name(NULL, 3, &act) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_acl_action_from_name("RUN_TASK", 8, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(act == 777);
  CHECK(streq(mesos_auth_acl_action_name(MESOS_AUTH_ACL_ACTION_VIEW_ROLE), "view_role"));
  CHECK(streq(mesos_auth_acl_action_name(MESOS_AUTH_ACL_ACTION_DESTROY_RAW_DISK), "destroy_raw_disk"));
  CHECK(mesos_auth_acl_action_name(4000).len == 0 && mesos_auth_acl_action_name(4000).data != NULL);
}

static void test_file(void) {
  char path[] = "/tmp/mesos-auth-acl-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd < 0) return;
  CHECK(write(fd, POLICY, strlen(POLICY)) == (ssize_t)strlen(POLICY));
  close(fd);
  const mesos_auth_acl *a = NULL;
  char uri[64];
  snprintf(uri, sizeof uri, "file://%s", path);
  CHECK(mesos_auth_acl_load_path(uri, strlen(uri), 0, NULL, &a) == MESOS_AUTH_RESULT_OK);
  uint64_t gen = 9;
  CHECK(mesos_auth_acl_reload(a, &gen) == MESOS_AUTH_RESULT_OK && gen == 1);
  /* A broken file is refused; the old policy keeps serving. */
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f) {
    fputs("{\"permissive\": true,\n \"run_tasks\": [}", f);
    fclose(f);
  }
  CHECK(mesos_auth_acl_reload(a, &gen) == MESOS_AUTH_RESULT_PARSE_ERROR && gen == 1);
  char err[256];
  last_error(err, sizeof err);
  CHECK(strncmp(err, "2:", 2) == 0);
  mesos_auth_acl_decision d;
  mesos_auth_acl_request r = one(MESOS_AUTH_ACL_ACTION_RUN_TASK, S("dev"), "root");
  CHECK(mesos_auth_acl_authorize(a, &r, &d) == MESOS_AUTH_RESULT_OK && !d.allowed && d.generation == 1);
  CHECK(mesos_auth_acl_reload(a, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_acl_reload(NULL, &gen) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  unlink(path);
  CHECK(mesos_auth_acl_reload(a, &gen) == MESOS_AUTH_RESULT_FILE_ERROR && gen == 1);
  CHECK(mesos_auth_acl_free(a) == MESOS_AUTH_RESULT_OK);
  a = NULL;
  CHECK(mesos_auth_acl_load_path(path, strlen(path), 0, NULL, &a) == MESOS_AUTH_RESULT_FILE_ERROR && a == NULL);
  CHECK(mesos_auth_acl_load_path("", 0, 0, NULL, &a) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(mesos_auth_acl_load_path("/tmp/\xff", 6, 0, NULL, &a) == MESOS_AUTH_RESULT_INVALID_UTF8);
  CHECK(mesos_auth_acl_load_path(path, strlen(path), 0, NULL, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_acl_load_path(path, strlen(path), 2, NULL, &a) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(a == NULL);
}

/* ---- threads: 4 deciders, 1 reloader, one handle ---- */
struct shared {
  const mesos_auth_acl *acl;
  int ok;
};

static void *decider(void *arg) {
  struct shared *s = arg;
  s->ok = 1;
  uint64_t last = 0;
  for (int i = 0; i < 400; i++) {
    mesos_auth_acl_decision d;
    mesos_auth_acl_request r = one(MESOS_AUTH_ACL_ACTION_RUN_TASK, S("ops"), "root");
    /* Both policies allow ops/root: by rule, or by permissive. */
    if (mesos_auth_acl_authorize(s->acl, &r, &d) != MESOS_AUTH_RESULT_OK || !d.allowed) s->ok = 0;
    /* A reader never sees generations go backwards. */
    if (d.generation < last) s->ok = 0;
    last = d.generation;
    mesos_auth_acl_object o;
    memset(&o, 0, sizeof o);
    o.kind = MESOS_AUTH_ACL_OBJECT_KIND_ONE;
    o.value = S("root");
    mesos_auth_acl_decision m;
    if (mesos_auth_acl_authorize_many(s->acl, MESOS_AUTH_ACL_ACTION_RUN_TASK, S("ops"), &o, 1, &m) !=
            MESOS_AUTH_RESULT_OK ||
        !m.allowed)
      s->ok = 0;
  }
  return NULL;
}

static void *reloader(void *arg) {
  struct shared *s = arg;
  s->ok = 1;
  for (int i = 0; i < 40; i++) {
    const char *t = (i % 2 == 0) ? PERMISSIVE : POLICY;
    uint64_t gen = 0;
    if (mesos_auth_acl_reload_buffer(s->acl, t, strlen(t), &gen) != MESOS_AUTH_RESULT_OK) s->ok = 0;
    /* An invalid one in between is refused. */
    if (mesos_auth_acl_reload_buffer(s->acl, "{", 1, &gen) != MESOS_AUTH_RESULT_PARSE_ERROR) s->ok = 0;
  }
  return NULL;
}

static void test_threads(const mesos_auth_audit *audit) {
  const mesos_auth_acl *a = NULL;
  CHECK(mesos_auth_acl_compile_buffer(POLICY, strlen(POLICY), 0, audit, &a) == MESOS_AUTH_RESULT_OK);
  pthread_t t[5];
  struct shared sh[5];
  for (int i = 0; i < 5; i++) {
    sh[i] = (struct shared){a, 0};
    CHECK(pthread_create(&t[i], NULL, i == 4 ? reloader : decider, &sh[i]) == 0);
  }
  for (int i = 0; i < 5; i++) {
    pthread_join(t[i], NULL);
    CHECK(sh[i].ok);
  }
  uint64_t gen = 0;
  CHECK(mesos_auth_acl_generation(a, &gen) == MESOS_AUTH_RESULT_OK && gen == 40);
  CHECK(mesos_auth_acl_generation(a, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_acl_generation(NULL, &gen) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  /* Every decision was audited (4 threads x 400 x 2). */
  CHECK(decisions_audited == 4 * 400 * 2);
  CHECK(mesos_auth_acl_free(a) == MESOS_AUTH_RESULT_OK);
}

int main(void) {
  test_compile_errors();
  test_action_names();
  const mesos_auth_acl *a = NULL;
  CHECK(mesos_auth_acl_compile_buffer(POLICY, strlen(POLICY), 0, NULL, &a) == MESOS_AUTH_RESULT_OK);
  if (a) test_decisions(a);
  uint64_t gen = 7;
  CHECK(mesos_auth_acl_reload(a, &gen) == MESOS_AUTH_RESULT_INVALID_STATE && gen == 7);
  CHECK(mesos_auth_acl_reload_buffer(a, NULL, 2, &gen) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_acl_reload_buffer(a, "{\xff}", 3, &gen) == MESOS_AUTH_RESULT_INVALID_UTF8);
  CHECK(mesos_auth_acl_reload_buffer(a, PERMISSIVE, strlen(PERMISSIVE), NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(gen == 7);
  test_file();

  const mesos_auth_audit *audit = NULL;
  CHECK(mesos_auth_audit_new(on_audit, NULL, &audit) == MESOS_AUTH_RESULT_OK);
  test_threads(audit);

  /* Wrong kinds: refused, nothing freed or used. */
  mesos_auth_acl_decision d;
  mesos_auth_acl_request r = one(MESOS_AUTH_ACL_ACTION_RUN_TASK, S("ops"), "root");
  CHECK(mesos_auth_acl_authorize((const mesos_auth_acl *)(const void *)audit, &r, &d) ==
        MESOS_AUTH_RESULT_WRONG_HANDLE);
  CHECK(mesos_auth_acl_free((const mesos_auth_acl *)(const void *)audit) == MESOS_AUTH_RESULT_WRONG_HANDLE);
  CHECK(mesos_auth_audit_free((const mesos_auth_audit *)(const void *)a) == MESOS_AUTH_RESULT_WRONG_HANDLE);
  CHECK(mesos_auth_acl_compile_buffer(PERMISSIVE, strlen(PERMISSIVE), 0,
                                      (const mesos_auth_audit *)(const void *)a,
                                      &a) == MESOS_AUTH_RESULT_WRONG_HANDLE);
  CHECK(mesos_auth_acl_authorize(a, &r, &d) == MESOS_AUTH_RESULT_OK && d.allowed);
  /* NULL frees. */
  CHECK(mesos_auth_acl_free(NULL) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_acl_free(NULL) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_acl_free(a) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_audit_free(audit) == MESOS_AUTH_RESULT_OK);
  return check_report("c acl");
}
