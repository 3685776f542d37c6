#include "CCurlWrappers.h"
#include <pthread.h>

static pthread_once_t tm_delivery_curl_once = PTHREAD_ONCE_INIT;

static void tm_delivery_curl_init_once(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void tm_delivery_curl_global_init(void) {
    pthread_once(&tm_delivery_curl_once, tm_delivery_curl_init_once);
}
