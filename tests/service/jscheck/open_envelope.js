// Opens a gmrenew enveloped key (docs/protocol.md section 3.8) with the
// sm-crypto package, an SM2/SM4 implementation independent of OpenSSL.
// stdin: {"envelope": {...}, "recipient_private_key": "<64 hex digits>"}
// stdout: {"sm4_key": hex, "private_key": hex, "public_key": "04" + X + Y hex}
// Exit status 1 with a message on stderr when the SM2 decryption fails.
'use strict';
const {sm2, sm4} = require('sm-crypto');

function hexOf(b64) {
  return Buffer.from(b64, 'base64').toString('hex');
}

function main(input) {
  const env = input.envelope;
  const c1c3c2 = hexOf(env.encrypted_symmetric_key);
  if (!c1c3c2.startsWith('04')) throw new Error('C1 does not start with 04');
  // sm-crypto takes C1 without its 04 byte; mode 1 = C1 || C3 || C2
  const key = sm2.doDecrypt(c1c3c2.slice(2), input.recipient_private_key, 1, {output: 'array'});
  if (key.length === 0) throw new Error('SM2 decryption failed (C3 does not match)');
  const keyHex = Buffer.from(key).toString('hex');
  const priv = sm4.decrypt(hexOf(env.encrypted_private_key), keyHex,
                           {mode: 'ecb', padding: 'none', output: 'array'});
  const privHex = Buffer.from(priv).toString('hex');
  return {sm4_key: keyHex, private_key: privHex,
          public_key: sm2.getPublicKeyFromPrivateKey(privHex)};
}

let text = '';
process.stdin.on('data', (chunk) => { text += chunk; });
process.stdin.on('end', () => {
  try {
    process.stdout.write(JSON.stringify(main(JSON.parse(text))) + '\n');
  } catch (err) {
    process.stderr.write('open_envelope: ' + err.message + '\n');
    process.exit(1);
  }
});
