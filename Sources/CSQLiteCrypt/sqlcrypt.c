/*
 * sqlcrypt.c - AES-256-GCM page-encryption VFS for SQLite (OptMazon issue 3).
 *
 * WHY HAND-WRITTEN: the store must run on Debian's libsqlite3 through GRDB with SwiftPM on Linux.
 * SQLCipher is not packaged for that combination (GRDB supports SQLCipher only via CocoaPods or a
 * custom SQLite build, which SwiftPM cannot use), so the encryption lives in this small VFS that
 * wraps SQLite's default "unix" VFS. It is the most security-critical code of the project: keep it
 * small, keep every access pattern explicit, and fail closed on anything unexpected.
 *
 * Files handled (only through a URI `file:/path?vfs=NAME&kid=TOKEN`, the token naming a key in
 * the process-wide table filled by sqlcrypt_key_register):
 *   - main database: every page is encrypted. Page layout with 32 reserved bytes per page:
 *       [ciphertext of bytes 0..n-32][12-byte random nonce][16-byte GCM tag][4 zero bytes]
 *     Page 1 keeps its first 24 bytes (magic, page size, versions, reserve size, payload
 *     fractions) in plaintext, because SQLite reads the 100-byte header before anything else and
 *     this VFS needs the page size; those 24 bytes are authenticated as associated data.
 *     AAD = "D" || page number (big-endian) || 0 || [page-1 plaintext prefix].
 *   - WAL: the 32-byte header and 24-byte frame headers stay plaintext (SQLite checks their
 *     checksums), the page image of every frame is encrypted like a database page with
 *     AAD = "W" || page number || frame index. The WAL salts are NOT authenticated: SQLite
 *     rewrites frame headers (salts and checksums) at commit after it rewrote a frame in place.
 *     On disk the WAL header carries a private format version so that plain SQLite (without this
 *     VFS) refuses the WAL (SQLITE_CANTOPEN) instead of finding no valid frame and deleting it.
 *   - rollback journal: GRDB runs in WAL mode, so a journal only exists for the one transaction
 *     that switches a new database to WAL; it never holds a page image (the database is empty).
 *     Writing a page image to a journal is refused, so plaintext can never reach one.
 *   - any other file (temp databases, statement journals): refused. Connections must use
 *     `PRAGMA temp_store = MEMORY`.
 *
 * Decrypted pages have their reserved area zeroed: SQLite computes WAL frame checksums over the
 * page it writes (reserved area zero) and recomputes them during WAL recovery over what xRead
 * returns, so returning the nonce and tag there would make recovery drop every frame.
 *
 * Errors: page 1 that fails authentication -> SQLITE_NOTADB (wrong key or not our file); any other
 * database page -> SQLITE_IOERR_DATA. During WAL recovery (whole-frame reads) a frame that fails
 * authentication is returned zeroed so SQLite's own checksum rejects it like a torn frame; if that
 * is the first frame and the key has not been proven by any page yet, SQLITE_NOTADB is returned
 * instead, because a wrong key must never make SQLite discard (and later delete) a WAL.
 * A failed authentication never returns garbage: the caller's buffer is zeroed.
 *
 * Known limits (documented, as with SQLCipher): no freshness - a whole file, or a page/frame, can be
 * replaced by an older version of itself encrypted with the same key; random 96-bit nonces are fine
 * far below 2^32 page writes per key.
 */
#include "sqlcrypt.h"

#include <sqlite3.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RESERVE SQLCRYPT_RESERVE_BYTES
#define NONCE_LEN 12
#define TAG_LEN 16
#define PAGE1_PLAIN 24
#define WAL_HDR 32
#define WAL_FRAME_HDR 24
#define WAL_REAL_VERSION 3007000u
#define WAL_PRIVATE_VERSION 0x4F4D5A01u /* "OMZ" 1: marks a WAL written through this VFS */
#define MAX_PAGE 65536
#define NONCE_BATCH 64

enum { KIND_MAIN = 1, KIND_WAL = 2, KIND_JOURNAL = 3 };

/* ------------------------------------------------------------------------------------------ */
/* Key table: token -> key. Small (bounded by the number of open stores), guarded by a mutex.   */

typedef struct KeyEntry {
    struct KeyEntry *next;
    char token[SQLCRYPT_TOKEN_BYTES];
    uint8_t key[SQLCRYPT_KEY_BYTES];
    int verified; /* some page decrypted with this key: the key is right */
} KeyEntry;

/* OpenSSL without its exit handler. By default OpenSSL frees its state in an atexit handler; a store whose
 * last connection closes on another thread while the process exits (a checkpoint encrypting pages) would then
 * use freed locks and corrupt the heap. The process's exit reclaims the memory anyway. Every entry point that
 * may be the first OpenSSL call in the process runs this first. */
static pthread_once_t g_crypto_once = PTHREAD_ONCE_INIT;

static void crypto_init_once(void) {
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}

static void crypto_init(void) {
    pthread_once(&g_crypto_once, crypto_init_once);
}

static pthread_mutex_t g_keys_mutex = PTHREAD_MUTEX_INITIALIZER;
static KeyEntry *g_keys = NULL;
static uint64_t g_encrypted = 0;
static uint64_t g_decrypted = 0;

