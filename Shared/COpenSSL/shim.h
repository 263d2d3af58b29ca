#ifndef AGRITRACE_COPENSSL_SHIM_H
#define AGRITRACE_COPENSSL_SHIM_H
// The system's OpenSSL libcrypto, used only to verify TLS client certificates against the
// deployment CA and its revocation list (BoringSSL inside swift-nio-ssl has no CRL loading).
// OpenSSL's stack macros are not visible to Swift, so the chain handling lives here.
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

/// Verifies the chain `ders[0..<count]` (leaf first, DER) against `store` for a TLS client.
/// Returns 1 when it verifies, 0 when it does not (with the X509_V_ERR code in `error`),
/// -1 when a certificate does not parse or memory runs out.
static inline int agritrace_verify_client_chain(
    X509_STORE *store, const unsigned char *const *ders, const long *lengths, size_t count, int *error)
{
    *error = 0;
    if (count == 0) return -1;
    X509 *leaf = NULL;
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE_CTX *context = X509_STORE_CTX_new();
    int result = -1;
    if (untrusted == NULL || context == NULL) goto done;
    for (size_t i = 0; i < count; i++) {
        const unsigned char *cursor = ders[i];
        X509 *certificate = d2i_X509(NULL, &cursor, lengths[i]);
        if (certificate == NULL || cursor != ders[i] + lengths[i]) {
            X509_free(certificate);
            goto done;
        }
        if (i == 0) {
            leaf = certificate;
        } else if (!sk_X509_push(untrusted, certificate)) {
            X509_free(certificate);
            goto done;
        }
    }
    if (!X509_STORE_CTX_init(context, store, leaf, untrusted)) goto done;
    X509_STORE_CTX_set_purpose(context, X509_PURPOSE_SSL_CLIENT);
    result = X509_verify_cert(context) == 1 ? 1 : 0;
    if (result == 0) *error = X509_STORE_CTX_get_error(context);
done:
    ERR_clear_error();
    X509_STORE_CTX_free(context);
    sk_X509_pop_free(untrusted, X509_free);
    X509_free(leaf);
    return result;
}
#endif
