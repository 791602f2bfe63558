/* libvdisk internals — option value parsers shared by the per-format option
 * tables (create.c; core/vpc/opts.c, core/vhdx/opts.c), so that every
 * format spells on/off and sizes, and words their errors, the same way. */
#ifndef VDISK_CREATE_OPTS_H
#define VDISK_CREATE_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include <vdisk/error.h>

/* on/off (yes/no, true/false): "Parameter 'KEY' expects 'on' or 'off'". */
int vdisk_create_opt_bool(const char *key, const char *value, bool *out, vdisk_error *err);
/* A size with qemu-img's suffixes. */
int vdisk_create_opt_size(const char *key, const char *value, uint64_t *out, vdisk_error *err);

#endif
