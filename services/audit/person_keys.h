// PersonKeyring: per-person AES-256-GCM keys that seal the personal text of
// audit records, kept in the Store column "audit_keys" under "pk/<person>"
// (value: 4-byte key tag, then the 32-byte key). Destroying a person's key
// (crypto-shredding) makes every text sealed with it unreadable while the
// sealed bytes, and so the hash chain, stay as they were.
//
// Note: RocksDB keeps a deleted value in older files until compaction rewrites
// them, so an erased key lingers on disk until then; the key column is its own
// column family so that it compacts on its own.
//
// Writes (Seal creating a key, Erase) are staged into the caller's
// WriteBatch and must be confirmed (Commit) or abandoned (Abandon) once the
// batch's fate is known; only StoreAuditLog's writer thread stages. Open may
// be called from any thread. Thread-safe.
#ifndef IAM_SERVICES_AUDIT_PERSON_KEYS_H_
#define IAM_SERVICES_AUDIT_PERSON_KEYS_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "proto/iam/v1/audit.pb.h"
#include "services/common/store.h"

namespace iam::audit {

class PersonKeyring {
 public:
  // REQUIRES: store outlives the keyring and has column kAuditKeysColumn.
  explicit PersonKeyring(Store* store) : store_(store) {}

  // Encrypts `plaintext` for `person_id`, binding it to `associated_data`.
  // Creates the person's key if there is none, staging its Put in `batch`.
  absl::StatusOr<iam::v1::SealedText> Seal(absl::string_view person_id,
                                           absl::string_view plaintext,
                                           absl::string_view associated_data,
                                           WriteBatch* batch);

  // Stages the deletion of the person's key in `batch`; returns whether one
  // existed. Texts sealed before stay unreadable even if a new key is made.
  absl::StatusOr<bool> StageErase(absl::string_view person_id,
                                  WriteBatch* batch);

  // The staged changes were committed / could not be: keep / forget them.
  void Commit();
  void Abandon();

  // The plaintext; NOT_FOUND if the key was erased (or replaced after an
  // erase); DATA_LOSS if the ciphertext or its associated data was altered.
  absl::StatusOr<std::string> Open(const iam::v1::SealedText& sealed,
                                   absl::string_view associated_data) const;

 private:
  struct Key {
    std::string tag;  // 4 random bytes; part of key_id
    std::string key;  // 32 bytes
    bool erased = false;
  };

  // The person's current key from the cache or the store; nullptr if none.
  absl::StatusOr<const Key*> FindLocked(absl::string_view person_id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Store* const store_;
  mutable absl::Mutex mu_;
  // Cache of keys read or created (erased: tombstones until committed).
  mutable absl::flat_hash_map<std::string, Key> cache_ ABSL_GUARDED_BY(mu_);
  // Persons whose cache entry was staged and not yet committed.
  std::vector<std::string> staged_ ABSL_GUARDED_BY(mu_);
  // Random bytes for nonces, drawn from the system generator a page at a
  // time (one RAND_bytes call per record cost more than the encryption).
  std::string nonce_pool_ ABSL_GUARDED_BY(mu_);
  size_t nonce_pool_used_ ABSL_GUARDED_BY(mu_) = 0;
};

// "<person>#<8 hex digits>".
std::string KeyId(absl::string_view person_id, absl::string_view tag);

}  // namespace iam::audit

#endif  // IAM_SERVICES_AUDIT_PERSON_KEYS_H_
