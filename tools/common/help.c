/* vdisk-virsh — the option lines of each command's -h (commands.h).
 *
 * One line per option a command accepts: every short and long option of
 * its getopt table, every --option of its virsh argument table (positional
 * arguments, which virsh also takes as --NAME, are in the synopsis).
 * tests/interop/test_virsh_help.py runs each command with each option it
 * could take and checks that the ones it accepts are listed here, so the
 * lines and the parsers cannot drift apart.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

/* Options many commands share, in the words docs/vdisk-virsh.1.rst uses. */
#define H_HELP      { "-h, --help", "", "show this help" }
#define H_FMT       { "-f", "FMT", "the image's format (raw, qcow2, luks, vmdk...); default: probed" }
#define H_FMT_LONG  { "-f, --format", "FMT", "the image's format (raw, qcow2, luks, vmdk...); default: probed" }
#define H_QUIET     { "-q", "", "quiet: no progress or messages but errors" }
#define H_PROGRESS  { "-p", "", "show a progress bar" }
#define H_SHARE     { "-U, --force-share", "", "open read-only an image another process holds (no lock)" }
#define H_OUTPUT    { "--output", "human|json", "the output format" }
#define H_CACHE     { "-t", "CACHE", "cache mode of the image (qemu-img's: none, writeback, ...)" }
#define H_SRC_CACHE { "-T", "SRC_CACHE", "cache mode of the source (accepted; reads use the page cache)" }
#define H_OBJECT    { "--object", "secret,id=ID,file=PATH[,format=base64]", "a passphrase in a file, named by key-secret=ID (data=VALUE: only as qemu-img)" }
#define H_PASS_FILE { "--passphrase-file", "PATH", "read an encrypted image's passphrase from PATH" }
#define H_PASS_FD   { "--passphrase-fd", "N", "read an encrypted image's passphrase from descriptor N" }
#define H_IMG_OPTS  { "--image-opts", "", "FILE is an option string: driver=FMT,file.filename=F,..." }
#define H_SECRETS   H_OBJECT, H_PASS_FILE, H_PASS_FD, H_IMG_OPTS
#define H_DRY_RUN   { "--dry-run", "", "report what would change and the host space after; change nothing" }
#define H_POOL      { "--pool", "POOL", "the pool of the volume (without it: the volume's path or key)" }
#define H_JSON      { "--json", "", "print JSON" }
#define H_PREALLOC  { "--prealloc-metadata", "", "qcow2: preallocate the metadata" }
#define H_PRINT_XML { "--print-xml", "", "print the XML instead of acting on it" }
#define H_VALIDATE  { "--validate", "", "validate the XML against the schema first" }
#define H_REFLINK   { "--reflink", "", "share the source's extents (where the file system can)" }
#define H_OVERWRITE { "--overwrite", "", "build: make the directory even where one exists" }, \
                    { "--no-overwrite", "", "build: refuse if the directory exists" }
#define H_END       { NULL, NULL, NULL }

