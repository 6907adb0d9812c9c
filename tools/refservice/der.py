"""Minimal DER encoding and decoding for the reference renewal service.

Only what the service needs to assemble and read X.509 certificates and
PKCS#10 requests: the cryptography itself is done by the `openssl` command.
"""

import datetime

# Universal tags used here.
BOOLEAN, INTEGER, BIT_STRING, OCTET_STRING, NULL, OID = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
UTF8_STRING, PRINTABLE_STRING, IA5_STRING = 0x0C, 0x13, 0x16
T61_STRING, BMP_STRING, UNIVERSAL_STRING = 0x14, 0x1E, 0x1C
UTC_TIME, GENERALIZED_TIME = 0x17, 0x18
SEQUENCE, SET = 0x30, 0x31

OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
OID_CURVE_SM2 = "1.2.156.10197.1.301"
OID_CURVE_P256 = "1.2.840.10045.3.1.7"
OID_SM2_WITH_SM3 = "1.2.156.10197.1.501"
OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2"

NAME_TYPES = {
    "CN": "2.5.4.3", "SN": "2.5.4.4", "SERIALNUMBER": "2.5.4.5", "C": "2.5.4.6",
    "L": "2.5.4.7", "ST": "2.5.4.8", "STREET": "2.5.4.9", "O": "2.5.4.10",
    "OU": "2.5.4.11", "T": "2.5.4.12", "DC": "0.9.2342.19200300.100.1.25",
    "UID": "0.9.2342.19200300.100.1.1", "EMAILADDRESS": "1.2.840.113549.1.9.1",
}
NAME_LABELS = {v: k for k, v in NAME_TYPES.items()}
NAME_LABELS["2.5.4.5"] = "serialNumber"
NAME_LABELS["1.2.840.113549.1.9.1"] = "emailAddress"


class DERError(ValueError):
    """Raised for input that is not the expected DER."""


# ---------------------------------------------------------------- encoding

def tlv(tag, content):
    """Encode one tag-length-value."""
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def seq(*items):
    """SEQUENCE of already encoded items."""
    return tlv(SEQUENCE, b"".join(items))


def set_of(*items):
    """SET OF already encoded items (DER order)."""
    return tlv(SET, b"".join(sorted(items)))


