/* vdisk-virsh — qemu's "json:{...}" image names, read with json-c (see
 * image-name.h).  json-c's default (non-strict) mode takes what QEMU's own
 * parser takes beyond RFC 8259: single-quoted strings. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "image-name.h"
#include "options.h"

#define JSON_PREFIX "json:"

/* Most nesting qemu's block options use is a few levels; a name nested
 * deeper is refused rather than walked. */
#define MAX_DEPTH 8

static int flatten(json_object *o, const char *prefix, int depth, vv_opt_list *out);

static int
add_value(json_object *v, const char *key, int depth, vv_opt_list *out)
{
    switch (json_object_get_type(v)) {
    case json_type_object:
        return flatten(v, key, depth + 1, out);
    case json_type_array:
        vv_error("json: option '%s': lists are not supported", key);
        return -1;
    case json_type_null:
        return vv_opt_list_add(out, key, strlen(key), NULL);
    case json_type_boolean:
        return vv_opt_list_add(out, key, strlen(key), json_object_get_boolean(v) ? "on" : "off");
    default:   /* string, int, double: as written */
        return vv_opt_list_add(out, key, strlen(key), json_object_get_string(v));
    }
}

static int
flatten(json_object *o, const char *prefix, int depth, vv_opt_list *out)
{
    if (depth > MAX_DEPTH) {
        vv_error("json: options nested deeper than %d levels", MAX_DEPTH);
        return -1;
    }
    json_object_object_foreach(o, name, v) {
        char *key;
        if (asprintf(&key, "%s%s%s", prefix, prefix[0] ? "." : "", name) < 0) {
            vv_error("json: out of memory");
            return -1;
        }
        int r = add_value(v, key, depth, out);
        free(key);
        if (r < 0)
            return -1;
    }
    return 0;
}

int
vv_json_name_options(const char *arg, vv_opt_list *out)
{
    const char *text = arg + strlen(JSON_PREFIX);
    json_tokener *tok = json_tokener_new_ex(MAX_DEPTH + 1);
    if (!tok) {
        vv_error("json: out of memory");
        return -1;
    }
    json_object *o = json_tokener_parse_ex(tok, text, (int)strlen(text));
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    int r = -1;
    /* qemu-img's words, with json-c's account of a syntax error */
    if (!o || e != json_tokener_success)
        vv_error("Could not open '%s': Could not parse the JSON options: %s", arg,
                 json_tokener_error_desc(e == json_tokener_success ? json_tokener_continue : e));
    else if (json_object_get_type(o) != json_type_object)
        vv_error("Could not open '%s': Invalid JSON object given", arg);
    else {
        while (text[end] && isspace((unsigned char)text[end]))
            end++;
        if (text[end])
            vv_error("Could not open '%s': Could not parse the JSON options: Expecting at most "
                     "one JSON value", arg);
        else
            r = flatten(o, "", 1, out);
    }
    json_object_put(o);
    if (r < 0)
        vv_opt_list_clear(out);
    return r;
}
