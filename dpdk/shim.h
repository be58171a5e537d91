// C helpers for the cgo binding: wrappers for DPDK's inline functions and
// the multi-step port setup, so that Go makes one cgo call per operation.
#ifndef RAMPART_SHIM_H
#define RAMPART_SHIM_H

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_dev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

// Field offsets for reading mbufs from Go, taken from the C compiler.
enum {
	RAMPART_OFF_BUF_ADDR = offsetof(struct rte_mbuf, buf_addr),
	RAMPART_OFF_DATA_OFF = offsetof(struct rte_mbuf, data_off),
	RAMPART_OFF_PKT_LEN = offsetof(struct rte_mbuf, pkt_len),
	RAMPART_OFF_DATA_LEN = offsetof(struct rte_mbuf, data_len),
};

static inline int rampart_errno(void) { return rte_errno; }

// rampart_rx frees the nfree mbufs the caller released from the previous
// burst, then receives into the same array: one crossing per burst. The
// array (C memory) comes as an integer so that cgo does not check it for Go
// pointers on every call.
static inline uint16_t rampart_rx(uint16_t port, uint16_t queue,
		uintptr_t array, uint16_t nfree, uint16_t burst) {
	struct rte_mbuf **pkts = (struct rte_mbuf **)array;
	if (nfree > 0)
		rte_pktmbuf_free_bulk(pkts, nfree);
	return rte_eth_rx_burst(port, queue, pkts, burst);
}

static inline int rampart_link_up(const struct rte_eth_link *l) { return l->link_status; }
static inline int rampart_link_full_duplex(const struct rte_eth_link *l) { return l->link_duplex; }

static inline void rampart_free(struct rte_mbuf **pkts, unsigned int n) {
	rte_pktmbuf_free_bulk(pkts, n);
}

enum rampart_stage {
	RAMPART_OK = 0,
	RAMPART_INFO,
	RAMPART_TOO_MANY_QUEUES,
	RAMPART_CONFIGURE,
	RAMPART_ADJUST_DESC,
	RAMPART_RXQ_SETUP,
	RAMPART_START,
	RAMPART_PROMISC,
};

struct rampart_port_result {
	int stage;       // enum rampart_stage of the failing step
	int ret;         // DPDK's return value there (negative errno)
	int queue;       // failing queue for RAMPART_RXQ_SETUP
	uint16_t max_rxq;
	uint16_t nb_rxd;
	uint64_t rss_hf;
	int symmetric;
	int promisc;
	char driver[64];
};

// Symmetric Toeplitz key: the 0x6d5a pattern hashes (src,dst) and
// (dst,src) to the same queue, so both directions of a flow meet.
static const uint8_t rampart_sym_key[64] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

// rampart_port_setup configures nq RSS receive queues (no transmit) and
// starts the port. RSS degrades to none when the PMD offers no IP/L4 hash;
// the key falls back to the PMD's own when it refuses ours.
static int rampart_port_setup(uint16_t port, uint16_t nq, uint16_t nb_rxd,
		struct rte_mempool *mp, int promisc, struct rampart_port_result *res) {
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	uint16_t nb_txd = 0;
	int ret, q;

	memset(res, 0, sizeof(*res));
	ret = rte_eth_dev_info_get(port, &info);
	if (ret != 0) {
		res->stage = RAMPART_INFO;
		res->ret = ret;
		return -1;
	}
	if (info.driver_name != NULL)
		snprintf(res->driver, sizeof(res->driver), "%s", info.driver_name);
	res->max_rxq = info.max_rx_queues;
	if (nq > info.max_rx_queues) {
		res->stage = RAMPART_TOO_MANY_QUEUES;
		res->ret = -EINVAL;
		return -1;
	}

	memset(&conf, 0, sizeof(conf));
	uint64_t want = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP;
	if (nq > 1 && (info.flow_type_rss_offloads & want) != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & want;
		if (info.hash_key_size > 0 && info.hash_key_size <= sizeof(rampart_sym_key)) {
			conf.rx_adv_conf.rss_conf.rss_key = (uint8_t *)rampart_sym_key;
			conf.rx_adv_conf.rss_conf.rss_key_len = info.hash_key_size;
			res->symmetric = 1;
		}
	}
	ret = rte_eth_dev_configure(port, nq, 0, &conf);
	if (ret != 0 && res->symmetric) {
		conf.rx_adv_conf.rss_conf.rss_key = NULL;
		conf.rx_adv_conf.rss_conf.rss_key_len = 0;
		res->symmetric = 0;
		ret = rte_eth_dev_configure(port, nq, 0, &conf);
	}
	if (ret != 0) {
		res->stage = RAMPART_CONFIGURE;
		res->ret = ret;
		return -1;
	}
	res->rss_hf = conf.rx_adv_conf.rss_conf.rss_hf;

	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (ret != 0) {
		res->stage = RAMPART_ADJUST_DESC;
		res->ret = ret;
		return -1;
	}
	res->nb_rxd = nb_rxd;
	int socket = rte_eth_dev_socket_id(port);
	if (socket < 0)
		socket = (int)rte_socket_id();
	for (q = 0; q < nq; q++) {
		ret = rte_eth_rx_queue_setup(port, q, nb_rxd, socket, NULL, mp);
		if (ret != 0) {
			res->stage = RAMPART_RXQ_SETUP;
			res->ret = ret;
			res->queue = q;
			return -1;
		}
	}
	ret = rte_eth_dev_start(port);
	if (ret != 0) {
		res->stage = RAMPART_START;
		res->ret = ret;
		return -1;
	}
	if (promisc) {
		ret = rte_eth_promiscuous_enable(port);
		// Virtual devices without a MAC filter say ENOTSUP: they see everything.
		if (ret != 0 && ret != -ENOTSUP) {
			res->stage = RAMPART_PROMISC;
			res->ret = ret;
			rte_eth_dev_stop(port);
			return -1;
		}
		res->promisc = rte_eth_promiscuous_get(port) == 1 || ret == -ENOTSUP;
	}
	return 0;
}

#endif
