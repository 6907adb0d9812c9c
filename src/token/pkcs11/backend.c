/*
 * backend.c - the PKCS#11 backend's table of operations (backend.h).
 */
#include "p11.h"

const gm_token_backend gm_pkcs11_backend = {
	.name = "pkcs11",
	.open = p11_open,
	.close = p11_close,
	.library_info = p11_library_info,
	.tokens = p11_tokens,
	.select = p11_select,
	.detect_profile = p11_detect_profile,
	.session_open = p11_session_open,
	.session_close = p11_session_close,
	.pin_state = p11_pin_state,
	.login = p11_login,
	.snapshot = p11_snapshot,
	.private_keys = p11_private_keys,
	.read_cert = p11_read_cert,
	.generate_keypair = p11_generate_keypair,
	.sign_digest = p11_sign_digest,
	.store_cert = p11_store_cert,
	.destroy = p11_destroy,
	.relabel = p11_relabel,
	.import_envelope = p11_import_envelope,
	.store_enc_cert = p11_store_enc_cert,
	.read_encryption = p11_read_encryption,
	.can_import = p11_can_import,
	.enc_pair = p11_enc_pair,
};
