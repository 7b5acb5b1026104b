/* gsasl_peer.c - GNU SASL (libgsasl) CRAM-MD5 peer for tests/interop.rs.
 *
 *   gsasl_peer server HEXPRINCIPAL HEXSECRET [...]   (authenticator)
 *   gsasl_peer client HEXPRINCIPAL HEXSECRET         (authenticatee)
 *
 * The server answers GSASL_PASSWORD from the argv credentials for the
 * GSASL_AUTHID the client sent. See peer.h for the line protocol.
 */
#include <gsasl.h>
#include "peer.h"

static int callback(Gsasl *ctx, Gsasl_session *sctx, Gsasl_property prop)
{
    const char *authid;
    const struct cred *c;
    (void)ctx;
    if (prop != GSASL_PASSWORD) return GSASL_NO_CALLBACK;
    authid = gsasl_property_fast(sctx, GSASL_AUTHID);
    if (!authid) return GSASL_NO_AUTHID;
    c = find_cred(authid, strlen(authid));
    if (!c) return GSASL_AUTHENTICATION_ERROR;
    return gsasl_property_set_raw(sctx, GSASL_PASSWORD, c->secret, c->slen);
}

int main(int argc, char **argv)
{
    Gsasl *ctx;
    Gsasl_session *s;
    char line[PEER_LINE];
    char *out = NULL, *in;
    size_t outlen = 0, inlen;
    int r;

    if (argc < 4) peer_fail("usage: gsasl_peer server|client HEXPRINCIPAL HEXSECRET ...");
    load_creds(argc, argv, 2);
    if (gsasl_init(&ctx) != GSASL_OK) peer_fail("gsasl_init");
    gsasl_callback_set(ctx, callback);

    if (strcmp(argv[1], "server") == 0) {
        if (gsasl_server_start(ctx, "CRAM-MD5", &s) != GSASL_OK) peer_fail("gsasl_server_start");
        if (gsasl_step(s, NULL, 0, &out, &outlen) != GSASL_NEEDS_MORE) peer_fail("first step");
        put_hex_line("C", out, outlen);
        gsasl_free(out);
        in = unhex(get_line(line, "R"), &inlen);
        r = gsasl_step(s, in, inlen, &out, &outlen);
        if (r == GSASL_OK) {
            const char *who = gsasl_property_fast(s, GSASL_AUTHID);
            put_hex_line("OK", who ? who : "", who ? strlen(who) : 0);
            return 0;
        }
        fprintf(stderr, "gsasl server: %s\n", gsasl_strerror(r));
        printf("NO %s\n", r == GSASL_AUTHENTICATION_ERROR ? "badauth" : "error");
        fflush(stdout);
        return 1;
    }
    if (strcmp(argv[1], "client") == 0) {
        if (ncreds != 1) peer_fail("client takes one credential");
        if (gsasl_client_start(ctx, "CRAM-MD5", &s) != GSASL_OK) peer_fail("gsasl_client_start");
        gsasl_property_set_raw(s, GSASL_AUTHID, creds[0].principal, creds[0].plen);
        gsasl_property_set_raw(s, GSASL_PASSWORD, creds[0].secret, creds[0].slen);
        in = unhex(get_line(line, "C"), &inlen);
        r = gsasl_step(s, in, inlen, &out, &outlen);
        if (r != GSASL_OK && r != GSASL_NEEDS_MORE) {
            fprintf(stderr, "gsasl client: %s\n", gsasl_strerror(r));
            return 2;
        }
        put_hex_line("R", out, outlen);
        if (!fgets(line, sizeof line, stdin)) return 2;
        return strncmp(line, "OK", 2) == 0 ? 0 : strncmp(line, "NO", 2) == 0 ? 1 : 2;
    }
    peer_fail("unknown mode");
    return 2;
}
