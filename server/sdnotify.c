/* sdnotify.c: the sd_notify(3) datagram protocol without libsystemd.
 * Sends one datagram and returns; never blocks, never exits, and is a no-op
 * when NOTIFY_SOCKET is unset. */
#include "server/sdnotify.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Fills addr from $NOTIFY_SOCKET: a path, or an abstract name after '@'. */
static int sdnotify_address(const char *env, struct sockaddr_un *addr, socklen_t *len)
{
    size_t n = strlen(env);

    if ((env[0] != '/' && env[0] != '@') || n < 2 || n > sizeof(addr->sun_path) - 1)
        return -1;
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    memcpy(addr->sun_path, env, n);
    if (env[0] == '@') {
        addr->sun_path[0] = '\0'; /* abstract: no NUL terminator counted */
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    } else {
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    }
    return 0;
}

int sdnotify_send(const char *state)
{
    const char *env = getenv("NOTIFY_SOCKET");
    struct sockaddr_un addr;
    socklen_t addr_len;
    size_t state_len;
    ssize_t sent;
    int fd = -1;
    int rc = -1;

    if (env == NULL || env[0] == '\0')
        return 0;
    if (state == NULL || sdnotify_address(env, &addr, &addr_len) != 0)
        goto out;
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto out;
    state_len = strlen(state);
    sent = sendto(fd, state, state_len, MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&addr,
                  addr_len);
    if (sent < 0 || (size_t)sent != state_len)
        goto out;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}
