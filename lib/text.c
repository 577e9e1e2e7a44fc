/* text.c: UTF-8 well-formedness (RFC 3629: no overlong forms, no surrogates,
 * nothing past U+10FFFF), the input rule built on it, and the output repair.
 * Pure: no allocation, no I/O. */
#include "lib/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define REPLACEMENT     "\xef\xbf\xbd" /* U+FFFD */
#define REPLACEMENT_LEN 3

/* The smallest code point each sequence length may carry (overlong below). */
static const unsigned seq_min[5] = {0, 0, 0x80, 0x800, 0x10000};

static size_t seq_len(unsigned char lead)
{
    if (lead < 0x80)
        return 1;
    if (lead >= 0xc2 && lead <= 0xdf)
        return 2;
    if (lead >= 0xe0 && lead <= 0xef)
        return 3;
    if (lead >= 0xf0 && lead <= 0xf4)
        return 4;
    return 0; /* a continuation byte, 0xc0/0xc1 (always overlong) or past U+10FFFF */
}

size_t text_utf8_seq(const unsigned char *s, size_t len, unsigned *cp)
{
    size_t n = len > 0 ? seq_len(s[0]) : 0;
    unsigned v;

    if (n == 0 || n > len)
        return 0;
    v = n == 1 ? s[0] : s[0] & (0x7fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3fu);
    }
    if (v < seq_min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

static bool is_control(unsigned cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
}

bool text_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n;
    unsigned cp;

    while (i < len) {
        n = text_utf8_seq(p + i, len - i, &cp);
        if (n == 0 || is_control(cp))
            return false;
        i += n;
    }
    return true;
}

size_t text_repair(const char *in, size_t len, char *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t i = 0, o = 0, n, w;
    unsigned cp;

    while (i < len && p[i] != '\0') {
        n = text_utf8_seq(p + i, len - i, &cp);
        w = n > 0 ? n : REPLACEMENT_LEN;
        if (o + w >= cap)
            break;
        memcpy(out + o, n > 0 ? (const char *)p + i : REPLACEMENT, w);
        o += w;
        i += n > 0 ? n : 1;
    }
    out[o] = '\0';
    return o;
}

static void text_vformat(char *out, size_t cap, const char *fmt, va_list ap)
{
    int n;

    if (out == NULL || cap == 0)
        return;
    n = vsnprintf(out, cap, fmt, ap);
    /* Cut short: step back over a partial UTF-8 sequence at the end. */
    if (n >= 0 && (size_t)n >= cap) {
        size_t len = cap - 1, back = len;

        while (back > 0 && ((unsigned char)out[back - 1] & 0xc0) == 0x80)
            back--;
        if (back > 0 && ((unsigned char)out[back - 1] & 0x80) != 0) {
            unsigned cp;
            /* The lead byte at back - 1: keep it only when its sequence is whole. */
            if (text_utf8_seq((const unsigned char *)out + back - 1, len - back + 1, &cp) == 0)
                len = back - 1;
        }
        out[len] = '\0';
    }
}

void text_format(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    text_vformat(out, cap, fmt, ap);
    va_end(ap);
}

int text_fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    text_vformat(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}
