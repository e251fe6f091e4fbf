/*
 * uuid.c - random UUIDs and base64url text; see uuid.h.
 */
#include "broker/uuid.h"

#include <string.h>
#include <sys/random.h>

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int kp_uuid_random(kp_uuid *u, kp_error *err)
{
	char text[KP_UUID_STR_LEN + 1];

	for (;;) {
		if (getrandom(u->b, sizeof(u->b), 0) != (ssize_t)sizeof(u->b))
			return kp_error_errno(err, "cannot read random bytes");
		u->b[6] = (uint8_t)((u->b[6] & 0x0f) | 0x40); /* version 4 */
		u->b[8] = (uint8_t)((u->b[8] & 0x3f) | 0x80); /* IETF variant */
		kp_uuid_format(u, text);
		if (text[0] != '-')
			return 0;
	}
}

void kp_uuid_format(const kp_uuid *u, char *out)
{
	int o = 0;

	for (int i = 0; i < 16; i += 3) {
		uint32_t v = (uint32_t)u->b[i] << 16;

		if (i + 1 < 16)
			v |= (uint32_t)u->b[i + 1] << 8;
		if (i + 2 < 16)
			v |= u->b[i + 2];
		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		if (i + 1 < 16)
			out[o++] = b64url[(v >> 6) & 63];
		if (i + 2 < 16)
			out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64url, c) : NULL;

	return p ? (int)(p - b64url) : -1;
}

bool kp_uuid_parse(const char *s, kp_uuid *u)
{
	if (strlen(s) != KP_UUID_STR_LEN)
		return false;
	uint8_t bits[17] = { 0 };
	int nbits = 0, nbytes = 0;
	uint32_t acc = 0;

	for (int i = 0; i < KP_UUID_STR_LEN; i++) {
		int v = b64_value(s[i]);

		if (v < 0)
			return false;
		acc = acc << 6 | (uint32_t)v;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			bits[nbytes++] = (uint8_t)(acc >> nbits);
		}
	}
	memcpy(u->b, bits, 16);
	return true;
}

bool kp_uuid_is_zero(const kp_uuid *u)
{
	static const kp_uuid zero;

	return memcmp(u, &zero, sizeof(zero)) == 0;
}
