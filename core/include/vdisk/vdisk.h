/* libvdisk — raw, qcow2 and ISO 9660 disk images.  The one header to include. */
#ifndef VDISK_VDISK_H
#define VDISK_VDISK_H

#include <vdisk/error.h>
#include <vdisk/image.h>
#include <vdisk/create.h>
#include <vdisk/convert.h>
#include <vdisk/check.h>
#include <vdisk/snapshot.h>
#include <vdisk/amend.h>
#include <vdisk/encrypt.h>
#include <vdisk/keyslot.h>
#include <vdisk/resize.h>
#include <vdisk/provision.h>
#include <vdisk/backing.h>
#include <vdisk/iso.h>
#include <vdisk/bitmap.h>
#include <vdisk/protocol.h>
#include <vdisk/vmdk.h>
#include <vdisk/options.h>

#define VDISK_VERSION_STRING "0.1.0"

#endif