int sqlcrypt_key_register(const uint8_t *key, size_t key_len, char *token_out) {
    crypto_init();
    if (key == NULL || key_len != SQLCRYPT_KEY_BYTES || token_out == NULL) return -1;
    uint8_t raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1) return -1;
    KeyEntry *e = calloc(1, sizeof *e);
    if (e == NULL) return -1;
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        e->token[2 * i] = hex[raw[i] >> 4];
        e->token[2 * i + 1] = hex[raw[i] & 15];
    }
    e->token[32] = 0;
    memcpy(e->key, key, SQLCRYPT_KEY_BYTES);
    memcpy(token_out, e->token, SQLCRYPT_TOKEN_BYTES);
    pthread_mutex_lock(&g_keys_mutex);
    e->next = g_keys;
    g_keys = e;
    pthread_mutex_unlock(&g_keys_mutex);
    return 0;
}

void sqlcrypt_key_unregister(const char *token) {
    if (token == NULL) return;
    pthread_mutex_lock(&g_keys_mutex);
    for (KeyEntry **pp = &g_keys; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->token, token) == 0) {
            KeyEntry *e = *pp;
            *pp = e->next;
            OPENSSL_cleanse(e, sizeof *e);
            free(e);
            break;
        }
    }
    pthread_mutex_unlock(&g_keys_mutex);
}

