// SPDX-License-Identifier: GPL-2.0
/*
 * A virtio device's state as two sections (virtio.h): the device's own
 * virtio state, the same under any transport, at PATH/device (table
 * virtio-device), and the PCI transport's registers at PATH (table
 * virtio-pci), as the code keeps them apart (vdev->s, vdev->transport).
 *
 * Release 0.1.0 saved both in one section, table virtio-pci version 1
 * with the queues' MSI-X vectors inside each queue; its streams load
 * through the two filters below: a split moves the state and the MAC to
 * PATH/device, then transport_back() takes the transport's registers
 * out of it again.  Version 2 makes a 0.1.0 destination refuse this
 * build's stream in the handshake, before any page.
 */
#include <errno.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "vm/virtio.h"
#include "vm/vm.h"
#include "vmstate/tree.h"

#define DEVICE_SUFFIX	"/device"

static const struct vmstate_field vq_fields[] = {
	VMSTATE_U64_HEX(desc, struct vq_state, 0),
	VMSTATE_U64_HEX(avail, struct vq_state, 0),
	VMSTATE_U64_HEX(used, struct vq_state, 0),
	VMSTATE_U16(size, struct vq_state, 0),
	VMSTATE_U16(enabled, struct vq_state, 0),
	VMSTATE_U16(last_avail, struct vq_state, 0),
	VMSTATE_U16(used_idx, struct vq_state, 0),
	VMSTATE_END,
};

/* Version 1 (0.1.0) also held the queue's MSI-X vector. */
static const struct vmsd vq_vmsd = {
	.name = "virtqueue",
	.version_id = 2,
	.minimum_version_id = 2,
	.size = sizeof(struct vq_state),
	.fields = vq_fields,
};

static const struct vmstate_field state_fields[] = {
	VMSTATE_U64_HEX(driver_features, struct virtio_state, 0),
	VMSTATE_U8_HEX(status, struct virtio_state, 0),
	VMSTATE_U8(isr, struct virtio_state, 0),
	VMSTATE_U8(config_generation, struct virtio_state, 0),
	VMSTATE_STRUCT_ARRAY(vq, struct virtio_state, 0, vq_vmsd, struct vq_state),
	VMSTATE_END,
};

static const struct vmsd state_vmsd = {
	.name = "virtio-state",
	.version_id = 1,
	.minimum_version_id = 1,
	.size = sizeof(struct virtio_state),
	.fields = state_fields,
};

/* The staging copy: queues must fit what this device offers. */
static int device_post_load(void *staging, uint32_t version)
{
	struct virtio_dev *vdev = staging;
	int i;

	for (i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		uint16_t sz = vdev->s.vq[i].size;

		if (sz > vdev->ops->queue_size || (sz & (sz - 1)) ||
		    (vdev->s.vq[i].enabled && (i >= vdev->ops->nr_queues || !sz))) {
			pr_err("%s: queue %d size %u invalid here", vdev->dev.path, i, sz);
			return -EINVAL;
		}
	}
	if (vdev->s.driver_features & ~virtio__device_features(vdev))
		return -EOPNOTSUPP;
	return 0;
}

/* Once a driver looked at a NIC, its guest may know the MAC. */
static bool mac_needed(void *opaque)
{
	struct virtio_dev *vdev = opaque;

	return vdev->ops->type == VIRTIO_ID_NET && vdev->s.status;
}

static const struct vmstate_field mac_fields[] = {
	VMSTATE_U8_ARRAY_HEX(mac, struct virtio_dev, 0),
	VMSTATE_END,
};

static const struct vmsd mac_vmsd = {
	.name = "mac",
	.version_id = 1,
	.minimum_version_id = 1,
	.size = sizeof(struct virtio_dev),
	.fields = mac_fields,
	.needed = mac_needed,
};

static const struct vmsd *const device_subsections[] = { &mac_vmsd, NULL };

static const struct vmstate_field device_fields[] = {
	VMSTATE_STRUCT(s, struct virtio_dev, 0, state_vmsd, struct virtio_state),
	VMSTATE_END,
};

static const struct vmsd device_vmsd = {
	.name = "virtio-device",
	.version_id = 1,
	.minimum_version_id = 1,
	.size = sizeof(struct virtio_dev),
	.fields = device_fields,
	.subsections = device_subsections,
	.post_load = device_post_load,
};
VMSTATE_DEVICE_TABLE(device_vmsd);

static const struct vmstate_field msix_entry_fields[] = {
	VMSTATE_U32_HEX(addr_lo, struct msix_entry, 0),
	VMSTATE_U32_HEX(addr_hi, struct msix_entry, 0),
	VMSTATE_U32_HEX(data, struct msix_entry, 0),
	VMSTATE_U32_HEX(ctrl, struct msix_entry, 0),
	VMSTATE_END,
};

