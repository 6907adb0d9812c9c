/*
 * tlcp_front.c - a test fixture: a TLCP (NTLS 1.1) endpoint on Tongsuo's
 * libssl in front of the reference renewal service. Each accepted
 * connection gets its own process, completes the TLCP handshake with the
 * SM2 signing and encryption certificates, opens one verified TLS
 * connection to the service and relays bytes both ways until either side
 * closes. So one client connection is one service connection, as the
 * service's request log counts them.
 *
 * tlcp_front --sign-cert F --sign-key F --enc-cert F --enc-key F
 *            --backend-port P --backend-ca F --port-file F
 *            [--suites LIST] [--offered-file F]
 *
 * --suites: the suites the front accepts (default both ECC-SM2 suites).
 * --offered-file: each handshake appends the suites the client offered, as
 * one ':'-separated line, so tests can see exactly what a client sends.
 * Listens on 127.0.0.1 at a free port, written to the port file once it
 * accepts. Exits on SIGTERM. Errors go to stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define SUITES "ECC-SM2-SM4-GCM-SM3:ECC-SM2-SM4-CBC-SM3"

struct opts {
	const char *sign_cert, *sign_key, *enc_cert, *enc_key;
	const char *backend_ca, *port_file, *suites, *offered_file;
	int backend_port;
};

static void die(const char *what)
{
	fprintf(stderr, "tlcp_front: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static int parse(int argc, char **argv, struct opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (!strcmp(k, "--sign-cert"))
			o->sign_cert = v;
		else if (!strcmp(k, "--sign-key"))
			o->sign_key = v;
		else if (!strcmp(k, "--enc-cert"))
			o->enc_cert = v;
		else if (!strcmp(k, "--enc-key"))
			o->enc_key = v;
		else if (!strcmp(k, "--backend-ca"))
			o->backend_ca = v;
		else if (!strcmp(k, "--port-file"))
			o->port_file = v;
		else if (!strcmp(k, "--suites"))
			o->suites = v;
		else if (!strcmp(k, "--offered-file"))
			o->offered_file = v;
		else if (!strcmp(k, "--backend-port"))
			o->backend_port = atoi(v);
		else
			return -1;
	}
	return i == argc && o->sign_cert && o->sign_key && o->enc_cert &&
	       o->enc_key && o->backend_ca && o->port_file &&
	       o->backend_port > 0 ? 0 : -1;
}

static SSL_CTX *tlcp_ctx(const struct opts *o)
{
	SSL_CTX *ctx = SSL_CTX_new(NTLS_server_method());

	if (!ctx)
		die("cannot create the NTLS context");
	SSL_CTX_enable_ntls(ctx);
	if (SSL_CTX_set_cipher_list(ctx, o->suites ? o->suites : SUITES) != 1 ||
	    SSL_CTX_use_sign_certificate_file(ctx, o->sign_cert,
					      SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_sign_PrivateKey_file(ctx, o->sign_key,
					     SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_enc_certificate_file(ctx, o->enc_cert,
					     SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_enc_PrivateKey_file(ctx, o->enc_key,
					    SSL_FILETYPE_PEM) != 1)
		die("cannot load the SM2 signing and encryption certificates");
	return ctx;
}

static SSL_CTX *backend_ctx(const struct opts *o)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx || SSL_CTX_load_verify_file(ctx, o->backend_ca) != 1)
		die("cannot load the service's CA");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

static int listen_local(int *port)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				 sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		die("cannot listen on 127.0.0.1");
	*port = ntohs(a.sin_port);
	return fd;
}

static int connect_local(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((unsigned short)port);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("cannot connect to the reference service");
	return fd;
}

/* Reads what one side has (and what its TLS layer buffered) and writes it
 * to the other; 0 when the side closed. A record with no data for the
 * other side (the service's TLS 1.3 session tickets) ends the read with
 * SSL_ERROR_WANT_READ, as the contexts have no SSL_MODE_AUTO_RETRY: with
 * it, the read would wait for the service's answer to a request still
 * waiting on the client's side. */
static int pump(SSL *from, SSL *to)
{
	char buf[16384];
	int n;

	do {
		n = SSL_read(from, buf, sizeof(buf));
		if (n <= 0)
			return SSL_get_error(from, n) == SSL_ERROR_WANT_READ;
		if (SSL_write(to, buf, n) != n)
			return 0;
	} while (SSL_pending(from) > 0);
	return 1;
}

static void relay(SSL *client, SSL *service)
{
	struct pollfd p[2];

	p[0].fd = SSL_get_fd(client);
	p[1].fd = SSL_get_fd(service);
	p[0].events = p[1].events = POLLIN;
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    !pump(client, service))
			return;
		if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    !pump(service, client))
			return;
	}
}

/* Appends the suites the client offered (what the server understood of
 * its hello) to path. */
static void note_offered(SSL *ssl, const char *path)
{
	STACK_OF(SSL_CIPHER) *sk = SSL_get_client_ciphers(ssl);
	FILE *f;
	int i;

	if (!path)
		return;
	f = fopen(path, "a");
	if (!f)
		die("cannot write the offered-suites file");
	for (i = 0; sk && i < sk_SSL_CIPHER_num(sk); i++)
		fprintf(f, "%s%s", i ? ":" : "",
			SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i)));
	fputc('\n', f);
	fclose(f);
}

static void serve_one(int fd, SSL_CTX *front, SSL_CTX *back,
		      const struct opts *o)
{
	SSL *client = SSL_new(front), *service = SSL_new(back);
	int bfd;

	if (!client || !service || !SSL_set_fd(client, fd))
		die("cannot set up the connection");
	if (SSL_accept(client) != 1) {
		fprintf(stderr, "tlcp_front: TLCP handshake failed\n");
		ERR_print_errors_fp(stderr);
		exit(2);
	}
	note_offered(client, o->offered_file);
	bfd = connect_local(o->backend_port);
	if (!SSL_set_fd(service, bfd) ||
	    !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(service),
					   "127.0.0.1") ||
	    SSL_connect(service) != 1)
		die("TLS to the reference service failed");
	relay(client, service);
	SSL_shutdown(client);
	SSL_shutdown(service);
	exit(0);
}

static void write_port(const char *path, int port)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 ||
	    rename(tmp, path) < 0)
		die("cannot write the port file");
}

int main(int argc, char **argv)
{
	struct opts o;
	SSL_CTX *front, *back;
	int lfd, port;

	if (parse(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: tlcp_front --sign-cert F --sign-key F "
			"--enc-cert F --enc-key F --backend-port P "
			"--backend-ca F --port-file F\n");
		return 2;
	}
	signal(SIGCHLD, SIG_IGN);	/* children are reaped by the kernel */
	signal(SIGPIPE, SIG_IGN);
	front = tlcp_ctx(&o);
	back = backend_ctx(&o);
	/* a read returns after any record: relay() goes back to poll */
	SSL_CTX_clear_mode(front, SSL_MODE_AUTO_RETRY);
	SSL_CTX_clear_mode(back, SSL_MODE_AUTO_RETRY);
	lfd = listen_local(&port);
	write_port(o.port_file, port);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		pid_t pid;

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			die("accept failed");
		}
		pid = fork();
		if (pid == 0) {
			close(lfd);
			serve_one(fd, front, back, &o);
		}
		close(fd);
	}
}
