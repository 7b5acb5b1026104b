/* cyrus_peer.c - Cyrus SASL (libsasl2) CRAM-MD5 peer for tests/interop.rs.
 *
 *   cyrus_peer server HEXPRINCIPAL HEXSECRET [...]   (authenticator)
 *   cyrus_peer client HEXPRINCIPAL HEXSECRET         (authenticatee)
 *
 * The server is set up as Mesos sets up Cyrus (mesos-reference.md 4.1):
 * service "mesos", mech_list=CRAM-MD5, pwcheck_method=auxprop, and an
 * auxprop plug-in of our own that answers userPassword from memory; a
 * canon_user callback records the principal as Mesos does. The client uses
 * the callbacks Mesos' authenticatee registers (GETREALM, USER, AUTHNAME,
 * PASS). See peer.h for the line protocol.
 */
#include <sasl/sasl.h>
#include <sasl/saslplug.h>
#include "peer.h"

static char recorded[1100];
static size_t recorded_len;
static int have_recorded;

/* ---- server: in-memory auxprop ---- */

static int memory_lookup(void *glob, sasl_server_params_t *sparams, unsigned flags,
                         const char *user, unsigned ulen)
{
    const struct propval *props = sparams->utils->prop_get(sparams->propctx);
    const struct propval *p;
    const struct cred *c = find_cred(user, ulen);
    (void)glob;
    /* Authzid lookups ask for unprefixed names; authid ones are '*'-prefixed. */
    if (!props || (flags & SASL_AUXPROP_AUTHZID)) return SASL_OK;
    for (p = props; p->name; p++) {
        if (strcmp(p->name, "*" SASL_AUX_PASSWORD_PROP) != 0) continue;
        if (p->values) {
            if (!(flags & (SASL_AUXPROP_OVERRIDE | SASL_AUXPROP_VERIFY_AGAINST_HASH))) continue;
            sparams->utils->prop_erase(sparams->propctx, p->name);
        }
        if (c) sparams->utils->prop_set(sparams->propctx, p->name, c->secret, (int)c->slen);
    }
    return SASL_OK;
}

static sasl_auxprop_plug_t memory_plug = {
    .auxprop_lookup = memory_lookup,
    .name = "mesos-auth-test-memory",
};

static int memory_init(const sasl_utils_t *utils, int max_version, int *out_version,
                       sasl_auxprop_plug_t **plug, const char *plugname)
{
    (void)utils; (void)plugname;
    if (max_version < SASL_AUXPROP_PLUG_VERSION) return SASL_BADVERS;
    *out_version = SASL_AUXPROP_PLUG_VERSION;
    *plug = &memory_plug;
    return SASL_OK;
}

static int server_getopt(void *ctx, const char *plugin, const char *option,
                         const char **result, unsigned *len)
{
    static const char *const table[][2] = {
        {"auxprop_plugin", "mesos-auth-test-memory"},
        {"mech_list", "CRAM-MD5"},
        {"pwcheck_method", "auxprop"},
    };
    size_t i;
    (void)ctx; (void)plugin;
    for (i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(option, table[i][0]) == 0) {
            *result = table[i][1];
            if (len) *len = (unsigned)strlen(*result);
            return SASL_OK;
        }
    }
    return SASL_FAIL; /* not ours: let Cyrus use its default */
}

static int server_canon(sasl_conn_t *conn, void *ctx, const char *in, unsigned inlen,
                        unsigned flags, const char *realm, char *out, unsigned outmax,
                        unsigned *outlen)
{
    (void)conn; (void)ctx; (void)flags; (void)realm;
    if (inlen > outmax || inlen >= sizeof recorded) return SASL_BUFOVER;
    memcpy(recorded, in, inlen);
    recorded_len = inlen;
    have_recorded = 1;
    memcpy(out, in, inlen);
    *outlen = inlen;
    return SASL_OK;
}

