/* C11 test of the audit sinks: a rotating JSON-lines file and syslog (a
 * datagram socket bound here), fed by ACL decisions; counters, flush,
 * refused paths (symlink, group-writable file, bad fsync policy), NULL
 * arguments. Run under ASan+UBSan and valgrind by ffi/tests/run-c-tests. */
#define _DEFAULT_SOURCE
#include "mesos_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"

static const char POLICY[] =
    "{\"permissive\": false, \"run_tasks\": [{\"principals\": {\"values\": [\"ops\"]}, "
    "\"users\": {\"values\": [\"root\"]}}]}";

static mesos_auth_str S(const char *s) {
  mesos_auth_str v = {s, strlen(s)};
  return v;
}

static void decide(const mesos_auth_audit *audit, int n) {
  const mesos_auth_acl *acl = NULL;
  CHECK(mesos_auth_acl_compile_buffer(POLICY, strlen(POLICY), 0, audit, &acl) == MESOS_AUTH_RESULT_OK);
  for (int i = 0; i < n; i++) {
    mesos_auth_acl_request r;
    memset(&r, 0, sizeof r);
    r.action = MESOS_AUTH_ACL_ACTION_RUN_TASK;
    r.principal = S(i % 2 ? "ops" : "dev");
    r.object.kind = MESOS_AUTH_ACL_OBJECT_KIND_ONE;
    r.object.value = S("root");
    mesos_auth_acl_decision d;
    CHECK(mesos_auth_acl_authorize(acl, &r, &d) == MESOS_AUTH_RESULT_OK);
  }
  CHECK(mesos_auth_acl_free(acl) == MESOS_AUTH_RESULT_OK);
}

/* Lines in `path` that contain `needle` (all lines for ""), -1 if absent. */
static int count_lines(const char *path, const char *needle) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  char line[4096];
  int n = 0;
  while (fgets(line, sizeof line, f)) {
    if (strstr(line, needle)) n++;
  }
  fclose(f);
  return n;
}

static uint64_t counter(mesos_auth_result (*get)(const mesos_auth_audit *, uint64_t *),
                        const mesos_auth_audit *a) {
  uint64_t v = 12345;
  CHECK(get(a, &v) == MESOS_AUTH_RESULT_OK);
  return v;
}

static void file_sink(const char *dir) {
  char path[512];
  snprintf(path, sizeof path, "%s/audit.log", dir);
  const mesos_auth_audit *a = NULL;
  CHECK(mesos_auth_audit_file_new(path, strlen(path), 0, 3, MESOS_AUTH_AUDIT_FSYNC_ALWAYS, 0, 64, &a) ==
        MESOS_AUTH_RESULT_OK);
  decide(a, 5);
  CHECK(mesos_auth_audit_flush(a, 5000) == MESOS_AUTH_RESULT_OK);
  CHECK(counter(mesos_auth_audit_dropped, a) == 0);
  CHECK(counter(mesos_auth_audit_written, a) == 5);
  CHECK(counter(mesos_auth_audit_acknowledged, a) == 5);
  CHECK(count_lines(path, "") == 5);
  CHECK(count_lines(path, "\"component\":\"acl\"") == 5);
  CHECK(count_lines(path, "\"policy_hash\":\"") == 5);
  CHECK(count_lines(path, "\"policy_generation\":0") == 5);
  CHECK(count_lines(path, "\"allowed\":true") == 2);
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 077) == 0);
  CHECK(mesos_auth_audit_free(a) == MESOS_AUTH_RESULT_OK);

  /* Rotation: about two events per file, two old files kept. */
  char rot[512], rot1[512], rot2[512], rot3[512];
  snprintf(rot, sizeof rot, "%s/rot.log", dir);
  snprintf(rot1, sizeof rot1, "%s/rot.log.1", dir);
  snprintf(rot2, sizeof rot2, "%s/rot.log.2", dir);
  snprintf(rot3, sizeof rot3, "%s/rot.log.3", dir);
  CHECK(mesos_auth_audit_file_new(rot, strlen(rot), 700, 2, MESOS_AUTH_AUDIT_FSYNC_INTERVAL, 10, 64, &a) ==
        MESOS_AUTH_RESULT_OK);
  decide(a, 12);
  CHECK(mesos_auth_audit_flush(a, 5000) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_audit_free(a) == MESOS_AUTH_RESULT_OK);
  CHECK(count_lines(rot, "") >= 1);
  CHECK(count_lines(rot1, "") >= 1);
  CHECK(count_lines(rot2, "") >= 1);
  CHECK(count_lines(rot3, "") == -1);
  CHECK(count_lines(rot, "") + count_lines(rot1, "") + count_lines(rot2, "") < 12);

  /* Refused: a symlink, a group-writable file, a bad policy, NULLs. */
  char link[512], open_file[512];
  snprintf(link, sizeof link, "%s/link.log", dir);
  snprintf(open_file, sizeof open_file, "%s/open.log", dir);
  CHECK(symlink(path, link) == 0);
  a = NULL;
  CHECK(mesos_auth_audit_file_new(link, strlen(link), 0, 0, 0, 0, 8, &a) == MESOS_AUTH_RESULT_FILE_ERROR);
  CHECK(a == NULL);
  char err[512];
  size_t n = 0;
  CHECK(mesos_auth_last_error(err, sizeof err, &n) == MESOS_AUTH_RESULT_OK && strstr(err, "symbolic link"));
  FILE *f = fopen(open_file, "w");
  CHECK(f != NULL);
  if (f) fclose(f);
  CHECK(chmod(open_file, 0620) == 0);
  CHECK(mesos_auth_audit_file_new(open_file, strlen(open_file), 0, 0, 0, 0, 8, &a) ==
        MESOS_AUTH_RESULT_FILE_ERROR);
  CHECK(mesos_auth_audit_file_new(path, strlen(path), 0, 0, 7, 0, 8, &a) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(mesos_auth_audit_file_new(path, strlen(path), 0, 0, 0, 0, 0, &a) == MESOS_AUTH_RESULT_INVALID_PARAMETER);
  CHECK(mesos_auth_audit_file_new(path, strlen(path), 0, 0, 0, 0, 8, NULL) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_audit_file_new(NULL, 3, 0, 0, 0, 0, 8, &a) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(a == NULL);
  uint64_t v = 0;
  CHECK(mesos_auth_audit_dropped(NULL, &v) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_audit_flush(NULL, 1) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  unlink(link);
  unlink(open_file);
  unlink(rot);
  unlink(rot1);
  unlink(rot2);
}

static void syslog_sink(const char *dir) {
  char sock_path[512];
  snprintf(sock_path, sizeof sock_path, "%s/log", dir);
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  CHECK(fd >= 0);
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, sock_path, sizeof addr.sun_path - 1);
  CHECK(bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0);
  struct timeval tv = {5, 0};
  CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);

  const mesos_auth_audit *a = NULL;
  CHECK(mesos_auth_audit_syslog_new(sock_path, strlen(sock_path), "mesos-master", 12, 10, 16, &a) ==
        MESOS_AUTH_RESULT_OK);
  decide(a, 2);
  CHECK(mesos_auth_audit_flush(a, 5000) == MESOS_AUTH_RESULT_OK);
  CHECK(counter(mesos_auth_audit_acknowledged, a) == 2);
  for (int i = 0; i < 2; i++) {
    char buf[8192];
    ssize_t got = recv(fd, buf, sizeof buf - 1, 0);
    CHECK(got > 0);
    if (got <= 0) break;
    buf[got] = '\0';
    CHECK(strncmp(buf, "<86>", 4) == 0);
    CHECK(strstr(buf, " mesos-master[") != NULL);
    CHECK(strstr(buf, "\"component\":\"acl\"") != NULL);
  }
  CHECK(mesos_auth_audit_free(a) == MESOS_AUTH_RESULT_OK);
  a = NULL;
  CHECK(mesos_auth_audit_syslog_new(sock_path, strlen(sock_path), NULL, 0, 24, 16, &a) ==
        MESOS_AUTH_RESULT_INVALID_PARAMETER);
  close(fd);
  unlink(sock_path);
  CHECK(mesos_auth_audit_syslog_new(sock_path, strlen(sock_path), NULL, 0, 10, 16, &a) ==
        MESOS_AUTH_RESULT_FILE_ERROR);
  CHECK(a == NULL);
}

