// SPDX-License-Identifier: GPL-2.0
/*
 * TLS 1.3 on migration connections, with the record layer in the kernel.
 *
 * GnuTLS runs the handshake (x509 certificates checked against a CA both
 * ways, or a pre-shared key); the session's traffic keys then go to kernel
 * TLS (TCP_ULP "tls", SOL_TLS TLS_TX and TLS_RX) and GnuTLS steps aside.
 * Everything after the handshake, control messages and tern.ko's page
 * stream spliced into the socket alike, is sealed by the kernel with no
 * userspace copy.
 *
 * Kernel TLS runs on TCP only and, on 6.1, takes no post-handshake
 * messages: neither end sends session tickets, and neither asks for a key
 * update (AES-GCM's limit is some 2^24 records, over 300 GB).
 */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <linux/tls.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "migration/internal.h"

#ifndef SOL_TLS
#define SOL_TLS		282
#endif

#define PSK_IDENTITY_MAX	64
#define PSK_KEY_MIN		16	/* bytes */
#define PSK_KEY_MAX		64

/* TLS 1.3 only, with the AEADs kernel TLS implements. */
#define PRIO_BASE	"NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:" \
			"+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305"
#define PRIO_PSK	PRIO_BASE ":-KX-ALL:+ECDHE-PSK:+DHE-PSK"

struct mig_tls {
	char what[160];			/* "x509 DIR" or "PSK FILE": for messages */
	bool psk;
	/* x509: one per role; NULL where DIR has no key pair for it */
	gnutls_certificate_credentials_t server, client;
	gnutls_psk_server_credentials_t psk_server;
	gnutls_psk_client_credentials_t psk_client;
	char identity[PSK_IDENTITY_MAX + 1];
	uint8_t key[PSK_KEY_MAX];
	unsigned int key_len;
};

