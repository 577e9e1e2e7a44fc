/* loadsctl.c: the administration command line: global options, dispatch to
 * the command tables, and the output helpers they share. Safe while loadsd
 * runs: every change is a database transaction on the same data directory. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin/ctl/ctl.h"
#include "lib/fileio.h"
#include "lib/grow.h"
#include "lib/log.h"

#define TABLE_ROWS_MAX 100000

int ctl_refuse(const char *fmt, ...)
{
    va_list ap;

    fputs("loadsctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CTL_REFUSED;
}

int ctl_usage(const struct ctl_command *cmd)
{
    fprintf(stderr, "usage: loadsctl [--data-dir DIR] [--json] %s %s\n", cmd->name, cmd->usage);
    return CTL_USAGE;
}

int ctl_print_json(json_t *v)
{
    char *text = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);

    if (text != NULL)
        puts(text);
    free(text);
    json_decref(v);
    return CTL_OK;
}

struct ctl_table {
    unsigned columns;
    char **cells; /* rows * columns */
    size_t rows, cap;
};

static void table_add(struct ctl_table *t, va_list ap)
{
    size_t cells = t->cap * t->columns;

    if (t->rows >= TABLE_ROWS_MAX ||
        grow_array((void **)&t->cells, &cells, (t->rows + 1) * t->columns, sizeof(*t->cells),
                   16 * t->columns) != 0)
        return;
    t->cap = cells / t->columns;
    for (unsigned i = 0; i < t->columns; i++) {
        const char *s = va_arg(ap, const char *);
        char clean[LOG_CLEAN_MAX];

        /* Cells may hold names from bundles: never print them raw. */
        t->cells[t->rows * t->columns + i] =
            strdup(log_clean(s ? s : "", SIZE_MAX, clean, sizeof(clean)));
    }
    t->rows++;
}

struct ctl_table *ctl_table_new(unsigned columns, ...)
{
    struct ctl_table *t = calloc(1, sizeof(*t));
    va_list ap;

    if (t == NULL)
        return NULL;
    t->columns = columns;
    va_start(ap, columns);
    table_add(t, ap);
    va_end(ap);
    return t;
}

void ctl_table_row(struct ctl_table *t, ...)
{
    va_list ap;

    va_start(ap, t);
    table_add(t, ap);
    va_end(ap);
}

void ctl_table_print(struct ctl_table *t)
{
    size_t width[16] = {0};

    for (size_t r = 0; r < t->rows; r++)
        for (unsigned c = 0; c < t->columns && c < 16; c++) {
            const char *s = t->cells[r * t->columns + c];
            size_t n = s ? strlen(s) : 0;

            if (n > width[c])
                width[c] = n;
        }
    for (size_t r = 0; r < t->rows; r++) {
        for (unsigned c = 0; c < t->columns; c++) {
            const char *s = t->cells[r * t->columns + c];

            if (c + 1 < t->columns)
                printf("%-*s  ", (int)width[c < 16 ? c : 15], s ? s : "");
            else
                printf("%s\n", s ? s : "");
            free(t->cells[r * t->columns + c]);
        }
    }
    free(t->cells);
    free(t);
}

char *ctl_read_file(const char *path, size_t max, size_t *len, int *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    char *buf = NULL;

    *err = 0;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > max) {
        *err = fd < 0 ? errno : EFBIG;
        goto out;
    }
    *err = -fileio_read_fd(fd, max, &buf, len);
out:
    if (fd >= 0)
        close(fd);
    return buf;
}

const char *ctl_size(uint64_t bytes, char *buf, size_t cap)
{
    if (bytes < 1000)
        snprintf(buf, cap, "%llu B", (unsigned long long)bytes);
    else if (bytes < 1000 * 1000)
        snprintf(buf, cap, "%.1f kB", bytes / 1e3);
    else if (bytes < UINT64_C(1000) * 1000 * 1000)
        snprintf(buf, cap, "%.1f MB", bytes / 1e6);
    else
        snprintf(buf, cap, "%.2f GB", bytes / 1e9);
    return buf;
}

const char *ctl_time(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
        snprintf(buf, cap, "-");
    else
        strftime(buf, cap, "%Y-%m-%d %H:%M", &tm);
    return buf;
}

static const struct ctl_command *const command_tables[] = {
    ctl_catalog_commands, ctl_users_commands, ctl_provision_commands, ctl_recover_commands};

