/* conffile.h: the one syntax of loadsd's configuration file ("key = value"
 * lines, # comments, values optionally in double quotes) for the daemon
 * (server/config.c, which knows the keys) and loadsctl (which reads only
 * data-dir there, to find the daemon's data directory). No keys here. */
#ifndef LOADSD_CONFFILE_H
#define LOADSD_CONFFILE_H

#include <stddef.h>

#define CONFFILE_DEFAULT_PATH SYSCONFDIR "/loadsd/loadsd.conf"
#define CONFFILE_LINE_MAX     4096          /* bytes in one line */
#define CONFFILE_MAX          (1024 * 1024) /* bytes in the whole file */

/* Splits one line (len bytes, NUL at line[len], no newline) in place: 1 with
 * *key and *value pointing into it, 0 for a blank or comment line, -1 with
 * *why (static text) for a NUL byte, a line without '=', or an unterminated
 * quote. */
int conffile_split(char *line, size_t len, char **key, char **value, const char **why);

/* The value of key's last line in the file at path into out: 0; 1 when the
 * file does not exist or has no such line; -1 with err set when it cannot
 * be read or a line is malformed ("FILE:LINE: why"). */
int conffile_get(const char *path, const char *key, char *out, size_t cap, char *err,
                 size_t errlen);

#endif
