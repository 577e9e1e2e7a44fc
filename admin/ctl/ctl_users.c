/* ctl_users.c: loadsctl's commands for admin interface users and API tokens:
 * user add/passwd/list/remove, token add/list/remove. The rules live in
 * auth.c, the JSON shapes users_json.c; passwords are read from stdin or a
 * terminal, never from argv. */
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "admin/auth.h"
#include "admin/ctl/ctl.h"
#include "admin/users_json.h"
#include "lib/numparse.h"

#define TOKEN_LABEL_DEFAULT "cli"

static const struct ctl_command *self(const char *name);

/* One line from f without its line end; -1 when empty or too long. */
static int read_line(FILE *f, char *buf, size_t cap)
{
    size_t n;

    if (fgets(buf, (int)cap, f) == NULL)
        return -1;
    n = strlen(buf);
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    else if (!feof(f))
        return -1; /* longer than cap */
    if (n > 0 && buf[n - 1] == '\r')
        buf[--n] = '\0';
    return n > 0 ? 0 : -1;
}

static int prompt_once(const char *prompt, char *buf, size_t cap)
{
    struct termios old, quiet;
    int rc;

    fputs(prompt, stderr);
    if (tcgetattr(STDIN_FILENO, &old) != 0)
        return -1;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    rc = read_line(stdin, buf, cap);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
    return rc;
}

/* The new password: from stdin with --password-stdin, else asked twice on
 * the terminal. 0 or CTL_REFUSED. */
static int password_read(bool from_stdin, char *buf, size_t cap)
{
    char again[AUTH_PASSWORD_MAX + 2];
    int rc = CTL_REFUSED;

    if (from_stdin) {
        if (read_line(stdin, buf, cap) != 0)
            return ctl_refuse("no password on stdin (one line, at most %d bytes)",
                              AUTH_PASSWORD_MAX);
        return CTL_OK;
    }
    if (!isatty(STDIN_FILENO))
        return ctl_refuse("stdin is not a terminal: use --password-stdin");
    if (prompt_once("New password: ", buf, cap) != 0 ||
        prompt_once("Again: ", again, sizeof(again)) != 0)
        rc = ctl_refuse("no password given");
    else if (strcmp(buf, again) != 0)
        rc = ctl_refuse("the passwords differ");
    else
        rc = CTL_OK;
    OPENSSL_cleanse(again, sizeof(again));
    return rc;
}

static int refuse_auth(int rc, const char *what)
{
    switch (rc) {
    case AUTH_INVALID:
        return ctl_refuse("%s: invalid name, role or password (names: 1-63 of A-Z a-z 0-9 ._@-; "
                          "passwords: %d-%d bytes)",
                          what, AUTH_PASSWORD_MIN, AUTH_PASSWORD_MAX);
    case AUTH_NOT_FOUND:
        return ctl_refuse("%s: no such user", what);
    case AUTH_CONFLICT:
        return ctl_refuse("%s: the user exists already, or no admin would be left", what);
    default:
        return ctl_refuse("%s: failed", what);
    }
}

static int cmd_user_add(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"role", required_argument, NULL, 'r'}, {"password-stdin", no_argument, NULL, 's'}, {0}};
    char password[AUTH_PASSWORD_MAX + 2];
    enum auth_role role = AUTH_ROLE_NONE;
    bool from_stdin = false;
    int o, rc;

    ctl_opts_reset();
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'r' && (role = auth_role_parse(optarg)) != AUTH_ROLE_NONE)
            continue;
        if (o == 's') {
            from_stdin = true;
            continue;
        }
        return ctl_usage(self("user add"));
    }
    if (optind + 1 != argc || role == AUTH_ROLE_NONE)
        return ctl_usage(self("user add"));
    rc = password_read(from_stdin, password, sizeof(password));
    if (rc == CTL_OK)
        rc = auth_user_add(c->dd.db, c->actor, argv[optind], role, password);
    OPENSSL_cleanse(password, sizeof(password));
    if (rc == CTL_REFUSED)
        return rc;
    if (rc != AUTH_OK)
        return refuse_auth(rc, argv[optind]);
    if (c->json)
        return ctl_print_json(auth_user_added_json(argv[optind], role));
    printf("added user %s (%s)\n", argv[optind], auth_role_name(role));
    return CTL_OK;
}

static int cmd_user_passwd(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"password-stdin", no_argument, NULL, 's'}, {0}};
    char password[AUTH_PASSWORD_MAX + 2];
    bool from_stdin = false;
    int o, rc;

    ctl_opts_reset();
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o != 's')
            return ctl_usage(self("user passwd"));
        from_stdin = true;
    }
    if (optind + 1 != argc)
        return ctl_usage(self("user passwd"));
    rc = password_read(from_stdin, password, sizeof(password));
    if (rc == CTL_OK)
        rc = auth_user_passwd(c->dd.db, c->actor, argv[optind], password);
    OPENSSL_cleanse(password, sizeof(password));
    if (rc == CTL_REFUSED)
        return rc;
    if (rc != AUTH_OK)
        return refuse_auth(rc, argv[optind]);
    if (strcmp(argv[optind], "admin") == 0)
        auth_bootstrap_forget(c->dd.path);
    if (c->json)
        return ctl_print_json(auth_user_changed_json(argv[optind], false, true));
    printf("changed the password of %s (its sessions are logged out)\n", argv[optind]);
    return CTL_OK;
}