/* Private material no one else may read, as ssh asks of its keys. */
static int check_private(const char *path, char *why, size_t len)
{
	struct stat st;

	if (stat(path, &st)) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (st.st_mode & 077) {
		snprintf(why, len, "%s: readable by others (mode %03o): chmod 600 it",
			 path, st.st_mode & 0777);
		return -EPERM;
	}
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One "IDENTITY:HEXKEY" line; blank lines and '#' comments around it. */
static int psk_parse(struct mig_tls *t, const char *file, char *why, size_t len)
{
	char line[PSK_IDENTITY_MAX + 2 * PSK_KEY_MAX + 8], *colon, *hex, *end;
	unsigned int lineno = 0, keys = 0;
	size_t ilen, hlen, i;
	FILE *f;
	int hi, lo, ret = 0;

	f = fopen(file, "re");
	if (!f) {
		snprintf(why, len, "%s: %s", file, strerror(errno));
		return -errno;
	}
	while (!ret && fgets(line, sizeof(line), f)) {
		lineno++;
		end = line + strcspn(line, "\r\n");
		if (!*end && !feof(f)) {
			snprintf(why, len, "%s:%u: line too long", file, lineno);
			ret = -EINVAL;
			break;
		}
		*end = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		colon = strchr(line, ':');
		hex = colon ? colon + 1 : NULL;
		ilen = colon ? (size_t)(colon - line) : 0;
		hlen = hex ? strlen(hex) : 0;
		if (!colon || !ilen || ilen > PSK_IDENTITY_MAX ||
		    strspn(line, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != ilen) {
			snprintf(why, len, "%s:%u: want IDENTITY:HEXKEY (identity of 1 to %d letters, digits, '.', '_', '-')",
				 file, lineno, PSK_IDENTITY_MAX);
			ret = -EINVAL;
			break;
		}
		if (hlen % 2 || hlen < 2 * PSK_KEY_MIN || hlen > 2 * PSK_KEY_MAX) {
			snprintf(why, len, "%s:%u: key of %zu hex digits (want an even count from %d to %d)",
				 file, lineno, hlen, 2 * PSK_KEY_MIN, 2 * PSK_KEY_MAX);
			ret = -EINVAL;
			break;
		}
		if (keys++) {
			snprintf(why, len, "%s:%u: a second key (one per file)", file, lineno);
			ret = -EINVAL;
			break;
		}
		for (i = 0; i < hlen / 2; i++) {
			hi = hexval(hex[2 * i]);
			lo = hexval(hex[2 * i + 1]);
			if (hi < 0 || lo < 0) {
				snprintf(why, len, "%s:%u: '%c' in the key is not a hex digit",
					 file, lineno, hi < 0 ? hex[2 * i] : hex[2 * i + 1]);
				ret = -EINVAL;
				break;
			}
			t->key[i] = hi << 4 | lo;
		}
		memcpy(t->identity, line, ilen);
		t->identity[ilen] = '\0';
		t->key_len = hlen / 2;
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);
	if (!ret && !keys) {
		snprintf(why, len, "%s: no IDENTITY:HEXKEY line", file);
		ret = -EINVAL;
	}
	return ret;
}

/* The server's lookup: only our one identity has a key. */
static int psk_lookup(gnutls_session_t s, const char *identity,
		      gnutls_datum_t *key)
{
	struct mig_tls *t = gnutls_session_get_ptr(s);

	if (strcmp(identity, t->identity))
		return -1;
	key->data = gnutls_malloc(t->key_len);
	if (!key->data)
		return -1;
	memcpy(key->data, t->key, t->key_len);
	key->size = t->key_len;
	return 0;
}

static int psk_load(struct mig_tls *t, const char *file, char *why, size_t len)
{
	gnutls_datum_t key;
	int ret;

	ret = check_private(file, why, len);
	if (!ret)
		ret = psk_parse(t, file, why, len);
	if (ret)
		return ret;
	key = (gnutls_datum_t){ .data = t->key, .size = t->key_len };
	if (gnutls_psk_allocate_server_credentials(&t->psk_server) ||
	    gnutls_psk_allocate_client_credentials(&t->psk_client) ||
	    gnutls_psk_set_client_credentials(t->psk_client, t->identity, &key,
					      GNUTLS_PSK_KEY_RAW)) {
		snprintf(why, len, "%s: cannot set up PSK credentials", file);
		return -ENOMEM;
	}
	gnutls_psk_set_server_credentials_function(t->psk_server, psk_lookup);
	return 0;
}

/* DIR/ROLE-cert.pem and DIR/ROLE-key.pem: both, or neither (NULL). */
static int x509_role(const char *dir, const char *role, const char *ca,
		     const char *crl, gnutls_certificate_credentials_t *out,
		     char *why, size_t len)
{
	char cert[4096], key[4096];
	gnutls_certificate_credentials_t c;
	bool has_cert, has_key;
	int r;

	snprintf(cert, sizeof(cert), "%s/%s-cert.pem", dir, role);
	snprintf(key, sizeof(key), "%s/%s-key.pem", dir, role);
	has_cert = !access(cert, F_OK);
	has_key = !access(key, F_OK);
	if (!has_cert && !has_key)
		return 0;
	if (has_cert != has_key) {
		snprintf(why, len, "%s: no %s for it", has_cert ? cert : key,
			 has_cert ? key : cert);
		return -ENOENT;
	}
	r = check_private(key, why, len);
	if (r)
		return r;
	if (gnutls_certificate_allocate_credentials(&c)) {
		snprintf(why, len, "no memory for credentials");
		return -ENOMEM;
	}
	r = gnutls_certificate_set_x509_trust_file(c, ca, GNUTLS_X509_FMT_PEM);
	if (r <= 0) {
		snprintf(why, len, "%s: %s", ca,
			 r ? gnutls_strerror(r) : "no certificate in it");
		goto err;
	}
	if (crl) {
		r = gnutls_certificate_set_x509_crl_file(c, crl, GNUTLS_X509_FMT_PEM);
		if (r < 0) {
			snprintf(why, len, "%s: %s", crl, gnutls_strerror(r));
			goto err;
		}
	}
	r = gnutls_certificate_set_x509_key_file(c, cert, key, GNUTLS_X509_FMT_PEM);
	if (r < 0) {
		snprintf(why, len, "%s with %s: %s", cert, key, gnutls_strerror(r));
		goto err;
	}
	*out = c;
	return 0;
err:
	gnutls_certificate_free_credentials(c);
	return -EINVAL;
}

static int x509_load(struct mig_tls *t, const char *dir, char *why, size_t len)
{
	char ca[4096], crl[4096];
	bool has_crl;
	int ret;

	snprintf(ca, sizeof(ca), "%s/ca-cert.pem", dir);
	snprintf(crl, sizeof(crl), "%s/ca-crl.pem", dir);
	if (access(ca, R_OK)) {
		snprintf(why, len, "%s: %s", ca, strerror(errno));
		return -errno;
	}
	has_crl = !access(crl, F_OK);
	ret = x509_role(dir, "server", ca, has_crl ? crl : NULL, &t->server, why, len);
	if (!ret)
		ret = x509_role(dir, "client", ca, has_crl ? crl : NULL, &t->client, why, len);
	if (!ret && !t->server && !t->client) {
		snprintf(why, len, "%s: neither server-cert.pem/server-key.pem nor client-cert.pem/client-key.pem",
			 dir);
		ret = -ENOENT;
	}
	return ret;
}

struct mig_tls *mig__tls_load(const char *creds_dir, const char *psk_file,
			      char *why, size_t len)
{
	struct mig_tls *t;
	int ret;

	if (!creds_dir == !psk_file) {
		snprintf(why, len, "TLS: x509 credentials or a PSK file, one of them");
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(why, len, "no memory");
		return NULL;
	}
	t->psk = psk_file;
	snprintf(t->what, sizeof(t->what), "%s %s", t->psk ? "PSK" : "x509",
		 t->psk ? psk_file : creds_dir);
	ret = t->psk ? psk_load(t, psk_file, why, len) :
		       x509_load(t, creds_dir, why, len);
	if (ret) {
		mig__tls_free(t);
		return NULL;
	}
	return t;
}

void mig__tls_free(struct mig_tls *t)
{
	if (!t)
		return;
	if (t->server)
		gnutls_certificate_free_credentials(t->server);
	if (t->client)
		gnutls_certificate_free_credentials(t->client);
	if (t->psk_server)
		gnutls_psk_free_server_credentials(t->psk_server);
	if (t->psk_client)
		gnutls_psk_free_client_credentials(t->psk_client);
	explicit_bzero(t->key, sizeof(t->key));
	free(t);
}

void mig__set_tls(struct mig *mig, struct mig_tls *t)
{
	mig__tls_free(mig->tls);
	mig->tls = t;
}

/*
 * The kernel's crypto_info structs share one layout, byte arrays after
 * the header: iv, key, salt, rec_seq.  TLS 1.3's per-record nonce is
 * salt || iv, which GnuTLS hands over whole as its IV.
 */
struct ktls_cipher {
	gnutls_cipher_algorithm_t alg;
	uint16_t type;
	size_t size, iv, iv_len, key, key_len, salt, salt_len, seq;
};

#define KTLS_CIPHER(a, t, st, NAME)					\
	{ a, t, sizeof(struct st), offsetof(struct st, iv),		\
	  TLS_CIPHER_##NAME##_IV_SIZE, offsetof(struct st, key),	\
	  TLS_CIPHER_##NAME##_KEY_SIZE, offsetof(struct st, salt),	\
	  TLS_CIPHER_##NAME##_SALT_SIZE, offsetof(struct st, rec_seq) }

static const struct ktls_cipher ktls_ciphers[] = {
	KTLS_CIPHER(GNUTLS_CIPHER_AES_128_GCM, TLS_CIPHER_AES_GCM_128,
		    tls12_crypto_info_aes_gcm_128, AES_GCM_128),
	KTLS_CIPHER(GNUTLS_CIPHER_AES_256_GCM, TLS_CIPHER_AES_GCM_256,
		    tls12_crypto_info_aes_gcm_256, AES_GCM_256),
	KTLS_CIPHER(GNUTLS_CIPHER_CHACHA20_POLY1305, TLS_CIPHER_CHACHA20_POLY1305,
		    tls12_crypto_info_chacha20_poly1305, CHACHA20_POLY1305),
};

/* One direction's keys to the kernel: TLS_TX (ours) or TLS_RX (the peer's). */
static int ktls_set(gnutls_session_t s, int fd, int dir, char *why, size_t len)
{
	gnutls_cipher_algorithm_t alg = gnutls_cipher_get(s);
	const struct ktls_cipher *k = NULL;
	unsigned char ci[64], seq[8];
	struct tls_crypto_info *info = (struct tls_crypto_info *)ci;
	gnutls_datum_t iv, key;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < sizeof(ktls_ciphers) / sizeof(ktls_ciphers[0]); i++)
		if (ktls_ciphers[i].alg == alg)
			k = &ktls_ciphers[i];
	if (!k) {
		snprintf(why, len, "cipher %s has no kernel TLS", gnutls_cipher_get_name(alg));
		return -EPROTONOSUPPORT;
	}
	if (gnutls_record_get_state(s, dir == TLS_RX, NULL, &iv, &key, seq) ||
	    iv.size != k->salt_len + k->iv_len || key.size != k->key_len ||
	    k->size > sizeof(ci)) {
		snprintf(why, len, "%s: unexpected key material from the TLS library",
			 gnutls_cipher_get_name(alg));
		return -EPROTO;
	}
	memset(ci, 0, sizeof(ci));
	info->version = TLS_1_3_VERSION;
	info->cipher_type = k->type;
	memcpy(ci + k->salt, iv.data, k->salt_len);
	memcpy(ci + k->iv, iv.data + k->salt_len, k->iv_len);
	memcpy(ci + k->key, key.data, k->key_len);
	memcpy(ci + k->seq, seq, sizeof(seq));
	if (setsockopt(fd, SOL_TLS, dir, ci, k->size)) {
		ret = -errno;
		snprintf(why, len, "kernel TLS refused the %s keys (%s): %s",
			 dir == TLS_TX ? "send" : "receive",
			 gnutls_cipher_get_name(alg), strerror(errno));
	}
	explicit_bzero(ci, sizeof(ci));
	return ret;
}

/* Why a handshake failed, in the words a user can act on. */
static void handshake_why(gnutls_session_t s, int r, bool server,
			  char *why, size_t len)
{
	gnutls_datum_t out;

	switch (r) {
	case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
		if (!gnutls_certificate_verification_status_print(
				gnutls_session_get_verify_cert_status(s),
				GNUTLS_CRT_X509, &out, 0)) {
			snprintf(why, len, "the %s's certificate: %s",
				 server ? "source" : "destination", out.data);
			gnutls_free(out.data);
			return;
		}
		break;
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		snprintf(why, len, "the %s refused us: %s",
			 server ? "source" : "destination",
			 gnutls_alert_get_name(gnutls_alert_get(s)));
		return;
	case GNUTLS_E_PREMATURE_TERMINATION:
	case GNUTLS_E_PULL_ERROR:
	case GNUTLS_E_PUSH_ERROR:
		snprintf(why, len, "the %s closed the connection in the handshake (no TLS there, or it refused us: see its log)",
			 server ? "source" : "destination");
		return;
	case GNUTLS_E_CERTIFICATE_REQUIRED:
		snprintf(why, len, "the source sent no certificate from our CA (none in its client-cert.pem, or one from another CA)");
		return;
	case GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER:
	case GNUTLS_E_DECRYPTION_FAILED:
		if (((struct mig_tls *)gnutls_session_get_ptr(s))->psk) {
			snprintf(why, len, "the %s's pre-shared key is not ours (%s)",
				 server ? "source" : "destination", gnutls_strerror(r));
			return;
		}
		break;
	}
	snprintf(why, len, "%s", gnutls_strerror(r));
}

/* A waiting destination's first byte: a TLS handshake record is 0x16. */
static int peek_plaintext(struct mig *mig, int fd, uint64_t deadline_ns,
			  char *why, size_t len)
{
	struct pollfd pfd[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = mig->cancel_fd, .events = POLLIN },
	};
	uint64_t now = mig_now_ns();
	uint8_t b;
	int ret;

	do
		ret = poll(pfd, 2, now >= deadline_ns ? 0 :
			   (int)((deadline_ns - now) / 1000000 + 1));
	while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	if (pfd[1].revents)
		return -ECANCELED;
	if (!ret) {
		snprintf(why, len, "no ClientHello in time");
		return -ETIMEDOUT;
	}
	if (recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1 && b != 0x16) {
		snprintf(why, len, "the peer speaks plaintext (a source without --tls-creds or --tls-psk?)");
		return -EPROTO;
	}
	return 0;
}

static int handshake_run(struct mig *mig, gnutls_session_t s, int fd,
			 bool server, uint64_t deadline_ns, char *why, size_t len)
{
	struct pollfd pfd[2] = {
		{ .fd = fd },
		{ .fd = mig->cancel_fd, .events = POLLIN },
	};
	uint64_t now;
	int r, ret;

	for (;;) {
		r = gnutls_handshake(s);
		if (!r)
			return 0;
		if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED) {
			handshake_why(s, r, server, why, len);
			return -EACCES;
		}
		now = mig_now_ns();
		if (now >= deadline_ns) {
			snprintf(why, len, "no TLS handshake in time");
			return -ETIMEDOUT;
		}
		pfd[0].events = gnutls_record_get_direction(s) ? POLLOUT : POLLIN;
		ret = poll(pfd, 2, (int)((deadline_ns - now) / 1000000 + 1));
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret > 0 && pfd[1].revents)
			return -ECANCELED;
	}
}

