/* vdisk-virsh -c URI — libvirt's client library, loaded only when a
 * command connects to a daemon.
 *
 * Linking libvirt.so would load it and the ~40 libraries under it into
 * every run of vdisk-virsh, image commands included: about 25 million
 * instructions of symbol lookup in the dynamic loader and 10 MiB of RSS
 * before main().  So the remote-*.c files call libvirt through a table of
 * function pointers filled by dlopen/dlsym (libvirt-load.c) the first time
 * a connection is opened; the names below make those calls read as plain
 * libvirt calls.  A libvirt function used without being listed here fails
 * to link (libvirt is not linked), so the list cannot silently fall behind.
 *
 * Include this instead of <libvirt/libvirt.h>.
 */
#ifndef VV_LIBVIRT_LOAD_H
#define VV_LIBVIRT_LOAD_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

/* Every libvirt function vdisk-virsh calls. */
#define VV_LIBVIRT_FUNCTIONS(X) \
    X(virConnectClose) \
    X(virStoragePoolCreateXML) \
    X(virConnectGetStoragePoolCapabilities) \
    X(virConnectFindStoragePoolSources) \
    X(virConnectListAllSecrets) \
    X(virConnectListAllStoragePools) \
    X(virConnectOpenAuth) \
    X(virGetLastError) \
    X(virResetLastError) \
    X(virSecretDefineXML) \
    X(virSecretFree) \
    X(virSecretGetUUID) \
    X(virSecretGetUUIDString) \
    X(virSecretGetUsageID) \
    X(virSecretGetUsageType) \
    X(virSecretGetValue) \
    X(virSecretGetXMLDesc) \
    X(virSecretLookupByUUID) \
    X(virSecretLookupByUUIDString) \
    X(virSecretLookupByUsage) \
    X(virSecretSetValue) \
    X(virSecretUndefine) \
    X(virSetErrorFunc) \
    X(virStoragePoolBuild) \
    X(virStoragePoolCreate) \
    X(virStoragePoolDefineXML) \
    X(virStoragePoolDelete) \
    X(virStoragePoolDestroy) \
    X(virStoragePoolFree) \
    X(virStoragePoolGetAutostart) \
    X(virStoragePoolGetInfo) \
    X(virStoragePoolGetName) \
    X(virStoragePoolGetUUID) \
    X(virStoragePoolGetXMLDesc) \
    X(virStoragePoolIsActive) \
    X(virStoragePoolIsPersistent) \
    X(virStoragePoolListAllVolumes) \
    X(virStoragePoolLookupByName) \
    X(virStoragePoolLookupByUUIDString) \
    X(virStoragePoolLookupByVolume) \
    X(virStoragePoolRefresh) \
    X(virStoragePoolSetAutostart) \
    X(virStoragePoolUndefine) \
    X(virStorageVolCreateXML) \
    X(virStorageVolCreateXMLFrom) \
    X(virStorageVolDelete) \
    X(virStorageVolDownload) \
    X(virStorageVolFree) \
    X(virStorageVolGetInfo) \
    X(virStorageVolGetInfoFlags) \
    X(virStorageVolGetKey) \
    X(virStorageVolGetName) \
    X(virStorageVolGetPath) \
    X(virStorageVolGetXMLDesc) \
    X(virStorageVolLookupByKey) \
    X(virStorageVolLookupByName) \
    X(virStorageVolLookupByPath) \
    X(virStorageVolResize) \
    X(virStorageVolUpload) \
    X(virStorageVolWipePattern) \
    X(virStreamAbort) \
    X(virStreamFinish) \
    X(virStreamFree) \
    X(virStreamNew) \
    X(virStreamRecvAll) \
    X(virStreamSendAll) \
    X(virStreamSparseRecvAll) \
    X(virStreamSparseSendAll)

/* The table: a pointer of the right type per function, and to the one
 * variable used (libvirt's default authentication callbacks). */
typedef struct vv_libvirt_api {
#define VV_LIBVIRT_MEMBER(name) __typeof__(name) *name;
    VV_LIBVIRT_FUNCTIONS(VV_LIBVIRT_MEMBER)
#undef VV_LIBVIRT_MEMBER
    __typeof__(virConnectAuthPtrDefault) *virConnectAuthPtrDefault;
} vv_libvirt_api;

/* Load libvirt's client library and resolve the table (once per process;
 * later calls return the first result).  0, or -1 after printing why. */
int vv_libvirt_load(void);
/* The table; only after vv_libvirt_load succeeded. */
const vv_libvirt_api *vv_libvirt(void);

