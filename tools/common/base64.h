/* vdisk-virsh — base64 (RFC 4648, standard alphabet) decoding, for secret
 * values given as virsh and qemu-img give them. */
#ifndef VV_BASE64_H
#define VV_BASE64_H

#include <stddef.h>

/* Decode len bytes of s in place (whitespace ignored, '=' padding only at
 * the end); returns the decoded length, or -1 if s is not base64. */
long vv_base64_decode(char *s, size_t len);

#endif
