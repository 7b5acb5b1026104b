/* The C tests' one assertion macro and summary: a failed CHECK prints where
 * and what, counts, and lets the test go on, so one run reports every
 * failure. */
#ifndef MESOS_AUTH_TEST_CHECK_H
#define MESOS_AUTH_TEST_CHECK_H

#include <stdio.h>

static int failures = 0;
#define CHECK(cond)                                                             \
  do {                                                                          \
    if (!(cond)) {                                                              \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                               \
    }                                                                           \
  } while (0)

/* main's exit status: 0 if every check passed. */
static inline int check_report(const char *name) {
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("%s: all checks passed\n", name);
  return 0;
}

#endif