#ifndef VV_LIBVIRT_LOAD_IMPL
#define virConnectClose (vv_libvirt()->virConnectClose)
#define virStoragePoolCreateXML (vv_libvirt()->virStoragePoolCreateXML)
#define virConnectGetStoragePoolCapabilities (vv_libvirt()->virConnectGetStoragePoolCapabilities)
#define virConnectFindStoragePoolSources (vv_libvirt()->virConnectFindStoragePoolSources)
#define virConnectListAllSecrets (vv_libvirt()->virConnectListAllSecrets)
#define virConnectListAllStoragePools (vv_libvirt()->virConnectListAllStoragePools)
#define virConnectOpenAuth (vv_libvirt()->virConnectOpenAuth)
#define virGetLastError (vv_libvirt()->virGetLastError)
#define virResetLastError (vv_libvirt()->virResetLastError)
#define virSecretDefineXML (vv_libvirt()->virSecretDefineXML)
#define virSecretFree (vv_libvirt()->virSecretFree)
#define virSecretGetUUID (vv_libvirt()->virSecretGetUUID)
#define virSecretGetUUIDString (vv_libvirt()->virSecretGetUUIDString)
#define virSecretGetUsageID (vv_libvirt()->virSecretGetUsageID)
#define virSecretGetUsageType (vv_libvirt()->virSecretGetUsageType)
#define virSecretGetValue (vv_libvirt()->virSecretGetValue)
#define virSecretGetXMLDesc (vv_libvirt()->virSecretGetXMLDesc)
#define virSecretLookupByUUID (vv_libvirt()->virSecretLookupByUUID)
#define virSecretLookupByUUIDString (vv_libvirt()->virSecretLookupByUUIDString)
#define virSecretLookupByUsage (vv_libvirt()->virSecretLookupByUsage)
#define virSecretSetValue (vv_libvirt()->virSecretSetValue)
#define virSecretUndefine (vv_libvirt()->virSecretUndefine)
#define virSetErrorFunc (vv_libvirt()->virSetErrorFunc)
#define virStoragePoolBuild (vv_libvirt()->virStoragePoolBuild)
#define virStoragePoolCreate (vv_libvirt()->virStoragePoolCreate)
#define virStoragePoolDefineXML (vv_libvirt()->virStoragePoolDefineXML)
#define virStoragePoolDelete (vv_libvirt()->virStoragePoolDelete)
#define virStoragePoolDestroy (vv_libvirt()->virStoragePoolDestroy)
#define virStoragePoolFree (vv_libvirt()->virStoragePoolFree)
#define virStoragePoolGetAutostart (vv_libvirt()->virStoragePoolGetAutostart)
#define virStoragePoolGetInfo (vv_libvirt()->virStoragePoolGetInfo)
#define virStoragePoolGetName (vv_libvirt()->virStoragePoolGetName)
#define virStoragePoolGetUUID (vv_libvirt()->virStoragePoolGetUUID)
#define virStoragePoolGetXMLDesc (vv_libvirt()->virStoragePoolGetXMLDesc)
#define virStoragePoolIsActive (vv_libvirt()->virStoragePoolIsActive)
#define virStoragePoolIsPersistent (vv_libvirt()->virStoragePoolIsPersistent)
#define virStoragePoolListAllVolumes (vv_libvirt()->virStoragePoolListAllVolumes)
#define virStoragePoolLookupByName (vv_libvirt()->virStoragePoolLookupByName)
#define virStoragePoolLookupByUUIDString (vv_libvirt()->virStoragePoolLookupByUUIDString)
#define virStoragePoolLookupByVolume (vv_libvirt()->virStoragePoolLookupByVolume)
#define virStoragePoolRefresh (vv_libvirt()->virStoragePoolRefresh)
#define virStoragePoolSetAutostart (vv_libvirt()->virStoragePoolSetAutostart)
#define virStoragePoolUndefine (vv_libvirt()->virStoragePoolUndefine)
#define virStorageVolCreateXML (vv_libvirt()->virStorageVolCreateXML)
#define virStorageVolCreateXMLFrom (vv_libvirt()->virStorageVolCreateXMLFrom)
#define virStorageVolDelete (vv_libvirt()->virStorageVolDelete)
#define virStorageVolDownload (vv_libvirt()->virStorageVolDownload)
#define virStorageVolFree (vv_libvirt()->virStorageVolFree)
#define virStorageVolGetInfo (vv_libvirt()->virStorageVolGetInfo)
#define virStorageVolGetInfoFlags (vv_libvirt()->virStorageVolGetInfoFlags)
#define virStorageVolGetKey (vv_libvirt()->virStorageVolGetKey)
#define virStorageVolGetName (vv_libvirt()->virStorageVolGetName)
#define virStorageVolGetPath (vv_libvirt()->virStorageVolGetPath)
#define virStorageVolGetXMLDesc (vv_libvirt()->virStorageVolGetXMLDesc)
#define virStorageVolLookupByKey (vv_libvirt()->virStorageVolLookupByKey)
#define virStorageVolLookupByName (vv_libvirt()->virStorageVolLookupByName)
#define virStorageVolLookupByPath (vv_libvirt()->virStorageVolLookupByPath)
#define virStorageVolResize (vv_libvirt()->virStorageVolResize)
#define virStorageVolUpload (vv_libvirt()->virStorageVolUpload)
#define virStorageVolWipePattern (vv_libvirt()->virStorageVolWipePattern)
#define virStreamAbort (vv_libvirt()->virStreamAbort)
#define virStreamFinish (vv_libvirt()->virStreamFinish)
#define virStreamFree (vv_libvirt()->virStreamFree)
#define virStreamNew (vv_libvirt()->virStreamNew)
#define virStreamRecvAll (vv_libvirt()->virStreamRecvAll)
#define virStreamSendAll (vv_libvirt()->virStreamSendAll)
#define virStreamSparseRecvAll (vv_libvirt()->virStreamSparseRecvAll)
#define virStreamSparseSendAll (vv_libvirt()->virStreamSparseSendAll)
#define virConnectAuthPtrDefault (*vv_libvirt()->virConnectAuthPtrDefault)
#endif

#endif