/* Copies the key for `token` into `out`; returns 0 when found. */
static int key_lookup(const char *token, uint8_t *out) {
    int rc = -1;
    pthread_mutex_lock(&g_keys_mutex);
    for (KeyEntry *e = g_keys; e; e = e->next) {
        if (strcmp(e->token, token) == 0) {
            memcpy(out, e->key, SQLCRYPT_KEY_BYTES);
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&g_keys_mutex);
    return rc;
}

static void key_mark_verified(const char *token) {
    pthread_mutex_lock(&g_keys_mutex);
    for (KeyEntry *e = g_keys; e; e = e->next) {
        if (strcmp(e->token, token) == 0) { e->verified = 1; break; }
    }
    pthread_mutex_unlock(&g_keys_mutex);
}

static int key_is_verified(const char *token) {
    int v = 0;
    pthread_mutex_lock(&g_keys_mutex);
    for (KeyEntry *e = g_keys; e; e = e->next) {
        if (strcmp(e->token, token) == 0) { v = e->verified; break; }
    }
    pthread_mutex_unlock(&g_keys_mutex);
    return v;
}

/* ------------------------------------------------------------------------------------------ */
/* File handle                                                                                 */

typedef struct CryptFile {
    sqlite3_file base;
    sqlite3_file *real;        /* the unix file, allocated right after this struct */
    int kind;
    int page_size;             /* 0 until known */
    int verified;              /* a page of this file decrypted: key proven */
    char token[SQLCRYPT_TOKEN_BYTES];
    EVP_CIPHER_CTX *enc;       /* keyed once per handle, only the nonce changes per page */
    EVP_CIPHER_CTX *dec;
    uint8_t *buf;              /* scratch: one page + one WAL frame header, allocated once */
    int buf_size;
    uint32_t hdr_frame;        /* WAL: frame index of the last frame header written */
    uint32_t hdr_pgno;         /*      and its page number */
    int hdr_valid;
    uint8_t nonces[NONCE_LEN * NONCE_BATCH]; /* random nonces drawn in batches (RAND_bytes costs ~2 us a call) */
    int nonces_left;
} CryptFile;

static sqlite3_vfs *g_unix = NULL;
static sqlite3_vfs g_vfs;
static char g_vfs_name[64];
static const sqlite3_io_methods g_methods;

static inline uint32_t get32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static int valid_page_size(int n) {
    return n >= 512 && n <= MAX_PAGE && (n & (n - 1)) == 0;
}
/* Page size as stored at offset 16 of page 1 (1 means 65536). */
static int header_page_size(const uint8_t *hdr) {
    int n = (hdr[16] << 8) | hdr[17];
    return n == 1 ? 65536 : n;
}

static int ensure_buf(CryptFile *f, int page_size) {
    int need = page_size + WAL_FRAME_HDR;
    if (f->buf_size >= need) return SQLITE_OK;
    uint8_t *b = realloc(f->buf, (size_t)need);
    if (b == NULL) return SQLITE_NOMEM;
    f->buf = b;
    f->buf_size = need;
    return SQLITE_OK;
}

/* Builds the associated data of a page: type, page number, frame index, page-1 prefix. */
static int build_aad(uint8_t *aad, char type, uint32_t pgno, uint32_t frame, const uint8_t *prefix, int prefix_len) {
    aad[0] = (uint8_t)type;
    put32(aad + 1, pgno);
    put32(aad + 5, frame);
    if (prefix_len > 0) memcpy(aad + 9, prefix, (size_t)prefix_len);
    return 9 + prefix_len;
}

/* Encrypts page `in` (n bytes) into `out`. The first `plain` bytes are copied and authenticated. */
static int encrypt_page(CryptFile *f, const uint8_t *in, uint8_t *out, int n, char type, uint32_t pgno, uint32_t frame, int plain) {
    uint8_t aad[9 + PAGE1_PLAIN];
    int aad_len = build_aad(aad, type, pgno, frame, in, plain);
    uint8_t *nonce = out + n - RESERVE;
    uint8_t *tag = nonce + NONCE_LEN;
    int len = 0;
    /* A fresh random nonce per page write, taken from a batch drawn from the CSPRNG; each batch
     * entry is used once and wiped. (SQLite connections are never used across fork(), so a
     * batch is never shared by two processes.) */
    if (f->nonces_left == 0) {
        if (RAND_bytes(f->nonces, (int)sizeof f->nonces) != 1) return SQLITE_IOERR_WRITE;
        f->nonces_left = NONCE_BATCH;
    }
    f->nonces_left--;
    memcpy(nonce, f->nonces + f->nonces_left * NONCE_LEN, NONCE_LEN);
    memset(f->nonces + f->nonces_left * NONCE_LEN, 0, NONCE_LEN);
    if (plain > 0) memcpy(out, in, (size_t)plain);
    if (EVP_EncryptInit_ex(f->enc, NULL, NULL, NULL, nonce) != 1
        || EVP_EncryptUpdate(f->enc, NULL, &len, aad, aad_len) != 1
        || EVP_EncryptUpdate(f->enc, out + plain, &len, in + plain, n - RESERVE - plain) != 1
        || EVP_EncryptFinal_ex(f->enc, out + plain + len, &len) != 1
        || EVP_CIPHER_CTX_ctrl(f->enc, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1) {
        return SQLITE_IOERR_WRITE;
    }
    memset(tag + TAG_LEN, 0, RESERVE - NONCE_LEN - TAG_LEN);
    __atomic_fetch_add(&g_encrypted, 1, __ATOMIC_RELAXED);
    return SQLITE_OK;
}

/*
 * Decrypts page `in` (n bytes) into `out` (may be the same buffer). Returns 1 when the tag
 * verifies; otherwise 0 and `out` is all zeros. The reserved area of `out` is zeroed either way.
 */
static int decrypt_page(CryptFile *f, const uint8_t *in, uint8_t *out, int n, char type, uint32_t pgno, uint32_t frame, int plain) {
    uint8_t nonce[NONCE_LEN], tag[TAG_LEN];
    uint8_t aad[9 + PAGE1_PLAIN];
    int aad_len = build_aad(aad, type, pgno, frame, in, plain);
    int len = 0, ok;
    memcpy(nonce, in + n - RESERVE, NONCE_LEN);
    memcpy(tag, in + n - RESERVE + NONCE_LEN, TAG_LEN);
    if (plain > 0 && out != in) memcpy(out, in, (size_t)plain);
    ok = EVP_DecryptInit_ex(f->dec, NULL, NULL, NULL, nonce) == 1
        && EVP_DecryptUpdate(f->dec, NULL, &len, aad, aad_len) == 1
        && EVP_DecryptUpdate(f->dec, out + plain, &len, in + plain, n - RESERVE - plain) == 1
        && EVP_CIPHER_CTX_ctrl(f->dec, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1
        && EVP_DecryptFinal_ex(f->dec, out + plain + len, &len) == 1;
    if (!ok) {
        memset(out, 0, (size_t)n);
        return 0;
    }
    memset(out + n - RESERVE, 0, RESERVE);
    __atomic_fetch_add(&g_decrypted, 1, __ATOMIC_RELAXED);
    if (!f->verified) {
        f->verified = 1;
        key_mark_verified(f->token);
    }
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* WAL header: plaintext, but with a private version on disk (see the comment at the top).      */

static void wal_checksum(const uint8_t *a, int n, int big_endian, uint32_t *s1o, uint32_t *s2o) {
    uint32_t s1 = 0, s2 = 0;
    for (int i = 0; i < n; i += 8) {
        uint32_t x0, x1;
        if (big_endian) {
            x0 = get32(a + i);
            x1 = get32(a + i + 4);
        } else {
            x0 = (uint32_t)a[i] | ((uint32_t)a[i + 1] << 8) | ((uint32_t)a[i + 2] << 16) | ((uint32_t)a[i + 3] << 24);
            x1 = (uint32_t)a[i + 4] | ((uint32_t)a[i + 5] << 8) | ((uint32_t)a[i + 6] << 16) | ((uint32_t)a[i + 7] << 24);
        }
        s1 += x0 + s2;
        s2 += x1 + s1;
    }
    *s1o = s1;
    *s2o = s2;
}

/* Rewrites the version field of a 32-byte WAL header and its checksum. */
static void wal_header_set_version(uint8_t *hdr, uint32_t version) {
    uint32_t s1, s2;
    put32(hdr + 4, version);
    wal_checksum(hdr, 24, get32(hdr) & 1, &s1, &s2);
    put32(hdr + 24, s1);
    put32(hdr + 28, s2);
}

/* ------------------------------------------------------------------------------------------ */
/* I/O methods                                                                                 */

static int c_close(sqlite3_file *pf) {
    CryptFile *f = (CryptFile *)pf;
    int rc = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
    if (f->enc) EVP_CIPHER_CTX_free(f->enc);
    if (f->dec) EVP_CIPHER_CTX_free(f->dec);
    if (f->buf) {
        OPENSSL_cleanse(f->buf, (size_t)f->buf_size);
        free(f->buf);
    }
    OPENSSL_cleanse(f->token, sizeof f->token);
    OPENSSL_cleanse(f->nonces, sizeof f->nonces);
    f->enc = f->dec = NULL;
    f->buf = NULL;
    return rc;
}

/* Reads the whole page 1 into f->buf (learning the page size) and decrypts it there. */
static int main_load_page1(CryptFile *f) {
    uint8_t hdr[PAGE1_PLAIN];
    int rc = f->real->pMethods->xRead(f->real, hdr, PAGE1_PLAIN, 0);
    if (rc != SQLITE_OK) return rc; /* includes SHORT_READ of a new, empty file */
    int n = header_page_size(hdr);
    if (!valid_page_size(n) || memcmp(hdr, "SQLite format 3", 16) != 0) return SQLITE_NOTADB;
    if (f->page_size == 0) f->page_size = n;
    if ((rc = ensure_buf(f, n)) != SQLITE_OK) return rc;
    rc = f->real->pMethods->xRead(f->real, f->buf, n, 0);
    if (rc == SQLITE_IOERR_SHORT_READ) return SQLITE_NOTADB;
    if (rc != SQLITE_OK) return rc;
    if (!decrypt_page(f, f->buf, f->buf, n, 'D', 1, 0, PAGE1_PLAIN)) {
        sqlite3_log(SQLITE_NOTADB, "sqlcrypt: page 1 failed authentication (wrong key or foreign file)");
        return SQLITE_NOTADB;
    }
    return SQLITE_OK;
}

static int main_read(CryptFile *f, uint8_t *out, int amt, sqlite3_int64 off) {
    int rc;
    if (f->page_size == 0) {
        /* Learn the page size (and check the key) from page 1 before anything else. */
        rc = main_load_page1(f);
        if (rc != SQLITE_OK) {
            /* SHORT_READ: a new, empty database, which SQLite reads as zeros. */
            memset(out, 0, (size_t)amt);
            return rc;
        }
        if (off + amt <= f->page_size) {
            memcpy(out, f->buf + off, (size_t)amt);
            return SQLITE_OK;
        }
    }
    int n = f->page_size;
    /* Fast path: one whole page at its offset, decrypted in place in the caller's buffer. */
    if (amt == n && off % n == 0 && off > 0) {
        uint32_t pgno = (uint32_t)(off / n) + 1;
        rc = f->real->pMethods->xRead(f->real, out, amt, off);
        if (rc == SQLITE_IOERR_SHORT_READ) {
            /* Entirely past the end: SQLite zero-fills and treats it as a new page. A partial
             * page cannot be authenticated. */
            sqlite3_int64 size = 0;
            if (f->real->pMethods->xFileSize(f->real, &size) == SQLITE_OK && size <= off) return rc;
            memset(out, 0, (size_t)amt);
            sqlite3_log(SQLITE_IOERR_DATA, "sqlcrypt: page %u is truncated", pgno);
            return SQLITE_IOERR_DATA;
        }
        if (rc != SQLITE_OK) return rc;
        if (!decrypt_page(f, out, out, n, 'D', pgno, 0, 0)) {
            sqlite3_log(SQLITE_IOERR_DATA, "sqlcrypt: page %u failed authentication", pgno);
            return SQLITE_IOERR_DATA;
        }
        return SQLITE_OK;
    }
    /* Reads inside page 1: the 100-byte header read at open, the change counter, page 1 itself. */
    if (off >= 0 && off + amt <= n) {
        rc = main_load_page1(f);
        if (rc != SQLITE_OK) {
            memset(out, 0, (size_t)amt);
            return rc;
        }
        memcpy(out, f->buf + off, (size_t)amt);
        return SQLITE_OK;
    }
    sqlite3_log(SQLITE_IOERR_READ, "sqlcrypt: unexpected database read of %d bytes at %lld", amt, (long long)off);
    memset(out, 0, (size_t)amt);
    return SQLITE_IOERR_READ;
}

static int main_write(CryptFile *f, const uint8_t *in, int amt, sqlite3_int64 off) {
    int n = amt;
    if (!valid_page_size(n) || off % n != 0 || (f->page_size != 0 && f->page_size != n && off != 0)) {
        sqlite3_log(SQLITE_IOERR_WRITE, "sqlcrypt: refusing a database write of %d bytes at %lld", amt, (long long)off);
        return SQLITE_IOERR_WRITE;
    }
    uint32_t pgno = (uint32_t)(off / n) + 1;
    int plain = 0;
    if (pgno == 1) {
        if (header_page_size(in) != n || in[20] != RESERVE) {
            sqlite3_log(SQLITE_IOERR_WRITE, "sqlcrypt: refusing page 1 without %d reserved bytes", RESERVE);
            return SQLITE_IOERR_WRITE;
        }
        plain = PAGE1_PLAIN;
    }
    f->page_size = n;
    int rc = ensure_buf(f, n);
    if (rc != SQLITE_OK) return rc;
    if ((rc = encrypt_page(f, in, f->buf, n, 'D', pgno, 0, plain)) != SQLITE_OK) return rc;
    return f->real->pMethods->xWrite(f->real, f->buf, n, off);
}

/* Page size of a WAL from its header on disk; 0 when unknown. */
static int wal_page_size(CryptFile *f) {
    if (f->page_size) return f->page_size;
    uint8_t hdr[WAL_HDR];
    if (f->real->pMethods->xRead(f->real, hdr, WAL_HDR, 0) != SQLITE_OK) return 0;
    int n = (int)get32(hdr + 8);
    if (!valid_page_size(n)) return 0;
    f->page_size = n;
    return n;
}

static int wal_read(CryptFile *f, uint8_t *out, int amt, sqlite3_int64 off) {
    if (off < WAL_HDR) {
        /* Any read touching the header gets the header with SQLite's real version back. */
        uint8_t hdr[WAL_HDR];
        int rc;
        if (off + amt > WAL_HDR) goto unexpected;
        rc = f->real->pMethods->xRead(f->real, hdr, WAL_HDR, 0);
        if (rc != SQLITE_OK) {
            memset(out, 0, (size_t)amt);
            return rc;
        }
        if (get32(hdr + 4) == WAL_PRIVATE_VERSION) wal_header_set_version(hdr, WAL_REAL_VERSION);
        if (valid_page_size((int)get32(hdr + 8))) f->page_size = (int)get32(hdr + 8);
        memcpy(out, hdr + off, (size_t)amt);
        return SQLITE_OK;
    }
    int n = wal_page_size(f);
    if (n == 0) goto unexpected;
    sqlite3_int64 frame_size = n + WAL_FRAME_HDR;
    uint32_t frame = (uint32_t)((off - WAL_HDR) / frame_size);
    sqlite3_int64 within = (off - WAL_HDR) % frame_size;
    sqlite3_int64 frame_off = WAL_HDR + frame * frame_size;

    if (within + amt <= WAL_FRAME_HDR) {
        /* Frame header fields only (checksum chaining): plaintext. */
        return f->real->pMethods->xRead(f->real, out, amt, off);
    }
    if (within == 0 && amt == frame_size) {
        /* Whole frame: WAL recovery or checksum rewrite. */
        int rc = f->real->pMethods->xRead(f->real, out, amt, off);
        if (rc != SQLITE_OK) return rc; /* a short (torn) frame stays zero-filled */
        uint32_t pgno = get32(out);
        if (!decrypt_page(f, out + WAL_FRAME_HDR, out + WAL_FRAME_HDR, n, 'W', pgno, frame, 0)) {
            if (frame == 0 && !f->verified && !key_is_verified(f->token)) {
                sqlite3_log(SQLITE_NOTADB, "sqlcrypt: first WAL frame failed authentication (wrong key?)");
                return SQLITE_NOTADB;
            }
            /* Zeroed data: SQLite's checksum rejects the frame, as for a torn write. */
        }
        return SQLITE_OK;
    }
    if (within == WAL_FRAME_HDR && amt == n) {
        /* Page image only: read header and data in one call to learn the page number. */
        int rc = ensure_buf(f, n);
        if (rc != SQLITE_OK) return rc;
        rc = f->real->pMethods->xRead(f->real, f->buf, (int)frame_size, frame_off);
        if (rc != SQLITE_OK) {
            memset(out, 0, (size_t)amt);
            return rc == SQLITE_IOERR_SHORT_READ ? SQLITE_IOERR_DATA : rc;
        }
        uint32_t pgno = get32(f->buf);
        if (!decrypt_page(f, f->buf + WAL_FRAME_HDR, out, n, 'W', pgno, frame, 0)) {
            sqlite3_log(SQLITE_IOERR_DATA, "sqlcrypt: WAL frame %u (page %u) failed authentication", frame, pgno);
            return SQLITE_IOERR_DATA;
        }
        return SQLITE_OK;
    }
unexpected:
    sqlite3_log(SQLITE_IOERR_READ, "sqlcrypt: unexpected WAL read of %d bytes at %lld", amt, (long long)off);
    memset(out, 0, (size_t)amt);
    return SQLITE_IOERR_READ;
}

static int wal_write(CryptFile *f, const uint8_t *in, int amt, sqlite3_int64 off) {
    if (off == 0 && amt == WAL_HDR) {
        uint8_t hdr[WAL_HDR];
        memcpy(hdr, in, WAL_HDR);
        if (valid_page_size((int)get32(hdr + 8))) f->page_size = (int)get32(hdr + 8);
        if (get32(hdr + 4) != WAL_REAL_VERSION) goto unexpected;
        wal_header_set_version(hdr, WAL_PRIVATE_VERSION);
        f->hdr_valid = 0;
        return f->real->pMethods->xWrite(f->real, hdr, WAL_HDR, 0);
    }
    int n = wal_page_size(f);
    if (n == 0 || off < WAL_HDR) goto unexpected;
    sqlite3_int64 frame_size = n + WAL_FRAME_HDR;
    uint32_t frame = (uint32_t)((off - WAL_HDR) / frame_size);
    sqlite3_int64 within = (off - WAL_HDR) % frame_size;
    int rc = ensure_buf(f, n);
    if (rc != SQLITE_OK) return rc;

    if (within == 0 && amt == WAL_FRAME_HDR) {
        f->hdr_frame = frame;
        f->hdr_pgno = get32(in);
        f->hdr_valid = 1;
        return f->real->pMethods->xWrite(f->real, in, amt, off);
    }
    if (within == WAL_FRAME_HDR && amt == n) {
        uint32_t pgno;
        if (f->hdr_valid && f->hdr_frame == frame) {
            pgno = f->hdr_pgno;
        } else {
            /* In-place rewrite of a frame of the current transaction: its header is on disk. */
            uint8_t fh[WAL_FRAME_HDR];
            rc = f->real->pMethods->xRead(f->real, fh, WAL_FRAME_HDR, off - WAL_FRAME_HDR);
            if (rc != SQLITE_OK) return SQLITE_IOERR_WRITE;
            pgno = get32(fh);
        }
        if ((rc = encrypt_page(f, in, f->buf, n, 'W', pgno, frame, 0)) != SQLITE_OK) return rc;
        return f->real->pMethods->xWrite(f->real, f->buf, n, off);
    }
    if (within == 0 && amt == frame_size) {
        memcpy(f->buf, in, WAL_FRAME_HDR);
        if ((rc = encrypt_page(f, in + WAL_FRAME_HDR, f->buf + WAL_FRAME_HDR, n, 'W', get32(in), frame, 0)) != SQLITE_OK) return rc;
        return f->real->pMethods->xWrite(f->real, f->buf, amt, off);
    }
unexpected:
    sqlite3_log(SQLITE_IOERR_WRITE, "sqlcrypt: refusing a WAL write of %d bytes at %lld", amt, (long long)off);
    return SQLITE_IOERR_WRITE;
}

/*
 * Rollback journal: headers, page numbers, checksums and the super-journal name pass through;
 * a page image (a write of 512+ bytes that does not start on a 512-byte boundary: page records
 * sit 4 bytes after a sector-aligned header plus whole records) is refused.
 */
static int journal_write(CryptFile *f, const uint8_t *in, int amt, sqlite3_int64 off) {
    if (amt >= 512 && off % 512 != 0) {
        sqlite3_log(SQLITE_IOERR_WRITE, "sqlcrypt: refusing to write a page image to a rollback journal (use WAL)");
        return SQLITE_IOERR_WRITE;
    }
    return f->real->pMethods->xWrite(f->real, in, amt, off);
}

static int c_read(sqlite3_file *pf, void *out, int amt, sqlite3_int64 off) {
    CryptFile *f = (CryptFile *)pf;
    switch (f->kind) {
    case KIND_MAIN: return main_read(f, out, amt, off);
    case KIND_WAL: return wal_read(f, out, amt, off);
    default: return f->real->pMethods->xRead(f->real, out, amt, off);
    }
}

static int c_write(sqlite3_file *pf, const void *in, int amt, sqlite3_int64 off) {
    CryptFile *f = (CryptFile *)pf;
    switch (f->kind) {
    case KIND_MAIN: return main_write(f, in, amt, off);
    case KIND_WAL: return wal_write(f, in, amt, off);
    default: return journal_write(f, in, amt, off);
    }
}

static int c_truncate(sqlite3_file *pf, sqlite3_int64 size) { CryptFile *f = (CryptFile *)pf; return f->real->pMethods->xTruncate(f->real, size); }
static int c_sync(sqlite3_file *pf, int flags) { CryptFile *f = (CryptFile *)pf; return f->real->pMethods->xSync(f->real, flags); }
static int c_file_size(sqlite3_file *pf, sqlite3_int64 *size) { CryptFile *f = (CryptFile *)pf; return f->real->pMethods->xFileSize(f->real, size); }
static int c_lock(sqlite3_file *pf, int lock) { CryptFile *f = (CryptFile *)pf; return f->real->pMethods->xLock(f->real, lock); }
static int c_unlock(sqlite3_file *pf, int lock) { CryptFile *f = (CryptFile *)pf; return f->real->pMethods->xUnlock(f->real, lock); }
static int c_check_reserved(sqlite3_file *pf, int *out) { CryptFile *f = (CryptFile *)pf; return f->real->pMethods->xCheckReservedLock(f->real, out); }
static int c_sector_size(sqlite3_file *pf) { CryptFile *f = (CryptFile *)pf; return f->real->pMethods->xSectorSize(f->real); }
static int c_device_chars(sqlite3_file *pf) { CryptFile *f = (CryptFile *)pf; return f->real->pMethods->xDeviceCharacteristics(f->real); }

static int c_file_control(sqlite3_file *pf, int op, void *arg) {
    CryptFile *f = (CryptFile *)pf;
    if (op == SQLITE_FCNTL_VFSNAME) {
        *(char **)arg = sqlite3_mprintf("%s", g_vfs_name);
        return SQLITE_OK;
    }
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int c_shm_map(sqlite3_file *pf, int pg, int pgsz, int extend, void volatile **pp) {
    CryptFile *f = (CryptFile *)pf;
    return f->real->pMethods->xShmMap(f->real, pg, pgsz, extend, pp);
}
static int c_shm_lock(sqlite3_file *pf, int offset, int n, int flags) {
    CryptFile *f = (CryptFile *)pf;
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}
static void c_shm_barrier(sqlite3_file *pf) {
    CryptFile *f = (CryptFile *)pf;
    f->real->pMethods->xShmBarrier(f->real);
}
static int c_shm_unmap(sqlite3_file *pf, int del) {
    CryptFile *f = (CryptFile *)pf;
    return f->real->pMethods->xShmUnmap(f->real, del);
}

/* iVersion 2: shared memory for WAL, but no xFetch/xUnfetch, so SQLite never memory-maps
 * (and so never reads ciphertext around this VFS). */
static const sqlite3_io_methods g_methods = {
    2, c_close, c_read, c_write, c_truncate, c_sync, c_file_size, c_lock, c_unlock,
    c_check_reserved, c_file_control, c_sector_size, c_device_chars,
    c_shm_map, c_shm_lock, c_shm_barrier, c_shm_unmap, NULL, NULL,
};

/* ------------------------------------------------------------------------------------------ */
/* VFS                                                                                         */

static int c_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *pf, int flags, int *out_flags) {
    (void)vfs;
    CryptFile *f = (CryptFile *)pf;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)(f + 1);
    int kind;
    if (flags & SQLITE_OPEN_MAIN_DB) kind = KIND_MAIN;
    else if (flags & SQLITE_OPEN_WAL) kind = KIND_WAL;
    else if (flags & SQLITE_OPEN_MAIN_JOURNAL) kind = KIND_JOURNAL;
    else {
        sqlite3_log(SQLITE_CANTOPEN, "sqlcrypt: refusing a temporary file (set temp_store = MEMORY)");
        return SQLITE_CANTOPEN;
    }
    const char *token = name ? sqlite3_uri_parameter(name, "kid") : NULL;
    uint8_t key[SQLCRYPT_KEY_BYTES];
    if (token == NULL || strlen(token) != SQLCRYPT_TOKEN_BYTES - 1 || key_lookup(token, key) != 0) {
        sqlite3_log(SQLITE_CANTOPEN, "sqlcrypt: no key registered for this file");
        return SQLITE_CANTOPEN;
    }
    memcpy(f->token, token, SQLCRYPT_TOKEN_BYTES);
    f->kind = kind;
    f->enc = EVP_CIPHER_CTX_new();
    f->dec = EVP_CIPHER_CTX_new();
    int ok = f->enc && f->dec
        && EVP_EncryptInit_ex(f->enc, EVP_aes_256_gcm(), NULL, key, NULL) == 1
        && EVP_DecryptInit_ex(f->dec, EVP_aes_256_gcm(), NULL, key, NULL) == 1;
    OPENSSL_cleanse(key, sizeof key);
    if (!ok) {
        if (f->enc) EVP_CIPHER_CTX_free(f->enc);
        if (f->dec) EVP_CIPHER_CTX_free(f->dec);
        f->enc = f->dec = NULL;
        return SQLITE_CANTOPEN;
    }
    int rc = g_unix->xOpen(g_unix, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        EVP_CIPHER_CTX_free(f->enc);
        EVP_CIPHER_CTX_free(f->dec);
        f->enc = f->dec = NULL;
        return rc;
    }
    f->base.pMethods = &g_methods;
    return SQLITE_OK;
}

static int c_delete(sqlite3_vfs *v, const char *n, int sync) { (void)v; return g_unix->xDelete(g_unix, n, sync); }
static int c_access(sqlite3_vfs *v, const char *n, int flags, int *out) { (void)v; return g_unix->xAccess(g_unix, n, flags, out); }
static int c_full_pathname(sqlite3_vfs *v, const char *n, int nout, char *out) { (void)v; return g_unix->xFullPathname(g_unix, n, nout, out); }
static void *c_dlopen(sqlite3_vfs *v, const char *n) { (void)v; return g_unix->xDlOpen(g_unix, n); }
static void c_dlerror(sqlite3_vfs *v, int n, char *msg) { (void)v; g_unix->xDlError(g_unix, n, msg); }
static void (*c_dlsym(sqlite3_vfs *v, void *h, const char *s))(void) { (void)v; return g_unix->xDlSym(g_unix, h, s); }
static void c_dlclose(sqlite3_vfs *v, void *h) { (void)v; g_unix->xDlClose(g_unix, h); }
static int c_randomness(sqlite3_vfs *v, int n, char *out) { (void)v; return g_unix->xRandomness(g_unix, n, out); }
static int c_sleep(sqlite3_vfs *v, int us) { (void)v; return g_unix->xSleep(g_unix, us); }
static int c_current_time(sqlite3_vfs *v, double *t) { (void)v; return g_unix->xCurrentTime(g_unix, t); }
static int c_last_error(sqlite3_vfs *v, int n, char *out) { (void)v; return g_unix->xGetLastError ? g_unix->xGetLastError(g_unix, n, out) : 0; }
static int c_current_time_int64(sqlite3_vfs *v, sqlite3_int64 *t) { (void)v; return g_unix->xCurrentTimeInt64(g_unix, t); }

static pthread_mutex_t g_register_mutex = PTHREAD_MUTEX_INITIALIZER;

int sqlcrypt_register(const char *name) {
    crypto_init();
    int rc = SQLITE_OK;
    if (name == NULL || strlen(name) >= sizeof g_vfs_name) return SQLITE_MISUSE;
    pthread_mutex_lock(&g_register_mutex);
    if (g_unix != NULL) {
        rc = strcmp(name, g_vfs_name) == 0 ? SQLITE_OK : SQLITE_MISUSE;
        pthread_mutex_unlock(&g_register_mutex);
        return rc;
    }
    sqlite3_initialize();
    sqlite3_vfs *unix_vfs = sqlite3_vfs_find("unix");
    if (unix_vfs == NULL) {
        pthread_mutex_unlock(&g_register_mutex);
        return SQLITE_ERROR;
    }
    strcpy(g_vfs_name, name);
    memset(&g_vfs, 0, sizeof g_vfs);
    g_vfs.iVersion = 2;
    g_vfs.szOsFile = (int)sizeof(CryptFile) + unix_vfs->szOsFile;
    g_vfs.mxPathname = unix_vfs->mxPathname;
    g_vfs.zName = g_vfs_name;
    g_vfs.xOpen = c_open;
    g_vfs.xDelete = c_delete;
    g_vfs.xAccess = c_access;
    g_vfs.xFullPathname = c_full_pathname;
    g_vfs.xDlOpen = c_dlopen;
    g_vfs.xDlError = c_dlerror;
    g_vfs.xDlSym = c_dlsym;
    g_vfs.xDlClose = c_dlclose;
    g_vfs.xRandomness = c_randomness;
    g_vfs.xSleep = c_sleep;
    g_vfs.xCurrentTime = c_current_time;
    g_vfs.xGetLastError = c_last_error;
    g_vfs.xCurrentTimeInt64 = c_current_time_int64;
    g_unix = unix_vfs;
    rc = sqlite3_vfs_register(&g_vfs, 0);
    if (rc != SQLITE_OK) g_unix = NULL;
    pthread_mutex_unlock(&g_register_mutex);
    return rc;
}

int sqlcrypt_request_reserve(void *db) {
    int n = RESERVE;
    sqlite3_file_control((sqlite3 *)db, "main", SQLITE_FCNTL_RESERVE_BYTES, &n);
    return n;
}

/* ------------------------------------------------------------------------------------------ */
/* Helpers for key wrapping (used by the Swift key store).                                     */

int sqlcrypt_random(uint8_t *buf, size_t len) {
    crypto_init();
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

int sqlcrypt_seal(const uint8_t *key, const uint8_t *aad, size_t aad_len,
                  const uint8_t *plaintext, size_t plaintext_len,
                  uint8_t *nonce_out, uint8_t *ciphertext_out, uint8_t *tag_out) {
    crypto_init();
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, ok;
    if (ctx == NULL) return -1;
    ok = RAND_bytes(nonce_out, NONCE_LEN) == 1
        && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce_out) == 1
        && EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aad_len) == 1
        && EVP_EncryptUpdate(ctx, ciphertext_out, &len, plaintext, (int)plaintext_len) == 1
        && EVP_EncryptFinal_ex(ctx, ciphertext_out + len, &len) == 1
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag_out) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

int sqlcrypt_open(const uint8_t *key, const uint8_t *aad, size_t aad_len,
                  const uint8_t *nonce, const uint8_t *ciphertext, size_t ciphertext_len,
                  const uint8_t *tag, uint8_t *plaintext_out) {
    crypto_init();
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    uint8_t t[TAG_LEN];
    int len = 0, ok;
    if (ctx == NULL) return -1;
    memcpy(t, tag, TAG_LEN);
    ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) == 1
        && EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)aad_len) == 1
        && EVP_DecryptUpdate(ctx, plaintext_out, &len, ciphertext, (int)ciphertext_len) == 1
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, t) == 1
        && EVP_DecryptFinal_ex(ctx, plaintext_out + len, &len) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) OPENSSL_cleanse(plaintext_out, ciphertext_len);
    return ok ? 0 : -1;
}

int sqlcrypt_sha256(const uint8_t *data, size_t len, uint8_t *digest_out) {
    crypto_init();
    unsigned int out_len = 0;
    return EVP_Digest(data, len, digest_out, &out_len, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

void sqlcrypt_wipe(void *buf, size_t len) {
    OPENSSL_cleanse(buf, len);
}

uint64_t sqlcrypt_pages_encrypted(void) { return __atomic_load_n(&g_encrypted, __ATOMIC_RELAXED); }
uint64_t sqlcrypt_pages_decrypted(void) { return __atomic_load_n(&g_decrypted, __ATOMIC_RELAXED); }
