/* tftp_client.h: one TFTP read transfer as a client (RFC 1350/2347/2348/2349/7440)
 * on loadsd's own codec, for the benchmark programs (tftp_loadgen, phonesim).
 * The caller owns the socket's place in its event loop and its clock; this never blocks. */
#ifndef LOADSD_BENCH_TFTP_CLIENT_H
#define LOADSD_BENCH_TFTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/tftp/tftp_packet.h"

#define TFTPC_BATCH_MAX 64 /* datagrams per recvmmsg */
#define TFTPC_WHY_MAX   192
#define TFTPC_NS_PER_MS UINT64_C(1000000)

/* What a transfer asks for and how patient it is; shared by many transfers. */
struct tftpc_params {
    uint32_t blksize;    /* 0: not asked (RFC 1350's 512) */
    uint32_t windowsize; /* 0: not asked (lock-step) */
    bool tsize;
    uint64_t timeout_ms; /* before each resend of the RRQ or the last ACK */
    uint64_t retries;    /* resends before the transfer fails */
};

/* The receive side every transfer of one program shares: one recvmmsg batch,
 * and the counters of what went wrong on the way. */
struct tftpc_shared {
    uint8_t *buf;
    size_t slot_size; /* largest blksize + header + 1, to see oversized datagrams */
    struct mmsghdr msgs[TFTPC_BATCH_MAX];
    struct iovec iov[TFTPC_BATCH_MAX];
    struct sockaddr_storage from[TFTPC_BATCH_MAX];
    uint64_t timeouts;     /* our retransmissions (RRQ or ACK) */
    uint64_t out_of_order; /* DATA that was not the next block: duplicates, gaps */
};

enum tftpc_state {
    TFTPC_IDLE,       /* no transfer */
    TFTPC_WAIT_FIRST, /* RRQ sent, the server's TID not known yet */
    TFTPC_RECEIVING,  /* OACK acknowledged or DATA 1 seen */
};

/* How a step ended: still going, received everything, or failed (why says it). */
enum tftpc_step { TFTPC_GOING = 0, TFTPC_DONE = 1, TFTPC_FAILED = -1 };

/* Why a failed transfer failed, for callers that treat "not found" apart. */
enum tftpc_fail { TFTPC_FAIL_NONE, TFTPC_FAIL_NOT_FOUND, TFTPC_FAIL_ERROR, TFTPC_FAIL_TIMEOUT };

/* Receives each in-order payload; nonzero stops the transfer (why = "receiver refused"). */
typedef int (*tftpc_sink_fn)(void *arg, const uint8_t *data, size_t len);

/* One transfer: about 100 bytes; the request, server address and params are the caller's. */
struct tftpc {
    int fd;
    enum tftpc_state state;
    enum tftpc_fail fail;
    const struct tftpc_params *p;
    const struct sockaddr *server; /* where the RRQ goes; replies must come from its host */
    socklen_t server_len;
    const uint8_t *req; /* the RRQ, built by tftpc_build_request */
    size_t req_len;
    tftpc_sink_fn sink;
    void *sink_arg;
    uint32_t blksize;    /* negotiated */
    uint32_t windowsize; /* negotiated */
    uint16_t last_block; /* last block received in order; 0 before DATA 1 */
    uint32_t in_window;  /* in-order blocks since the last ACK */
    bool reack;          /* a gap or duplicate was seen in this batch */
    bool tsize_known;
    uint64_t tsize;
    uint64_t bytes;
    uint64_t deadline_ns;
    uint64_t retries;
};

/* "1.2.3.4:69" or "[::1]:69" into a socket address; 0 or -1. */
int tftpc_parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len);

int tftpc_shared_init(struct tftpc_shared *sh, uint32_t max_blksize);
void tftpc_shared_free(struct tftpc_shared *sh);

/* The RRQ for name with the options p asks for; its length or a negative code. */
int tftpc_build_request(uint8_t *buf, size_t cap, const char *name, const struct tftpc_params *p);

/* A non-blocking datagram socket of family, bound to bind_addr when given,
 * its receive queue sized for p's window; the descriptor or -errno. */
int tftpc_socket(int family, const struct sockaddr *bind_addr, socklen_t bind_len,
                 const struct tftpc_params *p, const struct tftpc_shared *sh);

/* Starts a transfer on fd (the caller put it in its poll set): sends the RRQ.
 * On failure fd stays the caller's to close. */
int tftpc_start(struct tftpc *c, int fd, const struct tftpc_params *p,
                const struct sockaddr *server, socklen_t server_len, const uint8_t *req,
                size_t req_len, uint64_t now_ns);

/* fd is readable: takes what is queued. why_buf holds the reason on TFTPC_FAILED. */
enum tftpc_step tftpc_on_readable(struct tftpc *c, struct tftpc_shared *sh, uint64_t now_ns,
                                  char *why_buf, size_t why_cap);

/* now_ns passed c->deadline_ns: resends, or fails after the last retry. */
enum tftpc_step tftpc_on_timeout(struct tftpc *c, struct tftpc_shared *sh, uint64_t now_ns,
                                 char *why_buf, size_t why_cap);

/* NULL when a finished transfer's size agrees with the tsize of the OACK. */
const char *tftpc_check_tsize(const struct tftpc *c);

/* Closes the socket (which also leaves any epoll set); the struct is idle again. */
void tftpc_close(struct tftpc *c);

#endif
