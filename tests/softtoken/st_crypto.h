/* st_crypto.h - SM2 and X.509 helpers of the soft ePass3000GM (OpenSSL 3).
 * All functions return CKR_OK or a CK_RV saying what failed. */
#ifndef GMSOFT_CRYPTO_H
#define GMSOFT_CRYPTO_H

#include "st_common.h"

/* A new SM2 key pair as PKCS#8 PEM; caller frees *pem. */
CK_RV gmsoft_sm2_generate(char **pem);
/* Re-encode an SM2 private key PEM (SM2 or EC key on the SM2 curve) as
 * PKCS#8 PEM of key type SM2; caller frees *out. */
CK_RV gmsoft_sm2_normalise(const char *pem, char **out);
/* The uncompressed public point 04||x||y of a private key PEM. */
CK_RV gmsoft_sm2_point(const char *pem, unsigned char point[GMSOFT_SM2_POINT_LEN]);
/* Sign a finished digest e (at most 32 bytes): raw r||s. */
CK_RV gmsoft_sm2_sign(const char *pem, const unsigned char *dgst, size_t len,
		      unsigned char sig[GMSOFT_SM2_SIG_LEN]);
/* CKR_OK when sig (raw r||s) is valid for dgst under point, else
 * CKR_SIGNATURE_INVALID. */
CK_RV gmsoft_sm2_verify(const unsigned char point[GMSOFT_SM2_POINT_LEN],
			const unsigned char *dgst, size_t len,
			const unsigned char sig[GMSOFT_SM2_SIG_LEN]);
/* A SubjectPublicKeyInfo PEM for point; caller frees *pem. */
CK_RV gmsoft_sm2_pub_pem(const unsigned char point[GMSOFT_SM2_POINT_LEN],
			 char **pem);
/* DER SEQUENCE { r, s } from raw r||s; caller frees *der. */
CK_RV gmsoft_sig_to_der(const unsigned char sig[GMSOFT_SM2_SIG_LEN],
			unsigned char **der, size_t *len);

/* A DER blob, owned by whoever holds the struct. */
struct gmsoft_blob {
	unsigned char *data;
	size_t len;
};

/* Subject, issuer and serial number (DER INTEGER) of a DER certificate.
 * CKR_DATA_INVALID when der is not a certificate. Caller frees the blobs. */
CK_RV gmsoft_cert_fields(const unsigned char *der, size_t len,
			 struct gmsoft_blob *subject, struct gmsoft_blob *issuer,
			 struct gmsoft_blob *serial);
/* Read a certificate file, PEM or DER, into DER; caller frees. */
CK_RV gmsoft_cert_read_file(const char *path, struct gmsoft_blob *der);

/* r||s to the 128-byte ECCSIGNATUREBLOB (r in bytes 32-63, s in 96-127,
 * zeros before each) and back; a blob with non-zero padding is
 * CKR_SIGNATURE_INVALID. */
void gmsoft_sig_to_blob(const unsigned char rs[GMSOFT_SM2_SIG_LEN],
			unsigned char blob[GMSOFT_SM2_BLOB_LEN]);
CK_RV gmsoft_blob_to_sig(const unsigned char blob[GMSOFT_SM2_BLOB_LEN],
			 unsigned char rs[GMSOFT_SM2_SIG_LEN]);

/* For the SKF side. An SM2 private key PEM from the scalar d (32 bytes,
 * big-endian; CKR_DATA_INVALID when not in [1, n-1]). */
CK_RV gmsoft_sm2_from_scalar(const unsigned char d[32], char **pem);
/* SM2 encryption (GM/T 0003.4) as OpenSSL does it: the ciphertext is the
 * DER SEQUENCE { x, y, C3, C2 }. Callers free *out / *der. Decryption
 * failures are CKR_ENCRYPTED_DATA_INVALID. */
CK_RV gmsoft_sm2_decrypt(const char *pem, const unsigned char *der, size_t len,
			 unsigned char **out, size_t *outlen);
CK_RV gmsoft_sm2_encrypt(const unsigned char point[GMSOFT_SM2_POINT_LEN],
			 const unsigned char *in, size_t len,
			 unsigned char **der, size_t *derlen);
/* SM4-ECB without padding; len a multiple of 16. */
CK_RV gmsoft_sm4_ecb_decrypt(const unsigned char key[16],
			     const unsigned char *in, size_t len,
			     unsigned char *out);
/* An SM2 ciphertext by parts: C1 = (x, y), C3 = hash, C2. */
struct gmsoft_sm2_cipher {
	unsigned char x[32], y[32], hash[32];
	unsigned char *c2; /* owned when filled by _from_der */
	size_t c2len;
};
CK_RV gmsoft_sm2_cipher_to_der(const struct gmsoft_sm2_cipher *c,
			       unsigned char **der, size_t *len);
CK_RV gmsoft_sm2_cipher_from_der(const unsigned char *der, size_t len,
				 struct gmsoft_sm2_cipher *c);
/* Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA) (GM/T 0003.2). */
CK_RV gmsoft_sm2_z(const unsigned char point[GMSOFT_SM2_POINT_LEN],
		   const unsigned char *id, size_t idlen, unsigned char z[32]);

#endif