static const struct vmsd msix_entry_vmsd = {
	.name = "msix-entry",
	.version_id = 1,
	.minimum_version_id = 1,
	.size = sizeof(struct msix_entry),
	.fields = msix_entry_fields,
};

static const struct vmstate_field transport_fields[] = {
	VMSTATE_U32(dfselect, struct virtio_pci_state, 0),
	VMSTATE_U32(gfselect, struct virtio_pci_state, 0),
	VMSTATE_U16(msix_config, struct virtio_pci_state, 0),
	VMSTATE_U16(queue_select, struct virtio_pci_state, 0),
	VMSTATE_U16_ARRAY(queue_vector, struct virtio_pci_state, 0),
	VMSTATE_U8_ARRAY(msix_pending, struct virtio_pci_state, 0),
	VMSTATE_STRUCT_ARRAY(msix, struct virtio_pci_state, 0, msix_entry_vmsd,
			     struct msix_entry),
	VMSTATE_END,
};

static bool vector_ok(uint16_t v)
{
	return v < VIRTIO_MSIX_VECTORS || v == VIRTIO_MSI_NO_VECTOR;
}

/* Vectors name an entry of the table (or none); pending bits are bits. */
static int transport_post_load(void *staging, uint32_t version)
{
	struct virtio_pci_state *t = staging;
	int i;

	if (!vector_ok(t->msix_config)) {
		pr_err("virtio-pci: msix_config %u names no MSI-X entry (%d)",
		       t->msix_config, VIRTIO_MSIX_VECTORS);
		return -ERANGE;
	}
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++)
		if (!vector_ok(t->queue_vector[i])) {
			pr_err("virtio-pci: queue_vector[%d] %u names no MSI-X entry (%d)",
			       i, t->queue_vector[i], VIRTIO_MSIX_VECTORS);
			return -ERANGE;
		}
	for (i = 0; i < VIRTIO_MSIX_VECTORS; i++)
		if (t->msix_pending[i] > 1) {
			pr_err("virtio-pci: msix_pending[%d] is %u, not a bit",
			       i, t->msix_pending[i]);
			return -ERANGE;
		}
	return 0;
}

static const struct vmsd transport_vmsd = {
	.name = "virtio-pci-transport",
	.version_id = 1,
	.minimum_version_id = 1,
	.size = sizeof(struct virtio_pci_state),
	.fields = transport_fields,
	.post_load = transport_post_load,
};

static int pci_post_commit(void *opaque, char *why, size_t len)
{
	virtio__loaded(opaque);
	return 0;
}

static const struct vmstate_field pci_fields[] = {
	VMSTATE_STRUCT(transport, struct virtio_dev, 0, transport_vmsd,
		       struct virtio_pci_state),
	VMSTATE_STRUCT(pci, struct virtio_dev, 0, pci_device_vmsd, struct pci_device),
	VMSTATE_END,
};

/* After every section committed: the device section is in place too. */
static const struct vmsd pci_vmsd = {
	.name = "virtio-pci",
	.version_id = 2,
	.minimum_version_id = 1,
	.size = sizeof(struct virtio_dev),
	.fields = pci_fields,
	.post_commit = pci_post_commit,
};
VMSTATE_DEVICE_TABLE(pci_vmsd);

/* ---- release 0.1.0's one section ------------------------------------ */

static const char *const split_moves[] = { "s", "mac", NULL };

static const struct vmstate_filter split_v1 = {
	.kind = VMSTATE_FILTER_SPLIT, .table = "virtio-pci", .max_version = 1,
	.to = "virtio-device", .to_version = 1, .path_suffix = DEVICE_SUFFIX,
	.move = split_moves,
};
VMSTATE_DEVICE_FILTER(split_v1);

/* The registers of 0.1.0's virtio-pci-state that are the transport's. */
static const char *const transport_names[] = {
	"dfselect", "gfselect", "msix_config", "queue_select", "msix_pending",
	"msix", NULL,
};

static struct vmstate_section *section_at(struct vmstate_tree *tree,
					  const char *path, size_t len)
{
	uint32_t i;

	for (i = 0; i < tree->nr_sections; i++)
		if (strlen(tree->sections[i].path) == len &&
		    !strncmp(tree->sections[i].path, path, len))
			return &tree->sections[i];
	return NULL;
}

static int take_named(struct vmstate_table *from, struct vmstate_table *to,
		      const char *name)
{
	uint32_t i;

	for (i = 0; i < from->nr_fields; i++)
		if (!strcmp(from->fields[i]->name, name)) {
			int ret = vmstate__table_append_field(to, from->fields[i]);

			if (!ret)
				vmstate__table_take_field(from, i);
			return ret;
		}
	return 0;	/* absent: the loader names it */
}

