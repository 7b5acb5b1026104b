/* cyrus_gssapi_peer.c - Cyrus SASL (libsasl2 + the MIT GSSAPI plug-in) as
 * a GSSAPI peer for tests/gssapi.rs.
 *
 *   cyrus_gssapi_peer server             (acceptor, service "mesos" on
 *                                         "localhost", keys from KRB5_KTNAME)
 *   cyrus_gssapi_peer client HOST AUTHZID  (initiator, ticket cache from
 *                                         KRB5CCNAME)
 *
 * Line protocol, hex payloads, one message per line, flushed at once:
 *   "T <hex>"   a SASL token (either way; the client's first is its
 *               initial response)
 *   "OK <hex>"  server: authenticated, with the authentication identity
 *   "NO <code>" refused
 * The client reads "OK"/"NO" as the verdict and exits 0 or 1. Both sides
 * allow no security layer (max_ssf 0), as Mesos uses SASL. Diagnostics go
 * to stderr.
 */
#include <sasl/sasl.h>
#include "../interop/peer.h"

static const sasl_security_properties_t no_layer = {
    .min_ssf = 0, .max_ssf = 0, .maxbufsize = 0, .security_flags = 0,
};

static int server_getopt(void *ctx, const char *plugin, const char *option,
                         const char **result, unsigned *len)
{
    (void)ctx; (void)plugin;
    if (strcmp(option, "mech_list") == 0) {
        *result = "GSSAPI";
        if (len) *len = (unsigned)strlen(*result);
        return SASL_OK;
    }
    return SASL_FAIL;
}

/* Any authorization identity: the test compares what the server reports. */
static int allow_proxy(sasl_conn_t *conn, void *ctx, const char *requested_user,
                       unsigned rlen, const char *auth_identity, unsigned alen,
                       const char *def_realm, unsigned urlen, struct propctx *propctx)
{
    (void)conn; (void)ctx; (void)requested_user; (void)rlen; (void)auth_identity;
    (void)alen; (void)def_realm; (void)urlen; (void)propctx;
    return SASL_OK;
}

static int run_server(void)
{
    sasl_callback_t cbs[] = {
        {SASL_CB_GETOPT, (int (*)(void))server_getopt, NULL},
        {SASL_CB_PROXY_POLICY, (int (*)(void))allow_proxy, NULL},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    sasl_conn_t *conn;
    const char *out = NULL;
    unsigned outlen = 0;
    char line[PEER_LINE];
    char *tok;
    size_t tlen;
    int r, first = 1;
    const void *authid = NULL;

    if (sasl_server_init(cbs, "mesos") != SASL_OK) peer_fail("sasl_server_init");
    if (sasl_server_new("mesos", "localhost", NULL, NULL, NULL, cbs, 0, &conn) != SASL_OK)
        peer_fail("sasl_server_new");
    if (sasl_setprop(conn, SASL_SEC_PROPS, &no_layer) != SASL_OK) peer_fail("sasl_setprop");
    for (;;) {
        tok = unhex(get_line(line, "T"), &tlen);
        if (first)
            r = sasl_server_start(conn, "GSSAPI", tok, (unsigned)tlen, &out, &outlen);
        else
            r = sasl_server_step(conn, tok, (unsigned)tlen, &out, &outlen);
        first = 0;
        free(tok);
        if (r == SASL_CONTINUE) {
            put_hex_line("T", out, outlen);
            continue;
        }
        if (r == SASL_OK) {
            if (sasl_getprop(conn, SASL_AUTHUSER, &authid) != SASL_OK || !authid)
                peer_fail("no authid");
            put_hex_line("OK", authid, strlen(authid));
            return 0;
        }
        fprintf(stderr, "cyrus gssapi server: %s\n", sasl_errdetail(conn));
        printf("NO %d\n", r);
        fflush(stdout);
        return 1;
    }
}

static const char *authzid;

static int client_simple(void *ctx, int id, const char **result, unsigned *len)
{
    (void)ctx;
    if (id != SASL_CB_USER) return SASL_BADPARAM;
    *result = authzid;
    if (len) *len = (unsigned)strlen(authzid);
    return SASL_OK;
}

static int run_client(const char *host)
{
    sasl_callback_t cbs[] = {
        {SASL_CB_USER, (int (*)(void))client_simple, NULL},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    sasl_conn_t *conn;
    sasl_interact_t *prompts = NULL;
    const char *out = NULL, *mech = NULL;
    unsigned outlen = 0;
    char line[PEER_LINE];
    char *tok;
    size_t tlen;
    int r;

    if (sasl_client_init(cbs) != SASL_OK) peer_fail("sasl_client_init");
    if (sasl_client_new("mesos", host, NULL, NULL, cbs, 0, &conn) != SASL_OK)
        peer_fail("sasl_client_new");
    if (sasl_setprop(conn, SASL_SEC_PROPS, &no_layer) != SASL_OK) peer_fail("sasl_setprop");
    r = sasl_client_start(conn, "GSSAPI", &prompts, &out, &outlen, &mech);
    if (r != SASL_CONTINUE && r != SASL_OK) {
        fprintf(stderr, "cyrus gssapi client start: %s\n", sasl_errdetail(conn));
        return 2;
    }
    put_hex_line("T", out, outlen);
    for (;;) {
        if (!fgets(line, sizeof line, stdin)) return 2;
        if (strncmp(line, "OK", 2) == 0) return 0;
        if (strncmp(line, "NO", 2) == 0) return 1;
        line[strcspn(line, "\n")] = 0;
        if (strncmp(line, "T", 1) != 0) peer_fail("unexpected line");
        tok = unhex(line[1] == ' ' ? line + 2 : line + 1, &tlen);
        r = sasl_client_step(conn, tok, (unsigned)tlen, &prompts, &out, &outlen);
        free(tok);
        if (r != SASL_CONTINUE && r != SASL_OK) {
            fprintf(stderr, "cyrus gssapi client: %s\n", sasl_errdetail(conn));
            return 2;
        }
        put_hex_line("T", out, outlen);
    }
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "server") == 0) return run_server();
    if (argc >= 4 && strcmp(argv[1], "client") == 0) {
        authzid = argv[3];
        return run_client(argv[2]);
    }
    peer_fail("usage: cyrus_gssapi_peer server | client HOST AUTHZID");
    return 2;
}
