#ifndef AGRITRACE_COPENSSL_SHIM_H
#define AGRITRACE_COPENSSL_SHIM_H
// The system's OpenSSL libcrypto (the one libmosquitto already loads), used to verify TLS
// client certificates (server side) and the API server's certificate (CLI side) against the
// deployment CA and its revocation list (BoringSSL inside swift-nio-ssl has no CRL loading), and
// to check a renewed TLS identity before the agent switches to it. OpenSSL's stack macros are not visible to Swift, so that code lives here.
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

/// A passphrase callback that gives none (PEM reads of public material never prompt).
static inline int agritrace_no_passphrase_crl(char *buffer, int size, int rwflag, void *user) { return 0; }

/// Verifies the chain `ders[0..<count]` (leaf first, DER) against `store` for a TLS peer: a
/// client (`server` 0, purpose sslclient) or a server (`server` 1, purpose sslserver; the host
/// name is checked by the TLS library, not here).
/// Returns 1 when it verifies, 0 when it does not (with the X509_V_ERR code in `error`),
/// -1 when a certificate does not parse or memory runs out.
static inline int agritrace_verify_peer_chain(
    X509_STORE *store, const unsigned char *const *ders, const long *lengths, size_t count, int server, int *error)
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
    X509_STORE_CTX_set_purpose(context, server ? X509_PURPOSE_SSL_SERVER : X509_PURPOSE_SSL_CLIENT);
    result = X509_verify_cert(context) == 1 ? 1 : 0;
    if (result == 0) *error = X509_STORE_CTX_get_error(context);
done:
    ERR_clear_error();
    X509_STORE_CTX_free(context);
    sk_X509_pop_free(untrusted, X509_free);
    X509_free(leaf);
    return result;
}

/// Writes a DER certificate's serial (upper-case hex, as `openssl x509 -serial` prints it) and
/// subject (`/O=.../CN=...`) into the buffers, NUL-terminated. Returns 0, or -1 when it does
/// not parse.
static inline int agritrace_describe_certificate(
    const unsigned char *der, long length, char *serial, size_t serialSize, char *subject, int subjectSize)
{
    const unsigned char *cursor = der;
    X509 *certificate = d2i_X509(NULL, &cursor, length);
    if (certificate == NULL || serialSize == 0 || subjectSize <= 0) {
        X509_free(certificate);
        ERR_clear_error();
        return -1;
    }
    serial[0] = 0;
    BIGNUM *number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), NULL);
    char *hex = number == NULL ? NULL : BN_bn2hex(number);
    if (hex != NULL) {
        snprintf(serial, serialSize, "%s%s", strlen(hex) % 2 == 1 ? "0" : "", hex);
        OPENSSL_free(hex);
    }
    BN_free(number);
    X509_NAME_oneline(X509_get_subject_name(certificate), subject, subjectSize);
    X509_free(certificate);
    ERR_clear_error();
    return 0;
}

/// Checks a PEM revocation list against the PEM CA file before it is used: it parses, one of
/// the CA certificates issued it (issuer name and signature), and it is current. Returns 0 when
/// all hold, 1 when the list file cannot be opened (errno kept), 2 when it holds no PEM CRL, 3
/// when the CA file gives no certificate, 4 when no CA certificate in the file signed it, 5 when
/// its nextUpdate has passed, 6 when its lastUpdate is in the future. `nextUpdate` receives the
/// list's nextUpdate in seconds since 1970 (0 when it has none).
static inline int agritrace_check_revocation_list(const char *caPath, const char *crlPath, long long *nextUpdate)
{
    *nextUpdate = 0;
    int result = 1;
    X509_CRL *list = NULL;
    X509 *authority = NULL;
    FILE *file = fopen(crlPath, "r");
    if (file == NULL) return 1;
    list = PEM_read_X509_CRL(file, NULL, agritrace_no_passphrase_crl, NULL);
    fclose(file);
    result = 2;
    if (list == NULL) goto done;
    const ASN1_TIME *next = X509_CRL_get0_nextUpdate(list);
    if (next != NULL) {
        int days = 0, seconds = 0;
        if (ASN1_TIME_diff(&days, &seconds, NULL, next) == 1)
            *nextUpdate = (long long)time(NULL) + (long long)days * 86400 + seconds;
    }
    result = 3;
    file = fopen(caPath, "r");
    if (file == NULL) goto done;
    int signedByCA = 0;
    int certificates = 0;
    while ((authority = PEM_read_X509(file, NULL, agritrace_no_passphrase_crl, NULL)) != NULL) {
        certificates++;
        EVP_PKEY *key = X509_get0_pubkey(authority);
        if (X509_NAME_cmp(X509_CRL_get_issuer(list), X509_get_subject_name(authority)) == 0 && key != NULL
            && X509_CRL_verify(list, key) == 1) {
            signedByCA = 1;
        }
        X509_free(authority);
        authority = NULL;
        if (signedByCA) break;
    }
    fclose(file);
    if (certificates == 0) goto done;
    result = 4;
    if (!signedByCA) goto done;
    result = 5;
    if (next != NULL && X509_cmp_current_time(next) <= 0) goto done;
    result = 6;
    if (X509_cmp_current_time(X509_CRL_get0_lastUpdate(list)) >= 0) goto done;
    result = 0;
done:
    ERR_clear_error();
    X509_free(authority);
    X509_CRL_free(list);
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