static int run_server(void)
{
    sasl_callback_t cbs[] = {
        {SASL_CB_GETOPT, (int (*)(void))server_getopt, NULL},
        {SASL_CB_CANON_USER, (int (*)(void))server_canon, NULL},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    sasl_conn_t *conn;
    const char *out;
    unsigned outlen;
    char line[PEER_LINE];
    char *resp;
    size_t rlen;
    int r;

    if (sasl_auxprop_add_plugin("mesos-auth-test-memory", memory_init) != SASL_OK)
        peer_fail("sasl_auxprop_add_plugin");
    if (sasl_server_init(NULL, "mesos") != SASL_OK) peer_fail("sasl_server_init");
    if (sasl_server_new("mesos", NULL, NULL, NULL, NULL, cbs, 0, &conn) != SASL_OK)
        peer_fail("sasl_server_new");
    r = sasl_server_start(conn, "CRAM-MD5", NULL, 0, &out, &outlen);
    if (r != SASL_CONTINUE) peer_fail("sasl_server_start");
    put_hex_line("C", out, outlen);
    resp = unhex(get_line(line, "R"), &rlen);
    r = sasl_server_step(conn, resp, (unsigned)rlen, &out, &outlen);
    if (r == SASL_OK) {
        put_hex_line("OK", recorded, have_recorded ? recorded_len : 0);
        return 0;
    }
    fprintf(stderr, "cyrus server: %s\n", sasl_errdetail(conn));
    printf("NO %s\n", r == SASL_BADAUTH ? "badauth" : r == SASL_NOUSER ? "nouser"
                      : r == SASL_BADPROT ? "badprot" : "error");
    fflush(stdout);
    return 1;
}

/* ---- client ---- */

static const struct cred *me;
static sasl_secret_t *me_secret;

static int client_simple(void *ctx, int id, const char **result, unsigned *len)
{
    (void)ctx;
    if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME) return SASL_BADPARAM;
    *result = me->principal;
    if (len) *len = (unsigned)me->plen;
    return SASL_OK;
}

static int client_pass(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **psecret)
{
    (void)conn; (void)ctx;
    if (id != SASL_CB_PASS) return SASL_BADPARAM;
    *psecret = me_secret;
    return SASL_OK;
}

static int client_realm(void *ctx, int id, const char **avail, const char **result)
{
    (void)ctx; (void)avail;
    if (id != SASL_CB_GETREALM) return SASL_BADPARAM;
    *result = NULL;
    return SASL_OK;
}

static int run_client(void)
{
    sasl_callback_t cbs[] = {
        {SASL_CB_GETREALM, (int (*)(void))client_realm, NULL},
        {SASL_CB_USER, (int (*)(void))client_simple, NULL},
        {SASL_CB_AUTHNAME, (int (*)(void))client_simple, NULL},
        {SASL_CB_PASS, (int (*)(void))client_pass, NULL},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    sasl_conn_t *conn;
    sasl_interact_t *prompts = NULL;
    const char *out = NULL, *mech = NULL;
    unsigned outlen = 0;
    char line[PEER_LINE];
    char *challenge;
    size_t clen;
    int r;

    if (ncreds != 1) peer_fail("client takes one credential");
    me = &creds[0];
    me_secret = malloc(sizeof(sasl_secret_t) + me->slen + 1);
    if (!me_secret) peer_fail("out of memory");
    me_secret->len = me->slen;
    memcpy(me_secret->data, me->secret, me->slen);
    me_secret->data[me->slen] = 0;

    if (sasl_client_init(cbs) != SASL_OK) peer_fail("sasl_client_init");
    if (sasl_client_new("mesos", "localhost", NULL, NULL, cbs, 0, &conn) != SASL_OK)
        peer_fail("sasl_client_new");
    r = sasl_client_start(conn, "CRAM-MD5", &prompts, &out, &outlen, &mech);
    if (r != SASL_CONTINUE && r != SASL_OK) peer_fail("sasl_client_start");
    challenge = unhex(get_line(line, "C"), &clen);
    r = sasl_client_step(conn, challenge, (unsigned)clen, &prompts, &out, &outlen);
    if (r != SASL_CONTINUE && r != SASL_OK) {
        fprintf(stderr, "cyrus client: %s\n", sasl_errdetail(conn));
        return 2;
    }
    put_hex_line("R", out, outlen);
    if (!fgets(line, sizeof line, stdin)) return 2;
    return strncmp(line, "OK", 2) == 0 ? 0 : strncmp(line, "NO", 2) == 0 ? 1 : 2;
}

int main(int argc, char **argv)
{
    if (argc < 4) peer_fail("usage: cyrus_peer server|client HEXPRINCIPAL HEXSECRET ...");
    load_creds(argc, argv, 2);
    if (strcmp(argv[1], "server") == 0) return run_server();
    if (strcmp(argv[1], "client") == 0) return run_client();
    peer_fail("unknown mode");
    return 2;
}