def integer(value):
    """INTEGER from a Python int."""
    length = max(1, (value.bit_length() + 8) // 8)
    return tlv(INTEGER, value.to_bytes(length, "big", signed=True))


def oid(dotted):
    """OBJECT IDENTIFIER from dotted text."""
    parts = [int(p) for p in dotted.split(".")]
    body = bytearray([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.append(0x80 | (part & 0x7F))
            part >>= 7
        body.extend(reversed(chunk))
    return tlv(OID, bytes(body))


def boolean(value):
    """BOOLEAN."""
    return tlv(BOOLEAN, b"\xff" if value else b"\x00")


def octet_string(data):
    """OCTET STRING."""
    return tlv(OCTET_STRING, data)


def bit_string(data, unused=0):
    """BIT STRING with the given number of unused bits in the last byte."""
    return tlv(BIT_STRING, bytes([unused]) + data)


def explicit(number, content):
    """Context-specific constructed tag [number] around encoded content."""
    return tlv(0xA0 | number, content)


def time_value(when):
    """UTCTime before 2050, GeneralizedTime from 2050 on (RFC 5280)."""
    when = when.astimezone(datetime.timezone.utc)
    if 1950 <= when.year < 2050:
        return tlv(UTC_TIME, when.strftime("%y%m%d%H%M%SZ").encode())
    return tlv(GENERALIZED_TIME, when.strftime("%Y%m%d%H%M%SZ").encode())


def algorithm(dotted):
    """AlgorithmIdentifier without parameters (SM2-with-SM3, ECDSA)."""
    return seq(oid(dotted))


# ---------------------------------------------------------------- names

def _split_rdns(text):
    """Split an RFC 2253 string at unescaped commas, undoing escapes."""
    parts, current, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i + 1])
            i += 2
            continue
        if ch == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def encode_name(text):
    """Name DER from an RFC 2253 style string ("CN=a,OU=b,O=c,C=CN").

    As in RFC 2253 the string lists the most specific RDN first, so the DER
    sequence is in the reverse order. Values are UTF8String, except C and
    serialNumber (PrintableString)."""
    rdns = []
    for part in _split_rdns(text):
        key, sep, value = part.partition("=")
        key = key.strip().upper()
        if not sep or key not in NAME_TYPES or not value:
            raise DERError("bad name component: %r" % part)
        kind = PRINTABLE_STRING if key in ("C", "SERIALNUMBER") else UTF8_STRING
        atv = seq(oid(NAME_TYPES[key]), tlv(kind, value.encode("utf-8")))
        rdns.append(set_of(atv))
    if not rdns:
        raise DERError("empty name")
    return seq(*reversed(rdns))


def _escape(value):
    """RFC 2253 escaping of special characters (non-ASCII kept as is)."""
    out = []
    for i, ch in enumerate(value):
        if ch in ',+"\\<>;' or (ch == "#" and i == 0) or (ch == " " and i in (0, len(value) - 1)):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _decode_string(tag, content):
    """Text of a directory string."""
    if tag == BMP_STRING:
        return content.decode("utf-16-be")
    if tag == UNIVERSAL_STRING:
        return content.decode("utf-32-be")
    if tag == T61_STRING:
        return content.decode("latin-1")
    return content.decode("utf-8")


def name_to_text(name_der):
    """RFC 2253 display string of a DER Name (most specific RDN first)."""
    rdns = []
    for rdn in children(name_der):
        atvs = []
        for atv in children(rdn):
            type_der, value_der = children(atv)
            dotted = decode_oid(type_der)
            tag, content = read_tlv(value_der)
            atvs.append("%s=%s" % (NAME_LABELS.get(dotted, dotted), _escape(_decode_string(tag, content))))
        rdns.append("+".join(atvs))
    return ",".join(reversed(rdns))


# ---------------------------------------------------------------- decoding

def read_element(data, pos=0):
    """Return (tag, header_length, content_length) of the element at pos."""
    if pos + 2 > len(data):
        raise DERError("truncated")
    tag, first = data[pos], data[pos + 1]
    if tag & 0x1F == 0x1F:
        raise DERError("multi-byte tags not supported")
    if first < 0x80:
        return tag, 2, first
    count = first & 0x7F
    if count == 0 or count > 4 or pos + 2 + count > len(data):
        raise DERError("bad length")
    length = int.from_bytes(data[pos + 2:pos + 2 + count], "big")
    return tag, 2 + count, length


def split(data, pos=0):
    """Return (element_bytes, next_pos) for the element at pos."""
    _, hlen, clen = read_element(data, pos)
    end = pos + hlen + clen
    if end > len(data):
        raise DERError("truncated")
    return data[pos:end], end


def read_tlv(element):
    """Return (tag, content) of a single complete element."""
    tag, hlen, clen = read_element(element)
    if hlen + clen != len(element):
        raise DERError("trailing data")
    return tag, element[hlen:]


def children(element):
    """List of the encoded child elements of a constructed element."""
    tag, content = read_tlv(element)
    if not tag & 0x20:
        raise DERError("not constructed")
    items, pos = [], 0
    while pos < len(content):
        item, pos = split(content, pos)
        items.append(item)
    return items


def decode_oid(element):
    """Dotted text of an OBJECT IDENTIFIER element."""
    tag, content = read_tlv(element)
    if tag != OID or not content:
        raise DERError("not an OID")
    values, acc = [], 0
    for byte in content:
        acc = (acc << 7) | (byte & 0x7F)
        if not byte & 0x80:
            values.append(acc)
            acc = 0
    first = min(values[0] // 40, 2)
    return ".".join(str(v) for v in [first, values[0] - 40 * first] + values[1:])


def decode_integer(element):
    """Python int of an INTEGER element."""
    tag, content = read_tlv(element)
    if tag != INTEGER or not content:
        raise DERError("not an INTEGER")
    return int.from_bytes(content, "big", signed=True)


def decode_time(element):
    """Aware UTC datetime of a UTCTime or GeneralizedTime element."""
    tag, content = read_tlv(element)
    text = content.decode("ascii")
    if tag == UTC_TIME:
        when = datetime.datetime.strptime(text, "%y%m%d%H%M%SZ")
    elif tag == GENERALIZED_TIME:
        when = datetime.datetime.strptime(text, "%Y%m%d%H%M%SZ")
    else:
        raise DERError("not a time")
    return when.replace(tzinfo=datetime.timezone.utc)


def pem_to_der(text):
    """DER bytes of the first PEM block in text."""
    import base64
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith("-----BEGIN"):
            inside = True
        elif line.startswith("-----END"):
            break
        elif inside:
            lines.append(line.strip())
    if not lines:
        raise DERError("no PEM block")
    return base64.b64decode("".join(lines))


def der_to_pem(der, label):
    """PEM text of DER bytes."""
    import base64
    body = base64.b64encode(der).decode()
    rows = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, "\n".join(rows), label)
