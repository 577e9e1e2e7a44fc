/* xmllint.h: the reference XML parser for unit tests: xmllint (libxml2-utils)
 * run over bytes in a temp file, for well-formedness and XPath values. */
#ifndef LOADSD_TEST_XMLLINT_H
#define LOADSD_TEST_XMLLINT_H

#include <stddef.h>

/* xmllint --noout's exit status for the bytes: 0 when well-formed, above 0
 * when not; -1 when it could not run (xmllint missing included). */
int xmllint_status(const char *data, size_t len);

/* The string value of an XPath expression over the document (without the
 * newline xmllint adds) into out (cap > 0 bytes). 0, or -1 when xmllint
 * failed. */
int xmllint_xpath(const char *data, size_t len, const char *expr, char *out, size_t cap);

#endif
