/* vdisk plugin — pool and volume definitions: what libvirt-dialect storage
 * pool and volume XML says, as plain C data.  The XML layer (storage-xml.h)
 * fills and formats these; the backend (pool.h, volume.h) provisions from
 * them.  Nothing here knows libxml2 or libvirt.
 *
 * Ownership: every char * in a definition is owned by it and freed by the
 * matching _free/_clear.  A zero-initialised definition is empty and valid to
 * clear.
 */
#ifndef VDISK_STORAGE_DEF_H
#define VDISK_STORAGE_DEF_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <vdisk/image.h>

#ifdef __cplusplus
extern "C" {
#endif

/* XML namespace of vdisk's pool options (libvirt's convention for
 * per-pool-type namespaces, as storagepool/fs/1.0). */
#define VDISK_POOL_NAMESPACE_URI "http://libvirt.org/schemas/storagepool/vdisk/1.0"

/* <permissions>: every field optional; has_* says whether the XML gave it. */
typedef struct vdisk_perms {
    bool has_mode;
    mode_t mode;          /* permission bits only (07777) */
    bool has_owner;
    uid_t owner;
    bool has_group;
    gid_t group;
    char *label;          /* security label, NULL if none */
} vdisk_perms;

/* How a thick volume (allocation == capacity) is zeroed (DESIGN.md). */
typedef enum vdisk_zeroing {
    VDISK_ZEROING_LAZY = 0,   /* fallocate (raw) / preallocation=falloc (qcow2) */
    VDISK_ZEROING_EAGER,      /* zeros written / preallocation=full */
} vdisk_zeroing;

/* <source><host name='...' port='...'/>: a Ceph monitor, or the server of
 * a shared filesystem (no port: mount(8) finds it). */
typedef struct vdisk_pool_host {
    char *name;
    unsigned port;                    /* 0 = not given (Ceph's default) */
} vdisk_pool_host;

/* <source><format type=...>: the shared filesystem of a netfs pool. */
typedef enum vdisk_netfs_format {
    VDISK_NETFS_AUTO = 0,             /* mount(8) picks (libvirt's default) */
    VDISK_NETFS_NFS,
    VDISK_NETFS_GLUSTERFS,
} vdisk_netfs_format;

/* <source> of a pool on Ceph RBD, in libvirt's rbd-pool grammar:
 *   <source>
 *     <host name='mon1' port='6789'/>...
 *     <name>RBD-POOL</name>
 *     <auth type='ceph' username='libvirt'><secret uuid='...'/></auth>
 *   </source>
 * plus <vdisk:config file='/etc/ceph/ceph.conf'/> (vdisk's namespace).
 * Or of a pool on a shared filesystem, in libvirt's netfs grammar (the
 * pool is then a directory, <target><path>, that pool-start mounts):
 *   <source><host name='server'/><dir path='/export'/><format type='nfs'/></source>
 * name and dir NULL: the pool is a local directory. */
typedef struct vdisk_pool_source {
    char *name;                       /* the RBD pool */
    vdisk_pool_host *hosts;           /* monitors; none: from the config file */
    size_t nhosts;
    char *auth_username;              /* cephx user (without "client."); NULL = no <auth> */
    bool has_secret_uuid;             /* the secret (usage type 'ceph') by uuid ... */
    unsigned char secret_uuid[16];
    char *secret_usage;               /* ... or by usage name; NULL if by uuid */
    char *config_file;                /* <vdisk:config file=...>; NULL = Ceph's default search */
    char *dir;                        /* netfs: <dir path=...>, the export or "/VOLUME" */
    vdisk_netfs_format format;        /* netfs: <format type=...> */
} vdisk_pool_source;

/* <pool type='vdisk'> */
typedef struct vdisk_pool_def {
    char *name;
    bool has_uuid;
    unsigned char uuid[16];
    /* Runtime figures, formatted by dumpxml of an active pool; ignored on input. */
    uint64_t capacity, allocation, available;
    char *target_path;                /* <target><path>: the pool directory; NULL for RBD */
    vdisk_pool_source source;         /* <source>: set (source.name) for a pool on Ceph RBD */
    vdisk_perms target_perms;         /* applied by pool-build */
    /* <features><cow state='yes|no'/></features>: whether new volumes keep
     * copy-on-write (btrfs); has_cow false = not given (filesystem default) */
    bool has_cow;
    bool cow;
    /* <vdisk:provisioning> (namespace VDISK_POOL_NAMESPACE_URI) */
    vdisk_zeroing zeroing;            /* <vdisk:zeroing>lazy|eager</vdisk:zeroing>, default lazy */
    double overcommit_max;            /* <vdisk:overcommit>RATIO</vdisk:overcommit>: cap on
                                       * sum(volume capacities) / pool capacity;
                                       * 0 = no cap (the default) */
    /* <vdisk:backing><vdisk:outside>allow|refuse</vdisk:outside></vdisk:backing>:
     * whether a volume may have a backing file outside the pool directory
     * (default: refuse; see docs/formats.md "Safety") */
    bool backing_outside;
} vdisk_pool_def;

/* <encryption format='...'> of a volume */
typedef enum vdisk_vol_encryption {
    VDISK_VOL_ENCRYPTION_NONE = 0,
    VDISK_VOL_ENCRYPTION_LUKS,        /* format='luks' */
    VDISK_VOL_ENCRYPTION_QCOW,        /* format='qcow' or 'default' on qcow2: legacy AES, refused for create */
} vdisk_vol_encryption;

typedef struct vdisk_vol_encryption_def {
    vdisk_vol_encryption format;
    /* <secret type='passphrase' uuid='...'/> or usage='...' */
    bool has_secret_uuid;
    unsigned char secret_uuid[16];
    char *secret_usage;               /* NULL if the secret is named by uuid */
    /* <cipher name='aes' size='256' mode='xts' hash='sha256'/>; NULL/0 = not given */
    char *cipher_name;
    unsigned cipher_size;
    char *cipher_mode;
    char *cipher_hash;
    /* <ivgen name='plain64' hash='sha256'/> */
    char *ivgen_name;
    char *ivgen_hash;
} vdisk_vol_encryption_def;

/* <volume> (type='file', or 'network' for an RBD image) */
typedef struct vdisk_vol_def {
    char *name;
    char *key;                        /* output only: the volume's path, as libvirt's dir pool
                                       * ("POOL/IMAGE" on RBD, as libvirt's rbd pool) */
    bool network;                     /* output only: an RBD image (type='network') */
    bool has_capacity;                /* false: <capacity> absent (allowed when the size
                                       * comes from elsewhere: a backing store, or the
                                       * source volume of vol-create-from) */
    uint64_t capacity;                /* bytes */
    bool has_allocation;
    uint64_t allocation;              /* bytes; 0 or absent = thin (DESIGN.md) */
    uint64_t physical;                /* output only: file size on disk */
    char *target_path;                /* output only; ignored on input as libvirt does for file pools */
    vdisk_format format;              /* <target><format type=...>: raw (default), qcow2, iso,
                                       * or another format libvdisk creates */
    char *compat;                     /* "0.10" or "1.1"; NULL = default */
    uint64_t cluster_size;            /* <clusterSize>; 0 = default */
    bool lazy_refcounts;              /* <features><lazy_refcounts/> */
    bool extended_l2;                 /* <features><extended_l2/> */
    bool nocow;                       /* <nocow/> */
    vdisk_perms perms;                /* <target><permissions> */
    /* <backingStore> */
    char *backing_path;               /* NULL if none */
    vdisk_format backing_format;      /* UNKNOWN if <format> absent */
    char *backing_format_name;        /* a libvirt format vdisk does not name ("fat"),
                                       * kept as written; NULL when backing_format
                                       * says it all */
    vdisk_perms backing_perms;        /* output only: the backing file's stat */
    vdisk_vol_encryption_def encryption;
    /* Output only: <timestamps> (seconds, nanoseconds) */
    bool has_timestamps;
    struct { int64_t sec; long nsec; } atime, mtime, ctime_;
} vdisk_vol_def;

void vdisk_perms_clear(vdisk_perms *p);
void vdisk_pool_source_clear(vdisk_pool_source *src);
void vdisk_pool_def_clear(vdisk_pool_def *def);
/* Is the pool on Ceph RBD (its <source> names an RBD pool)? */
bool vdisk_pool_def_is_rbd(const vdisk_pool_def *def);
/* Is the pool on a shared filesystem (its <source> names a <dir>)? */
bool vdisk_pool_def_is_netfs(const vdisk_pool_def *def);
/* "auto", "nfs", "glusterfs"; the reverse returns -1 for another word. */
const char *vdisk_netfs_format_name(vdisk_netfs_format f);
int vdisk_netfs_format_parse(const char *word);
void vdisk_pool_def_free(vdisk_pool_def *def);          /* clear + free(def); NULL ok */
void vdisk_vol_encryption_def_clear(vdisk_vol_encryption_def *enc);
void vdisk_vol_def_clear(vdisk_vol_def *def);
void vdisk_vol_def_free(vdisk_vol_def *def);            /* clear + free(def); NULL ok */

/* UUIDs as libvirt writes them: 36 characters, lower-case, with dashes. */
#define VDISK_UUID_STRING_LEN 37
void vdisk_uuid_format(const unsigned char uuid[16], char out[VDISK_UUID_STRING_LEN]);
/* Accepts libvirt's spellings (dashes anywhere between byte pairs or none). */
int vdisk_uuid_parse(const char *text, unsigned char uuid[16]);
/* A fresh random (version 4) UUID; -errno on failure. */
int vdisk_uuid_generate(unsigned char uuid[16]);

#ifdef __cplusplus
}
#endif

#endif
