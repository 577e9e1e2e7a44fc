/* wire_error.c: the one place that chooses the TFTP ERROR code and text
 * sent to a client for a failure. Pure: no sockets. */
#include "server/tftp/wire_error.h"

#include <stddef.h>

#include "server/resolve/resolver.h"
#include "server/tftp/tftp_packet.h"

uint16_t tftp_wire_error_for(int result, const char **msg)
{
    uint16_t code = TFTP_ERR_UNDEFINED;
    const char *text = "Internal error";

    switch (result) {
    case RESOLVER_NOT_FOUND:
        code = TFTP_ERR_NOT_FOUND;
        text = "File not found";
        break;
    case RESOLVER_BAD_NAME:
        code = TFTP_ERR_ACCESS;
        text = "Access violation: illegal file name";
        break;
    case RESOLVER_DENIED:
        code = TFTP_ERR_ACCESS;
        text = "Access violation";
        break;
    case RESOLVER_UNAVAILABLE:
        code = TFTP_ERR_ACCESS;
        text = "File not available (quarantined or not allowed by the signature policy)";
        break;
    default:
        break;
    }
    if (msg != NULL)
        *msg = text;
    return code;
}
