/* vdisk-virsh — what the embedded pool/volume/secret commands (cmd-*.c)
 * share with the ones that go through a libvirt daemon (remote-*.c): the
 * printers, filled from the same structs whichever side produced them,
 * and the pieces of work that act on a volume's file through libvdisk.
 */
#ifndef VV_VIRSH_COMMON_H
#define VV_VIRSH_COMMON_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>

#include <vdisk/pool.h>
#include <vdisk/secret.h>
#include <vdisk/storage-def.h>
#include <vdisk/store.h>

#include "virsh-args.h"

/* pool-list's output (virsh/pool-list.c): the table, --name/--uuid lines or --json. */
void vv_print_pool_list(const vdisk_store_pool_row *rows, size_t count, vv_arg *args, size_t n);

/* vol-info's output (virsh/vol-info.c); type is virsh's word ("file"...). */
void vv_print_vol_info(const vdisk_vol_def *d, const char *type, bool bytes, bool physical, bool json);
/* vol-list's output (virsh/vol-list.c). */
void vv_print_vol_list(const vdisk_store_vol_row *const *rows, size_t count, bool details, bool json);

/* secret-set-value's input (virsh/secret-value.c): the value from --file,
 * base64-decoded unless --plain.  *value is malloc'ed: wipe it
 * (explicit_bzero over *alloc bytes) and free it.  Prints the error. */
int vv_secret_value_read(vv_arg *args, size_t n, char **value, size_t *len, size_t *alloc);

/* pool-define-as' definition from its arguments (virsh/pool-define.c);
 * prints the error. */
int vv_pool_def_from_args(vv_arg *args, size_t n, vdisk_pool_def *def);

/* vol-create-as --print-xml: the XML virsh prints for these arguments
 * (name, capacity, allocation and format as given; the backing volume
 * already resolved to backing_path, NULL if none), to stdout, unescaped
 * as virsh prints them. */
int vv_print_vol_as_xml(vv_arg *args, size_t n, const vdisk_vol_def *def);

#endif
