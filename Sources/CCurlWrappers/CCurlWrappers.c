#include "CCurlWrappers.h"
#include <pthread.h>

static pthread_once_t tm_delivery_curl_once = PTHREAD_ONCE_INIT;

static void tm_delivery_curl_init_once(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void tm_delivery_curl_global_init(void) {
    pthread_once(&tm_delivery_curl_once, tm_delivery_curl_init_once);
}

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

static int tm_delivery_ipv4_is_private(uint32_t a) {
    return (a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127
        || (a & 0xFFC00000u) == 0x64400000u   /* 100.64.0.0/10 carrier-grade NAT */
        || (a & 0xFFFF0000u) == 0xA9FE0000u   /* 169.254.0.0/16 link-local, cloud metadata */
        || (a & 0xFFF00000u) == 0xAC100000u   /* 172.16.0.0/12 */
        || (a & 0xFFFFFF00u) == 0xC0000000u   /* 192.0.0.0/24 */
        || (a & 0xFFFF0000u) == 0xC0A80000u   /* 192.168.0.0/16 */
        || (a & 0xFFFE0000u) == 0xC6120000u   /* 198.18.0.0/15 benchmarking */
        || a >= 0xE0000000u;                  /* multicast, reserved, broadcast */
}

static int tm_delivery_address_is_private(const struct sockaddr *address) {
    if (address->sa_family == AF_INET) {
        return tm_delivery_ipv4_is_private(ntohl(((const struct sockaddr_in *)address)->sin_addr.s_addr));
    }
    if (address->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)address)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a) || IN6_IS_ADDR_V4COMPAT(a)) {
            uint32_t v4;
            memcpy(&v4, &a->s6_addr[12], 4);
            return tm_delivery_ipv4_is_private(ntohl(v4));
        }
        return IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a)
            || IN6_IS_ADDR_SITELOCAL(a) || IN6_IS_ADDR_MULTICAST(a)
            || (a->s6_addr[0] & 0xFE) == 0xFC;  /* fc00::/7 unique local */
    }
    return 1;  /* any other family: refuse */
}

static curl_socket_t tm_delivery_open_public_socket(void *context, curlsocktype purpose, struct curl_sockaddr *address) {
    (void)purpose;
    if (tm_delivery_address_is_private(&address->addr)) {
        *(int *)context = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

CURLcode tm_delivery_block_private_addresses(CURL *handle, int *blocked) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, tm_delivery_open_public_socket);
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(handle, CURLOPT_OPENSOCKETDATA, (void *)blocked);
}
