/* vdisk-virsh -c URI: the pool, volume and secret commands through a
 * libvirt daemon's public API (remote-*.c), with the same grammar and
 * output as the embedded ones.  Commands libvirt's API lacks (volume
 * snapshots, vol-convert) act on the volume's file through libvdisk and
 * then refresh the daemon's pool.  Built without libvirt, remote-none.c
 * says so.
 */
#ifndef VV_REMOTE_H
#define VV_REMOTE_H

/* Run the virsh-style command argv[0] against the daemon at uri; returns
 * the exit status (VV_PARSE_FAILED after a usage error). */
int vv_remote_run(const char *uri, int argc, char **argv);

#endif