const vv_option_help vv_help_create[] = {
    H_FMT, { "-o", "OPTIONS", "format options key=value,... (-o help lists them)" },
    { "-b", "BACKING", "the backing file of a new overlay" },
    { "-F", "BACKING_FMT", "the backing file's format" },
    { "-u", "", "do not open the backing file (the size must be given)" },
    H_QUIET, H_SECRETS, H_HELP, H_END,
};
const vv_option_help vv_help_info[] = {
    H_FMT_LONG, H_OUTPUT, { "--backing-chain", "", "show every image of the backing chain" },
    H_SHARE, H_SECRETS, H_HELP, H_END,
};
const vv_option_help vv_help_convert[] = {
    { "-f", "FMT", "the source's format; default: probed" },
    { "-O", "OUTPUT_FMT", "the new image's format (default raw)" },
    { "-o", "OPTIONS", "options of the new image key=value,... (-o help lists them)" },
    { "-l", "SNAPSHOT", "copy this internal snapshot instead of the current state" },
    { "-c", "", "write compressed clusters" }, H_PROGRESS,
    { "-m", "N", "copy with N parallel workers" },
    { "-W", "", "allow out-of-order writes to the target" },
    { "-B", "BACKING", "the new image's backing file: only the source's top layer is copied" },
    { "-F", "BACKING_FMT", "the backing file's format" },
    { "-n", "", "write into an existing target (no create)" },
    { "--target-is-zero", "", "with -n: the target reads as zeros already" },
    { "--target-image-opts", "", "with -n: DST is an option string driver=FMT,file.filename=F,..." },
    { "-S", "SPARSE_SIZE", "zero runs of this many bytes or more stay holes (0: allocate all)" },
    { "-r", "RATE", "copy at most RATE bytes per second" },
    { "-C", "", "refused: copy offloading (vdisk's engine keeps the target sparse)" },
    { "--salvage", "", "copy what cannot be read as zeros, with a warning per sector" },
    { "--bitmaps", "", "refused: persistent bitmaps are not copied" },
    { "--skip-broken-bitmaps", "", "refused, as --bitmaps" },
    H_QUIET, H_SHARE, { "-t", "CACHE", "cache mode of the target" }, H_SRC_CACHE,
    H_SECRETS, H_HELP, H_END,
};
const vv_option_help vv_help_dd[] = {
    H_FMT, { "-O", "OUTPUT_FMT", "the new image's format (default raw)" }, H_SHARE,
    { "bs=BYTES", "", "block size (default 512)" }, { "count=BLOCKS", "", "copy this many blocks" },
    { "skip=BLOCKS", "", "skip this many input blocks" }, { "if=INPUT", "", "the input image" },
    { "of=OUTPUT", "", "the new image" }, H_SECRETS, H_HELP, H_END,
};
const vv_option_help vv_help_map[] = {
    H_FMT_LONG, H_OUTPUT,
    { "-s, --start-offset", "START", "start at this guest offset" },
    { "-l, --max-length", "LENGTH", "map at most this many bytes" },
    H_SHARE, { "--bar", "", "one character per cell and the bytes of each kind of space" },
    { "--width", "N", "--bar: N cells (default: the terminal's width)" },
    { "--picture", "FILE.png", "write where the space goes as a PNG picture" },
    H_SECRETS, H_HELP, H_END,
};
const vv_option_help vv_help_compare[] = {
    { "-f", "FMT", "the first image's format" }, { "-F", "FMT", "the second image's format" },
    { "-s", "", "strict: images of different sizes or allocation differ" },
    H_PROGRESS, H_QUIET, H_SRC_CACHE, H_SHARE, H_SECRETS, H_HELP, H_END,
};
const vv_option_help vv_help_measure[] = {
    { "-O", "OUTPUT_FMT", "the format of the image to measure for" },
    { "-o", "OPTIONS", "its options key=value,..." }, H_FMT, H_OUTPUT,
    { "--size", "SIZE", "measure an empty image of this size instead of SRC" },
    { "-l", "SNAPSHOT", "measure this internal snapshot of SRC (NAME, snapshot.id=ID, snapshot.name=NAME)" },
    H_SHARE, H_SECRETS, H_HELP, H_END,
};
const vv_option_help vv_help_bench[] = {
    H_FMT, { "-w", "", "write instead of read" },
    { "-c", "COUNT", "number of requests" }, { "-d", "DEPTH", "requests in flight at once" },
    { "-s", "SIZE", "bytes per request" }, { "-S", "STEP", "bytes between request offsets" },
    { "-o", "OFFSET", "offset of the first request" }, H_CACHE,
    { "-n", "", "native AIO: refused (vdisk's engine is a thread pool; needs -t none as in qemu-img)" },
    { "-i", "threads", "I/O engine: threads (native and io_uring are refused)" },
    { "--pattern", "sequential|random|BYTE", "offsets in order, at random, or the byte written" },
    { "--fill", "BYTE", "the byte written (with -w)" },
    { "--seed", "N", "seed of --pattern random" },
    { "--flush-interval", "N", "flush after every N writes (at least DEPTH), the writes before it drained" },
    { "--no-drain", "", "flush beside the writes in flight instead of draining them" },
    H_QUIET, H_SHARE, H_SECRETS, H_HELP, H_END,
};
const vv_option_help vv_help_check[] = {
    { "-r, --repair", "leaks|all", "repair leaked clusters, or all errors" },
    { "-T", "SRC_CACHE", "cache mode (accepted; the check reads through the page cache)" },
    H_QUIET, H_SHARE, H_OUTPUT, H_FMT_LONG, H_SECRETS, H_HELP, H_END,
};
const vv_option_help vv_help_snapshot[] = {
    { "-l", "", "list the snapshots" }, { "-a", "SNAPSHOT", "apply (revert to) a snapshot" },
    { "-c", "SNAPSHOT", "create a snapshot" }, { "-d", "SNAPSHOT", "delete a snapshot" },
    H_QUIET, H_SHARE, H_SECRETS, H_HELP, H_END,
};
const vv_option_help vv_help_bitmap[] = {
    { "--add", "", "add the bitmap" }, { "--remove", "", "remove the bitmap" },
    { "--clear", "", "clear the bitmap's bits" }, { "--enable", "", "enable the bitmap" },
    { "--disable", "", "disable the bitmap" },
    { "--merge", "SOURCE", "merge bitmap SOURCE into the bitmap" },
    { "-b, --source-file", "SOURCE_FILE", "--merge: the image holding SOURCE" },
    { "-F, --source-format", "SOURCE_FMT", "the format of SOURCE_FILE" },
    { "-g, --granularity", "GRANULARITY", "--add: bytes per bit" },
    H_FMT, H_QUIET, H_SECRETS, H_HELP, H_END,
};
const vv_option_help vv_help_amend[] = {
    H_FMT, { "-o", "OPTIONS", "the options to change key=value,... (-o help lists them)" },
    { "-t", "CACHE", "cache mode of the image" }, H_PROGRESS, H_QUIET,
    { "--force", "", "allow changes that may lose data (key slots)" },
    H_SECRETS, H_HELP, H_END,
};
#define H_PROVISION H_FMT_LONG, H_PROGRESS, H_QUIET, H_DRY_RUN, H_OUTPUT, H_HELP
const vv_option_help vv_help_inflate[] = {
    { "--eager", "", "write zeros instead of reserving the space" }, H_PROVISION, H_END,
};
const vv_option_help vv_help_eagerzero[] = { H_PROVISION, H_END };
const vv_option_help vv_help_sparsify[] = {
    { "--zero-detect", "", "also give back data that is all zero bytes" },
    { "--truncate", "", "qcow2: cut the file after its last used cluster" }, H_PROVISION, H_END,
};
const vv_option_help vv_help_resize[] = {
    { "--shrink", "", "allow the image to shrink" },
    { "--preallocation", "MODE", "preallocate the new space: off, metadata, falloc, full" },
    H_FMT, H_QUIET, H_SECRETS, H_HELP, H_END,
};
const vv_option_help vv_help_rebase[] = {
    H_FMT, { "-b", "BACKING", "the new backing file (\"\": none)" },
    { "-F", "BACKING_FMT", "the new backing file's format" },
    { "-u", "", "unsafe: rewrite the header only" }, H_PROGRESS,
    H_CACHE, H_SRC_CACHE, H_QUIET, H_SHARE, H_SECRETS, H_HELP, H_END,
};
const vv_option_help vv_help_commit[] = {
    H_FMT, H_CACHE, { "-b", "BASE", "commit into this image of the chain (implies -d)" },
    { "-d", "", "leave the overlay's data in place (do not empty it)" },
    { "-r", "RATE", "rate limit (accepted; the copy is not throttled)" },
    H_PROGRESS, H_QUIET, H_SECRETS, H_HELP, H_END,
};
#define H_NAMES { "--names", "auto|rock|joliet|iso", "which names to read" }
const vv_option_help vv_help_iso_ls[] = {
    { "-l, --long", "", "long listing: mode, size, date" },
    { "-R, --recursive", "", "the whole tree, one path per line" }, H_JSON, H_NAMES,
    { "--path-table", "", "print the path table" },
    { "--el-torito", "", "print the El Torito boot catalog" }, H_HELP, H_END,
};
const vv_option_help vv_help_iso_extract[] = {
    { "-C, --directory", "DIR", "extract below DIR (never outside it)" }, H_NAMES, H_HELP, H_END,
};
const vv_option_help vv_help_iso_create[] = {
    { "-o, --output", "OUT.iso", "the ISO image to write" },
    { "-V, --volid", "VOLID", "the volume label (cidata for cloud-init)" },
    { "--joliet", "", "Joliet names (the default)" }, { "--no-joliet", "", "no Joliet names" },
    { "--rock", "", "Rock Ridge names and modes (the default)" },
    { "--no-rock", "", "no Rock Ridge" },
    { "--boot", "IMG", "El Torito BIOS boot image: a host file (visible when a source holds it)" },
    { "--boot-no-emul", "", "--boot: no emulation" },
    { "--boot-load-size", "N", "--boot: 512-byte sectors to load" },
    { "--boot-info-table", "", "--boot: patch a boot info table into the image" },
    { "--efi-boot", "IMG", "El Torito UEFI boot image" },
    { "--date", "EPOCH", "the date of every file and of the volume (or SOURCE_DATE_EPOCH)" },
    { "--cidata", "", "a cloud-init NoCloud seed (label cidata)" },
    { "--mkisofs", "ARGS...", "the rest in mkisofs's grammar (iso-create --mkisofs -help)" }, H_HELP, H_END,
};

