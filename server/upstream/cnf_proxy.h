/* cnf_proxy.h: a branch's phone configs (SEP<MAC>.cnf.xml, XMLDefault.cnf.xml)
 * from its tftp:// upstream (--upstream-configs on): fetched fresh for each
 * request, the last good copy kept in the data directory and served, said
 * so in the log, when the upstream does not answer. */
#ifndef LOADSD_UPSTREAM_CNF_PROXY_H
#define LOADSD_UPSTREAM_CNF_PROXY_H

#include "server/resolve/resolver.h"

#define CNF_PROXY_DIR      "upstream-configs" /* in the data directory: the last good copies */
#define CNF_PROXY_FILE_MAX (1024 * 1024)      /* a config is a few KB */
#define CNF_PROXY_FETCH_MS 3000               /* one fetch at most */
#define CNF_PROXY_WAIT_MS  250  /* a request waits this long in the server for its fetch */
#define CNF_PROXY_JOIN_MS  1000 /* a fetch in flight begun this long before a request answers it */

struct cnf_proxy_params {
    const char *upstream; /* a normalised tftp:// base */
    const char *data_dir;
    unsigned tftp_blksize, tftp_windowsize; /* as pull_params */
};

struct cnf_proxy;

/* Starts the fetch threads; creates data_dir/upstream-configs. 0 or -1 (logged). */
int cnf_proxy_start(const struct cnf_proxy_params *p, struct cnf_proxy **out);
void cnf_proxy_stop(struct cnf_proxy *cp);

/* Adds the proxy to r as a source; added first, the upstream's configs win
 * over the branch's own rendering. SEP<MAC>.cnf.xml or XMLDefault.cnf.xml:
 * a fetch from the upstream starts (or one in flight, begun at most
 * CNF_PROXY_JOIN_MS before, is joined; one that had ended is never reused),
 * the request waits up to CNF_PROXY_WAIT_MS for it, then gets RESOLVER_HOLD
 * (a TFTP client resends, an HTTP client is told to retry; the client's
 * next try, from the same address, is answered from that fetch). Answered: the fetched file; when
 * the upstream did not answer, the last good copy (logged); RESOLVER_NOT_FOUND when the upstream
 * has no such file (the copy is dropped) or it did not answer and no copy
 * is kept: the next source, the branch's own rendering, answers then. Any
 * other name: RESOLVER_NOT_FOUND. The proxy must outlive r. */
int cnf_proxy_attach(struct cnf_proxy *cp, struct resolver *r);

#endif