/*
 * One split 0.1.0 device: its state's transport registers, and each
 * queue's msix_vector as queue_vector[], to the virtio-pci section.
 * Shapes it does not expect are left for the loader to refuse, named.
 */
static int transport_back(struct vmstate_table *pci, struct vmstate_table *st)
{
	struct vmstate_tfield *vq = vmstate__table_field(st, "vq"), *vec, *f;
	struct vmstate_table *t;
	const char *const *name;
	uint32_t i, j;
	int ret;

	t = vmstate__table_new(transport_vmsd.name, 1);
	if (!t)
		return -ENOMEM;
	f = vmstate__table_add_field(pci, "transport", VMS_STRUCT, 0, 0, 1, 0);
	if (!f) {
		vmstate__table_free(t);
		return -ENOMEM;
	}
	f->elems[0] = t;
	for (name = transport_names; *name; name++) {
		ret = take_named(st, t, *name);
		if (ret)
			return ret;
	}
	if (!vq || vq->type != VMS_STRUCT)
		return 0;
	vec = vmstate__table_add_field(t, "queue_vector", VMS_U16, 0,
				       VMS_F_ARRAY, vq->count, 2);
	if (!vec)
		return -ENOMEM;
	for (i = 0; i < vq->count; i++) {
		struct vmstate_table *q = vq->elems[i];

		memset(vec->data + 2 * i, 0xff, 2);	/* no vector */
		for (j = 0; j < q->nr_fields; j++) {
			f = q->fields[j];
			if (strcmp(f->name, "msix_vector"))
				continue;
			if (f->type == VMS_U16 && f->count == 1)
				memcpy(vec->data + 2 * i, f->data, 2);
			vmstate__tfield_free(vmstate__table_take_field(q, j));
			break;
		}
		if (q->version == 1)
			q->version = 2;
	}
	return 0;
}

static int unsplit_transport(struct vmstate_tree *tree, void *arg,
			     struct vmstate_err *err)
{
	size_t slen = strlen(DEVICE_SUFFIX);
	uint32_t i;
	int ret;

	for (i = 0; i < tree->nr_sections; i++) {
		struct vmstate_section *dev = &tree->sections[i], *pci;
		struct vmstate_tfield *s;
		size_t plen = strlen(dev->path);

		if (strcmp(dev->table->name, device_vmsd.name) || plen <= slen ||
		    strcmp(dev->path + plen - slen, DEVICE_SUFFIX))
			continue;
		s = vmstate__table_field(dev->table, "s");
		if (!s || s->type != VMS_STRUCT || s->count != 1 ||
		    strcmp(s->elems[0]->name, "virtio-pci-state"))
			continue;	/* this build's own */
		pci = section_at(tree, dev->path, plen - slen);
		if (!pci || strcmp(pci->table->name, pci_vmsd.name) ||
		    vmstate__table_field(pci->table, "transport"))
			continue;
		ret = transport_back(pci->table, s->elems[0]);
		if (ret)
			return ret;
		free(s->elems[0]->name);
		s->elems[0]->name = strdup(state_vmsd.name);
		if (!s->elems[0]->name)
			return -ENOMEM;
	}
	return 0;
}

static const struct vmstate_filter unsplit_v1 = {
	.kind = VMSTATE_FILTER_CUSTOM, .table = "virtio-device",
	.fn = unsplit_transport,
};
VMSTATE_DEVICE_FILTER(unsplit_v1);

int virtio__register_state(struct vm *vm, struct virtio_dev *vdev)
{
	char path[DEVICE_PATH_MAX + sizeof(DEVICE_SUFFIX)];
	int ret;

	/* Once per registry: registering the same filter again is a no-op. */
	ret = vmstate__filter_register(vm->vmstate, &split_v1);
	if (!ret)
		ret = vmstate__filter_register(vm->vmstate, &unsplit_v1);
	if (ret)
		return ret;
	ret = vm__register_state(vm, &pci_vmsd, vdev, vdev->dev.path);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s" DEVICE_SUFFIX, vdev->dev.path);
	ret = vm__register_state(vm, &device_vmsd, vdev, path);
	if (ret)
		vm__unregister_state(vm, vdev->dev.path);
	return ret;
}

void virtio__unregister_state(struct vm *vm, struct virtio_dev *vdev)
{
	char path[DEVICE_PATH_MAX + sizeof(DEVICE_SUFFIX)];

	snprintf(path, sizeof(path), "%s" DEVICE_SUFFIX, vdev->dev.path);
	vm__unregister_state(vm, path);
	vm__unregister_state(vm, vdev->dev.path);
}
