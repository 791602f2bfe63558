/*
 * storage_backend_vdisk_ns.c: the vdisk XML namespace of storage pools
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * This library is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
 * Lesser General Public License for more details.
 *
 * You should have received a copy of the GNU Lesser General Public
 * License along with this library.  If not, see
 * <http://www.gnu.org/licenses/>.
 */

#include <config.h>

#include <vdisk/storage-def.h>
#include <vdisk/storage-xml.h>

#include "storage_backend_vdisk_ns.h"
#include "virerror.h"
#include "virlog.h"

#define VIR_FROM_THIS VIR_FROM_STORAGE

VIR_LOG_INIT("storage.storage_backend_vdisk_ns");

#define VDISK_NS_DOCNAME "(storage_pool_definition)"


/* Free the namespace data of a pool definition. */
static void
virStoragePoolVdiskNamespaceFree(void *nsdata)
{
    virStoragePoolVdiskNamespaceDef *def = nsdata;

    if (!def)
        return;

    g_free(def->zeroing);
    g_free(def->overcommit);
    g_free(def->outside);
    g_free(def->config);
    g_free(def);
}


/* Check the whole <pool> element with vdisk's pool XML parser, so that
 * pool-define refuses what pool-start would refuse later, with vdisk's
 * message (unknown zeroing mode, malformed ratio, unknown element of the
 * vdisk namespace, element missing its vdisk: prefix). */
static int
virStoragePoolVdiskNamespaceCheck(xmlXPathContextPtr ctxt)
{
    g_autoptr(xmlBuffer) buf = xmlBufferCreate();
    vdisk_pool_def *def = NULL;
    vdisk_error err = { 0 };
    int rc;

    if (!buf || xmlNodeDump(buf, ctxt->doc, ctxt->node, 0, 0) < 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                       _("failed to serialize the storage pool definition"));
        return -1;
    }

    rc = vdisk_pool_def_parse((const char *)xmlBufferContent(buf),
                              xmlBufferLength(buf), VDISK_NS_DOCNAME,
                              &def, &err);
    vdisk_pool_def_free(def);
    if (rc < 0) {
        virReportError(VIR_ERR_XML_ERROR, "%s", err.message);
        return -1;
    }

    return 0;
}


/* The trimmed text of an XPath string, NULL when empty. */
static char *
virStoragePoolVdiskNamespaceString(const char *xpath,
                                   xmlXPathContextPtr ctxt)
{
    char *text = virXPathString(xpath, ctxt);

    if (text)
        g_strstrip(text);
    return text;
}


/* Parse <vdisk:provisioning>, <vdisk:backing> and <vdisk:config> of a
 * <pool type='vdisk'>. */
static int
virStoragePoolVdiskNamespaceParse(xmlXPathContextPtr ctxt,
                                  void **data)
{
    virStoragePoolVdiskNamespaceDef *def = NULL;
    bool backing;

    if (virStoragePoolVdiskNamespaceCheck(ctxt) < 0)
        return -1;

    backing = virXPathNode("./vdisk:backing", ctxt) != NULL;

    /* Even without either element, so that pool-dumpxml shows the
     * provisioning policy in effect (thick volumes lazy-zeroed). */
    def = g_new0(virStoragePoolVdiskNamespaceDef, 1);
    def->backing = backing;
    def->zeroing = virStoragePoolVdiskNamespaceString("string(./vdisk:provisioning/vdisk:zeroing)",
                                                      ctxt);
    def->overcommit = virStoragePoolVdiskNamespaceString("string(./vdisk:provisioning/vdisk:overcommit)",
                                                         ctxt);
    def->outside = virStoragePoolVdiskNamespaceString("string(./vdisk:backing/vdisk:outside)",
                                                      ctxt);
    def->config = virXPathString("string(./vdisk:config/@file)", ctxt);

    *data = def;
    return 0;
}


/* Format <vdisk:provisioning> back as it was given, with the zeroing mode
 * in effect when none was (lazy) and an overcommit cap only when one was
 * given (none means no cap); <vdisk:backing> and <vdisk:config> as they
 * were given. */
static int
virStoragePoolVdiskNamespaceFormat(virBuffer *buf,
                                   void *nsdata)
{
    virStoragePoolVdiskNamespaceDef *def = nsdata;
    g_auto(virBuffer) provBuf = VIR_BUFFER_INIT_CHILD(buf);
    g_auto(virBuffer) backingBuf = VIR_BUFFER_INIT_CHILD(buf);

    if (!def)
        return 0;

    virBufferEscapeString(&provBuf, "<vdisk:zeroing>%s</vdisk:zeroing>\n",
                          def->zeroing && *def->zeroing ? def->zeroing : "lazy");
    virBufferEscapeString(&provBuf, "<vdisk:overcommit>%s</vdisk:overcommit>\n",
                          def->overcommit);
    virBufferEscapeString(&backingBuf, "<vdisk:outside>%s</vdisk:outside>\n",
                          def->outside);

    virXMLFormatElement(buf, "vdisk:provisioning", NULL, &provBuf);
    /* An empty element still says the pool was written with the namespace. */
    if (def->backing)
        virXMLFormatElementEmpty(buf, "vdisk:backing", NULL, &backingBuf);
    virBufferEscapeString(buf, "<vdisk:config file='%s'/>\n", def->config);
    return 0;
}


virXMLNamespace virStoragePoolVdiskXMLNamespace = {
    .parse = virStoragePoolVdiskNamespaceParse,
    .free = virStoragePoolVdiskNamespaceFree,
    .format = virStoragePoolVdiskNamespaceFormat,
    .prefix = "vdisk",
    .uri = VDISK_POOL_NAMESPACE_URI,
};