static bool is_address(const char *host)
{
	struct in6_addr a;

	return inet_pton(AF_INET, host, &a) == 1 ||
	       inet_pton(AF_INET6, host, &a) == 1;
}

int mig_tls_handshake(struct mig *mig, int fd, bool server, const char *host,
		      uint64_t deadline_ns, char *why, size_t len)
{
	struct mig_tls *t = mig->tls;
	gnutls_session_t s;
	void *creds;
	int r, ret;

	if (!t)
		return 0;
	creds = t->psk ? (server ? (void *)t->psk_server : (void *)t->psk_client) :
			 (server ? (void *)t->server : (void *)t->client);
	if (!creds) {
		snprintf(why, len, "%s has no %s-cert.pem/%s-key.pem to %s with",
			 t->what, server ? "server" : "client",
			 server ? "server" : "client", server ? "receive" : "send");
		return -ENOENT;
	}
	/* First, so a missing `tls` module or a unix socket says so plainly. */
	if (setsockopt(fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls"))) {
		ret = -errno;
		snprintf(why, len, "%s", errno == ENOENT ?
			 "no kernel TLS here (modprobe tls)" :
			 "kernel TLS runs on TCP connections only (a tcp: URI)");
		return ret;
	}
	if (server) {
		ret = peek_plaintext(mig, fd, deadline_ns, why, len);
		if (ret)
			return ret;
	}
	if (gnutls_init(&s, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) |
			    GNUTLS_NONBLOCK | GNUTLS_NO_TICKETS)) {
		snprintf(why, len, "no memory for a session");
		return -ENOMEM;
	}
	gnutls_session_set_ptr(s, t);
	r = gnutls_priority_set_direct(s, t->psk ? PRIO_PSK : PRIO_BASE, NULL);
	if (!r)
		r = gnutls_credentials_set(s, t->psk ? GNUTLS_CRD_PSK :
					   GNUTLS_CRD_CERTIFICATE, creds);
	if (!r && !t->psk && server) {
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
		gnutls_session_set_verify_cert(s, NULL, 0);
	} else if (!r && !t->psk) {
		/* A name, not an address, goes in SNI (RFC 6066). */
		if (!is_address(host))
			r = gnutls_server_name_set(s, GNUTLS_NAME_DNS, host,
						   strlen(host));
		gnutls_session_set_verify_cert(s, host, 0);
	}
	if (r) {
		snprintf(why, len, "session setup: %s", gnutls_strerror(r));
		ret = -EINVAL;
		goto out;
	}
	gnutls_transport_set_int(s, fd);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	ret = handshake_run(mig, s, fd, server, deadline_ns, why, len);
	if (ret)
		goto out;
	/* Bytes GnuTLS read past the handshake would never reach the kernel. */
	if (gnutls_record_check_pending(s)) {
		snprintf(why, len, "data came with the handshake");
		ret = -EPROTO;
		goto out;
	}
	ret = ktls_set(s, fd, TLS_TX, why, len);
	if (!ret)
		ret = ktls_set(s, fd, TLS_RX, why, len);
out:
	gnutls_deinit(s);
	return ret;
}

