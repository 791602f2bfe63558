/* vdisk plugin — libvirt-dialect pool and volume XML, parsed and formatted
 * with libxml2.
 *
 * Parsing is safe on hostile input: no entity expansion, no DTD or network
 * access, a size limit on the document; XXE and billion-laughs documents are
 * refused.  Errors cite the document name, the line and the element, as
 * "volume.xml:7: <capacity unit='XB'>: unknown unit".  Sizes accept every unit
 * libvirt accepts (b/bytes, KB/K/KiB, MB/M/MiB, ... EB/E/EiB; KB = 1000,
 * K = KiB = 1024).
 *
 * Formatting gives the shape of `virsh pool-dumpxml` / `vol-dumpxml`.
 */
#ifndef VDISK_STORAGE_XML_H
#define VDISK_STORAGE_XML_H

#include <stddef.h>

#include <vdisk/error.h>
#include <vdisk/storage-def.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest XML document accepted, in bytes. */
#define VDISK_XML_MAX_SIZE (1u << 20)

/* Parse pool XML.  `docname` names the document in errors (a file name, or
 * "<stdin>").  The pool type must be 'vdisk' (or 'dir', accepted as the same
 * file pool so that libvirt's dir-pool XML can be reused).  On success *out
 * is a new definition the caller frees with vdisk_pool_def_free. */
int vdisk_pool_def_parse(const char *xml, size_t len, const char *docname,
                         vdisk_pool_def **out, vdisk_error *err);
int vdisk_pool_def_parse_file(const char *path, vdisk_pool_def **out, vdisk_error *err);

/* Parse volume XML (as `virsh vol-create` takes it). */
int vdisk_vol_def_parse(const char *xml, size_t len, const char *docname,
                        vdisk_vol_def **out, vdisk_error *err);
int vdisk_vol_def_parse_file(const char *path, vdisk_vol_def **out, vdisk_error *err);

/* Format as `virsh pool-dumpxml` / `vol-dumpxml` would.  *out is malloc'ed,
 * NUL-terminated; the caller frees it. */
int vdisk_pool_def_format(const vdisk_pool_def *def, char **out, vdisk_error *err);
int vdisk_vol_def_format(const vdisk_vol_def *def, char **out, vdisk_error *err);

/* Parse "<number>" with a libvirt unit name ("KiB", "G", "bytes", NULL = bytes)
 * into bytes; overflow and unknown units are errors. */
int vdisk_scale_parse(const char *number, const char *unit, uint64_t *out, vdisk_error *err);

#ifdef __cplusplus
}
#endif

#endif
