/* vdisk-virsh — the pool, volume and secret commands, in a module loaded
 * by the first of them.
 *
 * Those commands (virsh/) and the stores they act on (stores/: the
 * embedded registry of libvdisk-plugin, a libvirt daemon) need
 * libvdisk-plugin, and through it libxml2 with ICU, liblzma and
 * libstdc++: linked into vdisk-virsh, they made every image command
 * (`info` of a small file) map 26 objects against qemu-img's 21.  So they
 * are built into vdisk-virsh-stores.so, which vdisk-virsh opens with
 * dlopen when one of them runs.  It is looked for beside the executable
 * the way it is installed (LIBDIR/vdisk/, as a path relative to BINDIR,
 * so a staged or relocated install finds its own), then in the
 * executable's own directory (the build tree, where the tests run it).
 * With -Ddefault_library=static (the fuzzing builds) there is no module:
 * the commands are linked into the executable.
 */
#ifndef VV_STORE_MODULE_H
#define VV_STORE_MODULE_H

/* Run the store command whose handler (a vv_store_handler) the module
 * exports as `symbol`, loading the module first if need be; its exit
 * status.  When the module cannot be loaded: "error: <command>: cannot
 * load vdisk-virsh's pool, volume and secret commands: <path>: <reason>"
 * on stderr, and VV_PARSE_FAILED (exit status 1, commands.h). */
int vv_store_command_run(const char *symbol, const char *uri, int argc, char **argv);

/* The libvirt URI the pool/vol/secret commands go to, as virsh picks
 * it: -c/--connect, else $VIRSH_DEFAULT_CONNECT_URI, else
 * $LIBVIRT_DEFAULT_URI; NULL (none) = the embedded registry. */
const char *vv_connect_uri(const char *given);

#endif
