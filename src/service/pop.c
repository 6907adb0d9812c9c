/* pop.c - the signed bytes of a proof of possession, base64 and SHA-256. */
#include <string.h>

#include <openssl/evp.h>

#include "service_internal.h"

#define POP_PREFIX "gmrenew-pop-v1\n"

char *gm_svc_b64_encode(const unsigned char *p, size_t n)
{
	size_t cap = 4 * ((n + 2) / 3) + 1;
	char *out = gm_xmalloc(cap);

	/* EVP_EncodeBlock writes no line breaks, with padding */
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	out[cap - 1] = '\0';
	return out;
}

static int b64_char_ok(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int gm_svc_b64_decode(const char *text, unsigned char **out, size_t *len)
{
	size_t n, i, pad = 0;
	unsigned char *buf;
	int got;

	*out = NULL;
	*len = 0;
	if (!text)
		return -1;
	n = strlen(text);
	if (n == 0 || n % 4 || n > (size_t)1 << 30)
		return -1;
	if (text[n - 1] == '=')
		pad = text[n - 2] == '=' ? 2 : 1;
	for (i = 0; i < n - pad; i++)
		if (!b64_char_ok(text[i]))
			return -1;
	buf = gm_xmalloc(n / 4 * 3 + 1);
	got = EVP_DecodeBlock(buf, (const unsigned char *)text, (int)n);
	if (got < 0 || (size_t)got < pad) {
		free(buf);
		return -1;
	}
	*out = buf;	/* caller frees */
	*len = (size_t)got - pad;
	return 0;
}

void gm_svc_sha256_hex(const unsigned char *p, size_t n, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0;
	size_t i;

	EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

int gm_svc_pop_message(const char *challenge, const char *method,
		       const char *path, const unsigned char *body,
		       size_t body_len, char **out, size_t *out_len,
		       gm_error *err)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char *digest;

	*out = NULL;
	*out_len = 0;
	if (!challenge || !*challenge || !method || !path || path[0] != '/')
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "cannot build the proof of possession: "
			       "challenge, method or path missing");
	if (EVP_Digest(body ? body : (const unsigned char *)"", body_len,
		       md, &mdlen, EVP_sha256(), NULL) != 1)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "cannot compute SHA-256 of the request body");
	digest = gm_svc_b64_encode(md, sizeof(md));
	*out = gm_xasprintf(POP_PREFIX "%s\n%s %s\n%s", challenge, method,
			    path, digest);	/* caller frees */
	*out_len = strlen(*out);
	free(digest);
	return 0;
}
