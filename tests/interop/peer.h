/* peer.h - shared helpers for the interop peers in this directory.
 *
 * Each peer speaks a tiny line protocol with the Rust test (tests/interop.rs):
 * every payload is lowercase hex, one line per message, flushed at once.
 *   server peer:  prints "C <hex challenge>", reads "R <hex response>",
 *                 prints "OK <hex principal>" or "NO <code>".
 *   client peer:  reads "C <hex challenge>", prints "R <hex response>",
 *                 reads the verdict line and exits 0 for OK, 1 for NO.
 * Credentials come as argv pairs of hex strings. Diagnostics go to stderr.
 */
#ifndef MESOS_AUTH_PEER_H
#define MESOS_AUTH_PEER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEER_LINE 8192

static void peer_fail(const char *what)
{
    fprintf(stderr, "peer: %s\n", what);
    exit(2);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Decodes hex into a fresh NUL-terminated buffer; *len gets the byte count. */
static char *unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex), i;
    char *out;
    if (n % 2) peer_fail("odd hex length");
    out = malloc(n / 2 + 1);
    if (!out) peer_fail("out of memory");
    for (i = 0; i < n / 2; i++) {
        int hi = hexval((unsigned char)hex[2 * i]), lo = hexval((unsigned char)hex[2 * i + 1]);
        if (hi < 0 || lo < 0) peer_fail("bad hex digit");
        out[i] = (char)(hi * 16 + lo);
    }
    out[n / 2] = 0;
    if (len) *len = n / 2;
    return out;
}

static void put_hex_line(const char *tag, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i;
    fputs(tag, stdout);
    fputc(' ', stdout);
    for (i = 0; i < len; i++) printf("%02x", p[i]);
    fputc('\n', stdout);
    fflush(stdout);
}

/* Reads a line "TAG payload" into buf; returns the payload (may be ""). */
static char *get_line(char *buf, const char *tag)
{
    size_t n, t = strlen(tag);
    if (!fgets(buf, PEER_LINE, stdin)) peer_fail("eof");
    n = strlen(buf);
    if (n && buf[n - 1] == '\n') buf[--n] = 0;
    if (strncmp(buf, tag, t) != 0) peer_fail("unexpected line");
    return buf[t] == ' ' ? buf + t + 1 : buf + t;
}

/* Credentials from argv pairs (hex principal, hex secret). */
struct cred { char *principal; size_t plen; char *secret; size_t slen; };
static struct cred creds[64];
static int ncreds;

static void load_creds(int argc, char **argv, int first)
{
    int i;
    for (i = first; i + 1 < argc && ncreds < 64; i += 2, ncreds++) {
        creds[ncreds].principal = unhex(argv[i], &creds[ncreds].plen);
        creds[ncreds].secret = unhex(argv[i + 1], &creds[ncreds].slen);
    }
}

static const struct cred *find_cred(const char *name, size_t len)
{
    int i;
    for (i = 0; i < ncreds; i++)
        if (creds[i].plen == len && memcmp(creds[i].principal, name, len) == 0) return &creds[i];
    return NULL;
}

#endif
