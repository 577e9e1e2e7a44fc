/* wire_error.c: the one place that chooses the TFTP ERROR code and text
 * sent to a client: a table by failure, and the maps onto it. Pure: no sockets. */
#include "server/tftp/wire_error.h"

#include <stddef.h>

#include "server/resolve/resolver.h"
#include "server/tftp/tftp_packet.h"

struct wire_error_row {
    uint16_t code;
    const char *text;
};

/* Texts stay under TFTP_ERRMSG_MAX, so they go out whole (test_wire_error). */
static const struct wire_error_row wire_errors[TFTP_FAIL_KINDS] = {
    [TFTP_FAIL_NONE] = {TFTP_ERR_UNDEFINED, "Internal error"},
    [TFTP_FAIL_MALFORMED] = {TFTP_ERR_ILLEGAL_OP, "Illegal TFTP operation: malformed packet"},
    [TFTP_FAIL_TOO_LONG] = {TFTP_ERR_ILLEGAL_OP, "Illegal TFTP operation: request too long"},
    [TFTP_FAIL_ILLEGAL_OP] = {TFTP_ERR_ILLEGAL_OP, "Illegal TFTP operation"},
    [TFTP_FAIL_BAD_MODE] = {TFTP_ERR_ILLEGAL_OP, "Illegal TFTP operation: unsupported mode"},
    [TFTP_FAIL_EMPTY_NAME] = {TFTP_ERR_ILLEGAL_OP, "Illegal TFTP operation: empty file name"},
    [TFTP_FAIL_BAD_OPTION] = {TFTP_ERR_OPTION, "Option negotiation failed: bad option value"},
    [TFTP_FAIL_DUP_OPTION] = {TFTP_ERR_OPTION, "Option negotiation failed: duplicate option"},
    [TFTP_FAIL_UNDEFINED] = {TFTP_ERR_UNDEFINED, "Undefined error"},
    /* This appliance never accepts files over TFTP. */
    [TFTP_FAIL_UPLOAD] = {TFTP_ERR_ACCESS, "Access violation: this server does not accept uploads"},
    [TFTP_FAIL_NOT_FOUND] = {TFTP_ERR_NOT_FOUND, "File not found"},
    [TFTP_FAIL_BAD_NAME] = {TFTP_ERR_ACCESS, "Access violation: illegal file name"},
    [TFTP_FAIL_DENIED] = {TFTP_ERR_ACCESS, "Access violation"},
    [TFTP_FAIL_UNAVAILABLE] = {TFTP_ERR_ACCESS,
                               "File not available (quarantined or not allowed by the signature "
                               "policy)"},
    /* Code 0: a branch is still fetching and checking the load; not "not found". */
    [TFTP_FAIL_PENDING] = {TFTP_ERR_UNDEFINED,
                           "File not here yet: being fetched from upstream, try again soon"},
    /* Never sent (tftp_failure_silent); the text is for the debug log. */
    [TFTP_FAIL_HOLD] = {TFTP_ERR_UNDEFINED, "File not here yet: held while it is fetched"},
    [TFTP_FAIL_INTERNAL] = {TFTP_ERR_UNDEFINED, "Internal error"},
    /* Code 0 with a text: clients show the text, and retry later on their own. */
    [TFTP_FAIL_BUSY_TRANSFERS] = {TFTP_ERR_UNDEFINED,
                                  "Server busy: too many transfers, try again later"},
    [TFTP_FAIL_BUSY_CLIENT] = {TFTP_ERR_UNDEFINED,
                               "Server busy: too many transfers from this address"},
    [TFTP_FAIL_BUSY_UNACKED_PREFIX] = {TFTP_ERR_UNDEFINED, "Server busy: too many unanswered "
                                                           "transfers from this network"},
    [TFTP_FAIL_BUSY_UNACKED] = {TFTP_ERR_UNDEFINED,
                                "Server busy: too many unanswered transfers, try again later"},
    [TFTP_FAIL_FILE_CHANGED] = {TFTP_ERR_UNDEFINED, "File changed while being sent"},
    [TFTP_FAIL_SHUTDOWN] = {TFTP_ERR_UNDEFINED, "Server shutting down"},
};

bool tftp_failure_silent(enum tftp_failure f)
{
    return f == TFTP_FAIL_HOLD;
}

uint16_t tftp_wire_error(enum tftp_failure f, const char **msg)
{
    const struct wire_error_row *row = &wire_errors[TFTP_FAIL_INTERNAL];

    if ((unsigned)f < TFTP_FAIL_KINDS && f != TFTP_FAIL_NONE)
        row = &wire_errors[f];
    if (msg != NULL)
        *msg = row->text;
    return row->code;
}

enum tftp_failure tftp_failure_of_parse(int parse_result)
{
    switch (parse_result) {
    case TFTP_PARSE_TRUNCATED:
        return TFTP_FAIL_MALFORMED;
    case TFTP_PARSE_TOO_LONG:
        return TFTP_FAIL_TOO_LONG;
    case TFTP_PARSE_BAD_OPCODE:
        return TFTP_FAIL_ILLEGAL_OP;
    case TFTP_PARSE_BAD_MODE:
        return TFTP_FAIL_BAD_MODE;
    case TFTP_PARSE_EMPTY_NAME:
        return TFTP_FAIL_EMPTY_NAME;
    case TFTP_PARSE_BAD_OPTION:
        return TFTP_FAIL_BAD_OPTION;
    case TFTP_PARSE_DUP_OPTION:
        return TFTP_FAIL_DUP_OPTION;
    default:
        return TFTP_FAIL_UNDEFINED;
    }
}

enum tftp_failure tftp_failure_of_resolver(int result)
{
    switch (result) {
    case RESOLVER_NOT_FOUND:
        return TFTP_FAIL_NOT_FOUND;
    case RESOLVER_BAD_NAME:
        return TFTP_FAIL_BAD_NAME;
    case RESOLVER_DENIED:
        return TFTP_FAIL_DENIED;
    case RESOLVER_UNAVAILABLE:
        return TFTP_FAIL_UNAVAILABLE;
    case RESOLVER_PENDING:
        return TFTP_FAIL_PENDING;
    case RESOLVER_HOLD:
        return TFTP_FAIL_HOLD;
    default:
        return TFTP_FAIL_INTERNAL;
    }
}

uint16_t tftp_wire_error_for(int result, const char **msg)
{
    return tftp_wire_error(tftp_failure_of_resolver(result), msg);
}
