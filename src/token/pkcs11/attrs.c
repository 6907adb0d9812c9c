/*
 * attrs.c - reading attributes: the one C_GetAttributeValue wrapper, which
 * checks every length the module reports against the buffer it was given,
 * and the one size-then-value fetch of a single attribute.
 */
#include <stdlib.h>

#include "p11.h"

int p11_partial_rv(CK_RV rv)
{
	return rv == CKR_ATTRIBUTE_SENSITIVE ||
	       rv == CKR_ATTRIBUTE_TYPE_INVALID ||
	       rv == CKR_BUFFER_TOO_SMALL;
}

/*
 * A module may not report a value longer than the buffer it was given (the
 * callers put a NUL at that length): with CKR_OK that is a broken or
 * malicious module and the call fails; with an attribute-level error the
 * length is taken as "unavailable".
 */
CK_RV p11_get_attrs(gm_session *s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE *a,
		    CK_ULONG n)
{
	CK_ULONG cap[P11_ATTRS_MAX], i;
	CK_RV rv;

	if (!a || n == 0 || n > P11_ATTRS_MAX)
		return CKR_ARGUMENTS_BAD;
	for (i = 0; i < n; i++)
		cap[i] = a[i].ulValueLen;
	rv = p11_fl(s)->C_GetAttributeValue(p11_h(s), obj, a, n);
	gm_debug("C_GetAttributeValue(object %lu, %lu attributes%s): %s",
		 (unsigned long)obj, (unsigned long)n,
		 a[0].pValue ? "" : ", sizes", gm_ckr_name(rv));
	for (i = 0; i < n; i++) {
		if (!a[i].pValue || a[i].ulValueLen == CK_UNAVAILABLE_INFORMATION ||
		    a[i].ulValueLen <= cap[i])
			continue;
		gm_debug("the module reported %lu bytes for attribute 0x%lx in "
			 "a buffer of %lu", (unsigned long)a[i].ulValueLen,
			 (unsigned long)a[i].type, (unsigned long)cap[i]);
		if (rv == CKR_OK)
			return CKR_GENERAL_ERROR;
		a[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
	}
	return rv;
}

void p11_attrs_free(CK_ATTRIBUTE *a, size_t n)
{
	size_t i;

	for (i = 0; a && i < n; i++) {
		free(a[i].pValue);
		a[i].pValue = NULL;
	}
}

/* Values larger than this are refused: no certificate or point is. */
#define VALUE_MAX (1UL << 20)

CK_RV p11_fetch(gm_session *s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE *a,
		CK_ULONG guess)
{
	CK_RV rv;

	a->pValue = NULL;
	a->ulValueLen = 0;
	if (guess) {		/* one call when the value fits */
		a->pValue = gm_xmalloc(guess + 1);
		a->ulValueLen = guess;
		rv = p11_get_attrs(s, obj, a, 1);
		if (rv == CKR_OK && a->ulValueLen != CK_UNAVAILABLE_INFORMATION)
			return CKR_OK;
		free(a->pValue);
		a->pValue = NULL;
		a->ulValueLen = 0;
		if (rv != CKR_BUFFER_TOO_SMALL && rv != CKR_OK &&
		    !p11_partial_rv(rv))
			return rv;
		if (rv != CKR_BUFFER_TOO_SMALL) {
			a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
			return CKR_OK;	/* unreadable, not a size matter */
		}
	}
	rv = p11_get_attrs(s, obj, a, 1);
	if (rv == CKR_OK && a->ulValueLen != CK_UNAVAILABLE_INFORMATION &&
	    a->ulValueLen <= VALUE_MAX) {
		a->pValue = gm_xmalloc(a->ulValueLen + 1);
		rv = p11_get_attrs(s, obj, a, 1);
	}
	if (rv == CKR_OK && a->pValue &&
	    a->ulValueLen != CK_UNAVAILABLE_INFORMATION)
		return CKR_OK;
	free(a->pValue);
	a->pValue = NULL;
	a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
	return p11_partial_rv(rv) || rv == CKR_OK ? CKR_OK : rv;
}
