#ifndef TOKENMETER_CCURL_WRAPPERS_H
#define TOKENMETER_CCURL_WRAPPERS_H

#include <curl/curl.h>

/* curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call. These typed
 * wrappers live in a regular C target (not the systemLibrary shim), so edits are seen by
 * incremental builds. One per argument type Delivery passes. */

typedef size_t (*tm_delivery_data_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode tm_delivery_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode tm_delivery_setopt_pointer(CURL *handle, CURLoption option, const void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode tm_delivery_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode tm_delivery_setopt_callback(CURL *handle, CURLoption option, tm_delivery_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

static inline CURLcode tm_delivery_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

/* Makes `handle` refuse to connect to loopback, private, link-local, carrier-grade NAT,
 * multicast and reserved addresses (IPv4 and IPv6, v4-mapped included), checked on the
 * address actually connected to, after DNS, so a public name resolving to 10.0.0.1 or
 * 169.254.169.254 is refused too. `*blocked` is set to 1 when a connection was refused for
 * that reason. */
CURLcode tm_delivery_block_private_addresses(CURL *handle, int *blocked);

/* curl_global_init once per process, thread-safe (curl_global_init itself is not before 7.84). */
void tm_delivery_curl_global_init(void);

#endif