/* Pool, volume and secret commands (virsh's grammar). */
const vv_option_help vv_help_virsh_none[] = { H_HELP, H_END };
const vv_option_help vv_help_validate[] = { H_VALIDATE, H_HELP, H_END };
const vv_option_help vv_help_pool_define_as[] = {
    { "--type", "vdisk|dir|netfs|rbd", "the pool's type (also the second argument)" },
    { "--target", "DIR", "the pool's directory (netfs: where pool-start mounts it)" },
    { "--zeroing", "lazy|eager", "how thick volumes are zeroed" },
    { "--overcommit", "RATIO", "cap on the sum of capacities over the pool's size" },
    { "--source-host", "HOST[:PORT],...", "RBD: the Ceph monitors; netfs: the server (one HOST)" },
    { "--source-path", "PATH", "netfs: the export, or /VOLUME (GlusterFS)" },
    { "--source-dev", "DEV", "refused unless empty or '-'" },
    { "--source-name", "NAME", "RBD: the Ceph pool (type rbd, or vdisk with it)" },
    { "--source-format", "glusterfs|nfs|auto", "netfs: the shared filesystem (default auto)" },
    { "--auth-type", "ceph", "RBD: cephx authentication" },
    { "--auth-username", "USER", "RBD: the cephx user" },
    { "--secret-uuid", "UUID", "RBD: the secret holding the cephx key" },
    { "--secret-usage", "NAME", "RBD: the same, by its usage name" },
    H_PRINT_XML, H_HELP, H_END,
};
const vv_option_help vv_help_pool_build[] = { H_OVERWRITE, H_HELP, H_END };
const vv_option_help vv_help_pool_start[] = {
    { "--build", "", "build the pool first" }, H_OVERWRITE, H_HELP, H_END,
};
const vv_option_help vv_help_pool_autostart[] = {
    { "--disable", "", "do not start the pool automatically" }, H_HELP, H_END,
};
const vv_option_help vv_help_pool_list[] = {
    { "--inactive", "", "inactive pools only" }, { "--all", "", "active and inactive pools" },
    { "--persistent", "", "persistent pools only" }, { "--transient", "", "transient pools only" },
    { "--autostart", "", "pools started automatically" },
    { "--no-autostart", "", "pools not started automatically" },
    { "--type", "TYPES", "pools of these types (comma-separated)" },
    { "--details", "", "state, sizes and overcommit of each pool" },
    { "--name", "", "names only" }, { "--uuid", "", "UUIDs only" }, H_JSON, H_HELP, H_END,
};
const vv_option_help vv_help_pool_info[] = {
    { "--bytes", "", "sizes in bytes" }, H_JSON,
    { "--details", "", "each volume: format, kind, capacity, allocation, unbacked bytes" },
    H_HELP, H_END,
};
#define H_XPATH     { "--xpath", "EXPRESSION", "print only the nodes the XPath expression selects" }, \
                    { "--wrap", "", "with --xpath: wrap several results in one <nodes> element" }
