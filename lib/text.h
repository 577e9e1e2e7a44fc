/* text.h: the one rule for text that enters loadsd from outside (API, CSV,
 * loadsctl, bundle contents): valid UTF-8 and no control character; and the
 * repair of stored text on its way out, so a reader never fails on old bytes.
 * Pure: no allocation, no I/O. */
#ifndef LOADSD_TEXT_H
#define LOADSD_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* The length of the well-formed UTF-8 sequence at s (at most len bytes): 1-4,
 * or 0 when it is not one (bad lead or continuation byte, overlong form,
 * surrogate, past U+10FFFF, cut short). *cp gets the code point. */
size_t text_utf8_seq(const unsigned char *s, size_t len, unsigned *cp);

/* len bytes of well-formed UTF-8 without NUL, C0 controls (CR, LF and tab
 * included), DEL or C1 controls (U+0080-U+009F). */
bool text_valid(const char *s, size_t len);

/* Copies in (len bytes, up to a NUL) into out (cap > 0 bytes, always
 * NUL-terminated) as well-formed UTF-8: each byte that is not part of a
 * well-formed sequence becomes U+FFFD, and a cut at cap never splits a
 * character. Control characters are kept (escaping them is the output's
 * job). Returns the bytes written, NUL excluded. */
size_t text_repair(const char *in, size_t len, char *out, size_t cap);

/* snprintf for text meant to be cut when it does not fit (messages for
 * people): out (cap > 0 bytes) always NUL-terminated, a cut never splits a
 * UTF-8 character. */
void text_format(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same into err (NULL: nothing written), and -1: how a parser refuses
 * with a reason ("return text_fail(err, cap, \"...\", ...);"). */
int text_fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
