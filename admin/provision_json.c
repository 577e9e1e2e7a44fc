/* provision_json.c: provisioning rows as JSON objects, for the API and
 * loadsctl alike. Builds values only; never touches the database or a socket. */
#include "admin/provision_json.h"

#include <arpa/inet.h>
#include <string.h>

#define CIDR_TEXT_MAX (INET6_ADDRSTRLEN + 8)

/* A setting that may inherit: its value, or null. */
static json_t *opt_json(const struct settings_opt *o)
{
    return o->set ? json_string(o->value) : json_null();
}

/* "" (none) as null. */
static const char *or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

json_t *provision_device_json(const struct provision_device *d)
{
    return json_pack("{s:s, s:s, s:s?, s:s, s:o, s:o, s:o, s:s?}", "mac", d->mac, "model", d->model,
                     "profile", or_null(d->profile), "description", d->description,
                     "peer_firmware_sharing", opt_json(&d->pfs), "load_server",
                     opt_json(&d->load_server), "load", opt_json(&d->load), "protocol",
                     or_null(d->protocol));
}

json_t *provision_model_json(const struct settings_model *m, const char *default_load_status)
{
    const char *other = strcmp(m->protocol, "SIP") == 0 ? "SCCP" : "SIP";
    json_t *loads = json_pack("{s:s?}", m->protocol, or_null(m->default_load));

    if (loads != NULL && m->dual)
        json_object_set_new(loads, other,
                            m->default_load_other[0] ? json_string(m->default_load_other)
                                                     : json_null());
    return json_pack("{s:s, s:I, s:b, s:s, s:o, s:s?, s:s?, s:o}", "name", m->name, "device_type",
                     (json_int_t)m->device_type, "pfs_capable", m->pfs_capable, "protocol",
                     m->protocol, "protocols",
                     m->dual ? json_pack("[s, s]", "SIP", "SCCP") : json_pack("[s]", m->protocol),
                     "default_load", or_null(m->default_load), "default_load_status",
                     or_null(m->default_load) ? default_load_status : NULL, "default_loads",
                     loads != NULL ? loads : json_object());
}

json_t *provision_default_load_json(const char *model, const char *protocol, const char *load,
                                    const char *previous)
{
    return json_pack("{s:s, s:s, s:s?, s:s?}", "model", model, "protocol", protocol, "default_load",
                     or_null(load), "previous", or_null(previous));
}

json_t *provision_profile_json(const struct settings_profile *p, unsigned devices,
                               bool custom_template)
{
    return json_pack("{s:s, s:o, s:o, s:i, s:b}", "name", p->name, "peer_firmware_sharing",
                     opt_json(&p->pfs), "load_server", opt_json(&p->load_server), "devices",
                     (int)devices, "custom_template", custom_template);
}

json_t *provision_enterprise_json(const struct settings_enterprise *e, const char *policy)
{
    return json_pack(
        "{s:s, s:s?, s:s?, s:s, s:s, s:I, s:s}", "peer_firmware_sharing", e->pfs ? "on" : "off",
        "load_server", or_null(e->load_server), "cm_address", or_null(e->cm_address),
        "signature_policy", policy, "stage_first", e->stage_first ? "on" : "off", "fleet_max_age_s",
        (json_int_t)e->fleet_max_age_s, "probe_load_servers", e->probe_load_servers ? "on" : "off");
}

json_t *provision_site_json(const struct settings_site *s)
{
    char cidr[CIDR_TEXT_MAX];

    settings_cidr_format(s, cidr, sizeof(cidr));
    return json_pack("{s:s, s:s, s:s, s:s}", "cidr", cidr, "load_server", s->load_server, "name",
                     s->name, "stage_first",
                     s->stage_first == SETTINGS_ON    ? "on"
                     : s->stage_first == SETTINGS_OFF ? "off"
                                                      : "inherit");
}

json_t *provision_site_added_json(const struct settings_site *s, const char *entered,
                                  bool host_bits_cleared)
{
    json_t *j = provision_site_json(s);

    if (j != NULL) {
        json_object_set_new(j, "host_bits_cleared", json_boolean(host_bits_cleared));
        json_object_set_new(j, "entered", json_string(entered));
    }
    return j;
}

json_t *provision_import_json(const struct devcsv_report *rep)
{
    return json_pack("{s:i, s:i, s:i, s:i}", "rows", (int)rep->rows, "added", (int)rep->added,
                     "updated", (int)rep->updated, "unchanged", (int)rep->unchanged);
}

int provision_json_append_device(void *arg, const struct provision_device *d)
{
    return json_array_append_new(arg, provision_device_json(d)) == 0 ? 0 : DB_ERROR;
}

int provision_json_append_site(void *arg, const struct settings_site *s)
{
    return json_array_append_new(arg, provision_site_json(s)) == 0 ? 0 : DB_ERROR;
}