/* Finds "trust add" (two words) before "trust" (one). */
static const struct ctl_command *command_find(int argc, char **argv, int *words)
{
    char two[128];

    snprintf(two, sizeof(two), "%s %s", argv[0], argc > 1 ? argv[1] : "");
    for (size_t t = 0; t < sizeof(command_tables) / sizeof(command_tables[0]); t++)
        for (const struct ctl_command *c = command_tables[t]; c->name != NULL; c++)
            if (strcmp(c->name, two) == 0) {
                *words = 2;
                return c;
            }
    for (size_t t = 0; t < sizeof(command_tables) / sizeof(command_tables[0]); t++)
        for (const struct ctl_command *c = command_tables[t]; c->name != NULL; c++)
            if (strcmp(c->name, argv[0]) == 0) {
                *words = 1;
                return c;
            }
    return NULL;
}

static int usage_all(FILE *out)
{
    fprintf(out, "usage: loadsctl [--data-dir DIR] [--json] COMMAND ...\n\ncommands:\n");
    for (size_t t = 0; t < sizeof(command_tables) / sizeof(command_tables[0]); t++)
        for (const struct ctl_command *c = command_tables[t]; c->name != NULL; c++)
            fprintf(out, "  %s %s\n", c->name, c->usage);
    fprintf(out,
            "\nload status (derived from every file and the trust store as it is now):\n"
            "  verified     every file verifies against a trusted certificate, or the bundle\n"
            "               carries a valid approval signature\n"
            "  signed       every file has a signed header; not all signers are trusted\n"
            "  partial      the .loads file is signed, a component has no signed header\n"
            "  unsigned     the .loads file has no signed header\n"
            "  invalid      a signature fails against a trusted certificate: never served\n"
            "  quarantined  a file no longer matches its hash: never served\n"
            "signature_policy verified serves verified loads; signed also signed and partial;\n"
            "any all but invalid and quarantined. A phone whose load is not served is held\n"
            "back: its config names the last complete load it was given, or none\n"
            "(loadsctl effective MAC says why).\n");
    return out == stdout ? CTL_OK : CTL_USAGE;
}

/* Run as root on a data directory the service owns (systemd's dynamic or
 * a system user), act as that owner: files this command creates must stay
 * writable for loadsd (its scrub quarantines, its uploads import). The actor
 * recorded in the audit trail is still the person who ran it. */
static int become_owner(const char *data_dir)
{
    struct stat st;

    if (geteuid() != 0 || stat(data_dir, &st) != 0 || st.st_uid == 0)
        return 0;
    if (setgroups(0, NULL) != 0 || setgid(st.st_gid) != 0 || setuid(st.st_uid) != 0)
        return ctl_refuse("cannot switch to the owner (uid %u) of %s: %s", (unsigned)st.st_uid,
                          data_dir, strerror(errno));
    return 0;
}

static void actor_init(struct ctl *c)
{
    struct passwd *pw = getpwuid(getuid());
    const char *sudo = getenv("SUDO_USER");

    if (sudo != NULL && getuid() == 0)
        snprintf(c->actor, sizeof(c->actor), "%s (sudo)", sudo);
    else if (pw != NULL)
        snprintf(c->actor, sizeof(c->actor), "%s", pw->pw_name);
    else
        snprintf(c->actor, sizeof(c->actor), "uid %u", (unsigned)getuid());
}

int main(int argc, char **argv)
{
    static struct ctl c;
    const char *data_dir = getenv("LOADSD_DATA_DIR");
    const struct ctl_command *cmd;
    int i = 1, words = 0, rc;

    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
            data_dir = argv[++i];
        else if (strncmp(argv[i], "--data-dir=", 11) == 0)
            data_dir = argv[i] + 11;
        else if (strcmp(argv[i], "--json") == 0)
            c.json = true;
        else if (strcmp(argv[i], "--help") == 0)
            return usage_all(stdout);
        else if (strcmp(argv[i], "--version") == 0)
            return puts("loadsctl " PACKAGE_VERSION) < 0;
        else
            return usage_all(stderr);
    }
    if (i >= argc)
        return usage_all(stderr);
    cmd = command_find(argc - i, argv + i, &words);
    if (cmd == NULL)
        return ctl_refuse("unknown command \"%s\" (see loadsctl --help)", argv[i]) + 1;
    log_set_level(LOG_LEVEL_WARN);
    umask(027); /* the catalog holds password hashes: nothing for other users */
    actor_init(&c);
    if (become_owner(data_dir ? data_dir : DATADIR_DEFAULT) != 0)
        return CTL_REFUSED;
    if ((ctl_runs_without_catalog(cmd)
             ? datadir_open_recovering(data_dir ? data_dir : DATADIR_DEFAULT, &c.dd)
             : datadir_open(data_dir ? data_dir : DATADIR_DEFAULT, &c.dd)) != 0)
        return ctl_refuse("cannot open the data directory %s",
                          data_dir ? data_dir : DATADIR_DEFAULT);
    /* Commands see their own arguments from argv[1]; argv[0] is the name. */
    rc = cmd->run(&c, argc - i - words + 1, argv + i + words - 1);
    datadir_close(&c.dd);
    return rc;
}
