/*
 * sqlcrypt.h - AES-256-GCM page encryption for SQLite, as a VFS that wraps the default "unix" VFS.
 *
 * This header deliberately does not include <sqlite3.h>: Swift imports it next to GRDB's own
 * SQLite module, and two modules declaring the SQLite C API would clash. Database handles are
 * passed as `void *` (a `sqlite3 *`).
 */
#ifndef OPTMAZON_SQLCRYPT_H
#define OPTMAZON_SQLCRYPT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Size of a data or master key, in bytes (AES-256). */
#define SQLCRYPT_KEY_BYTES 32
/** Bytes SQLite must reserve at the end of every page: 12-byte nonce, 16-byte tag, 4 zero bytes. */
#define SQLCRYPT_RESERVE_BYTES 32
/** Size of a key token written by sqlcrypt_key_register, including the terminating NUL. */
#define SQLCRYPT_TOKEN_BYTES 33
/** AES-GCM nonce and tag sizes used by the sealing helpers. */
#define SQLCRYPT_NONCE_BYTES 12
#define SQLCRYPT_TAG_BYTES 16

/**
 * Registers the encrypting VFS under `name` (idempotent). Returns an SQLite result code.
 * Databases are opened through it with a URI: `file:/abs/path.sqlite?vfs=NAME&kid=TOKEN`.
 */
int sqlcrypt_register(const char *name);

/**
 * Puts a copy of a 32-byte data key in the process-wide key table and writes a fresh random
 * token (32 hex characters + NUL) to `token_out`. Files opened with `kid=TOKEN` use that key.
 * Returns 0 on success, -1 on failure.
 */
int sqlcrypt_key_register(const uint8_t *key, size_t key_len, char *token_out);

/** Removes a key from the table and wipes it. Files already open keep working with their own copy. */
void sqlcrypt_key_unregister(const char *token);

/**
 * Asks SQLite to reserve SQLCRYPT_RESERVE_BYTES per page. Must run on a new database before its
 * first write (before `PRAGMA journal_mode = WAL`). Returns the reserve now requested.
 */
int sqlcrypt_request_reserve(void *db);

/** Fills `buf` with `len` cryptographically secure random bytes. Returns 0 on success. */
int sqlcrypt_random(uint8_t *buf, size_t len);

/**
 * AES-256-GCM seal with a fresh random nonce: writes `nonce_out` (12 bytes), `ciphertext_out`
 * (`plaintext_len` bytes) and `tag_out` (16 bytes). Returns 0 on success.
 */
int sqlcrypt_seal(const uint8_t *key, const uint8_t *aad, size_t aad_len,
                  const uint8_t *plaintext, size_t plaintext_len,
                  uint8_t *nonce_out, uint8_t *ciphertext_out, uint8_t *tag_out);

/** AES-256-GCM open. Returns 0 when the tag verifies; otherwise -1 and `plaintext_out` is zeroed. */
int sqlcrypt_open(const uint8_t *key, const uint8_t *aad, size_t aad_len,
                  const uint8_t *nonce, const uint8_t *ciphertext, size_t ciphertext_len,
                  const uint8_t *tag, uint8_t *plaintext_out);

/** SHA-256 of `data`, written to `digest_out` (32 bytes). Returns 0 on success. */
int sqlcrypt_sha256(const uint8_t *data, size_t len, uint8_t *digest_out);

/** Overwrites `len` bytes with zeros in a way the compiler cannot elide. */
void sqlcrypt_wipe(void *buf, size_t len);

/** Counters for tests and benchmarks: pages encrypted and decrypted since start (all files). */
uint64_t sqlcrypt_pages_encrypted(void);
uint64_t sqlcrypt_pages_decrypted(void);

#ifdef __cplusplus
}
#endif

#endif
