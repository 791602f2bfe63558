/* libvdisk — where images live: host files, Ceph RBD images, NBD exports.
 *
 * Every call that takes an image name (vdisk_open, vdisk_create,
 * vdisk_convert...) accepts qemu-img's names:
 *   PATH                                           a host file or device
 *   rbd:POOL/[NAMESPACE/]IMAGE[@SNAP][:conf=FILE][:id=USER][:KEY=VALUE...]
 *   nbd://HOST[:PORT]/EXPORT, nbd+unix:///EXPORT?socket=PATH (nbds..: TLS)
 * RBD and NBD need a vdisk built with librbd / libnbd
 * (vdisk_protocol_supported), and that library installed: libvdisk loads
 * it when the first such image is opened or created (an error with kind
 * VDISK_ERR_UNSUPPORTED names the package when it cannot).
 */
#ifndef VDISK_PROTOCOL_H
#define VDISK_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>

#include <vdisk/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Was this build made with the protocol "file", "rbd" or "nbd"? */
bool vdisk_protocol_supported(const char *protocol);

/* The image name for qemu's structured options of a protocol node (what
 * --image-opts spells file.driver=rbd,file.pool=...), keys given without
 * their "file." prefix:
 *   driver=file  filename
 *   driver=rbd   pool, namespace, image, snapshot, conf, user
 *   driver=nbd   server.type (unix|inet), server.path, server.host,
 *                server.port, export; path, host, port (older spellings)
 * *name is malloc'd (free it).  An unknown or missing key: -EINVAL naming it. */
int vdisk_protocol_name(const char *driver, const char *const *keys, const char *const *values,
                        size_t n, char **name, vdisk_error *err);

#ifdef __cplusplus
}
#endif
#endif