static int user_row(void *arg, const struct auth_user *u)
{
    char when[32];

    if (json_is_array((json_t *)arg))
        return auth_json_append_user(arg, u);
    ctl_table_row(arg, u->name, auth_role_name(u->role), u->disabled ? "disabled" : "",
                  ctl_time(u->created_at, when, sizeof(when)));
    return 0;
}

static int cmd_user_list(struct ctl *c, int argc, char **argv)
{
    void *out;
    int rc;

    (void)argv;
    if (argc != 1)
        return ctl_usage(self("user list"));
    out = c->json ? (void *)json_array() : (void *)ctl_table_new(4, "USER", "ROLE", "", "CREATED");
    rc = auth_users_each(c->dd.db, user_row, out);
    if (c->json)
        return rc == AUTH_OK ? ctl_print_json(out) : ctl_refuse("cannot list users");
    ctl_table_print(out);
    return rc == AUTH_OK ? CTL_OK : CTL_REFUSED;
}

static int cmd_user_remove(struct ctl *c, int argc, char **argv)
{
    int rc;

    if (argc != 2)
        return ctl_usage(self("user remove"));
    rc = auth_user_remove(c->dd.db, c->actor, argv[1]);
    if (rc != AUTH_OK)
        return refuse_auth(rc, argv[1]);
    if (strcmp(argv[1], "admin") == 0)
        auth_bootstrap_forget(c->dd.path);
    if (c->json)
        return ctl_print_json(json_pack("{s:s}", "removed", argv[1]));
    printf("removed user %s\n", argv[1]);
    return CTL_OK;
}

static int cmd_token_add(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"name", required_argument, NULL, 'n'}, {0}};
    const char *label = TOKEN_LABEL_DEFAULT;
    char token[AUTH_SECRET_TEXT];
    int64_t id = 0;
    int o, rc;

    ctl_opts_reset();
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o != 'n')
            return ctl_usage(self("token add"));
        label = optarg;
    }
    if (optind + 1 != argc)
        return ctl_usage(self("token add"));
    rc = auth_token_create(c->dd.db, c->actor, argv[optind], label, token, sizeof(token), &id);
    if (rc != AUTH_OK)
        return refuse_auth(rc, argv[optind]);
    if (c->json)
        ctl_print_json(auth_token_created_json(id, argv[optind], label, token));
    else
        printf("%s\n", token);
    OPENSSL_cleanse(token, sizeof(token));
    if (!c->json)
        fprintf(stderr, "loadsctl: token %lld for %s; it is shown only this once\n", (long long)id,
                argv[optind]);
    return CTL_OK;
}

static int token_row(void *arg, const struct auth_token_info *t)
{
    char id[24], made[32], used[32];

    if (json_is_array((json_t *)arg))
        return auth_json_append_token(arg, t);
    snprintf(id, sizeof(id), "%lld", (long long)t->id);
    ctl_table_row(arg, id, t->user, t->name, ctl_time(t->created_at, made, sizeof(made)),
                  ctl_time(t->last_used, used, sizeof(used)));
    return 0;
}

static int cmd_token_list(struct ctl *c, int argc, char **argv)
{
    void *out;
    int rc;

    (void)argv;
    if (argc != 1)
        return ctl_usage(self("token list"));
    out = c->json ? (void *)json_array()
                  : (void *)ctl_table_new(5, "ID", "USER", "NAME", "CREATED", "LAST USED");
    rc = auth_tokens_each(c->dd.db, token_row, out);
    if (c->json)
        return rc == AUTH_OK ? ctl_print_json(out) : ctl_refuse("cannot list tokens");
    ctl_table_print(out);
    return rc == AUTH_OK ? CTL_OK : CTL_REFUSED;
}

static int cmd_token_remove(struct ctl *c, int argc, char **argv)
{
    uint64_t id;
    int rc;

    if (argc != 2 || numparse_u64(argv[1], 1, INT64_MAX, &id) != 0)
        return ctl_usage(self("token remove"));
    rc = auth_token_remove(c->dd.db, c->actor, (int64_t)id);
    if (rc == AUTH_NOT_FOUND)
        return ctl_refuse("no token %s", argv[1]);
    if (rc != AUTH_OK)
        return ctl_refuse("cannot remove token %s", argv[1]);
    if (c->json)
        return ctl_print_json(json_pack("{s:I}", "removed", (json_int_t)id));
    printf("removed token %s\n", argv[1]);
    return CTL_OK;
}

const struct ctl_command ctl_users_commands[] = {
    {"user add", "NAME --role admin|viewer [--password-stdin]", cmd_user_add},
    {"user passwd", "NAME [--password-stdin]", cmd_user_passwd},
    {"user list", "", cmd_user_list},
    {"user remove", "NAME", cmd_user_remove},
    {"token add", "USER [--name LABEL]", cmd_token_add},
    {"token list", "", cmd_token_list},
    {"token remove", "ID", cmd_token_remove},
    {NULL, NULL, NULL},
};

static const struct ctl_command *self(const char *name)
{
    for (const struct ctl_command *c = ctl_users_commands; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return &ctl_users_commands[0];
}
