/* fuzz_probe.c: libFuzzer target for the load-server probe's state machine
 * (server/upstream/probe_sm.c): the input is a script of datagrams and
 * clock ticks. Checks that it sends only the RRQ or an ERROR, that an end
 * is final, that it never sends more requests than its tries, and that why
 * is printable; must not touch sockets or files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/upstream/probe_sm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_probe_check_send(const struct probe_sm_action *a)
{
    struct tftp_packet pkt;
    uint16_t op;

    if (a->send_len == 0)
        return;
    op = tftp_packet_opcode(a->send, a->send_len);
    if (op == TFTP_OP_RRQ && !a->to_tid)
        return;
    if (op != TFTP_OP_ERROR || !a->to_tid ||
        tftp_packet_parse(a->send, a->send_len, &pkt) != TFTP_PARSE_OK)
        abort();
}

/* One event: the first byte picks a tick (high bit set) or a datagram of
 * the next (byte & 0x7f) bytes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct probe_sm_params p;
    struct probe_sm sm;
    struct probe_sm_action a;
    int64_t now = 0;
    size_t pos = 1;
    int rc;

    if (size < 1)
        return 0;
    probe_sm_params_default(&p);
    p.blksize = data[0] & 1 ? 512 : 1468;
    rc = probe_sm_start(&sm, &p, "fuzz.loads", now, &a);
    while (pos < size && rc == PROBE_SM_GOING) {
        uint8_t head = data[pos++];
        size_t n = head & 0x7f;

        if (head & 0x80) {
            now += 1 + (head & 0x7f) * 50;
            rc = probe_sm_on_timer(&sm, now, &a);
        } else {
            n = n < size - pos ? n : size - pos;
            rc = probe_sm_on_packet(&sm, data + pos, n, 69, &a);
            pos += n;
        }
        if (sm.sent > p.tries)
            abort();
        fuzz_probe_check_send(&a);
    }
    if (rc != PROBE_SM_GOING &&
        (sm.state != PROBE_SM_END || probe_sm_on_timer(&sm, now + 100000, &a) != rc || a.send_len))
        abort();
    for (const char *c = sm.why; *c != '\0'; c++)
        if (*c < 0x20 || *c > 0x7e)
            abort();
    return 0;
}