static int delivered = 0;
static void on_event(void *userdata, const char *json, size_t len) {
  (void)userdata;
  if (len > 0 && json[len] == '\0') delivered++;
}

static void callback_and_tee(const char *dir) {
  const mesos_auth_audit *a = NULL;
  CHECK(mesos_auth_audit_new(on_event, NULL, &a) == MESOS_AUTH_RESULT_OK);
  decide(a, 3);
  CHECK(mesos_auth_audit_flush(a, 0) == MESOS_AUTH_RESULT_OK);
  CHECK(delivered == 3);
  CHECK(counter(mesos_auth_audit_written, a) == 3);
  CHECK(counter(mesos_auth_audit_acknowledged, a) == 3);
  CHECK(counter(mesos_auth_audit_dropped, a) == 0);

  /* The callback and a file, through one handle. */
  char path[512];
  snprintf(path, sizeof path, "%s/tee.log", dir);
  const mesos_auth_audit *f = NULL, *t = NULL;
  CHECK(mesos_auth_audit_file_new(path, strlen(path), 0, 0, MESOS_AUTH_AUDIT_FSYNC_NEVER, 0, 16, &f) ==
        MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_audit_tee_new(a, f, &t) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_audit_free(f) == MESOS_AUTH_RESULT_OK);
  decide(t, 2);
  CHECK(mesos_auth_audit_flush(t, 5000) == MESOS_AUTH_RESULT_OK);
  CHECK(delivered == 5);
  CHECK(count_lines(path, "\"component\":\"acl\"") == 2);
  CHECK(counter(mesos_auth_audit_acknowledged, t) == 5 + 2);
  CHECK(mesos_auth_audit_tee_new(a, NULL, &f) == MESOS_AUTH_RESULT_NULL_PARAMETER);
  CHECK(mesos_auth_audit_free(t) == MESOS_AUTH_RESULT_OK);
  CHECK(mesos_auth_audit_free(a) == MESOS_AUTH_RESULT_OK);
  unlink(path);
}

int main(void) {
  CHECK(MESOS_AUTH_CHECK_VERSION() == MESOS_AUTH_RESULT_OK);
  char dir[] = "/tmp/mesos-auth-audit-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  file_sink(dir);
  syslog_sink(dir);
  callback_and_tee(dir);
  char keep[600];
  snprintf(keep, sizeof keep, "%s/audit.log", dir);
  unlink(keep);
  CHECK(rmdir(dir) == 0);
  return check_report("audit");
}
