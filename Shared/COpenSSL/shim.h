#ifndef AGRITRACE_COPENSSL_SHIM_H
#define AGRITRACE_COPENSSL_SHIM_H
// The system's OpenSSL libcrypto (the one libmosquitto already loads), used to verify TLS
// client certificates against the deployment CA and its revocation list (BoringSSL inside
// swift-nio-ssl has no CRL loading) and to check a renewed TLS identity before the agent
// switches to it. OpenSSL's stack macros are not visible to Swift, so that code lives here.
#include <stdio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
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

/// A passphrase callback that gives none: an encrypted key fails to load instead of prompting.
static inline int agritrace_no_passphrase(char *buffer, int size, int rwflag, void *user) { return 0; }

/// Checks a TLS client identity from PEM files before it is used: the certificate parses, the
/// key loads without a passphrase and matches the certificate, and the certificate verifies
/// against the CA file as a TLS client certificate valid now. Returns 0 when all hold, 1 when
/// the certificate does not parse, 2 when the key does not load, 3 when the key does not match,
/// 4 when the CA file gives no certificate, 5 when the certificate does not verify (the
/// X509_V_ERR code in `error`).
static inline int agritrace_check_tls_identity(
    const char *caPath, const char *certificatePath, const char *keyPath, int *error)
{
    *error = 0;
    int result = 1;
    X509 *certificate = NULL;
    EVP_PKEY *key = NULL;
    X509_STORE *store = NULL;
    X509_STORE_CTX *context = NULL;
    FILE *file = fopen(certificatePath, "r");
    if (file != NULL) {
        certificate = PEM_read_X509(file, NULL, agritrace_no_passphrase, NULL);
        fclose(file);
    }
    if (certificate == NULL) goto done;
    result = 2;
    file = fopen(keyPath, "r");
    if (file != NULL) {
        key = PEM_read_PrivateKey(file, NULL, agritrace_no_passphrase, NULL);
        fclose(file);
    }
    if (key == NULL) goto done;
    result = 3;
    if (X509_check_private_key(certificate, key) != 1) goto done;
    result = 4;
    store = X509_STORE_new();
    if (store == NULL) goto done;
    X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
    if (lookup == NULL || X509_load_cert_file(lookup, caPath, X509_FILETYPE_PEM) <= 0) goto done;
    result = 5;
    context = X509_STORE_CTX_new();
    if (context == NULL || !X509_STORE_CTX_init(context, store, certificate, NULL)) goto done;
    X509_STORE_CTX_set_purpose(context, X509_PURPOSE_SSL_CLIENT);
    if (X509_verify_cert(context) == 1) {
        result = 0;
    } else {
        *error = X509_STORE_CTX_get_error(context);
    }
done:
    ERR_clear_error();
    X509_STORE_CTX_free(context);
    X509_STORE_free(store);
    EVP_PKEY_free(key);
    X509_free(certificate);
    return result;
}
#endif
