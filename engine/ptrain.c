/* ptrain — powertrain names and aliases. */
#include "ptrain.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

static const char *const names[PTRAIN_COUNT] = {
    "", "ICE", "HEV", "PHEV", "BEV"
};

static const char *const src_names[PTRAIN_SRC_COUNT] = {
    "", "list", "api", "wmi"
};

/*
 * Aliases in a canonical spelling: upper case, '-', ' ' and '_' all
 * written as '_'.
 */
static const struct {
    const char *alias;
    enum ptrain p;
} aliases[] = {
    {"ICE", PTRAIN_ICE}, {"GAS", PTRAIN_ICE}, {"GASOLINE", PTRAIN_ICE},
    {"PETROL", PTRAIN_ICE}, {"DIESEL", PTRAIN_ICE},
    {"COMBUSTION", PTRAIN_ICE},
    {"HEV", PTRAIN_HEV}, {"HYBRID", PTRAIN_HEV},
    {"PHEV", PTRAIN_PHEV}, {"PLUG_IN_HYBRID", PTRAIN_PHEV},
    {"PLUGIN_HYBRID", PTRAIN_PHEV}, {"PLUG_IN", PTRAIN_PHEV},
    {"BEV", PTRAIN_BEV}, {"EV", PTRAIN_BEV}, {"ELECTRIC", PTRAIN_BEV},
    {"BATTERY_ELECTRIC", PTRAIN_BEV}
};

enum ptrain ptrain_parse(const char *s)
{
    char buf[24];
    size_t n = 0;
    if (!s)
        return PTRAIN_UNKNOWN;
    while (*s == ' ' || *s == '\t')
        s++;
    for (; *s; s++) {
        if (n + 1 >= sizeof(buf))
            return PTRAIN_UNKNOWN;
        unsigned char c = (unsigned char)*s;
        buf[n++] = (c == '-' || c == ' ' || c == '\t')
                   ? '_' : (char)toupper(c);
    }
    while (n > 0 && buf[n - 1] == '_')
        n--;
    buf[n] = '\0';
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        if (strcmp(buf, aliases[i].alias) == 0)
            return aliases[i].p;
    }
    return PTRAIN_UNKNOWN;
}

const char *ptrain_name(int p)
{
    return p >= 0 && p < PTRAIN_COUNT ? names[p] : "";
}

const char *ptrain_src_name(int src)
{
    return src >= 0 && src < PTRAIN_SRC_COUNT ? src_names[src] : "";
}

enum ptrain_src ptrain_src_parse(const char *s)
{
    if (!s)
        return PTRAIN_SRC_NONE;
    for (int i = 1; i < PTRAIN_SRC_COUNT; i++) {
        const char *a = src_names[i], *b = s;
        while (*a && tolower((unsigned char)*b) == *a) {
            a++;
            b++;
        }
        if (!*a && !*b)
            return (enum ptrain_src)i;
    }
    return PTRAIN_SRC_NONE;
}

int ptrain_has_oil(int p)
{
    return p != PTRAIN_BEV;
}
