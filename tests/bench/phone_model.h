/* phone_model.h: phonesim's table of phone models (what each asks for over TFTP,
 * how patient it is, whether it tries HTTP first) and the --mix list.
 * Pure parsing of text: no files, no allocation. */
#ifndef LOADSD_BENCH_PHONE_MODEL_H
#define LOADSD_BENCH_PHONE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PHONE_MODEL_NAME_MAX    31
#define PHONE_MODELS_MAX        128
#define PHONE_MODEL_LINE_MAX    256
#define PHONE_MODEL_TEXT_MAX    (64 * 1024)
#define PHONE_MIX_MAX           64
#define PHONE_MIX_COUNT_MAX     100000 /* phones of one model */
#define PHONE_MODEL_SECONDS_MAX 86400

struct phone_model {
    char name[PHONE_MODEL_NAME_MAX + 1]; /* "7965" */
    uint32_t device_type;                /* XMLDefault's loadInformation<N> */
    char protocol[5];                    /* SIP or SCCP */
    uint32_t blksize;                    /* 0: no option, RFC 1350's 512 lock-step */
    bool tsize;
    uint32_t windowsize; /* 0: no option */
    uint32_t timeout_ms; /* TFTP resend timeout; HTTP idle limit is timeout_ms * (retries + 1) */
    uint32_t retries;
    bool http_first;            /* each file over HTTP first, TFTP on failure */
    uint32_t reboot_s;          /* from the last component to running the new load */
    uint32_t restart_backoff_s; /* after a failed file, before the download starts again */
};

struct phone_models {
    struct phone_model m[PHONE_MODELS_MAX];
    size_t n;
};

struct phone_mix_entry {
    char name[PHONE_MODEL_NAME_MAX + 1];
    uint32_t count;
};

/* The built-in table (tests/bench/README.md says where each value comes from). */
void phone_models_builtin(struct phone_models *t);

/* One line: name device_type protocol tftp_blksize tsize windowsize timeout_ms
 * retries http_first reboot_s restart_backoff_s. 0, or -1 with *why. */
int phone_model_parse_line(const char *line, size_t len, struct phone_model *out, const char **why);

/* A --models file: blank lines and '#' comments allowed; each model replaces
 * the one of the same name in t or is added. A name twice in the text is an
 * error. 0, or -1 with *line (1-based) and *why; t is unchanged on error. */
int phone_models_parse(const char *text, size_t len, struct phone_models *t, unsigned *line,
                       const char **why);

const struct phone_model *phone_models_find(const struct phone_models *t, const char *name);

/* "7965:30,8845:10" into out (at most PHONE_MIX_MAX entries); *total is the
 * sum. Names are checked against a table by the caller. 0, or -1 with *why. */
int phone_mix_parse(const char *text, struct phone_mix_entry *out, size_t *n, uint64_t *total,
                    const char **why);

#endif