const vv_option_help vv_help_pool_dumpxml[] = {
    { "--inactive", "", "the definition the pool has when next started" }, H_XPATH, H_HELP, H_END,
};
const vv_option_help vv_help_dumpxml[] = { H_XPATH, H_HELP, H_END };
const vv_option_help vv_help_vol_dumpxml[] = { H_POOL, H_XPATH, H_HELP, H_END };
const vv_option_help vv_help_vol_pool_of[] = {
    { "--vol", "VOL", "the volume's key or path (also the first argument)" },
    { "--uuid", "", "print the pool's UUID instead of its name" }, H_HELP, H_END,
};
const vv_option_help vv_help_pool_name[] = {
    { "--pool", "UUID", "the pool's UUID (also the first argument)" }, H_HELP, H_END,
};
const vv_option_help vv_help_pool_create[] = {
    { "--build", "", "build the pool first" }, H_OVERWRITE, H_HELP, H_END,
};
const vv_option_help vv_help_pool_create_as[] = {
    { "--type", "vdisk|dir|netfs|rbd", "the pool's type (also the second argument)" },
    { "--target", "DIR", "the pool's directory (netfs: where pool-start mounts it)" },
    { "--zeroing", "lazy|eager", "how thick volumes are zeroed" },
    { "--overcommit", "RATIO", "cap on the sum of capacities over the pool's size" },
    { "--source-host", "HOST[:PORT],...", "RBD: the Ceph monitors; netfs: the server (one HOST)" },
    { "--source-path", "PATH", "netfs: the export, or /VOLUME (GlusterFS)" },
    { "--source-dev", "DEV", "refused unless empty or '-'" },
    { "--source-name", "NAME", "RBD: the Ceph pool (type rbd, or vdisk with it)" },
    { "--source-format", "glusterfs|nfs|auto", "netfs: the shared filesystem (default auto)" },
    { "--auth-type", "ceph", "RBD: cephx authentication" },
    { "--auth-username", "USER", "RBD: the cephx user" },
    { "--secret-uuid", "UUID", "RBD: the secret holding the cephx key" },
    { "--secret-usage", "NAME", "RBD: the same, by its usage name" },
    H_PRINT_XML, { "--build", "", "build the pool first" }, H_OVERWRITE, H_HELP, H_END,
};
const vv_option_help vv_help_find_sources[] = {
    { "--type", "TYPE", "the pool type (also the first argument)" },
    { "--srcSpec", "FILE", "a <source> XML naming where to look" }, H_HELP, H_END,
};
const vv_option_help vv_help_find_sources_as[] = {
    { "--type", "TYPE", "the pool type (also the first argument)" },
    { "--host", "HOST", "the host to ask" }, { "--port", "PORT", "its port" },
    { "--initiator", "IQN", "iSCSI initiator name" }, H_HELP, H_END,
};
const vv_option_help vv_help_secret_get_value[] = {
    { "--plain", "", "print the raw value instead of base64" }, H_HELP, H_END,
};
const vv_option_help vv_help_vol_create[] = { H_PREALLOC, H_VALIDATE, H_HELP, H_END };
const vv_option_help vv_help_vol_create_as[] = {
    { "--allocation", "SIZE", "space to give now (0: thin; = capacity: thick)" },
    { "--format", "raw|qcow2", "the volume's format" },
    { "--backing-vol", "VOL", "the backing volume of a new qcow2 overlay" },
    { "--backing-vol-format", "FMT", "its format" }, H_PREALLOC, H_PRINT_XML, H_HELP, H_END,
};
const vv_option_help vv_help_vol_create_from[] = {
    { "--inputpool", "POOL", "the pool of the source volume" }, H_PREALLOC, H_REFLINK,
    H_VALIDATE, H_HELP, H_END,
};
const vv_option_help vv_help_vol_clone[] = {
    H_POOL, H_PREALLOC, H_REFLINK, H_PRINT_XML, H_HELP, H_END,
};
const vv_option_help vv_help_vol_convert[] = {
    { "--format", "raw|qcow2", "the new volume's format" }, H_POOL,
    { "--allocation", "SIZE", "space to give the new volume now" }, H_PREALLOC, H_HELP, H_END,
};
const vv_option_help vv_help_vol_delete[] = {
    H_POOL, { "--delete-snapshots", "", "also delete the volume's snapshots" }, H_HELP, H_END,
};
const vv_option_help vv_help_vol_wipe[] = {
    H_POOL, { "--algorithm", "ALG", "zero (default), nnsa, dod, bsi, gutmann, schneier, pfitzner7, "
                                      "pfitzner33, random or trim" }, H_HELP, H_END,
};
const vv_option_help vv_help_vol_transfer[] = {
    H_POOL, { "--offset", "BYTES", "start at this offset of the volume" },
    { "--length", "BYTES", "move at most this many bytes" },
    { "--sparse", "", "keep holes as holes" }, H_HELP, H_END,
};
const vv_option_help vv_help_vol_resize[] = {
    H_POOL, { "--allocate", "", "allocate the new space" },
    { "--delta", "", "CAPACITY is a change, not the new size" },
    { "--shrink", "", "allow the volume to shrink" }, H_HELP, H_END,
};
const vv_option_help vv_help_vol_inflate[] = {
    H_POOL, { "--eager", "", "write zeros instead of reserving the space" }, H_DRY_RUN, H_HELP, H_END,
};
const vv_option_help vv_help_vol_eagerzero[] = { H_POOL, H_DRY_RUN, H_HELP, H_END };
const vv_option_help vv_help_vol_sparsify[] = {
    H_POOL, { "--zero-detect", "", "also give back data that is all zero bytes" },
    { "--truncate", "", "qcow2: cut the file after its last used cluster" }, H_DRY_RUN, H_HELP, H_END,
};
const vv_option_help vv_help_vol_export[] = {
    { "--socket", "PATH", "serve on this unix socket" },
    { "--port", "N", "serve on this TCP port" },
    { "--address", "ADDR", "with --port: the address to listen on (default: every address)" },
    { "--readonly", "", "clients may only read" },
    { "--foreground", "", "stay in the foreground until stopped" },
    { "--pidfile", "FILE", "write nbdkit's pid to FILE" }, H_HELP, H_END,
};
const vv_option_help vv_help_vol_map[] = {
    H_POOL, { "--width", "N", "N cells (default: the terminal's width)" },
    { "--picture", "FILE.png", "write where the space goes as a PNG picture" }, H_JSON, H_HELP, H_END,
};
const vv_option_help vv_help_vol_info[] = {
    H_POOL, { "--bytes", "", "sizes in bytes" },
    { "--physical", "", "the file's size instead of its allocation" }, H_JSON, H_HELP, H_END,
};
const vv_option_help vv_help_vol_pool[] = { H_POOL, H_HELP, H_END };
const vv_option_help vv_help_vol_list[] = {
    { "--details", "", "type, capacity and allocation of each volume" }, H_JSON, H_HELP, H_END,
};
const vv_option_help vv_help_vol_snapshot_list[] = { H_POOL, H_JSON, H_HELP, H_END };
const vv_option_help vv_help_vol_snapshot_create[] = {
    { "--snapshot", "NAME", "the snapshot's name (also the second argument)" }, H_POOL, H_HELP, H_END,
};
const vv_option_help vv_help_vol_name[] = {
    { "--vol", "KEY|PATH", "the volume's key or path (also the first argument)" }, H_HELP, H_END,
};
const vv_option_help vv_help_secret_set_value[] = {
    { "--base64", "VALUE", "refused: a value on the command line is insecure (use --file)" },
    { "--file", "FILE", "read the value from FILE (base64 unless --plain)" },
    { "--plain", "", "the file holds the raw value" },
    { "--interactive", "", "refused: the value is read from --file only" }, H_HELP, H_END,
};
const vv_option_help vv_help_secret_list[] = {
    { "--ephemeral", "", "ephemeral secrets only" }, { "--no-ephemeral", "", "persistent secrets only" },
    { "--private", "", "private secrets only" }, { "--no-private", "", "non-private secrets only" },
    H_JSON, H_HELP, H_END,
};

void
vv_print_option_help(const vv_option_help *opts)
{
    if (!opts || !opts[0].option)
        return;
    printf("\nOptions:\n");
    for (const vv_option_help *o = opts; o->option; o++) {
        char left[160];
        snprintf(left, sizeof(left), "%s%s%s", o->option, o->arg[0] ? " " : "", o->arg);
        printf("  %-24s  %s\n", left, o->text);   /* one line each, however long */
    }
}
